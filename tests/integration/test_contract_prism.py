"""The contract, checked by a validator nobody on the project wrote.

Stoplight Prism (pinned in prism/package-lock.json, installed into the build
tree by prism/install.sh) runs as a validating proxy in front of queryd:
`prism proxy <document> <queryd> --errors`. Every request below goes through
it; Prism checks the request against the document, forwards it, and checks
the answer (status, headers, media type, body schema). It reports what does
not fit in its `sl-violations` header (and with --errors turns a response
violation into an error answer of its own). The document is the one queryd
serves for the configuration under test (GET /openapi.json, fetched into a
file), so what is checked is what a client generating code from it gets.

Requests cover every route, the read parameters, the three formats, the
writes, a named query, embedding, aggregates, identities, and the statuses
200, 201, 204, 400, 401, 403, 404, 406, 409, 413, 415, 422 and 429. A request
the document itself refuses (a parameter outside its schema, a body of a type
it does not list) is sent on purpose for some 400s and the 415: for those
Prism must report the request violation, and the answer must still fit.

A method a path does not serve is an operation of its own answering only
405 (tag not-allowed), so those go through Prism too. Prism cannot route
what a document has no operation for: an unknown path (the document's
x-unknown-paths, 404). That is sent to queryd directly and checked against
the same document with the JSON Schema validator of test_openapi.

Last, the committed openapi.yaml is checked the same way against queryd
running the demo configuration (a few reads: it must stay equal to what
/openapi.json serves there, which test_openapi checks in detail).
"""

import http.client
import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import harness
from harness import REPO_ROOT
from test_openapi import SPEC_PATH, Spec, check_response
from test_writes import SETUP_SQL

try:
    import jwt
except ImportError as exc:  # python3-jwt, installed by scripts/deps
    raise SystemExit(f"test_contract_prism needs python3-jwt: {exc}")

INSTALL = REPO_ROOT / "tests" / "integration" / "prism" / "install.sh"
SECRET = secrets.token_hex(32)
ALL = {"anon": {}, "admin": {}, "limited": {}}
JSON = {"Content-Type": "application/json"}

CONFIG = harness.demo_config()
for _entry in CONFIG["resources"] + CONFIG.get("queries", []):
    _entry["roles"] = ALL
CONFIG["auth"] = {"jwt": {"secret_env": "QUERYD_JWT_SECRET"}, "anonymous_role": "anon",
                  "roles": {"limited": {"rate": {"per_second": 1, "burst": 2}}}}
CONFIG["resources"] = CONFIG["resources"] + [
    {"path": "/items", "table": "items", "key": "id", "max_affected": 50,
     "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
     "roles": {"anon": {"methods": ["GET"]}, "admin": {}, "limited": {}}},
    {"path": "/teams", "table": "teams", "key": "id", "roles": ALL},
]


def token(role, **claims):
    now = int(time.time())
    return jwt.encode({"role": role, "sub": role, "iat": now, "exp": now + 900, **claims},
                      SECRET, algorithm="HS256")


