"""Writes on resources: POST (an object, an array, NDJSON, CSV), PUT, PATCH
and DELETE, each in one transaction, with the table checked by SQL after
every write.

- POST inserts; 201, with Location for one row; Prefer: return=representation
  answers with the rows as stored; resolution=merge-duplicates upserts and
  resolution=ignore-duplicates skips existing keys; tx=rollback is a dry run.
- A bulk body with one bad row anywhere changes nothing, and the problem
  names the row and the column.
- Numbers keep every digit: DECIMAL and big BIGINT written, then read back
  equal.
- PUT replaces or creates one row; PATCH and DELETE take an item or the
  filters of reads; a collection change without a filter is 400, one past
  max_affected (or Prefer: max-affected) 400 and rolled back.
- Errors by one table: duplicate key and foreign keys 409, check
  constraints 422, bad values 400, wrong media type 415.
"""

import json
import secrets
import time

import jwt

import harness
from harness import assert_invalid, assert_problem, assert_same_json

SETUP_SQL = """
CREATE TABLE teams (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL);
INSERT INTO teams VALUES (1, 'red'), (2, 'blue');
CREATE TABLE items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(20) NOT NULL,
  price DECIMAL(30,9) NULL,
  big BIGINT UNSIGNED NULL,
  qty INT NOT NULL DEFAULT 0,
  born DATE NULL,
  seen DATETIME(6) NULL,
  meta JSON NULL,
  team_id INT NULL,
  doubled INT AS (qty * 2) VIRTUAL,
  CONSTRAINT qty_ok CHECK (qty >= 0),
  FOREIGN KEY (team_id) REFERENCES teams (id)
);
CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT NULL, PRIMARY KEY (a, b));
""" + "".join(
    f"GRANT INSERT, UPDATE, DELETE ON queryd.{t} TO 'queryd'@'{host}';\n"
    for t in ("items", "pairs", "teams") for host in ("localhost", "127.0.0.1", "%"))

CONFIG = harness.demo_config()
CONFIG["resources"] = CONFIG["resources"] + [
    {"path": "/items", "table": "items", "key": "id",
     "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"], "max_affected": 50},
    {"path": "/pairs", "table": "pairs", "key": ["a", "b"],
     "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
    {"path": "/teams", "table": "teams", "key": "id"},
]
JSON = {"Content-Type": "application/json"}
ITEM_COLUMNS = "id, name, price, big, qty, born, seen, meta, team_id"


