"""Named queries that write: "method": "POST" (PUT, PATCH, DELETE) on an
INSERT, UPDATE or DELETE statement.

Parameters come from a JSON body (an object of name -> value), the query
string and the path; each is checked by its rule as a query-string value
would be, and numbers keep every digit (big integers, long decimals). The
table is checked by SQL after each write.  Bad bodies answer 400 naming the
parameter, a body that is not application/json 415, and the other methods
405 with Allow.
"""

import json

import harness
from harness import assert_invalid, assert_json_ok, assert_problem, assert_same_json

SETUP_SQL = """
CREATE TABLE notes (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(40) NOT NULL,
  amount DECIMAL(30,10) NULL,
  big BIGINT UNSIGNED NULL,
  done TINYINT(1) NOT NULL DEFAULT 0
);
INSERT INTO notes (id, title) VALUES (1000, 'seed');
""" + "".join(
    f"GRANT INSERT, UPDATE, DELETE ON queryd.notes TO 'queryd'@'{host}';\n"
    for host in ("localhost", "127.0.0.1", "%"))

Q = [
    {"path": "/notes/add", "method": "POST",
     "sql": "INSERT INTO notes (title, amount, big, done) VALUES (:title, :amount, :big, :done)",
     "params": {"title": {"type": "string", "max_length": 40},
                "amount": {"type": "decimal", "default": "0"},
                "big": {"type": "int", "min": 0, "default": 0},
                "done": {"type": "boolean", "default": False}}},
    {"path": "/notes/{id}/title", "method": "PATCH",
     "sql": "UPDATE notes SET title = :title WHERE id = :id",
     "params": {"id": {"type": "int"}, "title": {"type": "string"}}},
    {"path": "/notes/newer-than", "method": "DELETE",
     "sql": "DELETE FROM notes WHERE id > :above AND title = :title",
     "params": {"above": {"type": "int"}, "title": {"type": "string"}}},
    {"path": "/notes/add-returning", "method": "POST",
     "sql": "INSERT INTO notes (title) VALUES (:title) RETURNING id, title",
     "params": {"title": {"type": "string"}}},
]
CONFIG = harness.demo_config()
CONFIG["queries"] = CONFIG["queries"] + Q
JSON = {"Content-Type": "application/json"}


