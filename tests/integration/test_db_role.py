"""Statements run under the MariaDB role of the caller's queryd role.

The caller's role comes from an API key and the configuration's "auth"
section ("roles": {...: {"db_role": ...}}).
queryd connects as a database account that holds no table privilege of its
own: it reads through the roles granted to it.  shop_reader may read both
tables, shop_limited only `items`; the account's default role is
shop_reader, so that queryd's checks at start see the tables and so that a
fresh connection runs under a role no request asked for.  With one worker
and one connection every request provably runs on the same connection, and
each must run under its own role whatever ran before it: the role never
leaks from one request to the next, a request with no db_role runs under no
role at all, and /metrics shows that a role already in force costs no
SET ROLE round trip.  Coalesced lookups share a statement only within one
role.
"""

import hashlib
import threading

import harness
from harness import assert_json_ok, assert_problem

DB_PASSWORD = "qd-role-secret"

KEYS = {
    "reader": "key-A-reads-everything-0123456789",
    "limited": "key-B-reads-items-only-0123456789",
    "plain": "key-C-has-no-db-role-0123456789ab",
    "broken": "key-D-db-role-not-granted-0123456",
}

DB_ROLES = {
    "reader": {"db_role": "shop_reader"},
    "limited": {"db_role": "shop_limited"},
    "plain": {},
    "broken": {"db_role": "shop_missing"},
}

HOSTS = ("localhost", "127.0.0.1", "%")

ROLE_SWITCHES = "queryd_db_role_switches_total"
LOOKUP_STATEMENTS = "queryd_lookup_statements_total"
RECONNECTS = "queryd_db_reconnects_total"


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def setup_sql():
    stmts = [
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
        "INSERT INTO items VALUES (1, 'lamp'), (2, 'chair')",
        "CREATE TABLE secrets (id INT PRIMARY KEY, note VARCHAR(40) NOT NULL)",
        "INSERT INTO secrets VALUES (1, 'margin'), (2, 'supplier')",
        "CREATE ROLE shop_reader",
        "CREATE ROLE shop_limited",
        "GRANT SELECT ON queryd.items TO shop_reader",
        "GRANT SELECT ON queryd.secrets TO shop_reader",
        "GRANT SELECT ON queryd.items TO shop_limited",
        "GRANT SELECT ON queryd.users TO shop_reader",  # held up by a table lock below
    ]
    for host in HOSTS:
        account = f"'qd'@'{host}'"
        stmts += [
            f"CREATE USER {account} IDENTIFIED BY '{DB_PASSWORD}'",
            f"GRANT shop_reader TO {account}",
            f"GRANT shop_limited TO {account}",
            f"SET DEFAULT ROLE shop_reader FOR {account}",
        ]
    return ";\n".join(stmts) + ";"


def api_config():
    return {
        "resources": [
            {"path": "/items", "table": "items", "key": "id"},
            {"path": "/secrets", "table": "secrets", "key": "id"},
            {"path": "/users", "table": "users", "key": "id"},
        ],
        "auth": {
            "api_keys": [{"sha256": sha256_hex(key), "role": role}
                         for role, key in KEYS.items()],
            "roles": DB_ROLES,
        },
    }


def headers_for(role):
    return {"X-API-Key": KEYS[role]}


