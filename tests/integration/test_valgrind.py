"""queryd under valgrind: no invalid access, no uninitialised use, no leak.

The sanitizer build cannot run under valgrind, so CTest passes the plain twin
(target queryd_plain) with --queryd and the valgrind executable with
--valgrind.  queryd runs as

    valgrind --error-exitcode=99 --leak-check=full
             --errors-for-leak-kinds=definite,indirect
             --show-leak-kinds=definite,indirect --track-fds=no --quiet queryd

Phase 1 sends a bounded mixed load (a few thousand requests from several
keep-alive clients, capped in time): rows that exist and rows that do not,
keyset and offset pages, bad parameters, other methods, HEAD, /healthz and
/readyz; meanwhile clients hang up in the middle of full-table responses or
right after sending the request.  Every answer's status must be the one its
request calls for.  Phase 2 stops and restarts the database under a running
queryd.  After each phase the pool must be all idle, SIGTERM must give exit
code 0 and valgrind must have reported nothing.

Run directly with
    python3 tests/integration/test_valgrind.py --queryd build-asan/queryd_plain \
        --valgrind /usr/bin/valgrind -v
"""

import collections
import http.client
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import assert_json_ok, assert_problem

VALGRIND_ARGS = ["--error-exitcode=99", "--leak-check=full",
                 "--errors-for-leak-kinds=definite,indirect",
                 "--show-leak-kinds=definite,indirect", "--track-fds=no", "--quiet",
                 # Deep stacks make a report useful; no effect on a clean run.
                 "--num-callers=40",
                 # The MariaDB client runs each non-blocking call on a small
                 # stack of its own (about 60 KiB, one per connection, often
                 # mapped side by side). Valgrind takes a stack-pointer move
                 # below this size for a frame on the same stack and would
                 # report the neighbouring stack's reads as invalid; libuv's
                 # largest frame (its epoll event array) is about 12 KiB.
                 "--max-stackframe=32768"]
VALGRIND_ERROR_EXIT = 99

WORKERS = 2
POOL_SIZE = 4
SEED = 20240601

# Phase 1: keep-alive clients share this many requests, and stop sending new
# ones after LOAD_SECONDS whatever the count (valgrind makes everything
# 20-50 times slower; the cap keeps the test inside its time budget).
KEEP_ALIVE_CLIENTS = 6
LOAD_REQUESTS = 3000
LOAD_SECONDS = 60.0
MIN_LOAD_REQUESTS = 600
HANG_UPS_MID_RESPONSE = 20
HANG_UPS_AFTER_SEND = 5
RESTART_LOAD_REQUESTS = 300

FULL_TABLE = b"GET /users?limit=10000 HTTP/1.1\r\nHost: localhost\r\n\r\n"

# Set from --valgrind (stripped from argv before the harness sees it).
_valgrind_option = None


