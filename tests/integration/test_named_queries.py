"""Named queries from the configuration file, against the demo data.

Each parameter type (int, number, decimal, string, boolean, date, datetime,
time, enum), defaults, required parameters, min/max, path parameters
(declared and undeclared), a placeholder used twice, placeholders inside
quotes and comments, ":=", max_rows (exactly at the limit and one over it:
500 too-many-rows, never a cut list), per-entry timeout_ms and "types".  The
expected rows come from MariaDB itself: the same statement with the values
written in, run through the mariadb client.
"""

import time
import urllib.parse

import harness
from harness import assert_invalid, assert_json_ok, assert_problem, assert_same_json

Q = [
    {"path": "/q/by-age", "sql": "SELECT id FROM users WHERE age = :age ORDER BY id",
     "params": {"age": {"type": "int", "min": 0, "max": 150}}},
    {"path": "/q/score-at-least",
     "sql": "SELECT id, score FROM users WHERE score >= :min ORDER BY score, id LIMIT 20",
     "params": {"min": {"type": "number", "min": -1000, "max": 1000, "default": 0.5}}},
    {"path": "/q/balance-over",
     "sql": "SELECT id, balance FROM users WHERE balance > :b ORDER BY balance DESC, id LIMIT 10",
     "params": {"b": {"type": "decimal"}}, "types": {"balance": "number"}},
    {"path": "/q/by-name", "sql": "SELECT id, name FROM users WHERE name = :name ORDER BY id",
     "params": {"name": {"type": "string", "max_length": 20}}},
    {"path": "/q/name-prefix",
     "sql": "SELECT COUNT(*) AS n FROM users WHERE name LIKE CONCAT(:prefix, '%')",
     "params": {"prefix": {"type": "string", "default": "Ada"}}},
    {"path": "/q/active",
     "sql": "SELECT id, active FROM users WHERE active = :on AND id <= 12 ORDER BY id",
     "params": {"on": {"type": "boolean", "default": True}}, "types": {"active": "boolean"}},
    {"path": "/q/born", "sql": "SELECT id FROM users WHERE birthday = :day ORDER BY id",
     "params": {"day": {"type": "date"}}},
    {"path": "/q/created-since",
     "sql": "SELECT id, created_at FROM users WHERE created_at >= :since "
            "ORDER BY created_at, id LIMIT 5",
     "params": {"since": {"type": "datetime"}}},
    {"path": "/q/at-time",
     "sql": "SELECT id FROM users WHERE TIME(created_at) = :t ORDER BY id LIMIT 50",
     "params": {"t": {"type": "time"}}},
    {"path": "/q/by-tld/{tld}",
     "sql": "SELECT id FROM users WHERE email LIKE CONCAT('%@example.', :tld) AND id <= 30 "
            "ORDER BY id",
     "params": {"tld": {"type": "enum", "values": ["com", "org", "net"]}}},
    {"path": "/q/tld-default",
     "sql": "SELECT id FROM users WHERE email LIKE CONCAT('%@example.', :tld) AND id <= 30 "
            "ORDER BY id",
     "params": {"tld": {"type": "enum", "values": ["com", "org", "net"], "default": "org"}}},
    {"path": "/q/twice", "sql": "SELECT id FROM users WHERE id = :x OR id = :x + 1 ORDER BY id",
     "params": {"x": {"type": "int"}}},
    {"path": "/q/literals",
     "sql": "SELECT id, ':nope' AS lit, \"::x :y\" AS lit2, `name` AS `na:me` FROM users "
            "WHERE id = :id -- :ignored\n/* :also */ # :too\n",
     "params": {"id": {"type": "int"}}},
    {"path": "/q/assign", "sql": "SELECT id, @qv := id AS v FROM users WHERE id = :id",
     "params": {"id": {"type": "int"}}},
    {"path": "/q/all", "sql": "SELECT id FROM users ORDER BY id", "max_rows": 100},
    {"path": "/q/exactly-all", "sql": "SELECT id FROM users ORDER BY id", "max_rows": 3000},
    {"path": "/q/upto", "sql": "SELECT id FROM users WHERE id <= :n ORDER BY id",
     "params": {"n": {"type": "int"}}, "max_rows": 10},
    {"path": "/q/empty", "sql": "SELECT id FROM users WHERE id < 0"},
    {"path": "/q/user/{id}/detail",
     "sql": "SELECT id, name FROM users WHERE CAST(id AS CHAR) = :id"},
    {"path": "/q/slow", "sql": "SELECT SLEEP(:s) AS slept",
     "params": {"s": {"type": "number", "min": 0, "max": 5}}, "timeout_ms": 500},
]
CONFIG = harness.demo_config()
CONFIG["queries"] = CONFIG["queries"] + Q


