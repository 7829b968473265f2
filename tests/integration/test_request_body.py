"""Request bodies (QUERYD_MAX_BODY_BYTES).

No endpoint takes a body yet, so a body sent with a request is read and
thrown away before the request is answered as it would be without one: the
connection stays usable for the next request.  A body past the limit is
refused with 413 problem+json: before any of it is read when its
Content-Length says so (the connection then closes, since the unread body
cannot be skipped), and once the limit passes for a chunked one.  0 means
no limit; a value that is not a whole number stops queryd with exit status 2.
"""

import socket
import unittest

import harness
from harness import assert_json_ok, assert_problem

LIMIT = 100000


def chunked(data, piece=8192):
    out = bytearray()
    for i in range(0, len(data), piece):
        part = data[i:i + piece]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


def read_answer(sock, method="GET"):
    resp = harness.http.client.HTTPResponse(sock, method=method)
    resp.begin()
    return harness.Response(resp.status, resp.headers, resp.read())


class RequestBodyTests(harness.DemoServiceTestCase):
    queryd_env = {"max_body_bytes": LIMIT}

    def test_body_is_thrown_away_and_the_connection_kept(self):
        with harness.KeepAliveClient(self.port) as client:
            for body in (b"x", b"y" * (LIMIT // 2), b"z" * LIMIT):
                resp = client.request("GET", "/users/1", body=body,
                                      headers={"Content-Type": "application/json"})
                self.assertEqual(assert_json_ok(self, resp)["id"], 1)
            resp = client.request("GET", "/users/2")
            self.assertEqual(assert_json_ok(self, resp)["id"], 2)
            self.assertTrue(client.still_same_socket())

    def test_chunked_body_under_the_limit_is_thrown_away(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            head = (b"GET /users/3 HTTP/1.1\r\nHost: localhost\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
            sock.sendall(head + chunked(b"c" * (LIMIT - 10)))
            self.assertEqual(assert_json_ok(self, read_answer(sock))["id"], 3)
            sock.sendall(b"GET /users/4 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            self.assertEqual(assert_json_ok(self, read_answer(sock))["id"], 4)

    def test_a_body_does_not_change_the_answer_to_a_wrong_method(self):
        resp = self.request("POST", "/users", body=b'{"name": "x"}',
                            headers={"Content-Type": "application/json"})
        assert_problem(self, resp, 405, "method-not-allowed")
        self.assertEqual(resp.headers.get("Allow"), "GET, HEAD")
        resp = self.request("DELETE", "/users/1", body=b"x" * 1000)
        assert_problem(self, resp, 405, "method-not-allowed")
        assert_problem(self, self.request("POST", "/nope", body=b"x"), 404, "not-found")

    def test_declared_length_past_the_limit_is_413_before_reading(self):
        for method, path in (("POST", "/users"), ("GET", "/users/1"), ("PUT", "/nope")):
            with self.subTest(method=method, path=path):
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
                    # Only the head is sent: the answer must not wait for the body.
                    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
                                 f"Content-Length: {LIMIT + 1}\r\n\r\n".encode())
                    resp = read_answer(sock)
                    assert_problem(self, resp, 413, "body-too-large", mentions=str(LIMIT))
                    self.assertTrue(resp.headers.get("X-Request-Id"))
                    self.assertEqual(sock.recv(1), b"", "the connection must close")

    def test_chunked_body_past_the_limit_is_413(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"POST /users HTTP/1.1\r\nHost: localhost\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b"d" * (LIMIT + 5000)))
            assert_problem(self, read_answer(sock), 413, "body-too-large")

    def test_a_body_that_goes_on_and_on_is_cut(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"POST /users HTTP/1.1\r\nHost: localhost\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            piece = chunked(b"e" * 65536)[:-5]  # no final chunk: it never ends
            sent, cut = 0, False
            while sent < 64 * 1024 * 1024:
                try:
                    sock.sendall(piece)
                except OSError:
                    cut = True
                    break
                sent += len(piece)
            self.assertTrue(cut, "queryd read a body of 64 MiB past a limit of 100000 bytes")
        self.assertEqual(assert_json_ok(self, self.get("/users/1"))["id"], 1)

    def test_413_is_counted(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(f"POST /users HTTP/1.1\r\nHost: localhost\r\n"
                         f"Content-Length: {LIMIT * 10}\r\n\r\n".encode())
            read_answer(sock)
        metrics = self.get("/metrics").body.decode()
        self.assertRegex(metrics, r'queryd_http_requests_total\{route="unmatched",'
                                  r'status="413"\} [1-9]')


class NoLimitTests(harness.DemoServiceTestCase):
    queryd_env = {"max_body_bytes": 0}

    def test_zero_is_no_limit(self):
        resp = self.request("GET", "/users/1", body=b"n" * (3 * 1024 * 1024))
        self.assertEqual(assert_json_ok(self, resp)["id"], 1)


class LimitSettingTests(unittest.TestCase):

    def test_bad_values_stop_queryd(self):
        for value in ("-1", "abc", "1e6", "4294967296"):
            with self.subTest(value=value):
                code, _out, err = harness.run_queryd_once(
                    {"QUERYD_DATABASE_URL": "mysql://u:p@127.0.0.1:1/db",
                     "QUERYD_MAX_BODY_BYTES": value})
                self.assertEqual(code, 2, err)
                self.assertIn("QUERYD_MAX_BODY_BYTES", err)

    def test_help_names_it(self):
        code, out, _err = harness.run_queryd_once({}, args=["--help"])
        self.assertEqual(code, 0)
        self.assertIn("QUERYD_MAX_BODY_BYTES", out)


if __name__ == "__main__":
    harness.main()