def valgrind_binary():
    for candidate in (_valgrind_option, os.environ.get("QUERYD_VALGRIND"),
                      shutil.which("valgrind")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# --------------------------------------------------------------------------
# valgrind output


VALGRIND_LINE = re.compile(r"^==\d+==.*$", re.M)
# Texts that only appear in valgrind's reports of real errors.
VALGRIND_ERROR_MARKERS = (
    "Invalid read", "Invalid write", "Invalid free", "Mismatched free",
    "uninitialised", "Conditional jump", "Syscall param", "overlap",
    "are definitely lost", "are indirectly lost", "Process terminating",
    "the 'impossible' happened", "INTERNAL ERROR", "Bad permissions",
    "Jump to the invalid address", "Argument 'size' of function",
)
LOST_BYTES = re.compile(r"(definitely|indirectly) lost: ([\d,]+) bytes")
ERROR_SUMMARY = re.compile(r"ERROR SUMMARY: ([\d,]+) errors")


def valgrind_problems(log):
    """The reasons a log shows valgrind errors; empty when it is clean."""
    problems = []
    for marker in VALGRIND_ERROR_MARKERS:
        if marker in log:
            problems.append(f"valgrind reported {marker!r}")
    for kind, count in LOST_BYTES.findall(log):
        if int(count.replace(",", "")) != 0:
            problems.append(f"{kind} lost: {count} bytes")
    for count in ERROR_SUMMARY.findall(log):
        if int(count.replace(",", "")) != 0:
            problems.append(f"ERROR SUMMARY: {count} errors")
    return problems


def valgrind_report(log, limit=12000):
    """valgrind's own lines from a log (what an assertion message shows)."""
    text = "\n".join(VALGRIND_LINE.findall(log))
    return text if len(text) <= limit else text[:limit] + "\n... (truncated)"


class ValgrindQueryd(harness.Queryd):
    """A harness Queryd whose process is valgrind running queryd."""

    def __init__(self, run_dir, name, env, valgrind, secrets=()):
        super().__init__(run_dir, name, env, secrets=secrets)
        self.valgrind = valgrind

    def command(self):
        return [self.valgrind, *VALGRIND_ARGS, harness.queryd_binary()]

    def _spawn(self):
        env = self.env_for_child()
        env["QUERYD_LISTEN"] = f"127.0.0.1:{self.port}"
        self.returncode = None
        with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err,
                                         preexec_fn=harness._die_with_parent)

    def stop_and_check_clean(self, tc, timeout=120.0):
        """SIGTERM; exit code 0, a clean log and no valgrind report."""
        rc = self.stop(signal.SIGTERM, timeout)
        log = self.log_text()
        problems = valgrind_problems(log)
        if rc == VALGRIND_ERROR_EXIT:
            problems.append(f"exit code {VALGRIND_ERROR_EXIT}: valgrind counted errors")
        tc.assertEqual(problems, [], f"{self.name}: valgrind found errors; its report:\n"
                       f"{self.redacted(valgrind_report(log))}")
        tc.assertEqual(rc, 0, f"{self.name} exit code {rc} after SIGTERM; output tail:\n"
                       f"{self.redacted(log[-4000:])}")
        self.check_log(tc)
        return log


# --------------------------------------------------------------------------
# Requests and what they must answer


# A schema for zero configuration: teams, members (a foreign key to teams), and
# tasks (to members), read and embedded without a configuration file.
EMBED_SCHEMA_SQL = """
DROP TABLE IF EXISTS vg_tasks, vg_members, vg_teams;
CREATE TABLE vg_teams (id INT NOT NULL PRIMARY KEY, name VARCHAR(30) NOT NULL);
CREATE TABLE vg_members (id INT NOT NULL PRIMARY KEY, team_id INT NULL, name VARCHAR(30) NOT NULL,
  FOREIGN KEY (team_id) REFERENCES vg_teams (id));
CREATE TABLE vg_tasks (id INT NOT NULL PRIMARY KEY, member_id INT NOT NULL, title VARCHAR(30),
  FOREIGN KEY (member_id) REFERENCES vg_members (id));
INSERT INTO vg_teams SELECT seq, CONCAT('team ', seq) FROM seq_1_to_300;
INSERT INTO vg_members SELECT seq, IF(seq % 10 = 0, NULL, 1 + seq % 300), CONCAT('m', seq)
  FROM seq_1_to_900;
INSERT INTO vg_tasks SELECT seq, 1 + seq % 900, CONCAT('t', seq) FROM seq_1_to_1800;
"""


class Job(collections.namedtuple("Job", "kind method path expect")):
    """One request: a category (for the tally), what to send, allowed statuses."""


BAD_IDS = ["abc", "1.5", "+1", "1e3", "0x1f", "12a", "--1", "9223372036854775808",
           "-9223372036854775809", "%201"]
MISSING_IDS = ["0", "-1", "3001", "999999", "9223372036854775807", "-9223372036854775808"]
BAD_PAGE_QUERIES = ["limit=0", "limit=-1", "limit=abc", "limit=1&limit=2", "after=1&offset=1",
                    "after=x", "offset=-1", "offset=1.5", "foo=1", "limit=",
                    "limit=99999999999999999999", "after=5&after=6"]
WRONG_METHODS = [("POST", "/users"), ("DELETE", "/users/5"), ("PUT", "/healthz"),
                 ("PATCH", "/readyz"), ("POST", "/users/1"), ("DELETE", "/users")]


