"""Aggregates in select, and count=estimated.

One MariaDB with an accounts table (DECIMAL(20,6) balances large enough that
a sum in doubles loses digits), one queryd with a role whose rule narrows
the rows and hides columns. Every grouped answer is compared with the
GROUP BY the test's own SQL client computes:

- `select=team_id,count()`, sums, averages, minimums and maximums, exact
  DECIMAL digits included; filters apply before grouping; `order` by an
  aggregate; aliases; groups paged by offset and counted with count=exact;
- a role's row condition counts only its rows, and its hidden columns cannot
  be aggregated;
- hostile aggregate terms are 400 naming the problem, and item requests
  refuse aggregates;
- count=estimated is a non-negative integer within a generous factor of the
  truth after ANALYZE TABLE, marked `count_estimated`, on filtered and
  unfiltered collections; count=exact is unchanged.
"""

import json
import secrets
import time
from decimal import Decimal

import jwt

import harness
from harness import assert_invalid

ROWS = 3000
TEAMS = 7
SECRET = secrets.token_hex(32)


def setup_sql():
    # Balances of 17 significant digits: a double keeps about 16.
    return (
        "CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, team_id INT NOT NULL, "
        "tenant INT NOT NULL, balance DECIMAL(20,6) NOT NULL, age INT NULL, "
        "name VARCHAR(30) NOT NULL, bio TEXT NULL, KEY (team_id), KEY (tenant));"
        f"INSERT INTO accounts SELECT seq, seq % {TEAMS}, 1 + seq % 2, "
        "CAST(12345678901 + seq * 1234.567891 AS DECIMAL(20,6)), "
        "IF(seq % 11 = 0, NULL, 18 + seq % 50), CONCAT('n', seq % 13), 'bio' "
        f"FROM seq_1_to_{ROWS};"
        "ANALYZE TABLE accounts;")


CONFIG = {
    "auth": {
        "jwt": {"secret_env": "QUERYD_JWT_SECRET", "audience": "queryd",
                "issuer": "https://id.test"},
        "anonymous_role": "anon",
    },
    "resources": [
        {"path": "/accounts", "table": "accounts", "key": "id",
         "roles": {
             "anon": {},
             "member": {"columns": ["id", "team_id", "balance", "age"],
                        "rows": "tenant = :claims.tenant"},
         }},
    ],
}


