"""Shared machinery for the queryd integration tests.

Each test program starts its own private MariaDB (scripts/private_mariadb.py),
loads what it needs, runs the real queryd binary against it on a loopback port
and speaks HTTP to it.  Everything started here is stopped again however the
test ends: normal teardown, a failing setUpClass, an exception, SIGTERM, or
the watchdog that fires shortly before CTest's own timeout would.

Run a test program directly with
    python3 tests/integration/test_endpoints.py --queryd build-asan/queryd -v
or through CTest, which passes --queryd and --state-root.  Every queryd gets
QUERYD_CONFIG=docker/queryd.json unless the test gives its own file
(TestRun.queryd(config=...), DemoServiceTestCase.queryd_config).  QUERYD_BIN and
QUERYD_ITEST_STATE are honoured when the options are absent, and
QUERYD_ITEST_KEEP=1 keeps the MariaDB data directories for inspection.

Every test must pass alone and in any order: it sets up what it needs and
leaves the shared MariaDB and queryd as it found them.  To check that,
QUERYD_TEST_ORDER=reverse runs the test classes and the tests of each class
in reverse order, and QUERYD_TEST_ORDER=shuffle:SEED (or just shuffle, which
picks and prints a seed) in an order drawn from SEED.  -k PATTERN runs only
the tests whose names match, Class.test_name exactly that one.
"""

import atexit
import ctypes
import http.client
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
from pathlib import Path
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO_ROOT / "scripts"
DEMO_SQL = [REPO_ROOT / "docker" / "initdb" / "01-schema.sql",
            REPO_ROOT / "docker" / "initdb" / "02-data.sql"]
# The endpoints configuration every queryd gets unless a test gives its own.
DEMO_CONFIG = REPO_ROOT / "docker" / "queryd.json"

DEMO_DB = "queryd"
APP_USER = "queryd"
APP_PASSWORD = "queryd-secret"

# Strings that must never appear in queryd's output: sanitizer reports, UBSan
# diagnostics, and the pool's report of a connection still borrowed at exit.
FORBIDDEN_LOG_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error", "leaked")

# The demo rows the contract spells out exactly.
USER_1 = {
    "id": 1,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "age": 36,
    "balance": "1234.50",
    "active": True,
    "created_at": "2024-05-01T13:45:00",
    "bio": "First programmer; \"quotes\", \\backslash\\ and emoji \U0001F680 and \u65e5\u672c\u8a9e",
    "visits": "9007199254740993",
    "score": 0.1,
    "birthday": "1815-12-10",
    "last_login": "2024-05-01T13:45:00.123+00:00",
    "avatar": "3q2+7w==",
    "prefs": {"theme": "dark", "langs": ["en", "fr"]},
}
USER_2 = {
    "id": 2,
    "name": "NULL Nobody",
    "email": "nobody@example.com",
    "age": None,
    "balance": "-0.01",
    "active": False,
    "created_at": "1970-01-01T00:00:00",
    "bio": None,
    "visits": "-9007199254740993",
    "score": None,
    "birthday": None,
    "last_login": None,
    "avatar": None,
    "prefs": None,
}
# docker/queryd.json types "active" as boolean: true/false, never 1/0.  Compare
# rows with json_text() (or assert_same_json) where that matters, since
# True == 1 in Python.
DEMO_COLUMNS = list(USER_1.keys())
DEMO_ROW_COUNT = 3000

# Options given on the command line (or by CTest); see main().
_options = {"queryd": None, "state_root": None, "deadline": None}

# Every TestRun alive in this process, so the watchdog, atexit and the signal
# handler can tear them down.
_live_runs = []
_live_lock = threading.Lock()


# --------------------------------------------------------------------------
# Program entry



def take_option(name):
    """Removes `--name VALUE` or `--name=VALUE` from sys.argv and returns VALUE.

    For options of one test program that harness.main() does not know.
    """
    flag = "--" + name
    value = None
    kept = [sys.argv[0]]
    args = iter(sys.argv[1:])
    for arg in args:
        option, eq, given = arg.partition("=")
        if option != flag:
            kept.append(arg)
        elif eq:
            value = given
        else:
            value = next(args, None)
            if value is None:
                sys.exit(f"{flag} needs a value")
    sys.argv = kept
    return value

