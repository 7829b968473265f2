-- Benchmark rows for the users table of docker/initdb/01-schema.sql: ids
-- @first..@last, computed from the id alone, in the same shapes as the demo
-- rows (every column type filled, some NULLs, multi-byte text, JSON). bench/run
-- sets @first and @last and runs this once per chunk of ids.

SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
-- The recursive id generator runs once per row of the chunk (default cap: 1000).
SET SESSION max_recursive_iterations = 10000000;

START TRANSACTION;

INSERT INTO users
  (id, name, email, age, balance, active, created_at, bio, visits, score,
   birthday, last_login, avatar, prefs)
WITH RECURSIVE seq (id) AS (
  SELECT CAST(@first AS SIGNED)
  UNION ALL
  SELECT id + 1 FROM seq WHERE id < @last
)
SELECT
  id,
  CONCAT(
    ELT(1 + id % 12, 'Grace', 'Alan', 'Zoë', 'José', 'Łukasz', 'Renée',
        'Ōtani', 'Siobhán', '李', 'Ngozi', 'Björn', 'Chloé'),
    ' ',
    ELT(1 + id % 11, 'Hopper', 'O''Brien', 'Turing', 'Müller', 'D''Angelo',
        'Back\\slash', '"The Quote"', 'Straße', '小林', 'Nuñez', 'Kowalski'),
    ELT(1 + id % 7, '', '', ' 🚀', '', ' 👩‍💻', '', ' 🎉')),
  CONCAT('user', id, '@example.', ELT(1 + id % 3, 'com', 'org', 'net')),
  IF(id % 7 = 0, NULL, 18 + (id * 37) % 73),
  CAST(((id * 7919) % 2000001 - 1000000) / 100 AS DECIMAL(12,2)),
  id % 3 <> 0,
  TIMESTAMP'2020-01-01 00:00:00' + INTERVAL (id * 86413) % 300000000 SECOND,
  IF(id % 5 = 0, NULL,
     CONCAT('Bio #', id, ': ',
            ELT(1 + id % 10,
                'Plain ASCII text.',
                'Says "hello" and ''bye''.',
                'Windows path C:\\Users\\demo\\new',
                'Tab\there and newline\nthere',
                'Émoji party 🎉🚀✨',
                '日本語のテキストと中文',
                'Family 👨‍👩‍👧‍👦 with joiners',
                'Ünïcödé ñ ß ø å',
                'Mixed: "\\" '' 🍕',
                'Right-to-left: שלום مرحبا'))),
  CASE
    WHEN id % 500 = 0 THEN 9007199254740992 + id
    WHEN id % 250 = 0 THEN -(9007199254740992 + id)
    ELSE (id * 7) % 1000
  END,
  CASE
    WHEN id % 11 = 0 THEN NULL
    WHEN id % 13 = 0 THEN id * 0.1e0
    ELSE (id % 2 * 2 - 1) * id / 7e0
  END,
  IF(id % 13 = 0, NULL, DATE'1940-01-01' + INTERVAL (id * 97) % 25000 DAY),
  IF(id % 4 = 0, NULL,
     TIMESTAMP'2024-01-01 00:00:00' + INTERVAL (id * 3607123) % 31536000000 * 1000 MICROSECOND),
  IF(id % 3 = 0, NULL, UNHEX(LEFT(SHA2(CAST(id AS CHAR), 256), 2 * (id % 17)))),
  IF(id % 6 = 0, NULL,
     JSON_OBJECT('theme', ELT(1 + id % 3, 'dark', 'light', 'auto'),
                 'page_size', 10 * (1 + id % 5),
                 'langs', IF(id % 4 = 1, JSON_ARRAY('en', 'fr'), JSON_ARRAY('de')),
                 'note', ELT(1 + id % 5, 'plain', 'quote " inside', 'back\\slash',
                             'emoji 🚀', NULL)))
FROM seq;

COMMIT;
