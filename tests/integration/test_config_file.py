"""The configuration file (QUERYD_CONFIG) at start-up.

Every kind of bad file must stop queryd with exit status 2 and one message
on stderr naming the file and the entry (for example
`resources[0] "/users"`), whether the problem is the file itself
(missing, JSON syntax with line and column), its shape (unknown keys, bad
values) or the live schema (missing table or column, sql that does not
prepare).  A database that cannot be reached at start makes queryd retry for
QUERYD_START_TIMEOUT_MS and then exit 1; one that comes up in time is used.
A file using every optional key starts and serves each entry.
"""

import copy
import signal
import time
import unittest

import harness
from harness import assert_json_ok, assert_problem

USERS = {"path": "/users", "table": "users", "key": "id"}
PEERS = harness.demo_config()["queries"][0]
PASSWORD = harness.APP_PASSWORD


def with_resource(**changes):
    entry = dict(USERS, **changes)
    return {"resources": [{k: v for k, v in entry.items() if v is not None}]}


def with_query(entry):
    return {"resources": [USERS], "queries": [entry]}


def peers(**changes):
    entry = copy.deepcopy(PEERS)
    entry.update(changes)
    return entry


def peers_param(name, spec):
    entry = copy.deepcopy(PEERS)
    entry["params"][name] = spec
    return entry


R0 = 'resources[0] "/users"'
Q1 = 'queries[0] "/users/{id}/peers"'

