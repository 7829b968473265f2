"""Deadlines, precisely: 504 at the deadline, statements stopped on the server.

- A named query whose entry allows 1 s runs SELECT SLEEP(5): 504 between
  1.0 and 1.2 s, also with the database frozen by SIGSTOP; after SIGCONT
  the service recovers and the pool ends idle, with no lease leaked.
- A client hangs up while SELECT SLEEP(10) runs: within 200 ms the
  statement is gone from information_schema.PROCESSLIST, stopped with KILL
  QUERY, and its connection is lent again rather than reopened.
- When the KILL connection cannot be had (the account's connections are
  used up), the statement's connection is reopened instead, as before.
- A write statement waiting for a table lock past its Prefer: timeout= is
  answered 504 then, stopped, and its transaction rolled back.
- Prefer: timeout=0.5 answers 504 near 0.5 s and says so in
  Preference-Applied; a timeout above the entry's is capped (the header
  shows the value used); timeout=abc, -1 and 1e999 are 400, for collections,
  items and named queries alike.

Run directly with
    python3 tests/integration/test_deadlines.py --queryd build-asan/queryd -v
"""

import os
import signal
import socket
import subprocess
import sys
import time

import harness
from harness import assert_json_ok, assert_problem

QUERIES = [
    {"path": "/q/sleep5", "sql": "SELECT SLEEP(5) AS slept", "timeout_ms": 1000},
    {"path": "/q/sleep10", "sql": "SELECT SLEEP(10) AS slept", "timeout_ms": 30000},
    {"path": "/q/sleep3", "sql": "SELECT SLEEP(3) AS slept", "timeout_ms": 1000},
    {"path": "/q/sleep2", "sql": "SELECT SLEEP(2) AS slept", "timeout_ms": 30000},
]

POOL_SIZE = 2


def log(text):
    sys.stderr.write(f"\n    [{text}]")


def config():
    doc = harness.demo_config()
    doc["queries"] = doc.get("queries", []) + QUERIES
    doc["resources"][0]["methods"] = ["GET", "PATCH"]
    return doc


