"""SIGHUP reloads the configuration file.

A good new file takes over (its new routes answer, removed ones are 404,
changed ones behave as changed) and the log says `configuration reloaded
from <file>: N resources, M queries`.  A bad one (syntax, shape, schema, a
missing file) is rejected with `configuration reload rejected, the previous
one stays: <message>` and the old routes keep serving.  A request in flight
during a reload finishes on the configuration it started with.  Under load
(several keep-alive clients) with eight SIGHUPs, good and bad, not one
request fails.
"""

import copy
import http.client
import os
import threading
import time

import harness
from harness import USER_1, assert_json_ok, assert_problem, assert_same_json

OTHER_ROWS = [(1, "one"), (2, "two"), (3, "three")]
SETUP_SQL = ("CREATE TABLE other (id INT NOT NULL PRIMARY KEY, label VARCHAR(20) NOT NULL);\n"
             "INSERT INTO other VALUES " + ", ".join(f"({i}, '{l}')" for i, l in OTHER_ROWS)
             + ";")

A = harness.demo_config()
B = copy.deepcopy(A)
B["resources"].append({"path": "/other", "table": "other", "key": "id"})
B["queries"].append({"path": "/other-count", "sql": "SELECT COUNT(*) AS n FROM other"})
# B2: the same routes as B, some of them changed in ways the load test does not look at.
B2 = copy.deepcopy(B)
B2["resources"][0]["max_limit"] = 50
B2["resources"][0]["default_limit"] = 20
B2["queries"].append({"path": "/noop", "sql": "SELECT 1 AS one"})
ONLY_OTHER = {"resources": [{"path": "/other", "table": "other", "key": "id"}]}

BAD = {
    "syntax": '{"resources": [\n  {"path": "/users" "table": "users", "key": "id"}]}\n',
    "unknown-key": dict(B, extra=1),
    "unknown-table": {"resources": B["resources"] + [{"path": "/gone", "table": "gone",
                                                      "key": "id"}]},
    "bad-sql": dict(B, queries=B["queries"] + [{"path": "/bad", "sql": "SELEC 1"}]),
    "duplicate": dict(B, resources=B["resources"] + [B["resources"][1]]),
    "healthz": {"resources": [{"path": "/healthz", "table": "other", "key": "id"}]},
}


