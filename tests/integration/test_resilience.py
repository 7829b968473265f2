"""Fault injection: what queryd does when the database, the clients or the
operator misbehave.

Each test starts its own queryd (with the settings it needs) against the one
private MariaDB of this program and proves one behaviour of the contract's
"Resilience additions":

- the database is SIGKILLed under load and restarted on the same port;
- the database stops answering (SIGSTOP) under the query and acquire deadlines;
- MariaDB's own max_statement_time interrupts a statement (errno 1969);
- a client hangs up while its query waits behind a table lock (499);
- SIGTERM drains: requests already accepted complete, new connections are
  refused, a request stuck past QUERYD_DRAIN_TIMEOUT_MS gets a 503;
- slowloris connections are cut at QUERYD_HEADER_TIMEOUT_MS;
- connection floods are capped per address and in total;
- /metrics is valid Prometheus text whose counters add up;
- the access log on stdout and X-Request-Id handling;
- the acquire timeout answers 503 "overloaded".

Every load loop is bounded in count and in time, and all traffic stays on
loopback (127.0.0.2 and 127.0.0.3 act as other client addresses).

Run directly with
    python3 tests/integration/test_resilience.py --queryd build-asan/queryd -v
"""

import datetime
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import assert_json_ok, assert_problem

WORKERS = 2
POOL_SIZE = 4

# Each worker stops accepting when its own loop handles the stop request, so
# right after SIGTERM a worker still busy with a request may accept a new
# connection a few milliseconds after another one has closed its listener.
# Such a connection is tolerated (if served correctly) only this early: a
# fraction of the drain timeout, and many times what a worker takes to
# handle the stop request even on a loaded machine.
LATE_WORKER_SECONDS = 1.0

# The contract's demo data.
ROWS = harness.DEMO_ROW_COUNT

# A table lock that a test ends itself once its steps are done: longer than
# any of those steps may take, however slow the machine.
HELD_LOCK_SECONDS = 60

# After the database is back, every request succeeds within this.
RECOVERY_SECONDS = 2.5


def log(text):
    """Measurements go to stderr, next to unittest's verbose output."""
    sys.stderr.write(f"\n    [{text}]")
    sys.stderr.flush()


# --------------------------------------------------------------------------
# What a /users request must answer


def pick_users_path(rng, big_pages=False):
    """A random /users request whose correct answer expected_answer() knows."""
    r = rng.random()
    if r < 0.20:
        return "/users/1"
    if r < 0.30:
        return "/users/2"
    if r < 0.55:
        return f"/users/{rng.randint(3, ROWS)}"
    if r < 0.70:
        return f"/users?limit=10&after={rng.randint(0, ROWS - 20)}"
    if r < 0.85:
        return f"/users?offset={rng.randint(0, ROWS - 20)}&limit=5"
    if big_pages and r < 0.92:
        return f"/users?limit=500&after={rng.randint(0, ROWS - 600)}"
    return "/users/999999"


def _page_complaint(doc, first, count, next_params):
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        return "not a page object"
    ids = [row.get("id") for row in doc["data"]]
    if ids != list(range(first, first + count)):
        return f"ids {ids[:3]}...{ids[-3:]} ({len(ids)}), expected {first}..{first + count - 1}"
    for row in doc["data"]:
        if list(row) != harness.DEMO_COLUMNS:
            return f"row {row.get('id')} has columns {list(row)}"
    if not isinstance(doc.get("next"), str):
        return f"next is {doc.get('next')!r}"
    path, params = harness.parse_next(doc["next"])
    if path != "/users" or params != next_params:
        return f"next is {doc['next']!r}"
    return None


def problem_complaint(resp, status, slugs):
    """None when resp is a well-formed problem with this status and one of slugs."""
    if resp.status != status:
        return f"status {resp.status}, expected {status}"
    if resp.content_type != "application/problem+json":
        return f"content type {resp.content_type!r}"
    try:
        doc = resp.json()
    except ValueError as exc:
        return f"problem body is not JSON ({exc})"
    if not isinstance(doc, dict):
        return "problem body is not an object"
    if doc.get("type") not in {f"urn:queryd:problem:{slug}" for slug in slugs}:
        return f"type {doc.get('type')!r}, expected one of {sorted(slugs)}"
    if doc.get("status") != status or type(doc.get("status")) is not int:
        return f"status member {doc.get('status')!r}"
    if not isinstance(doc.get("title"), str) or not doc["title"]:
        return "no title"
    if not isinstance(doc.get("detail"), str) or not doc["detail"]:
        return "no detail"
    request_id = resp.headers.get("X-Request-Id")
    if not request_id or doc.get("request_id") != request_id:
        return f"request_id {doc.get('request_id')!r} vs header {request_id!r}"
    if status == 503 and not resp.headers.get("Retry-After"):
        return "503 without Retry-After"
    return None


def dechunk(data):
    """The body of a chunked transfer encoding."""
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return body
        body += data[:size]
        data = data[size + 2:]


def answer_complaint(path, resp):
    """None when resp is the correct answer to GET path with the database up."""
    if path == "/users/999999":
        return problem_complaint(resp, 404, {"not-found"})
    if resp.status != 200:
        return f"status {resp.status}"
    if resp.content_type != "application/json":
        return f"content type {resp.content_type!r}"
    if not resp.headers.get("X-Request-Id"):
        return "no X-Request-Id"
    # A streamed answer is chunked: http.client refuses one without its last chunk.
    chunked = resp.headers.get("Transfer-Encoding") == "chunked"
    if not chunked and resp.headers.get("Content-Length") != str(len(resp.body)):
        return f"Content-Length {resp.headers.get('Content-Length')} for {len(resp.body)} bytes"
    try:
        doc = resp.json()
    except ValueError as exc:
        return f"body is not JSON ({exc})"
    m = re.fullmatch(r"/users/(\d+)", path)
    if m:
        k = int(m.group(1))
        if k == 1:
            return None if doc == harness.USER_1 else "row 1 differs"
        if k == 2:
            return None if doc == harness.USER_2 else "row 2 differs"
        if not isinstance(doc, dict) or doc.get("id") != k or list(doc) != harness.DEMO_COLUMNS:
            return f"row {k} is {str(doc)[:200]}"
        return None
    m = re.fullmatch(r"/users\?limit=(\d+)&after=(\d+)", path)
    if m:
        limit, after = int(m.group(1)), int(m.group(2))
        return _page_complaint(doc, after + 1, limit,
                               {"limit": [str(limit)], "after": [str(after + limit)]})
    m = re.fullmatch(r"/users\?offset=(\d+)&limit=(\d+)", path)
    if m:
        offset, limit = int(m.group(1)), int(m.group(2))
        return _page_complaint(doc, offset + 1, limit,
                               {"limit": [str(limit)], "offset": [str(offset + limit)]})
    raise AssertionError(f"no expectation for {path}")


# --------------------------------------------------------------------------
# /metrics


METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE_LINE = re.compile(rf"^({METRIC_NAME})(?:\{{(.*)\}})? (\S+)(?: (-?\d+))?$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
HELP_LINE = re.compile(rf"^# HELP ({METRIC_NAME}) (.*)$")
TYPE_LINE = re.compile(rf"^# TYPE ({METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$")
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _parse_labels(text):
    labels = {}
    pos = 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            raise ValueError(f"bad label syntax at {text[pos:]!r}")
        if m.group(1) in labels:
            raise ValueError(f"label {m.group(1)} repeated")
        labels[m.group(1)] = m.group(2)
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"expected ',' at {text[pos:]!r}")
            pos += 1
    return labels