def make_job(rng):
    r = rng.random()
    if r < 0.30:
        return Job("user", "GET", f"/users/{rng.randint(1, harness.DEMO_ROW_COUNT)}", {200})
    if r < 0.38:
        return Job("user-missing", "GET", f"/users/{rng.choice(MISSING_IDS)}", {404})
    if r < 0.44:
        return Job("user-bad-id", "GET", f"/users/{rng.choice(BAD_IDS)}", {400})
    if r < 0.58:
        limit = rng.randint(1, 60)
        after = rng.randint(-5, harness.DEMO_ROW_COUNT + 5)
        return Job("page-after", "GET", f"/users?limit={limit}&after={after}", {200})
    if r < 0.68:
        limit = rng.randint(1, 60)
        offset = rng.randint(0, harness.DEMO_ROW_COUNT + 5)
        return Job("page-offset", "GET", f"/users?offset={offset}&limit={limit}", {200})
    if r < 0.76:
        return Job("page-bad", "GET", f"/users?{rng.choice(BAD_PAGE_QUERIES)}", {400})
    if r < 0.81:
        method, path = rng.choice(WRONG_METHODS)
        return Job("method", method, path, {405})
    if r < 0.87:
        path, status = rng.choice([(f"/users/{rng.randint(1, 3000)}", 200),
                                   ("/users?limit=3", 200), ("/healthz", 200),
                                   ("/users/424242", 404), ("/users?limit=0", 400)])
        return Job("head", "HEAD", path, {status})
    if r < 0.90:
        return Job("healthz", "GET", "/healthz", {200})
    if r < 0.92:
        # Grouped answers and counts: exact, estimated (an EXPLAIN), of groups.
        return Job("aggregate", "GET", rng.choice([
            "/users?select=active,count(),balance.sum(),age.avg()&order=count().desc",
            "/users?age=gte.30&count=estimated&limit=5",
            "/users?select=count(),total:balance.max()&count=exact"]), {200})
    if r < 0.96:
        # 503 only when no pooled connection came free within /readyz's
        # own 2 s (checked in check_answer).
        return Job("readyz", "GET", "/readyz", {200, 503})
    return Job("unknown-path", "GET", rng.choice(["/nope", "/v1/users", "/users/1/x"]), {404})


def check_answer(job, resp, seconds):
    """None when resp is the right answer to job, else a short complaint."""
    if resp.status not in job.expect:
        return f"expected {sorted(job.expect)}"
    if job.kind == "readyz" and resp.status == 503 and seconds < 1.9:
        # Under load the round trip may wait for a connection past 2 s;
        # a quicker 503 means the database was considered unreachable.
        return f"503 after {seconds:.2f} s, not after waiting 2 s"
    if not resp.headers.get("X-Request-Id"):
        return "no X-Request-Id"
    if job.method == "HEAD":
        return "HEAD response has a body" if resp.body else None
    if resp.status >= 400:
        try:
            doc = resp.json()
        except ValueError:
            return "problem body is not JSON"
        if resp.content_type != "application/problem+json" or doc.get("status") != resp.status:
            return "not a problem document"
        if resp.status == 405 and resp.headers.get("Allow") != "GET, HEAD":
            return f"405 with Allow {resp.headers.get('Allow')!r}"
        if resp.status == 503 and not resp.headers.get("Retry-After"):
            return "503 without Retry-After"
        if job.kind == "readyz" and (doc.get("type") != "urn:queryd:problem:database-unavailable"
                                     or not isinstance(doc.get("pool"), dict)):
            return "readyz problem"
        return None
    if resp.content_type != "application/json":
        return "not application/json"
    body = resp.json()
    path, _, query = job.path.partition("?")
    if job.kind == "user":
        user_id = int(path.rsplit("/", 1)[1])
        if body.get("id") != user_id or set(body) != set(harness.DEMO_COLUMNS):
            return "wrong row"
        if user_id == 1 and body != harness.USER_1 or user_id == 2 and body != harness.USER_2:
            return "row differs from the contract"
    elif job.kind in ("page-after", "page-offset"):
        params = dict(p.split("=") for p in query.split("&"))
        limit = int(params["limit"])
        first = (max(int(params["after"]), 0) if "after" in params else int(params["offset"])) + 1
        last = min(first + limit - 1, harness.DEMO_ROW_COUNT)
        ids = [row.get("id") for row in body.get("data", [])]
        if ids != list(range(first, last + 1)):
            return f"page ids {ids[:3]}..{ids[-3:]} (want {first}..{last})"
        more = last < harness.DEMO_ROW_COUNT
        if (body.get("next") is not None) != more:
            return f"next {body.get('next')!r}"
    elif job.kind == "readyz":
        if body.get("status") != "ready" or body.get("pool", {}).get("size") != POOL_SIZE:
            return "readyz body"
    elif job.kind == "healthz" and body != {"status": "ok"}:
        return "healthz body"
    return None


