"""Hostile input in every parameter position.

Filter values, column names, operators, order terms, select lists, cursors,
limit and offset, path keys and named-query parameters get quotes, comments,
semicolons, backslashes, NUL, invalid and tricky unicode (overlong UTF-8,
fullwidth letters, right-to-left marks), 60 KB and 100 KB values and
repeated reserved parameters.  The rules:

- a string value matches only itself: the table `hostile` holds one row per
  hostile string, and eq (and in, and like, and a named query, and a path
  parameter) with that string returns exactly that row;
- anything invalid for its place is 400 invalid-parameter naming the
  parameter;
- nothing is ever a 500, and the tables are intact afterwards.
"""

import re
import urllib.parse

import harness
from harness import assert_invalid, assert_json_ok, assert_problem

HOSTILE = [
    "'", '"', "`", "''", '""', "``", "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"",
    "1; DROP TABLE hostile", "1; DROP TABLE hostile; --", "x'; DROP TABLE users; --",
    "--", "-- comment", "#", "# comment", "/*", "*/", "/* c */", "a/**/b", "/*!50000 1*/",
    ";", ";;", "\\", "\\'", "\\\"", "\\\\", "a\\", "\\0", "\\n", "\\%", "\\_",
    "%", "_", "%%", "100%", "a_c",
    "\uff53\uff45\uff4c\uff45\uff43\uff54\u3000\uff0a", "\uff07 \uff2f\uff32 \uff11\uff1d\uff11",
    "\u202eevil\u202c", "\u200f\u200e", "\u200b", "\ufeffbom", "e\u0301", "\u00e9",
    "\U0001F600", "\U0001F469\u200d\U0001F4BB",
    ":s", ":n", "?", "??", "$1", "${x}", "{{x}}", "@v", "@@version",
    "0x41", "X'41'", "CHAR(65)", "SLEEP(5)", "BENCHMARK(1000000,MD5(1))",
    "\r\n", "\t", " ", "  lead", "trail  ", "",
    "NULL", "null", "true", "1", "-1", "1e3",
    ",", "(", ")", "a,b", "\"a,b\"", "in.(1,2)", "eq.x", "not.eq.x",
    "select=id", "&limit=1", "a=b&c=d", "+", "%2B", "%00", "%C0%AF",
    "\u0000", "a\u0000b", "\u0000' OR 1=1",
]
assert len(HOSTILE) == len(set(HOSTILE))
ROW_OF = {value: i + 1 for i, value in enumerate(HOSTILE)}
TOTAL_ROWS = len(HOSTILE)

WEIRD_TABLE = "we`ird tab;le"


def setup_sql():
    out = ["SET NAMES utf8mb4;",
           "CREATE TABLE hostile (id INT NOT NULL PRIMARY KEY, "
           "s VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL, n INT NULL) "
           "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"]
    for value, row_id in ROW_OF.items():
        out.append(f"INSERT INTO hostile VALUES ({row_id}, {harness.sql_text(value)}, "
                   f"{row_id * 10});")
    out.append("CREATE TABLE `we``ird tab;le` (`va``l` INT NOT NULL PRIMARY KEY, "
               "`x y` VARCHAR(20) NULL, `--c` INT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;")
    out.append("INSERT INTO `we``ird tab;le` VALUES (1, 'hello', 3), (2, 'world', 1), "
               "(3, NULL, 2);")
    return "\n".join(out)


CONFIG = {
    "resources": [
        {"path": "/hostile", "table": "hostile", "key": "id", "max_limit": 500},
        {"path": "/weird", "table": WEIRD_TABLE, "key": "va`l"},
    ] + harness.demo_config()["resources"],
    "queries": [
        {"path": "/hq/by-s", "sql": "SELECT id FROM hostile WHERE s = :s ORDER BY id",
         "params": {"s": {"type": "string", "max_length": 300}}},
        {"path": "/hq/by-n", "sql": "SELECT id, s FROM hostile WHERE n = :n ORDER BY id",
         "params": {"n": {"type": "int"}}},
        {"path": "/hq/item/{s}", "sql": "SELECT id FROM hostile WHERE s = :s ORDER BY id"},
    ],
}


