"""queryd over a three-node MariaDB Galera cluster (galera_cluster.py).

- With QUERYD_DATABASE_URL listing the three nodes, reads and writes are
  served, and a write is on every node once it is acknowledged.
- A read carrying Queryd-Position on another node than the one written to
  sees the write although that node has not applied it yet: the read runs
  as a causal read (wsrep_sync_wait), which the node counts in its
  wsrep_causal_reads status. Without the header the same read, on the same
  lagging node, misses the write: the test can tell the two apart.
- A malformed Queryd-Position is 400 problem+json.
- A node cut off from the cluster (gmcast.isolate) refuses statements:
  connections on it move to the next host of the list, and a queryd
  starting then skips it.
- Each node in turn is killed with SIGKILL under concurrent reads and
  writes: no write answered 2xx is lost (each is found on every node
  afterwards), failed writes are 503 or 504 and only around the kill,
  reads fail at most once per reader (a read whose connection died is run
  again on another), service goes on with two nodes, and the killed node
  rejoins (IST) until the cluster is three again.
"""

import json
import subprocess
import threading
import time
import unittest

import harness
from harness import assert_problem
from galera_cluster import GaleraCluster

SETUP_SQL = """
CREATE TABLE marks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tag VARCHAR(60) NOT NULL UNIQUE,
  n INT NOT NULL
) ENGINE=InnoDB;
""" + "".join(f"GRANT INSERT ON queryd.marks TO 'queryd'@'{host}';\n"
              for host in ("localhost", "127.0.0.1", "%"))

CONFIG = harness.demo_config()
CONFIG["resources"] = CONFIG["resources"] + [
    {"path": "/marks", "table": "marks", "key": "id", "methods": ["GET", "POST"]},
]
JSON = {"Content-Type": "application/json"}
POSITION = "Queryd-Position"

# Writes stall while the cluster evicts a killed node (a few seconds, see
# galera_cluster.PROVIDER_OPTIONS): the deadlines leave room for that, so
# what the test sees is the cluster's behaviour, not queryd's timeouts.
QUERYD_ENV = {"acquire_timeout_ms": 15000, "query_timeout_ms": 20000}


def tag_url(tag):
    return f"/marks?tag=eq.{tag}"


class GaleraTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.cluster = GaleraCluster(cls.fixture.dir / "galera")
        # The watchdog and close() kill the cluster before anything else,
        # and close() removes the nodes' directories as for any database.
        cls.fixture.killers.append(lambda: cls.cluster.close(hard=True))
        cls.fixture.databases.extend(cls.cluster.nodes)
        cls.cluster.start(timeout=150)
        first = cls.cluster.nodes[0]
        harness.load_demo(first)
        first.execute(SETUP_SQL, database=harness.DEMO_DB)
        cls.cluster.wait_synced()
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in cls.cluster.nodes)
        cls.url = (f"mysql://{harness.APP_USER}:{harness.APP_PASSWORD}@{hosts}/"
                   f"{harness.DEMO_DB}")
        cls.q = cls.fixture.queryd(cls.url, name="queryd", pool_size=6, config=CONFIG,
                                   **QUERYD_ENV)

    def tearDown(self):
        self.q.check_log(self)

    # ---- helpers ----

    def post(self, q, tag, n=0, timeout=40.0):
        body = json.dumps({"tag": tag, "n": n}).encode()
        return q.request("POST", "/marks", body=body, headers=JSON, timeout=timeout)

    def node_queryd(self, node):
        """A queryd of its own on node alone."""
        return self.fixture.queryd(
            f"mysql://{harness.APP_USER}:{harness.APP_PASSWORD}@127.0.0.1:{node.port}/"
            f"{harness.DEMO_DB}", name=f"queryd-node{node.index}", pool_size=2,
            config=CONFIG, **QUERYD_ENV)

    def tags_on(self, node):
        out = node.execute("SELECT tag FROM marks", database=harness.DEMO_DB,
                           column_names=False)
        return set(out.split())

    def causal_reads(self, node):
        return int(node.status().get("wsrep_causal_reads", "0"))

    # ---- the cluster serves ----

    def test_a_reads_and_writes(self):
        resp = self.q.get("/users?limit=3")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(len(resp.json()["data"]), 3)
        resp = self.post(self.q, "first")
        self.assertEqual(resp.status, 201, resp.describe())
        # Over a host list, a write says where it committed: the cluster's GTID.
        position = resp.headers.get(POSITION)
        self.assertRegex(position or "", r"^100-\d+-\d+$", resp.describe())
        for node in self.cluster.nodes:
            self.assertIn("first", self.tags_on(node), f"node{node.index}")
        resp = self.q.get(tag_url("first"), headers={POSITION: position})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual([r["tag"] for r in resp.json()["data"]], ["first"])
        resp = self.q.get("/users/1", headers={POSITION: "100-1-5"})
        self.assertEqual(resp.status, 200, resp.describe())

    def test_b_malformed_position(self):
        for bad in ("", "x", "1-2", "1-2-3,", "1-2-3;4-5-6", "-1-2-3", "1-2-" + "9" * 21):
            with self.subTest(position=bad):
                resp = self.q.get("/users?limit=1", headers={POSITION: bad})
                assert_problem(self, resp, 400, "invalid-parameter", mentions=POSITION)
                resp = self.q.get("/users/1", headers={POSITION: bad})
                assert_problem(self, resp, 400, "invalid-parameter", mentions=POSITION)
        resp = self.q.get("/users?limit=1", headers={POSITION: " 0-1-2 , 100-1-33 "})
        self.assertEqual(resp.status, 200, resp.describe())

    # ---- read your writes on another node ----

    def test_c_position_read_waits_for_the_cluster(self):
        """Node 3 is paused (FLUSH TABLES WITH READ LOCK pauses its applier)
        while queryd writes through node 1: a read of node 3 without a
        position misses the write, one with the position waits for it."""
        third = self.cluster.nodes[2]
        other = self.node_queryd(third)
        writer = self.node_queryd(self.cluster.nodes[0])
        try:
            before = self.causal_reads(third)
            resp = other.get(tag_url("nothing"), headers={POSITION: "100-1-1"})
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertGreater(self.causal_reads(third), before,
                               "a read with a position did not ask node 3 for a causal read")
            plain = self.causal_reads(third)
            resp = other.get(tag_url("nothing"))
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertEqual(self.causal_reads(third), plain,
                             "a read without a position should not wait for the cluster")

            hold = 4
            lock = subprocess.Popen(
                [*third_client(third), "-e",
                 f"FLUSH TABLES WITH READ LOCK; SELECT SLEEP({hold}); UNLOCK TABLES;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                time.sleep(1.0)  # the lock is taken
                resp = self.post(writer, "ryw")
                self.assertEqual(resp.status, 201, resp.describe())
                stale = other.get(tag_url("ryw"))
                self.assertEqual(stale.status, 200, stale.describe())
                self.assertEqual(stale.json()["data"], [],
                                 "node 3 was meant to lag behind: the test shows nothing")
                started = time.monotonic()
                fresh = other.get(tag_url("ryw"), headers={POSITION: "100-1-1"}, timeout=30)
                waited = time.monotonic() - started
            finally:
                _, err = lock.communicate(timeout=60)
            self.assertEqual(lock.returncode, 0, err)
            self.assertEqual(fresh.status, 200, fresh.describe())
            self.assertEqual([r["tag"] for r in fresh.json()["data"]], ["ryw"],
                             f"a read with a position missed the write (after {waited:.1f} s)")
            other.check_log(self)
            writer.check_log(self)
        finally:
            other.stop()
            writer.stop()

    # ---- a node cut off from the cluster ----

    def test_e_node_cut_off_is_skipped(self):
        """Node 3 isolated from the others leaves the primary component and
        refuses statements (errno 1047): a queryd whose connections are on
        it moves them to the next host of its list, reads answer 200, and a
        queryd starting then skips node 3 from the first connect."""
        third, first = self.cluster.nodes[2], self.cluster.nodes[0]
        url = (f"mysql://{harness.APP_USER}:{harness.APP_PASSWORD}@127.0.0.1:{third.port},"
               f"127.0.0.1:{first.port}/{harness.DEMO_DB}")
        on_third = self.fixture.queryd(url, name="queryd-3-1", pool_size=2, config=CONFIG,
                                       **QUERYD_ENV)
        late = None
        try:
            resp = on_third.get("/users?limit=2")
            self.assertEqual(resp.status, 200, resp.describe())
            third.execute("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'")
            harness.wait_until(lambda: third.status().get("wsrep_ready") == "OFF", 30)
            self.assertEqual(third.status().get("wsrep_ready"), "OFF", self.cluster.diagnostics())
            for path in ("/users?limit=2", "/users/2", "/users?limit=2"):
                resp = on_third.get(path, timeout=30)
                self.assertEqual(resp.status, 200, resp.describe())
            resp = self.post(on_third, "while-cut-off")
            self.assertEqual(resp.status, 201, resp.describe())
            late = self.fixture.queryd(url, name="queryd-late", pool_size=2, config=CONFIG,
                                       **QUERYD_ENV)
            resp = late.get("/users/3")
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertIn("while-cut-off", self.tags_on(first))
            on_third.check_log(self)
            late.check_log(self)
        finally:
            third.execute("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'")
            on_third.stop()
            if late is not None:
                late.stop()
        self.cluster.wait_synced(timeout=180)
        self.assertIn("while-cut-off", self.tags_on(third))

    # ---- nodes die under load ----

    def test_f_kill_each_node_under_load(self):
        for victim in range(len(self.cluster.nodes)):
            with self.subTest(node=victim + 1):
                self.kill_under_load(victim)

    def kill_under_load(self, victim):
        cluster = self.cluster
        stop = threading.Event()
        lock = threading.Lock()
        writes = []   # (tag, status, started, ended)
        reads = []    # (reader, status, started, ended)
        prefix = f"k{victim + 1}-{int(time.time())}"

        def writer(w):
            i = 0
            while not stop.is_set() and i < 2000:
                tag = f"{prefix}-{w}-{i}"
                i += 1
                started = time.monotonic()
                try:
                    status = self.post(self.q, tag, n=i).status
                except OSError:
                    status = None
                with lock:
                    writes.append((tag, status, started, time.monotonic()))
                time.sleep(0.01)

        def reader(r):
            i = 0
            while not stop.is_set() and i < 2000:
                i += 1
                started = time.monotonic()
                # Collections and item lookups (coalesced) both run again
                # when their connection dies under them.
                path = "/users?limit=5" if (r + i) % 2 else f"/users/{1 + i % 5}"
                try:
                    status = self.q.get(path, timeout=40).status
                except OSError:
                    status = None
                with lock:
                    reads.append((r, status, started, time.monotonic()))
                time.sleep(0.01)

        threads = ([threading.Thread(target=writer, args=(w,), daemon=True) for w in range(2)] +
                   [threading.Thread(target=reader, args=(r,), daemon=True) for r in range(3)])
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            killed_at = time.monotonic()
            cluster.kill(victim)
            time.sleep(8.0)  # the survivors evict it and go on
            resumed_at = time.monotonic()
            time.sleep(2.0)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "a load thread hangs")

        # The node comes back whatever the checks below find, so that the
        # next round starts from three nodes.
        cluster.restart(victim)
        cluster.wait_synced(timeout=180)

        ok_writes = [w for w in writes if w[1] is not None and 200 <= w[1] < 300]
        failed_writes = [w for w in writes if w not in ok_writes]
        failed_reads = [r for r in reads if r[1] != 200]
        detail = (f"{len(writes)} writes ({len(failed_writes)} failed: "
                  f"{sorted(set(w[1] for w in failed_writes), key=str)}), "
                  f"{len(reads)} reads ({len(failed_reads)} failed: "
                  f"{sorted(set(r[1] for r in failed_reads), key=str)})")
        print(f"\nnode{victim + 1} killed: {detail}", flush=True)

        # Failed writes are refused (503) or timed out (504), and only
        # those that were in flight when the node died or waited for the
        # cluster to evict it: none once the survivors go on.
        for tag, status, started, ended in failed_writes:
            self.assertIn(status, (503, 504), f"write {tag}: {status}; {detail}")
            self.assertLess(started, resumed_at, f"write {tag} failed late; {detail}")
            self.assertGreater(ended, killed_at, f"write {tag} failed before the kill; {detail}")
        # A read whose connection died is run again: at most one failure
        # per reader, and none after the survivors go on.
        self.assertLessEqual(len(failed_reads), 3, detail)
        for _, status, started, _ in failed_reads:
            self.assertLess(started, resumed_at, f"read failed late ({status}); {detail}")
        # Service went on with two nodes.
        self.assertTrue(any(started > resumed_at for _, _, started, _ in ok_writes),
                        f"no write succeeded after the kill; {detail}")
        self.assertTrue(any(s == 200 and started > resumed_at for _, s, started, _ in reads),
                        f"no read succeeded after the kill; {detail}")

        survivors = [n for i, n in enumerate(cluster.nodes) if i != victim]
        acknowledged = {w[0] for w in ok_writes}
        for node in survivors:
            missing = acknowledged - self.tags_on(node)
            self.assertEqual(missing, set(), f"node{node.index} lost acknowledged writes")

        missing = acknowledged - self.tags_on(cluster.nodes[victim])
        self.assertEqual(missing, set(), f"node{victim + 1} rejoined without writes")
        resp = self.post(self.q, f"{prefix}-after")
        self.assertEqual(resp.status, 201, resp.describe())


def third_client(node):
    """The mariadb client command line for node's admin account."""
    from private_mariadb import _find_binary
    return [_find_binary(["mariadb", "mysql"]), "--no-defaults", "--protocol=socket",
            "--socket=" + node.socket, "--user=" + node.admin_user]


if __name__ == "__main__":
    harness.main()
