"""Real responses checked against openapi.yaml.

Each response the running service gives (every endpoint, success and error
statuses, HEAD, 405, 503 with the database down, 504 past the deadline) is
looked up in the document by path, method, status and content type; its
body is validated against the declared schema (JSON Schema 2020-12, as
OpenAPI 3.1 specifies) and its declared headers against theirs.  A status
the document does not declare for that operation fails the test.
"""

import re
import sys

import harness
from harness import REPO_ROOT

try:
    import jsonschema
    import yaml
except ImportError as exc:  # pragma: no cover - reported as a test failure
    sys.stderr.write(f"test_openapi needs python3-yaml and python3-jsonschema: {exc}\n")
    raise

SPEC_PATH = REPO_ROOT / "openapi.yaml"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Spec:
    """openapi.yaml with lookups by request and a schema validator."""

    def __init__(self, doc):
        self.doc = doc
        self.templates = []
        for template in doc.get("paths", {}):
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self.templates.append((template, re.compile(pattern)))
        self.format_checker = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def deref(self, obj):
        """Follow local $refs (#/a/b) until obj is not a reference."""
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not ref.startswith("#/"):
                raise AssertionError(f"only local references are supported: {ref}")
            target = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target[part]
            obj = target
            seen += 1
            if seen > 20:
                raise AssertionError(f"reference loop at {ref}")
        return obj

    def template_for(self, path):
        path = path.split("?", 1)[0]
        for template, pattern in self.templates:
            if pattern.match(path):
                return template
        return None

    def response_for(self, method, path, status):
        """(key, response object) documented for this request, or raise."""
        template = self.template_for(path)
        if template is None:
            key = ("<unknown path>", method, status)
            responses = {"404": self.doc.get("x-unknown-paths")}
        else:
            item = self.doc["paths"][template]
            op = item.get(method.lower())
            key = (template, method, status)
            if op is None:
                responses = {"405": item.get("x-other-methods")}
            else:
                responses = op.get("responses", {})
        response = responses.get(str(status))
        if response is None:
            raise AssertionError(f"{method} {path} answered {status}, which openapi.yaml "
                                 f"does not declare for {key[0]} {method} "
                                 f"(declared: {sorted(k for k, v in responses.items() if v)})")
        return key, self.deref(response)

    def schema_errors(self, schema, instance):
        """Validation errors of instance against schema (with the document's components)."""
        root = {"$schema": SCHEMA_DIALECT, "allOf": [schema],
                "components": self.doc.get("components", {})}
        validator = jsonschema.Draft202012Validator(root, format_checker=self.format_checker)
        return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))


