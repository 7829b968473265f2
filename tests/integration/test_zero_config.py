"""Zero configuration: without QUERYD_CONFIG, the database's own tables.

queryd reads information_schema and serves every base table and view the
connected user may SELECT: /<table> as a collection with the whole read
grammar, items by the primary key (or the first unique index of NOT NULL
columns), views and keyless tables as collections only, paged by offset.
Nothing is written (405).  A name that cannot be a path segment ('/', ...)
is left out with a log line; others (a space, a backtick, a reserved word,
non-ASCII) are served under their percent-encoded name.  A table the user
may not SELECT is not served.  Each table gets one log line.  SIGHUP reads
the schema again; a configuration file with "schema": true serves the tables
beside its own entries, which win a path conflict.  /openapi.json describes
all of it and passes the checks test_openapi.py makes.
"""

import json
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
from harness import assert_problem
from test_openapi import LINT_SCRIPT, Spec, check_response

DB = "zc"
READER = "reader"
READER_PASSWORD = "reader-secret-7c1"
HOSTS = ("localhost", "127.0.0.1", "%")

SCHEMA_SQL = f"""
CREATE DATABASE {DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE {DB};
CREATE TABLE authors (
  id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, mentor_id INT NULL,
  FOREIGN KEY (mentor_id) REFERENCES authors (id));
CREATE TABLE books (
  isbn CHAR(13) NOT NULL PRIMARY KEY, title VARCHAR(80) NOT NULL,
  author_id INT NOT NULL, editor_id INT NULL,
  FOREIGN KEY (author_id) REFERENCES authors (id),
  FOREIGN KEY (editor_id) REFERENCES authors (id));
CREATE TABLE shelf_slots (
  shelf INT NOT NULL, slot INT NOT NULL, isbn CHAR(13) NULL, PRIMARY KEY (shelf, slot),
  FOREIGN KEY (isbn) REFERENCES books (isbn));
CREATE TABLE tags (
  code INT NULL, label VARCHAR(30) NOT NULL, note TEXT NULL,
  UNIQUE KEY a_code (code), UNIQUE KEY b_note (note(20)), UNIQUE KEY c_label (label));
CREATE TABLE events_log (at DATETIME NOT NULL, message VARCHAR(100) NOT NULL);
CREATE TABLE loans (
  isbn CHAR(13) NOT NULL, day INT NOT NULL, FOREIGN KEY (isbn) REFERENCES books (isbn));
CREATE TABLE inv (
  a INT NOT NULL, c INT NOT NULL DEFAULT 0 INVISIBLE, UNIQUE KEY a_hidden (c),
  UNIQUE KEY b_seen (a));
CREATE TABLE numbers (n INT NOT NULL PRIMARY KEY, sq INT NOT NULL, parity VARCHAR(4) NOT NULL);
CREATE TABLE `order` (id INT NOT NULL PRIMARY KEY, total DECIMAL(8,2) NOT NULL);
CREATE TABLE `order items` (
  `order id` INT NOT NULL, `line no` INT NOT NULL, qty INT NOT NULL,
  PRIMARY KEY (`order id`, `line no`), FOREIGN KEY (`order id`) REFERENCES `order` (id));
CREATE TABLE `we``ird` (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NULL);
CREATE TABLE `café` (id INT NOT NULL PRIMARY KEY, prix INT NULL);
CREATE TABLE `a/b` (id INT NOT NULL PRIMARY KEY);
CREATE TABLE metrics (id INT NOT NULL PRIMARY KEY);
CREATE TABLE secrets (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL);
CREATE TABLE hidden (id INT NOT NULL PRIMARY KEY);
CREATE VIEW author_books AS
  SELECT a.name AS author, b.title AS title FROM authors a JOIN books b ON b.author_id = a.id;
INSERT INTO authors VALUES (1, 'Ann', NULL), (2, 'Bob', 1), (3, 'Cy', 1);
INSERT INTO books VALUES ('9780000000001', 'First', 1, 2), ('9780000000002', 'Second', 2, NULL),
                         ('9780000000003', 'Third', 2, 3);
INSERT INTO loans SELECT CONCAT('978000000000', 1 + seq % 3), seq FROM seq_1_to_250;
INSERT INTO inv (a, c) VALUES (5, 1), (6, 2);
INSERT INTO shelf_slots VALUES (1, 1, '9780000000001'), (1, 2, '9780000000002'), (2, 1, NULL);
INSERT INTO tags VALUES (NULL, 'red', 'warm'), (7, 'blue', NULL);
INSERT INTO numbers SELECT seq, seq * seq, IF(seq % 2, 'odd', 'even') FROM seq_1_to_250;
INSERT INTO `order` VALUES (1, 12.50);
INSERT INTO `order items` VALUES (1, 1, 3), (1, 2, 4);
INSERT INTO `we``ird` VALUES (1, 'tick');
INSERT INTO `café` VALUES (1, 3);
INSERT INTO secrets VALUES (1, 'nope');
"""
# Five identical rows among others: offsets must still see every row once.
SCHEMA_SQL += "INSERT INTO events_log VALUES " + ", ".join(
    ["('2024-01-01 00:00:00', 'same')"] * 5
    + [f"('2024-01-02 00:00:{i:02d}', 'tick {i}')" for i in range(20)]) + ";\n"

