"""The database goes away under a running queryd and comes back.

While MariaDB is stopped (gracefully, by SIGKILL, or frozen with SIGSTOP)
every data request and /readyz must answer 503 problem+json with Retry-After
quickly instead of hanging, /healthz stays 200, and once the same server is
back on the same port queryd serves again without being restarted.
"""

import os
import signal
import threading
import time
import unittest

import harness
from harness import assert_json_ok, assert_problem


class DatabaseRestartTests(harness.DemoServiceTestCase):
    queryd_env = {"acquire_timeout_ms": 2000, "query_timeout_ms": 2000}

    def setUp(self):
        super().setUp()
        if not self.db.is_running():
            self.db.start(timeout=120)
        self.assert_recovers(within=20)

    def timed_get(self, path, limit):
        """GET path; fail if the answer takes longer than limit seconds."""
        start = time.monotonic()
        try:
            resp = self.get(path, timeout=limit + 5)
        except OSError as exc:
            self.fail(f"{path}: no answer ({exc!r})")
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, limit, f"{path} took {elapsed:.1f} s: {resp.describe()}")
        return resp

    # Every answer here is bounded by queryd's deadlines (2 s to wait for a
    # connection, 2 s for a statement plus its 1 s grace): anything longer
    # than twice that hangs.
    def assert_unavailable(self, rounds=5, limit=6.0):
        for i in range(rounds):
            for path in ("/users/1", "/users?limit=5", "/readyz"):
                with self.subTest(round=i, path=path):
                    resp = self.timed_get(path, limit)
                    doc = assert_problem(self, resp, 503, "database-unavailable")
                    if path == "/readyz":
                        self.assertIsInstance(doc.get("pool"), dict, resp.describe())
                        self.assertEqual(doc["pool"].get("size"), self.pool_size,
                                         resp.describe())
            with self.subTest(round=i, path="/healthz"):
                resp = self.timed_get("/healthz", limit)
                self.assertEqual(assert_json_ok(self, resp), {"status": "ok"})

    def concurrent_statuses(self, count):
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.get("/users/1", timeout=10).status), daemon=True) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return results

    def assert_recovers(self, within):
        """Within `within` seconds every worker serves again, and stays so.

        Recovery is judged on rounds of 12 concurrent requests (they spread
        over all workers and pooled connections): once one round is all 200,
        the next rounds must be too.
        """
        start = time.monotonic()
        recovered = harness.wait_until(
            lambda: self.concurrent_statuses(12) == [200] * 12, within, interval=0.2)
        elapsed = time.monotonic() - start
        self.assertTrue(recovered, f"not every request 200 within {within} s of the database "
                        f"coming back: {self.get('/users/1', timeout=5).describe()}")
        statuses = self.concurrent_statuses(12) + self.concurrent_statuses(12)
        self.assertEqual(statuses, [200] * 24,
                         f"after recovering ({elapsed:.1f} s) some requests failed again")
        self.assertEqual(assert_json_ok(self, self.get("/users/1")), harness.USER_1)
        resp = self.queryd.wait_pool_idle(self.pool_size, timeout=15)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()["pool"], {"size": self.pool_size, "idle": self.pool_size,
                                               "busy": 0, "waiting": 0})

    def test_graceful_stop_and_start(self):
        port = self.db.port
        self.db.stop()
        self.assert_unavailable()
        self.db.start(timeout=120)
        self.assertEqual(self.db.port, port)
        self.assert_recovers(within=20)

    def test_kill_9_and_start(self):
        self.db.kill()
        self.assert_unavailable()
        self.db.start(timeout=120)
        self.assert_recovers(within=20)

    def test_frozen_database(self):
        # A stopped (SIGSTOP) server still accepts TCP connections in the
        # kernel but never answers: the deadlines must cut the requests off.
        pid = self.db.pid
        self.assertTrue(pid, "no pid for the private MariaDB")
        os.kill(pid, signal.SIGSTOP)
        try:
            for path in ("/readyz", "/users/1", "/users?limit=5"):
                with self.subTest(path=path):
                    resp = self.timed_get(path, 8.0)
                    self.assertIn(resp.status, (503, 504), resp.describe())
                    if path == "/readyz":
                        slug = "database-unavailable"
                    elif resp.status == 504:
                        slug = "timeout"  # its statement hung
                    elif resp.json().get("type", "").endswith(":overloaded"):
                        # Every connection hangs on a frozen statement: the
                        # request waited its acquire timeout for one.
                        slug = "overloaded"
                    else:
                        slug = "database-unavailable"
                    assert_problem(self, resp, resp.status, slug)
            self.assertEqual(self.timed_get("/healthz", 3.0).status, 200)
        finally:
            os.kill(pid, signal.SIGCONT)
        self.assert_recovers(within=20)

    def test_outage_while_requests_in_flight(self):
        # Requests keep arriving while the server is killed and restarted;
        # each must get an answer (200 or 503/504), none may hang: the
        # deadlines end any request within 5 s, twice that is a hang.
        stop = threading.Event()
        answers = []

        def client():
            while not stop.is_set():
                start = time.monotonic()
                try:
                    resp = self.get("/users?limit=50", timeout=20)
                    answers.append((resp.status, time.monotonic() - start))
                except OSError as exc:
                    answers.append((repr(exc), time.monotonic() - start))

        threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            self.db.kill()
            time.sleep(1.5)
            self.db.start(timeout=120)
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(40)
        bad = [a for a in answers if a[0] not in (200, 503, 504) or a[1] > 10.0]
        self.assertEqual(bad, [], f"{len(bad)} of {len(answers)} answers wrong or slow")
        self.assert_recovers(within=20)