def main():
    """Parse the harness options out of sys.argv and run unittest.

    Recognised: --queryd PATH, --state-root DIR, --deadline SECONDS.  The
    remaining arguments go to unittest (so -v, -k and test names work).
    """
    argv = [sys.argv[0]]
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--queryd", "--state-root", "--deadline"):
            if not eq:
                i += 1
                if i >= len(args):
                    sys.exit(f"{name} needs a value")
                value = args[i]
            _options[name[2:].replace("-", "_")] = value
        else:
            argv.append(arg)
        i += 1
    deadline = _options["deadline"] or os.environ.get("QUERYD_ITEST_DEADLINE")
    if deadline:
        _start_watchdog(float(deadline))
    signal.signal(signal.SIGTERM, _on_sigterm)
    loader = OrderedTestLoader(os.environ.get("QUERYD_TEST_ORDER", ""))
    unittest.main(argv=argv, verbosity=2, testLoader=loader)


class OrderedTestLoader(unittest.TestLoader):
    """unittest's loader with the order of QUERYD_TEST_ORDER (see the top).

    The tests of one class stay together, so each class still sets up its
    MariaDB and queryd once.
    """

    def __init__(self, order):
        super().__init__()
        kind, _, seed = order.partition(":")
        if kind not in ("", "sorted", "reverse", "shuffle"):
            sys.exit(f"QUERYD_TEST_ORDER must be sorted, reverse or shuffle[:SEED], "
                     f"not {order!r}")
        if kind == "shuffle" and not seed:
            seed = str(random.randrange(1 << 32))
        self.kind, self.seed = kind, seed
        if kind in ("reverse", "shuffle"):
            sys.stderr.write(f"test order: {kind}{':' + seed if seed else ''}\n")

    def arrange(self, items, key):
        """items (already sorted by name) in the chosen order; key names the list."""
        items = list(items)
        if self.kind == "reverse":
            items.reverse()
        elif self.kind == "shuffle":
            random.Random(f"{self.seed}:{key}").shuffle(items)
        return items

    def getTestCaseNames(self, testCaseClass):
        return self.arrange(super().getTestCaseNames(testCaseClass), testCaseClass.__name__)

    def loadTestsFromModule(self, module, *args, **kw):
        suite = super().loadTestsFromModule(module, *args, **kw)
        return self.suiteClass(self.arrange(suite, module.__name__))


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def _start_watchdog(seconds):
    """Kill everything and exit 124 if the program runs longer than seconds.

    CTest's own timeout kills only the Python process; this makes sure the
    MariaDB and queryd children do not outlive it.
    """
    def fire():
        sys.stderr.write(f"\nharness: deadline of {seconds:.0f} s reached, "
                         "killing queryd and MariaDB\n")
        for run in list(_live_runs):
            run.close(hard=True)
        sys.stderr.flush()
        os._exit(124)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


@atexit.register
def _close_all_runs():
    for run in list(_live_runs):
        run.close(hard=True)


