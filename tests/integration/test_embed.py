"""Embedded relations: select=id,name,members(id,name,orders(id)).

One MariaDB with teams, members (a foreign key to teams), orders (to
members), items (to orders), matches (two foreign keys to teams), a view of
members with a relation declared in the configuration, and 200,000 parents
with a child each; one queryd with an "auth" section.  What must hold:
- many-to-one embeds an object or null, one-to-many an array, nested to
  three levels, filtered, ordered and limited per parent: each equal to the
  same join computed here with MariaDB's own client;
- one statement per embedded relation per batch of parents, never one per
  row (MariaDB's Com_select on this test's private server);
- keyset cursors, offset, count=exact, NDJSON and items embed; CSV refuses;
- the caller's role rules hold for embedded rows: its columns, its rows,
  and a related entry it may not use is an unknown relation;
- a 200,000-parent NDJSON answer with a one-to-many embed keeps queryd's
  RSS growth small;
- hostile select lists and nested parameters are refused with 400 naming
  the problem, and nothing of them reaches SQL.
"""
import json
import os
import time
import urllib.parse

import jwt

import harness
from harness import assert_invalid, assert_json_ok, parse_next

# AddressSanitizer keeps up to 256 MiB of freed memory in quarantine, which
# would hide what the memory test measures: queryd's own holding.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=8")

SECRET = "embed-test-secret-" + "x" * 20
TEAMS = 40
MEMBERS = 300
ORDERS = 900
ITEMS = 1500
BIG = 200000
STATUSES = ["open", "paid", "void"]


def team_of(m):
    return None if m % 11 == 0 else m % TEAMS + 1


def setup_sql():
    out = [
        "CREATE TABLE teams (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, "
        "tenant INT NOT NULL) ENGINE=InnoDB;",
        "CREATE TABLE members (id INT NOT NULL PRIMARY KEY, team_id INT NULL, "
        "name VARCHAR(40) NOT NULL, salary INT NOT NULL, "
        "CONSTRAINT fk_members_team FOREIGN KEY (team_id) REFERENCES teams (id)) ENGINE=InnoDB;",
        "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, member_id INT NOT NULL, "
        "status VARCHAR(10) NOT NULL, total INT NOT NULL, "
        "FOREIGN KEY (member_id) REFERENCES members (id)) ENGINE=InnoDB;",
        "CREATE TABLE items (id INT NOT NULL PRIMARY KEY, order_id INT NOT NULL, "
        "sku VARCHAR(10) NOT NULL, FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB;",
        "CREATE TABLE deep (id INT NOT NULL PRIMARY KEY, item_id INT NOT NULL, "
        "FOREIGN KEY (item_id) REFERENCES items (id)) ENGINE=InnoDB;",
        "CREATE TABLE matches (id INT NOT NULL PRIMARY KEY, home_id INT NOT NULL, "
        "away_id INT NOT NULL, "
        "CONSTRAINT fk_home FOREIGN KEY (home_id) REFERENCES teams (id), "
        "CONSTRAINT fk_away FOREIGN KEY (away_id) REFERENCES teams (id)) ENGINE=InnoDB;",
        "CREATE VIEW member_view AS SELECT id, team_id, name FROM members;",
        "CREATE TABLE big_parents (id INT NOT NULL PRIMARY KEY, label VARCHAR(20) NOT NULL) "
        "ENGINE=InnoDB;",
        "CREATE TABLE big_children (id INT NOT NULL PRIMARY KEY, parent_id INT NOT NULL, "
        "v INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES big_parents (id)) ENGINE=InnoDB;",
    ]
    out.append("INSERT INTO teams VALUES " + ",".join(
        f"({t},'team {t}',{t % 2 + 1})" for t in range(1, TEAMS + 1)) + ";")
    out.append("INSERT INTO members VALUES " + ",".join(
        f"({m},{team_of(m) or 'NULL'},'member {m}',{1000 + m})"
        for m in range(1, MEMBERS + 1)) + ";")
    out.append("INSERT INTO orders VALUES " + ",".join(
        f"({o},{(o * 7) % MEMBERS + 1},'{STATUSES[o % 3]}',{(o * 37) % 500})"
        for o in range(1, ORDERS + 1)) + ";")
    out.append("INSERT INTO items VALUES " + ",".join(
        f"({i},{(i * 3) % ORDERS + 1},'sku{i % 17}')" for i in range(1, ITEMS + 1)) + ";")
    out.append("INSERT INTO deep VALUES (1, 1);")
    out.append("INSERT INTO matches VALUES " + ",".join(
        f"({i},{i % TEAMS + 1},{(i * 5) % TEAMS + 1})" for i in range(1, 61)) + ";")
    out.append(f"INSERT INTO big_parents SELECT seq, CONCAT('p', seq) FROM seq_1_to_{BIG};")
    out.append(f"INSERT INTO big_children SELECT seq, seq, seq % 97 FROM seq_1_to_{BIG};")
    return "\n".join(out)


