"""Point lookups coalesced into one statement.

GET /users/{id} requests that wait for a connection together share one
SELECT ... WHERE id IN (...).  A table lock holds the only pooled connection
so that lookups pile up deterministically; then every request must get its
own row in its own format (or 404), the statements counted in /metrics must
be far fewer than the lookups, and a failure of the shared statement must
reach every lookup.  Lookups that stop waiting (hang-up, acquire timeout)
leave the batch without disturbing the others, and waiting lookups count
against QUERYD_QUEUE_LIMIT one by one.
"""

import socket
import threading
import time

import harness
from harness import assert_json_ok, assert_problem

# The lookups of a test must all arrive while the lock holds them up, and
# then wait for it to end: they take well under a second to arrive, even on
# a loaded machine.
LOCK_SECONDS = 3
# A lock that the test ends itself once its steps are done: longer than any
# of those steps may take.
HELD_LOCK_SECONDS = 60
FORMATS = [None, "application/x-ndjson", "text/csv"]


# The pool gauges of /metrics: /readyz would wait for the connection itself.
def waiting(q):
    return harness.metric(q, "queryd_db_pool_waiting")


def busy(q):
    return harness.metric(q, "queryd_db_pool_busy")


def lookup_counts(q):
    return harness.metric(q, "queryd_lookup_statements_total"), harness.metric(q, "queryd_lookups_total")


def job(user_id, accept=None):
    return ("GET", f"/users/{user_id}", {"Accept": accept} if accept else {})


