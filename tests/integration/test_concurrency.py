"""Many simultaneous clients through a small connection pool.

500 requests, each on its own connection and released together by a barrier,
go through QUERYD_POOL_SIZE=4; every answer must be the right one for its
request, and the pool must be back to all idle afterwards.  A second server
with a tiny queue checks that overload answers 503 (never hangs or errs
otherwise), and keep-alive clients in parallel check that responses are not
mixed up between connections.
"""

import random
import threading
import time

import harness
from harness import assert_json_ok, assert_problem

REQUESTS = 500
SEED = 20240501


class ConcurrencyTests(harness.DemoServiceTestCase):
    # Generous so that a slow sanitizer build is not mistaken for a wrong
    # answer: this file is about correctness under contention, not latency.
    queryd_env = {"acquire_timeout_ms": 60000}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        page = cls.queryd.get("/users?limit=10000", timeout=60).json()
        cls.rows = {row["id"]: row for row in page["data"]}

    def setUp(self):
        super().setUp()
        self.maxDiff = None

    def check_answer(self, job, result):
        method, path = job
        if isinstance(result, Exception):
            self.fail(f"{method} {path}: {result!r}")
        self.assertEqual(result.status, 200, f"{path}: {result.describe()}")
        self.assertEqual(result.content_type, "application/json", path)
        body = result.json()
        if path.startswith("/users/"):
            user_id = int(path.rsplit("/", 1)[1])
            self.assertEqual(body, self.rows[user_id], f"{path} got another row")
        else:
            after = int(path.rsplit("after=", 1)[1])
            expected_ids = list(range(after + 1, min(after + 100, harness.DEMO_ROW_COUNT) + 1))
            self.assertEqual([row["id"] for row in body["data"]], expected_ids, path)
            for row in body["data"]:
                self.assertEqual(row, self.rows[row["id"]], path)

    def test_baseline(self):
        self.assertEqual(len(self.rows), harness.DEMO_ROW_COUNT)
        self.assertEqual(self.rows[1], harness.USER_1)
        self.assertEqual(self.rows[2], harness.USER_2)

    def test_concurrent_mix_then_pool_idle(self):
        rng = random.Random(SEED)
        jobs = [("GET", f"/users/{rng.randint(1, harness.DEMO_ROW_COUNT)}")
                for _ in range(REQUESTS - 50)]
        jobs += [("GET", f"/users?limit=100&after={rng.randint(0, 2950)}") for _ in range(50)]
        rng.shuffle(jobs)
        start = time.monotonic()
        results = harness.fire_concurrently(self.port, jobs)
        elapsed = time.monotonic() - start
        failures = []
        for job, result in results:
            try:
                self.check_answer(job, result)
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0][:300])
        self.assertEqual(failures, [], f"{len(failures)} of {len(jobs)} requests wrong "
                         f"(seed {SEED}, {elapsed:.1f} s)")
        ids = {r.headers.get("X-Request-Id") for _, r in results}
        self.assertEqual(len(ids), len(jobs), "X-Request-Id values repeat")
        # Every connection the mix borrowed is back.
        resp = self.queryd.wait_pool_idle(self.pool_size, timeout=15)
        body = assert_json_ok(self, resp)
        self.assertEqual(body["pool"], {"size": self.pool_size, "idle": self.pool_size,
                                        "busy": 0, "waiting": 0})

    def test_parallel_keep_alive_clients(self):
        # 20 connections x 25 requests, interleaved: each answer must belong
        # to the request sent on that connection.
        errors = []

        def client(seed):
            rng = random.Random(seed)
            try:
                with harness.KeepAliveClient(self.port, timeout=60) as c:
                    for _ in range(25):
                        user_id = rng.randint(1, harness.DEMO_ROW_COUNT)
                        resp = c.request("GET", f"/users/{user_id}")
                        if resp.status != 200 or resp.json() != self.rows[user_id]:
                            errors.append(f"/users/{user_id}: {resp.describe()[:200]}")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

        threads = [threading.Thread(target=client, args=(SEED + i,), daemon=True)
                   for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads), "keep-alive clients hung")
        self.assertEqual(errors, [])
        resp = self.queryd.wait_pool_idle(self.pool_size, timeout=15)
        self.assertEqual(resp.json()["pool"]["idle"], self.pool_size, resp.describe())

    def test_burst_against_a_small_queue(self):
        # One worker, two connections, one waiting slot and 100 simultaneous
        # full-table requests: each answer is either the table or a proper
        # 503 (how many of each depends on timing), and nothing is left
        # borrowed or waiting afterwards.
        q = self.fixture.queryd(self.database_url, name="queryd-burst", workers=1,
                                pool_size=2, queue_limit=1, acquire_timeout_ms=60000)
        try:
            results = harness.fire_concurrently(q.port, [("GET", "/users?limit=10000")] * 100)
            statuses = {}
            for job, result in results:
                if isinstance(result, Exception):
                    self.fail(f"request failed: {result!r}")
                statuses[result.status] = statuses.get(result.status, 0) + 1
                if result.status == 200:
                    self.assertEqual(len(result.json()["data"]), harness.DEMO_ROW_COUNT)
                else:
                    assert_problem(self, result, 503, "overloaded")
            self.assertEqual(set(statuses) - {200, 503}, set(), statuses)
            self.assertGreater(statuses.get(200, 0), 0, f"no request succeeded: {statuses}")
            resp = q.wait_pool_idle(2, timeout=10)
            self.assertEqual(resp.json()["pool"], {"size": 2, "idle": 2, "busy": 0,
                                                   "waiting": 0}, resp.describe())
            self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        finally:
            q.stop_and_check(self)

    def test_queue_limit_is_exact(self):
        # With both connections stuck behind a table lock, exactly
        # QUERYD_QUEUE_LIMIT requests may wait; every further one is refused
        # at once with 503 overloaded, and the waiting ones complete later.
        # Coalescing is off so that each connection serves one request
        # (test_coalescing.py counts coalesced lookups against the limit).
        q = self.fixture.queryd(self.database_url, name="queryd-queue", workers=1,
                                pool_size=2, queue_limit=3, acquire_timeout_ms=60000,
                                batch_lookups=1)
        try:
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, 4)
            try:
                start = time.monotonic()
                refused = []
                results = harness.fire_concurrently(
                    q.port, [("GET", f"/users/{i + 1}") for i in range(12)])
                elapsed = time.monotonic() - start
            finally:
                lock.join(60)
            for (method, path), result in results:
                self.assertIsInstance(result, harness.Response, f"{path}: {result!r}")
                if result.status == 503:
                    assert_problem(self, result, 503, "overloaded")
                    refused.append(path)
                else:
                    self.assertEqual(result.status, 200, result.describe())
                    self.assertEqual(result.json(), self.rows[int(path.rsplit("/", 1)[1])])
            self.assertEqual(len(refused), 12 - 2 - 3,
                             f"2 connections + 3 waiting slots, 12 requests: refused {refused}")
            self.assertGreater(elapsed, 2.0, "the waiting requests did not wait for the lock")
            resp = q.wait_pool_idle(2, timeout=10)
            self.assertEqual(resp.json()["pool"], {"size": 2, "idle": 2, "busy": 0,
                                                   "waiting": 0}, resp.describe())
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