# name -> (file content, fragments the message must hold besides the file name)
BAD_FILES = {
    # the file itself
    "empty": ("", []),
    "syntax": ('{\n  "resources": [\n    {"path": "/users",, "table": "users", "key": "id"}\n'
               '  ]\n}\n', ["line 3", "column"]),
    "syntax-eof": ('{"resources": [\n', ["line"]),
    "not-utf8": (b'{"resources": [{"path": "/users", "table": "us\xffers", "key": "id"}]}', []),
    "top-array": ([USERS], []),
    "top-string": ('"resources"', []),
    "no-entries": ({}, []),
    "empty-lists": ({"resources": [], "queries": []}, []),
    "unknown-top-key": ({"resources": [USERS], "resource": []}, ["resource"]),
    "resources-not-array": ({"resources": USERS}, ["resources"]),
    "entry-not-object": ({"resources": ["/users"]}, ["resources[0]"]),
    # resource shape
    "unknown-resource-key": (with_resource(colums=["id"]), [R0, "colums"]),
    "missing-path": ({"resources": [{"table": "users", "key": "id"}]}, ["resources[0]", "path"]),
    "missing-table": (with_resource(table=None), [R0, "table"]),
    "missing-key": (with_resource(key=None), [R0, "key"]),
    "path-no-slash": (with_resource(path="users"), ["resources[0]", "users"]),
    "path-trailing-slash": (with_resource(path="/users/"), ["resources[0]", "/users/"]),
    "path-root": (with_resource(path="/"), ["resources[0]"]),
    "path-space": (with_resource(path="/us ers"), ["resources[0]"]),
    "path-empty-segment": (with_resource(path="/a//b"), ["resources[0]"]),
    "path-param-in-resource": (with_resource(path="/users/{id}"), ["resources[0]"]),
    "path-query": (with_resource(path="/users?x=1"), ["resources[0]"]),
    "table-empty": (with_resource(table=""), [R0, "table"]),
    "table-too-long": (with_resource(table="t" * 65), [R0, "table"]),
    "table-not-string": (with_resource(table=5), [R0, "table"]),
    "key-empty-array": (with_resource(key=[]), [R0, "key"]),
    "key-duplicate": (with_resource(key=["id", "id"]), [R0, "id"]),
    "key-five-columns": (with_resource(key=["id", "name", "email", "age", "balance"]), [R0, "key"]),
    "key-not-string": (with_resource(key=1), [R0, "key"]),
    "columns-empty": (with_resource(columns=[]), [R0, "columns"]),
    "columns-duplicate": (with_resource(columns=["id", "name", "id"]), [R0, "id"]),
    "key-not-in-columns": (with_resource(key="email", columns=["id", "name"]),
                           [R0, '"email"', '"columns"']),
    "types-bad-value": (with_resource(types={"active": "bool"}), [R0, "bool"]),
    "types-not-exposed": (with_resource(columns=["id", "name"], types={"active": "boolean"}),
                          [R0, "active"]),
    "max-limit-zero": (with_resource(max_limit=0), [R0, "max_limit"]),
    "max-limit-huge": (with_resource(max_limit=1000000001), [R0, "max_limit"]),
    "max-limit-string": (with_resource(max_limit="10"), [R0, "max_limit"]),
    "max-limit-fraction": (with_resource(max_limit=1.5), [R0, "max_limit"]),
    "default-limit-zero": (with_resource(default_limit=0), [R0, "default_limit"]),
    "default-over-max": (with_resource(max_limit=10, default_limit=11), [R0, "default_limit"]),
    "timeout-zero": (with_resource(timeout_ms=0), [R0, "timeout_ms"]),
    "timeout-huge": (with_resource(timeout_ms=3600001), [R0, "timeout_ms"]),
    # resource against the schema
    "unknown-table": (with_resource(path="/nope", table="nope"), ['resources[0] "/nope"', "nope"]),
    "unknown-column": (with_resource(columns=["id", "nosuch"]), [R0, "nosuch"]),
    "unknown-key-column": (with_resource(key="nosuch"), [R0, "nosuch"]),
    "types-unknown-column": (with_resource(types={"nosuch": "number"}), [R0, "nosuch"]),
    # query shape
    "unknown-query-key": (with_query(peers(param={})), [Q1, "param"]),
    "unknown-param-key": (with_query(peers_param("lo", {"type": "int", "dflt": 1})),
                          [Q1, "dflt"]),
    "missing-sql": (with_query({"path": "/q"}), ['queries[0] "/q"', "sql"]),
    "sql-empty": (with_query({"path": "/q", "sql": ""}), ['queries[0] "/q"']),
    "unknown-type": (with_query(peers_param("lo", {"type": "integer"})), [Q1, '"lo"', "type"]),
    "enum-without-values": (with_query(peers_param("lo", {"type": "enum"})), [Q1, "lo"]),
    "values-on-int": (with_query(peers_param("lo", {"type": "int", "values": ["1"]})),
                      [Q1, "lo"]),
    "enum-values-duplicate": (with_query(peers_param("lo", {"type": "enum",
                                                            "values": ["a", "a"]})), [Q1, "lo"]),
    "enum-values-empty": (with_query(peers_param("lo", {"type": "enum", "values": []})),
                          [Q1, "lo"]),
    "min-on-string": (with_query(peers_param("lo", {"type": "string", "min": 1})), [Q1, "lo"]),
    "max-length-on-int": (with_query(peers_param("lo", {"type": "int", "max_length": 3})),
                          [Q1, "lo"]),
    "default-invalid": (with_query(peers_param("lo", {"type": "int", "default": "abc"})),
                        [Q1, "lo"]),
    "default-below-min": (with_query(peers_param("limit", {"type": "int", "min": 1,
                                                           "default": 0})), [Q1, "limit"]),
    "default-bad-date": (with_query(peers_param("lo", {"type": "date", "default": "2024-02-30"})),
                         [Q1, "lo"]),
    "path-param-default": (with_query(peers_param("id", {"type": "int", "default": 1})),
                           [Q1, "id"]),
    "param-not-object": (with_query(peers_param("lo", "int")), [Q1, "lo"]),
    "max-rows-zero": (with_query(peers(max_rows=0)), [Q1, "max_rows"]),
    "max-rows-huge": (with_query(peers(max_rows=1000000001)), [Q1, "max_rows"]),
    "query-path-bad": (with_query(peers(path="/users/{id")), ["queries[0]"]),
    "query-path-bad-name": (with_query(peers(path="/users/{i d}/peers")), ["queries[0]"]),
    # query against the sql and the schema
    "sql-does-not-prepare": (with_query({"path": "/q", "sql": "SELEC id FROM users"}),
                             ['queries[0] "/q"']),
    "sql-unknown-table": (with_query({"path": "/q", "sql": "SELECT id FROM nosuch"}),
                          ['queries[0] "/q"', "nosuch"]),
    "sql-two-statements": (with_query({"path": "/q", "sql": "SELECT 1; SELECT 2"}),
                           ['queries[0] "/q"']),
    "undeclared-placeholder": (with_query({"path": "/q",
                                           "sql": "SELECT id FROM users WHERE id = :x"}),
                               ['queries[0] "/q"', "x"]),
    "unused-param": (with_query(peers_param("zz", {"type": "int", "default": 1})),
                     [Q1, 'parameter "zz" is not used in the sql']),
    "unused-path-param": (with_query({"path": "/q/{a}", "sql": "SELECT 1 AS one"}),
                          ['queries[0] "/q/{a}"', "a"]),
    "query-types-unknown-column": (with_query(peers(types={"nosuch": "boolean"})),
                                   [Q1, "nosuch"]),
    # paths that clash
    "duplicate-resource-paths": ({"resources": [USERS, dict(USERS, table="users")]},
                                 ['"/users"']),
    "duplicate-query-paths": ({"queries": [peers(), peers()]}, ['"/users/{id}/peers"']),
    "resource-vs-query": ({"resources": [dict(USERS, path="/x")],
                           "queries": [{"path": "/x", "sql": "SELECT 1 AS one"}]}, ['"/x"']),
    "healthz": (with_resource(path="/healthz"), ['"/healthz"']),
    "readyz-query": (with_query({"path": "/readyz", "sql": "SELECT 1 AS one"}), ['"/readyz"']),
    "metrics": (with_resource(path="/metrics"), ['"/metrics"']),
    "openapi": (with_resource(path="/openapi.json"), ['"/openapi.json"']),
    "explorer-script": (with_resource(path="/explorer.js"), ['"/explorer.js"']),
    "favicon-query": (with_query({"path": "/favicon.ico", "sql": "SELECT 1 AS one"}),
                      ['"/favicon.ico"']),
}

