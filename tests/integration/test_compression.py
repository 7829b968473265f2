"""Compressed answers: Accept-Encoding, zstd and gzip, whole and streamed.

Every compressed answer decodes (gzip with Python's zlib binding, zstd with
the zstd command-line decoder) to exactly the bytes of the same request sent
uncompressed, for JSON, NDJSON and CSV, whole bodies and 100k-row streams.
Bodies under 1 KiB go as they are, yet carry Vary: Accept-Encoding like every
answer that could have been compressed.  A client reading slowly still holds
the statement back and queryd's memory stays bounded.  q-values choose,
refusals are honoured (identity refused with nothing else acceptable: the
body goes uncompressed, as RFC 9110 section 12.5.3 advises, never 406), a
malformed q-value makes its element count as absent, and
QUERYD_COMPRESSION=off turns it all off.
"""

import gzip
import http.client
import json
import socket
import subprocess
import sys
import time

import harness

BIG_ROWS = 100_000

# Hex digests: text that compresses about 2:1, so that a compressed stream of
# 100k rows is still far larger than the socket buffers and the reader's pace
# matters.
BIG_TABLE = f"""
CREATE TABLE big (
  id INT PRIMARY KEY,
  note VARCHAR(200) NOT NULL,
  amount DECIMAL(12,2) NULL
);
INSERT INTO big
SELECT seq, CONCAT(SHA2(seq, 256), SHA2(seq, 224)), IF(seq % 7 = 0, NULL, seq / 100)
FROM seq_1_to_{BIG_ROWS};
"""

FORMATS = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv"}


def config():
    doc = harness.demo_config()
    doc["resources"].append({"path": "/big", "table": "big", "key": "id",
                             "max_limit": 1_000_000, "default_limit": 100,
                             "timeout_ms": 120_000})
    return doc