class Prism:
    """One `prism proxy` process in front of upstream, validating with document."""

    def __init__(self, run_dir, name, document, upstream_port):
        self.port = harness.free_port()
        self.log_path = Path(run_dir) / f"{name}.log"
        self.log = open(self.log_path, "wb")
        binary = install_prism()
        self.proc = subprocess.Popen(
            [binary, "proxy", str(document), f"http://127.0.0.1:{upstream_port}", "--errors",
             "--cors=false", "--multiprocess=false", "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, NODE_ENV="test", NO_COLOR="1"),
            preexec_fn=harness._die_with_parent, start_new_session=True)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError(f"prism exited: {self.log_text()[-3000:]}")
            return b"listening" in self.log_path.read_bytes()
        harness.wait_until(listening, 60)

    def log_text(self):
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


def install_prism():
    prefix = Path(harness.queryd_binary()).parent / "prism"
    out = subprocess.run(["bash", str(INSTALL), str(prefix)], check=True, timeout=600,
                         stdout=subprocess.PIPE)
    return out.stdout.decode().strip().splitlines()[-1]


class ContractTests(harness.DemoServiceTestCase):
    queryd_config = CONFIG
    setup_sql = SETUP_SQL
    queryd_env = {"QUERYD_JWT_SECRET": SECRET, "QUERYD_MAX_BODY_BYTES": 1 << 20}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = token("admin")
        cls.queryd.secrets += [SECRET, cls.admin]
        resp = cls.queryd.get("/openapi.json", headers=cls.auth_headers(cls))
        assert resp.status == 200, resp.describe()
        cls.document = cls.fixture.dir / "openapi.json"
        cls.document.write_bytes(resp.body)
        cls.spec = Spec(resp.json())
        cls.prism = Prism(cls.fixture.dir, "prism", cls.document, cls.port)
        cls.fixture.killers.append(cls.prism.stop)

    @classmethod
    def tearDownClass(cls):
        cls.prism.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.violations = []
        self.db.execute("DELETE FROM items;", database=harness.DEMO_DB)

    def tearDown(self):
        if self.violations:
            self.fail(f"{len(self.violations)} contract violation(s):\n  - "
                      + "\n  - ".join(self.violations))
        super().tearDown()

    def auth_headers(self, role="admin"):
        return {"Authorization": f"Bearer {self.admin if role == 'admin' else token(role)}"}

    # ------------------------------------------------------------ sending

    def send(self, method, path, status, headers=None, body=None, role="admin",
             request_violation=False, prism=None):
        """method path through Prism; the answer's status must be status and
        Prism must report no response violation (and a request violation
        exactly when request_violation)."""
        prism = prism or self.prism
        hdrs = dict(self.auth_headers(role) if role else {})
        hdrs.update(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", prism.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        where = f"{method} {path} ({status})"
        if request_violation is True:
            # With --errors Prism refuses such a request itself (422, its
            # findings listed) and forwards nothing: queryd gets it directly.
            found = json.loads(data or b"{}").get("validation", [])
            if resp.status != 422 or not found:
                self.violations.append(f"{where}: Prism found no request violation in a "
                                       f"request the document refuses: {resp.status}")
            self.direct(method, path, status, headers=hdrs, body=body)
            return resp, data
        found = json.loads(resp.headers.get("sl-violations") or "[]")
        requests = [v for v in found if v.get("location", [""])[0] == "request"]
        responses = [v for v in found if v not in requests]
        for v in responses:
            self.violations.append(f"{where}: response {'.'.join(map(str, v['location']))}: "
                                   f"{v.get('message')}")
        if request_violation is False:
            for v in requests:
                self.violations.append(f"{where}: request "
                                       f"{'.'.join(map(str, v['location']))}: {v.get('message')}")
        if status is not None and resp.status != status:
            self.violations.append(f"{where}: answered {resp.status} "
                                   f"{data[:400].decode('utf-8', 'replace')!r}")
        return resp, data

    def direct(self, method, path, status, headers=None, body=None):
        """What Prism cannot take: straight to queryd, checked against the same
        document by test_openapi's validator."""
        resp = self.queryd.request(method, path, headers=headers or self.auth_headers(),
                                   body=body, timeout=60)
        self.assertEqual(resp.status, status, f"{method} {path}: {resp.describe()}")
        check_response(self, self.spec, method, path, resp)
        return resp

    # ------------------------------------------------------------ reads

    def test_collection_reads(self):
        for path in ("/users", "/users?limit=5", "/users?limit=5&after=10",
                     "/users?limit=5&offset=20", "/users?age=gte.30&age=lt.40&limit=50",
                     "/users?age=gte.30", "/users?select=id,name&limit=3",
                     "/users?order=age.desc,name&limit=7", "/users?count=exact&limit=3",
                     "/users?count=estimated&limit=3", "/users?name=like.Ada*",
                     "/users?id=in.(1,2,3)", "/users?bio=is.null&limit=5",
                     "/users?active=is.true&limit=5&select=id,active",
                     "/users?prefs=not.is.null&order=score.desc&limit=4",
                     "/users?after=3000", "/teams", "/items"):
            with self.subTest(path=path):
                self.send("GET", path, 200)
        self.direct("HEAD", "/users?limit=2", 200)

    def test_aggregates(self):
        for path in ("/users?select=active,count(),total:balance.sum()&order=count().desc"
                     "&count=exact",
                     "/users?select=count(),balance.max()&limit=1",
                     "/users?select=active,age.avg(),birthday.min()&offset=1"):
            with self.subTest(path=path):
                self.send("GET", path, 200)

    def test_items(self):
        self.send("GET", "/users/1", 200)
        self.send("GET", "/users/2?select=id,name,active", 200)
        self.direct("HEAD", "/users/3", 200)
        self.send("GET", "/users/999999", 404)
        self.send("GET", "/teams/1", 200)

    def test_formats(self):
        for path in ("/users?limit=3", "/users/1", "/users/1/peers?limit=3",
                     "/users?select=active,count()"):
            for accept in ("application/json", "application/x-ndjson", "text/csv"):
                with self.subTest(path=path, accept=accept):
                    self.send("GET", path, 200, headers={"Accept": accept})

    def test_named_query(self):
        self.send("GET", "/users/1/peers", 200)
        self.send("GET", "/users/1/peers?lo=30&hi=40&limit=5", 200)
        self.direct("HEAD", "/users/1/peers", 200)

    def test_embedding(self):
        self.db.execute("INSERT INTO items (id, name, qty, team_id) VALUES (1, 'a', 1, 1), "
                        "(2, 'b', 2, 2), (3, 'c', 3, NULL);", database=harness.DEMO_DB)
        for path in ("/items?select=id,name,teams(name)", "/teams?select=id,items(id,name)",
                     "/teams?select=id,things:items(id)&things.limit=1",
                     "/items/1?select=id,teams(id,name)"):
            with self.subTest(path=path):
                self.send("GET", path, 200)

    def test_builtin_routes(self):
        for path, accept in (("/healthz", None), ("/readyz", None), ("/openapi.json", None),
                             ("/", "text/html"), ("/explorer.js", None),
                             ("/explorer.css", None), ("/favicon.ico", None)):
            if self.spec.template_for(path) is None:
                continue  # served on the admin address only
            with self.subTest(path=path):
                self.send("GET", path, 200, headers={"Accept": accept} if accept else None)

    # ------------------------------------------------------------ refusals

    def test_invalid_parameters(self):
        # Within the document's schemas, refused by queryd.
        self.send("GET", "/users?after=abc", 400)
        self.send("GET", "/users?after=1&offset=2", 400)
        self.send("GET", "/users?select=active,count(),balance.sum()&count=estimated", 400)
        self.send("GET", "/users?age=eq.x", 400)
        self.send("GET", "/users?limit=1", 400, headers={"Accept": "text/csv;q=2"})
        # Outside them: Prism reports the request, queryd refuses it.
        self.send("GET", "/users?limit=abc", 400, request_violation=True)
        self.send("GET", "/users?limit=0", 400, request_violation=True)
        self.send("GET", "/users/1/peers?hi=x", 400, request_violation=True)
        self.send("GET", "/users?nosuchcolumn=eq.1", 400)  # Prism lets unknown names by

    def test_not_acceptable(self):
        # Prism may or may not call an Accept it has no content for a request violation.
        self.send("GET", "/users?limit=1", 406, headers={"Accept": "application/xml"},
                  request_violation=None)

    def test_identities(self):
        self.send("GET", "/users?limit=1", 200, role=None)  # the anonymous role
        self.send("GET", "/users?limit=1", 401,
                  headers={"Authorization": "Bearer not.a.token"}, role=None)
        self.send("POST", "/items", 403, body={"name": "x"}, role="anon")
        statuses = []
        limited = token("limited")
        for _ in range(8):  # a burst of 2, refilled at 1 per second
            resp, _ = self.send("GET", "/teams", None,
                                headers={"Authorization": f"Bearer {limited}"}, role=None)
            statuses.append(resp.status)
            if resp.status == 429:
                break
        self.assertIn(429, statuses)

    def test_not_routable(self):
        self.direct("GET", "/nope", 404)

    def test_method_not_allowed(self):
        # Each method a path does not serve is a 405-only operation: Prism
        # routes it, and the answer (problem+json, Allow) must fit.
        for method, path in (("DELETE", "/users"), ("PUT", "/users"), ("PATCH", "/users"),
                             ("POST", "/users/1"), ("PUT", "/teams")):
            with self.subTest(method=method, path=path):
                resp, _ = self.send(method, path, 405, request_violation=False)
                self.assertEqual(resp.status, 405)
                self.assertIn("GET", resp.headers.get("Allow", ""))

    # ------------------------------------------------------------ writes

    def test_writes(self):
        # Without Prefer: return=representation a 201 has no body, which the
        # document can only mark (x-body-optional): Prism wants the body it
        # lists, so those go to queryd directly.
        rep = {"Prefer": "return=representation"}
        full = {"name": "new", "price": "1.50", "big": 5, "qty": 1, "born": "2020-01-02",
                "seen": "2020-01-02T03:04:05", "meta": {"a": 1}, "team_id": 1}
        self.send("POST", "/items", 201, body={"id": 1, "name": "pen", "qty": 3}, headers=rep)
        self.direct("POST", "/items", 201, headers=dict(self.auth_headers(), **JSON),
                    body=json.dumps({"name": "plain"}).encode())
        self.send("POST", "/items", 201, body=[{"name": "a", "qty": 1}, {"name": "b", "qty": 2}],
                  headers=rep)
        self.send("POST", "/items", 201, body=b'{"name": "c", "qty": 3}\n{"name": "d", "qty": 4}\n',
                  headers=dict(rep, **{"Content-Type": "application/x-ndjson"}))
        self.send("POST", "/items", 201, body=b"name,qty\r\ne,5\r\n",
                  headers=dict(rep, **{"Content-Type": "text/csv"}))
        resp, _ = self.send("PUT", "/items/7", None, body=full, headers=rep)
        self.assertIn(resp.status, (200, 201))
        self.send("PUT", "/items/7", 200, body=dict(full, name="newer"), headers=rep)
        self.send("PATCH", "/items/7", 200, body={"qty": 4}, headers=rep)
        self.send("PATCH", "/items/7", 204, body={"qty": 5}, headers={"Prefer": "return=minimal"})
        self.send("PATCH", "/items?name=eq.pen", 204, body={"qty": 9})
        self.send("PATCH", "/items?qty=gte.1&qty=lt.100", 200, body={"qty": 6}, headers=rep)
        self.send("DELETE", "/items/7", 204)
        self.send("DELETE", "/items/7", 404)
        self.send("DELETE", "/items?name=eq.a", 204)
        self.send("DELETE", "/items?name=eq.b", 200, headers=rep)
        self.send("POST", "/items", 201, body={"name": "rolled back"},
                  headers=dict(rep, Prefer="return=representation, tx=rollback"))

    def test_write_refusals(self):
        self.send("POST", "/items", 201, body={"id": 1, "name": "pen"},
                  headers={"Prefer": "return=representation"})
        self.send("POST", "/items", 409, body={"id": 1, "name": "again"})
        self.send("POST", "/items", 409, body={"name": "x", "team_id": 99})
        self.send("POST", "/items", 422, body={"name": "x", "qty": -1})
        self.send("POST", "/items", 400, body=b'{"name": ', headers=JSON,
                  request_violation=None)
        self.send("POST", "/items", 400, body={"name": "x", "nosuch": 1},
                  request_violation=True)
        self.send("POST", "/items", 415, body=b"name=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"},
                  request_violation=True)
        # Answered at the head, before the body is read, and the connection
        # closed: Prism's client fails writing the rest (EPIPE) and never reads
        # that answer, so this one goes to queryd directly.
        big = json.dumps([{"name": "n" * 20, "qty": i} for i in range(40000)]).encode()
        head = (f"POST /items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                f"\r\nAuthorization: Bearer {self.admin}\r\nContent-Length: {len(big)}"
                f"\r\n\r\n").encode()
        resp = harness.raw_request(self.port, head + big, method="POST", timeout=60)
        self.assertEqual(resp.status, 413, resp.describe())
        check_response(self, self.spec, "POST", "/items", resp)


class CommittedDocumentTests(harness.DemoServiceTestCase):
    """openapi.yaml, as committed, in front of queryd with the demo configuration."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prism = Prism(cls.fixture.dir, "prism-yaml", SPEC_PATH, cls.port)
        cls.fixture.killers.append(cls.prism.stop)

    @classmethod
    def tearDownClass(cls):
        cls.prism.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.violations = []

    def tearDown(self):
        if self.violations:
            self.fail(f"{len(self.violations)} contract violation(s):\n  - "
                      + "\n  - ".join(self.violations))
        super().tearDown()

    send = ContractTests.send

    def auth_headers(self, role="admin"):
        return {}

    def test_reads(self):
        for path in ("/users?limit=5", "/users?age=gte.30&age=lt.40&limit=5",
                     "/users?select=id,name&limit=2", "/users/1", "/users/1?select=id",
                     "/users/1/peers?limit=3", "/users?select=active,count()", "/healthz",
                     "/readyz"):
            for accept in ("application/json", "application/x-ndjson", "text/csv"):
                if accept != "application/json" and not path.startswith("/users"):
                    continue
                with self.subTest(path=path, accept=accept):
                    self.send("GET", path, 200, headers={"Accept": accept}, role=None)
        self.send("GET", "/users/0", 404, role=None)
        self.send("GET", "/users?after=abc", 400, role=None)


if __name__ == "__main__":
    harness.main()
