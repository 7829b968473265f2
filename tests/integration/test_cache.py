"""Shared answers: "cache_ms" and "cache_control" per entry, QUERYD_CACHE_BYTES.

One MariaDB and three queryd: one without "auth" (two workers, a cache of
256 KiB), one with "auth" whose entries have per-tenant row rules, and one
whose entries have no cache_ms.  How many statements reached the database
is read from its Com_select counter (prepared SELECTs count there too).
What must hold:

- a read within cache_ms is answered from memory with Age (whole seconds)
  and the entry's Cache-Control, and sends no statement; after cache_ms it
  runs again; Accept, the query string and GET/HEAD are told apart as they
  should be; a Prefer header is never answered from memory;
- 20 identical concurrent reads of a slow named query send one statement;
- a write through queryd (an entry's PATCH, a named query's POST) drops the
  answers read from what it changed; a reload drops everything;
- a small cache evicts the least recently used, and never keeps an answer
  larger than an eighth of it;
- a caller whose role has a row rule never sees another caller's rows:
  answers are keyed by the role and the claims the rule binds;
  Cache-Control: private goes with them, without "public";
- a waiting read whose client hangs up does not disturb the read it waited
  for, and reads waiting for one whose client hangs up still get answers;
- entries without cache_ms are not cached at all.
"""

import json
import secrets
import socket
import threading
import time

import jwt

import harness
from harness import assert_json_ok

SECRET = secrets.token_hex(32)
ITEMS = 400
ORDERS = 40

MAIN_CONFIG = {
    "resources": [
        {"path": "/users", "table": "users", "key": "id", "cache_ms": 2500,
         "cache_control": "public, max-age=2"},
        {"path": "/items", "table": "items", "key": "id", "cache_ms": 60000,
         "methods": ["GET", "POST", "PATCH", "PUT", "DELETE"]},
        {"path": "/notes", "table": "notes", "key": "id", "methods": ["GET", "POST"]},
    ],
    "queries": [
        {"path": "/slow", "sql": "SELECT SLEEP(0.5) AS slept, :n AS n",
         "params": {"n": {"type": "int", "default": 1}}, "cache_ms": 60000},
        {"path": "/touch", "sql": "UPDATE items SET name = :name WHERE id = 2",
         "method": "POST", "params": {"name": {"type": "string"}}},
    ],
}

PLAIN_CONFIG = {
    "resources": [{"path": "/users", "table": "users", "key": "id",
                   "cache_control": "max-age=5"}],
    "queries": [{"path": "/slow", "sql": "SELECT SLEEP(0.2) AS slept, :n AS n",
                 "params": {"n": {"type": "int", "default": 1}}}],
}

AUTH_CONFIG = {
    "auth": {"jwt": {"secret_env": "QUERYD_JWT_SECRET"}, "anonymous_role": "anon"},
    "resources": [
        {"path": "/orders", "table": "orders", "key": "id", "cache_ms": 60000,
         "cache_control": "public, max-age=30, s-maxage=60",
         "roles": {"customer": {"rows": "tenant = :claims.tenant"}, "admin": {}}},
    ],
    "queries": [
        {"path": "/my/orders", "sql": "SELECT id FROM orders WHERE tenant = :tenant ORDER BY id",
         "params": {"tenant": {"type": "int", "from": "claims.tenant"}},
         "roles": {"customer": {}}, "cache_ms": 60000},
    ],
}


def setup_sql():
    items = ",".join(f"({i},'item {i}','{'x' * 100}')" for i in range(1, ITEMS + 1))
    orders = ",".join(f"({i},{1 if i % 2 == 0 else 2})" for i in range(1, ORDERS + 1))
    return ("CREATE TABLE items (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, "
            "filler VARCHAR(200) NOT NULL);"
            f"INSERT INTO items VALUES {items};"
            "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, tenant INT NOT NULL);"
            f"INSERT INTO orders VALUES {orders};"
            "CREATE TABLE notes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "item_id INT NOT NULL, FOREIGN KEY (item_id) REFERENCES items (id));"
            "INSERT INTO notes (item_id) VALUES (3);" +
            "".join(f"GRANT INSERT, UPDATE, DELETE ON queryd.{table} TO 'queryd'@'{host}';"
                    for host in ("localhost", "127.0.0.1", "%") for table in ("items", "notes")))