class SqlSession:
    """One long-lived mariadb client session on the admin socket: a query
    costs a round trip, not a process start, so the processlist can be
    watched every few milliseconds."""

    END = "--end-of-answer--"

    def __init__(self, db):
        client = "mariadb" if subprocess.run(["which", "mariadb"], capture_output=True).returncode == 0 else "mysql"
        self.proc = subprocess.Popen(
            [client, "--no-defaults", "--protocol=socket", "--socket=" + db.socket,
             "--user=" + db.admin_user, "--batch", "--unbuffered", "--skip-column-names"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)

    def rows(self, sql):
        self.proc.stdin.write(f"{sql};\nSELECT '{self.END}';\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if line == "":
                raise AssertionError("the mariadb client session ended")
            line = line.rstrip("\n")
            if line == self.END:
                return lines
            lines.append(line)

    def running(self, needle):
        """Statements of other sessions whose text contains needle."""
        return int(self.rows(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            f"WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND INFO LIKE '%{needle}%'")[0])

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(10)


def timed(q, path, headers=None, timeout=30.0):
    t = time.monotonic()
    resp = q.get(path, headers=headers or {}, timeout=timeout)
    return resp, time.monotonic() - t


class DeadlineTests(harness.DemoServiceTestCase):
    pool_size = POOL_SIZE
    workers = 1

    @classmethod
    def setUpClass(cls):
        cls.queryd_config = config()
        super().setUpClass()
        cls.sql = SqlSession(cls.db)
        cls.addClassCleanup(cls.sql.close)

    def tearDown(self):
        self.thaw()
        super().tearDown()

    def thaw(self):
        if self.db.pid:
            try:
                os.kill(self.db.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def metric(self, name):
        return harness.metric(self.queryd, name)

    def assert_pool_idle(self, timeout=15.0):
        resp = self.queryd.wait_pool_idle(POOL_SIZE, timeout=timeout)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()["pool"], {"size": POOL_SIZE, "idle": POOL_SIZE,
                                               "busy": 0, "waiting": 0}, resp.describe())
        self.assertEqual(self.metric("queryd_db_pool_idle"), POOL_SIZE)
        self.assertEqual(self.metric("queryd_db_pool_busy"), 0)

    def wait_gone(self, needle, timeout):
        """Seconds until no statement containing needle runs (None: still after timeout)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.sql.running(needle) == 0:
                return time.monotonic() - start
            time.sleep(0.005)
        return None

    # ------------------------------------------------------------------

    def test_entry_deadline(self):
        """timeout_ms 1000 on SLEEP(5): 504 between 1.0 and 1.2 s, three times over."""
        for i in range(3):
            resp, seconds = timed(self.queryd, "/q/sleep5")
            log(f"SLEEP(5) with a 1 s deadline: {resp.status} in {seconds:.3f} s")
            assert_problem(self, resp, 504, "timeout")
            self.assertGreaterEqual(seconds, 1.0)
            self.assertLessEqual(seconds, 1.2)
        self.assertIsNotNone(self.wait_gone("SLEEP(5)", 2.0), "SLEEP(5) still runs")
        self.assert_pool_idle()

    def test_entry_deadline_with_database_frozen(self):
        """SIGSTOP: still 504 between 1.0 and 1.2 s; SIGCONT: serving, pool idle."""
        self.assertEqual(assert_json_ok(self, self.get("/users/1")), harness.USER_1)
        os.kill(self.db.pid, signal.SIGSTOP)
        try:
            resp, seconds = timed(self.queryd, "/q/sleep5")
            log(f"SLEEP(5) on a frozen database: {resp.status} in {seconds:.3f} s")
            assert_problem(self, resp, 504, "timeout")
            self.assertGreaterEqual(seconds, 1.0)
            self.assertLessEqual(seconds, 1.2)
            time.sleep(0.5)
        finally:
            os.kill(self.db.pid, signal.SIGCONT)
        recovered = harness.wait_until(
            lambda: self.get("/users/1", timeout=5).status == 200, 15.0, interval=0.1)
        self.assertTrue(recovered, "not serving 15 s after SIGCONT")
        self.assertEqual(assert_json_ok(self, self.get("/users/1")), harness.USER_1)
        self.assert_pool_idle()
        self.assertIsNotNone(self.wait_gone("SLEEP(5)", 5.0), "SLEEP(5) still runs")
        for _ in range(2 * POOL_SIZE):  # every connection serves again
            self.assertEqual(assert_json_ok(self, self.get("/users/2"))["id"], 2)

    def test_client_hang_up_kills_the_statement(self):
        """Hang up during SLEEP(10): gone from the processlist within 200 ms, no reconnect."""
        self.assert_pool_idle()
        reconnects = self.metric("queryd_db_reconnects_total")
        killed = self.metric("queryd_db_queries_killed_total")
        for round_ in range(3):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            try:
                s.sendall(b"GET /q/sleep10 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                seen = harness.wait_until(lambda: self.sql.running("SLEEP(10)") == 1, 10.0,
                                          interval=0.01)
                self.assertTrue(seen, "SLEEP(10) never showed in the processlist")
                time.sleep(0.2)  # well into the statement, the client watched
            finally:
                s.close()
            gone = self.wait_gone("SLEEP(10)", 5.0)
            log(f"round {round_}: SLEEP(10) gone {gone and gone * 1000:.0f} ms after the hang-up")
            self.assertIsNotNone(gone, "SLEEP(10) still runs 5 s after the hang-up")
            self.assertLessEqual(gone, 0.2)
            self.assert_pool_idle()
        self.assertEqual(self.metric("queryd_db_reconnects_total"), reconnects,
                         "a connection was reopened instead of drained")
        self.assertEqual(self.metric("queryd_db_queries_killed_total"), killed + 3)
        self.assertEqual(assert_json_ok(self, self.get("/users/1")), harness.USER_1)

    def test_kill_connection_refused_falls_back_to_reopening(self):
        """No room for the KILL connection (MAX_USER_CONNECTIONS): reopened, as before."""
        user, password = "deadline_tight", "tight-secret"
        self.db.create_app_user(user, password, harness.DEMO_DB)
        accounts = [f"'{user}'@'{host}'" for host in ("localhost", "127.0.0.1", "%")]
        # Room for the pool's connections only (the server counts those made
        # while a limit is set): the KILL's is refused.
        for account in accounts:
            self.db.execute(f"ALTER USER {account} WITH MAX_USER_CONNECTIONS {POOL_SIZE}")
        q = self.fixture.queryd(self.db.tcp_url(user, password, harness.DEMO_DB),
                                name="queryd-tight", workers=1, pool_size=POOL_SIZE,
                                config=config())
        try:
            self.assertEqual(q.wait_pool_idle(POOL_SIZE).status, 200)
            reconnects = harness.metric(q, "queryd_db_reconnects_total")
            s = socket.create_connection(("127.0.0.1", q.port), timeout=10)
            try:
                s.sendall(b"GET /q/sleep2 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                seen = harness.wait_until(lambda: self.sql.running("SLEEP(2)") == 1, 10.0,
                                          interval=0.01)
                self.assertTrue(seen, "SLEEP(2) never showed in the processlist")
                time.sleep(0.2)
            finally:
                s.close()
            reopened = harness.wait_until(
                lambda: harness.metric(q, "queryd_db_reconnects_total") > reconnects, 15.0,
                interval=0.1)
            self.assertTrue(reopened, "the connection was not reopened")
            self.assertEqual(harness.metric(q, "queryd_db_queries_killed_total"), 0)
            resp = q.wait_pool_idle(POOL_SIZE)
            self.assertEqual(resp.json()["pool"], {"size": POOL_SIZE, "idle": POOL_SIZE,
                                                   "busy": 0, "waiting": 0}, resp.describe())
            self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        finally:
            for account in accounts:
                self.db.execute(f"ALTER USER {account} WITH MAX_USER_CONNECTIONS 0")
            q.stop_and_check(self)

    def test_write_past_its_prefer_timeout(self):
        """PATCH behind a table lock with timeout=0.3: 504 then, nothing written."""
        self.assert_pool_idle()
        before = assert_json_ok(self, self.get("/users/5"))
        killed = self.metric("queryd_db_queries_killed_total")
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 60)
        try:
            t = time.monotonic()
            resp = self.request("PATCH", "/users/5", body=b'{"name": "changed"}',
                                headers={"Content-Type": "application/json",
                                         "Prefer": "timeout=0.3"})
            seconds = time.monotonic() - t
            log(f"PATCH behind a lock, Prefer: timeout=0.3: {resp.status} in {seconds:.3f} s")
            assert_problem(self, resp, 504, "timeout")
            self.assertGreaterEqual(seconds, 0.3)
            self.assertLessEqual(seconds, 0.6)
            gone = self.wait_gone("UPDATE", 2.0)
            self.assertIsNotNone(gone, "the UPDATE still waits for the lock")
        finally:
            lock.release()
        self.assertEqual(self.metric("queryd_db_queries_killed_total"), killed + 1)
        self.assert_pool_idle()
        self.assertEqual(assert_json_ok(self, self.get("/users/5")), before)

    def test_prefer_timeout(self):
        """timeout=0.5 on a 1 s entry: 504 near 0.5 s, Preference-Applied: timeout=0.5."""
        reconnects = self.metric("queryd_db_reconnects_total")
        resp, seconds = timed(self.queryd, "/q/sleep3", {"Prefer": "timeout=0.5"})
        log(f"Prefer: timeout=0.5: {resp.status} in {seconds:.3f} s")
        assert_problem(self, resp, 504, "timeout")
        self.assertEqual(resp.headers.get("Preference-Applied"), "timeout=0.5",
                         resp.describe())
        self.assertGreaterEqual(seconds, 0.5)
        self.assertLessEqual(seconds, 0.7)
        self.assertIsNotNone(self.wait_gone("SLEEP(3)", 1.0), "SLEEP(3) still runs")
        self.assert_pool_idle()
        self.assertEqual(self.metric("queryd_db_reconnects_total"), reconnects)

    def test_prefer_timeout_is_capped(self):
        """timeout=5 on a 1 s entry: the entry's deadline, and the header says 1."""
        resp, seconds = timed(self.queryd, "/q/sleep3", {"Prefer": "timeout=5"})
        log(f"Prefer: timeout=5 on a 1 s entry: {resp.status} in {seconds:.3f} s")
        assert_problem(self, resp, 504, "timeout")
        self.assertEqual(resp.headers.get("Preference-Applied"), "timeout=1", resp.describe())
        self.assertGreaterEqual(seconds, 1.0)
        self.assertLessEqual(seconds, 1.2)
        self.assert_pool_idle()

    def test_prefer_timeout_on_fast_answers(self):
        """A deadline not reached: the answer as ever, with Preference-Applied."""
        for path in ("/users/1", "/users?limit=3", "/users/1/peers"):
            with self.subTest(path=path):
                resp = self.get(path, headers={"Prefer": "timeout=2.5"})
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.headers.get("Preference-Applied"), "timeout=2.5",
                                 resp.describe())
        resp = self.get("/users/1")
        self.assertIsNone(resp.headers.get("Preference-Applied"), resp.describe())

    def test_prefer_timeout_bad_values(self):
        for value in ("abc", "-1", "1e999", "0", ""):
            for path in ("/q/sleep3", "/users?limit=1", "/users/1"):
                with self.subTest(value=value, path=path):
                    resp = self.get(path, headers={"Prefer": f"timeout={value}"})
                    doc = assert_problem(self, resp, 400, "invalid-parameter")
                    self.assertIn("timeout", doc.get("detail", ""), resp.describe())
        self.assert_pool_idle()


if __name__ == "__main__":
    harness.main()