class DbRoleTests(harness.DemoServiceTestCase):
    workers = 1
    pool_size = 1

    @classmethod
    def setUpClass(cls):
        # As DemoServiceTestCase, but queryd connects as qd, not as the demo
        # account that reads everything.
        cls.crashes = []
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.db.execute(setup_sql(), harness.DEMO_DB)
        cls.database_url = cls.db.tcp_url("qd", DB_PASSWORD, harness.DEMO_DB)
        cls.queryd = cls.fixture.queryd(cls.database_url, workers=cls.workers,
                                        pool_size=cls.pool_size, config=api_config())
        cls.port = cls.queryd.port

    def as_role(self, role, path):
        return self.get(path, headers=headers_for(role))

    def assert_reads(self, role, path):
        resp = self.as_role(role, path)
        assert_json_ok(self, resp)
        return resp

    def assert_denied(self, role, path):
        resp = self.as_role(role, path)
        problem = assert_problem(self, resp, 403, "forbidden")
        body = resp.json()
        self.assertEqual(body.get("errno"), 1142, resp.describe())
        # The database's message names its account and the table: not the
        # client's business.
        self.assertNotIn("qd", body.get("detail", ""), resp.describe())
        self.assertNotIn("secrets", body.get("detail", ""), resp.describe())
        return problem

    def test_role_never_leaks_between_requests(self):
        for path in ("/secrets", "/secrets/1"):   # a collection and an item lookup
            with self.subTest(path=path):
                self.assert_reads("reader", path)
                self.assert_denied("limited", path)
                self.assert_reads("reader", path)
                self.assert_denied("limited", path)
        self.assert_reads("limited", "/items")
        self.assert_reads("limited", "/items/2")

    def test_role_in_force_costs_no_round_trip(self):
        self.assert_reads("reader", "/secrets")
        before = harness.metric(self.queryd, ROLE_SWITCHES)
        for i in range(5):
            self.assert_reads("reader", "/secrets" if i % 2 else "/items/1")
        self.assertEqual(harness.metric(self.queryd, ROLE_SWITCHES), before,
                         "SET ROLE ran although the role was already in force")
        self.assert_reads("limited", "/items")
        self.assertEqual(harness.metric(self.queryd, ROLE_SWITCHES), before + 1)
        self.assert_reads("limited", "/items/1")
        self.assertEqual(harness.metric(self.queryd, ROLE_SWITCHES), before + 1)

    def test_no_db_role_runs_under_no_role(self):
        # The account itself may read nothing: only SET ROLE NONE gives 403.
        self.assert_reads("reader", "/items")
        self.assert_denied_items("plain")
        self.assert_reads("reader", "/items/1")
        self.assert_denied_items("plain")

    def assert_denied_items(self, role):
        for path in ("/items", "/items/1"):
            resp = self.as_role(role, path)
            assert_problem(self, resp, 403, "forbidden")

    def test_a_role_that_cannot_be_taken(self):
        self.assert_reads("limited", "/items")
        resp = self.as_role("broken", "/items")
        assert_problem(self, resp, 500, "database-error")
        self.assertEqual(resp.json().get("errno"), 1959, resp.describe())  # ER_INVALID_ROLE
        self.assertNotIn("shop_missing", resp.json().get("detail", ""), resp.describe())
        # The failed SET ROLE left the connection's role unknown, not limited's.
        self.assert_reads("reader", "/secrets")
        self.assert_denied("limited", "/secrets")

    def test_a_reconnected_connection_is_set_again(self):
        # A new session runs under the account's default role (shop_reader),
        # which no request asked for: the role must be set again.
        self.assert_reads("limited", "/items")
        self.kill_queryd_connection()
        self.assert_denied("limited", "/secrets")
        self.assert_denied_items("plain")
        self.kill_queryd_connection()
        self.assert_denied_items("plain")

    def test_coalesced_lookups_share_a_statement_only_within_a_role(self):
        # While a lookup holds the only connection, lookups of two roles pile
        # up: each role gets its own statement, under its own role.
        statements = harness.metric(self.queryd, LOOKUP_STATEMENTS)
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 60)
        held = []
        try:
            blocker = threading.Thread(
                target=lambda: held.append(self.as_role("reader", "/users/1")), daemon=True)
            blocker.start()
            self.assertTrue(harness.wait_until(
                lambda: harness.metric(self.queryd, "queryd_db_pool_busy") == 1, 10),
                "the connection was never taken")
            jobs = [("GET", "/secrets/1", headers_for(role))
                    for role in ("reader", "limited") * 3]
            results = []
            firing = threading.Thread(target=lambda: results.extend(
                harness.fire_concurrently(self.port, jobs)), daemon=True)
            firing.start()
            self.assertTrue(harness.wait_until(
                lambda: harness.metric(self.queryd, "queryd_db_pool_waiting") == len(jobs), 10),
                "the lookups did not all wait")
        finally:
            lock.release()
        firing.join(60)
        blocker.join(60)
        self.assertEqual([r.status for r in held], [200])
        self.assertEqual(len(results), len(jobs))
        for (_, _, headers), resp in results:
            self.assertIsInstance(resp, harness.Response, repr(resp))
            if headers == headers_for("reader"):
                self.assertEqual(resp.status, 200, resp.describe())
            else:
                assert_problem(self, resp, 403, "forbidden")
        self.assertEqual(harness.metric(self.queryd, LOOKUP_STATEMENTS) - statements, 3,
                         "one statement for the blocker, then one per role")

    def kill_queryd_connection(self):
        before = harness.metric(self.queryd, RECONNECTS)
        ids = harness.query_rows(self.db, "SELECT id FROM information_schema.PROCESSLIST "
                                          "WHERE USER = 'qd'")
        self.assertTrue(ids, "queryd holds no connection as qd")
        for (conn_id,) in ids:
            self.db.execute(f"KILL CONNECTION {int(conn_id)}")
        self.assertTrue(harness.wait_until(
            lambda: harness.metric(self.queryd, RECONNECTS) > before, 15),
            "queryd did not reconnect")
        self.queryd.wait_pool_idle(1)


if __name__ == "__main__":
    harness.main()