class Metrics:
    """One parsed /metrics scrape."""

    def __init__(self, text):
        self.text = text
        self.samples = {}   # (name, frozenset(labels.items())) -> float
        self.types = {}     # family -> type
        self.order = []     # (name, labels) in text order
        for number, line in enumerate(text.split("\n"), 1):
            if line == "":
                continue
            if line.startswith("#"):
                m = TYPE_LINE.match(line)
                if m:
                    if m.group(1) in self.types:
                        raise ValueError(f"line {number}: second TYPE for {m.group(1)}")
                    self.types[m.group(1)] = m.group(2)
                elif not HELP_LINE.match(line):
                    raise ValueError(f"line {number}: unknown comment {line!r}")
                continue
            m = SAMPLE_LINE.match(line)
            if not m:
                raise ValueError(f"line {number}: not `name{{labels}} value`: {line!r}")
            name, label_text, value = m.group(1), m.group(2) or "", m.group(3)
            try:
                labels = _parse_labels(label_text)
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}: {line!r}") from None
            try:
                number_value = float(value)
            except ValueError:
                raise ValueError(f"line {number}: value {value!r} is not a number") from None
            family = self.family(name)
            if family not in self.types:
                raise ValueError(f"line {number}: sample of {family} before its # TYPE")
            key = (name, frozenset(labels.items()))
            if key in self.samples:
                raise ValueError(f"line {number}: duplicate sample {line!r}")
            self.samples[key] = number_value
            self.order.append((name, labels))

    def family(self, name):
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        return name

    def value(self, name, **labels):
        """The sample's value; 0 when absent (counters start out absent)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name, **labels):
        return (name, frozenset(labels.items())) in self.samples

    def series(self, name):
        return [(labels, self.samples[(n, frozenset(labels.items()))])
                for n, labels in self.order if n == name]

    def pool(self):
        return {k: int(self.value(f"queryd_db_pool_{k}"))
                for k in ("size", "idle", "busy", "waiting")}


def settled_scrape(q, timeout=10.0):
    """A scrape of a queryd just started, once every request before it is
    counted. A request is counted when libmicrohttpd reports it complete,
    which may come after the client has read its answer: the start's health
    check (one 200) and earlier scrapes may still be on their way."""
    deadline = time.monotonic() + timeout
    earlier = 0
    while True:
        m = scrape(q)
        health = m.value("queryd_http_requests_total", route="/healthz", status="200")
        scrapes = m.value("queryd_http_requests_total", route="/metrics", status="200")
        if (health >= 1 and scrapes == earlier) or time.monotonic() > deadline:
            return m
        earlier += 1
        time.sleep(0.02)


def scrape(q, timeout=5.0):
    resp = q.get("/metrics", timeout=timeout)
    if resp.status != 200:
        raise AssertionError(f"/metrics: {resp.describe()}")
    content_type = resp.headers.get("Content-Type")
    if content_type != PROMETHEUS_CONTENT_TYPE:
        raise AssertionError(f"/metrics Content-Type {content_type!r}")
    return Metrics(resp.body.decode("utf-8"))


def q_pool_size(q):
    return int(q.env["QUERYD_POOL_SIZE"])


def wait_pool(q, expect, timeout):
    """Wait until the /metrics pool gauges equal expect; returns (ok, last, seconds)."""
    start = time.monotonic()
    last = [None]

    def check():
        last[0] = scrape(q).pool()
        return last[0] == expect
    ok = harness.wait_until(check, timeout, interval=0.02)
    return bool(ok), last[0], time.monotonic() - start


# --------------------------------------------------------------------------
# access log


def access_log(q):
    """Every line queryd printed on stdout, parsed; raises on a non-JSON line."""
    try:
        text = q.stdout_path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.split("\n"):
        if line:
            try:
                entries.append(json.loads(line))
            except ValueError as exc:
                raise AssertionError(f"stdout line is not JSON ({exc}): {line[:300]!r}") from None
    return entries


def log_entries_for(q, request_id):
    return [e for e in access_log(q) if e.get("request_id") == request_id]


def wait_log_entry(q, request_id, timeout=10.0):
    found = harness.wait_until(lambda: log_entries_for(q, request_id), timeout, interval=0.05)
    return found or []


# --------------------------------------------------------------------------
# sockets


def client_socket(source="127.0.0.1", rcvbuf=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((source, 0))
    return s


def connect_from(source, port, timeout=5.0):
    s = client_socket(source, timeout=timeout)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def get_from(source, port, path, timeout=5.0):
    """GET path over a fresh connection from the address source."""
    s = connect_from(source, port, timeout)
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        resp = http.client.HTTPResponse(s, method="GET")
        resp.begin()
        return harness.Response(resp.status, resp.headers, resp.read())
    finally:
        s.close()


def reset_close(s):
    """Close with RST instead of FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def timed_get(q, path, timeout=10.0, **kw):
    start = time.monotonic()
    resp = q.get(path, timeout=timeout, **kw)
    return resp, time.monotonic() - start


