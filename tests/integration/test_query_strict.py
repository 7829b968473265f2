"""The request target, read strictly, on raw sockets (nothing normalizes it).

Reserved query parameters without a value ("?limit", "?select") are 400s
naming the parameter, as "?limit=" is; a '%' that starts no escape ("%zz",
"%4", a trailing '%') anywhere in the path or the query is a 400; "%2F" is
not a path separator: the path is split into segments before they are
decoded, so "/users%2F1" is not "/users/1" (404) while a key holding "/" is
served at its encoded segment. An Accept header whose weight is not a
qvalue of RFC 9110 ("q=abc", "q=2") is a 400, not a 406 or a guess.
"""

import json

import harness
from harness import assert_invalid, assert_problem

DB = harness.DEMO_DB

SETUP_SQL = """
CREATE TABLE tags (label VARCHAR(40) NOT NULL PRIMARY KEY, note VARCHAR(40) NULL);
INSERT INTO tags VALUES ('a/b', 'slash'), ('a', 'plain'), ('100%', 'percent'),
                        ('caf\u00e9', 'accent'), ('x y', 'space');
"""

CONFIG = {
    "resources": [
        {"path": "/users", "table": "users", "key": "id", "types": {"active": "boolean"},
         "max_limit": 10000, "default_limit": 100},
        {"path": "/tags", "table": "tags", "key": "label"},
    ],
    "queries": [
        {"path": "/users/{id}/peers",
         "sql": "SELECT id, name, age FROM users WHERE id <> :id AND age BETWEEN :lo AND :hi "
                "ORDER BY age, id LIMIT :limit",
         "params": {"id": {"type": "int"}, "lo": {"type": "int", "default": 0},
                    "hi": {"type": "int", "default": 200},
                    "limit": {"type": "int", "min": 1, "max": 500, "default": 50}}},
    ],
}

RESERVED = ("select", "order", "limit", "after", "offset", "count")