class CoalescingTests(harness.DemoServiceTestCase):
    # One worker and one connection: whatever waits behind the lock waits
    # in one batch.
    workers = 1
    pool_size = 1
    queryd_env = {"acquire_timeout_ms": 60000}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        page = cls.queryd.get("/users?limit=10000", timeout=60).json()
        cls.rows = {row["id"]: row for row in page["data"]}

    def assert_pool_idle(self, q):
        resp = q.wait_pool_idle(1, timeout=10)
        self.assertEqual(resp.json()["pool"], {"size": 1, "idle": 1, "busy": 0, "waiting": 0},
                         resp.describe())

    def wait_busy(self, q):
        """Wait until the connection is taken by a statement the lock blocks."""
        self.assertTrue(harness.wait_until(lambda: waiting(q) == 0 and busy(q) == 1, 10),
                        "the connection was never taken")

    def test_each_lookup_gets_its_row_in_its_format(self):
        ids = list(range(1, 31)) + [5, 5, 17, 30]  # duplicates share one row
        missing = [harness.DEMO_ROW_COUNT + 1, 999999, 0]
        jobs = [job(i, FORMATS[n % 3]) for n, i in enumerate(ids + missing)]
        # The answers each request would get alone, one at a time.
        expected = {}
        for method, path, headers in jobs:
            resp = self.queryd.get(path, headers=headers)
            expected[(path, headers.get("Accept"))] = (resp.status, resp.body)
        statements, lookups = lookup_counts(self.queryd)

        lock = harness.lock_users_table(self.db, harness.DEMO_DB, LOCK_SECONDS)
        try:
            results = harness.fire_concurrently(self.port, jobs)
        finally:
            lock.join(60)

        for (method, path, headers), resp in results:
            self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
            accept = headers.get("Accept")
            want_status, want_body = expected[(path, accept)]
            self.assertEqual((resp.status, accept), (want_status, accept), resp.describe())
            if resp.status == 404:
                assert_problem(self, resp, 404, "not-found")
                continue
            self.assertEqual(resp.body, want_body, f"{path} as {accept}")
            if accept is None:
                self.assertEqual(resp.json(), self.rows[int(path.rsplit("/", 1)[1])], path)
        new_statements, new_lookups = lookup_counts(self.queryd)
        self.assertEqual(new_lookups - lookups, len(jobs))
        # The first statement took the connection; the rest waited together.
        self.assertLessEqual(new_statements - statements, 3,
                             f"{len(jobs)} lookups took {new_statements - statements} statements")
        self.assert_pool_idle(self.queryd)

    def test_a_lookup_that_hangs_up_leaves_its_batch(self):
        statements, lookups = lookup_counts(self.queryd)
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
        results = []
        try:
            first = threading.Thread(target=lambda: results.append(
                self.queryd.get("/users/1", timeout=HELD_LOCK_SECONDS + 30)))
            first.start()
            self.wait_busy(self.queryd)
            jobs = [job(i) for i in range(2, 12)]
            rest = threading.Thread(target=lambda: results.extend(
                r for _, r in harness.fire_concurrently(self.port, jobs,
                                                        timeout=HELD_LOCK_SECONDS + 30)))
            rest.start()
            self.assertTrue(harness.wait_until(lambda: waiting(self.queryd) == len(jobs), 10),
                            f"the lookups are not all waiting: {waiting(self.queryd)}")
            # One more joins the waiting batch, then hangs up.
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as leaver:
                leaver.sendall(b"GET /users/12 HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(
                    harness.wait_until(lambda: waiting(self.queryd) == len(jobs) + 1, 10),
                    f"the last lookup is not waiting: {waiting(self.queryd)}")
            self.assertTrue(harness.wait_until(lambda: waiting(self.queryd) == len(jobs), 10),
                            f"the hang-up did not leave the batch: {waiting(self.queryd)}")
        finally:
            lock.release()
        first.join(60)
        rest.join(60)
        self.assertEqual(len(results), 11)
        for resp in results:
            self.assertIsInstance(resp, harness.Response, repr(resp))
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertEqual(resp.json(), self.rows[resp.json()["id"]])
        new_statements, new_lookups = lookup_counts(self.queryd)
        self.assertEqual(new_lookups - lookups, 11, "the hung-up lookup was still looked up")
        self.assertEqual(new_statements - statements, 2)
        self.assert_pool_idle(self.queryd)

    def test_waiting_lookups_count_against_the_queue_limit(self):
        q = self.fixture.queryd(self.database_url, name="queryd-queue", workers=1,
                                pool_size=1, queue_limit=3, acquire_timeout_ms=60000)
        try:
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, LOCK_SECONDS)
            try:
                first = threading.Thread(target=lambda: q.get("/users/1"))
                first.start()
                self.wait_busy(q)
                results = harness.fire_concurrently(q.port, [job(i) for i in range(2, 12)])
            finally:
                lock.join(60)
            first.join(60)
            refused = 0
            for (method, path, headers), resp in results:
                self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
                if resp.status == 503:
                    assert_problem(self, resp, 503, "overloaded")
                    refused += 1
                else:
                    self.assertEqual(resp.status, 200, resp.describe())
                    self.assertEqual(resp.json(), self.rows[int(path.rsplit("/", 1)[1])])
            self.assertEqual(refused, 10 - 3, "3 lookups may wait, whatever batch they are in")
            self.assert_pool_idle(q)
        finally:
            q.stop_and_check(self)

    def test_a_failed_statement_fails_every_lookup(self):
        q = self.fixture.queryd(self.database_url, name="queryd-timeout", workers=1,
                                pool_size=1, query_timeout_ms=500, acquire_timeout_ms=60000)
        try:
            # Every batch must time out while the lock holds it up.
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
            try:
                results = harness.fire_concurrently(q.port, [job(i) for i in range(1, 11)])
            finally:
                lock.release()
            for (method, path, headers), resp in results:
                self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
                problem = assert_problem(self, resp, 504, "timeout")
                self.assertEqual(problem.get("errno"), 1969, resp.describe())
            self.assert_pool_idle(q)
            self.assertEqual(assert_json_ok(self, q.get("/users/7")), self.rows[7])
        finally:
            q.stop_and_check(self)

    def test_lookups_past_the_acquire_timeout_get_503(self):
        q = self.fixture.queryd(self.database_url, name="queryd-acquire", workers=1,
                                pool_size=1, acquire_timeout_ms=500)
        try:
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
            try:
                first = []
                t = threading.Thread(target=lambda: first.append(
                    q.get("/users/1", timeout=HELD_LOCK_SECONDS + 30)))
                t.start()
                self.wait_busy(q)
                start = time.monotonic()
                results = harness.fire_concurrently(q.port, [job(i) for i in range(2, 8)])
                waited = time.monotonic() - start
            finally:
                lock.release()
            t.join(60)
            self.assertEqual(assert_json_ok(self, first[0]), self.rows[1])
            for (method, path, headers), resp in results:
                self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
                assert_problem(self, resp, 503, "overloaded")
            self.assertLess(waited, 5.0, "the lookups waited for the lock, not 500 ms")
            self.assert_pool_idle(q)
            self.assertEqual(assert_json_ok(self, q.get("/users/3")), self.rows[3])
        finally:
            q.stop_and_check(self)

    def test_coalescing_off(self):
        q = self.fixture.queryd(self.database_url, name="queryd-alone", workers=1,
                                pool_size=1, batch_lookups=1)
        try:
            for i in (1, 2, harness.DEMO_ROW_COUNT + 1):
                resp = q.get(f"/users/{i}")
                if i > harness.DEMO_ROW_COUNT:
                    assert_problem(self, resp, 404, "not-found")
                else:
                    self.assertEqual(assert_json_ok(self, resp), self.rows[i])
            self.assertEqual(lookup_counts(q), (0, 0))
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