ANON = {"anon": {}}
CONFIG = {
    "auth": {"jwt": {"secret_env": "QUERYD_JWT_SECRET"}, "anonymous_role": "anon"},
    "resources": [
        {"path": "/teams", "table": "teams", "key": "id",
         "roles": {"anon": {}, "customer": {"rows": "tenant = :claims.tenant"}}},
        {"path": "/members", "table": "members", "key": "id", "max_limit": 1000,
         "roles": {"anon": {}, "customer": {"columns": ["id", "team_id", "name"]}}},
        {"path": "/orders", "table": "orders", "key": "id", "max_limit": 1000, "roles": ANON},
        {"path": "/items", "table": "items", "key": "id", "roles": ANON},
        {"path": "/deep", "table": "deep", "key": "id", "roles": ANON},
        {"path": "/matches", "table": "matches", "key": "id", "roles": ANON},
        {"path": "/member_view", "table": "member_view", "key": "id", "roles": ANON,
         "relations": [{"name": "team", "from": ["team_id"], "to": "/teams",
                        "to_columns": ["id"]}]},
        {"path": "/big_parents", "table": "big_parents", "key": "id", "max_limit": BIG,
         "roles": ANON},
        {"path": "/big_children", "table": "big_children", "key": "id", "roles": ANON},
    ],
}


def token(role, **claims):
    now = int(time.time())
    return jwt.encode({"role": role, "iat": now, "exp": now + 600, **claims}, SECRET,
                      algorithm="HS256")


def ints(rows):
    return [[None if c is None else int(c) if c.lstrip("-").isdigit() else c for c in r]
            for r in rows]