def q(value):
    return urllib.parse.quote(value, safe="")


class NamedQueryTests(harness.DemoServiceTestCase):
    queryd_config = CONFIG

    def sql_ids(self, sql):
        return [int(r[0]) for r in harness.query_rows(self.db, sql)]

    def data(self, path):
        page = assert_json_ok(self, self.get(path))
        self.assertEqual(list(page), ["data", "next"], path)
        self.assertIsNone(page["next"], path)
        return page["data"]

    def ids(self, path):
        return [row["id"] for row in self.data(path)]

    # ---------------------------------------------------------------- demo

    def test_peers_defaults(self):
        rows = self.data("/users/1/peers")
        expected = self.sql_ids("SELECT id FROM users WHERE id <> 1 AND age BETWEEN 0 AND 200 "
                                "ORDER BY age, id LIMIT 50")
        self.assertEqual([r["id"] for r in rows], expected)
        self.assertEqual(len(rows), 50)
        for row in rows:
            self.assertEqual(list(row), ["id", "name", "age"])

    def test_peers_with_parameters(self):
        for query, lo, hi, limit in (("lo=30&hi=31&limit=5", 30, 31, 5),
                                     ("hi=20", 0, 20, 50), ("limit=500", 0, 200, 500),
                                     ("limit=1&lo=90", 90, 200, 1), ("lo=50&hi=40", 50, 40, 50),
                                     ("lo=-5&hi=18&limit=3", -5, 18, 3)):
            with self.subTest(query=query):
                expected = self.sql_ids(f"SELECT id FROM users WHERE id <> 7 AND age BETWEEN "
                                        f"{lo} AND {hi} ORDER BY age, id LIMIT {limit}")
                self.assertEqual(self.ids(f"/users/7/peers?{query}"), expected)

    def test_peers_invalid(self):
        for path, name in (("/users/1/peers?limit=0", "limit"),
                           ("/users/1/peers?limit=501", "limit"),
                           ("/users/1/peers?limit=-1", "limit"),
                           ("/users/1/peers?limit=abc", "limit"),
                           ("/users/1/peers?lo=abc", "lo"), ("/users/1/peers?hi=1.5", "hi"),
                           ("/users/1/peers?lo=", "lo"),
                           ("/users/abc/peers", "id"), ("/users/1.5/peers", "id"),
                           ("/users/99999999999999999999/peers", "id"),
                           ("/users/1/peers?foo=1", "foo"),
                           ("/users/1/peers?id=2", "id"),
                           ("/users/1/peers?lo=1&lo=2", "lo"),
                           ("/users/1/peers?select=id", "select"),
                           ("/users/1/peers?after=1", "after"),
                           ("/users/1/peers?order=id", "order")):
            with self.subTest(path=path):
                assert_invalid(self, self.get(path), name)

    def test_unknown_query_paths(self):
        for path in ("/users/1/peers/x", "/users/1/peer", "/q", "/q/by-tld", "/q/user/1",
                     "/q/user/1/detail/x"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")

    # ------------------------------------------------------------- each type

    def test_int(self):
        self.assertEqual(self.ids("/q/by-age?age=36"),
                         self.sql_ids("SELECT id FROM users WHERE age = 36 ORDER BY id"))
        self.assertIn(1, self.ids("/q/by-age?age=36"))
        self.assertEqual(self.ids("/q/by-age?age=0"), [])
        self.assertEqual(self.ids("/q/by-age?age=150"), [])
        for value in ("-1", "151", "1.5", "abc", "", " 1", "1e2", "0x10",
                      "99999999999999999999", "9007199254740993"):
            with self.subTest(age=value):
                assert_invalid(self, self.get(f"/q/by-age?age={q(value)}"), "age")

    def test_required_parameter_missing(self):
        for path, name in (("/q/by-age", "age"), ("/q/born", "day"), ("/q/balance-over", "b"),
                           ("/q/by-name", "name"), ("/q/twice", "x"), ("/q/upto", "n")):
            with self.subTest(path=path):
                assert_invalid(self, self.get(path), name)

    def test_number(self):
        for value in ("0.5", "-1000", "1000", "1e2", "0", "2.25"):
            with self.subTest(min=value):
                expected = self.sql_ids(f"SELECT id FROM users WHERE score >= {value} "
                                        "ORDER BY score, id LIMIT 20")
                self.assertEqual(self.ids(f"/q/score-at-least?min={value}"), expected)
        self.assertEqual(self.ids("/q/score-at-least"), self.ids("/q/score-at-least?min=0.5"))
        for value in ("nan", "inf", "-inf", "abc", "1e999", "-1000.5", "1000.01", "", "1,5"):
            with self.subTest(min=value):
                assert_invalid(self, self.get(f"/q/score-at-least?min={q(value)}"), "min")

    def test_decimal(self):
        for value in ("-0.01", "9000", "0", "10000.005"):
            with self.subTest(b=value):
                expected = self.sql_ids(f"SELECT id FROM users WHERE balance > {value} "
                                        "ORDER BY balance DESC, id LIMIT 10")
                self.assertEqual(self.ids(f"/q/balance-over?b={value}"), expected)
        resp = self.get("/q/balance-over?b=9000")
        raw = resp.raw_json()["data"]
        want = harness.query_rows(self.db, "SELECT balance FROM users WHERE balance > 9000 "
                                           "ORDER BY balance DESC, id LIMIT 10")
        self.assertEqual([r["balance"] for r in raw], [("float", w[0]) for w in want],
                         "types balance: number must print the exact digits")
        for value in ("1e3", "abc", ".5", "5.", "--1", "1.2.3", "", "0x1", "NaN"):
            with self.subTest(b=value):
                assert_invalid(self, self.get(f"/q/balance-over?b={q(value)}"), "b")

    def test_string(self):
        assert_same_json(self, self.data("/q/by-name?name=Ada%20Lovelace"),
                         [{"id": 1, "name": "Ada Lovelace"}])
        assert_same_json(self, self.data("/q/by-name?name=NULL%20Nobody"),
                         [{"id": 2, "name": "NULL Nobody"}])
        self.assertEqual(self.data("/q/by-name?name=" + "x" * 20), [])
        self.assertEqual(self.data("/q/by-name?name=" + q("\U0001F680" * 20)), [])
        self.assertEqual(self.data("/q/by-name?name="), [])
        assert_invalid(self, self.get("/q/by-name?name=" + "x" * 21), "name")
        assert_invalid(self, self.get("/q/by-name?name=%C0%AF"), "name")
        assert_invalid(self, self.get("/q/by-name?name=%FF"), "name")

    def test_string_default(self):
        for path, prefix in (("/q/name-prefix", "Ada"), ("/q/name-prefix?prefix=Gr", "Gr"),
                             ("/q/name-prefix?prefix=", "")):
            with self.subTest(path=path):
                expected = harness.query_rows(
                    self.db, f"SELECT COUNT(*) FROM users WHERE name LIKE '{prefix}%'")[0][0]
                assert_same_json(self, self.data(path), [{"n": int(expected)}])

    def test_boolean(self):
        def expected(on):
            return [{"id": i, "active": on} for i in self.sql_ids(
                f"SELECT id FROM users WHERE active = {int(on)} AND id <= 12 ORDER BY id")]
        assert_same_json(self, self.data("/q/active"), expected(True))
        assert_same_json(self, self.data("/q/active?on=true"), expected(True))
        assert_same_json(self, self.data("/q/active?on=false"), expected(False))
        for value in ("yes", "2", "", "TRUE ", "t", "null"):
            with self.subTest(on=value):
                assert_invalid(self, self.get(f"/q/active?on={q(value)}"), "on")

    def test_date(self):
        self.assertEqual(self.ids("/q/born?day=1815-12-10"), [1])
        day = harness.query_rows(self.db, "SELECT birthday FROM users WHERE id = 3")[0][0]
        self.assertEqual(self.ids(f"/q/born?day={day}"),
                         self.sql_ids(f"SELECT id FROM users WHERE birthday = '{day}' ORDER BY id"))
        for value in ("2024-02-30", "2023-02-29", "2024-1-1", "20240101", "2024-01-01T00:00:00",
                      "abc", "", "2024-13-01"):
            with self.subTest(day=value):
                assert_invalid(self, self.get(f"/q/born?day={q(value)}"), "day")

    def test_datetime(self):
        expected = self.sql_ids("SELECT id FROM users WHERE created_at >= '2024-05-01 13:45:00' "
                                "ORDER BY created_at, id LIMIT 5")
        for value in ("2024-05-01T13:45:00", "2024-05-01 13:45:00", "2024-05-01T13:45:00.000000"):
            with self.subTest(since=value):
                rows = self.data(f"/q/created-since?since={q(value)}")
                self.assertEqual([r["id"] for r in rows], expected)
        self.assertEqual(rows[0], {"id": 1, "created_at": "2024-05-01T13:45:00"})
        for value in ("2024-05-01", "2024-05-01T25:00:00", "2024-05-01T13:45", "yesterday", "",
                      "2024-05-01T13:45:00Z", "2024-05-01T13:45:00+02:00"):
            with self.subTest(since=value):
                assert_invalid(self, self.get(f"/q/created-since?since={q(value)}"), "since")

    def test_time(self):
        expected = self.sql_ids("SELECT id FROM users WHERE TIME(created_at) = '13:45:00' "
                                "ORDER BY id LIMIT 50")
        self.assertIn(1, expected)
        self.assertEqual(self.ids("/q/at-time?t=13:45:00"), expected)
        self.assertEqual(self.ids("/q/at-time?t=00:00:00"),
                         self.sql_ids("SELECT id FROM users WHERE TIME(created_at) = '00:00:00' "
                                      "ORDER BY id LIMIT 50"))
        for value in ("12:60:00", "12:00:60", "abc", "", "12", "1:2:3:4"):
            with self.subTest(t=value):
                assert_invalid(self, self.get(f"/q/at-time?t={q(value)}"), "t")

    def test_enum_path_parameter_and_default(self):
        for tld in ("com", "org", "net"):
            with self.subTest(tld=tld):
                expected = self.sql_ids(f"SELECT id FROM users WHERE email LIKE '%@example.{tld}' "
                                        "AND id <= 30 ORDER BY id")
                self.assertTrue(expected)
                self.assertEqual(self.ids(f"/q/by-tld/{tld}"), expected)
        self.assertEqual(self.ids("/q/tld-default"), self.ids("/q/by-tld/org"))
        self.assertEqual(self.ids("/q/tld-default?tld=net"), self.ids("/q/by-tld/net"))
        for value in ("edu", "COM", "com ", "co", "%25"):
            with self.subTest(tld=value):
                assert_invalid(self, self.get(f"/q/by-tld/{q(value)}"), "tld")
                assert_invalid(self, self.get(f"/q/tld-default?tld={q(value)}"), "tld")
        assert_invalid(self, self.get("/q/tld-default?tld="), "tld")

    def test_undeclared_path_parameter_is_a_string(self):
        assert_same_json(self, self.data("/q/user/7/detail"),
                         [{"id": 7, "name": assert_json_ok(self, self.get("/users/7"))["name"]}])
        self.assertEqual(self.data("/q/user/abc/detail"), [])
        self.assertEqual(self.data("/q/user/07/detail"), [])
        self.assertEqual(self.data("/q/user/%27%20OR%20%271%27%3D%271/detail"), [])
        assert_invalid(self, self.get("/q/user/%C0%AF/detail"), "id")

    def test_placeholder_used_twice(self):
        self.assertEqual(self.ids("/q/twice?x=41"), [41, 42])
        self.assertEqual(self.ids("/q/twice?x=3000"), [3000])
        self.assertEqual(self.ids("/q/twice?x=-7"), [])

    def test_placeholders_in_quotes_and_comments(self):
        assert_same_json(self, self.data("/q/literals?id=1"),
                         [{"id": 1, "lit": ":nope", "lit2": "::x :y", "na:me": "Ada Lovelace"}])
        for name in ("nope", "ignored", "also", "too", "x", "y", "me"):
            with self.subTest(name=name):
                assert_invalid(self, self.get(f"/q/literals?id=1&{name}=1"), name)

    def test_assignment_is_not_a_placeholder(self):
        rows = self.data("/q/assign?id=5")
        self.assertEqual([r["id"] for r in rows], [5])
        assert_same_json(self, rows, [{"id": 5, "v": 5}])

    # ------------------------------------------------------------- max_rows

    def test_max_rows(self):
        assert_problem(self, self.get("/q/all"), 500, "too-many-rows")
        self.assertEqual(self.ids("/q/upto?n=10"), list(range(1, 11)))
        self.assertEqual(self.ids("/q/upto?n=1"), [1])
        for n in (11, 3000):
            with self.subTest(n=n):
                resp = self.get(f"/q/upto?n={n}")
                assert_problem(self, resp, 500, "too-many-rows")
                self.assertNotIn(b'"data"', resp.body, "a cut list was sent")
        self.assertEqual(self.ids("/q/exactly-all"), list(range(1, harness.DEMO_ROW_COUNT + 1)))
        # The connection is fine afterwards.
        self.assertEqual(self.ids("/q/upto?n=2"), [1, 2])
        resp = self.queryd.wait_pool_idle(self.pool_size)
        self.assertEqual(resp.json()["pool"]["idle"], self.pool_size)

    def test_empty_result(self):
        page = assert_json_ok(self, self.get("/q/empty"))
        assert_same_json(self, page, {"data": [], "next": None})

    # ------------------------------------------------------------ timeout_ms

    def test_entry_timeout(self):
        start = time.monotonic()
        # A 5 s statement: cut at 500 ms (1.5 s if queryd's own deadline has
        # to step in), at 5 s by the default QUERYD_QUERY_TIMEOUT_MS.
        resp = self.get("/q/slow?s=5", timeout=15)
        elapsed = time.monotonic() - start
        assert_problem(self, resp, 504, "timeout")
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 4.0, "timeout_ms 500 was not applied")
        assert_same_json(self, self.data("/q/slow?s=0"), [{"slept": 0}])
        assert_invalid(self, self.get("/q/slow?s=6"), "s")
        resp = self.queryd.wait_pool_idle(self.pool_size)
        self.assertEqual(resp.json()["pool"]["idle"], self.pool_size)

    # ------------------------------------------------------------------ misc

    def test_head(self):
        got = self.get("/users/1/peers?limit=3")
        head = self.request("HEAD", "/users/1/peers?limit=3")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.content_type, got.content_type)
        head = self.request("HEAD", "/q/by-age")
        self.assertEqual(head.status, 400)

    def test_other_methods(self):
        resp = self.request("POST", "/users/1/peers", body=b"{}")
        assert_problem(self, resp, 405, "method-not-allowed")


if __name__ == "__main__":
    harness.main()