class OpenAPITests(harness.DemoServiceTestCase):
    seen = set()

    @classmethod
    def setUpClass(cls):
        cls.spec = Spec(load_spec())
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            documented = set()
            for template, item in cls.spec.doc.get("paths", {}).items():
                for method, op in item.items():
                    if isinstance(op, dict) and "responses" in op:
                        for status in op["responses"]:
                            documented.add((template, method.upper(), int(status)))
            unexercised = sorted(documented - cls.seen)
            if unexercised:
                sys.stderr.write("documented responses not exercised: "
                                 + ", ".join(f"{m} {t} {s}" for t, m, s in unexercised) + "\n")

    def setUp(self):
        super().setUp()
        self.maxDiff = None

    def check(self, method, path, status=None, q=None, **kw):
        """Send the request, then validate the response against the document."""
        q = q or self.queryd
        resp = q.request(method, path, **kw)
        if status is not None:
            self.assertEqual(resp.status, status, f"{method} {path}: {resp.describe()}")
        self.validate(method, path, resp)
        return resp

    def validate(self, method, path, resp):
        key, documented = self.spec.response_for(method, path, resp.status)
        type(self).seen.add(key)
        where = f"{method} {path} -> {resp.status}"
        for name, header in documented.get("headers", {}).items():
            header = self.spec.deref(header)
            value = resp.headers.get(name)
            if value is None:
                self.assertFalse(header.get("required"), f"{where}: no {name} header")
                continue
            schema = header.get("schema", {})
            instance = value
            if schema.get("type") == "integer":
                self.assertRegex(value, r"^-?[0-9]+$", f"{where}: {name}: {value!r}")
                instance = int(value)
            errors = self.spec.schema_errors(schema, instance)
            self.assertEqual([e.message for e in errors], [], f"{where}: header {name}")
        content = documented.get("content")
        if method == "HEAD":
            self.assertEqual(resp.body, b"", f"{where}: HEAD with a body")
            return
        if not content:
            self.assertEqual(resp.body, b"", f"{where}: body where none is documented")
            return
        self.assertIn(resp.content_type, content, f"{where}: undocumented content type")
        schema = content[resp.content_type].get("schema")
        if schema is None:
            return
        body = resp.json()
        errors = self.spec.schema_errors(schema, body)
        messages = [f"at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                    for e in errors[:10]]
        self.assertEqual(messages, [], f"{where}: body does not match the documented schema")

    # ------------------------------------------------------------ document

    def test_document_basics(self):
        doc = self.spec.doc
        self.assertEqual(doc.get("openapi"), "3.1.0")
        self.assertEqual(set(doc["paths"]), {"/users", "/users/{id}", "/healthz", "/readyz", "/metrics"})
        for template, item in doc["paths"].items():
            with self.subTest(path=template):
                self.assertIn("get", item)
                self.assertIn("head", item)
                self.assertIn("x-other-methods", item)
                allow = self.spec.deref(self.spec.deref(item["x-other-methods"])["headers"]["Allow"])
                self.assertTrue(allow.get("required"))
                for method in ("get", "head"):
                    for status, response in item[method]["responses"].items():
                        headers = self.spec.deref(response).get("headers", {})
                        self.assertIn("X-Request-Id", headers, f"{method} {template} {status}")
                        if status == "503":
                            self.assertIn("Retry-After", headers, f"{method} {template}")
        params = {p["name"]: self.spec.deref(p) for p in
                  (self.spec.deref(p) for p in doc["paths"]["/users"]["get"]["parameters"])}
        self.assertEqual(set(params), {"limit", "after", "offset"})
        self.assertEqual(params["limit"]["schema"]["type"], "integer")
        self.assertEqual(params["limit"]["schema"]["minimum"], 1)
        self.assertIn("10000", params["limit"]["description"])
        self.assertEqual(params["after"]["schema"]["type"], "integer")
        self.assertEqual(params["offset"]["schema"]["minimum"], 0)
        self.assertIn("slow", params["offset"]["description"])
        user = doc["components"]["schemas"]["User"]
        self.assertEqual(set(user["required"]), set(harness.DEMO_COLUMNS))
        self.assertEqual(set(user["properties"]), set(harness.DEMO_COLUMNS))

    def test_example_rows_match_user_schema(self):
        user = {"$ref": "#/components/schemas/User"}
        for row in (harness.USER_1, harness.USER_2):
            self.assertEqual([e.message for e in self.spec.schema_errors(user, row)], [])
        broken = dict(harness.USER_1, balance=1234.5)
        self.assertTrue(self.spec.schema_errors(user, broken), "schema accepts a numeric balance")

    # ------------------------------------------------------------ success

    def test_users_pages(self):
        for path in ("/users", "/users?limit=1", "/users?limit=5&after=10",
                     "/users?limit=5&offset=20", "/users?offset=2995&limit=10",
                     "/users?after=3000", "/users?limit=20000"):
            with self.subTest(path=path):
                self.check("GET", path, 200, timeout=60)

    def test_every_row_matches_user_schema(self):
        self.check("GET", "/users?limit=10000", 200, timeout=60)

    def test_single_users(self):
        for path in ("/users/1", "/users/2", "/users/250", "/users/500", "/users/3000"):
            with self.subTest(path=path):
                self.check("GET", path, 200)

    def test_probes(self):
        self.check("GET", "/healthz", 200)
        self.queryd.wait_pool_idle(self.pool_size)
        self.check("GET", "/readyz", 200)

    def test_head(self):
        for path, status in (("/users", 200), ("/users?limit=0", 400), ("/users/1", 200),
                             ("/users/abc", 400), ("/users/999999", 404), ("/healthz", 200),
                             ("/readyz", 200)):
            with self.subTest(path=path):
                self.check("HEAD", path, status)

    # ------------------------------------------------------------ errors

    def test_invalid_parameters(self):
        for path in ("/users?limit=abc", "/users?limit=0", "/users?foo=1",
                     "/users?after=1&offset=1", "/users?limit=1&limit=2", "/users/abc",
                     "/users/1.5", "/users/99999999999999999999"):
            with self.subTest(path=path):
                self.check("GET", path, 400)

    def test_not_found(self):
        self.check("GET", "/users/999999", 404)
        self.check("GET", "/nope", 404)
        self.check("POST", "/nope", 404, body=b"x")

    def test_method_not_allowed(self):
        for method, path in (("POST", "/users"), ("PUT", "/users/1"), ("DELETE", "/users/1"),
                             ("PATCH", "/users"), ("POST", "/healthz"), ("DELETE", "/readyz")):
            with self.subTest(method=method, path=path):
                body = b"{}" if method in ("POST", "PUT", "PATCH") else None
                self.check(method, path, 405, body=body)

    def test_database_unavailable(self):
        url = f"mysql://{harness.APP_USER}:{harness.APP_PASSWORD}@127.0.0.1:" \
              f"{harness.free_port()}/{harness.DEMO_DB}"
        q = self.fixture.queryd(url, name="queryd-db-down")
        try:
            for method, path in (("GET", "/users/1"), ("GET", "/users"), ("GET", "/readyz"),
                                 ("HEAD", "/users/1"), ("HEAD", "/users"), ("HEAD", "/readyz")):
                with self.subTest(method=method, path=path):
                    self.check(method, path, 503, q=q, timeout=15)
            self.check("GET", "/healthz", 200, q=q)
        finally:
            q.stop_and_check(self)

    def test_overloaded(self):
        # One connection, one waiting slot: with the connection stuck behind
        # a table lock, the third and later requests must be refused at once.
        q = self.fixture.queryd(self.database_url, name="queryd-overload", workers=1,
                                pool_size=1, queue_limit=1, acquire_timeout_ms=60000)
        try:
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, 4)
            try:
                results = harness.fire_concurrently(q.port, [("GET", "/users?limit=10")] * 5)
            finally:
                lock.join(60)
            statuses = sorted(getattr(r, "status", repr(r)) for _, r in results)
            self.assertEqual(statuses, [200, 200, 503, 503, 503])
            for job, resp in results:
                self.validate(job[0], job[1], resp)
        finally:
            q.stop_and_check(self)

    def test_timeout(self):
        q = self.fixture.queryd(self.database_url, name="queryd-timeout",
                                query_timeout_ms=1000)
        try:
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, 4)
            try:
                self.check("GET", "/users/1", 504, q=q, timeout=15)
                self.check("GET", "/users?limit=3", 504, q=q, timeout=15)
            finally:
                lock.join(60)
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