class Tally:
    """Thread-safe counts of every answer, and the wrong ones."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.by_kind = collections.Counter()
        self.failures = []
        self.connections = 0
        self.slowest = {}

    def record(self, job, resp_or_exc, seconds=0.0):
        with self.lock:
            self.slowest[job.kind] = max(self.slowest.get(job.kind, 0.0), seconds)
            if isinstance(resp_or_exc, harness.Response):
                self.statuses[resp_or_exc.status] += 1
                self.by_kind[(job.kind, resp_or_exc.status)] += 1
                problem = check_answer(job, resp_or_exc, seconds)
                if problem and len(self.failures) < 50:
                    self.failures.append(f"{job.method} {job.path}: {problem}: "
                                         f"{resp_or_exc.describe()[:300]}")
            else:
                self.statuses[type(resp_or_exc).__name__] += 1
                if len(self.failures) < 50:
                    self.failures.append(f"{job.method} {job.path}: {resp_or_exc!r}")

    @property
    def total(self):
        return sum(self.statuses.values())

    def summary(self):
        kinds = ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(self.by_kind.items()))
        slowest = ", ".join(f"{k} {t:.2f} s" for k, t in
                            sorted(self.slowest.items(), key=lambda kt: -kt[1])[:3])
        return (f"{self.total} answers, statuses {dict(sorted(self.statuses.items(), key=str))}, "
                f"{self.connections} connections, slowest {slowest}; {kinds}")


def keep_alive_client(port, jobs, tally, stop_at, timeout=60.0):
    """Send jobs one after another over one connection, until stop_at.

    Should the server close the connection, http.client opens a new one;
    the connection count is only reported, not asserted.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sock = None
    try:
        for job in jobs:
            if time.monotonic() >= stop_at:
                break
            sent = time.monotonic()
            try:
                conn.request(job.method, job.path,
                             body=b"" if job.method in ("POST", "PUT", "PATCH") else None)
                if conn.sock is not sock:
                    sock = conn.sock
                    with tally.lock:
                        tally.connections += 1
                resp = conn.getresponse()
                tally.record(job, harness.Response(resp.status, resp.headers, resp.read()),
                             time.monotonic() - sent)
            except (OSError, http.client.HTTPException) as exc:
                tally.record(job, exc, time.monotonic() - sent)
                conn.close()
    finally:
        conn.close()


def run_threads(threads, timeout):
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return sum(1 for t in threads if t.is_alive())


# --------------------------------------------------------------------------


class LogCheckerTests(unittest.TestCase):
    """The log check itself must catch what valgrind prints on errors."""

    def test_catches_errors(self):
        bad = [
            "==123== Invalid read of size 8\n==123==    at 0x1: f (a.c:1)",
            "==123== Invalid write of size 1",
            "==123== Conditional jump or move depends on uninitialised value(s)",
            "==123== 40 bytes in 1 blocks are definitely lost in loss record 1 of 2",
            "==123==    definitely lost: 1,024 bytes in 3 blocks",
            "==123==    indirectly lost: 16 bytes in 1 blocks",
            "==123== ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)",
        ]
        for text in bad:
            with self.subTest(text=text):
                self.assertNotEqual(valgrind_problems(text), [], text)

    def test_accepts_clean_output(self):
        clean = ("queryd: listening on http://127.0.0.1:1\n"
                 "==123==    definitely lost: 0 bytes in 0 blocks\n"
                 "==123==    indirectly lost: 0 bytes in 0 blocks\n"
                 "==123==      possibly lost: 64 bytes in 1 blocks\n"
                 "==123== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n")
        self.assertEqual(valgrind_problems(clean), [])