class EmbedTests(harness.DemoServiceTestCase):
    setup_sql = staticmethod(setup_sql)
    queryd_config = CONFIG
    queryd_env = {"QUERYD_JWT_SECRET": SECRET}
    pool_size = 2
    workers = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer1 = token("customer", sub="c1", tenant=1)
        cls.queryd.secrets += [SECRET, cls.customer1]

    def sql(self, text):
        return ints(harness.query_rows(self.db, text))

    def ok(self, path, **kw):
        return assert_json_ok(self, self.get(path, **kw))

    def com_select(self):
        return int(harness.query_rows(self.db, "SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])

    # ------------------------------------------------------- joins

    def test_many_to_one_is_an_object_or_null(self):
        page = self.ok("/members?select=id,name,teams(id,name)&limit=1000")
        expected = [{"id": m, "name": n, "teams": None if t is None else {"id": t, "name": tn}}
                    for m, n, t, tn in self.sql(
                        "SELECT m.id, m.name, t.id, t.name FROM members m LEFT JOIN teams t "
                        "ON t.id = m.team_id ORDER BY m.id")]
        self.assertEqual(page["data"], expected)
        self.assertIsNone(page["next"])

    def one_to_many_expected(self, where="TRUE", order="m.id", limit=None):
        rows = self.sql(
            "SELECT t.id, t.name, x.id, x.name FROM teams t LEFT JOIN "
            f"(SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.team_id ORDER BY {order}) AS rn "
            f"FROM members m WHERE {where}) x ON x.team_id = t.id "
            f"{'AND x.rn <= %d' % limit if limit else ''} ORDER BY t.id, x.rn")
        out = {}
        for tid, tname, mid, mname in rows:
            team = out.setdefault(tid, {"id": tid, "name": tname, "members": []})
            if mid is not None:
                team["members"].append({"id": mid, "name": mname})
        return list(out.values())

    def test_one_to_many_is_an_array(self):
        page = self.ok("/teams?select=id,name,members(id,name)&limit=100")
        self.assertEqual(page["data"], self.one_to_many_expected())

    def test_filtered_ordered_limited_per_parent(self):
        page = self.ok("/teams?select=id,name,members(id,name)&members.id=gt.50"
                       "&members.order=name.desc&members.limit=3&limit=100")
        self.assertEqual(page["data"], self.one_to_many_expected(
            where="m.id > 50", order="m.name DESC, m.id", limit=3))

    def test_nested_three_levels(self):
        page = self.ok("/teams?select=id,members(id,orders(id,status,items(id,sku)))"
                       "&members.orders.status=eq.paid&limit=100")
        rows = self.sql(
            "SELECT t.id, m.id, o.id, o.status, i.id, i.sku FROM teams t "
            "LEFT JOIN members m ON m.team_id = t.id "
            "LEFT JOIN orders o ON o.member_id = m.id AND o.status = 'paid' "
            "LEFT JOIN items i ON i.order_id = o.id ORDER BY t.id, m.id, o.id, i.id")
        teams = {}
        for tid, mid, oid, status, iid, sku in rows:
            team = teams.setdefault(tid, {"id": tid, "members": {}})
            if mid is None:
                continue
            member = team["members"].setdefault(mid, {"id": mid, "orders": {}})
            if oid is None:
                continue
            order = member["orders"].setdefault(oid, {"id": oid, "status": status, "items": []})
            if iid is not None:
                order["items"].append({"id": iid, "sku": sku})
        expected = [{"id": t["id"], "members": [
            {"id": m["id"], "orders": list(m["orders"].values())}
            for m in t["members"].values()]} for t in teams.values()]
        self.assertEqual(page["data"], expected)

    def test_many_to_one_inside_one_to_many(self):
        page = self.ok("/orders?select=id,members(id,teams(id,name))&order=id&limit=50")
        rows = self.sql("SELECT o.id, m.id, t.id, t.name FROM orders o JOIN members m ON "
                        "m.id = o.member_id LEFT JOIN teams t ON t.id = m.team_id "
                        "ORDER BY o.id LIMIT 50")
        self.assertEqual(page["data"], [
            {"id": o, "members": {"id": m, "teams": None if t is None else
                                  {"id": t, "name": tn}}} for o, m, t, tn in rows])

    def test_declared_relation_on_a_view(self):
        page = self.ok("/member_view?select=id,team(id,name)&limit=20")
        rows = self.sql("SELECT m.id, t.id, t.name FROM members m LEFT JOIN teams t ON "
                        "t.id = m.team_id ORDER BY m.id LIMIT 20")
        self.assertEqual(page["data"], [{"id": m, "team": None if t is None else
                                         {"id": t, "name": tn}} for m, t, tn in rows])
        back = self.ok("/teams?select=id,member_view(id)&limit=3")
        self.assertEqual(back["data"][0]["member_view"],
                         [{"id": m} for (m,) in self.sql(
                             "SELECT id FROM members WHERE team_id = 1 ORDER BY id")])

    def test_foreign_key_hint(self):
        doc = harness.assert_problem(self, self.get("/matches?select=id,teams(id)"), 400,
                                     "invalid-parameter", "fk_home")
        self.assertIn("fk_away", doc["detail"])
        self.assertEqual(doc.get("parameter"), "select")
        page = self.ok("/matches?select=id,home:teams!fk_home(id),away:teams!fk_away(id)"
                       "&limit=60")
        rows = self.sql("SELECT id, home_id, away_id FROM matches ORDER BY id")
        self.assertEqual(page["data"], [{"id": i, "home": {"id": h}, "away": {"id": a}}
                                        for i, h, a in rows])
        page = self.ok("/teams?select=id,matches!fk_home(id)&limit=1")
        self.assertEqual(page["data"][0]["matches"], [
            {"id": i} for (i,) in self.sql("SELECT id FROM matches WHERE home_id = 1 "
                                           "ORDER BY id")])

    # ------------------------------------------------------- statements

    def test_one_statement_per_relation_per_batch(self):
        path = "/members?select=id,teams(id),orders(id,items(id))&limit=250"
        self.ok(path)  # prepared once, as any later request finds them
        before = self.com_select()
        page = self.ok(path)
        used = self.com_select() - before
        self.assertEqual(len(page["data"]), 250)
        # 250 parents in batches of at least 100: at most 3 batches, each one
        # statement for the parents and one per relation.
        self.assertLessEqual(used, 3 * 4, f"{used} statements for 250 parents")
        before = self.com_select()
        self.ok("/teams?select=id,name,members(id,name)&limit=100")
        self.assertLessEqual(self.com_select() - before, 2)

    # ------------------------------------------------------- paging, formats, items

    def test_keyset_walk_and_offset(self):
        expected = self.one_to_many_expected()
        rows, path, pages = [], "/teams?select=id,name,members(id,name)&limit=7", 0
        while path:
            page = self.ok(path)
            rows += page["data"]
            path = page["next"]
            pages += 1
            if path:
                _, params = parse_next(path)
                self.assertIn("after", params)
        self.assertEqual(rows, expected)
        self.assertEqual(pages, (TEAMS + 6) // 7)
        page = self.ok("/teams?select=id,name,members(id,name)&limit=5&offset=10"
                       "&order=name.desc")
        ordered = sorted(expected, key=lambda t: t["name"], reverse=True)
        self.assertEqual(page["data"], ordered[10:15])
        _, params = parse_next(page["next"])
        self.assertEqual(params["offset"], ["15"])

    def test_batches_follow_any_order(self):
        # 300 parents take batches of 100 and 200, the second starting after
        # the first's last row in the request's own order; with an offset,
        # the first batch skips and the next starts after it.
        for order, sql_order in (("name.desc", "m.name DESC, m.id"),
                                 ("team_id,id.desc", "m.team_id, m.id DESC")):
            for offset in (0, 7):
                with self.subTest(order=order, offset=offset):
                    page = self.ok(f"/members?select=id,name,teams(id)&order={order}"
                                   f"&limit=280&offset={offset}")
                    rows = self.sql(f"SELECT m.id, m.name, t.id FROM members m LEFT JOIN "
                                    f"teams t ON t.id = m.team_id ORDER BY {sql_order} "
                                    f"LIMIT 280 OFFSET {offset}")
                    self.assertEqual(page["data"], [
                        {"id": m, "name": n, "teams": None if t is None else {"id": t}}
                        for m, n, t in rows])
                    self.assertIsNotNone(page["next"])

    def test_count_exact(self):
        page = self.ok("/teams?select=id,members(id)&limit=3&count=exact&id=lt.20")
        self.assertEqual(page["count"], 19)
        self.assertEqual(len(page["data"]), 3)

    def test_prefer_timeout(self):
        resp = self.get("/teams?select=id,members(id)&limit=3", headers={"Prefer": "timeout=2.5"})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.headers.get("Preference-Applied"), "timeout=2.5")
        assert_invalid(self, self.get("/teams?select=id,members(id)",
                                      headers={"Prefer": "timeout=abc"}), "Prefer")

    def test_ndjson_and_csv(self):
        resp = self.get("/teams?select=id,name,members(id,name)&limit=100",
                        headers={"Accept": "application/x-ndjson"})
        self.assertEqual(resp.status, 200, resp.describe())
        lines = [json.loads(line) for line in resp.body.decode().splitlines()]
        self.assertEqual(lines, self.one_to_many_expected())
        resp = self.get("/teams?select=id,members(id)", headers={"Accept": "text/csv"})
        assert_invalid(self, resp, "select", "CSV")

    def test_item(self):
        resp = self.get("/teams/1?select=id,members(id)")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json(), {"id": 1, "members": [
            {"id": m} for (m,) in self.sql("SELECT id FROM members WHERE team_id = 1 "
                                           "ORDER BY id")]})
        resp = self.get("/members/11?select=id,teams(id)")
        self.assertEqual(resp.json(), {"id": 11, "teams": None})
        self.assertEqual(self.get("/teams/9999?select=id,members(id)").status, 404)
        assert_invalid(self, self.get("/teams/1?select=id,members(id)&name=eq.x"), "name")

    # ------------------------------------------------------- roles

    def test_roles_apply_to_embedded_rows(self):
        headers = {"Authorization": f"Bearer {self.customer1}"}
        # members as customer: no salary, whether top level or embedded.
        page = self.ok("/teams?select=id,members(id,name)&limit=3", headers=headers)
        self.assertTrue(all(t["id"] % 2 == 0 for t in page["data"]))  # tenant 1: even ids
        assert_invalid(self, self.get("/teams?select=id,members(id,salary)", headers=headers),
                       "select", "salary")
        # teams as customer: tenant 1's rows only; the others' are null.
        page = self.ok("/members?select=id,teams(id)&limit=100", headers=headers)
        for row in page["data"]:
            team = team_of(row["id"])
            want = {"id": team} if team is not None and team % 2 == 0 else None
            self.assertEqual(row["teams"], want, row)
        # orders: the customer may not use it, so it is no relation of members.
        doc = harness.assert_problem(self, self.get("/members?select=id,orders(id)",
                                                    headers=headers), 400, "invalid-parameter")
        self.assertIn("not a relation", doc["detail"])
        self.assertNotIn("orders", doc["detail"].split("has:")[-1])

    # ------------------------------------------------------- hostile input

    def test_hostile_select_and_parameters(self):
        cases = [
            ("select=id,members(id", "select", "unbalanced"),
            ("select=id,members(id))", "select", "unbalanced"),
            ("select=id,members)id(", "select", "unbalanced"),
            ("select=id,mem`bers(id)", "select", "not a relation"),
            ("select=id,members'--(id)", "select", "not a relation"),
            ("select=id,members(id`)", "select", "not a column"),
            ("select=id,members(id),members(name)", "select", "twice"),
            ("select=id,nope(id)", "select", "not a relation"),
            ("select=id,members!nope(id)", "select", "not a relation"),
            ("select=id,members!(id)", "select", "relation"),
            ("select=id,(id)", "select", "relation"),
            ("select=id,members(id,)", "select", "empty"),
            ("select=id,members()", "select", "not a column"),
            ("select=id,members(orders(items(deep(id))))", "select", "3 levels"),
            ("select=id," + "x" * 5000 + "(id)", "select", "64 characters"),
            ("select=id," + "x" * 60 + "(id)", "select", "not a relation"),
            ("select=id,members(id)x", "select", "follow"),
            ("select=id,members(id)&members.select=id", "members.select", "parentheses"),
            ("select=id,members(id)&members.after=1", "members.after", "embedding"),
            ("select=id,members(id)&members.limit=0", "members.limit", None),
            ("select=id,members(id)&members.order=salary;drop", "members.order", None),
            ("select=id,members(id)&members.nope=eq.1", "members.nope", None),
            ("select=id,members(id)&members.id=eq.'1", "members.id", None),
            ("select=id,teams(id)", "select", "not a relation"),
            # aggregates group rows, and embedded rows are joined back one by one
            ("select=id,members(count())", "select", "aggregates"),
            ("select=id,members(id,salary.sum())", "select", "aggregates"),
            ("select=id,members(id)&members.order=count().desc", "members.order", None),
            ("select=id,count(),members(id)", "select", "aggregates"),
            ("select=id,members(id)&count=estimated", "count", "count=estimated"),
        ]
        for query, parameter, mention in cases:
            with self.subTest(query=query[:80]):
                path = "/teams?" + urllib.parse.quote(query, safe="=&,")
                if "teams(id)" in query and "members" not in query:
                    path = "/teams?select=id,teams(id)"
                resp = self.get(path)
                assert_invalid(self, resp, parameter, mention)
        assert_invalid(self, self.get("/members?select=id,teams(id)&teams.limit=2"),
                       "teams.limit", "arrays")
        log = self.queryd.log_text()
        self.assertNotIn("syntax", log)

    # ------------------------------------------------------- memory

    def test_large_ndjson_answer_in_bounded_memory(self):
        pid = self.queryd.proc.pid
        before = proc_kib(pid, "VmRSS")
        reset_peak_rss(pid)
        resp = self.get(f"/big_parents?select=id,label,big_children(id,v)&limit={BIG}",
                        headers={"Accept": "application/x-ndjson"}, timeout=300)
        growth = proc_kib(pid, "VmHWM") - before
        self.assertEqual(resp.status, 200, resp.describe()[:500])
        lines = resp.body.decode().splitlines()
        self.assertEqual(len(lines), BIG)
        for n in (0, 1, BIG // 2, BIG - 1):
            i = n + 1
            self.assertEqual(json.loads(lines[n]), {"id": i, "label": f"p{i}",
                                                    "big_children": [{"id": i, "v": i % 97}]})
        print(f"{len(resp.body) / 1e6:.1f} MB embedded; RSS {before} KiB before, "
              f"peak {growth:+d} KiB", flush=True)
        # One batch of every level and the sanitizers' quarantine of freed
        # memory; held whole, the answer alone would pass 20 MiB.
        self.assertLess(growth, 32 * 1024, f"queryd's RSS grew by {growth} KiB")


def reset_peak_rss(pid):
    """Make VmHWM start again from the current RSS (Linux 4.0 and later)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field}")


if __name__ == "__main__":
    harness.main()
