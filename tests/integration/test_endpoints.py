"""Every endpoint and every status of the contract, against the demo data.

Covers /users (limits, cursors, offsets, parameter errors), /users/{id}
(exact rows, absent ids, malformed ids), /healthz, /readyz, unknown paths,
unsupported methods, HEAD, the problem+json shape, keep-alive and
oversized or malformed requests.
"""

import socket
import time

import harness
from harness import USER_1, USER_2, assert_json_ok, assert_problem, parse_next


class EndpointTests(harness.DemoServiceTestCase):

    def assert_next(self, page, expected_params):
        """Assert page["next"] is /users with exactly expected_params."""
        self.assertIsInstance(page.get("next"), str, page.get("next"))
        path, params = parse_next(page["next"])
        self.assertEqual(path, "/users", page["next"])
        self.assertEqual(params, {k: [str(v)] for k, v in expected_params.items()},
                         page["next"])

    def ids(self, page):
        return [row["id"] for row in page["data"]]

    # ---------------------------------------------------------------- /users

    def test_users_default_limit_is_100(self):
        page = assert_json_ok(self, self.get("/users"))
        self.assertEqual(set(page), {"data", "next"})
        self.assertEqual(self.ids(page), list(range(1, 101)))
        harness.assert_same_json(self, page["data"][0], USER_1)
        harness.assert_same_json(self, page["data"][1], USER_2)
        # The next link repeats the request's parameters: the limit may be
        # spelled out or left to the default.
        _, params = parse_next(page["next"])
        if "limit" in params:
            self.assert_next(page, {"limit": 100, "after": 100})
        else:
            self.assert_next(page, {"after": 100})

    def test_users_limit_1(self):
        page = assert_json_ok(self, self.get("/users?limit=1"))
        self.assertEqual(page["data"], [USER_1])
        self.assert_next(page, {"limit": 1, "after": 1})

    def test_users_limit_above_cap_is_capped(self):
        # Only 3000 rows exist, so a capped request returns them all on one
        # (last) page; what matters is that 20000 is accepted, not refused.
        page = assert_json_ok(self, self.get("/users?limit=20000", timeout=60))
        self.assertEqual(self.ids(page), list(range(1, harness.DEMO_ROW_COUNT + 1)))
        self.assertIsNone(page["next"])

    def test_users_limit_at_cap(self):
        page = assert_json_ok(self, self.get("/users?limit=10000", timeout=60))
        self.assertEqual(len(page["data"]), harness.DEMO_ROW_COUNT)
        self.assertIsNone(page["next"])

    def test_users_limit_cap_in_next_link(self):
        # Starting near the end still hits the cap; the next link of a
        # non-last page is not observable with 3000 rows, so check that a
        # capped request after a cursor is accepted and complete.
        page = assert_json_ok(self, self.get("/users?limit=123456&after=2990"))
        self.assertEqual(self.ids(page), list(range(2991, 3001)))
        self.assertIsNone(page["next"])

    def test_users_after(self):
        page = assert_json_ok(self, self.get("/users?after=100&limit=5"))
        self.assertEqual(self.ids(page), [101, 102, 103, 104, 105])
        self.assert_next(page, {"limit": 5, "after": 105})

    def test_users_after_zero_and_negative(self):
        page = assert_json_ok(self, self.get("/users?after=0&limit=2"))
        self.assertEqual(self.ids(page), [1, 2])
        page = assert_json_ok(self, self.get("/users?after=-5&limit=2"))
        self.assertEqual(self.ids(page), [1, 2])

    def test_users_after_last_id_is_empty_last_page(self):
        page = assert_json_ok(self, self.get("/users?after=3000"))
        self.assertEqual(page, {"data": [], "next": None})

    def test_users_offset(self):
        page = assert_json_ok(self, self.get("/users?offset=10&limit=5"))
        self.assertEqual(self.ids(page), [11, 12, 13, 14, 15])
        self.assert_next(page, {"limit": 5, "offset": 15})

    def test_users_offset_zero(self):
        page = assert_json_ok(self, self.get("/users?offset=0&limit=3"))
        self.assertEqual(self.ids(page), [1, 2, 3])
        self.assert_next(page, {"limit": 3, "offset": 3})

    def test_users_offset_past_end(self):
        page = assert_json_ok(self, self.get("/users?offset=5000&limit=3"))
        self.assertEqual(page, {"data": [], "next": None})

    def test_users_partial_last_page_has_null_next(self):
        page = assert_json_ok(self, self.get("/users?after=2995&limit=10"))
        self.assertEqual(self.ids(page), [2996, 2997, 2998, 2999, 3000])
        self.assertIsNone(page["next"])
        page = assert_json_ok(self, self.get("/users?offset=2995&limit=10"))
        self.assertEqual(self.ids(page), [2996, 2997, 2998, 2999, 3000])
        self.assertIsNone(page["next"])

    def test_users_after_and_offset_together(self):
        assert_problem(self, self.get("/users?after=1&offset=1"), 400, "invalid-parameter")

    def test_users_unknown_parameter(self):
        for query in ("foo=1", "limit=5&foo=1", "LIMIT=5", "sort=name", "foo"):
            with self.subTest(query=query):
                assert_problem(self, self.get("/users?" + query), 400, "invalid-parameter")

    def test_users_repeated_parameter(self):
        for query, name in (("limit=1&limit=2", "limit"), ("after=1&after=2", "after"),
                            ("offset=1&offset=1", "offset")):
            with self.subTest(query=query):
                harness.assert_invalid(self, self.get("/users?" + query), name, mentions=name)

    def test_users_invalid_limit(self):
        for value in ("0", "-1", "abc", "1e3", "99999999999999999999",
                      "18446744073709551617", "", "5x", "1.5", "%20"):
            with self.subTest(limit=value):
                harness.assert_invalid(self, self.get("/users?limit=" + value), "limit",
                                       mentions="limit")

    def test_users_invalid_after(self):
        # The default order's cursor is the id itself: these are not ids.
        # The problem names the parameter in its "parameter" member.
        for value in ("abc", "", "1.5", "99999999999999999999", "0x10"):
            with self.subTest(after=value):
                harness.assert_invalid(self, self.get("/users?after=" + value), "after")

    def test_users_invalid_offset(self):
        for value in ("-1", "abc", "", "1.5", "99999999999999999999"):
            with self.subTest(offset=value):
                harness.assert_invalid(self, self.get("/users?offset=" + value), "offset",
                                       mentions="offset")

    # ------------------------------------------------------------ /users/{id}

    def test_user_1_exact(self):
        resp = self.get("/users/1")
        row = assert_json_ok(self, resp)
        self.assertEqual(row, USER_1)
        self.assertEqual(list(row), harness.DEMO_COLUMNS, "keys not in column order")
        raw = resp.body.decode("utf-8")
        # Precision: the double 0.1 printed shortest, the BIGINT beyond 2^53
        # as exact digits in a string, the DECIMAL with its two digits.
        self.assertRegex(raw, r'"score"\s*:\s*0\.1\s*[,}]')
        self.assertRegex(raw, r'"visits"\s*:\s*"9007199254740993"')
        self.assertRegex(raw, r'"balance"\s*:\s*"1234\.50"')
        self.assertRegex(raw, r'"age"\s*:\s*36\s*[,}]')
        # docker/queryd.json types "active" as boolean.
        self.assertRegex(raw, r'"active"\s*:\s*true\s*[,}]')
        harness.assert_same_json(self, row, USER_1)

    def test_user_2_nulls(self):
        row = assert_json_ok(self, self.get("/users/2"))
        harness.assert_same_json(self, row, USER_2)

    def test_user_3000_exists(self):
        row = assert_json_ok(self, self.get("/users/3000"))
        self.assertEqual(row["id"], 3000)
        self.assertEqual(set(row), set(harness.DEMO_COLUMNS))

    def test_user_absent(self):
        for path in ("/users/999999", "/users/0", "/users/-1", "/users/3001",
                     "/users/9223372036854775807", "/users/-9223372036854775808"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")

    def test_user_invalid_id(self):
        for path in ("/users/abc", "/users/1.5", "/users/99999999999999999999",
                     "/users/9223372036854775808", "/users/-9223372036854775809",
                     "/users/+1", "/users/1a", "/users/-", "/users/0x1",
                     "/users/%31%2e5", "/users/1%20", "/users/%201", "/users/1e3"):
            with self.subTest(path=path):
                harness.assert_invalid(self, self.get(path), "id")

    def test_user_id_with_nul_byte(self):
        # An id that is a NUL byte is not a valid integer (400); a server
        # that cut the path at the NUL sees "/users/" instead (400 or 404).
        for path in ("/users/%00", "/users/1%00", "/users/%001"):
            with self.subTest(path=path):
                resp = self.get(path)
                self.assertIn(resp.status, (400, 404), resp.describe())
                slug = "invalid-parameter" if resp.status == 400 else "not-found"
                assert_problem(self, resp, resp.status, slug)
        self.assert_still_serving()

    def test_user_trailing_slash_and_extra_segments(self):
        # The contract does not define these paths: either an empty id
        # (400) or an unknown path (404) is acceptable, never a row.
        for path in ("/users/", "/users/1/", "/users/1/x", "/users//1", "/users/1?x=1"):
            with self.subTest(path=path):
                resp = self.get(path)
                if path == "/users/1?x=1" and resp.status == 200:
                    continue  # query string on an item is not forbidden by the contract
                self.assertIn(resp.status, (400, 404), resp.describe())
                slug = "invalid-parameter" if resp.status == 400 else "not-found"
                assert_problem(self, resp, resp.status, slug)

    # --------------------------------------------------- /healthz and /readyz

    def test_healthz(self):
        self.assertEqual(assert_json_ok(self, self.get("/healthz")), {"status": "ok"})

    def test_readyz(self):
        self.get("/users/1")
        resp = self.queryd.wait_pool_idle(self.pool_size)
        body = assert_json_ok(self, resp)
        self.assertEqual(body["status"], "ready")
        pool = body["pool"]
        self.assertEqual(set(pool), {"size", "idle", "busy", "waiting"})
        for key in pool:
            self.assertIs(type(pool[key]), int, body)
        self.assertEqual(pool, {"size": self.pool_size, "idle": self.pool_size,
                                "busy": 0, "waiting": 0})

    # --------------------------------------------------- unknown and methods

    def test_unknown_paths(self):
        for path in ("/nope", "/user", "/users1", "/USERS", "/healthz/x",
                     "/readyz/", "/%2e%2e/etc/passwd"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")

    def test_methods_not_allowed(self):
        for path in ("/users", "/users/1", "/users/999999", "/healthz", "/readyz"):
            for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
                with self.subTest(method=method, path=path):
                    body = b'{"name": "x"}' if method in ("POST", "PUT", "PATCH") else None
                    headers = {"Content-Type": "application/json"} if body else {}
                    resp = self.request(method, path, body=body, headers=headers)
                    assert_problem(self, resp, 405, "method-not-allowed")
                    allow = [m.strip() for m in resp.headers.get("Allow", "").split(",")]
                    self.assertEqual(sorted(allow), ["GET", "HEAD"], resp.describe())

    def test_unknown_path_with_other_method_is_404(self):
        assert_problem(self, self.request("POST", "/nope", body=b"x"), 404, "not-found")

    def test_large_request_body_is_refused_cleanly(self):
        # Answering before reading the whole body and closing is fine too.
        data = (b"POST /users HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/octet-stream\r\nContent-Length: 300000\r\n\r\n"
                + b"x" * 300000)
        try:
            resp = harness.raw_request(self.port, data, method="POST", timeout=20)
            self.assertIn(resp.status, (405, 413), resp.describe())
        except (OSError, harness.http.client.HTTPException):
            pass
        self.assert_still_serving()

    # ------------------------------------------------------------------ HEAD

    def test_head_mirrors_get(self):
        paths = ["/users", "/users?limit=3", "/users/1", "/users/2", "/users/999999",
                 "/users/abc", "/users?limit=0", "/healthz", "/readyz", "/nope"]
        for path in paths:
            with self.subTest(path=path):
                got = self.get(path)
                head = self.request("HEAD", path)
                self.assertEqual(head.status, got.status, f"HEAD {path}: {head.describe()}")
                self.assertEqual(head.body, b"")
                self.assertEqual(head.content_type, got.content_type, path)
                self.assertTrue(head.headers.get("X-Request-Id"), path)
                length = head.headers.get("Content-Length")
                # Problem bodies embed the request id and /readyz the pool
                # counts, so only deterministic bodies are compared by length.
                if length is not None and got.status == 200 and path != "/readyz":
                    self.assertEqual(int(length), len(got.body), path)

    def test_head_sends_no_body_on_the_wire(self):
        # http.client never reads a HEAD body, so check on a raw socket that
        # the next response starts right after the HEAD response's headers.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"HEAD /users/1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            deadline = time.monotonic() + 10
            while b"\r\n\r\n" not in data and time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            self.assertTrue(sep, data)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            while len(rest) < 12 and time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
            self.assertTrue(rest.startswith(b"HTTP/1.1 200"),
                            f"bytes after the HEAD response headers: {rest[:200]!r}")

    # ------------------------------------------------- headers and problems

    def test_request_id_on_every_response(self):
        seen = set()
        for method, path in (("GET", "/users/1"), ("GET", "/users?limit=1"),
                             ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/nope"),
                             ("GET", "/users/abc"), ("GET", "/users/999999"),
                             ("DELETE", "/users/1"), ("HEAD", "/users/1")):
            with self.subTest(method=method, path=path):
                resp = self.request(method, path)
                request_id = resp.headers.get("X-Request-Id")
                self.assertTrue(request_id, resp.describe())
                self.assertNotIn(request_id, seen, "request ids must differ")
                seen.add(request_id)

    def test_problem_detail_names_parameter(self):
        doc = assert_problem(self, self.get("/users?limit=abc"), 400, "invalid-parameter",
                             mentions="limit")
        self.assertNotIn("errno", doc)

    def test_success_content_type(self):
        for path in ("/users/1", "/users", "/healthz", "/readyz"):
            with self.subTest(path=path):
                resp = self.get(path)
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.content_type, "application/json")

    def test_startup_log_line(self):
        log = self.queryd.log_text()
        self.assertIn(f"listening on http://127.0.0.1:{self.port}", log)

    # ------------------------------------------------------------ keep-alive

    def test_keep_alive_200_requests(self):
        paths = ["/users/1", "/healthz", "/users?limit=5", "/users/2", "/readyz",
                 "/users/abc", "/users/999999", "/nope", "/users?limit=0"]
        expected = {"/users/1": 200, "/healthz": 200, "/users?limit=5": 200,
                    "/users/2": 200, "/readyz": 200, "/users/abc": 400,
                    "/users/999999": 404, "/nope": 404, "/users?limit=0": 400}
        with harness.KeepAliveClient(self.port) as client:
            for i in range(200):
                path = paths[i % len(paths)]
                method = "HEAD" if i % 17 == 0 else "GET"
                resp = client.request(method, path)
                self.assertEqual(resp.status, expected[path], f"request {i}: {method} {path}: "
                                 f"{resp.describe()}")
                if path == "/users/1" and method == "GET":
                    self.assertEqual(resp.json(), USER_1)
            self.assertEqual(client.requests, 200)
            self.assertTrue(client.still_same_socket(), "connection was reopened")

    def test_keep_alive_after_405_with_body(self):
        with harness.KeepAliveClient(self.port) as client:
            resp = client.request("POST", "/users", body=b'{"a": 1}',
                                  headers={"Content-Type": "application/json"})
            self.assertEqual(resp.status, 405)
            resp = client.request("GET", "/users/1")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.json(), USER_1)

    # ---------------------------------------------------- hostile requests

    def assert_still_serving(self):
        resp = self.get("/users/1")
        self.assertEqual(resp.status, 200, f"server stopped serving: {resp.describe()}")
        self.assertEqual(resp.json(), USER_1)
        self.assertTrue(self.queryd.running(), "queryd exited")

    def assert_error_status_or_drop(self, data, what):
        """Send data raw; the answer must be a 4xx status line."""
        try:
            resp = harness.raw_request(self.port, data, timeout=15)
        except (OSError, harness.http.client.HTTPException) as exc:
            self.fail(f"{what}: connection dropped without a status ({exc!r})")
        self.assertTrue(400 <= resp.status < 500, f"{what}: {resp.describe()}")
        return resp

    def test_oversized_url(self):
        for size in (70000, 1000000):
            with self.subTest(size=size):
                target = b"/users/" + b"1" * size
                self.assert_error_status_or_drop(
                    b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
                    f"URL of {size} bytes")
                self.assert_still_serving()

    def test_long_query_string(self):
        resp = self.assert_error_status_or_drop(
            b"GET /users?limit=1&" + b"x" * 20000 + b"=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "long query string")
        self.assertIn(resp.status, (400, 414, 431), resp.describe())
        self.assert_still_serving()

    def test_big_but_acceptable_header(self):
        resp = harness.raw_request(self.port, b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\n"
                                   b"X-Big: " + b"a" * 6000 + b"\r\n\r\n")
        self.assertIn(resp.status, (200, 431), resp.describe())
        self.assert_still_serving()

    def test_oversized_header(self):
        for size in (70000, 1000000):
            with self.subTest(size=size):
                self.assert_error_status_or_drop(
                    b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * size
                    + b"\r\n\r\n", f"header of {size} bytes")
                self.assert_still_serving()

    def test_many_headers(self):
        headers = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(5000))
        self.assert_error_status_or_drop(
            b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n",
            "5000 headers")
        self.assert_still_serving()

    def test_malformed_requests(self):
        cases = [
            b"HELLO\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /users/1 HTTP/9.9\r\nHost: localhost\r\n\r\n",
            b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n",
            b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n",
            b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
            b"GET /users/1 HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\n\r\n",
            b"GET /users/\x01\x02 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
        ]
        for data in cases:
            with self.subTest(data=data[:40]):
                try:
                    resp = harness.raw_request(self.port, data, timeout=10)
                    self.assertTrue(resp.status < 500 or resp.status == 505, resp.describe())
                except (OSError, harness.http.client.HTTPException):
                    pass  # dropping a garbage request is fine; crashing is not
                self.assert_still_serving()

    def test_bad_percent_encoding(self):
        for path in ("/users?limit=%zz", "/users?limit=%", "/users/%zz", "/users?%zz=1"):
            with self.subTest(path=path):
                resp = harness.raw_request(
                    self.port, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                self.assertIn(resp.status, (400, 404), resp.describe())
        self.assert_still_serving()

    def test_slow_client_does_not_block_others(self):
        # A client that sends half a request and stalls must not hold up
        # anybody else.
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as stalled:
            stalled.sendall(b"GET /users/1 HTTP/1.1\r\nHo")
            start = time.monotonic()
            self.assert_still_serving()
            self.assertLess(time.monotonic() - start, 3.0)


if __name__ == "__main__":
    harness.main()