class ValgrindServiceCase(unittest.TestCase):
    """Base class: a MariaDB with the demo data, and queryds started under valgrind."""

    run_name = "valgrind"

    @classmethod
    def setUpClass(cls):
        cls.valgrind = valgrind_binary()
        if not cls.valgrind:
            raise unittest.SkipTest("valgrind not found (pass --valgrind PATH)")
        binary = harness.queryd_binary()
        with open(binary, "rb") as f:
            if b"__asan_init" in f.read():
                raise AssertionError(f"{binary} is built with AddressSanitizer, which "
                                     "valgrind cannot run: pass the queryd_plain binary")
        cls.fixture = harness.TestRun(cls.run_name)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.database_url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD, harness.DEMO_DB)

    def setUp(self):
        # A test that stopped the database and failed before starting it
        # again must not fail the next one too.
        if not self.db.is_running():
            self.db.start(timeout=120)

    def start_queryd(self, name, **env):
        full_env = {"QUERYD_DATABASE_URL": self.database_url, "QUERYD_WORKERS": WORKERS,
                    "QUERYD_POOL_SIZE": POOL_SIZE}
        full_env.update({"QUERYD_" + k.upper(): v for k, v in env.items()})
        q = ValgrindQueryd(self.fixture.dir, name, full_env, self.valgrind,
                           secrets={harness.APP_PASSWORD})
        self.fixture.queryds.append(q)
        start = time.monotonic()
        q.start(timeout=120)
        sys.stderr.write(f"\n{name}: healthy under valgrind after "
                         f"{time.monotonic() - start:.1f} s\n")
        return q

    def assert_pool_idle(self, q, timeout=60.0):
        resp = q.wait_pool_idle(POOL_SIZE, timeout=timeout)
        self.assertIsNotNone(resp, "no /readyz answer")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(resp.json()["pool"], {"size": POOL_SIZE, "idle": POOL_SIZE,
                                               "busy": 0, "waiting": 0}, resp.describe())