class WriteTests(harness.DemoServiceTestCase):
    queryd_config = CONFIG
    setup_sql = SETUP_SQL

    def setUp(self):
        self.db.execute("DELETE FROM items; DELETE FROM pairs;", database=harness.DEMO_DB)

    def send(self, method, path, doc=None, headers=None, content_type="application/json"):
        if doc is None:
            body = None
        elif isinstance(doc, (bytes, str)):
            body = doc.encode() if isinstance(doc, str) else doc
        else:
            body = json.dumps(doc).encode()
        hdrs = {"Content-Type": content_type} if body is not None else {}
        hdrs.update(headers or {})
        return self.request(method, path, body=body, headers=hdrs)

    def rows(self, sql):
        return [list(r) for r in harness.query_rows(self.db, sql)]

    def count(self, table="items"):
        return int(self.rows(f"SELECT COUNT(*) FROM {table}")[0][0])

    # ---- POST ----

    def test_post_one_row(self):
        resp = self.send("POST", "/items", {"name": "pen", "price": "1.50", "qty": 3})
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(resp.body, b"")
        new_id = self.rows("SELECT id FROM items WHERE name = 'pen'")[0][0]
        self.assertEqual(resp.headers.get("Location"), f"/items/{new_id}")
        self.assertEqual(self.rows("SELECT name, price, qty FROM items"),
                         [["pen", "1.500000000", "3"]])
        got = self.get(resp.headers["Location"])
        self.assertEqual(got.status, 200, got.describe())

    def test_post_array_ndjson_and_csv(self):
        resp = self.send("POST", "/items", [{"name": "a", "qty": 1}, {"qty": 2, "name": "b"}])
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertIsNone(resp.headers.get("Location"))
        resp = self.send("POST", "/items", '{"name": "c", "qty": 3}\n\n{"name": "d", "qty": 4}',
                         content_type="application/x-ndjson")
        self.assertEqual(resp.status, 201, resp.describe())
        resp = self.send("POST", "/items", 'name,qty,price\r\ne,5,\r\n"f,g",6,"7.25"\r\n',
                         content_type="text/csv")
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(self.rows("SELECT name, qty, price FROM items ORDER BY qty"),
                         [["a", "1", None], ["b", "2", None], ["c", "3", None],
                          ["d", "4", None], ["e", "5", None], ["f,g", "6", "7.250000000"]])

    def test_post_representation(self):
        resp = self.send("POST", "/items", b'[{"name": "x", "big": 18446744073709551615, '
                                           b'"price": 12345678901234567890.123456789}]',
                         headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 201, resp.describe())
        doc = resp.json()
        self.assertEqual(len(doc), 1)
        self.assertEqual(doc[0]["name"], "x")
        self.assertEqual(doc[0]["big"], "18446744073709551615")
        self.assertEqual(doc[0]["price"], "12345678901234567890.123456789")
        self.assertEqual(resp.headers.get("Preference-Applied"), "return=representation")
        one = self.send("POST", "/items", {"name": "y"}, headers={"Prefer": "return=representation"})
        self.assertEqual(one.status, 201, one.describe())
        self.assertEqual(one.json()["name"], "y")
        self.assertEqual(one.headers.get("Location"), f"/items/{one.json()['id']}")

    def test_exact_numbers_round_trip(self):
        body = (b'{"name": "n", "price": 12345678901234567890.123456789, '
                b'"big": 18446744073709551615, "qty": -0}')
        resp = self.send("POST", "/items", body)
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(self.rows("SELECT price, big FROM items"),
                         [["12345678901234567890.123456789", "18446744073709551615"]])
        item = self.get(resp.headers["Location"]).json()
        # What was read back writes back equal.
        again = self.send("PUT", resp.headers["Location"],
                          {k: v for k, v in item.items() if k not in ("id", "doubled")})
        self.assertIn(again.status, (200, 204), again.describe())
        self.assertEqual(self.rows("SELECT price, big FROM items"),
                         [["12345678901234567890.123456789", "18446744073709551615"]])

    def test_types_dates_json_null(self):
        resp = self.send("POST", "/items", {"name": "t", "born": "2024-02-29",
                                            "seen": "2024-02-29T10:11:12.123456",
                                            "meta": {"a": [1, 2.50, "x"], "big": 123456789012345678901},
                                            "price": None, "team_id": 2})
        self.assertEqual(resp.status, 201, resp.describe())
        row = self.rows("SELECT born, seen, price, team_id, JSON_EXTRACT(meta, '$.big') FROM items")
        self.assertEqual(row, [["2024-02-29", "2024-02-29 10:11:12.123456", None, "2",
                                "123456789012345678901"]])

    def test_bad_row_in_the_middle_changes_nothing(self):
        rows = [{"name": f"r{i}", "qty": i} for i in range(3000)]
        rows[2500]["qty"] = "many"
        resp = self.send("POST", "/items", rows)
        doc = assert_problem(self, resp, 400, "invalid-body", mentions="row 2500")
        self.assertIn("qty", doc["detail"])
        self.assertEqual(self.count(), 0)
        lines = "\n".join(json.dumps({"name": f"r{i}", "qty": i}) for i in range(3000))
        lines += '\n{"name": "late", "qty": 1, "nope": 2}\n'
        resp = self.send("POST", "/items", lines, content_type="application/x-ndjson")
        assert_problem(self, resp, 400, "invalid-body", mentions="row 3000")
        self.assertEqual(self.count(), 0)
        # A database refusal after several batches also takes back every row.
        rows = [{"name": f"r{i}", "qty": i} for i in range(5000)] + [{"name": "bad", "qty": -1}]
        resp = self.send("POST", "/items", rows)
        assert_problem(self, resp, 422, "constraint-violation")
        self.assertEqual(self.count(), 0)

    def test_bad_bodies(self):
        cases = [
            (b'{"name": "x", "nope": 1}', "nope"),
            (b'{"name": null}', "name"),
            (b'{"name": "x", "qty": "3"}', None),
            (b'{"name": "x", "qty": 1.5}', "qty"),
            (b'{"name": "x", "qty": 99999999999}', "qty"),
            (b'{"name": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}', "name"),
            (b'{"name": "x", "born": "2024-02-30"}', "born"),
            (b'{"name": "x", "doubled": 4}', "doubled"),
            (b'{"qty": 1}', "name"),
            (b'{"name": "x", "meta": {"a": }}', None),
            (b'{"name": "x",', None),
            (b'[{"name": "x"}, 5]', "row 1"),
            (b'{"name": "x", "name": "y"}', "name"),
            (b'', None),
            (b'{}', None),
        ]
        for body, mention in cases:
            with self.subTest(body=body):
                resp = self.send("POST", "/items", body)
                if body == b'{"name": "x", "qty": "3"}':
                    # a string of digits is a number's exact text: taken
                    self.assertEqual(resp.status, 201, resp.describe())
                    continue
                doc = assert_problem(self, resp, 400, "invalid-body")
                if mention:
                    self.assertIn(mention, doc["detail"])
        self.assertEqual(self.count(), 1)

    def test_media_types_and_methods(self):
        resp = self.send("POST", "/items", b"name=x", content_type="application/x-www-form-urlencoded")
        assert_problem(self, resp, 415, "unsupported-media-type")
        resp = self.send("POST", "/items", b"{}", content_type="application/json; charset=latin1")
        assert_problem(self, resp, 415, "unsupported-media-type")
        resp = self.send("POST", "/teams", {"id": 3, "name": "green"})
        self.assertEqual(resp.status, 405, resp.describe())
        self.assertEqual(resp.headers.get("Allow"), "GET, HEAD")
        resp = self.send("POST", "/items?name=eq.x", {"name": "x"})
        self.assertEqual(resp.status, 400, resp.describe())
        self.assertEqual(self.count(), 0)

    def test_error_table(self):
        self.assertEqual(self.send("POST", "/items", {"id": 7, "name": "a"}).status, 201)
        assert_problem(self, self.send("POST", "/items", {"id": 7, "name": "b"}), 409, "conflict")
        assert_problem(self, self.send("POST", "/items", {"name": "c", "team_id": 99}), 409,
                       "conflict")
        assert_problem(self, self.send("POST", "/items", {"name": "d", "qty": -5}), 422,
                       "constraint-violation")
        assert_problem(self, self.send("DELETE", "/teams/1"), 405, "method-not-allowed")
        self.assertEqual(self.rows("SELECT id, name FROM items"), [["7", "a"]])

    def test_resolution_and_rollback(self):
        self.send("POST", "/pairs", [{"a": 1, "b": "x", "v": 1}, {"a": 1, "b": "y", "v": 2}])
        resp = self.send("POST", "/pairs", [{"a": 1, "b": "x", "v": 10}, {"a": 2, "b": "z", "v": 3}],
                         headers={"Prefer": "resolution=merge-duplicates"})
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(resp.headers.get("Preference-Applied"), "resolution=merge-duplicates")
        self.assertEqual(self.rows("SELECT a, b, v FROM pairs ORDER BY a, b"),
                         [["1", "x", "10"], ["1", "y", "2"], ["2", "z", "3"]])
        resp = self.send("POST", "/pairs", [{"a": 1, "b": "y", "v": 20}, {"a": 3, "b": "w", "v": 4}],
                         headers={"Prefer": "resolution=ignore-duplicates"})
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(self.rows("SELECT a, b, v FROM pairs ORDER BY a, b"),
                         [["1", "x", "10"], ["1", "y", "2"], ["2", "z", "3"], ["3", "w", "4"]])
        # ignore-duplicates hides nothing else
        resp = self.send("POST", "/pairs", [{"a": 4, "b": "q", "v": None}, {"a": 4, "b": None}],
                         headers={"Prefer": "resolution=ignore-duplicates"})
        assert_problem(self, resp, 400, "invalid-body", mentions="row 1")
        resp = self.send("POST", "/pairs", {"a": 1, "b": "x", "v": 99},
                         headers={"Prefer": "resolution=ignore-duplicates, return=representation"})
        self.assertEqual(resp.status, 201, resp.describe())
        # the row as stored: the existing one, unchanged
        assert_same_json(self, resp.json(), {"a": 1, "b": "x", "v": 10})
        resp = self.send("POST", "/pairs", {"a": 9, "b": "dry", "v": 1},
                         headers={"Prefer": "tx=rollback, return=representation"})
        self.assertEqual(resp.status, 201, resp.describe())
        assert_same_json(self, resp.json(), {"a": 9, "b": "dry", "v": 1})
        self.assertIn("tx=rollback", resp.headers.get("Preference-Applied"))
        self.assertEqual(self.count("pairs"), 4)
        assert_invalid(self, self.send("POST", "/pairs", {"a": 1, "b": "k"},
                                       headers={"Prefer": "max-affected=lots"}), "Prefer")

    # ---- PUT, PATCH, DELETE ----

    def test_put_creates_then_replaces(self):
        resp = self.send("PUT", "/pairs/5/e%20f", {"v": 1})
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(resp.headers.get("Location"), "/pairs/5/e%20f")
        resp = self.send("PUT", "/pairs/5/e%20f", {"v": 2, "a": 5},
                         headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        assert_same_json(self, resp.json(), {"a": 5, "b": "e f", "v": 2})
        self.assertEqual(self.rows("SELECT a, b, v FROM pairs"), [["5", "e f", "2"]])
        assert_problem(self, self.send("PUT", "/pairs/5/e%20f", {"a": 6, "v": 3}), 400,
                       "invalid-body", mentions="a")
        assert_problem(self, self.send("PUT", "/pairs/5/e%20f", {}), 400, "invalid-body")
        resp = self.send("PUT", "/items/3", {"name": "p"})
        assert_problem(self, resp, 400, "invalid-body", mentions="price")

    def test_patch_item_and_collection(self):
        self.send("POST", "/items", [{"id": i, "name": f"n{i}", "qty": i} for i in range(1, 101)])
        resp = self.send("PATCH", "/items/5", {"name": "five", "qty": 55},
                         headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()["name"], "five")
        self.assertEqual(resp.json()["doubled"], 110)
        resp = self.send("PATCH", "/items/5", {"qty": 55})  # unchanged values still match
        self.assertEqual(resp.status, 204, resp.describe())
        assert_problem(self, self.send("PATCH", "/items/500", {"qty": 1}), 404, "not-found")
        assert_invalid(self, self.send("PATCH", "/items/abc", {"qty": 1}), "id")
        resp = self.send("PATCH", "/items?qty=lt.10&name=like.n*", {"price": "0.5"},
                         headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(sorted(r["id"] for r in resp.json()), [1, 2, 3, 4, 6, 7, 8, 9])
        self.assertEqual(self.rows("SELECT COUNT(*) FROM items WHERE price = 0.5"), [["8"]])
        assert_problem(self, self.send("PATCH", "/items", {"qty": 1}), 400, "invalid-parameter")
        resp = self.send("PATCH", "/items?qty=gt.0", {"qty": 0})
        assert_problem(self, resp, 400, "max-affected", mentions="100")
        self.assertEqual(self.rows("SELECT COUNT(*) FROM items WHERE qty = 0"), [["0"]])
        resp = self.send("PATCH", "/items?qty=lt.20", {"qty": 0}, headers={"Prefer": "max-affected=5"})
        assert_problem(self, resp, 400, "max-affected", mentions="18")
        assert_invalid(self, self.send("PATCH", "/items?nope=eq.1", {"qty": 1}), "nope")
        assert_invalid(self, self.send("PATCH", "/items?qty=eq.1&limit=1", {"qty": 1}), "limit")
        resp = self.send("PATCH", "/items?id=eq.9", {"id": 9000}, headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()[0]["id"], 9000)

    def test_delete_item_and_collection(self):
        self.send("POST", "/items", [{"id": i, "name": f"n{i}", "qty": i} for i in range(1, 101)])
        self.assertEqual(self.send("DELETE", "/items/7").status, 204)
        assert_problem(self, self.send("DELETE", "/items/7"), 404, "not-found")
        resp = self.send("DELETE", "/items?qty=in.(1,2,3)", headers={"Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(sorted(r["id"] for r in resp.json()), [1, 2, 3])
        assert_problem(self, self.send("DELETE", "/items"), 400, "invalid-parameter")
        assert_problem(self, self.send("DELETE", "/items?qty=gt.0"), 400, "max-affected")
        self.assertEqual(self.count(), 96)
        resp = self.send("DELETE", "/items?qty=gt.90", headers={"Prefer": "tx=rollback"})
        self.assertEqual(resp.status, 204, resp.describe())
        self.assertEqual(self.count(), 96)
        self.assertEqual(self.send("DELETE", "/items?qty=gt.90").status, 204)
        self.assertEqual(self.count(), 86)
        self.assertEqual(self.send("DELETE", "/pairs/1/x").status, 404)


# ---- role rules on writes ----

SECRET = secrets.token_urlsafe(32)
ROLE_SETUP_SQL = """
CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, tenant INT NOT NULL,
                     status VARCHAR(10) NOT NULL DEFAULT 'open', note VARCHAR(20) NULL);
INSERT INTO orders VALUES (1, 1, 'open', 'a'), (2, 2, 'open', 'b'), (3, 1, 'paid', 'c'),
                          (4, 2, 'paid', 'd');
""" + "".join(f"GRANT INSERT, UPDATE, DELETE ON queryd.orders TO 'queryd'@'{host}';\n"
              for host in ("localhost", "127.0.0.1", "%"))
ROLE_CONFIG = {
    "auth": {"jwt": {"secret_env": "QUERYD_JWT_SECRET"}},
    "resources": [
        {"path": "/orders", "table": "orders", "key": "id",
         "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
         "roles": {
             "customer": {"rows": "tenant = :claims.tenant"},
             "clerk": {"columns": ["id", "tenant", "status"], "methods": ["GET", "PATCH"]},
             "viewer": {"methods": ["GET"]},
         }},
    ],
}


def token(role, **claims):
    now = int(time.time())
    return jwt.encode({"role": role, "iat": now, "exp": now + 600, **claims}, SECRET,
                      algorithm="HS256")


class RoleWriteTests(harness.DemoServiceTestCase):
    queryd_config = ROLE_CONFIG
    setup_sql = ROLE_SETUP_SQL
    queryd_env = {"QUERYD_JWT_SECRET": SECRET}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = {"Authorization": "Bearer " + token("customer", sub="alice", tenant=1)}
        cls.clerk = {"Authorization": "Bearer " + token("clerk", sub="carl")}
        cls.viewer = {"Authorization": "Bearer " + token("viewer", sub="vic")}
        cls.queryd.secrets += [SECRET] + [h["Authorization"][7:]
                                          for h in (cls.alice, cls.clerk, cls.viewer)]

    def setUp(self):
        self.before = self.table()

    def table(self):
        return [list(r) for r in harness.query_rows(
            self.db, "SELECT id, tenant, status, note FROM orders ORDER BY id")]

    def send(self, method, path, doc=None, headers=None):
        body = None if doc is None else json.dumps(doc).encode()
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        return self.request(method, path, body=body, headers=hdrs)

    def assert_unchanged(self):
        self.assertEqual(self.table(), self.before)

    def test_methods_per_role(self):
        assert_problem(self, self.send("POST", "/orders", {"id": 9, "tenant": 1}, self.viewer),
                       403, "forbidden", mentions="POST")
        assert_problem(self, self.send("DELETE", "/orders/1", None, self.clerk), 403, "forbidden")
        self.assertEqual(self.send("GET", "/orders/1", None, self.viewer).status, 200)
        self.assertEqual(self.send("POST", "/orders", {"id": 9, "tenant": 1}).status, 401)
        self.assert_unchanged()

    def test_hidden_columns_are_not_writable(self):
        resp = self.send("PATCH", "/orders/1", {"note": "x"}, self.clerk)
        assert_problem(self, resp, 400, "invalid-body", mentions="note")
        resp = self.send("PATCH", "/orders/1", {"status": "void"}, self.clerk)
        self.assertEqual(resp.status, 204, resp.describe())
        self.before[0][2] = "void"
        self.assert_unchanged()
        self.send("PATCH", "/orders/1", {"status": "open"}, self.clerk)

    def test_other_tenants_rows_never_change(self):
        assert_problem(self, self.send("PATCH", "/orders/2", {"note": "x"}, self.alice), 404,
                       "not-found")
        assert_problem(self, self.send("DELETE", "/orders/2", None, self.alice), 404, "not-found")
        resp = self.send("PATCH", "/orders?status=eq.paid", {"note": "x"},
                         {**self.alice, "Prefer": "return=representation"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual([r["id"] for r in resp.json()], [3])
        self.before[2][3] = "x"
        self.assert_unchanged()
        resp = self.send("PUT", "/orders/4", {"tenant": 1, "status": "open", "note": "mine"},
                         self.alice)
        assert_problem(self, resp, 409, "conflict")
        self.assert_unchanged()
        self.send("PATCH", "/orders/3", {"note": "c"}, self.alice)
        self.before[2][3] = "c"

    def test_rows_cannot_leave_or_enter_another_tenant(self):
        resp = self.send("POST", "/orders", [{"id": 10, "tenant": 1}, {"id": 11, "tenant": 2}],
                         self.alice)
        assert_problem(self, resp, 403, "forbidden")
        resp = self.send("PATCH", "/orders/1", {"tenant": 2}, self.alice)
        assert_problem(self, resp, 403, "forbidden")
        resp = self.send("POST", "/orders", {"id": 2, "tenant": 1, "note": "steal"},
                         {**self.alice, "Prefer": "resolution=merge-duplicates"})
        assert_problem(self, resp, 403, "forbidden")
        self.assert_unchanged()
        resp = self.send("POST", "/orders", {"id": 12, "tenant": 1}, self.alice)
        self.assertEqual(resp.status, 201, resp.describe())
        self.assertEqual(resp.headers.get("Location"), "/orders/12")
        self.assertEqual(self.send("DELETE", "/orders/12", None, self.alice).status, 204)
        self.assert_unchanged()


if __name__ == "__main__":
    harness.main()