def in_threads(fn, args_list, timeout):
    """Run fn(*args) for each args in threads; returns results (or exceptions)."""
    results = [None] * len(args_list)

    def run(i, args):
        try:
            results[i] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            results[i] = exc
    threads = [threading.Thread(target=run, args=(i, a), daemon=True)
               for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(1 for t in threads if t.is_alive())
    if hung:
        raise AssertionError(f"{hung} of {len(threads)} threads still running after {timeout} s")
    return results


class Ticker:
    """A background client sending one timed request at a time until stopped.

    Used to prove that normal clients keep being served while something
    else goes on.  Bounded by max_requests and max_seconds.
    """

    def __init__(self, port, paths, source="127.0.0.1", interval=0.05, max_requests=2000,
                 max_seconds=60.0):
        self.port, self.paths, self.source = port, paths, source
        self.interval, self.max_requests, self.max_seconds = interval, max_requests, max_seconds
        self.results = []  # (path, status or exception repr, seconds, complaint, start)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        end = time.monotonic() + self.max_seconds
        for n in range(self.max_requests):
            if self.stop_event.is_set() or time.monotonic() > end:
                return
            path = self.paths[n % len(self.paths)]
            start = time.monotonic()
            try:
                resp = get_from(self.source, self.port, path, timeout=10.0)
                elapsed = time.monotonic() - start
                self.results.append((path, resp.status, elapsed, answer_complaint(path, resp),
                                     start))
            except (OSError, http.client.HTTPException) as exc:
                self.results.append((path, repr(exc), time.monotonic() - start, "no answer",
                                     start))
            self.stop_event.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(20)

    def bad(self, limit):
        return [r for r in self.results if r[3] is not None or r[2] > limit]

    def summary(self):
        if not self.results:
            return "no requests"
        slowest = max(r[2] for r in self.results)
        return f"{len(self.results)} requests, slowest {slowest * 1000:.0f} ms"


# --------------------------------------------------------------------------


class ResilienceTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun("resilience")
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_demo_database()
        cls.database_url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD,
                                          harness.DEMO_DB)

    def setUp(self):
        self.maxDiff = None
        self.started = []
        self.thaw_database()
        if not self.db.is_running():
            self.db.start(timeout=120)

    def tearDown(self):
        self.thaw_database()
        for q in self.started:
            if q.returncode is not None:
                continue  # the test stopped it and checked the exit itself
            if not q.running():
                self.fail(f"{q.name} died during this test (exit code {q.proc.returncode}); "
                          f"output tail:\n{q.redacted(q.log_text()[-3000:])}")
            q.stop_and_check(self)

    def thaw_database(self):
        if self.db.pid:
            try:
                os.kill(self.db.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def start_queryd(self, name, workers=WORKERS, pool_size=POOL_SIZE, **env):
        q = self.fixture.queryd(self.database_url, name=name, workers=workers,
                                pool_size=pool_size, **env)
        self.started.append(q)
        return q

    def assert_pool_idle(self, q, size=POOL_SIZE, timeout=10.0):
        """/readyz 200 with the whole pool idle, and the /metrics gauges agree."""
        resp = q.wait_pool_idle(size, timeout=timeout)
        self.assertIsNotNone(resp, "no /readyz answer")
        self.assertEqual(resp.status, 200, resp.describe())
        idle = {"size": size, "idle": size, "busy": 0, "waiting": 0}
        self.assertEqual(resp.json()["pool"], idle, resp.describe())
        self.assertEqual(scrape(q).pool(), idle)

    def wait_busy(self, q, busy, waiting=0, timeout=10.0):
        ok, last, _ = wait_pool(q, {"size": q_pool_size(q), "idle": q_pool_size(q) - busy,
                                    "busy": busy, "waiting": waiting}, timeout)
        self.assertTrue(ok, f"pool never reached busy={busy} waiting={waiting}: {last}")

    def sigterm(self, q):
        """Send SIGTERM without waiting; returns the moment it was sent."""
        t = time.monotonic()
        q.proc.send_signal(signal.SIGTERM)
        return t

    def wait_exit(self, q, timeout):
        """Wait for q to exit; returns the exit code (None if still running)."""
        try:
            q.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        q.returncode = q.proc.returncode
        return q.returncode

    # ----------------------------------------------------------------------

    def test_kill_9_under_load(self):
        """SIGKILL the database under load, restart it on the same port."""
        q = self.start_queryd("kill9")
        reconnects_before = scrape(q).value("queryd_db_reconnects_total")
        db_port = self.db.port
        records = []   # (start, end, path, status or repr, complaint)
        stop = threading.Event()
        hard_end = time.monotonic() + 120

        def client(seed):
            rng = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", q.port, timeout=10)
            try:
                for _ in range(20000):
                    if stop.is_set() or time.monotonic() > hard_end:
                        return
                    path = pick_users_path(rng)
                    start = time.monotonic()
                    try:
                        conn.request("GET", path)
                        r = conn.getresponse()
                        resp = harness.Response(r.status, r.headers, r.read())
                    except (OSError, http.client.HTTPException) as exc:
                        records.append((start, time.monotonic(), path, repr(exc), "no answer"))
                        conn.close()
                        continue
                    end = time.monotonic()
                    if resp.status == 503:
                        complaint = problem_complaint(resp, 503,
                                                      {"database-unavailable", "overloaded"})
                        slug = resp.json().get("type", "") if complaint is None else ""
                        records.append((start, end, path, f"503 {slug.rsplit(':', 1)[-1]}",
                                        complaint))
                    else:
                        records.append((start, end, path, resp.status,
                                        answer_complaint(path, resp)))
            finally:
                conn.close()

        greeting = []

        def probe_greeting():
            # The moment the restarted server sends its handshake on TCP.
            while not stop.is_set() and time.monotonic() < hard_end:
                try:
                    with socket.create_connection(("127.0.0.1", db_port), timeout=0.5) as s:
                        if s.recv(16):
                            greeting.append(time.monotonic())
                            return
                except OSError:
                    pass
                time.sleep(0.01)

        clients = [threading.Thread(target=client, args=(f"kill9-{i}",), daemon=True)
                   for i in range(4)]
        for t in clients:
            t.start()
        prober = threading.Thread(target=probe_greeting, daemon=True)
        try:
            time.sleep(1.0)
            self.db.kill()
            t_killed = time.monotonic()
            time.sleep(2.0)
            prober.start()
            t_restart = time.monotonic()
            self.db.start(timeout=120)
            t_up = time.monotonic()   # the server has answered its own client's ping
            self.assertEqual(self.db.port, db_port)
            # Long enough to see requests sent well after the recovery.
            time.sleep(RECOVERY_SECONDS + 1.5)
        finally:
            stop.set()
            for t in clients + ([prober] if prober.ident is not None else []):
                t.join(30)
        self.assertFalse(any(t.is_alive() for t in clients), "load clients hung")
        self.assertTrue(q.running(), f"queryd died: {q.log_text()[-3000:]}")

        bad = [r for r in records if r[4] is not None]
        self.assertEqual(bad[:20], [], f"{len(bad)} wrong answers of {len(records)}")
        durations = sorted(r[1] - r[0] for r in records)
        slowest = durations[-1]
        outage = [r for r in records if r[0] >= t_killed and r[1] <= t_restart]
        first_200 = min((r[1] for r in records if r[3] == 200 and r[1] >= t_restart),
                        default=None)
        late = [r for r in records
                if r[0] >= t_up + RECOVERY_SECONDS and str(r[3]).startswith("503")]
        last_failure = max((r[1] for r in records if str(r[3]).startswith("503")), default=None)
        statuses = {}
        for r in records:
            statuses[r[3]] = statuses.get(r[3], 0) + 1
        log(f"{len(records)} answers {statuses}; slowest {slowest * 1000:.0f} ms; "
            f"database start took {t_up - t_restart:.2f} s; TCP greeting "
            f"{(greeting[0] - t_up) * 1000 if greeting else float('nan'):+.0f} ms from ping; "
            f"first 200 {(first_200 - t_up) * 1000 if first_200 else float('nan'):+.0f} ms "
            f"from ping; last 503 {(last_failure - t_up) * 1000 if last_failure else 0:+.0f} "
            f"ms from ping")
        # The acquire timeout (1 s) bounds every answer; 3 s is a hang.
        self.assertLessEqual(slowest, 3.0, "a request took longer than 3 s")
        self.assertTrue(outage, "no request ran while the database was down")
        self.assertTrue(all(str(r[3]).startswith("503") for r in outage),
                        f"answers while the database was down: "
                        f"{sorted({str(r[3]) for r in outage})}")
        self.assertIsNotNone(first_200, "no 200 after the database came back")
        self.assertLessEqual(first_200 - t_up, RECOVERY_SECONDS,
                             f"200s came back later than {RECOVERY_SECONDS} s after the "
                             "database answered")
        self.assertEqual(late[:10], [], f"requests sent {RECOVERY_SECONDS} s after the "
                         "database answered still failed")

        self.assert_pool_idle(q)
        reconnects = scrape(q).value("queryd_db_reconnects_total") - reconnects_before
        log(f"queryd_db_reconnects_total +{reconnects:.0f}")
        self.assertGreaterEqual(reconnects, POOL_SIZE,
                                "every pooled connection was lost, so each must have "
                                "been reopened")
        q.stop_and_check(self)

    def test_frozen_database(self):
        """SIGSTOP the database: 504 or 503 within the deadlines, recovery on SIGCONT."""
        q = self.start_queryd("frozen", query_timeout_ms=1000, acquire_timeout_ms=1000)
        self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        pid = self.db.pid
        self.assertTrue(pid, "no pid for the private MariaDB")

        def timed(path):
            start = time.monotonic()
            try:
                resp = q.get(path, timeout=15)
            except (OSError, http.client.HTTPException) as exc:
                return path, exc, time.monotonic() - start
            return path, resp, time.monotonic() - start

        paths = [f"/users/{i}" for i in range(3, 9)] + \
                [f"/users?limit=5&after={i}" for i in range(6)]
        os.kill(pid, signal.SIGSTOP)
        try:
            wave1 = in_threads(timed, [(p,) for p in paths], 30)
            healthz, healthz_s = timed_get(q, "/healthz")
            wave2 = in_threads(timed, [(p,) for p in paths[:8]], 30)
        finally:
            os.kill(pid, signal.SIGCONT)
        t_cont = time.monotonic()
        summary = [(p, getattr(r, "status", r), f"{s:.2f}s") for p, r, s in wave1 + wave2]
        log(f"frozen: {summary}")
        self.assertEqual(healthz.status, 200, healthz.describe())
        self.assertLess(healthz_s, 1.0)
        for wave, allowed_503 in ((wave1, {"overloaded"}),
                                  (wave2, {"overloaded", "database-unavailable"})):
            for path, resp, seconds in wave:
                with self.subTest(path=path, wave=1 if wave is wave1 else 2):
                    self.assertIsInstance(resp, harness.Response, f"{path}: {resp!r}")
                    if resp.status == 504:
                        self.assertIsNone(problem_complaint(resp, 504, {"timeout"}),
                                          resp.describe())
                    else:
                        self.assertIsNone(problem_complaint(resp, 503, allowed_503),
                                          resp.describe())
                    # 1 s deadlines, 2 s for a statement with queryd's grace.
                    self.assertLessEqual(seconds, 5.0, f"{path} took {seconds:.2f} s")
        statuses1 = [r.status for _, r, _ in wave1 if isinstance(r, harness.Response)]
        self.assertIn(504, statuses1, "no request that had a connection timed out")
        self.assertIn(503, statuses1, "no request waiting for a connection was refused")

        def all_ok():
            results = in_threads(lambda i: q.get(f"/users/{i}", timeout=10),
                                 [(i,) for i in range(10, 18)], 30)
            return all(isinstance(r, harness.Response) and answer_complaint(
                f"/users/{i}", r) is None for i, r in zip(range(10, 18), results))
        recovered = harness.wait_until(all_ok, 20.0, interval=0.1)
        log(f"recovered {time.monotonic() - t_cont:.2f} s after SIGCONT")
        self.assertTrue(recovered, "8 concurrent requests were not all 200 within 20 s of "
                        f"SIGCONT: {q.get('/users/1').describe()}")
        self.assert_pool_idle(q, timeout=15)

    def test_max_statement_time(self):
        """MariaDB interrupts the statement at QUERYD_QUERY_TIMEOUT_MS: errno 1969."""
        q = self.start_queryd("statement-time", workers=1, pool_size=2, query_timeout_ms=500)
        self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
        try:
            answers = [(path,) + timed_get(q, path) for path in ("/users/1", "/users?limit=5")]
        finally:
            lock.release()
        log(", ".join(f"{p}: {r.status} in {s:.2f} s" for p, r, s in answers))
        for path, resp, seconds in answers:
            with self.subTest(path=path):
                doc = assert_problem(self, resp, 504, "timeout")
                self.assertEqual(doc.get("errno"), 1969, resp.describe())
                self.assertEqual(doc.get("sqlstate"), "70100", resp.describe())
                self.assertGreaterEqual(seconds, 0.45)
                self.assertLessEqual(seconds, 2.5)
        self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        self.assert_pool_idle(q, size=2)

    def test_client_hangs_up_behind_lock(self):
        """499 client-gone in the access log, and the pool is idle at once."""
        q = self.start_queryd("hang-up", workers=1, pool_size=1, acquire_timeout_ms=8000,
                              query_timeout_ms=8000)
        lock_seconds = HELD_LOCK_SECONDS
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, lock_seconds)
        t_locked = time.monotonic()
        running = waiting = None
        try:
            running = socket.create_connection(("127.0.0.1", q.port), timeout=10)
            running.sendall(b"GET /users/7 HTTP/1.1\r\nHost: localhost\r\n"
                            b"X-Request-Id: gone-running\r\n\r\n")
            self.wait_busy(q, busy=1)
            waiting = socket.create_connection(("127.0.0.1", q.port), timeout=10)
            waiting.sendall(b"GET /users?limit=3 HTTP/1.1\r\nHost: localhost\r\n"
                            b"X-Request-Id: gone-waiting\r\n\r\n")
            self.wait_busy(q, busy=1, waiting=1)
            running.close()              # FIN while its query waits for the lock
            running = None
            reset_close(waiting)         # RST while it waits for a connection
            waiting = None
            ok, last, seconds = wait_pool(q, {"size": 1, "idle": 1, "busy": 0, "waiting": 0}, 10)
            lock_held = lock.is_alive()
            log(f"pool idle {seconds * 1000:.0f} ms after the hang-ups "
                f"({time.monotonic() - t_locked:.1f} s into a {lock_seconds} s lock)")
            self.assertTrue(ok, f"pool not idle after the clients hung up: {last}")
            self.assertTrue(lock_held, "the lock was released before the check")
            self.assertLess(seconds, 2.0)
            # The discarded connection was replaced: a round trip works while
            # the lock is still held.
            resp = q.get("/readyz")
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertEqual(resp.json()["pool"], {"size": 1, "idle": 1, "busy": 0, "waiting": 0})
            self.assertTrue(lock.is_alive(), "the lock was released before /readyz")
            entries = {rid: wait_log_entry(q, rid) for rid in ("gone-running", "gone-waiting")}
        finally:
            for s in (running, waiting):
                if s is not None:
                    s.close()
            lock.release()
        for rid, found in entries.items():
            with self.subTest(request_id=rid):
                self.assertEqual(len(found), 1, f"access log lines for {rid}: {found}")
                self.assertEqual(found[0]["status"], 499, found[0])
                self.assertEqual(found[0]["outcome"], "client-gone", found[0])
                self.assertEqual(found[0]["method"], "GET", found[0])
        metrics = scrape(q)
        self.assertEqual(metrics.value("queryd_http_requests_total", route="/users/{id}",
                                       status="499"), 1)
        self.assertEqual(metrics.value("queryd_http_requests_total", route="/users",
                                       status="499"), 1)
        # After the release the same rows are served.
        self.assertEqual(answer_complaint("/users/7", q.get("/users/7")), None)
        self.assertEqual(assert_json_ok(self, q.get("/users/1")), harness.USER_1)
        self.assert_pool_idle(q, size=1)

    def drain_round(self, name, clients=6, load_seconds=1.5):
        """Keep-alive clients send short requests; SIGTERM in the middle.

        Returns a dict with the requests sent before and after the signal,
        the wrong ones among them, the exit code and the time to exit.
        """
        q = self.start_queryd(name)
        records = []   # (sent_at or None, path, outcome, detail)
        hard_end = time.monotonic() + 60
        t_term = [None]

        def client(seed):
            rng = random.Random(seed)
            conn = http.client.HTTPConnection("127.0.0.1", q.port, timeout=15)
            try:
                for _ in range(5000):
                    if time.monotonic() > hard_end or not q.running():
                        return
                    path = pick_users_path(rng, big_pages=True)
                    sent = None
                    try:
                        conn.request("GET", path)
                        sent = time.monotonic()
                        r = conn.getresponse()
                        resp = harness.Response(r.status, r.headers, r.read())
                    except (OSError, http.client.HTTPException) as exc:
                        records.append((sent, path, "error", exc))
                        if t_term[0] is None:
                            return   # an error before SIGTERM: reported by the caller
                        conn.close()
                        # A new connection after the drain started must not be served.
                        try:
                            reconnect_at = time.monotonic() - t_term[0]
                            conn.request("GET", path)
                            r = conn.getresponse()
                            resp = harness.Response(r.status, r.headers, r.read())
                            records.append((None, path, "served-after-drain",
                                            (reconnect_at, answer_complaint(path, resp))))
                        except (OSError, http.client.HTTPException) as exc2:
                            records.append((None, path, "reconnect-failed", exc2))
                        return
                    complaint = answer_complaint(path, resp)
                    if complaint and t_term[0] is not None and sent >= t_term[0]:
                        # Sent after SIGTERM: a 503 problem is a fair answer too.
                        if problem_complaint(resp, 503, {"database-unavailable"}) is None:
                            complaint = None
                    records.append((sent, path, "answer", complaint))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(f"{name}-{i}",), daemon=True)
                   for i in range(clients)]
        for t in threads:
            t.start()
        time.sleep(load_seconds)
        t_term[0] = time.monotonic()
        q.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(q, 15)
        t_exit = time.monotonic()
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads), "clients hung")
        before = [r for r in records if r[0] is not None and r[0] < t_term[0]]
        after = [r for r in records if r[0] is None or r[0] >= t_term[0]]
        no_answer_ok = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                        ConnectionRefusedError, ConnectionAbortedError)
        result = {
            "name": name, "q": q, "rc": rc, "exit_s": t_exit - t_term[0],
            "before": before, "after": after,
            "wrong_before": [r for r in before if r[2] != "answer" or r[3] is not None],
            "wrong_after": [r for r in after
                            if (r[2] == "answer" and r[3] is not None)
                            or (r[2] == "error" and not isinstance(r[3], no_answer_ok))
                            or (r[2] == "served-after-drain" and (
                                r[3][0] > LATE_WORKER_SECONDS or r[3][1] is not None))],
            "stderr": [line for line in q.log_text().splitlines()
                       if "drain" in line or "Fatal" in line or "shutting down" in line],
        }
        late = [f"{r[3][0] * 1000:.0f} ms" for r in after if r[2] == "served-after-drain"]
        log(f"{name}: {len(before)} requests sent before SIGTERM, {len(after)} after "
            f"({sum(1 for r in after if r[2] == 'answer')} of them answered); new "
            f"connections served after SIGTERM: {late or 'none'}; exit "
            f"{result['exit_s']:.2f} s after SIGTERM with code {rc}")
        return result

    def test_sigterm_during_short_requests(self):
        """Requests sent before SIGTERM all complete; exit 0.  Three rounds, since
        what goes wrong here depends on timing."""
        rounds = [self.drain_round(f"drain-short-{i}") for i in range(3)]
        for r in rounds:
            with self.subTest(round=r["name"]):
                self.assertGreater(len(r["before"]), 50)
                self.assertEqual(r["wrong_before"][:10], [],
                                 f"{len(r['wrong_before'])} requests sent before SIGTERM were "
                                 f"not answered completely and correctly; queryd said "
                                 f"{r['stderr']}")
                self.assertEqual(r["wrong_after"][:10], [],
                                 "answers after SIGTERM cut off or wrong")
                self.assertEqual(r["rc"], 0, f"exit code after SIGTERM; queryd said "
                                 f"{r['stderr']}")
                self.assertLess(r["exit_s"], 10.0, "not within the drain timeout")
                r["q"].check_log(self)

    def test_sigterm_during_slow_response(self):
        """A large response read slowly and a request behind a lock both complete;
        new connections are refused meanwhile."""
        # Reading the large answer slowly takes several seconds: the drain
        # timeout is far longer, so the answer must complete.
        q = self.start_queryd("drain-slow", drain_timeout_ms=30000)
        reader = client_socket(rcvbuf=4096, timeout=30)
        reader.connect(("127.0.0.1", q.port))
        reader.sendall(b"GET /users?limit=10000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = reader.recv(4096)
            self.assertTrue(chunk, f"connection closed after {head!r}")
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.assertTrue(lines[0].startswith("HTTP/1.1 200"), lines[0])
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:])}
        # Large answers are streamed: the body ends with the last, empty chunk.
        self.assertEqual(headers.get("transfer-encoding"), "chunked", headers)
        last_chunk = b"\r\n0\r\n\r\n"

        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 3)
        stuck = {}

        def behind_lock():
            stuck["resp"] = q.get("/users/5", timeout=30)
            stuck["at"] = time.monotonic()
        stuck_thread = threading.Thread(target=behind_lock, daemon=True)
        stuck_thread.start()
        self.wait_busy(q, busy=1)

        t_term = self.sigterm(q)
        refusals = []

        def slow_read():
            data = body
            deadline = time.monotonic() + 60
            while not data.endswith(last_chunk) and time.monotonic() < deadline:
                chunk = reader.recv(8192)
                if not chunk:
                    break
                data += chunk
                time.sleep(0.02)
            return data
        read_result = {}
        read_thread = threading.Thread(target=lambda: read_result.update(
            data=slow_read(), at=time.monotonic()), daemon=True)
        read_thread.start()
        def refused():
            try:
                socket.create_connection(("127.0.0.1", q.port), timeout=2).close()
            except ConnectionRefusedError:
                return True
            return False
        try:
            # Every worker has closed its listener once one attempt is refused.
            harness.wait_until(refused, 10)
            for _ in range(3):
                alive = q.running()
                try:
                    s = socket.create_connection(("127.0.0.1", q.port), timeout=2)
                    try:
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                        s.settimeout(2)
                        got = s.recv(100)
                    except OSError as exc:
                        got = exc
                    finally:
                        s.close()
                    refusals.append((alive, f"connected, then got {got!r}"))
                except ConnectionRefusedError:
                    refusals.append((alive, "refused"))
                time.sleep(0.1)
        finally:
            read_thread.join(70)
            stuck_thread.join(40)
            lock.join(60)
            reader.close()
        rc = self.wait_exit(q, 15)
        t_exit = time.monotonic()
        data = read_result.get("data", b"")
        log(f"read {len(data)} bytes until {read_result.get('at', 0) - t_term:.2f} "
            f"s after SIGTERM; request behind the lock answered at "
            f"{stuck.get('at', 0) - t_term:.2f} s; exit at {t_exit - t_term:.2f} s, code {rc}; "
            f"new connections: {refusals}")
        self.assertTrue(all(alive for alive, _ in refusals),
                        "queryd had exited before the connection attempts")
        self.assertEqual([what for _, what in refusals], ["refused"] * 3,
                         "new connections were not refused during the drain")
        self.assertTrue(data.endswith(last_chunk), "the large response was cut off")
        page = json.loads(dechunk(data).decode("utf-8"))
        self.assertEqual([row["id"] for row in page["data"]], list(range(1, ROWS + 1)))
        self.assertIsNone(page["next"])
        self.assertIn("resp", stuck, "the request behind the lock got no answer")
        self.assertIsNone(answer_complaint("/users/5", stuck["resp"]), stuck["resp"].describe())
        self.assertEqual(rc, 0, f"exit code after SIGTERM; tail:\n{q.log_text()[-3000:]}")
        self.assertLess(t_exit - t_term, 30.0, "not within the drain timeout")
        q.check_log(self)

    def test_drain_timeout(self):
        """A request stuck past QUERYD_DRAIN_TIMEOUT_MS gets 503; exit 0."""
        q = self.start_queryd("drain-timeout", workers=1, pool_size=2, drain_timeout_ms=1000)
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
        stuck = {}

        def behind_lock():
            try:
                stuck["resp"] = q.get("/users/3", timeout=30,
                                      headers={"X-Request-Id": "drain-stuck"})
            except (OSError, http.client.HTTPException) as exc:
                stuck["resp"] = exc
            stuck["at"] = time.monotonic()
        thread = threading.Thread(target=behind_lock, daemon=True)
        try:
            thread.start()
            self.wait_busy(q, busy=1)
            t_term = self.sigterm(q)
            thread.join(20)
            rc = self.wait_exit(q, 10)
            t_exit = time.monotonic()
        finally:
            lock.release()
        resp = stuck.get("resp")
        log(f"answer {getattr(resp, 'status', resp)} at {stuck.get('at', 0) - t_term:.2f} s "
            f"after SIGTERM, exit at {t_exit - t_term:.2f} s with code {rc}")
        self.assertIsInstance(resp, harness.Response, f"no answer: {resp!r}")
        assert_problem(self, resp, 503, resp.json().get("type", "").rsplit(":", 1)[-1])
        self.assertEqual(resp.headers.get("X-Request-Id"), "drain-stuck")
        self.assertGreaterEqual(stuck["at"] - t_term, 0.9)
        self.assertLessEqual(stuck["at"] - t_term, 4.0)
        self.assertEqual(rc, 0, f"exit code after SIGTERM; tail:\n{q.log_text()[-3000:]}")
        self.assertLess(t_exit - t_term, 5.0)
        q.check_log(self)
        entries = log_entries_for(q, "drain-stuck")
        self.assertEqual([e["status"] for e in entries], [503], entries)

    def test_slowloris(self):
        """Heads sent a byte a second are cut at the header timeout; others are served."""
        q = self.start_queryd("slowloris", header_timeout_ms=2000)
        head = (b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\n"
                b"X-Padding: " + b"p" * 40 + b"\r\n\r\n")
        conns = {}   # socket -> {"start": t, "pos": n, "closed": t or None, "got": bytes}
        with Ticker(q.port, ["/users/1", "/users?limit=10&after=100", "/users/2"],
                    interval=0.05, max_seconds=30) as ticker:
            # Keep-alive connections: one full request, then a slow next head
            # (the timeout counts from the previous response).
            for _ in range(5):
                c = http.client.HTTPConnection("127.0.0.1", q.port, timeout=10)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                conns[c.sock] = {"start": time.monotonic(), "pos": 0, "closed": None,
                                 "got": b"", "kind": "after-response", "conn": c}
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", q.port), timeout=5)
                conns[s] = {"start": time.monotonic(), "pos": 0, "closed": None, "got": b"",
                            "kind": "fresh"}
            begin = time.monotonic()
            next_tick = begin
            while time.monotonic() < begin + 12:
                open_socks = [s for s, st in conns.items() if st["closed"] is None]
                if not open_socks:
                    break
                now = time.monotonic()
                if now >= next_tick:
                    for s in open_socks:
                        st = conns[s]
                        try:
                            s.send(head[st["pos"]:st["pos"] + 1])
                            st["pos"] += 1
                        except OSError:
                            st["closed"] = time.monotonic()
                    next_tick += 1.0
                    continue
                readable, _, _ = select.select(open_socks, [], [], next_tick - now)
                for s in readable:
                    st = conns[s]
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if data:
                        st["got"] += data
                    else:
                        st["closed"] = time.monotonic()
        for s, st in conns.items():
            s.close()
        lifetimes = sorted(st["closed"] - st["start"] for st in conns.values()
                           if st["closed"] is not None)
        still_open = sum(1 for st in conns.values() if st["closed"] is None)
        answered = {st["got"][:40] for st in conns.values() if st["got"]}
        log(f"slow connections closed after {lifetimes[0] if lifetimes else 0:.2f}.."
            f"{lifetimes[-1] if lifetimes else 0:.2f} s, {still_open} still open, "
            f"server sent {answered or 'nothing'}; normal clients: {ticker.summary()}")
        self.assertEqual(still_open, 0, "slowloris connections still open after 12 s")
        self.assertGreaterEqual(lifetimes[0], 1.8, "closed before the header timeout")
        self.assertLessEqual(lifetimes[-1], 6.0, "closed long after the header timeout")
        self.assertTrue(all(st["pos"] < len(head) for st in conns.values()))
        self.assertGreater(len(ticker.results), 20)
        self.assertEqual(ticker.bad(1.0), [], "normal clients not served quickly")
        self.assert_pool_idle(q)

    def flood(self, port, source, count, request=b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
              settle=2.0):
        """Open count connections from source, send a request on each, and
        classify them after settle seconds: answered, closed, pending, refused.

        Returns (counts dict, sockets still open)."""
        socks, refused = [], 0
        for _ in range(count):
            try:
                socks.append(connect_from(source, port, timeout=2))
            except OSError:
                refused += 1
        state = {}
        for s in socks:
            try:
                s.sendall(request)
                state[s] = b""
            except OSError:
                state[s] = None   # closed by the server already
        end = time.monotonic() + settle
        while time.monotonic() < end:
            watch = [s for s, got in state.items() if got is not None and b"\r\n\r\n" not in got]
            if not watch:
                break
            readable, _, _ = select.select(watch, [], [], max(0.0, end - time.monotonic()))
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                state[s] = state[s] + data if data else None
        counts = {"refused": refused, "closed": 0, "answered": 0, "pending": 0}
        kept = []
        for s, got in state.items():
            if got is None:
                counts["closed"] += 1
                s.close()
            elif b"\r\n\r\n" in got:
                counts["answered"] += 1
                if not got.startswith(b"HTTP/1.1 200"):
                    counts.setdefault("not-200", []).append(got[:60])
                kept.append(s)
            else:
                counts["pending"] += 1
                kept.append(s)
        return counts, kept

    def test_connection_flood_per_ip(self):
        """200 connections from 127.0.0.2 against a limit of 20 per address."""
        q = self.start_queryd("flood-ip", max_connections_per_ip=20)
        with Ticker(q.port, ["/users/1", "/users?offset=10&limit=5"], interval=0.05,
                    max_seconds=30) as ticker:
            t_flood = time.monotonic()
            counts, kept = self.flood(q.port, "127.0.0.2", 200)
            # Hold the connections a while: 127.0.0.1 must still be served.
            time.sleep(2.0)
            t_end = time.monotonic()
            for s in kept:
                s.close()
        during = [r for r in ticker.results if t_flood <= r[4] <= t_end]
        log(f"flood from 127.0.0.2: {counts}; 127.0.0.1 meanwhile: {len(during)} requests, "
            f"slowest {max((r[2] for r in during), default=0) * 1000:.0f} ms")
        self.assertLessEqual(counts["answered"], 20, counts)
        self.assertGreaterEqual(counts["answered"], 1, counts)
        self.assertNotIn("not-200", counts)
        self.assertGreaterEqual(counts["closed"] + counts["refused"], 180, counts)
        self.assertGreaterEqual(len(during), 10)
        self.assertEqual(ticker.bad(1.0), [], "clients from 127.0.0.1 not served quickly")
        # With the flood gone, 127.0.0.2 is served again.
        resp = harness.wait_until(lambda: get_from("127.0.0.2", q.port, "/users/1"), 10.0)
        self.assertTrue(resp, "127.0.0.2 not served after its connections closed")
        self.assertEqual(assert_json_ok(self, resp), harness.USER_1)
        self.assert_pool_idle(q)

    def test_connection_flood_total(self):
        """QUERYD_MAX_CONNECTIONS=40: extra connections are not served; service
        resumes once the flood ends."""
        q = self.start_queryd("flood-total", max_connections=40, max_connections_per_ip=0)
        counts, kept = self.flood(q.port, "127.0.0.3", 100)
        extra = []
        try:
            # A client from another address while the limit is reached.
            try:
                extra.append(get_from("127.0.0.1", q.port, "/healthz", timeout=1.0).status)
            except (OSError, http.client.HTTPException) as exc:
                extra.append(repr(exc))
        finally:
            for s in kept:
                s.close()
        # libmicrohttpd stops accepting at its connection limit: the extra
        # connections wait in the kernel's listen backlog ("pending") rather
        # than being closed.  Either way none of them may be served.
        log(f"flood of 100 from 127.0.0.3: {counts}; another client meanwhile: {extra}")
        self.assertLessEqual(counts["answered"], 40, counts)
        self.assertGreaterEqual(counts["answered"], 20, counts)
        self.assertNotIn("not-200", counts)
        self.assertEqual(sum(v for k, v in counts.items() if k != "not-200"), 100)
        self.assertGreaterEqual(counts["closed"] + counts["refused"] + counts["pending"], 60)

        last = []

        def serves():
            results = in_threads(lambda i: q.get(f"/users/{i}", timeout=2),
                                 [(i,) for i in range(1, 21)], 30)
            last[:] = [getattr(r, "status", repr(r)) for r in results]
            return all(isinstance(r, harness.Response) and r.status == 200 for r in results)
        start = time.monotonic()
        self.assertTrue(harness.wait_until(serves, 15.0, interval=0.2),
                        "20 concurrent requests not all served within 15 s after the flood "
                        f"ended: {last}")
        log(f"serving again {time.monotonic() - start:.2f} s after the flood ended")
        self.assert_pool_idle(q)

    def test_metrics(self):
        """Prometheus text whose counters, gauges and histograms add up."""
        q = self.start_queryd("metrics")
        first = settled_scrape(q)
        first_bytes = len(first.text.encode("utf-8"))
        calls = ([("GET", "/users/1", 200, "/users/{id}")] * 5
                 + [("GET", "/users/999999", 404, "/users/{id}")] * 3
                 + [("GET", "/users?limit=2", 200, "/users")] * 2
                 + [("GET", "/users/abc", 400, "/users/{id}")] * 4
                 + [("GET", "/users?limit=0", 400, "/users")] * 1
                 + [("GET", "/nope", 404, "unmatched")] * 2
                 + [("POST", "/users", 405, "/users")] * 1
                 + [("GET", "/healthz", 200, "/healthz")] * 2
                 + [("GET", "/readyz", 200, "/readyz")] * 1
                 + [("GET", "/healthz?probe=1", 200, "/healthz")] * 1
                 + [("DELETE", "/metrics", 405, "/metrics")] * 1)
        body_bytes = first_bytes
        expected = {("/metrics", "200"): 1}
        wrong_status = []
        for method, path, status, route in calls:
            resp = q.request(method, path, body=b"" if method in ("POST", "DELETE") else None)
            if resp.status != status:
                wrong_status.append(f"{method} {path}: expected {status}, got "
                                    f"{resp.describe()[:200]}")
            body_bytes += len(resp.body)
            # The counters must count what was answered, right or wrong.
            key = (route, str(resp.status))
            expected[key] = expected.get(key, 0) + 1
        head = q.request("HEAD", "/metrics")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.headers.get("Content-Type"), PROMETHEUS_CONTENT_TYPE)
        expected[("/metrics", "200")] += 1   # the HEAD
        routes = {"/users", "/users/{id}", "/healthz", "/readyz", "/metrics", "unmatched"}

        def counted(metrics):
            seen = {}
            for key, value in metrics.samples.items():
                name, labels = key[0], dict(key[1])
                if name == "queryd_http_requests_total":
                    self.assertEqual(set(labels), {"route", "status"}, labels)
                    self.assertIn(labels["route"], routes, labels)
                    delta = value - first.value(name, **labels)
                    if delta:
                        seen[(labels["route"], labels["status"])] = int(delta)
            return seen

        # A request is counted when libmicrohttpd reports it complete, which
        # may come a moment after the client has read the answer: the scrape
        # that follows can run on another thread first.  Scrape until the
        # counters catch up; every scrape but the last is itself a request.
        second, seen = None, {}
        deadline = time.monotonic() + 10.0
        while True:
            scraped = q.get("/metrics").body
            second = Metrics(scraped.decode("utf-8"))
            seen = counted(second)
            if seen == expected or time.monotonic() > deadline:
                break
            expected[("/metrics", "200")] += 1
            body_bytes += len(scraped)
            time.sleep(0.02)
        # Request counters moved by exactly the requests made.
        self.assertEqual(seen, expected)

        for family, kind in (("queryd_http_requests_total", "counter"),
                             ("queryd_http_request_duration_seconds", "histogram"),
                             ("queryd_http_response_bytes_total", "counter"),
                             ("queryd_db_pool_size", "gauge"), ("queryd_db_pool_idle", "gauge"),
                             ("queryd_db_pool_busy", "gauge"),
                             ("queryd_db_pool_waiting", "gauge"),
                             ("queryd_db_errors_total", "counter"),
                             ("queryd_db_reconnects_total", "counter")):
            self.assertEqual(second.types.get(family), kind, family)

        # Response bytes: every body queued since the first scrape (HEAD sends none).
        bytes_delta = (second.value("queryd_http_response_bytes_total")
                       - first.value("queryd_http_response_bytes_total"))
        head_length = int(head.headers.get("Content-Length", "0"))
        log(f"response bytes counter +{bytes_delta:.0f}, bodies received {body_bytes}, "
            f"HEAD /metrics announced {head_length}")
        self.assertIn(bytes_delta, (body_bytes, body_bytes + head_length))

        # Histograms: cumulative buckets, +Inf == _count == requests of the route.
        for route in routes:
            with self.subTest(route=route):
                buckets = [(labels["le"], v) for labels, v in
                           second.series("queryd_http_request_duration_seconds_bucket")
                           if labels.get("route") == route]
                if not buckets:
                    continue
                bounds = [float(le) for le, _ in buckets]
                self.assertEqual(bounds, sorted(bounds), "le not ascending")
                self.assertEqual(buckets[-1][0], "+Inf")
                values = [v for _, v in buckets]
                self.assertEqual(values, sorted(values), f"buckets not cumulative: {buckets}")
                count = second.value("queryd_http_request_duration_seconds_count", route=route)
                self.assertEqual(values[-1], count)
                total = sum(v for labels, v in second.series("queryd_http_requests_total")
                            if labels["route"] == route)
                self.assertEqual(count, total)
                duration_sum = second.value("queryd_http_request_duration_seconds_sum",
                                            route=route)
                self.assertGreaterEqual(duration_sum, 0.0)
                self.assertTrue(second.has("queryd_http_request_duration_seconds_sum",
                                           route=route))
        for route in ("/users", "/users/{id}", "unmatched", "/metrics"):
            self.assertGreater(second.value("queryd_http_request_duration_seconds_count",
                                            route=route), 0, route)

        # Pool gauges agree with /readyz at rest.
        self.assert_pool_idle(q)
        self.assertEqual(scrape(q).pool(), {"size": POOL_SIZE, "idle": POOL_SIZE,
                                            "busy": 0, "waiting": 0})
        self.assertEqual(wrong_status, [], "statuses differ from the contract")

    def test_access_log(self):
        """One JSON line per request on stdout; X-Request-Id kept or replaced."""
        q = self.start_queryd("access-log")
        kept_ids = ["abc-DEF_1.2", "x" * 64, "0", "req.42"]
        bad_ids = [b"has space", b"y" * 65, "id\u00e9".encode("utf-8"), b"a/b", b"a;b", b""]
        sent = []   # (expected id or None, Response, method, path, query, status)
        for i, rid in enumerate(kept_ids):
            path, query, status = [("/users/1", "", 200), ("/users/999999", "", 404),
                                   ("/users", "limit=2&after=5", 200),
                                   ("/users/abc", "", 400)][i]
            target = path + ("?" + query if query else "")
            resp = q.get(target, headers={"X-Request-Id": rid})
            sent.append((rid, resp, "GET", path, query, status))
        for rid in bad_ids:
            resp = harness.raw_request(q.port, b"GET /nope HTTP/1.1\r\nHost: localhost\r\n"
                                       b"X-Request-Id: " + rid + b"\r\n\r\n")
            sent.append((None, resp, "GET", "/nope", "", 404))
        resp = get_from("127.0.0.2", q.port, "/healthz")
        sent.append(("<from 127.0.0.2>", resp, "GET", "/healthz", "", 200))
        head = q.request("HEAD", "/users/2", headers={"X-Request-Id": "head-2"})
        sent.append(("head-2", head, "HEAD", "/users/2", "", 200))

        generated = []
        for rid, resp, method, path, query, status in sent:
            with self.subTest(request_id=rid, path=path):
                self.assertEqual(resp.status, status, resp.describe())
                header_id = resp.headers.get("X-Request-Id")
                if rid is None:
                    self.assertRegex(header_id or "", r"^[0-9a-fA-F]{16}$")
                    generated.append(header_id)
                elif not rid.startswith("<"):
                    self.assertEqual(header_id, rid)
                if resp.content_type == "application/problem+json":
                    self.assertEqual(resp.json()["request_id"], header_id)
                entries = wait_log_entry(q, header_id)
                self.assertEqual(len(entries), 1, f"log lines for {header_id}: {entries}")
                e = entries[0]
                self.assertEqual(set(e), {"time", "request_id", "method", "path", "query",
                                          "client", "role", "subject", "status", "bytes",
                                          "duration_ms", "outcome"}, e)
                # No "auth" section: nobody is identified.
                self.assertEqual((e["role"], e["subject"]), (None, None), e)
                self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                                 r"(Z|[+-]\d\d:\d\d)$")
                when = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
                now = datetime.datetime.now(datetime.timezone.utc)
                self.assertLess(abs((now - when).total_seconds()), 120, e)
                self.assertEqual((e["method"], e["path"], e["query"], e["status"]),
                                 (method, path, query, status), e)
                self.assertEqual(e["client"],
                                 "127.0.0.2" if rid == "<from 127.0.0.2>" else "127.0.0.1")
                self.assertIs(type(e["bytes"]), int)
                if method == "GET":
                    self.assertEqual(e["bytes"], len(resp.body), e)
                self.assertIsInstance(e["duration_ms"], (int, float))
                self.assertGreaterEqual(e["duration_ms"], 0)
                self.assertLess(e["duration_ms"], 5000)
                self.assertEqual(e["outcome"], "completed", e)
        self.assertEqual(len(set(generated)), len(generated), f"ids repeat: {generated}")
        # Nothing but access log lines on stdout: one per request made here
        # (the harness's /healthz polls at start included).
        entries = access_log(q)
        self.assertEqual(len({e["request_id"] for e in entries if e["path"] != "/healthz"}),
                         sum(1 for s in sent if s[3] != "/healthz"))

        quiet = self.start_queryd("access-log-off", access_log=0)
        for path in ("/users/1", "/nope", "/users?limit=0", "/metrics", "/readyz"):
            quiet.get(path, headers={"X-Request-Id": "quiet"})
        quiet.stop_and_check(self)
        self.assertEqual(quiet.stdout_path.read_bytes(), b"",
                         "QUERYD_ACCESS_LOG=0 still printed access log lines")

    def test_acquire_timeout(self):
        """Pool of 1 held behind a lock: the next request gets 503 overloaded at
        QUERYD_ACQUIRE_TIMEOUT_MS."""
        q = self.start_queryd("acquire", workers=1, pool_size=1, acquire_timeout_ms=300)
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, HELD_LOCK_SECONDS)
        holder = {}
        thread = threading.Thread(target=lambda: holder.update(
            resp=q.get("/users/1", timeout=30)), daemon=True)
        try:
            thread.start()
            self.wait_busy(q, busy=1)
            resp, seconds = timed_get(q, "/users/2")
            still_locked = lock.is_alive()
        finally:
            lock.release()
            thread.join(30)
        log(f"second request: {resp.status} in {seconds * 1000:.0f} ms")
        self.assertTrue(still_locked)
        assert_problem(self, resp, 503, "overloaded")
        self.assertEqual(resp.headers.get("Retry-After"), "1")
        self.assertGreaterEqual(seconds, 0.3)
        self.assertLessEqual(seconds, 2.0)
        self.assertIn("resp", holder, "the request holding the connection got no answer")
        self.assertEqual(assert_json_ok(self, holder["resp"]), harness.USER_1)
        self.assert_pool_idle(q, size=1)


if __name__ == "__main__":
    harness.main()
