"""Streaming answers, NDJSON and CSV.

A result that outgrows a small buffer (64 KiB) is sent with chunked transfer
encoding while rows still arrive; smaller ones keep a Content-Length.  When
the client reads slowly, fetching pauses: queryd's memory stays bounded and
the statement waits in the database.  A database error, a timeout or a
max_rows overrun after the answer started cuts the body short (no final
chunk), so a client cannot take it for a whole one.  Accept chooses JSON
(the envelope), NDJSON (one object per line) or CSV (RFC 4180 with a header
row); anything else is 406.
"""

import csv
import http.client
import io
import json
import sys
import time

import harness
from harness import assert_invalid, assert_problem

BIG_ROWS = 100_000
NOTE_BYTES = 500

BIG_TABLE = f"""
CREATE TABLE big (
  id INT PRIMARY KEY,
  note VARCHAR(600) NOT NULL,
  label VARCHAR(40) NULL,
  amount DECIMAL(12,2) NULL
);
INSERT INTO big
SELECT seq, REPEAT(CHAR(97 + seq % 26), {NOTE_BYTES}),
       CASE seq % 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'a,b'
                    WHEN 3 THEN 'say "hi"' ELSE CONCAT('line', CHAR(13), CHAR(10), 'two') END,
       IF(seq % 7 = 0, NULL, seq / 100)
FROM seq_1_to_{BIG_ROWS};
"""


def label_of(i):
    return [None, "", "a,b", 'say "hi"', "line\r\ntwo"][i % 5]


def config():
    doc = harness.demo_config()
    big = {"table": "big", "key": "id", "max_limit": 1_000_000, "default_limit": 100}
    doc["resources"] += [dict(big, path="/big", timeout_ms=120_000),
                         dict(big, path="/big_short", timeout_ms=1000)]
    doc["queries"].append({"path": "/big_notes",
                           "sql": "SELECT id, note FROM big WHERE id <= :n ORDER BY id",
                           "params": {"n": {"type": "int"}}, "max_rows": 1000})
    return doc