class ReloadTests(harness.DemoServiceTestCase):
    setup_sql = SETUP_SQL
    queryd_config = A
    queryd_env = {"query_timeout_ms": 30000, "acquire_timeout_ms": 30000}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config_path = cls.queryd.env["QUERYD_CONFIG"]

    def setUp(self):
        super().setUp()
        # Every test starts from the configuration queryd started with,
        # whatever the test before it left installed (or removed).
        self.install(A)

    def install(self, doc, expect="configuration reloaded"):
        harness.write_config(self.config_path, doc)
        return self.queryd.reload(expect=expect)

    def assert_b_serves(self):
        page = assert_json_ok(self, self.get("/other"))
        assert_same_json(self, page["data"], [{"id": i, "label": l} for i, l in OTHER_ROWS])
        assert_same_json(self, assert_json_ok(self, self.get("/other-count")),
                         {"data": [{"n": 3}], "next": None})
        assert_same_json(self, assert_json_ok(self, self.get("/users/1")), USER_1)

    # ------------------------------------------------------------------ tests

    def test_new_entries_answer(self):
        line = self.install(A)
        self.assertIn(f"configuration reloaded from {self.config_path}: 1 resources, 1 queries",
                      line)
        assert_problem(self, self.get("/other"), 404, "not-found")
        line = self.install(B)
        self.assertIn(f"configuration reloaded from {self.config_path}: 2 resources, 2 queries",
                      line)
        self.assert_b_serves()
        assert_same_json(self, assert_json_ok(self, self.get("/other/2")),
                         {"id": 2, "label": "two"})
        paths = assert_json_ok(self, self.get("/openapi.json")).get("paths", {})
        self.assertIn("/other", paths)
        self.assertIn("/other/{id}", paths)

    def test_removed_entries_are_gone(self):
        self.install(B)
        self.install(A)
        for path in ("/other", "/other/1", "/other-count"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")
        self.assertNotIn("/other", assert_json_ok(self, self.get("/openapi.json"))["paths"])

    def test_changed_entry(self):
        changed = copy.deepcopy(A)
        changed["resources"][0].pop("types")
        changed["resources"][0]["max_limit"] = 5
        changed["resources"][0]["default_limit"] = 2
        self.install(changed)
        page = assert_json_ok(self, self.get("/users?limit=100"))
        self.assertEqual([r["id"] for r in page["data"]], [1, 2, 3, 4, 5])
        self.assertRegex(self.get("/users/1").body.decode(), r'"active"\s*:\s*1\s*[,}]')
        self.assertEqual(len(assert_json_ok(self, self.get("/users"))["data"]), 2)
        self.install(A)
        self.assertRegex(self.get("/users/1").body.decode(), r'"active"\s*:\s*true\s*[,}]')
        self.assertEqual(len(assert_json_ok(self, self.get("/users"))["data"]), 100)

    def test_bad_files_are_rejected(self):
        self.install(B)
        for name, doc in BAD.items():
            with self.subTest(case=name):
                line = self.install(doc, expect="configuration reload rejected")
                self.assertIn("configuration reload rejected, the previous one stays: ", line)
                self.assertIn(str(self.config_path), line)
                self.assert_b_serves()
                for path in ("/gone", "/bad"):
                    assert_problem(self, self.get(path), 404, "not-found")
        # A missing file is rejected the same way.
        os.remove(self.config_path)
        line = self.queryd.reload(expect="configuration reload rejected")
        self.assertIn(str(self.config_path), line)
        self.assert_b_serves()
        self.install(A)
        assert_problem(self, self.get("/other"), 404, "not-found")

    def test_request_in_flight_finishes_on_the_old_configuration(self):
        self.install(A)
        answer = {}
        # The lock outlasts every step below; it is released once they are done.
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 60)
        try:
            def ask():
                answer["resp"] = self.get("/users/1", timeout=60)
            asker = threading.Thread(target=ask, daemon=True)
            asker.start()
            waiting = harness.wait_until(lambda: int(harness.query_rows(
                self.db, "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                         f"WHERE USER = '{harness.APP_USER}' AND INFO LIKE '%users%'")[0][0]) > 0,
                10)
            self.assertTrue(waiting, "the request did not reach the database")
            # The new configuration does not touch the locked table.
            self.install(ONLY_OTHER)
            assert_problem(self, self.get("/users/2", timeout=5), 404, "not-found")
            self.assertTrue(asker.is_alive(), "the request should still be waiting on the lock")
        finally:
            lock.release()
        asker.join(30)
        self.assertIn("resp", answer, "the request in flight got no answer")
        assert_same_json(self, assert_json_ok(self, answer["resp"]), USER_1)
        self.install(A)
        assert_same_json(self, assert_json_ok(self, self.get("/users/1")), USER_1)

    def test_reload_under_load(self):
        self.install(B)
        stop = threading.Event()
        results = []
        expected = {
            "/users/1": (200, harness.json_text(USER_1)),
            "/other/1": (200, harness.json_text({"id": 1, "label": "one"})),
            "/other-count": (200, harness.json_text({"data": [{"n": 3}], "next": None})),
            "/users?limit=2&select=id": (200, None),
            "/users/1/peers?limit=1": (200, None),
        }
        paths = list(expected)

        def client(n):
            done = failures = reconnects = 0
            problems = []
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            deadline = time.monotonic() + 40
            while not stop.is_set() and time.monotonic() < deadline and done < 20000:
                path = paths[(done + n) % len(paths)]
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    body = resp.read()
                    status, text = expected[path]
                    ok = resp.status == status
                    if ok and text is not None:
                        ok = harness.json_text(harness.json.loads(body)) == text
                    if ok and path.startswith("/users?"):
                        ok = [r["id"] for r in harness.json.loads(body)["data"]] == [1, 2]
                    if not ok:
                        failures += 1
                        problems.append(f"{path}: {resp.status} {body[:200]!r}")
                    if resp.will_close:
                        reconnects += 1
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                except (OSError, http.client.HTTPException) as exc:
                    failures += 1
                    problems.append(f"{path}: {exc!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                done += 1
            conn.close()
            results.append((done, failures, reconnects, problems[:5]))

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            sequence = [B2, B, "syntax", B2, B, "unknown-table", B2, B]
            for doc in sequence:
                if isinstance(doc, str):
                    self.install(BAD[doc], expect="configuration reload rejected")
                else:
                    self.install(doc)
                time.sleep(0.4)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(len(results), 4, "a load thread did not finish")
        total = sum(r[0] for r in results)
        failed = sum(r[1] for r in results)
        problems = [p for r in results for p in r[3]]
        harness.sys.stderr.write(f"\nreload under load: {total} requests, {failed} failed, "
                                 f"{sum(r[2] for r in results)} reconnects\n")
        self.assertGreater(total, 100, "too few requests to say anything")
        self.assertEqual(failed, 0, f"{failed} of {total} requests failed: {problems}")
        self.assertTrue(self.queryd.running())
        resp = self.queryd.wait_pool_idle(self.pool_size, timeout=10)
        self.assertEqual(resp.json()["pool"]["idle"], self.pool_size)

    def test_signal_storm(self):
        self.install(A)
        harness.write_config(self.config_path, B)
        offset = self.queryd.log_size()
        for _ in range(6):
            self.queryd.proc.send_signal(harness.signal.SIGHUP)
            time.sleep(0.02)
        self.assertTrue(self.queryd.wait_for_log("configuration reloaded", offset, 10))
        self.assertTrue(harness.wait_until(lambda: self.get("/other").status == 200, 10))
        time.sleep(1.0)
        self.assertTrue(self.queryd.running())
        self.assert_b_serves()
        self.install(A)


if __name__ == "__main__":
    harness.main()