def queryd_binary():
    """Path of the queryd executable under test."""
    candidates = [_options["queryd"], os.environ.get("QUERYD_BIN")]
    candidates += [str(REPO_ROOT / "build-asan" / "queryd"), str(REPO_ROOT / "build" / "queryd")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return str(Path(candidate).resolve())
    raise RuntimeError("queryd binary not found: pass --queryd PATH or set QUERYD_BIN")


def state_root():
    """Directory holding the per-run state directories."""
    root = _options["state_root"] or os.environ.get("QUERYD_ITEST_STATE")
    if not root:
        root = str(Path(queryd_binary()).parent / "itest-state")
    return Path(root).resolve()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """preexec_fn: deliver SIGKILL to the child when this process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def wait_until(predicate, timeout, interval=0.05):
    """Call predicate until it returns a truthy value or timeout passes.

    Returns the last value; exceptions from predicate count as falsy.
    """
    deadline = time.monotonic() + timeout
    value = None
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - the caller only wants a yes or no
            value = None
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------
# HTTP


class Response(NamedTuple):
    """One HTTP response: status, headers (case-insensitive), body bytes."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def raw_json(self):
        """The body parsed with every number kept as its exact text.

        Numbers come back as ("int", text) or ("float", text) so tests can
        check how a value was printed, not only what it parses to.
        """
        return json.loads(self.body.decode("utf-8"),
                          parse_int=lambda s: ("int", s),
                          parse_float=lambda s: ("float", s))

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def describe(self):
        """A short text for assertion messages."""
        body = self.body[:600].decode("utf-8", "replace")
        return f"HTTP {self.status} {self.content_type!r} {body!r}"


def http_request(port, method, path, headers=None, body=None, timeout=10.0,
                 host="127.0.0.1"):
    """Send one request on a fresh connection and return its Response."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data)
    finally:
        conn.close()


def raw_request(port, data, method="GET", timeout=10.0, host="127.0.0.1"):
    """Send bytes exactly as given and parse one response.

    For requests http.client refuses to build (spaces or control bytes in the
    target, malformed request lines, huge headers).  Raises OSError or
    http.client.HTTPException when the server drops the connection without
    an answer.
    """
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer and close before reading everything
            # (oversized requests); its answer can still be read.
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        return Response(resp.status, resp.headers, body)
    finally:
        sock.close()


def hang_up_after(port, request, read_bytes, reset=False, timeout=10.0):
    """Send request, read about read_bytes (0: none), then close."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if reset:
            # SO_LINGER 0 makes close() send RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(request)
        got = 0
        while got < read_bytes:
            chunk = sock.recv(min(4096, read_bytes - got))
            if not chunk:
                break
            got += len(chunk)
        return got
    finally:
        sock.close()


class KeepAliveClient:
    """Many requests over one HTTP/1.1 connection.

    http.client would silently open a new connection when the server closed
    the previous one; auto_open is switched off so that shows up as an error,
    and local_port lets a test check the same socket was used throughout.
    """

    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.conn.connect()
        self.conn.auto_open = 0
        self.sock = self.conn.sock
        self.local_port = self.sock.getsockname()[1]
        self.requests = 0

    def request(self, method, path, headers=None, body=None):
        if self.conn.sock is not self.sock:
            raise AssertionError("keep-alive connection was closed or replaced "
                                 f"after {self.requests} requests")
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        data = resp.read()
        self.requests += 1
        if resp.will_close:
            raise AssertionError(f"server closed the keep-alive connection after "
                                 f"request {self.requests} ({method} {path}, "
                                 f"HTTP {resp.status})")
        return Response(resp.status, resp.headers, data)

    def still_same_socket(self):
        sock = self.conn.sock
        return sock is self.sock and sock.getsockname()[1] == self.local_port

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fire_concurrently(port, jobs, timeout=120.0):
    """Run each (method, path[, headers]) job on its own connection, all at once.

    Every thread connects first, then all send together once the barrier
    opens.  Returns one (job, Response or exception) per job, in order.
    """
    results = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))
    deadline = time.monotonic() + timeout

    def worker(i, job):
        conn = None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.connect()
        except OSError as exc:
            results[i] = exc
        try:
            barrier.wait(timeout=max(1.0, deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            pass
        if results[i] is not None:
            return
        try:
            conn.request(job[0], job[1], headers=job[2] if len(job) > 2 else {})
            resp = conn.getresponse()
            results[i] = Response(resp.status, resp.headers, resp.read())
        except (OSError, http.client.HTTPException) as exc:
            results[i] = exc
        finally:
            conn.close()

    old_stack = threading.stack_size(512 * 1024)
    try:
        threads = [threading.Thread(target=worker, args=(i, job), daemon=True)
                   for i, job in enumerate(jobs)]
        for t in threads:
            t.start()
    finally:
        threading.stack_size(old_stack)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    hung = sum(1 for t in threads if t.is_alive())
    if hung:
        raise AssertionError(f"{hung} of {len(jobs)} requests still running after "
                             f"{timeout:.0f} s")
    return list(zip(jobs, results))


class TableLock:
    """A WRITE lock on a table held by another session; see lock_users_table."""

    _count = 0

    def __init__(self, db, database, seconds, table="users"):
        TableLock._count += 1
        self.db = db
        self.table = table
        # Names this lock's statement in the process list, for release().
        self.token = f"queryd-test-lock-{os.getpid()}-{TableLock._count}"
        self.error = None
        self.thread = threading.Thread(target=self._hold, args=(database, seconds),
                                       daemon=True)

    def _hold(self, database, seconds):
        try:
            self.db.execute(f"LOCK TABLES `{self.table}` WRITE; DO SLEEP({seconds}), "
                            f"'{self.token}'; "
                            "UNLOCK TABLES;", database, timeout=seconds + 60)
        except Exception as exc:  # noqa: BLE001 - the database went away: no lock either
            self.error = exc

    def is_alive(self):
        """Whether the lock is (still) held."""
        return self.thread.is_alive()

    def join(self, timeout=None):
        """Wait for the lock to end by itself."""
        self.thread.join(timeout)

    def release(self, timeout=60):
        """End the lock now and wait until it is gone.

        A test holds a lock for longer than its steps can take, however
        slow the machine, and releases it as soon as they are done.
        """
        try:
            if self.thread.is_alive():
                ids = self.db.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE "
                                      f"INFO LIKE 'DO SLEEP(%{self.token}%'",
                                      column_names=False).split()
                for thread_id in ids:
                    self.db.execute(f"KILL QUERY {thread_id}")
        except Exception:  # noqa: BLE001 - it ended meanwhile, or the database is down
            pass
        self.thread.join(timeout)


def lock_users_table(db, database, seconds, table="users"):
    """Hold a WRITE lock on `users` (or table) for about `seconds` from another session.

    Reads of the table block meanwhile, which makes every pooled connection
    that queries it stay busy.  Returns the TableLock once the lock is really
    held: join() waits for it to end by itself, release() ends it at once.
    """
    lock = TableLock(db, database, seconds, table)
    lock.thread.start()
    held = wait_until(lambda: db.query_value(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
        f"WHERE INFO LIKE 'DO SLEEP(%{lock.token}%'") == "1", 15)
    if not held:
        raise AssertionError("the table lock was not taken within 15 s")
    return lock


def metric(q, name):
    """The value of an unlabelled counter or gauge of q's /metrics, as an int."""
    resp = q.get("/metrics")
    if resp.status != 200:
        raise AssertionError(f"/metrics: {resp.describe()}")
    for line in resp.body.decode("utf-8").splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError(f"/metrics has no {name}")


def assert_problem(tc, resp, status, slug, mentions=None):
    """Assert resp is an RFC 9457 problem document as the contract describes.

    mentions: a word the detail must contain (the parameter's name).
    """
    tc.assertEqual(resp.status, status, resp.describe())
    tc.assertEqual(resp.content_type, "application/problem+json", resp.describe())
    try:
        doc = resp.json()
    except ValueError as exc:
        tc.fail(f"problem body is not JSON ({exc}): {resp.describe()}")
    tc.assertIsInstance(doc, dict, resp.describe())
    tc.assertEqual(doc.get("type"), f"urn:queryd:problem:{slug}", resp.describe())
    tc.assertIsInstance(doc.get("title"), str, resp.describe())
    tc.assertTrue(doc["title"], resp.describe())
    tc.assertIs(type(doc.get("status")), int, resp.describe())
    tc.assertEqual(doc["status"], status, resp.describe())
    tc.assertIsInstance(doc.get("detail"), str, resp.describe())
    tc.assertTrue(doc["detail"], resp.describe())
    request_id = resp.headers.get("X-Request-Id")
    tc.assertTrue(request_id, f"no X-Request-Id header: {resp.describe()}")
    tc.assertEqual(doc.get("request_id"), request_id, resp.describe())
    if "errno" in doc:
        tc.assertIs(type(doc["errno"]), int, resp.describe())
    if "sqlstate" in doc:
        tc.assertIsInstance(doc["sqlstate"], str, resp.describe())
        tc.assertEqual(len(doc["sqlstate"]), 5, resp.describe())
    if mentions is not None:
        tc.assertIn(mentions, doc["detail"], f"detail should name {mentions!r}: "
                    f"{resp.describe()}")
    if status == 503:
        tc.assertTrue(resp.headers.get("Retry-After"),
                      f"503 without Retry-After: {resp.describe()}")
    return doc


def assert_invalid(tc, resp, parameter, mentions=None):
    """Assert a 400 invalid-parameter problem whose "parameter" member is parameter."""
    doc = assert_problem(tc, resp, 400, "invalid-parameter", mentions=mentions)
    tc.assertEqual(doc.get("parameter"), parameter,
                   f"\"parameter\" should be {parameter!r}: {resp.describe()}")
    return doc


def json_text(value):
    """value as JSON text, keys in their order: tells true from 1 and 1 from 1.0."""
    return json.dumps(value, ensure_ascii=False)


def assert_same_json(tc, got, expected, msg=None):
    """Assert got and expected are the same JSON: values, their JSON types
    (true is not 1) and the order of object keys."""
    tc.assertEqual(json_text(got), json_text(expected), msg)


def assert_json_ok(tc, resp):
    """Assert a 200 application/json response and return the parsed body."""
    tc.assertEqual(resp.status, 200, resp.describe())
    tc.assertEqual(resp.content_type, "application/json", resp.describe())
    tc.assertTrue(resp.headers.get("X-Request-Id"), f"no X-Request-Id: {resp.describe()}")
    return resp.json()


def parse_next(next_link):
    """Split a next link into (path, {param: [values]})."""
    parts = urllib.parse.urlsplit(next_link)
    return parts.path, urllib.parse.parse_qs(parts.query, keep_blank_values=True)


# --------------------------------------------------------------------------
# Configuration files and SQL


def write_config(path, doc):
    """Write a queryd configuration file and return its path.

    doc: a dict or list (written as JSON) or str/bytes (written as given, for
    files that are broken on purpose).  The file is replaced atomically, so a
    queryd reloading it never reads half a file.
    """
    path = Path(path)
    if isinstance(doc, (dict, list)):
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    elif isinstance(doc, str):
        data = doc.encode("utf-8")
    else:
        data = bytes(doc)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def demo_config():
    """docker/queryd.json as a dict, to build variants of it."""
    return json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))