class MultiHostTests(unittest.TestCase):
    """QUERYD_DATABASE_URL lists two servers: when one fails, connections move on."""

    SECOND_NAME = "Ada on the second host"

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.first = cls.fixture.start_mariadb(name="first")
        cls.second = cls.fixture.start_mariadb(name="second")
        for db in (cls.first, cls.second):
            harness.load_demo(db)
        cls.second.execute(f"UPDATE users SET name = '{cls.SECOND_NAME}' WHERE id = 1",
                           harness.DEMO_DB)
        url = (f"mysql://{harness.APP_USER}:{harness.APP_PASSWORD}@127.0.0.1:{cls.first.port},"
               f"127.0.0.1:{cls.second.port}/{harness.DEMO_DB}")
        cls.queryd = cls.fixture.queryd(url, workers=2, pool_size=4, acquire_timeout_ms=2000,
                                        query_timeout_ms=2000)

    def names_seen(self, rounds=3):
        """The names of user 1 in rounds of 8 concurrent answers (None: not a 200)."""
        names = []
        for _ in range(rounds):
            answers = []
            threads = [threading.Thread(target=lambda: answers.append(
                self.queryd.get("/users/1", timeout=10)), daemon=True) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            names += [r.json()["name"] if r.status == 200 else None for r in answers]
        return names

    def assert_served_by(self, name, within):
        served = harness.wait_until(lambda: set(self.names_seen(1)) == {name}, within,
                                    interval=0.2)
        self.assertTrue(served, f"not every answer came from the server of {name!r} within "
                        f"{within} s: {self.names_seen(1)}")
        self.assertEqual(set(self.names_seen()), {name})

    def test_connections_move_to_the_next_host_and_back(self):
        self.assert_served_by(harness.USER_1["name"], within=15)
        self.first.kill()
        self.assert_served_by(self.SECOND_NAME, within=15)
        self.first.start(timeout=120)
        self.second.kill()
        self.assert_served_by(harness.USER_1["name"], within=15)
        resp = self.queryd.wait_pool_idle(4, timeout=15)
        self.assertEqual(resp.json()["pool"]["idle"], 4, resp.describe())
        self.queryd.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
