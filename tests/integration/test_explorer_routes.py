"""The explorer's routes, over HTTP (no browser): GET / and its files.

- `/` with a browser's Accept header is the page (text/html), which loads
  only /explorer.js and /explorer.css, with a Content-Security-Policy that
  allows nothing else and no inline script or style; with Accept:
  application/json, */* or none it is the JSON index of the entries;
  `Vary: Accept` either way; HEAD gives the same headers without a body;
- /explorer.js, /explorer.css and /favicon.ico answer with their types,
  nosniff and the same policy;
- with an "auth" section the index lists only the entries the caller's role
  may use (tokens minted with PyJWT, HS256, a secret made per run), and a
  configuration entry cannot take an explorer path.
"""

import re
import secrets
import time

import jwt

import harness
from harness import assert_problem

BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,*/*;q=0.8")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
DEMO_INDEX = {"entries": [{"path": "/users", "kind": "resource", "item": "/users/{id}"},
                          {"path": "/users/{id}/peers", "kind": "query"}],
              "openapi": "/openapi.json"}
SECRET = secrets.token_hex(32)


def assert_page_headers(tc, resp):
    tc.assertEqual(resp.headers.get("Content-Security-Policy"), CSP, resp.describe())
    tc.assertEqual(resp.headers.get("X-Content-Type-Options"), "nosniff", resp.describe())
    tc.assertIn("no-cache", resp.headers.get("Cache-Control", ""), resp.describe())


class ExplorerRoutesTests(harness.DemoServiceTestCase):
    pool_size = 2
    workers = 1

    def test_a_browser_gets_the_page(self):
        resp = self.get("/", headers={"Accept": BROWSER_ACCEPT})
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.headers.get("Content-Type"), "text/html; charset=utf-8")
        self.assertIn("Accept", resp.headers.get("Vary", ""))
        assert_page_headers(self, resp)
        html = resp.body.decode("utf-8")
        self.assertTrue(html.lstrip().lower().startswith("<!doctype html>"), html[:80])
        # Everything it loads is the server's own: these two files, nothing else.
        refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
        self.assertEqual(sorted(refs), ["/explorer.css", "/explorer.js"], refs)
        # The policy forbids inline script and style: there is none.
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>", "an inline script")
        self.assertNotRegex(html, r"<style|\sstyle\s*=|\son[a-z]+\s*=", "inline style or handler")
        for element_id in ("entries", "status", "problem", "credential", "credential-kind"):
            self.assertIn(f'id="{element_id}"', html)

    def test_other_clients_get_the_index(self):
        for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"},
                        {"Accept": "text/html;q=0.5, application/json"}):
            with self.subTest(headers=headers):
                resp = self.get("/", headers=headers)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.content_type, "application/json")
                self.assertEqual(resp.json(), DEMO_INDEX)
                self.assertIn("Accept", resp.headers.get("Vary", ""))
                assert_page_headers(self, resp)

    def test_query_parameters_are_ignored(self):
        resp = self.get("/?x=1")
        self.assertEqual(resp.json(), DEMO_INDEX)

    def test_head(self):
        for path, headers, content_type in (
                ("/", {"Accept": BROWSER_ACCEPT}, "text/html; charset=utf-8"),
                ("/", {}, "application/json"),
                ("/explorer.js", {}, "text/javascript; charset=utf-8")):
            with self.subTest(path=path, headers=headers):
                got = self.get(path, headers=headers)
                resp = self.request("HEAD", path, headers=headers)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.body, b"")
                self.assertEqual(resp.headers.get("Content-Type"), content_type)
                self.assertEqual(resp.headers.get("Content-Length"), str(len(got.body)))
                assert_page_headers(self, resp)

    def test_files(self):
        for path, content_type, marker in (
                ("/explorer.js", "text/javascript; charset=utf-8", b"/openapi.json"),
                ("/explorer.css", "text/css; charset=utf-8", b"#rows"),
                ("/favicon.ico", "image/svg+xml", b"<svg")):
            with self.subTest(path=path):
                resp = self.get(path)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.headers.get("Content-Type"), content_type)
                self.assertIn(marker, resp.body)
                assert_page_headers(self, resp)

    def test_the_script_never_writes_html(self):
        script = self.get("/explorer.js").body.decode("utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            self.assertNotIn(sink, script)

    def test_other_methods_and_paths(self):
        for method in ("POST", "DELETE"):
            resp = self.request(method, "/explorer.js", body=b"")
            assert_problem(self, resp, 405, "method-not-allowed")
        for path in ("/explorer.html", "/favicon.svg", "/web/explorer.js", "/explorer.js/x"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")

    def test_openapi_lists_the_routes(self):
        paths = self.get("/openapi.json").json()["paths"]
        for path in ("/", "/explorer.js", "/explorer.css", "/favicon.ico"):
            self.assertIn(path, paths)


def token(role, **claims):
    now = int(time.time())
    payload = {"role": role, "aud": "queryd", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


AUTH_CONFIG = {
    "auth": {
        "jwt": {"secret_env": "QUERYD_JWT_SECRET", "audience": "queryd"},
        "anonymous_role": "anon",
    },
    "resources": [
        {"path": "/users", "table": "users", "key": "id", "roles": {"anon": {}, "staff": {}}},
        {"path": "/people", "table": "users", "key": "id", "columns": ["id", "name"]},
        {"path": "/secret", "table": "users", "key": "id", "roles": {"admin": {}}},
    ],
    "queries": [
        {"path": "/users/{id}/peers", "sql": "SELECT id, name FROM users WHERE id <> :id",
         "params": {"id": {"type": "int"}}, "roles": {"staff": {}}},
        {"path": "/names", "sql": "SELECT name FROM users ORDER BY id"},
    ],
}


class ExplorerIndexAuthTests(harness.DemoServiceTestCase):
    queryd_config = AUTH_CONFIG
    queryd_env = {"QUERYD_JWT_SECRET": SECRET}
    pool_size = 2
    workers = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = token("staff", sub="sam")
        cls.admin = token("admin", sub="ann")
        cls.other = token("other", sub="oz")
        cls.queryd.secrets += [SECRET, cls.staff, cls.admin, cls.other]

    def paths(self, headers):
        resp = self.get("/", headers=headers)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.content_type, "application/json")
        self.assertIn("Authorization", resp.headers.get("Vary", ""))
        # The page's no-cache, and private as every answer that depends on the caller.
        cache_control = ", ".join(resp.headers.get_all("Cache-Control") or [])
        self.assertIn("private", cache_control)
        self.assertIn("no-cache", cache_control)
        return [(e["path"], e["kind"]) for e in resp.json()["entries"]]

    def test_each_role_sees_the_entries_it_may_use(self):
        cases = (
            ({}, [("/users", "resource")]),  # anonymous: only what names "anon"
            ({"Authorization": f"Bearer {self.staff}"},
             [("/users", "resource"), ("/people", "resource"),
              ("/users/{id}/peers", "query"), ("/names", "query")]),
            ({"Authorization": f"Bearer {self.admin}"},
             [("/people", "resource"), ("/secret", "resource"), ("/names", "query")]),
            ({"Authorization": f"Bearer {self.other}"},
             [("/people", "resource"), ("/names", "query")]),
        )
        for headers, expected in cases:
            with self.subTest(headers=headers):
                self.assertEqual(self.paths(headers), expected)

    def test_the_index_agrees_with_the_role_document(self):
        for tok in (None, self.staff, self.admin, self.other):
            headers = {"Authorization": f"Bearer {tok}"} if tok else {}
            with self.subTest(token=tok is not None):
                doc = self.get("/openapi.json", headers=headers).json()["paths"]
                for path, _ in self.paths(headers):
                    self.assertIn(path, doc)

    def test_the_page_needs_no_credentials(self):
        for path in ("/", "/explorer.js", "/explorer.css", "/favicon.ico"):
            with self.subTest(path=path):
                resp = self.get(path, headers={"Accept": BROWSER_ACCEPT})
                self.assertEqual(resp.status, 200, resp.describe())
                assert_page_headers(self, resp)

    def test_a_bad_token_is_refused(self):
        resp = self.get("/", headers={"Authorization": "Bearer not-a-token"})
        assert_problem(self, resp, 401, "unauthorized")


if __name__ == "__main__":
    harness.main()
