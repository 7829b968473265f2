"""What HTTP queryd accepts and refuses, spoken on raw sockets.

Every malformed request is refused with a problem+json answer that carries
an X-Request-Id, and the connection closes after it; well-formed requests
keep keep-alive and pipelining, chunked and Content-Length bodies, and a
client that half-closes after sending still gets its whole answer, even
one that waits on the database.
"""

import json
import socket
import time

import harness
from harness import assert_json_ok

HOST = b"Host: localhost\r\n"


def connect(port, timeout=10.0):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_until_close(sock, limit=50_000_000):
    data = b""
    while len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def split_answers(data):
    """The answers in data, each (status, headers dict, body); bodies by
    Content-Length or chunked."""
    answers = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError(f"incomplete answer: {data[:200]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status < 200:
            answers.append((status, headers, b""))
            data = rest
            continue
        if "content-length" in headers:
            n = int(headers["content-length"])
            body, data = rest[:n], rest[n:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    _, _, rest = rest.partition(b"\r\n")
                    break
                body += rest[:size]
                rest = rest[size + 2:]
            data = rest
        else:
            body, data = rest, b""
        answers.append((status, headers, body))
    return answers


def exchange(port, data, half_close=False, timeout=10.0):
    """Sends data, reads until the server closes, returns the final answers
    (interim 1xx ones left out)."""
    with connect(port, timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        return [a for a in split_answers(read_until_close(s)) if a[0] >= 200]


SETUP_SQL = """
CREATE TABLE gate_notes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, body VARCHAR(40) NOT NULL);
""" + "".join(f"GRANT INSERT ON queryd.gate_notes TO 'queryd'@'{host}';\n"
              for host in ("localhost", "127.0.0.1", "%"))

CONFIG = harness.demo_config()
CONFIG["resources"] = CONFIG["resources"] + [
    {"path": "/gate_notes", "table": "gate_notes", "key": "id", "methods": ["GET", "POST"]},
]


class StrictHttpTests(harness.DemoServiceTestCase):
    queryd_env = {"query_timeout_ms": 5000, "access_log": 1}
    queryd_config = CONFIG
    setup_sql = SETUP_SQL

    def notes(self, prefix):
        return int(self.db.query_value(
            f"SELECT COUNT(*) FROM gate_notes WHERE body LIKE '{prefix}%'", harness.DEMO_DB))

    def assert_refused(self, data, status, slug=None, detail_has=None):
        """One problem+json answer, then the connection closes."""
        answers = exchange(self.port, data)
        self.assertEqual(len(answers), 1, answers)
        got, headers, body = answers[0]
        self.assertEqual(got, status, body)
        self.assertEqual(headers.get("content-type"), "application/problem+json", headers)
        self.assertTrue(headers.get("x-request-id"), headers)
        doc = json.loads(body)
        self.assertEqual(doc["status"], status)
        self.assertEqual(doc["request_id"], headers["x-request-id"])
        if slug:
            self.assertEqual(doc["type"], f"urn:queryd:problem:{slug}")
        if detail_has:
            self.assertIn(detail_has, doc["detail"])
        return doc

    def get_ok(self, data):
        answers = exchange(self.port, data)
        self.assertGreaterEqual(len(answers), 1)
        return answers

    # ---- defect 1: NUL and control bytes ----

    def test_nul_in_target_is_refused(self):
        self.assert_refused(b"GET /users?select=id&limit=2\x00&name=eq.zzz HTTP/1.1\r\n" + HOST +
                            b"\r\n", 400, "bad-request")
        self.assert_refused(b"GET /users/1\x00garbage HTTP/1.1\r\n" + HOST + b"\r\n", 400)

    def test_control_bytes_in_target_and_headers_are_refused(self):
        for byte in (b"\x01", b"\x1f", b"\x7f", b"\t"):
            with self.subTest(byte=byte):
                self.assert_refused(b"GET /users/1" + byte + b"x HTTP/1.1\r\n" + HOST + b"\r\n",
                                    400)
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + b"Accept: application/json\x00x\r\n\r\n", 400)
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + b"X-A: a\rb\r\n\r\n", 400)

    # ---- defect 2: many query parameters ----

    def test_many_query_parameters_get_an_answer(self):
        query = "&".join(f"p{i}=v" for i in range(950))
        self.assertGreater(len(query), 5600)
        for path in ("/users", "/users/1", "/nowhere", "/healthz"):
            with self.subTest(path=path):
                doc = self.assert_refused(f"GET {path}?{query} HTTP/1.1\r\n".encode() + HOST +
                                          b"\r\n", 400, "invalid-parameter")
                self.assertIn("too many", doc["detail"])
        # Below the gate's limit, the handler's own check answers.
        query = "&".join(f"p{i}=v" for i in range(60))
        resp = harness.raw_request(self.port, f"GET /users?{query} HTTP/1.1\r\n".encode() + HOST +
                                   b"\r\n")
        self.assertEqual(resp.status, 400, resp.describe())

    # ---- defect 3: framing, Host, target forms ----

    def test_content_length_with_transfer_encoding_closes(self):
        body = b"0\r\n\r\n"
        data = (b"POST /users HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n" + body +
                b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n")
        answers = exchange(self.port, data)
        self.assertEqual([a[0] for a in answers], [400], answers)

    def test_refusal_after_good_pipelined_requests(self):
        data = (b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n"
                b"GET /users/2 HTTP/1.1\r\n" + HOST + b"\r\n"
                b"GET /users/3 HTTP/1.1\r\n" + HOST + HOST + b"\r\n"
                b"GET /users/4 HTTP/1.1\r\n" + HOST + b"\r\n")
        answers = exchange(self.port, data)
        self.assertEqual([a[0] for a in answers], [200, 200, 400], answers)
        self.assertEqual(json.loads(answers[0][2]), harness.USER_1)
        self.assertEqual(answers[2][1]["content-type"], "application/problem+json")

    def test_host_is_required_once_in_http_1_1(self):
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n\r\n", 400, detail_has="Host")
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + b"Host: other\r\n\r\n", 400)
        # HTTP/1.0 needs none.
        answers = self.get_ok(b"GET /users/1 HTTP/1.0\r\n\r\n")
        self.assertEqual(answers[0][0], 200)

    def test_absolute_form_is_served_as_its_path(self):
        for target in (b"http://localhost/users/1", b"HTTP://example.com:8080/users/1",
                       b"https://x/users/1"):
            with self.subTest(target=target):
                answers = self.get_ok(b"GET " + target + b" HTTP/1.1\r\n" + HOST +
                                      b"Connection: close\r\n\r\n")
                self.assertEqual(answers[0][0], 200, answers)
                self.assertEqual(json.loads(answers[0][2]), harness.USER_1)
        answers = self.get_ok(b"GET http://localhost?limit=1 HTTP/1.1\r\n" + HOST +
                              b"Connection: close\r\n\r\n")
        self.assertEqual(answers[0][0], 200, answers)  # the root: "/" 

    def test_relative_target_is_refused(self):
        self.assert_refused(b"GET users/1 HTTP/1.1\r\n" + HOST + b"\r\n", 400)
        self.assert_refused(b"GET * HTTP/1.1\r\n" + HOST + b"\r\n", 400)

    # ---- defect 4: the errors the HTTP library made ----

    def test_long_target_is_414(self):
        self.assert_refused(b"GET /users?select=" + b"a" * 70000 + b" HTTP/1.1\r\n" + HOST +
                            b"\r\n", 414, "uri-too-long")
        # Even when the line never ends.
        with connect(self.port) as s:
            s.sendall(b"GET /" + b"a" * 70000)
            answers = split_answers(read_until_close(s))
        self.assertEqual(answers[0][0], 414)

    def test_large_or_many_headers_are_431(self):
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 100000 +
                            b"\r\n\r\n", 431, "headers-too-large")
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
        self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + many + b"\r\n", 431)

    def test_largest_heads_let_through_are_served(self):
        """What the gate passes fits in the HTTP library's connection memory:
        the handlers answer (problem+json), never the library or a close."""
        target = b"/users?select=" + b"a" * (60 * 1024 + 512 - 14)
        line_list = [b"X-H%d: %s\r\n" % (i, b"v" * 520) for i in range(99)]
        lines = b"".join(line_list)
        args = b"/users?" + b"&".join(b"p%d=v" % i for i in range(64))
        for head in (b"GET " + target + b" HTTP/1.1\r\n" + HOST,
                     b"GET /users/1 HTTP/1.1\r\n" + HOST + lines,
                     b"GET " + args + b" HTTP/1.1\r\n" + HOST + b"".join(line_list[:49])):
            with self.subTest(size=len(head)):
                answers = exchange(self.port, head + b"Connection: close\r\n\r\n")
                self.assertEqual(len(answers), 1, answers)
                status, headers, body = answers[0]
                self.assertIn(status, (200, 400, 431), body[:300])
                if status != 200:
                    self.assertEqual(headers.get("content-type"), "application/problem+json")

    def test_malformed_header_lines_are_400(self):
        for line in (b"NoColon", b"Bad Name: v", b"Name : v", b" folded", b": empty-name"):
            with self.subTest(line=line):
                self.assert_refused(b"GET /users/1 HTTP/1.1\r\n" + HOST + line + b"\r\n\r\n",
                                    400)

    def test_other_http_versions_are_505(self):
        for version in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"):
            with self.subTest(version=version):
                self.assert_refused(b"GET /users/1 " + version + b"\r\n" + HOST + b"\r\n", 505,
                                    "http-version")

    def test_garbage_request_lines_are_400(self):
        for line in (b"garbage", b"GET /users/1", b"GET  /users/1 HTTP/1.1",
                     b"G(T /users/1 HTTP/1.1", b"GET /users/1 HTTP/1.1 extra",
                     b"\x16\x03\x01\x02\x00\x01\x00\x01"):
            with self.subTest(line=line):
                self.assert_refused(line + b"\r\n" + HOST + b"\r\n", 400)

    def test_transfer_codings_other_than_chunked_are_501(self):
        self.assert_refused(b"POST /users HTTP/1.1\r\n" + HOST +
                            b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501)

    def test_refusals_are_logged(self):
        offset = self.queryd.log_size()
        doc = self.assert_refused(b"GET /users/1\x01 HTTP/1.1\r\n" + HOST + b"\r\n", 400)

        def logged():
            return doc["request_id"] in self.queryd.log_since(offset)
        harness.wait_until(logged, 5)

    # ---- defect 5 and item 8 ----

    def test_half_close_gets_the_answer(self):
        for i in range(20):
            answers = exchange(self.port, b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n",
                               half_close=True)
            self.assertEqual([a[0] for a in answers], [200], f"round {i}: {answers}")
            self.assertEqual(json.loads(answers[0][2]), harness.USER_1)

    def test_half_close_with_pipelined_requests(self):
        data = b"".join(b"GET /users/%d HTTP/1.1\r\n" % i + HOST + b"\r\n" for i in (1, 2, 3))
        answers = exchange(self.port, data, half_close=True)
        self.assertEqual([a[0] for a in answers], [200, 200, 200], answers)

    def test_half_close_while_the_answer_waits_on_the_database(self):
        lock = harness.lock_users_table(self.db, harness.DEMO_DB, 1.5)
        try:
            start = time.monotonic()
            answers = exchange(self.port, b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n",
                               half_close=True, timeout=20)
            waited = time.monotonic() - start
        finally:
            lock.release()
        self.assertEqual([a[0] for a in answers], [200], answers)
        self.assertEqual(json.loads(answers[0][2]), harness.USER_1)
        self.assertGreater(waited, 0.5, "the lock did not hold the request")

    def test_expect_continue_without_body_gets_no_100(self):
        answers = exchange(self.port, b"GET /users/1 HTTP/1.1\r\n" + HOST +
                           b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        self.assertEqual([a[0] for a in answers], [200], answers)

    def test_expect_continue_with_a_body_gets_100(self):
        body = json.dumps({"body": "expect-1"}).encode()
        with connect(self.port) as s:
            s.sendall(b"POST /gate_notes HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\n"
                      b"Content-Type: application/json\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            first = s.recv(100)
            self.assertTrue(first.startswith(b"HTTP/1.1 100"), first)
            s.sendall(body)
            rest = read_until_close(s)
        self.assertEqual(split_answers(rest)[-1][0], 201, rest[:300])
        self.assertEqual(self.notes("expect-"), 1)

    def test_chunked_upload_of_many_rows(self):
        rows = 20000
        with connect(self.port, timeout=60) as s:
            s.sendall(b"POST /gate_notes HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
                      b"Content-Type: application/x-ndjson\r\nConnection: close\r\n\r\n")
            for start in range(0, rows, 1000):
                piece = b"".join(b'{"body": "chunked-%d"}\n' % i
                                 for i in range(start, start + 1000))
                s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            answers = split_answers(read_until_close(s))
        self.assertEqual(answers[-1][0], 201, answers)
        self.assertEqual(self.notes("chunked-"), rows)

    # ---- good requests through the gate ----

    def test_keep_alive_and_pipelining(self):
        with harness.KeepAliveClient(self.port) as client:
            for i in range(1, 6):
                resp = client.request("GET", f"/users/{i}")
                self.assertEqual(resp.status, 200)
            self.assertTrue(client.still_same_socket())
        data = b"".join(b"GET /users/%d HTTP/1.1\r\n" % i + HOST + b"\r\n" for i in range(1, 9))
        data += b"GET /users/1 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
        answers = exchange(self.port, data)
        self.assertEqual([a[0] for a in answers], [200] * 9)
        self.assertEqual(json.loads(answers[-1][2]), harness.USER_1)

    def test_pipelined_request_split_across_writes(self):
        data = (b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n"
                b"GET /users/2 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
        with connect(self.port) as s:
            for i in range(0, len(data), 7):
                s.sendall(data[i:i + 7])
                time.sleep(0.005)
            answers = split_answers(read_until_close(s))
        self.assertEqual([a[0] for a in answers], [200, 200])

    def test_chunked_body_is_framed(self):
        # A chunked body that itself looks like a request: it must not be
        # taken for one.
        payload = b"GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n"
        body = b"%x;ext=1\r\n" % len(payload) + payload + b"\r\n0\r\nX-Trailer: t\r\n\r\n"
        data = (b"POST /nowhere HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n" + body +
                b"GET /users/1 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
        answers = exchange(self.port, data)
        self.assertEqual(len(answers), 2, answers)
        self.assertEqual(answers[1][0], 200)
        self.assertEqual(json.loads(answers[1][2]), harness.USER_1)

    def test_content_length_body_is_framed(self):
        payload = b"GET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n"
        data = (b"POST /nowhere HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n"
                b"Content-Type: application/json\r\n\r\n" % len(payload) + payload +
                b"GET /users/1 HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
        answers = exchange(self.port, data)
        self.assertEqual(len(answers), 2, answers)
        self.assertEqual(json.loads(answers[1][2]), harness.USER_1)

    def test_broken_chunked_framing_closes(self):
        data = (b"POST /nowhere HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
                b"zz\r\nhello\r\n0\r\n\r\n"
                b"GET /users/1 HTTP/1.1\r\n" + HOST + b"\r\n")
        with connect(self.port) as s:
            s.sendall(data)
            got = read_until_close(s)
        self.assertNotIn(b'"id":1', got)

    def test_zz_every_log_line_is_timestamped_or_an_access_log_entry(self):
        # Runs last: everything above was refused or served by now.
        for line in self.queryd.log_text().splitlines():
            if line.strip():
                self.assertRegex(line, r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d|\{)", line)

    def test_server_still_serves(self):
        self.assertEqual(assert_json_ok(self, self.queryd.get("/users/1")), harness.USER_1)


if __name__ == "__main__":
    harness.main()