EVERY_KEY = {
    "resources": [
        {"path": "/v1/people.all~x-y_z", "table": "users", "key": ["id"],
         "columns": ["name", "id", "age", "active", "balance", "visits"],
         "types": {"active": "boolean", "balance": "number", "age": "string",
                   "visits": "number"},
         "max_limit": 50, "default_limit": 5, "timeout_ms": 2000},
        {"path": "/v1/by-email", "table": "users", "key": ["email", "id"],
         "columns": ["email", "id", "name"]},
    ],
    "queries": [
        peers(timeout_ms=3000, max_rows=500, types={"age": "string"}),
        {"path": "/v1/all/{tld}/{n}",
         "sql": "SELECT id, name, active FROM users WHERE email LIKE CONCAT('%.', :tld) "
                "AND id <= :n AND (score IS NULL OR score >= :s) AND balance >= :b "
                "AND name <> :name AND active = :on AND created_at >= :since "
                "AND (birthday IS NULL OR birthday >= :day) AND TIME(created_at) >= :t "
                "ORDER BY id",
         "params": {"tld": {"type": "enum", "values": ["com", "org", "net"]},
                    "n": {"type": "int", "min": 1, "max": 100},
                    "s": {"type": "number", "default": -1e9},
                    "b": {"type": "decimal", "default": "-100000.00"},
                    "name": {"type": "string", "max_length": 50, "default": ""},
                    "on": {"type": "boolean", "default": True},
                    "since": {"type": "datetime", "default": "1970-01-01T00:00:00"},
                    "day": {"type": "date", "default": "1000-01-01"},
                    "t": {"type": "time", "default": "00:00:00"}},
         "types": {"active": "boolean"}, "max_rows": 100, "timeout_ms": 4000},
    ],
}


class ConfigFileTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.url = cls.db.tcp_url(harness.APP_USER, PASSWORD, harness.DEMO_DB)

    def setUp(self):
        self.maxDiff = None

    def run_once(self, config_path, **env):
        full = {"QUERYD_DATABASE_URL": self.url, "QUERYD_CONFIG": config_path,
                "QUERYD_LISTEN": f"127.0.0.1:{harness.free_port()}",
                "QUERYD_START_TIMEOUT_MS": 10000}
        full.update(env)
        return harness.run_queryd_once(full, timeout=40)

    def assert_refused(self, config_path, fragments, status=2, **env):
        code, out, err = self.run_once(config_path, **env)
        where = f"{config_path}: stderr {err[-2000:]!r}"
        self.assertEqual(code, status, f"exit code {code}: {where}")
        if config_path is not None:
            self.assertIn(str(config_path), err, f"the message does not name the file: {where}")
        self.assertIn("queryd: ", err, where)
        for fragment in fragments:
            self.assertIn(fragment, err, f"the message does not say {fragment!r}: {where}")
        for stream in (out, err):
            self.assertNotIn(PASSWORD, stream)
            for marker in harness.FORBIDDEN_LOG_MARKERS:
                self.assertNotIn(marker, stream, where)
        return err

    # ------------------------------------------------------------ bad files

    def test_bad_files(self):
        for name, (doc, fragments) in BAD_FILES.items():
            with self.subTest(case=name):
                path = self.fixture.config_file("bad-" + name, doc)
                self.assert_refused(path, fragments)

    def test_syntax_error_position(self):
        path = self.fixture.config_file("bad-position", '{"resources": [\n  {"path": "/users",\n'
                                        '   "table": "users"\n   "key": "id"}]}\n')
        err = self.assert_refused(path, ["line 4", "column"])
        self.assertEqual(len([l for l in err.splitlines() if "queryd: " in l]), 1, err)

    def test_missing_file(self):
        path = self.fixture.dir / "no-such-file.json"
        self.assert_refused(path, [])

    def test_directory_as_file(self):
        self.assert_refused(self.fixture.dir, [])

    def test_config_variable_optional(self):
        """Without QUERYD_CONFIG the database's own tables are served."""
        q = self.fixture.queryd(self.url, name="no-file", QUERYD_CONFIG=None)
        try:
            resp = q.get("/users/1")
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertIn('serving table "users" at /users, items at /users/{id}', q.log_text())
        finally:
            q.stop_and_check(self)

    def test_one_message_per_error(self):
        path = self.fixture.config_file("bad-one-line", with_resource(key="email",
                                                                      columns=["id", "name"]))
        err = self.assert_refused(path, [R0])
        lines = [l for l in err.splitlines() if l.startswith("queryd: ")]
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith(f"queryd: {path}: {R0}"), lines[0])

    def test_unused_param_message_exact(self):
        doc = {"queries": [{"path": "/peers", "sql": "SELECT id FROM users WHERE id = :id",
                            "params": {"id": {"type": "int"}, "lo": {"type": "int"}}}]}
        path = self.fixture.config_file("bad-unused", doc)
        err = self.assert_refused(path, [])
        self.assertIn(f'{path}: queries[0] "/peers": parameter "lo" is not used in the sql', err)

    def test_key_not_in_columns_message_exact(self):
        doc = {"resources": [{"path": "/users", "table": "users", "key": "idx",
                              "columns": ["id", "name"]}]}
        path = self.fixture.config_file("bad-key-columns", doc)
        err = self.assert_refused(path, [])
        self.assertIn(f'{path}: resources[0] "/users": key column "idx" is not in "columns"', err)

    def test_second_entry_is_named(self):
        doc = {"resources": [USERS, {"path": "/other", "table": "nosuch", "key": "id"}]}
        path = self.fixture.config_file("bad-second", doc)
        self.assert_refused(path, ['resources[1] "/other"', "nosuch"])
        doc = {"resources": [USERS], "queries": [peers(), {"path": "/z", "sql": "SELEC 1"}]}
        path = self.fixture.config_file("bad-second-query", doc)
        self.assert_refused(path, ['queries[1] "/z"'])

    # ---------------------------------------------------------- good files

    def test_every_optional_key(self):
        q = self.fixture.queryd(self.url, name="every-key", config=EVERY_KEY)
        try:
            page = assert_json_ok(self, q.get("/v1/people.all~x-y_z"))
            self.assertEqual(len(page["data"]), 5, "default_limit 5")
            harness.assert_same_json(self, page["data"][0], {
                "name": "Ada Lovelace", "id": 1, "age": "36", "active": True,
                "balance": 1234.5, "visits": 9007199254740993})
            raw = q.get("/v1/people.all~x-y_z/1").raw_json()
            self.assertEqual(raw["balance"], ("float", "1234.50"))
            page = assert_json_ok(self, q.get("/v1/people.all~x-y_z?limit=1000"))
            self.assertEqual(len(page["data"]), 50, "max_limit 50")
            row = assert_json_ok(self, q.get("/v1/by-email/ada%40example.com/1"))
            self.assertEqual(row, {"email": "ada@example.com", "id": 1, "name": "Ada Lovelace"})
            assert_problem(self, q.get("/v1/by-email/ada%40example.com/2"), 404, "not-found")
            rows = assert_json_ok(self, q.get("/users/1/peers?limit=2"))["data"]
            self.assertEqual(len(rows), 2)
            self.assertIsInstance(rows[0]["age"], str)
            page = assert_json_ok(self, q.get("/v1/all/com/30"))
            expected = [int(r[0]) for r in harness.query_rows(
                self.db, "SELECT id FROM users WHERE email LIKE '%.com' AND id <= 30 "
                         "AND active = 1 ORDER BY id")]
            self.assertEqual([r["id"] for r in page["data"]], expected)
            for r in page["data"]:
                self.assertIs(r["active"], True)
            assert_problem(self, q.get("/users"), 404, "not-found")
            doc = assert_json_ok(self, q.get("/openapi.json"))
            self.assertTrue(str(doc.get("openapi", "")).startswith("3.1"), doc.get("openapi"))
            paths = set(doc.get("paths", {}))
            for path in ("/v1/people.all~x-y_z", "/v1/people.all~x-y_z/{id}",
                         "/v1/by-email/{email}/{id}", "/users/{id}/peers", "/v1/all/{tld}/{n}"):
                self.assertIn(path, paths)
            self.assertNotIn("/users", paths)
        finally:
            q.stop_and_check(self)

    def test_only_queries(self):
        q = self.fixture.queryd(self.url, name="only-queries", config={"queries": [peers()]})
        try:
            self.assertEqual(len(assert_json_ok(self, q.get("/users/1/peers"))["data"]), 50)
            assert_problem(self, q.get("/users/1"), 404, "not-found")
        finally:
            q.stop_and_check(self)

    def test_unknown_placeholder_in_comment_is_fine(self):
        doc = {"queries": [{"path": "/one", "sql": "SELECT 1 AS one -- :x\n"}]}
        q = self.fixture.queryd(self.url, name="comment", config=doc)
        try:
            self.assertEqual(assert_json_ok(self, q.get("/one")),
                             {"data": [{"one": 1}], "next": None})
        finally:
            q.stop_and_check(self)

    def test_sigint_exits_zero(self):
        q = self.fixture.queryd(self.url, name="queryd-sigint")
        self.assertEqual(q.get("/users/1").status, 200)
        q.stop_and_check(self, sig=signal.SIGINT)

    # -------------------------------------------------- database at start

    def test_database_unreachable_at_start(self):
        url = f"mysql://queryd:{PASSWORD}@127.0.0.1:{harness.free_port()}/queryd"
        start = time.monotonic()
        code, out, err = self.run_once(str(harness.DEMO_CONFIG), QUERYD_DATABASE_URL=url,
                                       QUERYD_START_TIMEOUT_MS=1000)
        elapsed = time.monotonic() - start
        self.assertEqual(code, 1, f"exit code {code}; stderr {err[-2000:]!r}")
        self.assertGreaterEqual(elapsed, 0.9, "gave up before QUERYD_START_TIMEOUT_MS")
        self.assertLess(elapsed, 6.0, "QUERYD_START_TIMEOUT_MS=1000 was not honoured")
        self.assertNotIn(PASSWORD, out + err)
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, out + err)

    def test_bad_start_timeout(self):
        for value in ("abc", "-1", "1.5", "3600001"):
            with self.subTest(value=value):
                code, out, err = self.run_once(str(harness.DEMO_CONFIG),
                                               QUERYD_START_TIMEOUT_MS=value)
                self.assertEqual(code, 2, err)
                self.assertIn("QUERYD_START_TIMEOUT_MS", err)

    def test_database_arriving_within_the_start_timeout(self):
        db = self.fixture.start_mariadb(name="late")
        harness.load_demo(db)
        url = db.tcp_url(harness.APP_USER, PASSWORD, harness.DEMO_DB)
        db.stop()
        q = self.fixture.queryd(url, name="queryd-late", start=False, start_timeout_ms=60000)
        q.start(wait_healthy=False)
        try:
            time.sleep(2.0)
            self.assertTrue(q.running(), f"queryd gave up early: {q.log_text()[-2000:]}")
            db.start(timeout=120)
            self.assertTrue(harness.wait_until(
                lambda: q.get("/users/1", timeout=2).status == 200, 60),
                f"not serving after the database came up: {q.log_text()[-2000:]}")
            harness.assert_same_json(self, assert_json_ok(self, q.get("/users/1")),
                                     harness.USER_1)
        finally:
            q.stop_and_check(self)
            db.stop()


if __name__ == "__main__":
    harness.main()