def log(text):
    print(f"\n    [{text}]", end="", file=sys.stderr, flush=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def decode(coding, body):
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "zstd":
        return subprocess.run(["zstd", "-d", "-c", "-q"], input=body, check=True,
                              stdout=subprocess.PIPE).stdout
    raise AssertionError(f"unknown coding {coding!r}")


def tokens(resp, name):
    return {t.strip().lower() for t in (resp.headers.get(name) or "").split(",") if t.strip()}


class CompressionTests(harness.DemoServiceTestCase):
    setup_sql = BIG_TABLE
    queryd_config = config()
    queryd_env = {"QUERYD_COMPRESSION": "zstd:3,gzip:6"}

    def fetch(self, path, encoding, accept=None, method="GET"):
        headers = {"Accept-Encoding": encoding}
        if accept:
            headers["Accept"] = accept
        return self.request(method, path, headers=headers, timeout=120)

    def assert_round_trip(self, path, accept=None, streamed=False):
        plain = self.fetch(path, "identity", accept)
        self.assertEqual(plain.status, 200, plain.describe())
        self.assertIsNone(plain.headers.get("Content-Encoding"))
        self.assertIn("accept-encoding", tokens(plain, "Vary"))
        for coding in ("zstd", "gzip"):
            with self.subTest(coding=coding):
                resp = self.fetch(path, coding, accept)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.headers.get("Content-Encoding"), coding)
                self.assertIn("accept-encoding", tokens(resp, "Vary"))
                self.assertEqual(resp.headers.get("Content-Type"),
                                 plain.headers.get("Content-Type"))
                if streamed:
                    self.assertEqual(resp.headers.get("Transfer-Encoding"), "chunked")
                    self.assertIsNone(resp.headers.get("Content-Length"))
                else:
                    self.assertEqual(resp.headers.get("Content-Length"), str(len(resp.body)))
                self.assertLess(len(resp.body), len(plain.body))
                self.assertEqual(decode(coding, resp.body), plain.body)
        return plain

    # ---- whole bodies

    def compressed_bytes(self):
        """{(direction, coding): bytes} from /metrics."""
        out = {}
        for line in self.get("/metrics").body.decode().splitlines():
            for direction in ("in", "out"):
                prefix = f"queryd_http_compressed_bytes_{direction}_total{{coding=\""
                if line.startswith(prefix):
                    coding, _, value = line[len(prefix):].partition('"} ')
                    out[direction, coding] = int(value)
        return out

    def test_whole_bodies_round_trip(self):
        before = self.compressed_bytes()
        for name, accept in FORMATS.items():
            with self.subTest(format=name):
                plain = self.assert_round_trip("/big?limit=200", accept)
                self.assertIsNotNone(plain.headers.get("Content-Length"))
        after = self.compressed_bytes()
        for coding in ("zstd", "gzip"):
            grew_in = after["in", coding] - before["in", coding]
            grew_out = after["out", coding] - before["out", coding]
            self.assertGreater(grew_in, grew_out, coding)
            self.assertGreater(grew_out, 0, coding)

    def test_small_bodies_go_as_they_are(self):
        for path in ("/users/1", "/users?limit=1&select=id"):
            resp = self.fetch(path, "zstd, gzip")
            self.assertEqual(resp.status, 200, resp.describe())
            self.assertLess(len(resp.body), 1024)
            self.assertIsNone(resp.headers.get("Content-Encoding"))
            self.assertIn("accept-encoding", tokens(resp, "Vary"))

    def test_problems_and_empty_answers_are_not_compressed(self):
        resp = self.fetch("/users?limit=abc", "gzip")
        self.assertEqual(resp.status, 400)
        self.assertIsNone(resp.headers.get("Content-Encoding"))
        self.assertNotIn("accept-encoding", tokens(resp, "Vary"))
        json.loads(resp.body)

    def test_head_has_the_headers_of_get(self):
        get = self.fetch("/big?limit=200", "gzip")
        head = self.fetch("/big?limit=200", "gzip", method="HEAD")
        self.assertEqual((head.status, head.body), (200, b""))
        for name in ("Content-Encoding", "Content-Length", "Vary", "ETag", "Content-Type"):
            self.assertEqual(head.headers.get(name), get.headers.get(name), name)

    # ---- streams

    def test_streams_round_trip(self):
        started = time.monotonic()
        for name, accept in FORMATS.items():
            with self.subTest(format=name):
                plain = self.assert_round_trip(f"/big?limit={BIG_ROWS}", accept, streamed=True)
                self.assertGreater(len(plain.body), 10_000_000)
        log(f"9 exports of {BIG_ROWS} rows in {time.monotonic() - started:.1f} s")

    def test_slow_reader_holds_the_statement_back(self):
        """A gzip stream read a few KB at a time: the fetch pauses, memory stays bounded."""
        pid = self.queryd.proc.pid
        before = rss_kib(pid)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.settimeout(60)
        sock.connect(("127.0.0.1", self.port))
        try:
            sock.sendall(f"GET /big?limit={BIG_ROWS} HTTP/1.1\r\nHost: x\r\n"
                         "Accept: application/x-ndjson\r\nAccept-Encoding: gzip\r\n"
                         "Connection: close\r\n\r\n".encode())
            received = bytearray()
            for _ in range(6):
                received += sock.recv(4096)
                time.sleep(0.25)
            paused = rss_kib(pid)
            running = self.db.execute(
                "SELECT COUNT(*) FROM information_schema.processlist "
                "WHERE user = 'queryd' AND info LIKE '%FROM `big`%'",
                column_names=False).strip()
            while True:
                piece = sock.recv(1 << 20)
                if not piece:
                    break
                received += piece
        finally:
            sock.close()
        head, _, chunked = bytes(received).partition(b"\r\n\r\n")
        self.assertIn(b"Content-Encoding: gzip", head)
        body = bytearray()
        while True:
            size_line, _, chunked = chunked.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            body += chunked[:size]
            chunked = chunked[size + 2:]
        lines = decode("gzip", bytes(body)).split(b"\n")
        log(f"{len(body) / 1e6:.1f} MB compressed; RSS {before} KiB before, "
            f"{paused} KiB while the client paused")
        self.assertEqual(running, "1", "the statement did not wait for the reader")
        self.assertGreater(len(body), 5_000_000)
        self.assertLess(paused - before, 16 * 1024, "queryd buffered the answer")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines) - 1, BIG_ROWS)
        self.assertEqual([json.loads(line)["id"] for line in lines[:-1:997]],
                         list(range(1, BIG_ROWS + 1, 997)))
        self.queryd.wait_pool_idle(self.pool_size)

    # ---- negotiation

    def coding_for(self, accept_encoding):
        resp = self.fetch("/big?limit=50", accept_encoding)
        self.assertEqual(resp.status, 200, resp.describe())
        return resp.headers.get("Content-Encoding")

    def test_q_values_choose(self):
        cases = {
            "gzip, zstd": "zstd",            # equal weights: the server's order
            "gzip;q=1, zstd;q=0.5": "gzip",
            "zstd;q=0, *": "gzip",
            "*": "zstd",
            "x-gzip": "gzip",
            "br, deflate": None,
            "gzip;q=0.5, identity": None,    # identity named with a higher weight
            "gzip;q=abc": None,              # malformed: as if absent
            "zstd;q=abc, gzip;q=0.1": "gzip",
            "": None,
        }
        for header, expected in cases.items():
            with self.subTest(accept_encoding=header):
                self.assertEqual(self.coding_for(header), expected)
        resp = self.request("GET", "/big?limit=50", headers={}, timeout=30)
        headers = dict(resp.headers)
        self.assertIsNone(resp.headers.get("Content-Encoding"), headers)

    def test_refusing_identity_with_nothing_acceptable_is_still_answered(self):
        for header in ("identity;q=0", "*;q=0", "br, identity;q=0"):
            with self.subTest(accept_encoding=header):
                resp = self.fetch("/big?limit=50", header)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertIsNone(resp.headers.get("Content-Encoding"))
                json.loads(resp.body)
        self.assertEqual(self.coding_for("gzip, identity;q=0"), "gzip")


class CompressionOffTests(harness.DemoServiceTestCase):
    setup_sql = BIG_TABLE
    queryd_config = config()
    queryd_env = {"QUERYD_COMPRESSION": "off"}

    def test_off_sends_everything_as_it_is(self):
        for path in ("/big?limit=200", f"/big?limit={BIG_ROWS}&select=id"):
            resp = self.request("GET", path, headers={"Accept-Encoding": "zstd, gzip"},
                                timeout=60)
            self.assertEqual(resp.status, 200)
            self.assertIsNone(resp.headers.get("Content-Encoding"))
            self.assertNotIn("accept-encoding", tokens(resp, "Vary"))
            json.loads(resp.body)

    def test_only_gzip(self):
        q = self.fixture.queryd(self.database_url, name="gzip_only", config=self.queryd_config,
                                QUERYD_COMPRESSION="gzip:1")
        try:
            resp = q.request("GET", "/big?limit=200", headers={"Accept-Encoding": "zstd, gzip"})
            self.assertEqual(resp.headers.get("Content-Encoding"), "gzip")
            plain = q.request("GET", "/big?limit=200", headers={"Accept-Encoding": "identity"})
            self.assertEqual(decode("gzip", resp.body), plain.body)
        finally:
            q.stop_and_check(self)


if __name__ == "__main__":
    harness.main()