def q(value):
    return urllib.parse.quote(value, safe="")


def has_nul(value):
    return "\u0000" in value


def in_list(values):
    """in.(...) with every value double-quoted, \\ and \" escaped."""
    quoted = ['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "in.(" + ",".join(quoted) + ")"


# Names, operators, terms and numbers that are invalid wherever they go.
BAD_NAMES = ["s;DROP TABLE hostile", "s--", "s#", "s/*", "`s`", "s`", "s'", "s\"", "s\\",
             "\uff53", "s\u202e", "\u202es", "S", "s ", " s", "s.eq", "(s)", "hostile.s", "1",
             "id,s", "s\u200b", "*", "s=eq", "e\u0301"]
BAD_OPERATORS = ["eq'", "eq;", "eq--", "=", "==", "\uff45\uff51", "EQ", "e q", "in(", "like'",
                 "is.null;", "is.nul", "is.null--", "not.not.eq", "not eq", "eq/**/", "#eq",
                 "in.(\"x\"", "in.(x))", "is.", "is.null OR 1=1"]
BAD_INTEGERS = ["1;", "1 OR 1=1", "1--", "1/*", "0x1", "1e1", "\uff11", "1\u202e", "--1",
                "' OR '1'='1", "1)", "(1)", "1.0", " 1", "1 ", "1\\", "1'", "", "99999999999999999999",
                "\u0661", "1\u200b"]
BAD_ORDERS = ["id;DROP TABLE hostile", "id desc", "id.desc;", "(select 1)", "id.asc--", "id`",
              "`id`", "id,", "rand()", "1", "id.desc.nulls", "s.desc, id", "\uff49\uff44",
              "id\u202e", "id.DESC", "id.desc/**/", "id#", "id,,s", "s.desc,s"]
BAD_SELECTS = ["id;DROP TABLE hostile", "*", "id,*", "count(*)", "id`", "`id`", "id as x",
               "id--", "s,(select 1)", "id,id", "\uff49\uff44", "", "id s", "id,s,", "id\u200b",
               "hostile.id", "@@version"]


class HostileInputTests(harness.DemoServiceTestCase):
    setup_sql = setup_sql
    queryd_config = CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.before = cls.snapshot()

    def tearDown(self):
        super().tearDown()
        # Whatever the test sent, the tables are as they were loaded.
        self.assertEqual(self.snapshot(), self.before)

    @classmethod
    def snapshot(cls):
        tables = sorted(r[0] for r in harness.query_rows(cls.db, "SHOW TABLES"))
        counts = {t: harness.query_rows(cls.db, f"SELECT COUNT(*) FROM `{t.replace('`', '``')}`")
                  [0][0] for t in tables}
        checksum = harness.query_rows(cls.db, "CHECKSUM TABLE hostile, users")
        return tables, counts, checksum

    def get(self, path, **kw):
        resp = self.queryd.get(path, **kw)
        self.assertLess(resp.status, 500, f"GET {path[:200]}: {resp.describe()}")
        return resp

    def ids(self, path):
        page = assert_json_ok(self, self.get(path))
        return [row["id"] for row in page["data"]]

    def assert_matches_only(self, path, value, parameter):
        """path asks for value: exactly its row, or (only for NUL) a 400."""
        resp = self.get(path)
        if has_nul(value) and resp.status == 400:
            assert_invalid(self, resp, parameter)
            return
        page = assert_json_ok(self, resp)
        self.assertEqual([row["id"] for row in page["data"]], [ROW_OF[value]],
                         f"{value!r} matched other rows: {path[:200]}")

    # ------------------------------------------------------ values match themselves

    def test_eq_matches_only_itself(self):
        for value in HOSTILE:
            with self.subTest(value=value):
                self.assert_matches_only(f"/hostile?s=eq.{q(value)}", value, "s")

    def test_neq_excludes_only_itself(self):
        for value in ("'", "1; DROP TABLE hostile", "\\", "%", "\u202eevil\u202c", ""):
            with self.subTest(value=value):
                expected = [i for i in range(1, TOTAL_ROWS + 1) if i != ROW_OF[value]]
                self.assertEqual(self.ids(f"/hostile?s=neq.{q(value)}&limit=500"), expected)

    def test_in_matches_only_those(self):
        values = [v for v in HOSTILE if not has_nul(v)]
        for start in range(0, len(values), 9):
            chunk = values[start:start + 9]
            with self.subTest(chunk=chunk):
                self.assertEqual(self.ids(f"/hostile?s={q(in_list(chunk))}&limit=500"),
                                 sorted(ROW_OF[v] for v in chunk))

    def test_like_without_star_matches_only_itself(self):
        for value in HOSTILE:
            if "*" in value or has_nul(value):
                continue
            with self.subTest(value=value):
                self.assert_matches_only(f"/hostile?s=like.{q(value)}", value, "s")

    def test_like_with_star_keeps_other_characters_literal(self):
        # '%' and '_' are not wildcards: *% ends with a percent sign.
        got = self.ids("/hostile?s=like.*%25&limit=500")
        self.assertEqual(got, sorted(ROW_OF[v] for v in HOSTILE if v.endswith("%")))
        got = self.ids("/hostile?s=like._*&limit=500")
        self.assertEqual(got, sorted(ROW_OF[v] for v in HOSTILE if v.startswith("_")))
        got = self.ids("/hostile?s=like.*%5C*&limit=500")
        self.assertEqual(got, sorted(ROW_OF[v] for v in HOSTILE if "\\" in v))

    def test_named_query_string_matches_only_itself(self):
        for value in HOSTILE:
            with self.subTest(value=value):
                self.assert_matches_only(f"/hq/by-s?s={q(value)}", value, "s")

    def test_path_parameter_matches_only_itself(self):
        for value in HOSTILE:
            if "/" in value or value == "":
                continue
            with self.subTest(value=value):
                self.assert_matches_only(f"/hq/item/{q(value)}", value, "s")

    def test_weird_identifiers_are_quoted(self):
        page = assert_json_ok(self, self.get("/weird"))
        harness.assert_same_json(self, page["data"], [
            {"va`l": 1, "x y": "hello", "--c": 3}, {"va`l": 2, "x y": "world", "--c": 1},
            {"va`l": 3, "x y": None, "--c": 2}])
        self.assertEqual(assert_json_ok(self, self.get("/weird/2"))["x y"], "world")
        page = assert_json_ok(self, self.get("/weird?" + q("x y") + "=eq.hello"))
        self.assertEqual([r["va`l"] for r in page["data"]], [1])
        page = assert_json_ok(self, self.get("/weird?order=" + q("--c.desc")))
        self.assertEqual([r["va`l"] for r in page["data"]], [1, 3, 2])
        page = assert_json_ok(self, self.get("/weird?select=" + q("--c,va`l") + "&"
                                             + q("va`l") + "=gte.2"))
        harness.assert_same_json(self, page["data"], [{"--c": 1, "va`l": 2},
                                                      {"--c": 2, "va`l": 3}])
        page = assert_json_ok(self, self.get("/weird?order=" + q("--c") + "&limit=1"))
        nxt = assert_json_ok(self, self.get(page["next"]))
        self.assertEqual([r["va`l"] for r in nxt["data"]], [3])
        assert_invalid(self, self.get("/weird?" + q("va``l") + "=eq.1"), "va``l")

    # ---------------------------------------------------- invalid for their place

    def test_hostile_column_names(self):
        for name in BAD_NAMES:
            with self.subTest(name=name):
                assert_invalid(self, self.get(f"/hostile?{q(name)}=eq.1"), name)

    def test_hostile_operators(self):
        for op in BAD_OPERATORS:
            with self.subTest(op=op):
                assert_invalid(self, self.get(f"/hostile?s={q(op)}.x"), "s")
                assert_invalid(self, self.get(f"/hostile?n={q(op)}.1"), "n")

    def test_hostile_integer_filter_values(self):
        for value in BAD_INTEGERS + [v for v in HOSTILE if v not in ("1", "-1")]:
            with self.subTest(value=value):
                resp = self.get(f"/hostile?n=eq.{q(value)}")
                assert_invalid(self, resp, "n")

    def test_hostile_in_lists(self):
        for value in ("(1,2", "1,2)", "(1;2)", "(1),(2)", "((1))", "(1,2))--", '("1)',
                      "(" + ",".join(["1"] * 101) + ")", "(\"a\"b)", "(1,'2')"):
            with self.subTest(value=value):
                assert_invalid(self, self.get(f"/hostile?n=in.{q(value)}"), "n")
        for value in ('("a)', '("a\\")', '("a"x)', "(a,b", '("a""b")'):
            with self.subTest(value=value):
                assert_invalid(self, self.get(f"/hostile?s=in.{q(value)}"), "s")

    def test_hostile_order_terms(self):
        for term in BAD_ORDERS:
            with self.subTest(order=term):
                assert_invalid(self, self.get(f"/hostile?order={q(term)}"), "order")

    def test_hostile_select_lists(self):
        for select in BAD_SELECTS:
            with self.subTest(select=select):
                assert_invalid(self, self.get(f"/hostile?select={q(select)}"), "select")

    def test_hostile_cursors(self):
        for value in BAD_INTEGERS + HOSTILE:
            if re.fullmatch(r"-?[0-9]+", value) and len(value) < 19:
                continue  # a plain integer is a valid default-order cursor
            with self.subTest(cursor=value):
                assert_invalid(self, self.get(f"/hostile?after={q(value)}"), "after")
                assert_invalid(self, self.get(f"/hostile?order=s&after={q(value)}"), "after")

    def test_hostile_limit_offset_count(self):
        for value in BAD_INTEGERS + ["-1", "0x10", "1e2", "1%00"]:
            with self.subTest(value=value):
                assert_invalid(self, self.get(f"/hostile?limit={q(value)}"), "limit")
                assert_invalid(self, self.get(f"/hostile?offset={q(value)}"), "offset")
        for value in ("exact;", "exact--", "exact'", "\uff45xact", "exact\u0000", "EXACT",
                      " exact"):
            with self.subTest(count=value):
                assert_invalid(self, self.get(f"/hostile?count={q(value)}"), "count")

    def test_hostile_path_keys(self):
        for key in BAD_INTEGERS + ["1'", "1 OR 1=1", "%", "\u0000", "1\u0000", "\uff10"]:
            if key == "":
                continue
            with self.subTest(key=key):
                resp = self.get(f"/hostile/{q(key)}")
                # A NUL may end the path early, a decoded "/" makes more
                # segments: not found is right for those, never a row.
                if (has_nul(key) or "/" in key) and resp.status == 404:
                    assert_problem(self, resp, 404, "not-found")
                else:
                    assert_invalid(self, resp, "id")

    def test_hostile_named_query_parameters(self):
        for value in BAD_INTEGERS:
            with self.subTest(n=value):
                assert_invalid(self, self.get(f"/hq/by-n?n={q(value)}"), "n")
        for name in BAD_NAMES + ["s;drop", "s\u0000"]:
            if name == "s":
                continue
            with self.subTest(name=name):
                resp = self.get(f"/hq/by-s?s=x&{q(name)}=1")
                doc = assert_problem(self, resp, 400, "invalid-parameter")
                if not has_nul(name):
                    self.assertEqual(doc.get("parameter"), name, resp.describe())
        assert_invalid(self, self.get("/hq/by-s?s=" + "x" * 301), "s")
        assert_invalid(self, self.get("/hq/by-s?s=%C0%AF"), "s")
        assert_invalid(self, self.get("/hq/item/%C0%AF"), "s")
        assert_invalid(self, self.get("/hq/item/" + "x" * 1001), "s")
        assert_invalid(self, self.get("/hq/by-s?s=a&s=b"), "s")

    def test_invalid_utf8_and_unicode_tricks(self):
        for raw in ("%C0%AF", "%C0%80", "%E0%80%AF", "%ED%A0%80", "%F8%88%80%80%80", "%FF%FE",
                    "abc%C3", "%C3%28"):
            with self.subTest(raw=raw):
                assert_invalid(self, self.get(f"/hostile?s=eq.{raw}"), "s")
                assert_invalid(self, self.get(f"/hostile?s=like.{raw}"), "s")
                assert_invalid(self, self.get(f"/hostile?s=in.({raw})"), "s")
                resp = self.get(f"/hostile?{raw}=eq.1")
                assert_problem(self, resp, 400, "invalid-parameter")

    def test_repeated_reserved_parameters(self):
        for name, value in (("select", "id"), ("order", "id"), ("limit", "1"), ("after", "1"),
                            ("offset", "1"), ("count", "exact")):
            with self.subTest(name=name):
                assert_invalid(self, self.get(f"/hostile?{name}={value}&{name}={value}"), name)
                assert_invalid(self, self.get(f"/hostile?{name}={value}&s=eq.x&{name}={value}"),
                               name)
        assert_invalid(self, self.get("/hq/by-n?n=1&n=1"), "n")
        # A filter may repeat (ANDed): this is no error.
        self.assertEqual(self.ids("/hostile?s=eq.%27&s=eq.%27"), [ROW_OF["'"]])

    # ----------------------------------------------------------- huge values

    def test_values_of_60_kb_are_invalid_not_fatal(self):
        big = "x" * 60000
        assert_invalid(self, self.get(f"/hostile?s=eq.{big}"), "s")
        self.get(f"/hostile?s=like.*{big}*")  # no match, or 400: never a 500
        assert_invalid(self, self.get(f"/hostile?n=eq.{'9' * 60000}"), "n")
        assert_invalid(self, self.get(f"/hostile?limit={'9' * 60000}"), "limit")
        assert_invalid(self, self.get(f"/hostile?after={big}"), "after")
        assert_invalid(self, self.get(f"/hostile?order={big}"), "order")
        assert_invalid(self, self.get(f"/hostile?select={big}"), "select")
        assert_problem(self, self.get(f"/hostile?{big}=eq.1"), 400, "invalid-parameter")
        assert_invalid(self, self.get(f"/hq/by-s?s={big}"), "s")
        assert_invalid(self, self.get(f"/hostile/{'1' * 60000}"), "id")
        values = ",".join(["1"] * 20000)
        assert_invalid(self, self.get(f"/hostile?n=in.({values})"), "n")

    def test_values_of_100_kb_are_refused_cleanly(self):
        big = "x" * 100 * 1024
        for target in (f"/hostile?s=eq.{big}", f"/hq/by-s?s={big}", f"/hostile/{big}",
                       f"/hostile?{big}=1", f"/hostile?order={big}"):
            with self.subTest(target=target[:30]):
                try:
                    resp = harness.raw_request(
                        self.port, f"GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(),
                        timeout=20)
                except (OSError, harness.http.client.HTTPException) as exc:
                    self.fail(f"connection dropped without a status ({exc!r})")
                self.assertIn(resp.status, (400, 414, 431), resp.describe())
                self.assertEqual(assert_json_ok(self, self.get("/hostile/1"))["s"], HOSTILE[0])

    # --------------------------------------------------------------- intact

    def test_tables_intact(self):
        # The table holds every hostile string exactly once, in order (the
        # snapshot itself is compared after every test, in tearDown).
        self.assertEqual(harness.query_rows(self.db, "SELECT COUNT(*) FROM hostile")[0][0],
                         str(TOTAL_ROWS))
        page = assert_json_ok(self, self.get("/hostile?limit=500"))
        self.assertEqual([r["id"] for r in page["data"]], list(range(1, TOTAL_ROWS + 1)))
        self.assertEqual([r["s"] for r in page["data"]], HOSTILE)


if __name__ == "__main__":
    harness.main()