def sql_text(value):
    """SQL for a utf8mb4 string, immune to quoting and escaping rules."""
    return f"CONVERT(X'{value.encode('utf-8').hex()}' USING utf8mb4)"


def sql_literal(value):
    """SQL for None, bool, int, float, Decimal or str."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return sql_text(value)
    return str(value)  # Decimal and friends print as SQL numbers


def query_rows(db, sql, database=DEMO_DB):
    """The rows of sql as lists of strings (None for NULL), from the admin client.

    Only for simple values: the client's batch output escapes tabs, newlines
    and backslashes.
    """
    out = db.execute(sql, database, column_names=False)
    return [[None if cell == "NULL" else cell for cell in line.split("\t")]
            for line in out.split("\n") if line]


# --------------------------------------------------------------------------
# Processes


class Queryd:
    """One queryd process with its output captured to files."""

    def __init__(self, run_dir, name, env, secrets=()):
        self.run_dir = Path(run_dir)
        self.name = name
        self.env = env
        self.secrets = [s for s in secrets if s]
        self.stderr_path = self.run_dir / f"{name}.stderr.log"
        self.stdout_path = self.run_dir / f"{name}.stdout.log"
        self.proc = None
        self.port = None
        self.returncode = None

    # -- lifecycle

    def start(self, port=None, timeout=30.0, wait_healthy=True):
        """Start queryd and wait until GET /healthz answers 200.

        With port None a free port is picked, and picked again if another
        process took it in the meantime.
        """
        attempts = 1 if port is not None else 3
        for attempt in range(attempts):
            self.port = port if port is not None else free_port()
            self._spawn()
            if not wait_healthy:
                return self
            if self._wait_healthy(timeout):
                return self
            log = self.log_text()
            if self.proc.poll() is not None and "in use" in log and attempt + 1 < attempts:
                continue
            self.kill()
            raise RuntimeError(f"{self.name} did not become healthy within {timeout:.0f} s "
                               f"(exit code {self.proc.returncode}); stderr:\n"
                               f"{self.redacted(log[-4000:])}")
        raise AssertionError("unreachable")

    def _spawn(self):
        env = self.env_for_child()
        env["QUERYD_LISTEN"] = f"127.0.0.1:{self.port}"
        self.returncode = None
        with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen([queryd_binary()], env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, preexec_fn=_die_with_parent)

    def env_for_child(self):
        return child_env(self.env)

    def _wait_healthy(self, timeout):
        def healthy():
            if self.proc.poll() is not None:
                return "exited"
            resp = http_request(self.port, "GET", "/healthz", timeout=1.0)
            return "ok" if resp.status == 200 else None
        return wait_until(healthy, timeout) == "ok"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Send sig and wait for exit; returns the exit code.

        Raises AssertionError (after SIGKILL) if it does not exit in time.
        """
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.name} ignored {signal.Signals(sig).name} for "
                                     f"{timeout:.0f} s and was killed; stderr tail:\n"
                                     f"{self.redacted(self.log_text()[-4000:])}")
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    # -- output

    def log_text(self):
        """stdout and stderr so far, decoded leniently."""
        text = ""
        for path in (self.stderr_path, self.stdout_path):
            try:
                text += path.read_bytes().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def log_size(self):
        """How much output there is so far: an offset for wait_for_log()."""
        sizes = []
        for path in (self.stderr_path, self.stdout_path):
            try:
                sizes.append(path.stat().st_size)
            except FileNotFoundError:
                sizes.append(0)
        return tuple(sizes)

    def log_since(self, offset):
        """stderr and stdout written after offset (from log_size())."""
        text = ""
        for path, start in zip((self.stderr_path, self.stdout_path), offset or (0, 0)):
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    text += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def wait_for_log(self, needle, offset=None, timeout=10.0):
        """Wait until the output after offset (from log_size()) contains needle.

        Returns the line holding needle, or None after timeout.
        """
        def found():
            text = self.log_since(offset)
            i = text.find(needle)
            if i < 0:
                return None
            start = text.rfind("\n", 0, i) + 1
            end = text.find("\n", i)
            return text[start:end if end >= 0 else len(text)]
        return wait_until(found, timeout)

    def reload(self, timeout=10.0, expect="configuration reloaded"):
        """Send SIGHUP and wait for the log line saying how it went.

        expect: "configuration reloaded" or "configuration reload rejected".
        Returns that line; raises AssertionError when it does not show up.
        """
        offset = self.log_size()
        self.proc.send_signal(signal.SIGHUP)
        line = self.wait_for_log(expect, offset, timeout)
        if line is None:
            raise AssertionError(f"{self.name}: no {expect!r} line within {timeout:.0f} s "
                                 f"of SIGHUP; output since:\n"
                                 f"{self.redacted(self.log_since(offset)[-3000:])}")
        return line

    def redacted(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "<password>")
        return text

    def check_log(self, tc):
        """Assert the output so far has no sanitizer report and no password."""
        log = self.log_text()
        for marker in FORBIDDEN_LOG_MARKERS:
            tc.assertNotIn(marker, log, f"{self.name} output contains {marker!r}:\n"
                           f"{self.redacted(_around(log, marker))}")
        for secret in self.secrets:
            tc.assertNotIn(secret, log,
                           f"{self.name} printed a secret (a password, a key or a token)")

    def stop_and_check(self, tc, sig=signal.SIGTERM, timeout=30.0):
        """Stop with sig and assert exit code 0 and a clean log."""
        rc = self.stop(sig, timeout)
        tc.assertEqual(rc, 0, f"{self.name} exit code {rc} after "
                       f"{signal.Signals(sig).name}; stderr tail:\n"
                       f"{self.redacted(self.log_text()[-4000:])}")
        self.check_log(tc)

    # -- HTTP shortcuts

    def request(self, method, path, **kw):
        return http_request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return http_request(self.port, "GET", path, **kw)

    def pool(self):
        """The pool object from /readyz (whatever the status), or None."""
        resp = self.get("/readyz", timeout=5.0)
        try:
            return resp.json().get("pool")
        except (ValueError, AttributeError):
            return None

    def wait_pool_idle(self, size, timeout=15.0):
        """Wait for /readyz 200 with idle == size, busy == waiting == 0.

        Returns the last /readyz Response.
        """
        last = [None]

        def settled():
            resp = self.get("/readyz", timeout=5.0)
            last[0] = resp
            if resp.status != 200:
                return False
            pool = resp.json().get("pool", {})
            return (pool.get("size") == size and pool.get("idle") == size
                    and pool.get("busy") == 0 and pool.get("waiting") == 0)
        wait_until(settled, timeout, interval=0.1)
        return last[0]


