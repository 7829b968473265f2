"""Keyset pagination over many `order` choices.

A table `walk` (240 rows) has columns with many equal values, nullable
columns holding NULLs, decimals, datetimes, doubles and unicode strings; a
table `walk2` has a composite key.  For every order (asc and desc, nullable
columns, ties, two and three terms, with and without filters, with a select
that leaves the order columns and the key out) the test follows "next"
links until null, at several limits, and checks that every row came exactly
once and in the order MariaDB itself gives for the same ORDER BY (NULL first
ascending, last descending, the key ascending as the tie-breaker).
"""

import datetime
import urllib.parse
from decimal import Decimal

import harness
from harness import assert_invalid, assert_json_ok, parse_next

ROW_COUNT = 240
NAMES = ["Ada", "ada", "Zo\u00eb", "Zoe\u0308", "\u674e", "\U0001F680", "Bj\u00f6rn", "", "a b"]


def make_rows():
    rows = []
    base = datetime.datetime(2024, 1, 1)
    for i in range(ROW_COUNT):
        rows.append({
            "id": 5 * i + 2,
            "grp": i % 4,
            "score": None if i % 6 == 0 else (i * 37) % 50 - 10,
            "name": NAMES[(i * 7) % len(NAMES)],
            "price": None if i % 10 == 3 else Decimal((i * 7919) % 2001 - 1000) / 100,
            "ts": None if i % 8 == 5 else (base + datetime.timedelta(hours=i // 3))
            .strftime("%Y-%m-%d %H:%M:%S"),
            "ratio": None if i % 7 == 1 else ((i * 13) % 17) / 4.0,
            "flag": i % 2,
        })
    return rows


ROWS = make_rows()
BY_ID = {row["id"]: row for row in ROWS}
# Text keys whose JSON form differs from their bytes: a cursor that kept the
# escaped form would resume after the wrong place and skip rows.
CODES = ['a"b', 'a"c', "a\\b", "a\\c", "a0", "aZ", "a", "b\tc", "b\u00e9", "b\U0001F680",
         "c'd", "c;d", "c%00", "c%2F", "c/d", "c,d", "c)d", "c*d"]
PAIRS = [(a, b, (a * 31 + b * 17) % 23) for a in range(1, 13) for b in (-3, 0, 7, 100, 5, 9,
                                                                           11, 12, 13, 14)]


def setup_sql():
    out = ["SET NAMES utf8mb4;",
           "CREATE TABLE walk (id INT NOT NULL PRIMARY KEY, grp INT NOT NULL, score INT NULL, "
           "name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, "
           "price DECIMAL(8,2) NULL, ts DATETIME NULL, ratio DOUBLE NULL, "
           "flag BOOLEAN NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"]
    for row in ROWS:
        values = [harness.sql_literal(row[c]) if c != "ts" or row[c] is None else f"'{row[c]}'"
                  for c in ("id", "grp", "score", "name", "price", "ts", "ratio", "flag")]
        out.append(f"INSERT INTO walk VALUES ({', '.join(values)});")
    out.append("CREATE TABLE walk2 (a INT NOT NULL, b INT NOT NULL, v INT NOT NULL, "
               "PRIMARY KEY (a, b)) ENGINE=InnoDB;")
    out.append("INSERT INTO walk2 VALUES " + ", ".join(f"({a}, {b}, {v})" for a, b, v in PAIRS)
               + ";")
    out.append("CREATE TABLE walk3 (code VARCHAR(20) CHARACTER SET utf8mb4 "
               "COLLATE utf8mb4_bin NOT NULL PRIMARY KEY) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;")
    out.append("INSERT INTO walk3 VALUES " + ", ".join(f"({harness.sql_literal(c)})" for c in CODES)
               + ";")
    return "\n".join(out)


CONFIG = {"resources": [
    {"path": "/walk", "table": "walk", "key": "id", "max_limit": 1000, "default_limit": 10},
    {"path": "/walk2", "table": "walk2", "key": ["a", "b"], "max_limit": 1000},
    {"path": "/walk3", "table": "walk3", "key": "code"},
]}

# (order parameter or None, filter query string, SQL WHERE for the same filter)
ORDERS = [
    (None, "", "TRUE"),
    ("id.desc", "", "TRUE"),
    ("grp", "", "TRUE"),
    ("grp.desc", "", "TRUE"),
    ("score", "", "TRUE"),
    ("score.desc", "", "TRUE"),
    ("score.asc,name.desc", "", "TRUE"),
    ("score.desc,name", "", "TRUE"),
    ("grp,score.desc", "", "TRUE"),
    ("grp.desc,id.desc", "", "TRUE"),
    ("name", "", "TRUE"),
    ("name.desc", "", "TRUE"),
    ("price.desc,grp", "", "TRUE"),
    ("ts", "", "TRUE"),
    ("ts.desc,score", "", "TRUE"),
    ("ratio,score.desc", "", "TRUE"),
    ("flag.desc,ratio.desc,name", "", "TRUE"),
    ("score", "score=not.is.null", "score IS NOT NULL"),
    ("score.desc", "grp=in.(1,3)", "grp IN (1,3)"),
    ("name.desc,price", "name=like.*a*", "name LIKE '%a%'"),
    ("ratio.desc", "ratio=gte.1&score=lt.20", "ratio >= 1 AND score < 20"),
    ("grp", "score=gte.0&score=lt.30", "score >= 0 AND score < 30"),
    (None, "flag=eq.1&price=is.null", "flag = 1 AND price IS NULL"),
    ("price", "price=not.is.null&grp=neq.2", "price IS NOT NULL AND grp <> 2"),
]

# select lists that leave out the order columns (and the key).
SELECT_CASES = [
    ("score.desc", "id,name", "", "TRUE"),
    ("grp,ratio", "name", "", "TRUE"),
    ("ts.desc,score", "price", "ts=not.is.null", "ts IS NOT NULL"),
    ("name,grp.desc", "score,flag", "", "TRUE"),
]


def order_sql(order):
    terms = []
    names = []
    for term in (order or "").split(","):
        if not term:
            continue
        col, _, direction = term.partition(".")
        names.append(col)
        terms.append(f"`{col}` {'DESC' if direction == 'desc' else 'ASC'}")
    if "id" not in names:
        terms.append("`id` ASC")
    return ", ".join(terms)


def python_order(order):
    """Python's idea of the same order, to check the fixture understanding."""
    import functools

    terms = []
    for term in (order or "").split(","):
        if term:
            col, _, direction = term.partition(".")
            terms.append((col, direction == "desc"))
    if "id" not in [c for c, _ in terms]:
        terms.append(("id", False))

    def compare(x, y):
        for col, desc in terms:
            a, b = x[col], y[col]
            if a == b:
                continue
            r = -1 if a is None else 1 if b is None else (-1 if a < b else 1)
            return -r if desc else r
        return 0
    return [r["id"] for r in sorted(ROWS, key=functools.cmp_to_key(compare))]


class KeysetTests(harness.DemoServiceTestCase):
    setup_sql = setup_sql
    queryd_config = CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rows = {}
        page = cls.queryd.get("/walk?limit=1000", timeout=30).json()
        cls.rows = {row["id"]: row for row in page["data"]}

    def sql_ids(self, where, order):
        rows = harness.query_rows(self.db, f"SELECT id FROM walk WHERE {where} "
                                           f"ORDER BY {order_sql(order)}")
        return [int(r[0]) for r in rows]

    def walk(self, first, limit, table="/walk"):
        """Follow next links from first; returns the rows in the order seen."""
        _, first_params = parse_next(first)
        max_pages = ROW_COUNT // limit + 3
        pages = 0
        rows = []
        path = first
        while path is not None:
            pages += 1
            self.assertLessEqual(pages, max_pages, f"more than {max_pages} pages from {first}")
            page = assert_json_ok(self, self.get(path, timeout=30))
            data = page["data"]
            self.assertLessEqual(len(data), limit, path)
            rows.extend(data)
            nxt = page["next"]
            if nxt is not None:
                self.assertEqual(len(data), limit,
                                 f"{path}: a page short of the limit must be the last")
                link_path, params = parse_next(nxt)
                self.assertEqual(link_path, table, nxt)
                self.assertNotIn("offset", params, nxt)
                self.assertEqual(len(params.get("after", [])), 1, nxt)
                kept = {k: v for k, v in params.items() if k != "after"}
                self.assertEqual(kept, {k: v for k, v in first_params.items() if k != "after"},
                                 f"next link {nxt} does not repeat the request of {first}")
            else:
                self.assertTrue(data or not rows, f"{path}: an empty page after {len(rows)} "
                                "rows: the previous page should have had next null")
            path = nxt
        return rows

    def first_path(self, order, filters, limit, select=None, table="/walk"):
        parts = []
        if filters:
            parts.append(filters)
        if select:
            parts.append("select=" + select)
        if order:
            parts.append("order=" + order)
        parts.append(f"limit={limit}")
        return table + "?" + "&".join(parts)

    # ---------------------------------------------------------------- tests

    def test_fixture_order_matches_mariadb(self):
        # The Python model of NULL ordering and ties agrees with MariaDB, so
        # the fixture exercises what the test says it does.
        for order, _, where in ORDERS:
            if where == "TRUE":
                with self.subTest(order=order):
                    self.assertEqual(self.sql_ids("TRUE", order), python_order(order))
        self.assertEqual(len(self.rows), ROW_COUNT)

    def test_orders_visit_every_row_once_in_sql_order(self):
        for order, filters, where in ORDERS:
            expected = self.sql_ids(where, order)
            self.assertTrue(expected)
            for limit in (7, 50):
                with self.subTest(order=order, filters=filters, limit=limit):
                    rows = self.walk(self.first_path(order, filters, limit), limit)
                    ids = [r["id"] for r in rows]
                    self.assertEqual(len(ids), len(set(ids)), "a row came twice")
                    self.assertEqual(ids, expected)
                    for row in rows:
                        harness.assert_same_json(self, row, self.rows[row["id"]])

    def test_limit_1_walks(self):
        for order in ("score.desc", "grp,score.desc", "name", None):
            with self.subTest(order=order):
                ids = [r["id"] for r in self.walk(self.first_path(order, "", 1), 1)]
                self.assertEqual(ids, self.sql_ids("TRUE", order))

    def test_one_page_holds_everything(self):
        for order in ("score", "ratio.desc"):
            with self.subTest(order=order):
                page = assert_json_ok(self, self.get(self.first_path(order, "", 1000)))
                self.assertIsNone(page["next"])
                self.assertEqual([r["id"] for r in page["data"]], self.sql_ids("TRUE", order))
        # Exactly at the boundary: the page with the last row has next null.
        page = assert_json_ok(self, self.get(self.first_path("score.desc", "", ROW_COUNT)))
        self.assertEqual(len(page["data"]), ROW_COUNT)
        self.assertIsNone(page["next"])

    def test_select_without_order_columns(self):
        for order, select, filters, where in SELECT_CASES:
            columns = select.split(",")
            expected = [{c: self.rows[i][c] for c in columns} for i in self.sql_ids(where, order)]
            for limit in (7, 33):
                with self.subTest(order=order, select=select, limit=limit):
                    rows = self.walk(self.first_path(order, filters, limit, select), limit)
                    for row in rows:
                        self.assertEqual(list(row), columns)
                    harness.assert_same_json(self, rows, expected)

    def test_default_order_cursor_is_the_key(self):
        page = assert_json_ok(self, self.get("/walk?limit=3"))
        self.assertEqual([r["id"] for r in page["data"]], [2, 7, 12])
        _, params = parse_next(page["next"])
        self.assertEqual(params["after"], ["12"])
        page = assert_json_ok(self, self.get("/walk?limit=3&after=13"))
        self.assertEqual([r["id"] for r in page["data"]], [17, 22, 27])
        page = assert_json_ok(self, self.get("/walk"))
        self.assertEqual(len(page["data"]), 10, "default_limit is 10")

    def test_count_stays_on_every_page(self):
        expected = self.sql_ids("grp IN (1,3)", "score.desc")
        path = "/walk?grp=in.(1,3)&order=score.desc&count=exact&limit=40"
        pages = 0
        seen = []
        while path:
            pages += 1
            self.assertLess(pages, 10)
            page = assert_json_ok(self, self.get(path))
            self.assertEqual(page["count"], len(expected), path)
            seen += [r["id"] for r in page["data"]]
            path = page["next"]
        self.assertEqual(seen, expected)

    def test_composite_key_walks(self):
        def expected(order_terms):
            rows = [{"a": a, "b": b, "v": v} for a, b, v in PAIRS]
            for col, desc in reversed(order_terms):
                rows.sort(key=lambda r: r[col], reverse=desc)
            return rows
        cases = [(None, [("a", False), ("b", False)]),
                 ("v.desc", [("v", True), ("a", False), ("b", False)]),
                 ("b.desc,v", [("b", True), ("v", False), ("a", False)]),
                 ("a.desc", [("a", True), ("b", False)])]
        for order, terms in cases:
            for limit in (1, 7, 31):
                with self.subTest(order=order, limit=limit):
                    rows = self.walk(self.first_path(order, "", limit, table="/walk2"), limit,
                                     table="/walk2")
                    harness.assert_same_json(self, rows, expected(terms))

    def test_text_key_cursor_is_the_value_itself(self):
        # Default order on a text key: the cursor is the key's own bytes
        # (quotes and backslashes included), so no row is skipped.
        expected = [{"code": c} for c in sorted(CODES, key=lambda c: c.encode("utf-8"))]
        for limit in (1, 2, 5):
            with self.subTest(limit=limit):
                rows = self.walk(f"/walk3?limit={limit}", limit, table="/walk3")
                harness.assert_same_json(self, rows, expected)

    def test_cursor_from_another_order_is_refused(self):
        page = assert_json_ok(self, self.get("/walk?order=score&limit=5"))
        _, params = parse_next(page["next"])
        cursor = params["after"][0]
        q = urllib.parse.quote(cursor, safe="")
        for path in (f"/walk?order=grp&limit=5&after={q}",
                     f"/walk?order=score.desc&limit=5&after={q}",
                     f"/walk?order=score,name&limit=5&after={q}",
                     f"/walk?limit=5&after={q}",
                     f"/walk2?order=v&limit=5&after={q}"):
            with self.subTest(path=path):
                assert_invalid(self, self.get(path), "after")
        # The same cursor with its own order works, with filters too.
        page2 = assert_json_ok(self, self.get(f"/walk?order=score&limit=5&after={q}"))
        self.assertEqual([r["id"] for r in page2["data"]], self.sql_ids("TRUE", "score")[5:10])

    def test_cursor_survives_a_changed_limit_and_filter(self):
        # The cursor records a position, so a different limit or an added
        # filter after it still gives the right rows.
        page = assert_json_ok(self, self.get("/walk?order=ratio,score.desc&limit=20"))
        _, params = parse_next(page["next"])
        q = urllib.parse.quote(params["after"][0], safe="")
        page = assert_json_ok(self, self.get(f"/walk?order=ratio,score.desc&limit=5&after={q}"))
        self.assertEqual([r["id"] for r in page["data"]],
                         self.sql_ids("TRUE", "ratio,score.desc")[20:25])

    def test_invalid_cursors(self):
        page = assert_json_ok(self, self.get("/walk?order=score&limit=5"))
        _, params = parse_next(page["next"])
        good = params["after"][0]
        bad = ["", "!!!!", "x" * 2000, "null", "' OR 1=1 --", "%00", "\u202e" + good,
               good + "\u0000", "7", "-1"]
        for cursor in bad:
            with self.subTest(cursor=cursor[:40]):
                resp = self.get("/walk?order=score&limit=5&after="
                                + urllib.parse.quote(cursor, safe=""))
                assert_invalid(self, resp, "after")
        for cursor in ("abc", "1.5", "", "99999999999999999999", "1;2"):
            with self.subTest(default_order_cursor=cursor):
                assert_invalid(self, self.get("/walk?after=" + urllib.parse.quote(cursor)),
                               "after")
        assert_invalid(self, self.get("/walk?after=7&after=12"), "after")
        doc = harness.assert_problem(self, self.get(f"/walk?order=score&after="
                                                    f"{urllib.parse.quote(good)}&offset=5"),
                                     400, "invalid-parameter")
        self.assertIn(doc.get("parameter"), ("after", "offset"))

    def test_offset_walk_agrees_with_keyset(self):
        for order in ("score.desc,name", "grp"):
            with self.subTest(order=order):
                path = f"/walk?order={order}&limit=45&offset=0"
                rows = []
                while path:
                    page = assert_json_ok(self, self.get(path))
                    rows += page["data"]
                    if page["next"]:
                        _, params = parse_next(page["next"])
                        self.assertEqual(params["offset"], [str(len(rows))])
                    path = page["next"]
                self.assertEqual([r["id"] for r in rows], self.sql_ids("TRUE", order))


if __name__ == "__main__":
    harness.main()