# SELECT on everything but secrets (INSERT only: listed in information_schema,
# yet not readable) and hidden (no privilege: not even listed).
READABLE = ["authors", "books", "shelf_slots", "tags", "events_log", "loans", "inv", "numbers", "order",
            "order items", "we`ird", "café", "a/b", "metrics", "author_books"]


def ident(name):
    return "`" + name.replace("`", "``") + "`"


def grants_sql(database, tables, privilege="SELECT"):
    return "".join(f"GRANT {privilege} ON {ident(database)}.{ident(t)} TO '{READER}'@'{h}';\n"
                   for t in tables for h in HOSTS)


def reader_sql(database):
    users = "".join(f"CREATE USER IF NOT EXISTS '{READER}'@'{h}' IDENTIFIED BY "
                    f"'{READER_PASSWORD}';\n" for h in HOSTS)
    return users + grants_sql(database, READABLE) + grants_sql(database, ["secrets"], "INSERT")


def enc(name):
    return urllib.parse.quote(name, safe="")


# The served paths, as the router matches them (decoded), with their items.
SERVED = {
    "/authors": "/authors/{id}",
    "/books": "/books/{isbn}",
    "/shelf_slots": "/shelf_slots/{shelf}/{slot}",
    "/tags": "/tags/{label}",
    "/events_log": None,
    "/loans": None,
    "/inv": "/inv/{a}",
    "/numbers": "/numbers/{n}",
    "/order": "/order/{id}",
    "/order items": "/order items/{order_id_1}/{line_no_2}",
    "/we`ird": "/we`ird/{id}",
    "/café": "/café/{id}",
    "/author_books": None,
}
BUILTINS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/", "/explorer.js",
            "/explorer.css", "/favicon.ico"}


def start_database(fixture):
    db = fixture.start_mariadb()
    db.execute(SCHEMA_SQL)
    db.execute(reader_sql(DB))
    return db, db.tcp_url(READER, READER_PASSWORD, DB)


def rows(resp):
    assert resp.status == 200, resp.describe()
    return resp.json()["data"]


def item(resp):
    assert resp.status == 200, resp.describe()
    return resp.json()


def follow(q, path):
    """Every row of every page from path on, and the pages' count."""
    out, pages = [], 0
    while path is not None:
        resp = q.get(path)
        assert resp.status == 200, f"{path}: {resp.describe()}"
        out += resp.json()["data"]
        path = resp.json()["next"]
        pages += 1
    return out, pages


class ZeroConfigTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db, cls.url = start_database(cls.fixture)
        cls.queryd = cls.fixture.queryd(cls.url, QUERYD_CONFIG=None)

    @classmethod
    def tearDownClass(cls):
        cls.queryd.stop_and_check(harness._ClassAsserter())

    def setUp(self):
        self.maxDiff = None

    def tearDown(self):
        self.assertTrue(self.queryd.running(), "queryd died")
        self.queryd.check_log(self)

    def get(self, path):
        return self.queryd.get(path)

    # ------------------------------------------------------------ what is served

    def test_one_log_line_per_table(self):
        log = self.queryd.log_text()
        for path, item in SERVED.items():
            table = path[1:]
            lines = [l for l in log.splitlines() if f'serving table "{table}"' in l
                     or f'serving view "{table}"' in l]
            with self.subTest(table=table):
                self.assertEqual(len(lines), 1, lines)
                self.assertNotIn("not serving", lines[0])
                self.assertIn(f" at {urllib.parse.quote(path)}", lines[0])
                if item is None:
                    self.assertIn("no items", lines[0])
                else:
                    self.assertIn(f"items at {urllib.parse.quote(item, safe='/{}')}",
                                  lines[0])
        for table in ("a/b", "metrics", "secrets"):
            with self.subTest(table=table):
                lines = [l for l in log.splitlines() if f'not serving table "{table}"' in l]
                self.assertEqual(len(lines), 1, log[-3000:])
        self.assertIn("built-in route", log)
        self.assertIn("SELECT command denied", log)
        self.assertNotIn('"hidden"', log)

    def test_items_by_key(self):
        cases = {
            "/authors/2": {"id": 2, "name": "Bob", "mentor_id": 1},
            "/books/9780000000003": {"isbn": "9780000000003", "title": "Third",
                                     "author_id": 2, "editor_id": 3},
            "/shelf_slots/1/2": {"shelf": 1, "slot": 2, "isbn": "9780000000002"},
            "/tags/blue": {"code": 7, "label": "blue", "note": None},
            "/inv/6": {"a": 6},  # its first unique index holds an INVISIBLE column
            "/order/1": {"id": 1, "total": "12.50"},
            f"/{enc('order items')}/1/2": {"order id": 1, "line no": 2, "qty": 4},
            f"/{enc('we`ird')}/1": {"id": 1, "v": "tick"},
            f"/{enc('café')}/1": {"id": 1, "prix": 3},
        }
        for path, row in cases.items():
            with self.subTest(path=path):
                self.assertEqual(item(self.get(path)), row)
        assert_problem(self, self.get("/authors/99"), 404, "not-found")
        assert_problem(self, self.get("/shelf_slots/1"), 404, "not-found")

    def test_collections_of_quoted_names(self):
        self.assertEqual(len(rows(self.get(f"/{enc('order items')}?qty=gt.3"))), 1)
        self.assertEqual(rows(self.get(f"/{enc('café')}?select=prix")), [{"prix": 3}])
        self.assertEqual(rows(self.get("/order?order=total.desc")),
                         [{"id": 1, "total": "12.50"}])

    def test_read_grammar(self):
        page = self.get("/numbers?sq=gt.100&parity=eq.odd&order=sq.desc&select=n,sq&limit=7")
        self.assertEqual(rows(page), [{"n": n, "sq": n * n} for n in range(249, 235, -2)])
        got, pages = follow(self.queryd, "/numbers?parity=eq.even&order=sq.desc&limit=40")
        self.assertEqual([r["n"] for r in got], list(range(250, 0, -2)))
        self.assertEqual(pages, 4)
        first = self.get("/numbers?limit=10").json()
        self.assertTrue(first["next"].startswith("/numbers?"), first["next"])
        self.assertIn("after=10", first["next"])
        self.assertEqual(rows(self.get("/numbers?n=in.(3,5)&count=exact")),
                         [{"n": 3, "sq": 9, "parity": "odd"}, {"n": 5, "sq": 25, "parity": "odd"}])
        self.assertEqual(self.get("/numbers?n=lte.9&count=exact").json()["count"], 9)
        self.assertEqual(rows(self.get("/authors?mentor_id=is.null")),
                         [{"id": 1, "name": "Ann", "mentor_id": None}])
        self.assertEqual(rows(self.get("/books?title=like.*ir*&select=title")),
                         [{"title": "First"}, {"title": "Third"}])
        harness.assert_invalid(self, self.get("/numbers?nope=eq.1"), "nope")

    def test_keyless_and_views(self):
        got, pages = follow(self.queryd, "/events_log?limit=4")
        self.assertEqual(pages, 7)
        self.assertEqual(len(got), 25)
        self.assertEqual(sum(1 for r in got if r["message"] == "same"), 5)
        self.assertEqual(sorted(r["message"] for r in got if r["message"] != "same"),
                         sorted(f"tick {i}" for i in range(20)))
        page = self.get("/events_log?limit=4&order=at.desc").json()
        self.assertIn("offset=4", page["next"])
        self.assertEqual(page["data"][0]["message"], "tick 19")
        harness.assert_invalid(self, self.get("/events_log?after=abc"), "after")
        self.assertEqual(rows(self.get("/author_books?author=eq.Bob&order=title")),
                         [{"author": "Bob", "title": "Second"}, {"author": "Bob", "title": "Third"}])
        for path in ("/events_log/1", "/author_books/Ann", "/author_books/Ann/First"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")

    def test_embedded_relations(self):
        """Foreign keys become relations: two to one table and a self-reference
        are told apart by their column, a keyless parent is read in batches."""
        books = rows(self.get("/books?select=isbn,authors!author_id(name),"
                              "editor:authors!editor_id(name)"))
        expected = harness.query_rows(self.db, "SELECT b.isbn, a.name, e.name FROM books b "
                                      "JOIN authors a ON a.id = b.author_id LEFT JOIN authors e "
                                      "ON e.id = b.editor_id ORDER BY b.isbn", DB)
        self.assertEqual(books, [{"isbn": i, "authors": {"name": a},
                                  "editor": None if e is None else {"name": e}}
                                 for i, a, e in expected])
        authors = rows(self.get("/authors?select=id,mentor:authors!mentor_id(id),"
                                "mentees:authors!id(id)"))
        self.assertEqual(authors, [{"id": 1, "mentor": None, "mentees": [{"id": 2}, {"id": 3}]},
                                   {"id": 2, "mentor": {"id": 1}, "mentees": []},
                                   {"id": 3, "mentor": {"id": 1}, "mentees": []}])
        resp = self.get("/authors?select=id,authors(id)")
        harness.assert_invalid(self, resp, "select")
        self.assertIn("authors!mentor_id", resp.json()["detail"])
        harness.assert_invalid(self, self.get("/books?select=author_id,count(),authors(name)"),
                               "select")
        got = rows(self.get(f"/{enc('order items')}?select=qty,order(total)"))
        self.assertEqual(got, [{"qty": 3, "order": {"total": "12.50"}},
                               {"qty": 4, "order": {"total": "12.50"}}])

    def test_keyless_parents_embed_in_batches(self):
        got = rows(self.get("/loans?select=day,books(title)&order=day&limit=250"))
        expected = harness.query_rows(self.db, "SELECT l.day, b.title FROM loans l JOIN books b "
                                      "ON b.isbn = l.isbn ORDER BY l.day", DB)
        self.assertEqual(got, [{"day": int(d), "books": {"title": t}} for d, t in expected])
        page = self.get("/loans?select=day,books(title)&order=day&limit=120").json()
        self.assertEqual(len(page["data"]), 120)
        self.assertIn("offset=120", page["next"])
        latest = rows(self.get("/books?select=isbn,loans(day)&loans.order=day.desc&loans.limit=2"))
        self.assertEqual(latest[0]["loans"], [{"day": 249}, {"day": 246}])

    def test_read_only(self):
        for method, path in (("POST", "/authors"), ("PATCH", "/authors?id=eq.1"),
                             ("DELETE", "/authors?id=eq.1"), ("PUT", "/authors/1"),
                             ("PATCH", "/authors/1"), ("DELETE", "/authors/1"),
                             ("POST", "/events_log"), ("DELETE", "/author_books")):
            with self.subTest(method=method, path=path):
                resp = self.queryd.request(method, path, body=b'{"id": 9, "name": "x"}',
                                           headers={"Content-Type": "application/json"})
                assert_problem(self, resp, 405, "method-not-allowed")
                self.assertIn("GET", resp.headers.get("Allow", ""))
        self.assertEqual(self.db.query_value("SELECT COUNT(*) FROM authors", DB), "3")

    def test_not_served(self):
        for path in ("/secrets", "/secrets/1", "/hidden", "/a%2Fb", "/a/b/1"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")
        metrics = self.get("/metrics")
        self.assertEqual(metrics.status, 200)
        self.assertNotIn("json", metrics.content_type)

    # ------------------------------------------------------------ the document

    def generated(self):
        resp = self.get("/openapi.json")
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()

    def test_openapi_lists_every_path(self):
        doc = self.generated()
        expected = set(SERVED) | {i for i in SERVED.values() if i} | BUILTINS
        self.assertEqual(set(doc["paths"]), expected)
        params = {p["name"] for p in doc["paths"]["/events_log"]["parameters"]}
        self.assertNotIn("after", params)
        self.assertIn("offset", params)
        # Read-only: the write methods are there only as 405-only operations.
        for path, method in (("/authors", "post"), ("/authors/{id}", "delete")):
            self.assertEqual(set(doc["paths"][path][method]["responses"]), {"405"})

    def test_responses_match_generated_document(self):
        spec = Spec(self.generated())
        requests = [
            ("GET", "/authors", 200), ("GET", "/authors/1", 200), ("GET", "/authors/99", 404),
            ("HEAD", "/authors/1", 200), ("GET", "/shelf_slots/1/1", 200),
            ("GET", "/numbers?limit=3&order=sq.desc", 200), ("GET", "/numbers?limit=0", 400),
            ("GET", "/events_log?limit=2", 200), ("GET", "/events_log?after=x", 400),
            ("GET", "/author_books", 200), ("GET", "/tags/red", 200),
            ("POST", "/authors", 405), ("DELETE", "/authors/1", 405), ("GET", "/nope", 404),
            ("GET", "/events_log?limit=2&offset=2", 200),
        ]
        for method, path, status in requests:
            with self.subTest(method=method, path=path):
                resp = self.queryd.request(method, path, timeout=30)
                self.assertEqual(resp.status, status, resp.describe())
                check_response(self, spec, method, path, resp)
        # Quoted names: the document lists the path as the router matches it.
        for path, template in ((f"/{enc('order items')}/1/1", "/order items/{order_id_1}/{line_no_2}"),
                               (f"/{enc('café')}", "/café")):
            with self.subTest(path=path):
                resp = self.get(path)
                self.assertEqual(resp.status, 200, resp.describe())
                decoded = urllib.parse.unquote(path)
                self.assertEqual(spec.template_for(decoded), template)
                check_response(self, spec, "GET", decoded, resp)

    def test_generated_document_lints(self):
        installed = (harness.REPO_ROOT / ".state" / "node_modules" / ".bin" / "redocly").exists()
        if not installed and shutil.which("npm") is None:
            self.skipTest("Redocly CLI is not installed and npm is not available")
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/openapi.json"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.generated(), f, indent=2)
            proc = subprocess.run(["bash", str(LINT_SCRIPT), path], capture_output=True,
                                  text=True, timeout=280)
        self.assertEqual(proc.returncode, 0, f"{proc.stdout}\n{proc.stderr[-3000:]}")

    # ------------------------------------------------------------ "schema": true

    def test_schema_beside_a_file(self):
        config = {"schema": True,
                  "resources": [{"path": "/authors", "table": "books", "key": "isbn"}],
                  "queries": [{"path": "/numbers", "sql": "SELECT 42 AS answer"},
                              {"path": "/tags/{label}", "sql": "SELECT :label AS echoed",
                               "params": {"label": {"type": "string"}}}]}
        q = self.fixture.queryd(self.url, name="beside", config=config)
        try:
            self.assertEqual(item(q.get("/authors/9780000000001"))["title"], "First")
            self.assertEqual(rows(q.get("/numbers")), [{"answer": 42}])
            self.assertEqual(rows(q.get("/tags/red")), [{"echoed": "red"}])
            assert_problem(self, q.get("/tags"), 404, "not-found")
            self.assertEqual(item(q.get("/shelf_slots/1/1"))["isbn"], "9780000000001")
            # The file's entry for books holds its rules: no second, unruled path to it.
            assert_problem(self, q.get("/books?select=isbn&limit=1"), 404, "not-found")
            log = q.log_text()
            self.assertIn('not serving table "books": the configuration file serves it at '
                          '/authors', log)
            self.assertIn('not serving table "authors": its path /authors is taken by a '
                          'resource of the configuration file', log)
            self.assertIn('not serving table "numbers": its path /numbers is taken by a '
                          'query of the configuration file', log)
            self.assertIn('not serving table "tags": its item path /tags/{...} is taken by a '
                          'query of the configuration file', log)
            doc = q.get("/openapi.json").json()
            self.assertIn("/tags/{label}", doc["paths"])
            self.assertIn("/authors/{isbn}", doc["paths"])
            self.assertNotIn("/authors/{id}", doc["paths"])
            line = q.reload()
            self.assertIn("and the database schema", line)
        finally:
            q.stop_and_check(self)


class ReloadTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db, cls.url = start_database(cls.fixture)
        cls.db.execute("CREATE VIEW slow AS SELECT SLEEP(2) AS s, 1 AS one;\n"
                       + grants_sql(DB, ["slow"]), DB)
        cls.queryd = cls.fixture.queryd(cls.url, QUERYD_CONFIG=None)

    @classmethod
    def tearDownClass(cls):
        cls.queryd.stop_and_check(harness._ClassAsserter())

    def test_reload_sees_created_and_dropped_tables(self):
        q = self.queryd
        assert_problem(self, q.get("/fresh"), 404, "not-found")
        self.assertEqual(q.get("/numbers/3").status, 200)
        self.db.execute("CREATE TABLE fresh (id INT NOT NULL PRIMARY KEY, v VARCHAR(5));\n"
                        "INSERT INTO fresh VALUES (1, 'new');\n"
                        "DROP TABLE numbers;\n" + grants_sql(DB, ["fresh"]), DB)
        result = {}

        def slow():
            result["resp"] = q.get("/slow", timeout=30)
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)  # the slow request is running
        offset = q.log_size()
        line = q.reload()
        self.assertIn("configuration reloaded from the database schema", line)
        self.assertIn('serving table "fresh"', q.log_since(offset))
        t.join(30)
        self.assertEqual(result["resp"].status, 200, result["resp"].describe())
        self.assertEqual(rows(result["resp"]), [{"s": 0, "one": 1}])
        self.assertEqual(item(q.get("/fresh/1")), {"id": 1, "v": "new"})
        assert_problem(self, q.get("/numbers/3"), 404, "not-found")
        assert_problem(self, q.get("/numbers"), 404, "not-found")
        paths = q.get("/openapi.json").json()["paths"]
        self.assertIn("/fresh/{id}", paths)
        self.assertNotIn("/numbers", paths)
        q.check_log(self)


if __name__ == "__main__":
    harness.main()