class QueryStrictTests(harness.DemoServiceTestCase):
    setup_sql = SETUP_SQL
    queryd_config = CONFIG

    def raw(self, target, headers=()):
        """GET target exactly as given, on a socket of its own."""
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers)
        return harness.raw_request(self.port, (head + "\r\n").encode("latin-1"))

    def rows(self, resp):
        self.assertEqual(resp.status, 200, resp.describe())
        return json.loads(resp.body)["data"]

    # ------------------------------------------------ parameters without a value

    def test_reserved_parameters_need_a_value(self):
        for name in RESERVED:
            for target in (f"/users?{name}", f"/users?id=gt.1&{name}", f"/users?{name}="):
                with self.subTest(target=target):
                    assert_invalid(self, self.raw(target), name)

    def test_item_and_named_query_parameters_need_a_value(self):
        assert_invalid(self, self.raw("/users/1?select"), "select")
        assert_invalid(self, self.raw("/users/1/peers?lo"), "lo")
        assert_invalid(self, self.raw("/users/1/peers?limit"), "limit")

    def test_parameters_with_values_still_work(self):
        self.assertEqual(self.rows(self.raw("/users?select=id&limit=2&count=exact")),
                         [{"id": 1}, {"id": 2}])
        self.assertEqual(self.raw("/users/1?select=id").status, 200)
        self.assertEqual(self.raw("/users/1/peers?lo=20&hi=30&limit=1").status, 200)

    # ------------------------------------------------------ invalid escapes

    def test_invalid_escapes_in_the_query_are_400(self):
        for target, parameter in (("/users?name=eq.%zz", "name"),
                                  ("/users?name=eq.%4", "name"),
                                  ("/users?name=eq.abc%", "name"),
                                  ("/users?limit=1&name=eq.%", "name"),
                                  ("/users?limit=%31%", "limit"),
                                  ("/users?select=id%2", "select"),
                                  ("/users/1?select=%g1", "select"),
                                  ("/users/1/peers?lo=%zz", "lo")):
            with self.subTest(target=target):
                assert_invalid(self, self.raw(target), parameter, mentions="percent-escape")
        # A name with a bad escape is named as sent (it cannot be decoded).
        resp = self.raw("/users?na%zzme=eq.x")
        doc = assert_problem(self, resp, 400, "invalid-parameter", mentions="percent-escape")
        self.assertEqual(doc.get("parameter"), "na%zzme")

    def test_invalid_escapes_in_the_path_are_400(self):
        for target in ("/users%zz", "/users/1%", "/users/%4", "/users/1/peers%",
                       "/nowhere%zz", "/%", "/tags/a%2", "/openapi.json%g0"):
            with self.subTest(target=target):
                doc = assert_problem(self, self.raw(target), 400, "invalid-parameter",
                                     mentions="percent-escape")
                self.assertNotIn("parameter", doc)

    def test_valid_escapes_are_decoded(self):
        self.assertEqual(self.rows(self.raw("/users?select=%69d&id=eq.%31")), [{"id": 1}])
        self.assertEqual(self.raw("/%75sers/%31").status, 200)
        self.assertEqual(self.rows(self.raw("/tags?label=eq.100%25")),
                         [{"label": "100%", "note": "percent"}])
        self.assertEqual(self.rows(self.raw("/tags?label=eq.x+y")),
                         [{"label": "x y", "note": "space"}])
        self.assertEqual(self.rows(self.raw("/tags?label=eq.x%2By")), [])

    # --------------------------------------------------------------- %2F

    def test_encoded_slash_is_not_a_separator(self):
        for target in ("/users%2F1", "/users%2f1", "/users%2F1/peers", "/tags%2Fa"):
            with self.subTest(target=target):
                assert_problem(self, self.raw(target), 404, "not-found")
        self.assertEqual(self.raw("/users/1").status, 200)

    def test_key_holding_a_slash_is_one_segment(self):
        resp = self.raw("/tags/a%2Fb")
        self.assertEqual(resp.status, 200, resp.describe())
        self.assertEqual(json.loads(resp.body), {"label": "a/b", "note": "slash"})
        self.assertEqual(json.loads(self.raw("/tags/a%2fb").body)["label"], "a/b")
        self.assertEqual(json.loads(self.raw("/tags/100%25").body)["label"], "100%")
        self.assertEqual(json.loads(self.raw("/tags/caf%C3%A9").body)["label"], "caf\u00e9")
        # Unescaped, "a/b" is two segments: no such route.
        assert_problem(self, self.raw("/tags/a/b"), 404, "not-found")
        self.assertEqual(self.rows(self.raw("/tags?label=eq.a%2Fb&select=note")),
                         [{"note": "slash"}])
        # A key with "/" in a composite position stays within its segment.
        assert_problem(self, self.raw("/users/1%2F2"), 400, "invalid-parameter")

    def test_access_log_keeps_the_target_as_sent(self):
        self.raw("/tags/a%2Fb")
        self.queryd.wait_for_log('"path":"/tags/a%2Fb"')

    # ------------------------------------------------------------- Accept

    def test_malformed_accept_weights_are_400(self):
        for accept in ("application/json;q=abc", "text/csv;q=2", "text/csv;q=1.5",
                       "application/json;q=0.12345", "application/json;q=",
                       "text/csv;q=2, application/json"):
            with self.subTest(accept=accept):
                doc = assert_problem(self, self.raw("/users?limit=1", [("Accept", accept)]),
                                     400, "invalid-parameter", mentions="Accept")
                self.assertNotIn("parameter", doc)

    def test_valid_accept_weights(self):
        for accept, content_type in (("application/json;q=0.5, text/csv;q=1.000", "text/csv"),
                                     ("text/csv;q=0.001, application/x-ndjson;q=0.002",
                                      "application/x-ndjson"),
                                     ("application/json;q=1", "application/json"),
                                     ("*/*;q=0.1", "application/json")):
            with self.subTest(accept=accept):
                resp = self.raw("/users?limit=1", [("Accept", accept)])
                self.assertEqual(resp.status, 200, resp.describe())
                self.assertEqual(resp.content_type, content_type)
        assert_problem(self, self.raw("/users?limit=1", [("Accept", "application/xml")]),
                       406, "not-acceptable")


if __name__ == "__main__":
    harness.main()
