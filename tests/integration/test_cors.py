"""CORS (QUERYD_CORS_ORIGINS).

Off by default: no CORS headers, OPTIONS is 405 like any other method.  With
a list of origins, an allowed Origin gets Access-Control-Allow-Origin (that
origin), Vary: Origin and Access-Control-Expose-Headers on every answer,
errors included; a preflight (OPTIONS with Access-Control-Request-Method)
for GET or HEAD on an existing path is 204 with the allow headers, anything
else 403 cors-rejected.  With "*", the allowed origin is "*".  Bad values
stop queryd with exit status 2.
"""

import unittest

import harness
from harness import assert_json_ok, assert_problem

ALLOWED = ["https://app.example", "http://localhost:3000"]
PREFLIGHT_PATHS = ["/users", "/users/1", "/users/999999", "/users/1/peers", "/healthz",
                   "/readyz", "/openapi.json"]


def tokens(resp, name):
    value = resp.headers.get(name)
    return {t.strip().lower() for t in value.split(",")} if value else set()


class CorsTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD, harness.DEMO_DB)
        cls.off = cls.fixture.queryd(cls.url, name="cors-off")
        cls.listed = cls.fixture.queryd(cls.url, name="cors-list",
                                        cors_origins=",".join(ALLOWED))
        cls.star = cls.fixture.queryd(cls.url, name="cors-star", cors_origins="*")

    @classmethod
    def tearDownClass(cls):
        asserter = harness.class_asserter()
        for q in (cls.off, cls.listed, cls.star):
            q.stop_and_check(asserter)

    def setUp(self):
        self.maxDiff = None

    def tearDown(self):
        # After every test: no sanitizer report, no password in any output.
        for q in (self.off, self.listed, self.star):
            q.check_log(self)

    def preflight(self, q, path, origin, method="GET", request_headers=None):
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        if request_headers:
            headers["Access-Control-Request-Headers"] = request_headers
        return q.request("OPTIONS", path, headers=headers)

    def assert_cors_headers(self, resp, origin, vary=True):
        self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), origin, resp.describe())
        self.assertLessEqual({"x-request-id", "retry-after"},
                             tokens(resp, "Access-Control-Expose-Headers"), resp.describe())
        if vary:
            self.assertIn("origin", tokens(resp, "Vary"), resp.describe())

    def assert_no_cors_headers(self, resp):
        for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                     "Access-Control-Expose-Headers", "Access-Control-Allow-Headers"):
            self.assertIsNone(resp.headers.get(name), f"{name}: {resp.describe()}")

    # ------------------------------------------------------------------ off

    def test_off_by_default(self):
        for path in ("/users", "/users/1", "/healthz"):
            with self.subTest(path=path):
                resp = self.preflight(self.off, path, ALLOWED[0])
                assert_problem(self, resp, 405, "method-not-allowed")
                self.assertEqual(sorted(m.strip() for m in resp.headers["Allow"].split(",")),
                                 ["GET", "HEAD"])
                self.assert_no_cors_headers(resp)
                resp = self.off.get(path, headers={"Origin": ALLOWED[0]})
                self.assertEqual(resp.status, 200)
                self.assert_no_cors_headers(resp)

    # ----------------------------------------------------------------- list

    def test_allowed_origins_get_headers(self):
        for origin in ALLOWED:
            for method, path, status in (("GET", "/users/1", 200), ("GET", "/users?limit=2", 200),
                                         ("HEAD", "/users/1", 200),
                                         ("GET", "/users/1/peers", 200),
                                         ("GET", "/openapi.json", 200), ("GET", "/healthz", 200)):
                with self.subTest(origin=origin, method=method, path=path):
                    resp = self.listed.request(method, path, headers={"Origin": origin})
                    self.assertEqual(resp.status, status, resp.describe())
                    self.assert_cors_headers(resp, origin)
        resp = self.listed.get("/users/1", headers={"Origin": ALLOWED[0]})
        harness.assert_same_json(self, assert_json_ok(self, resp), harness.USER_1)

    def test_headers_on_errors_too(self):
        origin = ALLOWED[1]
        for method, path, status, slug in (
                ("GET", "/users/999999", 404, "not-found"),
                ("GET", "/users?limit=0", 400, "invalid-parameter"),
                ("GET", "/users?nope=eq.1", 400, "invalid-parameter"),
                ("GET", "/users/abc/peers", 400, "invalid-parameter"),
                ("GET", "/nope", 404, "not-found"),
                ("DELETE", "/users/1", 405, "method-not-allowed"),
                ("POST", "/users", 405, "method-not-allowed")):
            with self.subTest(method=method, path=path):
                resp = self.listed.request(method, path, headers={"Origin": origin})
                assert_problem(self, resp, status, slug)
                self.assert_cors_headers(resp, origin)

    def test_other_origins_get_no_headers(self):
        for origin in ("https://evil.example", "https://app.example.evil", "http://app.example",
                       "https://APP.example.com", "null", "https://app.example/",
                       "http://localhost:3001", "https://app.example, https://evil.example"):
            with self.subTest(origin=origin):
                resp = self.listed.get("/users/1", headers={"Origin": origin})
                self.assertIn(resp.status, (200, 403), resp.describe())
                self.assertIsNone(resp.headers.get("Access-Control-Allow-Origin"),
                                  resp.describe())
        resp = self.listed.get("/users/1")
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.headers.get("Access-Control-Allow-Origin"))

    def test_preflight(self):
        for path in PREFLIGHT_PATHS:
            for method in ("GET", "HEAD"):
                with self.subTest(path=path, method=method):
                    resp = self.preflight(self.listed, path, ALLOWED[0], method,
                                          "X-Request-Id, Content-Type")
                    self.assertEqual(resp.status, 204, resp.describe())
                    self.assertEqual(resp.body, b"")
                    self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), ALLOWED[0])
                    self.assertEqual(tokens(resp, "Access-Control-Allow-Methods"),
                                     {"get", "head"}, resp.describe())
                    self.assertLessEqual({"x-request-id", "content-type"},
                                         tokens(resp, "Access-Control-Allow-Headers"),
                                         resp.describe())
                    self.assertEqual(resp.headers.get("Access-Control-Max-Age"), "600")
                    self.assertIn("origin", tokens(resp, "Vary"), resp.describe())

    def test_preflight_without_requested_headers(self):
        resp = self.preflight(self.listed, "/users", ALLOWED[1])
        self.assertEqual(resp.status, 204, resp.describe())
        self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), ALLOWED[1])
        self.assertEqual(resp.headers.get("Access-Control-Max-Age"), "600")

    def test_preflight_rejected(self):
        for origin, method in ((ALLOWED[0], "POST"), (ALLOWED[0], "DELETE"), (ALLOWED[0], "PUT"),
                               (ALLOWED[0], "PATCH"),
                               ("https://evil.example", "GET"), ("null", "GET"),
                               ("https://app.example.evil", "HEAD")):
            with self.subTest(origin=origin, method=method):
                resp = self.preflight(self.listed, "/users", origin, method)
                assert_problem(self, resp, 403, "cors-rejected")
                if origin not in ALLOWED:
                    self.assertIsNone(resp.headers.get("Access-Control-Allow-Origin"),
                                      resp.describe())

    def test_preflight_on_unknown_path(self):
        resp = self.preflight(self.listed, "/nope", ALLOWED[0])
        assert_problem(self, resp, 404, "not-found")

    def test_preflight_keeps_the_connection(self):
        with harness.KeepAliveClient(self.listed.port) as client:
            for _ in range(3):
                resp = client.request("OPTIONS", "/users/1", headers={
                    "Origin": ALLOWED[0], "Access-Control-Request-Method": "GET"})
                self.assertEqual(resp.status, 204, resp.describe())
                resp = client.request("GET", "/users/1", headers={"Origin": ALLOWED[0]})
                self.assertEqual(resp.status, 200, resp.describe())
                self.assert_cors_headers(resp, ALLOWED[0])

    # ----------------------------------------------------------------- star

    def test_star(self):
        for origin in ("https://anything.example", "http://localhost:1234", ALLOWED[0]):
            with self.subTest(origin=origin):
                resp = self.star.get("/users/1", headers={"Origin": origin})
                self.assertEqual(resp.status, 200)
                self.assert_cors_headers(resp, "*", vary=False)
                resp = self.star.get("/users/999999", headers={"Origin": origin})
                assert_problem(self, resp, 404, "not-found")
                self.assert_cors_headers(resp, "*", vary=False)
                resp = self.preflight(self.star, "/users", origin, "GET", "X-Request-Id")
                self.assertEqual(resp.status, 204, resp.describe())
                self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), "*")
                self.assertEqual(tokens(resp, "Access-Control-Allow-Methods"), {"get", "head"})
                self.assertIn("x-request-id", tokens(resp, "Access-Control-Allow-Headers"))
                self.assertEqual(resp.headers.get("Access-Control-Max-Age"), "600")
                resp = self.preflight(self.star, "/users", origin, "DELETE")
                assert_problem(self, resp, 403, "cors-rejected")

    # ------------------------------------------------------------ bad values

    def test_bad_values_refused(self):
        for value in ("app.example", "https://app.example/", "https://app.example/path",
                      "https://a.example,,https://b.example", " https://a.example",
                      "https://a.example, https://b.example", "*,https://a.example",
                      "https://a.example,", "://x"):
            with self.subTest(value=value):
                code, _, err = harness.run_queryd_once({
                    "QUERYD_DATABASE_URL": self.url, "QUERYD_CORS_ORIGINS": value,
                    "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}",
                    "QUERYD_START_TIMEOUT_MS": 2000})
                self.assertEqual(code, 2, err)
                self.assertIn("QUERYD_CORS_ORIGINS", err)


if __name__ == "__main__":
    harness.main()
