"""Clients that go away early, and queries that outlive their deadline.

Clients ask for the whole table and hang up after a few KB, or right after
sending the request, or with a reset; others give up while waiting for a
pooled connection that a table lock holds.  A query blocked past
QUERYD_QUERY_TIMEOUT_MS must answer 504 and its connection must come back
to the pool usable.  Throughout, the server keeps serving and ends with every
pooled connection idle and a clean exit.
"""

import socket
import struct
import threading
import time

import harness
from harness import assert_json_ok, assert_problem

FULL_TABLE = b"GET /users?limit=10000 HTTP/1.1\r\nHost: localhost\r\n\r\n"


def pool_gauges(q):
    """(busy, waiting) from /metrics, which answers without a connection."""
    resp = q.get("/metrics")
    values = {}
    for line in resp.body.decode("utf-8").splitlines():
        name, _, value = line.partition(" ")
        values[name] = value
    return int(values["queryd_db_pool_busy"]), int(values["queryd_db_pool_waiting"])


class DisconnectTests(harness.DemoServiceTestCase):
    queryd_env = {"query_timeout_ms": 2000}

    def assert_serving(self, q=None):
        q = q or self.queryd
        self.assertTrue(q.running(), f"{q.name} exited")
        self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        page = assert_json_ok(self, q.get("/users?limit=10000", timeout=60))
        self.assertEqual(len(page["data"]), harness.DEMO_ROW_COUNT)

    def assert_pool_idle(self, q=None, size=None, timeout=10.0):
        q = q or self.queryd
        size = size or self.pool_size
        resp = q.wait_pool_idle(size, timeout=timeout)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()["pool"], {"size": size, "idle": size, "busy": 0,
                                               "waiting": 0}, resp.describe())

    def test_close_after_a_few_kb(self):
        for i in range(25):
            got = harness.hang_up_after(self.port, FULL_TABLE, read_bytes=2048 + 512 * i,
                                reset=(i % 3 == 0))
            self.assertGreater(got, 0, f"round {i}: no response bytes before hanging up")
        self.assert_serving()
        self.assert_pool_idle()

    def test_close_right_after_sending(self):
        for i in range(25):
            harness.hang_up_after(self.port, FULL_TABLE, read_bytes=0, reset=(i % 2 == 0))
        self.assert_serving()
        self.assert_pool_idle()

    def test_many_hang_ups_at_once(self):
        threads = [threading.Thread(target=harness.hang_up_after, daemon=True,
                                    args=(self.port, FULL_TABLE, 1024 * (i % 4), i % 2 == 1))
                   for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads), "clients hung")
        self.assert_serving()
        self.assert_pool_idle()

    def test_close_half_way_through_request(self):
        for i in range(10):
            harness.hang_up_after(self.port, FULL_TABLE[:10 + i * 3], read_bytes=0, reset=(i % 2 == 0))
        self.assert_serving()
        self.assert_pool_idle()

    def hold_table_lock(self, seconds):
        return harness.lock_users_table(self.db, harness.DEMO_DB, seconds)

    def test_query_timeout_gives_504_and_frees_the_connection(self):
        # The lock outlasts every step below; it is released once they are done.
        lock = self.hold_table_lock(60)
        try:
            start = time.monotonic()
            resp = self.get("/users/1", timeout=30)
            elapsed = time.monotonic() - start
            assert_problem(self, resp, 504, "timeout")
            # 2 s, or 3 s when queryd's own deadline has to step in.
            self.assertLess(elapsed, 8.0, "504 came long after the 2 s deadline")
            # The blocked connection was cancelled: the pool is whole again
            # while the lock is still held (readyz does not touch users).
            self.assert_pool_idle(timeout=10)
            self.assertTrue(lock.is_alive(), "the lock ended before the pool was checked")
        finally:
            lock.release()
        self.assert_serving()
        self.assert_pool_idle()

    def give_up_waiting(self, q, queued):
        """12 lookups queue behind the locked table; every client hangs up.

        queued(busy, waiting) says when they are all in: the pool gauges of
        /metrics, which needs no connection, are polled until it holds.
        """
        lock = self.hold_table_lock(60)
        try:
            socks = []
            for i in range(12):
                s = socket.create_connection(("127.0.0.1", q.port), timeout=10)
                s.sendall(b"GET /users/%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % (i + 1))
                socks.append(s)
            harness.wait_until(lambda: queued(*pool_gauges(q)), 15)
            # /readyz itself needs a connection, so it may count as one
            # more waiter (and answer 503 after 2 s: the pool is full).
            pool = q.pool() or {}
            for i, s in enumerate(socks):
                if i % 2 == 0:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            # The lock ends once the waiters have given up, not before.
            harness.wait_until(lambda: pool_gauges(q)[1] == 0, 15)
        finally:
            lock.release()
        self.assert_pool_idle(q, timeout=15)
        self.assert_serving(q)
        return pool

    def test_waiters_that_give_up(self):
        # All four connections block on the lock, more requests queue behind
        # them, and every one of those clients hangs up while waiting. Each
        # lookup has a statement of its own here, so all four are taken.
        q = self.fixture.queryd(self.database_url, name="queryd-waiters", acquire_timeout_ms=20000,
                                batch_lookups=1)
        try:
            pool = self.give_up_waiting(
                q, lambda busy, waiting: busy == self.pool_size and waiting >= 12 - self.pool_size)
            self.assertEqual(pool.get("busy"), self.pool_size, pool)
            self.assertGreaterEqual(pool.get("waiting", 0), 12 - self.pool_size, pool)
        finally:
            q.stop_and_check(self)

    def test_coalesced_waiters_that_give_up(self):
        # The same with lookups coalesced: the clients of statements that
        # run (blocked) and of batches still waiting all hang up.
        q = self.fixture.queryd(self.database_url, name="queryd-batches", acquire_timeout_ms=20000)
        try:
            # How the lookups share statements depends on when each arrives:
            # they are in once the gauges stop moving.
            seen = []

            def settled(busy, waiting):
                seen.append((busy, waiting))
                return busy >= 1 and len(seen) >= 2 and seen[-1] == seen[-2]
            pool = self.give_up_waiting(q, settled)
            self.assertGreaterEqual(pool.get("busy", 0), 1, pool)
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
