"""Real responses checked against openapi.yaml, and openapi.yaml against GET /openapi.json.

Each response the running service gives (every endpoint, success and error
statuses, HEAD, 405, 503 with the database down, 504 past the deadline) is
looked up in the document by path, method, status and content type; its
body is validated against the declared schema (JSON Schema 2020-12, as
OpenAPI 3.1 specifies) and its declared headers against theirs.  A status
the document does not declare for that operation fails the test.

queryd also generates a document from its configuration (GET /openapi.json).
For the demo configuration (docker/queryd.json) it must AGREE with
openapi.yaml, which is the generated document plus prose.  "Agree" means:
both documents, reduced as follows, are equal.

  1. Only `openapi`, `paths` and `x-unknown-paths` are compared; `info`,
     `servers`, `tags`, `security` and `components` are not (components take
     part only through the references that reach them).
  2. Every local `$ref` is replaced by what it points at, recursively, so
     component names (and whether a thing is a component at all) may differ.
  3. Prose is dropped wherever it is a keyword: `description`, `summary`,
     `title`, `example`, `examples`, and the operations' `operationId` and
     `tags`.  Names are never dropped (a property called `title` stays), and
     literal values (`const`, `enum`, `default`) are compared whole.
  4. Path-level parameters are merged into each operation (an operation's own
     parameter wins), and the list becomes a map keyed by "<in> <name>", so
     order and placement do not matter.  Parameter and header `required`
     defaults to false.
  5. A schema's `type` list is compared as a set, as is its `required` list.

Everything else (paths, methods, parameter names, locations, requiredness and
schemas, response statuses, headers, media types and their schemas, the
405-only operations) must be identical.  On failure the test prints
each difference with where it is.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile

import harness
from harness import REPO_ROOT

try:
    import jsonschema
    import yaml
except ImportError as exc:  # pragma: no cover - reported as a test failure
    sys.stderr.write(f"test_openapi needs python3-yaml and python3-jsonschema: {exc}\n")
    raise

SPEC_PATH = REPO_ROOT / "openapi.yaml"
LINT_SCRIPT = REPO_ROOT / "tests" / "integration" / "lint_openapi.sh"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
RESERVED = ["limit", "after", "offset", "order", "select", "count"]


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Spec:
    """An OpenAPI document with lookups by request and a schema validator."""

    def __init__(self, doc):
        self.doc = doc
        self.templates = []
        for template in doc.get("paths", {}):
            pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self.templates.append((template, re.compile(pattern)))
        # Literal paths first: /users/{id} must not take /users/{id}/peers, and
        # a literal segment beats a parameter.
        self.templates.sort(key=lambda t: (t[0].count("{"), -t[0].count("/")))
        self.format_checker = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def deref(self, obj):
        """Follow local $refs (#/a/b) until obj is not a reference."""
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            obj = resolve_pointer(self.doc, obj["$ref"])
            seen += 1
            if seen > 20:
                raise AssertionError(f"reference loop at {obj}")
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
            if op is None and method == "OPTIONS":
                # OPTIONS is the CORS preflight, no API operation: when it is
                # not one, it gets the same 405 the 405-only operations list.
                responses = {"405": {"$ref": "#/components/responses/MethodNotAllowed"}}
            else:
                responses = {} if op is None else op.get("responses", {})
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

    def row_schema(self, template="/users/{id}"):
        """The schema of a 200 answer of GET template, references followed."""
        response = self.deref(self.doc["paths"][template]["get"]["responses"]["200"])
        return self.deref(response["content"]["application/json"]["schema"])


def check_response(tc, spec, method, path, resp):
    """Asserts resp is what spec documents for the request; returns its key."""
    key, documented = spec.response_for(method, path, resp.status)
    where = f"{method} {path} -> {resp.status}"
    for name, header in documented.get("headers", {}).items():
        header = spec.deref(header)
        value = resp.headers.get(name)
        if value is None:
            tc.assertFalse(header.get("required"), f"{where}: no {name} header")
            continue
        schema = header.get("schema", {})
        instance = value
        if schema.get("type") == "integer":
            tc.assertRegex(value, r"^-?[0-9]+$", f"{where}: {name}: {value!r}")
            instance = int(value)
        errors = spec.schema_errors(schema, instance)
        tc.assertEqual([e.message for e in errors], [], f"{where}: header {name}")
    content = documented.get("content")
    if method == "HEAD":
        tc.assertEqual(resp.body, b"", f"{where}: HEAD with a body")
        return key
    if not content:
        tc.assertEqual(resp.body, b"", f"{where}: body where none is documented")
        return key
    if documented.get("x-body-optional") and resp.body == b"":
        tc.assertIsNone(resp.headers.get("Content-Type"), f"{where}: a type without a body")
        return key
    tc.assertIn(resp.content_type, content, f"{where}: undocumented content type")
    media = content[resp.content_type]
    schema = media.get("schema")
    if schema is None:
        return key
    if resp.content_type == "application/x-ndjson":  # the body is text, each line a value
        errors = spec.schema_errors(schema, resp.body.decode("utf-8"))
        lines = resp.body.decode("utf-8").split("\n")
        tc.assertEqual(lines[-1], "", f"{where}: last line not ended")
        tc.assertIn("x-item-schema", media, f"{where}: no schema for the lines")
        errors += [e for line in lines[:-1]
                   for e in spec.schema_errors(media["x-item-schema"], json.loads(line))]
    else:
        json_body = resp.content_type.endswith("json")
        body = resp.json() if json_body else resp.body.decode("utf-8")
        errors = spec.schema_errors(schema, body)
    messages = [f"at {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in errors[:10]]
    tc.assertEqual(messages, [], f"{where}: body does not match the documented schema")
    return key


# ------------------------------------------------------------------ agreement

PROSE_KEYS = {"description", "summary", "title", "example", "examples"}
OPERATION_PROSE = {"operationId", "tags"}
METHODS = {"get", "head", "put", "post", "delete", "options", "patch", "trace"}
# Objects whose keys are names (of properties, headers, statuses, media types,
# paths), never keywords: nothing in them is dropped as prose.
NAME_MAPS = {"properties", "patternProperties", "$defs", "dependentSchemas", "headers",
             "content", "responses", "paths", "encoding", "links", "callbacks"}
# Keywords whose values are data, compared as they are.
LITERAL_KEYS = {"const", "enum", "default"}


def resolve_pointer(doc, ref):
    if not ref.startswith("#/"):
        raise AssertionError(f"only local references are supported: {ref}")
    target = doc
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def reduce_value(doc, value, names=False, depth=0):
    """value with references inlined, prose dropped and lists normalized (rules 2, 3, 5)."""
    if depth > 60:
        raise AssertionError("references nest too deep (a cycle?)")
    if isinstance(value, list):
        return [reduce_value(doc, v, depth=depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if "$ref" in value:
        target = resolve_pointer(doc, value["$ref"])
        merged = dict(target) if isinstance(target, dict) else target
        if isinstance(merged, dict):
            merged.update({k: v for k, v in value.items() if k != "$ref"})
        return reduce_value(doc, merged, names=names, depth=depth + 1)
    out = {}
    for key, item in value.items():
        if names:
            out[key] = reduce_value(doc, item, depth=depth + 1)
        elif key in PROSE_KEYS:
            continue
        elif key in LITERAL_KEYS:
            out[key] = item
        elif key == "type" and isinstance(item, list):
            out[key] = sorted(item) if len(item) > 1 else item[0]
        elif key == "required" and isinstance(item, list):
            out[key] = sorted(item)
        else:
            out[key] = reduce_value(doc, item, names=key in NAME_MAPS, depth=depth + 1)
    return out


def reduce_parameters(doc, shared, own):
    """Rule 4: "<in> <name>" -> the parameter without its name and location."""
    params = {}
    for param in list(shared or []) + list(own or []):
        param = reduce_value(doc, param)
        key = f"{param.get('in')} {param.get('name')}"
        param = {k: v for k, v in param.items() if k not in ("in", "name")}
        param.setdefault("required", False)
        params[key] = param
    return params


def reduce_headers(response):
    for header in response.get("headers", {}).values():
        if isinstance(header, dict):
            header.setdefault("required", False)
    return response


def reduce_document(doc):
    """The parts of an OpenAPI document that two agreeing documents share (rules 1-5)."""
    paths = {}
    for template, item in doc.get("paths", {}).items():
        item = resolve_pointer(doc, item["$ref"]) if "$ref" in item else item
        reduced = {}
        for key, value in item.items():
            if key in METHODS:
                op = {k: v for k, v in value.items()
                      if k not in OPERATION_PROSE and k != "parameters"}
                op = reduce_value(doc, op)
                op["parameters"] = reduce_parameters(doc, item.get("parameters"),
                                                     value.get("parameters"))
                for response in op.get("responses", {}).values():
                    reduce_headers(response)
                reduced[key] = op
            elif key not in ("parameters",) and key not in PROSE_KEYS:
                value = reduce_value(doc, value)
                reduced[key] = reduce_headers(value) if key.startswith("x-") else value
        paths[template] = reduced
    return {"openapi": doc.get("openapi"), "paths": paths,
            "x-unknown-paths": reduce_headers(reduce_value(doc, doc.get("x-unknown-paths")))}


def short(value, width=160):
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[:width - 3] + "..."


def differences(expected, actual, where=""):
    """Readable lines, one per difference between two reduced documents."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines = []
        for key in expected:
            here = f"{where} › {key}" if where else str(key)
            if key not in actual:
                lines.append(f"only in openapi.yaml:  {here} = {short(expected[key])}")
            else:
                lines.extend(differences(expected[key], actual[key], here))
        for key in actual:
            if key not in expected:
                here = f"{where} › {key}" if where else str(key)
                lines.append(f"only in /openapi.json: {here} = {short(actual[key])}")
        return lines
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        lines = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            lines.extend(differences(e, a, f"{where}[{i}]"))
        return lines
    if expected != actual or type(expected) is not type(actual):
        # 1 and 1.0 agree as JSON numbers; true and 1 do not.
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      for v in (expected, actual))
        if not (numbers and expected == actual):
            return [f"differs at {where}:\n      openapi.yaml:  {short(expected)}\n"
                    f"      /openapi.json: {short(actual)}"]
    return []


# ------------------------------------------------------------------ tests

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

    def check(self, method, path, status=None, q=None, spec=None, **kw):
        """Send the request, then validate the response against the document."""
        q = q or self.queryd
        resp = q.request(method, path, **kw)
        if status is not None:
            self.assertEqual(resp.status, status, f"{method} {path}: {resp.describe()}")
        self.validate(method, path, resp, spec=spec)
        return resp

    def validate(self, method, path, resp, spec=None):
        spec = spec or self.spec
        key = check_response(self, spec, method, path, resp)
        if spec is self.spec:
            type(self).seen.add(key)

    def generated(self):
        resp = self.queryd.get("/openapi.json")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.content_type, "application/json", resp.describe())
        return resp.json()

    # ------------------------------------------------------------ the two documents

    def test_generated_document_agrees_with_openapi_yaml(self):
        generated = self.generated()
        lines = differences(reduce_document(self.spec.doc), reduce_document(generated))
        if lines:
            self.fail(f"openapi.yaml and GET /openapi.json (demo configuration) disagree in "
                      f"{len(lines)} place(s); see the rules in test_openapi.py:\n  - "
                      + "\n  - ".join(lines))

    def test_agreement_rule_notices_differences(self):
        # The comparison itself: prose and component names do not count,
        # a type, a parameter or a status does.
        doc = load_spec()
        same = json.loads(json.dumps(doc))
        same["paths"]["/users"]["get"]["description"] = "other prose"
        same["components"]["schemas"]["Renamed"] = same["components"]["schemas"].pop("Users")

        def rename(value):
            if isinstance(value, dict):
                if value.get("$ref") == "#/components/schemas/Users":
                    value["$ref"] = "#/components/schemas/Renamed"
                for item in value.values():
                    rename(item)
            elif isinstance(value, list):
                for item in value:
                    rename(item)
        rename(same)
        self.assertEqual(differences(reduce_document(doc), reduce_document(same)), [])
        changed = json.loads(json.dumps(doc))
        changed["components"]["schemas"]["Users"]["properties"]["active"]["type"] = "integer"
        del changed["paths"]["/users"]["get"]["responses"]["504"]
        changed["paths"]["/users/{id}/peers"]["parameters"][1]["schema"]["default"] = 1
        lines = differences(reduce_document(doc), reduce_document(changed))
        text = "\n".join(lines)
        self.assertIn("properties › active › type", text)
        self.assertIn("only in openapi.yaml:  paths › /users › get › responses › 504", text)
        self.assertIn("query lo › schema › default", text)

    def test_responses_match_generated_document(self):
        # Belt and braces for the agreement: answers validated against the
        # generated document itself, not only against openapi.yaml.
        generated = Spec(self.generated())
        for method, path, status in (
                ("GET", "/users?limit=50&order=score.desc", 200), ("GET", "/users/1", 200),
                ("GET", "/users?select=active,count(),balance.sum()&count=estimated", 400),
                ("GET", "/users?select=active,count(),balance.avg()&count=exact", 200),
                ("GET", "/users/2", 200), ("GET", "/users/1/peers?limit=500", 200),
                ("GET", "/users?age=eq.x", 400), ("GET", "/users/0", 404),
                ("GET", "/users/1/peers?hi=x", 400), ("GET", "/readyz", 200),
                ("GET", "/healthz", 200), ("GET", "/openapi.json", 200), ("GET", "/", 200),
                ("GET", "/explorer.js", 200),
                ("DELETE", "/users", 405), ("GET", "/nope", 404), ("HEAD", "/users/1", 200)):
            with self.subTest(method=method, path=path):
                self.check(method, path, status, spec=generated, timeout=30)

    def test_generated_document_lints(self):
        """The generated document passes the same Redocly lint as openapi.yaml."""
        installed = (REPO_ROOT / ".state" / "node_modules" / ".bin" / "redocly").exists()
        if not installed and shutil.which("npm") is None:
            self.skipTest("Redocly CLI is not installed and npm is not available")
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/openapi.json"
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.generated(), f, indent=2)
            proc = subprocess.run(["bash", str(LINT_SCRIPT), path], capture_output=True,
                                  text=True, timeout=280)
        self.assertEqual(proc.returncode, 0,
                         f"redocly lint of GET /openapi.json failed:\n{proc.stdout}\n"
                         f"{proc.stderr[-3000:]}")

    def test_document_basics(self):
        doc = self.spec.doc
        self.assertEqual(doc.get("openapi"), "3.1.0")
        self.assertEqual(set(doc["paths"]), {"/users", "/users/{id}", "/users/{id}/peers",
                                             "/healthz", "/readyz", "/metrics",
                                             "/openapi.json", "/", "/explorer.js",
                                             "/explorer.css", "/favicon.ico"})
        for template, item in doc["paths"].items():
            with self.subTest(path=template):
                self.assertIn("get", item)
                self.assertIn("head", item)
                self.assertNotIn("x-other-methods", item)
                self.assertNotIn("options", item)  # CORS preflights are not API
                # Every method the router refuses here is an operation answering only 405.
                for method in ("put", "post", "delete", "patch"):
                    op = item[method]
                    self.assertEqual(set(op["responses"]), {"405"}, f"{method} {template}")
                    self.assertEqual(op["tags"], ["not-allowed"])
                    self.assertEqual(op["security"], [])
                    not_allowed = self.spec.deref(op["responses"]["405"])
                    self.assertTrue(
                        self.spec.deref(not_allowed["headers"]["Allow"]).get("required"))
                for method in ("get", "head"):
                    for status, response in item[method]["responses"].items():
                        headers = self.spec.deref(response).get("headers", {})
                        self.assertIn("X-Request-Id", headers, f"{method} {template} {status}")
                        if status == "503":
                            self.assertIn("Retry-After", headers, f"{method} {template}")
        every = [self.spec.deref(p) for p in doc["paths"]["/users"]["parameters"]]
        params = {p["name"]: p for p in every if p["in"] == "query"}
        self.assertEqual(set(params), set(RESERVED) | set(harness.DEMO_COLUMNS))
        # Besides the query, a read's consistency headers (replicas).
        self.assertEqual({p["name"] for p in every if p["in"] == "header"},
                         {"Queryd-Position", "Prefer"})
        self.assertEqual(params["limit"]["schema"]["type"], "integer")
        self.assertEqual(params["limit"]["schema"]["minimum"], 1)
        self.assertEqual(params["limit"]["schema"]["default"], 100)
        self.assertIn("10000", params["limit"]["description"])
        self.assertEqual(params["after"]["schema"]["type"], "string")
        self.assertEqual(params["offset"]["schema"]["minimum"], 0)
        self.assertIn("slow", params["offset"]["description"])
        self.assertEqual(params["count"]["schema"]["enum"], ["exact", "estimated"])
        for column in harness.DEMO_COLUMNS:
            # A column may be filtered several times: an exploded array.
            self.assertEqual(params[column]["in"], "query")
            self.assertEqual(params[column]["schema"]["type"], "array")
            self.assertEqual(params[column]["schema"]["items"]["type"], "string")
            self.assertEqual((params[column]["style"], params[column]["explode"]), ("form", True))
        user = self.spec.row_schema()
        self.assertNotIn("required", user)  # select= gives any subset
        self.assertIs(user["additionalProperties"], False)
        self.assertEqual(set(user["properties"]), set(harness.DEMO_COLUMNS))
        self.assertEqual(user["properties"]["active"]["type"], "boolean")
        invalid = self.spec.deref(self.spec.doc["components"]["responses"]["InvalidParameter"])
        problem = self.spec.deref(invalid["content"]["application/problem+json"]["schema"])
        self.assertIn("parameter", problem["allOf"][1]["properties"])

    def test_example_rows_match_user_schema(self):
        user = self.spec.row_schema()
        for row in (harness.USER_1, harness.USER_2):
            self.assertEqual([e.message for e in self.spec.schema_errors(user, row)], [])
        for broken in (dict(harness.USER_1, balance=1234.5), dict(harness.USER_1, active=1),
                       dict(harness.USER_1, extra=1)):
            self.assertTrue(self.spec.schema_errors(user, broken),
                            f"schema accepts {broken}")

    # ------------------------------------------------------------ success

    def test_users_pages(self):
        for path in ("/users", "/users?limit=1", "/users?limit=5&after=10",
                     "/users?limit=5&offset=20", "/users?offset=2995&limit=10",
                     "/users?after=3000", "/users?limit=20000",
                     "/users?age=gte.30&age=lt.40&limit=50", "/users?active=is.true&limit=5",
                     "/users?name=like.Ada*", "/users?id=in.(1,2,3)", "/users?bio=is.null&limit=5",
                     "/users?order=age.desc,name&limit=7", "/users?count=exact&limit=3",
                     "/users?prefs=not.is.null&order=score.desc&limit=4",
                     "/users?count=estimated&limit=3&age=gte.30",
                     "/users?select=active,count(),total:balance.sum(),age.avg(),birthday.min()"
                     "&order=count().desc&count=exact",
                     "/users?select=count(),balance.max()&limit=1"):
            with self.subTest(path=path):
                self.check("GET", path, 200, timeout=60)

    def test_next_links_follow_the_document(self):
        path = "/users?order=age.desc&age=gte.50&count=exact&limit=400"
        pages = 0
        while path is not None and pages < 20:
            resp = self.check("GET", path, 200, timeout=60)
            path = resp.json()["next"]
            pages += 1
        self.assertIsNone(path)
        self.assertGreater(pages, 1)

    def test_every_row_matches_user_schema(self):
        self.check("GET", "/users?limit=10000", 200, timeout=60)

    def test_single_users(self):
        for path in ("/users/1", "/users/2", "/users/250", "/users/500", "/users/3000"):
            with self.subTest(path=path):
                self.check("GET", path, 200)

    def test_select_gives_the_selected_columns(self):
        # With select, rows hold only the selected keys, which the row
        # schema (no column required) accepts as they are.
        user = self.spec.row_schema()
        for path in ("/users/1?select=id,active,prefs", "/users?select=id,active,prefs&limit=50"):
            with self.subTest(path=path):
                resp = self.queryd.get(path)
                self.assertEqual(resp.status, 200, resp.describe())
                body = resp.json()
                rows = body["data"] if "data" in body else [body]
                for row in rows:
                    self.assertEqual(list(row), ["id", "active", "prefs"])
                    self.assertEqual([e.message for e in self.spec.schema_errors(user, row)], [])

    def test_peers(self):
        for path in ("/users/1/peers", "/users/1/peers?lo=30&hi=40&limit=5",
                     "/users/3000/peers?limit=500", "/users/1/peers?lo=300"):
            with self.subTest(path=path):
                self.check("GET", path, 200)

    def test_openapi_document(self):
        self.check("GET", "/openapi.json", 200)
        self.check("GET", "/openapi.json?x=1", 200)

    def test_explorer(self):
        browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        self.check("GET", "/", 200)
        self.check("GET", "/", 200, headers=browser)
        for path in ("/explorer.js", "/explorer.css", "/favicon.ico"):
            self.check("GET", path, 200)
            self.check("HEAD", path, 200)
        self.check("HEAD", "/", 200)

    def test_probes(self):
        self.check("GET", "/healthz", 200)
        self.check("GET", "/metrics", 200)
        self.queryd.wait_pool_idle(self.pool_size)
        self.check("GET", "/readyz", 200)

    def test_head(self):
        for path, status in (("/users", 200), ("/users?limit=0", 400), ("/users/1", 200),
                             ("/users/abc", 400), ("/users/999999", 404), ("/healthz", 200),
                             ("/readyz", 200), ("/metrics", 200), ("/openapi.json", 200),
                             ("/users/1/peers", 200), ("/users/1/peers?lo=x", 400)):
            with self.subTest(path=path):
                self.check("HEAD", path, status)

    # ------------------------------------------------------------ errors

    def test_invalid_parameters(self):
        for path, parameter in (
                ("/users?limit=abc", "limit"), ("/users?limit=0", "limit"),
                ("/users?foo=1", "foo"), ("/users?limit=1&limit=2", "limit"),
                ("/users?order=nope", "order"), ("/users?order=bio", "order"),
                ("/users?select=nope", "select"), ("/users?count=maybe", "count"),
                ("/users?age=gte.abc", "age"), ("/users?age=like.3*", "age"),
                ("/users?prefs=eq.1", "prefs"), ("/users/abc", "id"), ("/users/1.5", "id"),
                ("/users/99999999999999999999", "id"), ("/users/1?limit=1", "limit"),
                ("/users/abc/peers", "id"), ("/users/1/peers?limit=0", "limit"),
                ("/users/1/peers?limit=501", "limit"), ("/users/1/peers?nope=1", "nope"),
                ("/users/1/peers?lo=1&lo=2", "lo")):
            with self.subTest(path=path):
                resp = self.check("GET", path, 400)
                self.assertEqual(resp.json().get("parameter"), parameter, resp.describe())
        with self.subTest(path="after and offset"):
            resp = self.check("GET", "/users?after=1&offset=1", 400)
            self.assertIn(resp.json().get("parameter"), ("after", "offset"), resp.describe())

    def test_not_found(self):
        self.check("GET", "/users/999999", 404)
        self.check("GET", "/nope", 404)
        self.check("GET", "/users/1/peers/x", 404)
        self.check("POST", "/nope", 404, body=b"x")

    def test_formats(self):
        for path in ("/users?limit=5", "/users?limit=3000", "/users/1",
                     "/users/1/peers?limit=5"):
            for accept in ("application/x-ndjson", "text/csv"):
                with self.subTest(path=path, accept=accept):
                    self.check("GET", path, 200, headers={"Accept": accept})
        for method in ("GET", "HEAD"):
            for path in ("/users", "/users/1", "/users/1/peers"):
                with self.subTest(method=method, path=path):
                    self.check(method, path, 406, headers={"Accept": "application/xml"})

    def test_method_not_allowed(self):
        for method, path in (("POST", "/users"), ("PUT", "/users/1"), ("DELETE", "/users/1"),
                             ("PATCH", "/users"), ("POST", "/healthz"), ("DELETE", "/readyz"),
                             ("POST", "/users/1/peers"), ("PUT", "/openapi.json"),
                             ("OPTIONS", "/users")):
            with self.subTest(method=method, path=path):
                body = b"{}" if method in ("POST", "PUT", "PATCH") else None
                self.check(method, path, 405, body=body)

    def test_database_unavailable(self):
        # queryd does not start without its database (it checks the
        # configuration against the schema), so take the database away from
        # the running one, then give it back for the other tests.
        self.db.stop()
        try:
            for method, path in (("GET", "/users/1"), ("GET", "/users"), ("GET", "/readyz"),
                                 ("GET", "/users/1/peers"), ("HEAD", "/users/1"),
                                 ("HEAD", "/users"), ("HEAD", "/readyz"),
                                 ("HEAD", "/users/1/peers")):
                with self.subTest(method=method, path=path):
                    down = harness.wait_until(
                        lambda: self.queryd.request(method, path, timeout=15).status == 503,
                        15, 0.2)
                    self.assertTrue(down, f"{method} {path} never answered 503")
                    self.check(method, path, 503, timeout=15)
            self.check("GET", "/healthz", 200)
        finally:
            self.db.start(timeout=120)
            # Every connection of every worker is back, not only one.
            back = self.queryd.wait_pool_idle(self.pool_size, timeout=30)
            recovered = back.status == 200 and back.json()["pool"]["idle"] == self.pool_size
            self.assertTrue(recovered, "queryd did not recover after the database came back: "
                            f"{back.describe()}")

    def test_database_error(self):
        # A statement the database refuses (its table is gone) is 500.
        self.db.execute("RENAME TABLE users TO users_gone", harness.DEMO_DB)
        try:
            for method in ("GET", "HEAD"):
                for path in ("/users?limit=3", "/users/1", "/users/1/peers"):
                    with self.subTest(method=method, path=path):
                        self.check(method, path, 500)
        finally:
            self.db.execute("RENAME TABLE users_gone TO users", harness.DEMO_DB)
        self.check("GET", "/users/1", 200)

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
            # Six statements of about 1 s each, one after the other: the lock
            # outlasts them however slow the machine, and ends after them.
            lock = harness.lock_users_table(self.db, harness.DEMO_DB, 60)
            try:
                for method in ("GET", "HEAD"):
                    for path in ("/users/1", "/users?limit=3", "/users/1/peers"):
                        with self.subTest(method=method, path=path):
                            self.check(method, path, 504, q=q, timeout=15)
            finally:
                lock.release()
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