class NamedQueryWriteTests(harness.DemoServiceTestCase):
    queryd_config = CONFIG
    setup_sql = SETUP_SQL

    def post(self, path, doc, method="POST", headers=JSON):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return self.request(method, path, body=body, headers=headers)

    def rows(self, sql):
        return harness.query_rows(self.db, sql)

    def test_insert_from_body(self):
        resp = self.post("/notes/add", {"title": "first", "amount": "12.5", "done": True})
        assert_same_json(self, assert_json_ok(self, resp), {"affected_rows": 1})
        rows = self.rows("SELECT title, amount, big, done FROM notes WHERE title = 'first'")
        self.assertEqual([list(r) for r in rows], [["first", "12.5000000000", "0", "1"]])

    def test_numbers_keep_every_digit(self):
        body = (b'{"title": "digits", "amount": 12345678901234567890.0123456789, '
                b'"big": 9223372036854775807}')
        assert_same_json(self, assert_json_ok(self, self.post("/notes/add", body)),
                         {"affected_rows": 1})
        rows = self.rows("SELECT amount, big FROM notes WHERE title = 'digits'")
        self.assertEqual([list(r) for r in rows],
                         [["12345678901234567890.0123456789", "9223372036854775807"]])

    def test_query_string_and_path_parameters(self):
        assert_json_ok(self, self.post("/notes/add?title=from-query", {"big": 7}))
        rows = self.rows("SELECT big FROM notes WHERE title = 'from-query'")
        self.assertEqual([list(r) for r in rows], [["7"]])
        resp = self.post("/notes/1000/title", {"title": "renamed"}, method="PATCH")
        assert_same_json(self, assert_json_ok(self, resp), {"affected_rows": 1})
        self.assertEqual([list(r) for r in self.rows("SELECT title FROM notes WHERE id = 1000")],
                         [["renamed"]])
        resp = self.post("/notes/999999/title", {"title": "nobody"}, method="PATCH")
        assert_same_json(self, assert_json_ok(self, resp), {"affected_rows": 0})

    def test_delete_and_empty_body(self):
        assert_json_ok(self, self.post("/notes/add", {"title": "gone"}))
        resp = self.request("DELETE", "/notes/newer-than?above=1000&title=gone")
        assert_same_json(self, assert_json_ok(self, resp), {"affected_rows": 1})
        self.assertEqual(self.rows("SELECT id FROM notes WHERE title = 'gone'"), [])

    def test_returning_rows(self):
        data = assert_json_ok(self, self.post("/notes/add-returning", {"title": "back"}))
        self.assertEqual(list(data), ["data", "next"])
        self.assertEqual(len(data["data"]), 1)
        self.assertEqual(data["data"][0]["title"], "back")
        ids = self.rows("SELECT id FROM notes WHERE title = 'back'")
        self.assertEqual(data["data"][0]["id"], int(ids[0][0]))

    def test_null_binds_null(self):
        assert_json_ok(self, self.post("/notes/add", {"title": "nulls", "amount": None}))
        rows = self.rows("SELECT amount IS NULL FROM notes WHERE title = 'nulls'")
        self.assertEqual([list(r) for r in rows], [["1"]])

    def test_bad_parameters(self):
        before = self.rows("SELECT COUNT(*) FROM notes")
        for body, name in (({"title": "x", "nope": 1}, "nope"),
                           ({"title": "x", "big": "many"}, "big"),
                           ({"title": "x", "big": 1.5}, "big"),
                           ({"title": "x", "big": -1}, "big"),
                           ({"title": "x", "done": 3}, "done"),
                           ({"title": "x" * 41}, "title"),
                           ({"title": ["a"]}, "title"),
                           ({"title": {"a": 1}}, "title"),
                           ({"amount": "1"}, "title"),
                           (b'{"title": "x", "title": "y"}', "title")):
            with self.subTest(body=body):
                assert_invalid(self, self.post("/notes/add", body), name, mentions=name)
        resp = self.post("/notes/add?title=a", {"title": "b"})
        assert_invalid(self, resp, "title", mentions="twice")
        resp = self.post("/notes/1000/title", {"id": 5, "title": "t"}, method="PATCH")
        assert_invalid(self, resp, "id", mentions="path")
        self.assertEqual(self.rows("SELECT COUNT(*) FROM notes"), before)

    def test_bad_bodies(self):
        for body in (b"[1]", b'"x"', b"{", b'{"title" "x"}', b'{"title": "x",}',
                     b'{"title": "x"} 1', b'{"title": 01}', b'{"title": "\\ud800"}',
                     b'{"title": tru}'):
            with self.subTest(body=body):
                self.assertEqual(self.post("/notes/add", body).status, 400)

    def test_content_type(self):
        resp = self.post("/notes/add", {"title": "x"}, headers={"Content-Type": "text/plain"})
        assert_problem(self, resp, 415, "unsupported-media-type")
        resp = self.post("/notes/add", {"title": "x"}, headers={})
        assert_problem(self, resp, 415, "unsupported-media-type")
        resp = self.post("/notes/add", {"title": "charset"},
                         headers={"Content-Type": "application/json; charset=utf-8"})
        assert_json_ok(self, resp)

    def test_body_too_large(self):
        body = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
        self.assertEqual(self.post("/notes/add", body).status, 413)

    def test_other_methods(self):
        for method in ("GET", "PUT", "DELETE"):
            with self.subTest(method=method):
                resp = self.request(method, "/notes/add")
                assert_problem(self, resp, 405, "method-not-allowed")
                self.assertEqual(resp.headers.get("Allow"), "POST")
        resp = self.request("GET", "/notes/1000/title")
        self.assertEqual(resp.headers.get("Allow"), "PATCH")


if __name__ == "__main__":
    harness.main()
