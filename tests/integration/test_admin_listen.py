"""The admin address (QUERYD_ADMIN_LISTEN).

With it, /metrics, /healthz and /readyz answer there and 404 on the public
address, whose /openapi.json leaves them out; the admin address serves
nothing else.  Its /metrics counts the public requests of every worker and
its /readyz reports the pool of all of them.  A bad address, or the public
port again, stops queryd at start with exit status 2 and a message naming
the variable; SIGTERM closes the admin port with the rest.  Without it
nothing changes (every other test runs that way).
"""

import re
import socket
import time
import unittest

import harness
from harness import assert_json_ok, assert_problem

ADMIN_PATHS = ("/metrics", "/healthz", "/readyz")
WORKERS = 2
POOL_SIZE = 4


def requests_counted(metrics_text, route, status):
    """queryd_http_requests_total for route and status, 0 when absent."""
    pattern = (r'^queryd_http_requests_total\{route="' + re.escape(route) + r'",status="'
               + str(status) + r'"\} (\d+)$')
    found = re.search(pattern, metrics_text, re.MULTILINE)
    return int(found.group(1)) if found else 0


def is_listening(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


class AdminListenTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD, harness.DEMO_DB)
        cls.q, cls.admin_port = cls.start_with_admin("admin")

    @classmethod
    def start_with_admin(cls, name, **env):
        """A queryd with an admin address, once its admin /healthz answers."""
        admin_port = harness.free_port()
        q = cls.fixture.queryd(cls.url, name=name, workers=WORKERS, pool_size=POOL_SIZE,
                               start=False, admin_listen=f"127.0.0.1:{admin_port}", **env)
        q.start(wait_healthy=False)

        def healthy():
            if not q.running():
                return "exited"
            resp = harness.http_request(admin_port, "GET", "/healthz", timeout=1.0)
            return "ok" if resp.status == 200 else None
        if harness.wait_until(healthy, 30.0) != "ok":
            q.kill()
            raise RuntimeError(f"{name} did not answer on its admin address; output:\n"
                               f"{q.redacted(q.log_text()[-4000:])}")
        return q, admin_port

    @classmethod
    def tearDownClass(cls):
        cls.q.stop_and_check(harness.class_asserter())

    def tearDown(self):
        self.q.check_log(self)

    def admin(self, path, **kw):
        return harness.http_request(self.admin_port, "GET", path, **kw)

    def test_admin_paths_answer_on_the_admin_address(self):
        resp = self.admin("/healthz")
        assert_json_ok(self, resp)
        self.assertEqual(resp.json(), {"status": "ok"})
        resp = self.admin("/readyz")
        assert_json_ok(self, resp)
        self.assertEqual(resp.json()["status"], "ready")
        # The pool of every worker, not only the one serving the admin address.
        self.assertEqual(resp.json()["pool"]["size"], POOL_SIZE)
        resp = self.admin("/metrics")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertIn("queryd_http_requests_total", resp.body.decode())
        self.assertIsNone(resp.headers.get("Access-Control-Allow-Origin"))
        resp = harness.http_request(self.admin_port, "HEAD", "/healthz")
        self.assertEqual(resp.status, 200)

    def test_admin_paths_are_gone_from_the_public_address(self):
        for path in ADMIN_PATHS:
            with self.subTest(path=path):
                assert_problem(self, self.q.get(path), 404, "not-found")

    def test_public_openapi_leaves_them_out(self):
        resp = self.q.get("/openapi.json")
        assert_json_ok(self, resp)
        paths = resp.json()["paths"]
        for path in ADMIN_PATHS:
            self.assertNotIn(path, paths)
        self.assertIn("/openapi.json", paths)
        self.assertIn("/users", paths)
        self.assertIn("/users/{id}", paths)

    def test_the_explorer_stays_on_the_public_address(self):
        for path in ("/", "/explorer.js", "/explorer.css", "/favicon.ico"):
            with self.subTest(path=path):
                self.assertEqual(self.q.get(path).status, 200)
                assert_problem(self, self.admin(path), 404, "not-found")
        self.assertIn("/", self.q.get("/openapi.json").json()["paths"])

    def test_admin_address_serves_nothing_else(self):
        for path in ("/users", "/users/1", "/openapi.json", "/", "/metrics/x"):
            with self.subTest(path=path):
                assert_problem(self, self.admin(path), 404, "not-found")
        resp = harness.http_request(self.admin_port, "POST", "/metrics", body=b"")
        assert_problem(self, resp, 405, "method-not-allowed")

    def test_metrics_count_public_requests(self):
        before = self.admin("/metrics").body.decode()
        # Separate connections, so that both workers are likely to serve some.
        for _ in range(12):
            assert_json_ok(self, self.q.get("/users/1"))
        assert_problem(self, self.q.get("/users/999999"), 404, "not-found")

        def grown(status):
            return (requests_counted(after[0], "/users/{id}", status)
                    - requests_counted(before, "/users/{id}", status))

        # A request is counted when it completes, a moment after its answer left.
        after = [""]

        def counted():
            after[0] = self.admin("/metrics").body.decode()
            return grown(200) >= 12 and grown(404) >= 1
        harness.wait_until(counted, 10.0, interval=0.1)
        self.assertEqual(grown(200), 12, after[0])
        self.assertEqual(grown(404), 1, after[0])
        after = after[0]
        # The admin requests themselves are counted too.
        self.assertGreater(requests_counted(after, "/metrics", 200),
                           requests_counted(before, "/metrics", 200))

    def test_access_log_covers_the_admin_address(self):
        offset = self.q.log_size()
        self.admin("/healthz?probe=access-log")
        line = self.q.wait_for_log('"query":"probe=access-log"', offset)
        self.assertIsNotNone(line, self.q.log_since(offset)[-2000:])
        self.assertIn('"path":"/healthz"', line)

    def test_help_mentions_it(self):
        code, out, err = harness.run_queryd_once({}, args=["--help"])
        self.assertEqual(code, 0, err)
        self.assertIn("QUERYD_ADMIN_LISTEN", out)

    def test_bad_addresses_stop_queryd_at_start(self):
        public = harness.free_port()
        for value in ("9090", ":9090", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                      "127.0.0.1:admin", f"127.0.0.1:{public}", f"0.0.0.0:{public}"):
            with self.subTest(value=value):
                code, out, err = harness.run_queryd_once({
                    "QUERYD_DATABASE_URL": self.url, "QUERYD_ADMIN_LISTEN": value,
                    "QUERYD_LISTEN": f"127.0.0.1:{public}", "QUERYD_START_TIMEOUT_MS": 2000})
                self.assertEqual(code, 2, err)
                self.assertIn("QUERYD_ADMIN_LISTEN", err)
                self.assertNotIn(harness.APP_PASSWORD, out + err)

    def test_admin_address_in_use_stops_queryd(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            code, _, err = harness.run_queryd_once({
                "QUERYD_DATABASE_URL": self.url, "QUERYD_ADMIN_LISTEN": f"127.0.0.1:{port}",
                "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}",
                "QUERYD_START_TIMEOUT_MS": 5000})
            self.assertNotEqual(code, 0, err)
            self.assertIn(f"127.0.0.1:{port}", err)

    def test_sigterm_closes_the_admin_port(self):
        q, admin_port = self.start_with_admin("admin-stop")
        # A connection left open on the admin address must not hold the stop.
        with harness.KeepAliveClient(admin_port) as idle:
            self.assertEqual(idle.request("GET", "/healthz").status, 200)
            start = time.monotonic()
            q.stop_and_check(self, timeout=30.0)
            self.assertLess(time.monotonic() - start, 20.0)
        self.assertFalse(is_listening(admin_port))
        self.assertFalse(is_listening(q.port))


if __name__ == "__main__":
    harness.main()
