-- The 3000 demo rows, ids 1..3000, the same on every load.
-- Rows 1 and 2 are spelled out by the contract; rows 3..3000 are computed
-- from the id alone. REPLACE makes a second load restore the same rows
-- instead of failing, and the transaction hides a half-done load.

SET NAMES utf8mb4;
SET time_zone = '+00:00';
-- Pin the modes the literals below rely on (backslash escapes in strings,
-- strict typing) whatever the server's defaults are.
SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
-- The recursive id generator below needs 2998 iterations (default cap: 1000).
SET SESSION max_recursive_iterations = 10000;

CREATE DATABASE IF NOT EXISTS queryd CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE queryd;

START TRANSACTION;

REPLACE INTO users
  (id, name, email, age, balance, active, created_at, bio, visits, score,
   birthday, last_login, avatar, prefs)
VALUES
  (1, 'Ada Lovelace', 'ada@example.com', 36, 1234.50, TRUE, '2024-05-01 13:45:00',
   'First programmer; "quotes", \\backslash\\ and emoji 🚀 and 日本語', 9007199254740993, 0.1,
   '1815-12-10', '2024-05-01 13:45:00.123', x'DEADBEEF', '{"theme": "dark", "langs": ["en", "fr"]}'),
  (2, 'NULL Nobody', 'nobody@example.com', NULL, -0.01, FALSE, '1970-01-01 00:00:00',
   NULL, -9007199254740993, NULL,
   NULL, NULL, NULL, NULL);

-- Every nullable column is NULL on some rows (age: id%7=0, bio: id%5=0,
-- score: id%11=0, birthday: id%13=0, last_login: id%4=0, avatar: id%3=0,
-- prefs: id%6=0). visits is a small number except on ids that are multiples
-- of 250, where it lies beyond +-2^53. avatar is empty (0 bytes) when id%17=0.
REPLACE INTO users
  (id, name, email, age, balance, active, created_at, bio, visits, score,
   birthday, last_login, avatar, prefs)
WITH RECURSIVE seq (id) AS (
  SELECT 3
  UNION ALL
  SELECT id + 1 FROM seq WHERE id < 3000
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
  CONCAT('user', id, IF(id % 10 = 0, '+tag', ''), '@example.',
         ELT(1 + id % 3, 'com', 'org', 'net')),
  IF(id % 7 = 0, NULL, 18 + (id * 37) % 73),
  CAST(((id * 7919) % 2000001 - 1000000) / 100 AS DECIMAL(12,2)),
  id % 3 <> 0,
  TIMESTAMP'2020-01-01 00:00:00' + INTERVAL id * 86413 SECOND,
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
     TIMESTAMP'2024-01-01 00:00:00' + INTERVAL id * 3607123 * 1000 MICROSECOND),
  IF(id % 3 = 0, NULL, UNHEX(LEFT(SHA2(CAST(id AS CHAR), 256), 2 * (id % 17)))),
  IF(id % 6 = 0, NULL,
     JSON_OBJECT('theme', ELT(1 + id % 3, 'dark', 'light', 'auto'),
                 'page_size', 10 * (1 + id % 5),
                 'langs', IF(id % 4 = 1, JSON_ARRAY('en', 'fr'), JSON_ARRAY('de')),
                 'note', ELT(1 + id % 5, 'plain', 'quote " inside', 'back\\slash',
                             'emoji 🚀', NULL)))
FROM seq;

COMMIT;