def log(text):
    print(f"\n    [{text}]", end="", file=sys.stderr, flush=True)


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Stream:
    """One request whose body is read at the test's pace."""

    def __init__(self, port, path, accept=None, method="GET"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request(method, path, headers={"Accept": accept} if accept else {})
        self.resp = self.conn.getresponse()
        self.body = bytearray()

    def read(self, n):
        self.body += self.resp.read(n)

    def read_rest(self):
        """Reads to the end; False when the body was cut short."""
        try:
            self.body += self.resp.read()
            return True
        except http.client.IncompleteRead as exc:
            self.body += exc.partial
            return False
        except (ConnectionError, http.client.HTTPException):
            return False
        finally:
            self.conn.close()

    def close(self):
        self.conn.close()


class StreamingTests(harness.DemoServiceTestCase):
    setup_sql = BIG_TABLE
    queryd_config = config()

    def get_as(self, path, accept):
        return self.get(path, headers={"Accept": accept}, timeout=60)

    def assert_streamed(self, resp, streamed):
        self.assertEqual(resp.status, 200, resp.describe())
        chunked = resp.headers.get("Transfer-Encoding") == "chunked"
        self.assertEqual(chunked, streamed, dict(resp.headers))
        self.assertEqual(resp.headers.get("Content-Length") is None, streamed)
        self.assertIn("accept", resp.headers.get("Vary", "").lower())

    # ---- JSON

    def test_small_result_has_a_length(self):
        resp = self.get("/users?limit=10")
        self.assert_streamed(resp, False)
        self.assertEqual(len(resp.json()["data"]), 10)

    def test_large_json_streams_the_same_rows(self):
        """A streamed page holds exactly the rows of the same walk in small pages."""
        whole = self.get("/users?limit=3000")
        self.assert_streamed(whole, True)
        doc = whole.raw_json()
        self.assertEqual(doc["next"], None)
        pages, path = [], "/users?limit=100"
        while path:
            page = self.get(path)
            self.assert_streamed(page, False)
            pages += page.raw_json()["data"]
            path = page.json()["next"]
        self.assertEqual(len(doc["data"]), 3000)
        self.assertEqual(doc["data"], pages)

    def test_streamed_page_keeps_its_next_link(self):
        resp = self.get("/big?limit=1000&select=id,label")
        self.assertEqual(resp.status, 200)
        doc = resp.json()
        self.assertEqual([r["id"] for r in doc["data"]], list(range(1, 1001)))
        self.assertEqual(harness.parse_next(doc["next"])[1].get("after"), ["1000"])

    # ---- NDJSON

    def test_ndjson_lines_are_the_rows(self):
        for limit, streamed in ((5, False), (3000, True)):
            with self.subTest(limit=limit):
                expected = self.get(f"/users?limit={limit}").raw_json()["data"]
                resp = self.get_as(f"/users?limit={limit}", "application/x-ndjson")
                self.assert_streamed(resp, streamed)
                self.assertEqual(resp.headers.get("Content-Type"), "application/x-ndjson")
                text = resp.body.decode("utf-8")
                self.assertTrue(text.endswith("\n"))
                lines = text[:-1].split("\n")
                rows = [json.loads(line, parse_int=lambda s: ("int", s),
                                   parse_float=lambda s: ("float", s)) for line in lines]
                self.assertEqual(rows, expected)

    def test_empty_ndjson_and_csv(self):
        resp = self.get_as("/users?id=eq.0", "application/x-ndjson")
        self.assertEqual((resp.status, resp.body), (200, b""))
        resp = self.get_as("/users?id=eq.0&select=id,name", "text/csv")
        self.assertEqual((resp.status, resp.body), (200, b"id,name\r\n"))

    # ---- CSV

    def csv_rows(self, resp):
        self.assertEqual(resp.headers.get("Content-Type"),
                         "text/csv; charset=utf-8; header=present")
        text = resp.body.decode("utf-8")
        self.assertTrue(text.endswith("\r\n"))
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))

    def test_csv_quotes_what_rfc_4180_needs(self):
        resp = self.get_as("/big?limit=10&select=id,label,amount", "text/csv")
        self.assert_streamed(resp, False)
        rows = self.csv_rows(resp)
        self.assertEqual(rows[0], ["id", "label", "amount"])
        for i, row in enumerate(rows[1:], start=1):
            label = label_of(i)
            amount = "" if i % 7 == 0 else f"{i / 100:.2f}"
            self.assertEqual(row, [str(i), label or "", amount], i)
        # NULL is an empty field, the empty string a quoted one.
        lines = resp.body.split(b"\r\n")
        self.assertEqual(lines[1:7], [b'1,"","0.01"', b'2,"a,b","0.02"',
                                      b'3,"say ""hi""","0.03"', b'4,"line', b'two","0.04"',
                                      b'5,,"0.05"'])

    def test_csv_of_every_demo_column(self):
        """Each CSV field is the JSON value: text as is, others as JSON writes them."""
        page = self.get("/users?limit=3000")
        expected, plain = page.raw_json()["data"], page.json()["data"]
        resp = self.get_as("/users?limit=3000", "text/csv")
        self.assert_streamed(resp, True)
        rows = self.csv_rows(resp)
        header = rows[0]
        self.assertEqual(header, list(expected[0].keys()))
        self.assertEqual(len(rows) - 1, len(expected))
        for row, obj, plain_obj in zip(rows[1:], expected, plain):
            for name, field in zip(header, row):
                value = obj[name]
                if value is None:
                    want = ""
                elif isinstance(value, tuple):
                    want = value[1]  # a number, as JSON printed it
                elif isinstance(value, bool):
                    want = "true" if value else "false"
                elif isinstance(value, str):
                    want = value
                else:  # the JSON column: its text, compared as JSON
                    self.assertEqual(json.loads(field), plain_obj[name])
                    continue
                self.assertEqual(field, want, (obj["id"], name))

    def test_item_and_named_query_formats(self):
        resp = self.get_as("/users/1?select=id,name", "text/csv")
        self.assertEqual(resp.body, b"id,name\r\n1,Ada Lovelace\r\n")
        resp = self.get_as("/users/1?select=id,age", "application/x-ndjson")
        self.assertEqual(resp.body, b'{"id":1,"age":36}\n')
        resp = self.get_as("/users/1/peers?lo=30&hi=31&limit=3", "text/csv")
        rows = self.csv_rows(resp)
        self.assertEqual(rows[0], ["id", "name", "age"])
        expected = self.get("/users/1/peers?lo=30&hi=31&limit=3").json()["data"]
        self.assertEqual(rows[1:], [[str(r["id"]), r["name"], str(r["age"])] for r in expected])

    # ---- negotiation

    def test_accept_negotiation(self):
        cases = [("*/*", "application/json"), ("text/*", "text/csv"),
                 ("application/json;q=0.5, text/csv", "text/csv"),
                 ("application/x-ndjson;q=0.9, application/json;q=0.8", "application/x-ndjson"),
                 ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
                 ("application/json;q=0, */*", "application/x-ndjson")]
        for accept, content_type in cases:
            with self.subTest(accept=accept):
                resp = self.get_as("/users?limit=1", accept)
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.content_type, content_type)
        for accept in ("application/xml", "text/html", "*/*;q=0", "application/json;q=0"):
            for path in ("/users", "/users/1", "/users/1/peers"):
                with self.subTest(accept=accept, path=path):
                    resp = self.get_as(path, accept)
                    assert_problem(self, resp, 406, "not-acceptable")
                    self.assertIn("accept", resp.headers.get("Vary", "").lower())
        # Other endpoints do not negotiate.
        self.assertEqual(self.get_as("/healthz", "text/csv").status, 200)

    def test_count_is_json_only(self):
        resp = self.get_as("/users?count=exact", "text/csv")
        assert_invalid(self, resp, "count", mentions="JSON")

    # ---- backpressure and bounded memory

    def test_slow_reader_pauses_the_fetch(self):
        """While the client does not read, the statement waits in the database."""
        pid = self.queryd.proc.pid
        before = rss_kib(pid)
        s = Stream(self.port, f"/big?limit={BIG_ROWS}", "application/x-ndjson")
        try:
            self.assertEqual(s.resp.getheader("Transfer-Encoding"), "chunked")
            s.read(256 * 1024)
            time.sleep(1.5)
            paused = rss_kib(pid)
            running = self.db.execute(
                "SELECT COUNT(*) FROM information_schema.processlist "
                "WHERE user = 'queryd' AND info LIKE '%FROM `big`%'",
                column_names=False).strip()
            self.assertTrue(s.read_rest(), "the body was cut short")
        finally:
            s.close()
        after = rss_kib(pid)
        total = len(s.body)
        log(f"{total / 1e6:.1f} MB streamed; RSS {before} KiB before, {paused} KiB "
                    f"while the client paused, {after} KiB after")
        self.assertEqual(running, "1", "the statement did not wait for the reader")
        self.assertGreater(total, 50_000_000)
        self.assertLess(paused - before, 16 * 1024, "queryd buffered the result")
        lines = s.body.split(b"\n")
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines) - 1, BIG_ROWS)
        self.assertEqual([json.loads(line)["id"] for line in lines[:-1:997]],
                         list(range(1, BIG_ROWS + 1, 997)))
        self.queryd.wait_pool_idle(self.pool_size)

    def test_client_gone_mid_stream(self):
        got = harness.hang_up_after(self.port, b"GET /big?limit=100000 HTTP/1.1\r\n"
                                               b"Host: x\r\n\r\n", 300_000)
        self.assertGreaterEqual(got, 300_000)
        resp = self.queryd.wait_pool_idle(self.pool_size)
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(self.get("/big/7?select=id").json(), {"id": 7})

    def test_head_of_a_large_result(self):
        resp = self.request("HEAD", "/big?limit=100000")
        self.assertEqual((resp.status, resp.body), (200, b""))
        self.queryd.wait_pool_idle(self.pool_size)

    # ---- cut short

    def streams_cut(self):
        text = self.get("/metrics").body.decode("utf-8")
        line = [l for l in text.splitlines() if l.startswith("queryd_http_streams_cut_total ")]
        return int(line[0].split()[1])

    def assert_cut(self, s, reason, before):
        self.assertFalse(s.read_rest(), f"{reason}: the body looked complete")
        self.assertTrue(harness.wait_until(lambda: self.streams_cut() == before + 1, 15.0),
                        f"{reason}: queryd_http_streams_cut_total did not count it")
        self.queryd.wait_for_log("answer cut short")
        self.queryd.wait_pool_idle(self.pool_size)

    def test_database_error_mid_stream_cuts_the_body(self):
        before = self.streams_cut()
        s = Stream(self.port, f"/big?limit={BIG_ROWS}")
        try:
            s.read(200_000)
            ids = self.db.execute("SELECT id FROM information_schema.processlist "
                                  "WHERE user = 'queryd' AND info LIKE '%FROM `big`%'",
                                  column_names=False).split()
            self.assertEqual(len(ids), 1, ids)
            self.db.execute(f"KILL QUERY {ids[0]}")
            self.assert_cut(s, "KILL QUERY", before)
        finally:
            s.close()
        self.assertTrue(s.body.startswith(b'{"data":[{"id":1,'))

    def test_timeout_mid_stream_cuts_the_body(self):
        before = self.streams_cut()
        offset = self.queryd.log_size()
        s = Stream(self.port, f"/big_short?limit={BIG_ROWS}", "text/csv")
        try:
            s.read(100_000)
            # The client reads no more until timeout_ms (1 s), and queryd's
            # grace after it, have cut the answer.
            self.queryd.wait_for_log("answer cut short", offset, timeout=20)
            self.assert_cut(s, "timeout", before)
        finally:
            s.close()

    def test_max_rows_overrun_mid_stream_cuts_the_body(self):
        resp = self.get("/big_notes?n=1000")
        self.assertEqual(len(resp.json()["data"]), 1000)
        before = self.streams_cut()
        s = Stream(self.port, "/big_notes?n=5000")
        try:
            self.assertEqual(s.resp.status, 200)
            self.assert_cut(s, "max_rows", before)
        finally:
            s.close()


if __name__ == "__main__":
    harness.main()