class ValgrindTests(ValgrindServiceCase):
    def assert_running(self, q):
        self.assertTrue(q.running(), f"{q.name} exited (code {q.proc.returncode}); output tail:\n"
                        f"{q.redacted(valgrind_report(q.log_text()) or q.log_text()[-4000:])}")

    def test_mixed_load(self):
        q = self.start_queryd("queryd-vg-load", acquire_timeout_ms=60000)
        rng = random.Random(SEED)
        per_client = LOAD_REQUESTS // KEEP_ALIVE_CLIENTS
        tally = Tally()
        start = time.monotonic()
        stop_at = start + LOAD_SECONDS
        clients = [threading.Thread(target=keep_alive_client, daemon=True,
                                    args=(q.port, [make_job(rng) for _ in range(per_client)],
                                          tally, stop_at))
                   for _ in range(KEEP_ALIVE_CLIENTS)]

        hang_up_errors = []
        hang_up_bytes = []

        def hang_ups():
            # Mid-response hang-ups, two at a time, then ones that close
            # right after sending; some with RST instead of FIN.
            try:
                for i in range(0, HANG_UPS_MID_RESPONSE, 2):
                    pair = [threading.Thread(target=lambda n=n: hang_up_bytes.append(
                        harness.hang_up_after(q.port, FULL_TABLE, 1024 * (1 + n % 6), n % 3 == 0, timeout=60.0)))
                        for n in (i, i + 1)]
                    if run_threads(pair, 90):
                        hang_up_errors.append(f"hang-up pair {i} still reading after 90 s")
                        return
                for i in range(HANG_UPS_AFTER_SEND):
                    harness.hang_up_after(q.port, FULL_TABLE, 0, i % 2 == 0, timeout=60.0)
            except OSError as exc:
                hang_up_errors.append(repr(exc))

        hangers = threading.Thread(target=hang_ups, daemon=True)
        hung = run_threads(clients + [hangers], LOAD_SECONDS + 120)
        elapsed = time.monotonic() - start
        sys.stderr.write(f"load: {elapsed:.1f} s, {tally.summary()}; hang-ups read "
                         f"{sorted(hang_up_bytes)}\n")
        self.assertEqual(hung, 0, f"{hung} client threads still running")
        self.assert_running(q)
        self.assertEqual(tally.failures, [], f"wrong answers: {tally.summary()}")
        self.assertEqual(hang_up_errors, [])
        self.assertEqual(len(hang_up_bytes), HANG_UPS_MID_RESPONSE)
        self.assertTrue(all(n > 0 for n in hang_up_bytes),
                        f"a full-table request got no bytes before hanging up: {hang_up_bytes}")
        self.assertGreaterEqual(tally.total, MIN_LOAD_REQUESTS, tally.summary())
        # No 5xx at all, except /readyz timing out on a busy pool (checked
        # to have taken its 2 s in check_answer).
        self.assertEqual({(kind, status) for kind, status in tally.by_kind
                          if status not in (200, 400, 404, 405)} - {("readyz", 503)}, set(),
                         tally.summary())

        # Still serving, whole table included, and nothing left borrowed.
        self.assertEqual(assert_json_ok(self, q.get("/users/1", timeout=60)), harness.USER_1)
        page = assert_json_ok(self, q.get("/users?limit=10000", timeout=120))
        self.assertEqual(len(page["data"]), harness.DEMO_ROW_COUNT)
        self.assert_pool_idle(q)
        q.stop_and_check_clean(self)

    def test_schema_served_and_embedded(self):
        """Without a file: the schema read, relations built from its foreign
        keys, embedded answers in batches (parents past one batch, nested,
        NDJSON, a client gone mid-answer), then a reload."""
        self.db.execute(EMBED_SCHEMA_SQL, harness.DEMO_DB)
        q = self.start_queryd("queryd-vg-schema", config=None)
        for path, count in (("/vg_teams?select=id,name,vg_members(id,vg_tasks(id))"
                             "&limit=300", 300),
                            ("/vg_members?select=id,vg_teams(name)&limit=1000", 900),
                            ("/vg_teams?select=id,vg_members(id)&vg_members.limit=1"
                             "&vg_members.order=id.desc&offset=10&count=exact", 100),
                            ("/vg_members?select=team_id,count()&count=exact", 100)):
            with self.subTest(path=path):
                page = assert_json_ok(self, q.get(path, timeout=60))
                self.assertEqual(len(page["data"]), count)
        resp = q.get("/vg_teams?select=id,vg_members(id)&limit=300",
                     headers={"Accept": "application/x-ndjson"}, timeout=60)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(len(resp.body.splitlines()), 300)
        harness.hang_up_after(q.port, b"GET /vg_members?select=id,name,vg_teams(id,name),"
                              b"vg_tasks(id,title)&limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n",
                              2048, False, timeout=60.0)
        assert_problem(self, q.get("/vg_teams?select=id,nope(id)"), 400, "invalid-parameter")
        self.db.execute("DROP TABLE vg_tasks", harness.DEMO_DB)
        q.reload(timeout=120)
        assert_problem(self, q.get("/vg_members?select=id,vg_tasks(id)"), 400,
                       "invalid-parameter")
        self.assert_pool_idle(q)
        q.stop_and_check_clean(self)

    def outage(self, q, how):
        """Stop (how="stop") or SIGKILL (how="kill") the database under load, start it again.

        Requests keep coming meanwhile: each gets 200 or a 503/504 problem,
        never anything else and never no answer.
        """
        port = self.db.port
        stop = threading.Event()
        tally = Tally()
        rng = random.Random(f"{SEED}-{how}")
        jobs = [Job("outage", "GET", rng.choice(["/users/7", "/users?limit=20&after=100",
                                                 "/users?offset=50&limit=5", "/readyz"]),
                    {200, 503, 504}) for _ in range(4000)]
        client_deadline = time.monotonic() + 90

        def client(mine):
            for i in range(0, len(mine), 20):
                if stop.is_set() or time.monotonic() > client_deadline:
                    return
                keep_alive_client(q.port, mine[i:i + 20], tally, client_deadline, timeout=30)

        clients = [threading.Thread(target=client, args=(jobs[k::2],), daemon=True)
                   for k in range(2)]
        for t in clients:
            t.start()
        try:
            time.sleep(1.0)
            if how == "kill":
                self.db.kill()
            else:
                self.db.stop()
            # While it is down: data and /readyz answer 503, /healthz 200.
            for path in ("/users/1", "/users?limit=5", "/readyz"):
                resp = q.get(path, timeout=30)
                assert_problem(self, resp, 503, "database-unavailable")
            self.assertEqual(assert_json_ok(self, q.get("/healthz", timeout=30)),
                             {"status": "ok"})
            self.assertEqual(q.get("/nope", timeout=30).status, 404)
            self.db.start(timeout=120)
            self.assertEqual(self.db.port, port)
            recovered = harness.wait_until(
                lambda: q.get("/users/1", timeout=30).status == 200, 60, interval=0.3)
            self.assertTrue(recovered, f"queryd did not serve again within 60 s of the "
                            f"database coming back ({how})")
            time.sleep(1.0)
        finally:
            stop.set()
            join_by = time.monotonic() + 60
            for t in clients:
                t.join(max(0.0, join_by - time.monotonic()))
        sys.stderr.write(f"outage ({how}): {tally.summary()}\n")
        self.assertEqual(sum(1 for t in clients if t.is_alive()), 0, "outage clients hung")
        self.assert_running(q)
        self.assertEqual(tally.failures, [], tally.summary())
        self.assertGreater(tally.statuses[503], 0, f"no request saw the outage: {tally.summary()}")

    def test_database_restart(self):
        q = self.start_queryd("queryd-vg-restart", acquire_timeout_ms=3000, query_timeout_ms=2000)
        self.assertEqual(assert_json_ok(self, q.get("/users/1", timeout=60)), harness.USER_1)
        self.outage(q, "stop")
        self.outage(q, "kill")

        # Queries stuck behind a table lock past their deadline: 504, and
        # the cancelled connections come back to the pool.
        # Every request must reach its deadline while the lock holds it up,
        # however slow valgrind makes queryd; the lock ends after them.
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 90)
        try:
            results = harness.fire_concurrently(q.port, [("GET", f"/users/{i}")
                                                         for i in range(1, 7)], timeout=60)
        finally:
            lock.release()
        sys.stderr.write("behind a table lock: " + ", ".join(
            f"{path} {getattr(resp, 'status', resp)!r}" for (_, path), resp in results) + "\n")
        for (method, path), resp in results:
            self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
            if resp.status != 504:
                # Requests beyond the pool wait in the queue; past the
                # deadline there they answer 503 overloaded instead.
                assert_problem(self, resp, 503, "overloaded")
            else:
                assert_problem(self, resp, 504, "timeout")
        self.assertGreater(sum(1 for _, r in results if r.status == 504), 0,
                           [r.status for _, r in results])
        self.assert_pool_idle(q)

        # Every worker and pooled connection serves again: a mixed load
        # with the exact expectations of phase 1.
        rng = random.Random(SEED + 2)
        tally = Tally()
        stop_at = time.monotonic() + 40
        per_client = RESTART_LOAD_REQUESTS // 3
        threads = [threading.Thread(target=keep_alive_client, daemon=True,
                                    args=(q.port, [make_job(rng) for _ in range(per_client)],
                                          tally, stop_at))
                   for _ in range(3)]
        self.assertEqual(run_threads(threads, 100), 0, "clients hung after the restart")
        sys.stderr.write(f"after restart: {tally.summary()}\n")
        self.assertEqual(tally.failures, [], tally.summary())
        self.assertGreater(tally.total, 50, tally.summary())
        self.assert_pool_idle(q)
        q.stop_and_check_clean(self)


def _take_valgrind_option():
    global _valgrind_option
    _valgrind_option = harness.take_option("valgrind")


if __name__ == "__main__":
    _take_valgrind_option()
    harness.main()