def token(role, **claims):
    now = int(time.time())
    payload = {"role": role, "aud": "queryd", "iss": "https://id.test", "iat": now,
               "exp": now + 600, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def as_text(value):
    return None if value is None else str(value)


class AggregateTests(harness.DemoServiceTestCase):
    setup_sql = staticmethod(setup_sql)
    queryd_config = CONFIG
    queryd_env = {"QUERYD_JWT_SECRET": SECRET}
    pool_size = 2
    workers = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.member = token("member", sub="m", tenant=1)
        cls.queryd.secrets += [SECRET, cls.member]

    def sql(self, text):
        return harness.query_rows(self.db, text)

    def data(self, path, **kw):
        resp = self.get(path, **kw)
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.json()

    def rows_as_text(self, rows, keys):
        return [[as_text(row[k]) for k in keys] for row in rows]

    # ------------------------------------------------------------ grouped answers

    def test_count_per_group(self):
        body = self.data("/accounts?select=team_id,count()")
        self.assertEqual(self.rows_as_text(body["data"], ["team_id", "count"]),
                         self.sql("SELECT team_id, COUNT(*) FROM accounts GROUP BY team_id "
                                  "ORDER BY team_id"))
        self.assertIsNone(body["next"])
        self.assertIsInstance(body["data"][0]["count"], int)

    def test_exact_sums_and_averages(self):
        body = self.data("/accounts?select=team_id,balance.sum(),balance.avg(),"
                         "lo:age.min(),age.max(),people:age.count()")
        got = self.rows_as_text(body["data"], ["team_id", "sum", "avg", "lo", "max", "people"])
        want = self.sql("SELECT team_id, SUM(balance), AVG(balance), MIN(age), MAX(age), "
                        "COUNT(age) FROM accounts GROUP BY team_id ORDER BY team_id")
        self.assertEqual(got, want)
        row = body["data"][0]
        # DECIMAL sums and averages are strings of exact digits; integers stay numbers.
        self.assertIsInstance(row["sum"], str)
        self.assertIsInstance(row["avg"], str)
        self.assertIsInstance(row["max"], int)
        # The digits are the exact sum, which arithmetic in doubles would not give.
        balances = self.sql("SELECT balance FROM accounts WHERE team_id = 0")
        exact = sum(Decimal(b[0]) for b in balances)
        self.assertEqual(Decimal(row["sum"]), exact)
        self.assertNotEqual(Decimal(repr(sum(float(b[0]) for b in balances))), exact)

    def test_average_of_integers_follows_the_result_type(self):
        body = self.data("/accounts?select=team_id,age.avg(),age.sum()")
        want = self.sql("SELECT team_id, AVG(age), SUM(age) FROM accounts GROUP BY team_id "
                        "ORDER BY team_id")
        self.assertEqual(self.rows_as_text(body["data"], ["team_id", "avg", "sum"]), want)
        # AVG and SUM of an INT column are DECIMAL in MariaDB: exact strings.
        self.assertIsInstance(body["data"][0]["avg"], str)

    def test_filters_apply_before_grouping(self):
        body = self.data("/accounts?age=gte.30&name=neq.n3&select=name,count(),"
                         "total:balance.sum()")
        want = self.sql("SELECT name, COUNT(*), SUM(balance) FROM accounts "
                        "WHERE age >= 30 AND name <> 'n3' GROUP BY name ORDER BY name")
        self.assertEqual(self.rows_as_text(body["data"], ["name", "count", "total"]), want)

    def test_no_group_columns_is_one_row(self):
        body = self.data("/accounts?select=count(),balance.sum(),age.avg()&team_id=eq.2")
        want = self.sql("SELECT COUNT(*), SUM(balance), AVG(age) FROM accounts "
                        "WHERE team_id = 2")
        self.assertEqual(self.rows_as_text(body["data"], ["count", "sum", "avg"]), want)

    def test_order_by_an_aggregate(self):
        for order, sql_order in (("count().desc", "COUNT(*) DESC"),
                                 ("balance.sum().desc", "SUM(balance) DESC"),
                                 ("age.max().asc,count().desc", "MAX(age) ASC, COUNT(*) DESC")):
            with self.subTest(order=order):
                body = self.data(f"/accounts?select=name,count(),balance.sum()&order={order}")
                want = self.sql("SELECT name, COUNT(*), SUM(balance) FROM accounts "
                                f"GROUP BY name ORDER BY {sql_order}, name")
                self.assertEqual(self.rows_as_text(body["data"], ["name", "count", "sum"]), want)

    def test_groups_are_paged_by_offset_and_counted(self):
        path = "/accounts?select=name,count()&limit=4&count=exact"
        rows, pages = [], 0
        while path is not None and pages < 10:
            body = self.data(path)
            self.assertEqual(body["count"], 13)  # the groups, not the rows
            self.assertNotIn("count_estimated", body)
            rows += body["data"]
            path = body["next"]
            pages += 1
            if path is not None:
                self.assertIn("offset=", path)
        self.assertEqual(pages, 4)
        self.assertEqual(self.rows_as_text(rows, ["name", "count"]),
                         self.sql("SELECT name, COUNT(*) FROM accounts GROUP BY name "
                                  "ORDER BY name"))

    def test_other_formats(self):
        resp = self.get("/accounts?select=team_id,count()",
                        headers={"Accept": "application/x-ndjson"})
        self.assertEqual(resp.status, 200, resp.describe())
        lines = resp.body.decode().split("\n")
        self.assertEqual(len(lines), TEAMS + 1)
        self.assertEqual(json.loads(lines[0])["team_id"], 0)
        resp = self.get("/accounts?select=team_id,n:count()", headers={"Accept": "text/csv"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertTrue(resp.body.decode().startswith("team_id,n\r\n"))

    # ------------------------------------------------------------ a role's rule

    def test_role_rule_counts_only_its_rows(self):
        headers = {"Authorization": f"Bearer {self.member}"}
        body = self.data("/accounts?select=team_id,count(),balance.sum()", headers=headers)
        want = self.sql("SELECT team_id, COUNT(*), SUM(balance) FROM accounts WHERE tenant = 1 "
                        "GROUP BY team_id ORDER BY team_id")
        self.assertEqual(self.rows_as_text(body["data"], ["team_id", "count", "sum"]), want)
        for select in ("team_id,name.max()", "name,count()", "tenant.sum()"):
            with self.subTest(select=select):
                assert_invalid(self, self.get(f"/accounts?select={select}", headers=headers),
                               "select", mentions="not a column")
        exact = self.data("/accounts?count=exact&limit=1", headers=headers)["count"]
        self.assertEqual(exact, ROWS // 2)
        # The optimizer's estimate would count the other tenant's rows too.
        assert_invalid(self, self.get("/accounts?count=estimated&limit=1", headers=headers),
                       "count", mentions="count=exact")

    # ------------------------------------------------------------ refusals

    def test_hostile_aggregates_are_refused(self):
        for select, mention in (
                ("balance.drop()", "unknown aggregate 'drop'"),
                ("balance.sum(1)", "no argument"),
                ("sum()", "needs a column"),
                ("balance.sum(())", "no argument"),
                ("count(*)", "no argument"),
                ("nope.sum()", "not a column"),
                ("bio.max()", "TEXT, BLOB or JSON"),
                ("name.sum()", "numeric"),
                ("bio,count()", "grouped"),
                ("balance.sum(),age.sum()", "alias"),
                ("x%60y:count()", "alias"),
                ("count(),count()", "alias"),
                ("balance.sum();DROP%20TABLE%20accounts", "follow")):
            with self.subTest(select=select):
                assert_invalid(self, self.get(f"/accounts?select={select}"), "select",
                               mentions=mention)
        for query, parameter, mention in (
                ("order=count().desc", "order", "needs aggregates"),
                ("select=name,count()&order=age", "order", "neither"),
                ("select=name,count()&order=count().up", "order", "asc or desc"),
                ("select=name,count()&after=3", "after", "offset"),
                ("select=name,count()&count=estimated", "count", "count=exact")):
            with self.subTest(query=query):
                assert_invalid(self, self.get(f"/accounts?{query}"), parameter, mentions=mention)
        assert_invalid(self, self.get("/accounts/1?select=id,count()"), "select",
                       mentions="item")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM accounts"), [[str(ROWS)]])

    # ------------------------------------------------------------ count=estimated

    def assert_near(self, estimate, truth, factor=4):
        self.assertIsInstance(estimate, int)
        self.assertGreaterEqual(estimate, 0)
        self.assertGreaterEqual(estimate * factor, truth, f"{estimate} vs {truth}")
        self.assertLessEqual(estimate, truth * factor, f"{estimate} vs {truth}")

    def test_count_estimated(self):
        for filters, where in (("", ""), ("team_id=eq.3&", " WHERE team_id = 3"),
                               ("age=gte.30&", " WHERE age >= 30"),
                               ("tenant=eq.2&id=lt.1000&", " WHERE tenant = 2 AND id < 1000")):
            with self.subTest(filters=filters):
                truth = int(self.sql(f"SELECT COUNT(*) FROM accounts{where}")[0][0])
                body = self.data(f"/accounts?{filters}count=estimated&limit=2")
                self.assertIs(body["count_estimated"], True)
                self.assert_near(body["count"], truth)
                self.assertEqual(len(body["data"]), 2)
                self.assertIn("count=estimated", body["next"])
                exact = self.data(f"/accounts?{filters}count=exact&limit=2")
                self.assertEqual(exact["count"], truth)
                self.assertNotIn("count_estimated", exact)

    def test_count_estimated_is_json_only(self):
        assert_invalid(self, self.get("/accounts?count=estimated",
                                      headers={"Accept": "text/csv"}), "count", mentions="JSON")
        assert_invalid(self, self.get("/accounts?count=guess"), "count", mentions="estimated")


if __name__ == "__main__":
    harness.main()