def child_env(overrides):
    """os.environ without any QUERYD_* variables, plus overrides.

    QUERYD_CONFIG is the demo configuration (docker/queryd.json) unless
    overrides name another file (or None: unset).  Sanitizer options ask for
    leak detection and stack traces; values already set by the caller win.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUERYD_")}
    env["QUERYD_CONFIG"] = str(DEMO_CONFIG)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key, None)
    return env


def run_queryd_once(env, args=(), timeout=20.0):
    """Run queryd to completion (for --help and bad configuration).

    Returns (exit code, stdout text, stderr text).  Raises AssertionError if
    it is still running after timeout.
    """
    try:
        proc = subprocess.run([queryd_binary(), *args], env=child_env(env),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, preexec_fn=_die_with_parent)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"queryd {' '.join(args)} still running after {timeout:.0f} s "
                             f"with {env}") from exc
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"))


def _around(text, needle, width=1500):
    i = text.find(needle)
    return text[max(0, i - 200):i + width] if i >= 0 else ""


class TestRun:
    """The state directory, MariaDB servers and queryd processes of one test program.

    close() stops them all and is safe to call more than once and from the
    watchdog thread.
    """

    def __init__(self, name):
        root = state_root()
        root.mkdir(parents=True, exist_ok=True)
        _prune_old_runs(root)
        self.dir = root / f"{name}-{os.getpid()}-{int(time.time())}"
        self.dir.mkdir(parents=True)
        self.databases = []
        self.queryds = []
        # Callables that kill other children (a browser): close() runs them
        # first, also from the watchdog, where no class cleanup runs.
        self.killers = []
        self.closed = False
        with _live_lock:
            _live_runs.append(self)

    def start_mariadb(self, name="mariadb", timeout=120, server_args=()):
        """Start a private MariaDB whose data lives in this run's directory
        (server_args: more mariadbd options, e.g. a binary log)."""
        if str(SCRIPTS_DIR) not in sys.path:
            sys.path.insert(0, str(SCRIPTS_DIR))
        from private_mariadb import PrivateMariaDB  # noqa: E402 - lives in scripts/

        db = PrivateMariaDB(str(self.dir / name), server_args=server_args)
        self.databases.append(db)
        db.start(timeout=timeout)
        return db

    def start_demo_database(self):
        """A private MariaDB with the demo schema, data and application user."""
        db = self.start_mariadb()
        load_demo(db)
        return db

    def config_file(self, name, doc):
        """Write doc (see write_config) to <run dir>/<name>.json; returns the path."""
        return write_config(self.dir / f"{name}.json", doc)

    def queryd(self, database_url, name="queryd", workers=2, pool_size=4, start=True,
               config=None, **env):
        """Create (and by default start) a queryd against database_url.

        config: None for docker/queryd.json, a path, or a dict written to
        <run dir>/<name>.config.json.  Extra keyword arguments become
        environment variables: queue_limit=8 sets QUERYD_QUEUE_LIMIT=8.
        """
        if isinstance(config, (dict, list)):
            config = self.config_file(f"{name}.config", config)
        full_env = {"QUERYD_DATABASE_URL": database_url,
                    "QUERYD_WORKERS": workers,
                    "QUERYD_POOL_SIZE": pool_size}
        if config is not None:
            full_env["QUERYD_CONFIG"] = str(config)
        for key, value in env.items():
            full_env[key if key.startswith("QUERYD_") else "QUERYD_" + key.upper()] = value
        password = urllib.parse.urlsplit(database_url).password if database_url else None
        secrets = {APP_PASSWORD, password and urllib.parse.unquote(password)}
        q = Queryd(self.dir, name, full_env, secrets=secrets)
        self.queryds.append(q)
        if start:
            q.start()
        return q

    def close(self, hard=False):
        if self.closed:
            return
        self.closed = True
        for kill in self.killers:
            try:
                kill()
            except Exception:  # noqa: BLE001 - the databases must still stop
                pass
        for q in self.queryds:
            q.kill()
        for db in self.databases:
            try:
                if hard:
                    db.kill()
                else:
                    db.stop()
            except Exception:  # noqa: BLE001 - fall back to SIGKILL below
                try:
                    db.kill()
                except Exception:  # noqa: BLE001
                    pass
        if not os.environ.get("QUERYD_ITEST_KEEP"):
            for db in self.databases:
                shutil.rmtree(getattr(db, "state_dir", ""), ignore_errors=True)
        with _live_lock:
            if self in _live_runs:
                _live_runs.remove(self)


def _prune_old_runs(root, max_age=24 * 3600):
    """Remove run directories older than a day so the build tree stays small."""
    now = time.time()
    for child in root.iterdir():
        try:
            if child.is_dir() and now - child.stat().st_mtime > max_age:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            pass


def load_demo(db):
    """Create the demo database from docker/initdb and the application user."""
    db.execute(f"CREATE DATABASE IF NOT EXISTS `{DEMO_DB}` "
               "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    db.load_files([str(p) for p in DEMO_SQL], DEMO_DB)
    db.create_app_user(APP_USER, APP_PASSWORD, DEMO_DB)


class DemoServiceTestCase(unittest.TestCase):
    """Base class: one MariaDB with the demo data and one queryd per test class.

    Subclasses may set queryd_env (extra QUERYD_* settings), pool_size,
    setup_sql (run in the demo database after the demo data is loaded: the
    tables a test needs) and queryd_config (a dict or a path; default
    docker/queryd.json).  tearDown fails a test after which queryd is not
    running or its log is not clean (check_log); tearDownClass stops queryd
    with SIGTERM and fails the class if it did not exit 0 with a clean log.
    """

    pool_size = 4
    workers = 2
    queryd_env = {}
    setup_sql = None
    queryd_config = None

    @classmethod
    def setUpClass(cls):
        cls.crashes = []
        cls.fixture = TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        if cls.setup_sql:
            cls.db.execute(cls.setup_sql() if callable(cls.setup_sql) else cls.setup_sql,
                           DEMO_DB)
        cls.database_url = cls.db.tcp_url(APP_USER, APP_PASSWORD, DEMO_DB)
        cls.queryd = cls.fixture.queryd(cls.database_url, workers=cls.workers,
                                        pool_size=cls.pool_size, config=cls.queryd_config,
                                        **cls.queryd_env)
        cls.port = cls.queryd.port

    @classmethod
    def tearDownClass(cls):
        asserter = _ClassAsserter()
        try:
            cls.queryd.stop_and_check(asserter)
        finally:
            asserter.assertEqual(cls.crashes, [], "queryd died during these tests")

    def setUp(self):
        self.maxDiff = None
        # A test that crashed the server fails in its tearDown; restart it
        # on the same port so the remaining tests still say something.
        if not self.queryd.running():
            self.queryd.start(port=self.port)

    def tearDown(self):
        if not self.queryd.running():
            code = self.queryd.proc.returncode
            type(self).crashes.append(f"{self.id()}: exit code {code}")
            self.fail(f"queryd died during this test (exit code {code}); output tail:\n"
                      f"{self.queryd.redacted(self.queryd.log_text()[-3000:])}")
        # After every test, whatever ran before: a sanitizer report or the
        # password in the output fails the test that caused it.
        self.queryd.check_log(self)

    def get(self, path, **kw):
        return self.queryd.get(path, **kw)

    def request(self, method, path, **kw):
        return self.queryd.request(method, path, **kw)


class _ClassAsserter(unittest.TestCase):
    """Lets class-level code use the assert* helpers."""

    def runTest(self):  # pragma: no cover - never run
        pass

    def __init__(self):
        super().__init__("runTest")
        self.maxDiff = None


def class_asserter():
    return _ClassAsserter()