def token(role, **claims):
    now = int(time.time())
    return jwt.encode({"role": role, "iat": now, "exp": now + 600, **claims}, SECRET,
                      algorithm="HS256")


def send_raw(port, path):
    """A connection that has sent a GET of path and reads nothing yet: the same
    read as http.client's (which sends Accept-Encoding: identity)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\nAccept-Encoding: identity\r\n\r\n"
                 .encode())
    return sock


class CacheTests(harness.DemoServiceTestCase):
    setup_sql = staticmethod(setup_sql)
    queryd_config = MAIN_CONFIG
    queryd_env = {"cache_bytes": 256 * 1024, "access_log": 0}
    workers = 2
    pool_size = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.authq = cls.fixture.queryd(cls.database_url, name="queryd-auth", workers=2,
                                       config=AUTH_CONFIG, access_log=0,
                                       QUERYD_JWT_SECRET=SECRET)
        cls.plainq = cls.fixture.queryd(cls.database_url, name="queryd-plain", workers=2,
                                        config=PLAIN_CONFIG, access_log=0)
        cls.tenant1 = token("customer", sub="alice", tenant=1)
        cls.tenant1b = token("customer", sub="carol", tenant=1)
        cls.tenant2 = token("customer", sub="bob", tenant=2)
        cls.admin = token("admin", sub="root")
        cls.authq.secrets += [SECRET, cls.tenant1, cls.tenant1b, cls.tenant2, cls.admin]

    @classmethod
    def tearDownClass(cls):
        asserter = harness.class_asserter()
        try:
            cls.authq.stop_and_check(asserter)
            cls.plainq.stop_and_check(asserter)
        finally:
            super().tearDownClass()

    def selects(self):
        return int(harness.query_rows(self.db, "SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])

    def counted(self, fn):
        """fn's result and the SELECTs the database ran meanwhile."""
        before = self.selects()
        result = fn()
        return result, self.selects() - before

    # ---- hits, expiry, what tells reads apart ----

    def test_hit_has_age_and_cache_control_then_expires(self):
        path = "/users?id=lte.3&order=id"
        first, n = self.counted(lambda: self.get(path))
        self.assertEqual(n, 1)
        assert_json_ok(self, first)
        self.assertIsNone(first.headers.get("Age"))
        self.assertEqual(first.headers.get("Cache-Control"), "public, max-age=2")
        time.sleep(1.1)
        again, n = self.counted(lambda: self.get(path))
        self.assertEqual(n, 0, "a read within cache_ms sent a statement")
        self.assertEqual(again.body, first.body)
        self.assertIn(again.headers.get("Age"), ("1", "2"))  # whole seconds, rounded down
        self.assertEqual(again.headers.get("Cache-Control"), "public, max-age=2")
        self.assertNotEqual(again.headers.get("X-Request-Id"), first.headers.get("X-Request-Id"))
        time.sleep(2.0)  # past cache_ms (2500) since the first read
        late, n = self.counted(lambda: self.get(path))
        self.assertEqual(n, 1, "a read after cache_ms was answered from memory")
        self.assertIsNone(late.headers.get("Age"))
        self.assertEqual(late.body, first.body)

    def test_accept_query_and_method_tell_reads_apart(self):
        path = "/users?id=lte.2"
        as_json, n1 = self.counted(lambda: self.get(path))
        as_csv, n2 = self.counted(lambda: self.get(path, headers={"Accept": "text/csv"}))
        other, n3 = self.counted(lambda: self.get(path + "&select=id"))
        self.assertEqual((n1, n2, n3), (1, 1, 1))
        self.assertEqual(as_json.content_type, "application/json")
        self.assertEqual(as_csv.content_type, "text/csv")
        self.assertEqual(other.json()["data"], [{"id": 1}, {"id": 2}])
        again_csv, n = self.counted(lambda: self.get(path, headers={"Accept": "text/csv"}))
        self.assertEqual(n, 0)
        self.assertEqual(again_csv.body, as_csv.body)
        self.assertEqual(again_csv.content_type, "text/csv")
        head, n = self.counted(lambda: self.request("HEAD", path))
        self.assertEqual(n, 0, "HEAD is the same read as GET")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(int(head.headers.get("Content-Length")), len(as_json.body))

    def test_prefer_is_never_answered_from_memory(self):
        path = "/users?id=eq.4"
        headers = {"Prefer": "timeout=5"}
        _, n1 = self.counted(lambda: self.get(path, headers=headers))
        _, n2 = self.counted(lambda: self.get(path, headers=headers))
        self.assertEqual((n1, n2), (1, 1))

    def test_errors_are_not_kept(self):
        _, n1 = self.counted(lambda: self.get("/items/99999"))
        resp, n2 = self.counted(lambda: self.get("/items/99999"))
        self.assertEqual(resp.status, 404)
        self.assertEqual((n1, n2), (1, 1))
        self.assertEqual(self.get("/users?nosuch=eq.1").status, 400)

    def test_off_by_default(self):
        q = self.plainq
        first, n1 = self.counted(lambda: q.get("/users/1"))
        second, n2 = self.counted(lambda: q.get("/users/1"))
        self.assertEqual((n1, n2), (1, 1))
        self.assertIsNone(second.headers.get("Age"))
        # cache_control alone sets the header and caches nothing
        self.assertEqual(second.headers.get("Cache-Control"), "max-age=5")
        jobs = [("GET", "/slow?n=3")] * 5
        results, n = self.counted(lambda: harness.fire_concurrently(q.port, jobs))
        self.assertEqual(n, 5, "reads of an entry without cache_ms were collapsed")
        self.assertEqual(harness.metric(q, "queryd_cache_hits_total"), 0)

    # ---- collapsing ----

    def test_identical_concurrent_reads_send_one_statement(self):
        collapsed = harness.metric(self.queryd, "queryd_cache_collapsed_total")
        jobs = [("GET", "/slow?n=20")] * 20
        start = time.monotonic()
        results, n = self.counted(lambda: harness.fire_concurrently(self.port, jobs))
        took = time.monotonic() - start
        bodies = set()
        for _, resp in results:
            self.assertIsInstance(resp, harness.Response, repr(resp))
            assert_json_ok(self, resp)
            bodies.add(resp.body)
        self.assertEqual(len(bodies), 1)
        self.assertEqual(json.loads(bodies.pop())["data"], [{"slept": 0, "n": 20}])
        self.assertEqual(n, 1, f"20 identical reads sent {n} statements")
        self.assertLess(took, 8.0)
        shared = harness.metric(self.queryd, "queryd_cache_collapsed_total") - collapsed
        self.assertGreater(shared, 0)
        ids = {resp.headers.get("X-Request-Id") for _, resp in results}
        self.assertEqual(len(ids), 20, "each answer carries its own request id")

    def test_waiting_reads_survive_their_leader_hanging_up(self):
        collapsed = harness.metric(self.queryd, "queryd_cache_collapsed_total")
        leader = send_raw(self.port, "/slow?n=31")
        time.sleep(0.15)  # the leader's statement runs
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.get("/slow?n=31")))
                   for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.15)
        leader.close()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 4)
        self.assertEqual(harness.metric(self.queryd, "queryd_cache_collapsed_total") - collapsed,
                         4, "the reads did not wait for the leader")
        for resp in results:
            self.assertEqual(assert_json_ok(self, resp)["data"], [{"slept": 0, "n": 31}])
        self.assertEqual(assert_json_ok(self, self.get("/slow?n=31"))["data"],
                         [{"slept": 0, "n": 31}])

    def test_leader_survives_waiting_reads_hanging_up(self):
        def run():
            out = {}
            leader = threading.Thread(target=lambda: out.setdefault("lead",
                                                                    self.get("/slow?n=41")))
            leader.start()
            time.sleep(0.15)
            quitters = [send_raw(self.port, "/slow?n=41") for _ in range(3)]
            stayer = threading.Thread(target=lambda: out.setdefault("stay",
                                                                    self.get("/slow?n=41")))
            stayer.start()
            time.sleep(0.1)
            for s in quitters:
                s.close()
            leader.join(30)
            stayer.join(30)
            return out
        out, n = self.counted(run)
        self.assertEqual(n, 1, "waiting reads that left ran statements of their own")
        for name in ("lead", "stay"):
            self.assertEqual(assert_json_ok(self, out[name])["data"], [{"slept": 0, "n": 41}])
        again, n = self.counted(lambda: self.get("/slow?n=41"))
        self.assertEqual(n, 0)
        self.assertEqual(again.body, out["lead"].body)

    # ---- invalidation ----

    def test_entry_write_drops_its_table(self):
        before = assert_json_ok(self, self.get("/items/1"))
        page = self.get("/items?id=lte.3")
        slow, _ = self.counted(lambda: self.get("/slow?n=51"))
        _, n = self.counted(lambda: (self.get("/items/1"), self.get("/items?id=lte.3")))
        self.assertEqual(n, 0)
        resp = self.request("PATCH", "/items/1", body=json.dumps({"name": "renamed"}),
                            headers={"Content-Type": "application/json"})
        self.assertIn(resp.status, (200, 204), resp.describe())
        after, n = self.counted(lambda: self.get("/items/1"))
        self.assertEqual(n, 1)
        self.assertEqual(assert_json_ok(self, after)["name"], "renamed")
        self.assertEqual(before["name"], "item 1")
        self.assertIn(b"renamed", self.get("/items?id=lte.3").body)
        self.assertNotEqual(page.body, self.get("/items?id=lte.3").body)
        # The users' answers stay; a named query may read any table: its go.
        _, n = self.counted(lambda: self.get("/slow?n=51"))
        self.assertEqual(n, 1)
        self.request("PATCH", "/items/1", body=json.dumps({"name": "item 1"}),
                     headers={"Content-Type": "application/json"})

    def test_write_to_an_embedded_table_drops_the_embedding(self):
        path = "/items?id=eq.3&select=id,notes(id)"
        before = assert_json_ok(self, self.get(path))
        self.assertEqual(len(before["data"][0]["notes"]), 1, before)
        _, n = self.counted(lambda: self.get(path))
        self.assertEqual(n, 0, "the embedding is kept")
        resp = self.request("POST", "/notes", body=json.dumps({"item_id": 3}),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(resp.status, 201, resp.describe())
        after = assert_json_ok(self, self.get(path))
        self.assertEqual(len(after["data"][0]["notes"]), 2,
                         "a write to an embedded table must drop the answers embedding it")

    def test_named_query_write_drops_everything(self):
        self.get("/users?id=eq.5")
        self.get("/items/2")
        _, n = self.counted(lambda: (self.get("/users?id=eq.5"), self.get("/items/2")))
        self.assertEqual(n, 0)
        resp = self.request("POST", "/touch?name=touched")
        self.assertEqual(resp.status, 200, resp.describe())
        (users, item), n = self.counted(lambda: (self.get("/users?id=eq.5"),
                                                 self.get("/items/2")))
        self.assertEqual(n, 2, "a named query write must drop every answer")
        self.assertEqual(assert_json_ok(self, item)["name"], "touched")
        self.request("POST", "/touch?name=item%202")

    def test_reload_empties_the_cache(self):
        self.get("/items/3")
        _, n = self.counted(lambda: self.get("/items/3"))
        self.assertEqual(n, 0)
        self.queryd.reload()
        time.sleep(0.2)  # each worker takes the new configuration on its loop
        _, n = self.counted(lambda: (self.get("/items/3"), self.get("/items/3")))
        self.assertEqual(n, 1)

    # ---- the bound ----

    def test_small_cache_evicts_least_recently_used(self):
        q = self.queryd
        evicted = harness.metric(q, "queryd_cache_evictions_total")
        for i in range(1, 260):
            self.assertEqual(q.get(f"/items?id=gte.{i}&limit=8").status, 200)
        self.assertGreater(harness.metric(q, "queryd_cache_evictions_total"), evicted)
        self.assertLessEqual(harness.metric(q, "queryd_cache_bytes"), 256 * 1024)
        _, n = self.counted(lambda: q.get("/items?id=gte.1&limit=8"))
        self.assertEqual(n, 1, "the least recently used answer was kept")
        _, n = self.counted(lambda: q.get("/items?id=gte.259&limit=8"))
        self.assertEqual(n, 0, "the most recent answer was evicted")
        big = q.get("/items?limit=400")  # about 50 KB: more than an eighth of 256 KiB
        self.assertGreater(len(big.body), 256 * 1024 // 8)
        _, n = self.counted(lambda: q.get("/items?limit=400"))
        self.assertEqual(n, 1, "an answer past the entry limit was kept")

    def test_metrics(self):
        text = self.get("/metrics").body.decode()
        for name in ("queryd_cache_hits_total", "queryd_cache_misses_total",
                     "queryd_cache_collapsed_total", "queryd_cache_bytes",
                     "queryd_cache_evictions_total"):
            self.assertIn(f"\n{name} ", text)

    # ---- roles and claims ----

    def auth_get(self, path, tok):
        return self.authq.get(path, headers={"Authorization": f"Bearer {tok}"})

    def test_row_rules_never_share_answers_across_claims(self):
        def ids(resp):
            return [row["id"] for row in assert_json_ok(self, resp)["data"]]
        evens = [i for i in range(1, ORDERS + 1) if i % 2 == 0]
        odds = [i for i in range(1, ORDERS + 1) if i % 2 == 1]
        one, n = self.counted(lambda: self.auth_get("/orders?order=id", self.tenant1))
        self.assertEqual((ids(one), n), (evens, 1))
        two, n = self.counted(lambda: self.auth_get("/orders?order=id", self.tenant2))
        self.assertEqual((ids(two), n), (odds, 1))
        admin, n = self.counted(lambda: self.auth_get("/orders?order=id", self.admin))
        self.assertEqual((ids(admin), n), (list(range(1, ORDERS + 1)), 1))
        # Another caller with the same role and the same claim shares.
        same, n = self.counted(lambda: self.auth_get("/orders?order=id", self.tenant1b))
        self.assertEqual((ids(same), n), (evens, 0))
        # Items: tenant 2 never gets tenant 1's row, even once it is kept.
        self.assertEqual(self.auth_get("/orders/2", self.tenant1).status, 200)
        self.assertEqual(self.auth_get("/orders/2", self.tenant2).status, 404)
        # Parameters from the claims, in a named query.
        mine = self.auth_get("/my/orders", self.tenant1)
        theirs = self.auth_get("/my/orders", self.tenant2)
        self.assertEqual([r["id"] for r in assert_json_ok(self, mine)["data"]], evens)
        self.assertEqual([r["id"] for r in assert_json_ok(self, theirs)["data"]], odds)

    def test_credentials_make_cache_control_private(self):
        resp = self.auth_get("/orders/4", self.admin)
        values = ", ".join(resp.headers.get_all("Cache-Control") or [])
        directives = {d.strip() for d in values.split(",")}
        self.assertIn("private", directives)
        self.assertIn("max-age=30", directives)
        self.assertNotIn("public", directives)
        self.assertNotIn("s-maxage=60", directives)

    def test_concurrent_callers_of_two_tenants_keep_their_rows(self):
        jobs = []
        for i in range(40):
            tok = self.tenant1 if i % 2 == 0 else self.tenant2
            jobs.append(("GET", "/orders?order=id&limit=5&id=gte.11",
                         {"Authorization": f"Bearer {tok}"}))
        for (_, _, headers), resp in harness.fire_concurrently(self.authq.port, jobs):
            tenant = 1 if headers["Authorization"].endswith(self.tenant1) else 2
            rows = assert_json_ok(self, resp)["data"]
            self.assertTrue(rows)
            self.assertTrue(all((r["id"] % 2 == 0) == (tenant == 1) for r in rows), rows)


if __name__ == "__main__":
    harness.main()
