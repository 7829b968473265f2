"""Resources declared in the configuration file: filters, select, order,
limit, offset, count, items (single and composite keys) and "types".

A purpose-built table `things` holds ints, a BIGINT beyond 2^53, decimals,
doubles, a FLOAT, dates, datetimes, a binary-collated VARCHAR with emoji,
combining marks and right-to-left marks, a boolean, JSON and TEXT, with
NULLs and ties.  Every answer is compared with what Python computes from the
same fixture rows, using SQL's rules: comparisons with NULL never match, and
a negated comparison does not match NULL either.
"""

import re
import struct
import urllib.parse
from decimal import Decimal

import harness
from harness import assert_invalid, assert_json_ok, assert_problem, assert_same_json, parse_next


def f32(value):
    """value rounded to the nearest FLOAT, as MariaDB stores it."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def shortest32(value):
    """The FLOAT value as queryd prints it: the shortest text that reads back
    as the same float (0.1, not 0.10000000149011612), parsed as a double."""
    for digits in range(1, 10):
        text = float(f"{value:.{digits}g}")
        if f32(text) == value:
            return text
    return value


# Column name -> SQL type.  s uses a binary, no-pad collation so that
# comparisons are by code point and Python can compute them exactly.
COLUMNS = [
    ("id", "INT NOT NULL PRIMARY KEY"),
    ("n", "INT NULL"),
    ("big", "BIGINT NULL"),
    ("d", "DECIMAL(10,3) NULL"),
    ("f", "DOUBLE NULL"),
    ("fl", "FLOAT NULL"),
    ("day", "DATE NULL"),
    ("at", "DATETIME NULL"),
    ("at6", "DATETIME(6) NULL"),
    ("s", "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NULL"),
    ("flag", "BOOLEAN NULL"),
    ("doc", "JSON NULL"),
    ("note", "TEXT NULL"),
]
NAMES = [name for name, _ in COLUMNS]

ZOE_COMPOSED = "Zo\u00eb"
ZOE_COMBINING = "Zoe\u0308"
RLO = "\u202eevil"

# The rows; columns left out are NULL.  Decimals as Decimal, FLOATs as the
# double given (stored rounded to float), datetimes as MariaDB prints them.
ROWS = [
    dict(id=1, n=5, big=9007199254740993, d=Decimal("1.500"), f=0.1, fl=0.1,
         day="2024-01-31", at="2024-01-31 23:59:59", at6="2024-01-31 23:59:59.123456",
         s="plain", flag=1, doc='{"a": 1}', note="x"),
    dict(id=2, n=-3, big=-1, d=Decimal("-0.250"), f=-2.5, fl=-2.5,
         day="1999-12-31", at="1999-12-31 00:00:00", at6="1999-12-31 00:00:00.000001",
         s=ZOE_COMPOSED, flag=0, note="y"),
    dict(id=3, n=5, big=0, d=Decimal("1.5"), f=1e300, fl=1.5,
         day="2024-02-29", at="2024-02-29 12:00:00", at6="2024-02-29 12:00:00.500000",
         s=ZOE_COMBINING, flag=1, doc="[1, 2]"),
    dict(id=4, n=0, d=Decimal("0"), f=0.5, fl=0.25,
         day="2000-01-01", at="2000-01-01 00:00:01", at6="2000-01-01 00:00:00.999999",
         s="\U0001F680 rocket"),
    dict(id=5, big=42),
    dict(id=6, n=100, big=-9007199254740993, d=Decimal("99999.999"), f=3.5, fl=0.25,
         day="2024-01-01", at="2024-01-01 00:00:00", at6="2024-01-01 00:00:00.000000",
         s="", flag=0, doc="{}"),
    dict(id=7, n=5, big=7, d=Decimal("-99999.999"), f=2.5, fl=-0.5,
         day="2024-01-31", at="2024-01-31 08:00:00", at6="2024-01-31 08:00:00.000000",
         s="abc", flag=1),
    dict(id=8, n=-100, big=9223372036854775807, d=Decimal("0.001"), f=-0.5, fl=3.0,
         day="2023-12-31", at="2023-12-31 23:59:59", s="ABC", flag=0, note="x"),
    dict(id=9, n=2147483647, big=-9223372036854775808, d=Decimal("10"), f=1e-300, fl=100.0,
         day="1000-01-01", at="1000-01-01 00:00:00", s="a,b", flag=1),
    dict(id=10, n=-2147483648, d=Decimal("-0.250"), f=2.5, s='say "hi"', flag=0),
    dict(id=11, n=0, s="100%"),
    dict(id=12, n=1, s="a_c"),
    dict(id=13, n=2, s="abc%"),
    dict(id=14, n=3, s="*star*"),
    dict(id=15, n=4, s="\u65e5\u672c\u8a9e"),
    dict(id=16, n=5, s=RLO),
    dict(id=17, n=6, s="O'Brien"),
    dict(id=18, n=7, s="back\\slash"),
    dict(id=19, n=8, s="abd"),
    dict(id=20, n=9, s="Zo"),
]
for _row in ROWS:
    for _name in NAMES:
        _row.setdefault(_name, None)
    if _row["fl"] is not None:
        _row["fl"] = f32(_row["fl"])
ALL_IDS = [row["id"] for row in ROWS]

# Composite keys: (a, b) -> v.
PAIRS = [(1, "x", 10), (1, "y", 11), (2, "x", 20), (1, "\U0001F680", 12), (3, "a b", 30),
         (2, "X", 21)]


def setup_sql():
    decls = ",\n  ".join(f"`{name}` {decl}" for name, decl in COLUMNS)
    out = ["SET NAMES utf8mb4;", "SET time_zone = '+00:00';",
           f"CREATE TABLE things (\n  {decls}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
           "COLLATE=utf8mb4_unicode_ci;"]
    for row in ROWS:
        values = []
        for name in NAMES:
            value = row[name]
            if name in ("day", "at", "at6") and value is not None:
                values.append(f"'{value}'")
            elif name == "fl" and value is not None:
                values.append(repr(value))
            else:
                values.append(harness.sql_literal(value))
        out.append(f"INSERT INTO things VALUES ({', '.join(values)});")
    out.append("CREATE TABLE pairs (a INT NOT NULL, "
               "b VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL, "
               "v INT NOT NULL, PRIMARY KEY (a, b)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;")
    for a, b, v in PAIRS:
        out.append(f"INSERT INTO pairs VALUES ({a}, {harness.sql_text(b)}, {v});")
    return "\n".join(out)


CONFIG = {
    "resources": [
        {"path": "/things", "table": "things", "key": "id", "types": {"flag": "boolean"},
         "max_limit": 100, "default_limit": 100},
        {"path": "/things_small", "table": "things", "key": "id",
         "columns": ["id", "n", "s", "flag"], "max_limit": 5, "default_limit": 3},
        {"path": "/v1/things_typed", "table": "things", "key": "id",
         "columns": ["flag", "id", "n", "d", "big"],
         "types": {"big": "number", "d": "number", "n": "string", "flag": "boolean"}},
        {"path": "/pairs", "table": "pairs", "key": ["a", "b"]},
    ] + harness.demo_config()["resources"],
}


# ------------------------------------------------------------ expectations

def json_value(name, value):
    """What /things prints for a stored value (flag is typed boolean there)."""
    if value is None:
        return None
    if name == "big":
        return value if abs(value) <= 2 ** 53 else str(value)
    if name == "d":
        return f"{value:.3f}"
    if name == "fl":
        return shortest32(value)
    if name in ("at", "at6"):
        return value.replace(" ", "T")
    if name == "flag":
        return bool(value)
    if name == "doc":
        return harness.json.loads(value)
    return value


def expected_row(row_id, columns=NAMES):
    row = next(r for r in ROWS if r["id"] == row_id)
    return {name: json_value(name, row[name]) for name in columns}


def normalized(row):
    """Doubles printed without a fraction ("0") parse as int: make them floats."""
    out = dict(row)
    for name in ("f", "fl"):
        if isinstance(out.get(name), int) and not isinstance(out.get(name), bool):
            out[name] = float(out[name])
    return out


def cmp(pred):
    """A comparison: NULL never matches."""
    return lambda v: v is not None and pred(v)


def ncmp(pred):
    """not.<comparison>: SQL NOT (...), so NULL does not match either."""
    return lambda v: v is not None and not pred(v)


def like(pattern):
    """like.<pattern>: '*' is any run, everything else matches itself."""
    rx = "".join(".*" if c == "*" else re.escape(c) for c in pattern)
    return lambda v: re.fullmatch(rx, v, re.DOTALL) is not None


def dt(text):
    """A datetime filter value as MariaDB prints the column (space, 6 digits when given)."""
    return text.replace("T", " ")


# (column, filter text, predicate on the stored value)
FILTERS = [
    # int
    ("n", "eq.5", cmp(lambda v: v == 5)),
    ("n", "neq.5", cmp(lambda v: v != 5)),
    ("n", "gt.0", cmp(lambda v: v > 0)),
    ("n", "gte.5", cmp(lambda v: v >= 5)),
    ("n", "lt.0", cmp(lambda v: v < 0)),
    ("n", "lte.-3", cmp(lambda v: v <= -3)),
    ("n", "in.(5,-3,100)", cmp(lambda v: v in (5, -3, 100))),
    ("n", "in.(0)", cmp(lambda v: v == 0)),
    ("n", "eq.2147483647", cmp(lambda v: v == 2147483647)),
    ("n", "eq.-2147483648", cmp(lambda v: v == -2147483648)),
    ("n", "gt.9223372036854775807", cmp(lambda v: False)),
    ("n", "is.null", lambda v: v is None),
    ("n", "is.true", lambda v: v is not None and v != 0),
    ("n", "is.false", lambda v: v == 0),
    ("n", "not.eq.5", ncmp(lambda v: v == 5)),
    ("n", "not.neq.5", ncmp(lambda v: v != 5)),
    ("n", "not.gt.0", ncmp(lambda v: v > 0)),
    ("n", "not.gte.5", ncmp(lambda v: v >= 5)),
    ("n", "not.lt.0", ncmp(lambda v: v < 0)),
    ("n", "not.lte.-3", ncmp(lambda v: v <= -3)),
    ("n", "not.in.(5,0)", ncmp(lambda v: v in (5, 0))),
    ("n", "not.is.null", lambda v: v is not None),
    ("n", "not.is.true", lambda v: not (v is not None and v != 0)),
    ("n", "not.is.false", lambda v: v != 0),
    # BIGINT beyond 2^53: compared exactly, not as doubles
    ("big", "eq.9007199254740993", cmp(lambda v: v == 9007199254740993)),
    ("big", "eq.9007199254740992", cmp(lambda v: v == 9007199254740992)),
    ("big", "gt.9007199254740992", cmp(lambda v: v > 9007199254740992)),
    ("big", "lt.-9007199254740992", cmp(lambda v: v < -9007199254740992)),
    ("big", "eq.9223372036854775807", cmp(lambda v: v == 9223372036854775807)),
    ("big", "eq.-9223372036854775808", cmp(lambda v: v == -9223372036854775808)),
    ("big", "in.(-1,0,42,7)", cmp(lambda v: v in (-1, 0, 42, 7))),
    ("big", "not.in.(-1,0,42,7)", ncmp(lambda v: v in (-1, 0, 42, 7))),
    # DECIMAL: exact, 1.5 equals 1.500
    ("d", "eq.1.5", cmp(lambda v: v == Decimal("1.5"))),
    ("d", "eq.1.500", cmp(lambda v: v == Decimal("1.5"))),
    ("d", "neq.0", cmp(lambda v: v != 0)),
    ("d", "gte.0", cmp(lambda v: v >= 0)),
    ("d", "lt.-0.25", cmp(lambda v: v < Decimal("-0.25"))),
    ("d", "lte.-0.25", cmp(lambda v: v <= Decimal("-0.25"))),
    ("d", "gt.0.0005", cmp(lambda v: v > Decimal("0.0005"))),
    ("d", "in.(0.001,10,99999.999)", cmp(lambda v: v in (Decimal("0.001"), 10,
                                                           Decimal("99999.999")))),
    ("d", "not.gt.1", ncmp(lambda v: v > 1)),
    ("d", "is.null", lambda v: v is None),
    # DOUBLE
    ("f", "eq.0.1", cmp(lambda v: v == 0.1)),
    ("f", "eq.2.5", cmp(lambda v: v == 2.5)),
    ("f", "gt.1", cmp(lambda v: v > 1)),
    ("f", "lt.0", cmp(lambda v: v < 0)),
    ("f", "gte.-2.5", cmp(lambda v: v >= -2.5)),
    ("f", "lte.1e-300", cmp(lambda v: v <= 1e-300)),
    ("f", "eq.1e300", cmp(lambda v: v == 1e300)),
    ("f", "in.(0.5,-0.5,3.5)", cmp(lambda v: v in (0.5, -0.5, 3.5))),
    ("f", "not.lt.0", ncmp(lambda v: v < 0)),
    # FLOAT: a value is bound as a float, so eq.0.1 finds the stored 0.1f
    ("fl", "eq.0.1", cmp(lambda v: v == f32(0.1))),
    ("fl", "eq.0.25", cmp(lambda v: v == 0.25)),
    ("fl", "gt.0.2", cmp(lambda v: v > f32(0.2))),
    ("fl", "lt.0", cmp(lambda v: v < 0)),
    ("fl", "not.eq.0.1", ncmp(lambda v: v == f32(0.1))),
    # DATE
    ("day", "eq.2024-01-31", cmp(lambda v: v == "2024-01-31")),
    ("day", "gt.2024-01-01", cmp(lambda v: v > "2024-01-01")),
    ("day", "lte.1999-12-31", cmp(lambda v: v <= "1999-12-31")),
    ("day", "in.(2024-02-29,1000-01-01)", cmp(lambda v: v in ("2024-02-29", "1000-01-01"))),
    ("day", "not.gte.2024-01-31", ncmp(lambda v: v >= "2024-01-31")),
    # DATETIME, with T or a space
    ("at", "eq.2024-01-31T23:59:59", cmp(lambda v: v == "2024-01-31 23:59:59")),
    ("at", "eq.2024-01-31 23:59:59", cmp(lambda v: v == "2024-01-31 23:59:59")),
    ("at", "gt.2024-01-01T00:00:00", cmp(lambda v: v > "2024-01-01 00:00:00")),
    ("at", "lt.2000-01-01T00:00:01", cmp(lambda v: v < "2000-01-01 00:00:01")),
    ("at", "gte.2024-01-31T08:00:00.000000", cmp(lambda v: v >= "2024-01-31 08:00:00")),
    ("at", "not.lt.2024-01-01T00:00:00", ncmp(lambda v: v < "2024-01-01 00:00:00")),
    ("at6", "eq.2024-01-31T23:59:59.123456", cmp(lambda v: v == "2024-01-31 23:59:59.123456")),
    ("at6", "gt.2000-01-01T00:00:00.999998", cmp(lambda v: v > "2000-01-01 00:00:00.999998")),
    ("at6", "lt.1999-12-31T00:00:00.000002", cmp(lambda v: v < "1999-12-31 00:00:00.000002")),
    ("at6", "eq.2024-02-29T12:00:00.5", cmp(lambda v: v == "2024-02-29 12:00:00.500000")),
    # VARCHAR, binary collation: by code point, case and marks significant
    ("s", "eq.plain", cmp(lambda v: v == "plain")),
    ("s", "eq." + ZOE_COMPOSED, cmp(lambda v: v == ZOE_COMPOSED)),
    ("s", "eq." + ZOE_COMBINING, cmp(lambda v: v == ZOE_COMBINING)),
    ("s", "eq.abc", cmp(lambda v: v == "abc")),
    ("s", "eq.", cmp(lambda v: v == "")),
    ("s", "eq." + RLO, cmp(lambda v: v == RLO)),
    ("s", "eq.\U0001F680 rocket", cmp(lambda v: v == "\U0001F680 rocket")),
    ("s", "neq.abc", cmp(lambda v: v != "abc")),
    ("s", "gt.a", cmp(lambda v: v > "a")),
    ("s", "gte.abc", cmp(lambda v: v >= "abc")),
    ("s", "lt.B", cmp(lambda v: v < "B")),
    ("s", "lte.Zo", cmp(lambda v: v <= "Zo")),
    ("s", "like.*b*", cmp(like("*b*"))),
    ("s", "like.a*", cmp(like("a*"))),
    ("s", "like.Zo*", cmp(like("Zo*"))),
    ("s", "like.*\u0308", cmp(like("*\u0308"))),
    ("s", "like.100%", cmp(like("100%"))),
    ("s", "like.a_c", cmp(like("a_c"))),
    ("s", "like.abc%", cmp(like("abc%"))),
    ("s", "like.*%", cmp(like("*%"))),
    ("s", "like.**", cmp(like("**"))),
    ("s", "like.*", cmp(like("*"))),
    ("s", "like.back\\slash", cmp(like("back\\slash"))),
    ("s", "not.like.a*", ncmp(like("a*"))),
    ("s", "not.eq.abc", ncmp(lambda v: v == "abc")),
    ("s", 'in.("a,b","say \\"hi\\"",abc)', cmp(lambda v: v in ("a,b", 'say "hi"', "abc"))),
    ("s", "in.(\U0001F680 rocket,\u65e5\u672c\u8a9e)",
     cmp(lambda v: v in ("\U0001F680 rocket", "\u65e5\u672c\u8a9e"))),
    ("s", 'in.("back\\\\slash",O\'Brien)', cmp(lambda v: v in ("back\\slash", "O'Brien"))),
    ("s", "not.in.(abc,ABC,plain)", ncmp(lambda v: v in ("abc", "ABC", "plain"))),
    ("s", "is.null", lambda v: v is None),
    ("s", "not.is.null", lambda v: v is not None),
    # typed boolean
    ("flag", "eq.true", cmp(lambda v: v == 1)),
    ("flag", "eq.false", cmp(lambda v: v == 0)),
    ("flag", "neq.true", cmp(lambda v: v != 1)),
    ("flag", "is.true", lambda v: v == 1),
    ("flag", "is.false", lambda v: v == 0),
    ("flag", "not.is.true", lambda v: v != 1),
    ("flag", "not.eq.true", ncmp(lambda v: v == 1)),
    ("flag", "is.null", lambda v: v is None),
    # JSON: only is.null
    ("doc", "is.null", lambda v: v is None),
    ("doc", "not.is.null", lambda v: v is not None),
    # TEXT
    ("note", "eq.x", cmp(lambda v: v == "x")),
    ("note", "like.*", cmp(like("*"))),
]


def q(value):
    """Percent-encode everything that is not unreserved."""
    return urllib.parse.quote(value, safe="")


def expected_ids(filters, rows=ROWS):
    """Ids (in key order) of rows matching every (column, predicate)."""
    return [row["id"] for row in rows if all(pred(row[col]) for col, pred in filters)]


def sort_rows(rows, order):
    """Rows as MariaDB orders them: NULL lowest, key appended as tie-breaker."""
    import functools

    terms = list(order)
    if "id" not in [c for c, _ in terms]:
        terms.append(("id", False))

    def compare(x, y):
        for col, desc in terms:
            a, b = x[col], y[col]
            if a == b:
                continue
            if a is None:
                r = -1
            elif b is None:
                r = 1
            else:
                r = -1 if a < b else 1
            return -r if desc else r
        return 0
    return sorted(rows, key=functools.cmp_to_key(compare))


class ResourceTests(harness.DemoServiceTestCase):
    setup_sql = setup_sql
    queryd_config = CONFIG

    def ids(self, path):
        page = assert_json_ok(self, self.get(path))
        self.assertIsInstance(page.get("data"), list, path)
        return [row["id"] for row in page["data"]]

    # ------------------------------------------------------------ filters

    def test_every_filter(self):
        for col, expr, pred in FILTERS:
            with self.subTest(filter=f"{col}={expr}"):
                path = f"/things?{col}={q(expr)}"
                self.assertEqual(self.ids(path), expected_ids([(col, pred)]), path)

    def test_filter_fixture_is_discriminating(self):
        # A filter list whose answers are all empty or all rows would prove
        # little: most must pick a proper, non-empty subset.
        proper = sum(1 for col, _, pred in FILTERS
                     if 0 < len(expected_ids([(col, pred)])) < len(ROWS))
        self.assertGreater(proper, len(FILTERS) * 3 // 4)

    def test_same_column_twice_is_and(self):
        for query, filters in (
                ("n=gte.0&n=lt.100", [("n", cmp(lambda v: 0 <= v < 100))]),
                ("n=not.eq.5&n=not.is.null&n=lt.3",
                 [("n", cmp(lambda v: v != 5 and v < 3))]),
                ("s=like.a*&s=not.like.*c", [("s", cmp(lambda v: v.startswith("a")
                                                        and not v.endswith("c")))]),
                ("day=gte.2024-01-01&day=lt.2024-02-01",
                 [("day", cmp(lambda v: "2024-01-01" <= v < "2024-02-01"))])):
            with self.subTest(query=query):
                self.assertEqual(self.ids("/things?" + query), expected_ids(filters))

    def test_filters_on_several_columns(self):
        for query, filters in (
                ("n=eq.5&flag=is.true", [("n", cmp(lambda v: v == 5)),
                                         ("flag", lambda v: v == 1)]),
                ("f=gt.0&d=lt.2", [("f", cmp(lambda v: v > 0)),
                                   ("d", cmp(lambda v: v < 2))]),
                ("s=not.is.null&n=in.(1,2,3,4)&flag=is.null",
                 [("s", lambda v: v is not None), ("n", cmp(lambda v: v in (1, 2, 3, 4))),
                  ("flag", lambda v: v is None)])):
            with self.subTest(query=query):
                expected = expected_ids(filters)
                self.assertTrue(expected, "fixture should give some rows")
                self.assertEqual(self.ids("/things?" + query), expected)

    def test_in_with_100_values(self):
        values = ",".join(str(i) for i in range(-50, 50))
        self.assertEqual(self.ids(f"/things?n=in.({values})"),
                         expected_ids([("n", cmp(lambda v: -50 <= v < 50))]))

    def test_invalid_filters(self):
        too_many = ",".join(str(i) for i in range(101))
        cases = [
            ("n", "eq.abc"), ("n", "eq.1.5"), ("n", "eq.99999999999999999999"),
            ("n", "eq."), ("n", "eq. 5"), ("n", "eq.5 "), ("n", "eq.0x10"), ("n", "eq.1e3"),
            ("n", "foo.5"), ("n", "eq"), ("n", ""), ("n", "5"), ("n", "in.()"),
            ("n", "in.(1,2"), ("n", "in.1,2"), ("n", f"in.({too_many})"), ("n", "in.(1,,2)"),
            ("n", "like.5"), ("n", "is.maybe"), ("n", "is.5"), ("n", "not.not.eq.5"),
            ("n", "not."), ("n", "Eq.5"),
            ("big", "eq.9223372036854775808"), ("big", "eq.-9223372036854775809"),
            ("d", "eq.1e3"), ("d", "eq..5"), ("d", "eq.5."), ("d", "eq.abc"), ("d", "eq.1,5"),
            ("f", "eq.nan"), ("f", "eq.inf"), ("f", "eq.-Infinity"), ("f", "eq.1e999"),
            ("f", "eq.abc"), ("f", "like.1"),
            ("fl", "eq.x"),
            ("day", "eq.2024-02-30"), ("day", "eq.2023-02-29"), ("day", "eq.2024-1-1"),
            ("day", "eq.2024-01-01T00:00:00x"), ("day", "eq.yesterday"),
            ("at", "eq.2024-01-31 25:00:00"), ("at", "eq.2024-01-31T23:59:60x"),
            ("at", "eq.garbage"), ("at6", "eq.2024-01-31T23:59:59.1234567"),
            ("s", "eq." + "x" * 41), ("s", "is.true"), ("s", "is.false"),
            ("s", 'in.("unterminated)'), ("s", "in.(a,b"),
            ("flag", "eq.yes"), ("flag", "eq.2"), ("flag", "like.true"),
            ("doc", "eq.{}"), ("doc", "like.*"), ("doc", "in.(1)"), ("doc", "gt.1"),
        ]
        for col, expr in cases:
            with self.subTest(filter=f"{col}={expr}"):
                assert_invalid(self, self.get(f"/things?{col}={q(expr)}"), col, mentions=col)

    def test_filter_value_of_exactly_the_column_length(self):
        self.assertEqual(self.ids("/things?s=eq." + "x" * 40), [])
        self.assertEqual(self.ids("/things?s=eq." + q("\U0001F680" * 40)), [])

    def test_invalid_utf8_in_string_filter(self):
        for raw in ("%C0%AF", "%FF", "%ED%A0%80", "abc%80", "%F4%90%80%80"):
            with self.subTest(raw=raw):
                assert_invalid(self, self.get(f"/things?s=eq.{raw}"), "s")

    def test_unknown_and_unexposed_columns(self):
        for path, name in (("/things?nope=eq.1", "nope"), ("/things?ID=eq.1", "ID"),
                           ("/things_small?d=eq.1", "d"), ("/things_small?doc=is.null", "doc"),
                           ("/things?sort=n", "sort"), ("/things?=1", None)):
            with self.subTest(path=path):
                doc = assert_problem(self, self.get(path), 400, "invalid-parameter")
                if name is not None:
                    self.assertEqual(doc.get("parameter"), name, doc)

    def test_boolean_column_without_types_takes_integers(self):
        # /things_small does not type flag: it is a number there.
        page = assert_json_ok(self, self.get("/things_small?flag=eq.1&limit=5"))
        self.assertEqual([row["id"] for row in page["data"]],
                         expected_ids([("flag", cmp(lambda v: v == 1))])[:5])
        for row in page["data"]:
            assert_same_json(self, row["flag"], 1)
        assert_invalid(self, self.get("/things_small?flag=eq.true"), "flag")

    # ------------------------------------------------------------- select

    def test_select(self):
        for select in (["s", "id"], ["id"], ["doc"], ["note", "at6", "fl", "id"], NAMES,
                       list(reversed(NAMES))):
            with self.subTest(select=select):
                page = assert_json_ok(self, self.get("/things?select=" + ",".join(select)))
                self.assertEqual(len(page["data"]), len(ROWS))
                for row, row_id in zip(page["data"], ALL_IDS):
                    self.assertEqual(list(row), select)
                    assert_same_json(self, normalized(row), expected_row(row_id, select))

    def test_select_with_filter_on_other_column(self):
        page = assert_json_ok(self, self.get("/things?select=s&n=eq.5"))
        expected = [{"s": r["s"]} for r in ROWS if r["n"] == 5]
        assert_same_json(self, page["data"], expected)

    def test_invalid_select(self):
        for value in ("", ",", "id,", ",id", "id,id", "nope", "id,nope", "ID", "*", "id s",
                      "id;s", "count(*)"):
            with self.subTest(select=value):
                assert_invalid(self, self.get("/things?select=" + q(value)), "select")
        assert_invalid(self, self.get("/things_small?select=d"), "select")
        assert_invalid(self, self.get("/things?select=id&select=s"), "select")

    # -------------------------------------------------------------- order

    def check_order(self, order_param, terms, query=""):
        path = f"/things?order={q(order_param)}&limit=100" + query
        got = self.ids(path)
        expected = [r["id"] for r in sort_rows(ROWS, terms)]
        self.assertEqual(got, expected, path)

    def test_orders(self):
        cases = [
            ("n", [("n", False)]),
            ("n.asc", [("n", False)]),
            ("n.desc", [("n", True)]),
            ("id.desc", [("id", True)]),
            ("s", [("s", False)]),
            ("s.desc", [("s", True)]),
            ("d.desc,f.asc", [("d", True), ("f", False)]),
            ("day,at.desc", [("day", False), ("at", True)]),
            ("flag.desc,n,id.desc", [("flag", True), ("n", False), ("id", True)]),
            ("fl,big.desc", [("fl", False), ("big", True)]),
            ("at6.desc", [("at6", True)]),
        ]
        for param, terms in cases:
            with self.subTest(order=param):
                self.check_order(param, terms)

    def test_order_with_filter_and_select(self):
        path = "/things?order=n.desc&select=s&n=gte.0"
        page = assert_json_ok(self, self.get(path))
        rows = sort_rows([r for r in ROWS if r["n"] is not None and r["n"] >= 0],
                         [("n", True)])
        assert_same_json(self, page["data"], [{"s": r["s"]} for r in rows])

    def test_invalid_order(self):
        for value in ("", "note", "doc", "n.up", "n.ASC", "n,n", "n.asc,n.desc", "nope",
                      "n.desc.asc", ".desc", "n.", "n desc", "n,", "id;drop", "1"):
            with self.subTest(order=value):
                assert_invalid(self, self.get("/things?order=" + q(value)), "order")
        assert_invalid(self, self.get("/things?order=n&order=s"), "order")
        assert_invalid(self, self.get("/things_small?order=d"), "order")

    # ------------------------------------------------------- limit, offset

    def test_default_limit_and_cap(self):
        page = assert_json_ok(self, self.get("/things_small"))
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS[:3])
        path, params = parse_next(page["next"])
        self.assertEqual(path, "/things_small")
        self.assertEqual(params.get("after"), ["3"], page["next"])
        page = assert_json_ok(self, self.get("/things_small?limit=1000"))
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS[:5])
        self.assertIsNotNone(page["next"])
        path, params = parse_next(page["next"])
        self.assertIn(params.get("limit"), (["5"], ["1000"]), page["next"])
        page = assert_json_ok(self, self.get(page["next"]))
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS[5:10])

    def test_limit_cap_with_filter_and_order(self):
        page = assert_json_ok(self, self.get("/things_small?limit=99&order=n.desc&n=gte.0"))
        expected = [r["id"] for r in sort_rows([r for r in ROWS
                                                if r["n"] is not None and r["n"] >= 0],
                                               [("n", True)])]
        self.assertEqual([r["id"] for r in page["data"]], expected[:5])
        for row in page["data"]:
            self.assertEqual(list(row), ["id", "n", "s", "flag"])

    def test_offset(self):
        order = [("n", True)]
        expected = [r["id"] for r in sort_rows(ROWS, order)]
        page = assert_json_ok(self, self.get("/things?order=n.desc&offset=2&limit=3"))
        self.assertEqual([r["id"] for r in page["data"]], expected[2:5])
        path, params = parse_next(page["next"])
        self.assertEqual(path, "/things")
        self.assertEqual(params, {"order": ["n.desc"], "limit": ["3"], "offset": ["5"]})
        page = assert_json_ok(self, self.get("/things?offset=18&limit=5"))
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS[18:])
        self.assertIsNone(page["next"])
        page = assert_json_ok(self, self.get("/things?offset=2&limit=2&n=eq.5"))
        self.assertEqual([r["id"] for r in page["data"]],
                         expected_ids([("n", cmp(lambda v: v == 5))])[2:4])

    def test_invalid_limit_offset_count(self):
        for query, name in (("limit=0", "limit"), ("limit=-1", "limit"), ("limit=x", "limit"),
                            ("limit=", "limit"), ("limit=1&limit=1", "limit"),
                            ("offset=-1", "offset"), ("offset=x", "offset"),
                            ("offset=1&offset=2", "offset"), ("count=yes", "count"),
                            ("count=", "count"), ("count=EXACT", "count"),
                            ("count=exact&count=exact", "count")):
            with self.subTest(query=query):
                assert_invalid(self, self.get("/things?" + query), name)
        doc = assert_problem(self, self.get("/things?after=1&offset=1"), 400,
                             "invalid-parameter")
        self.assertIn(doc.get("parameter"), ("after", "offset"), doc)

    # -------------------------------------------------------------- count

    def test_count_exact(self):
        page = assert_json_ok(self, self.get("/things?count=exact&limit=2"))
        self.assertEqual(set(page), {"data", "next", "count"})
        self.assertIs(type(page["count"]), int)
        self.assertEqual(page["count"], len(ROWS))
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS[:2])
        path, params = parse_next(page["next"])
        self.assertEqual(params.get("count"), ["exact"], page["next"])
        self.assertEqual(params.get("after"), ["2"], page["next"])

    def test_count_with_filters(self):
        for query, filters in (
                ("n=eq.5", [("n", cmp(lambda v: v == 5))]),
                ("n=eq.5&flag=is.true", [("n", cmp(lambda v: v == 5)), ("flag", lambda v: v == 1)]),
                ("s=like.a*", [("s", cmp(like("a*")))]),
                ("n=eq.12345", [("n", cmp(lambda v: v == 12345))]),
                ("doc=is.null", [("doc", lambda v: v is None)])):
            with self.subTest(query=query):
                expected = expected_ids(filters)
                page = assert_json_ok(self, self.get(f"/things?{query}&count=exact&limit=1"))
                self.assertEqual(page["count"], len(expected))
                self.assertEqual([r["id"] for r in page["data"]], expected[:1])
                if len(expected) > 1:
                    _, params = parse_next(page["next"])
                    self.assertEqual(params.get("count"), ["exact"])
                else:
                    self.assertIsNone(page["next"])

    def test_no_count_unless_asked(self):
        page = assert_json_ok(self, self.get("/things?limit=1"))
        self.assertEqual(set(page), {"data", "next"})

    # -------------------------------------------------------------- items

    def test_items(self):
        for row in ROWS:
            with self.subTest(id=row["id"]):
                got = assert_json_ok(self, self.get(f"/things/{row['id']}"))
                self.assertEqual(list(got), NAMES)
                assert_same_json(self, normalized(got), expected_row(row["id"]))

    def test_item_matches_collection_row(self):
        page = assert_json_ok(self, self.get("/things"))
        for row in page["data"][:5]:
            assert_same_json(self, assert_json_ok(self, self.get(f"/things/{row['id']}")), row)

    def test_item_select(self):
        got = assert_json_ok(self, self.get("/things/1?select=s,id"))
        assert_same_json(self, got, {"s": "plain", "id": 1})
        assert_invalid(self, self.get("/things/1?select=nope"), "select")
        assert_invalid(self, self.get("/things/1?select="), "select")

    def test_item_rejects_other_parameters(self):
        for query, name in (("limit=1", "limit"), ("n=eq.5", "n"), ("order=n", "order"),
                            ("after=1", "after"), ("offset=0", "offset"),
                            ("count=exact", "count"), ("x=1", "x")):
            with self.subTest(query=query):
                assert_invalid(self, self.get("/things/1?" + query), name)

    def test_missing_and_invalid_keys(self):
        for path in ("/things/999", "/things/0", "/things/-1", "/things/2147483648",
                     "/things/9223372036854775807"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")
        for path in ("/things/abc", "/things/1.5", "/things/9223372036854775808", "/things/+1",
                     "/things/%201", "/things/1e2", "/things/0x1"):
            with self.subTest(path=path):
                assert_invalid(self, self.get(path), "id")

    def test_composite_items(self):
        for a, b, v in PAIRS:
            with self.subTest(a=a, b=b):
                got = assert_json_ok(self, self.get(f"/pairs/{a}/{q(b)}"))
                assert_same_json(self, got, {"a": a, "b": b, "v": v})
        for path in ("/pairs/1/z", "/pairs/9/x", "/pairs/1/X", "/pairs/3/a"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")
        assert_invalid(self, self.get("/pairs/x/x"), "a")
        assert_invalid(self, self.get("/pairs/1/" + "b" * 21), "b")
        assert_invalid(self, self.get("/pairs/1/%C0%AF"), "b")
        assert_problem(self, self.get("/pairs/1"), 404, "not-found")
        assert_problem(self, self.get("/pairs/1/x/y"), 404, "not-found")

    def test_composite_collection(self):
        expected = sorted(PAIRS, key=lambda p: (p[0], p[1]))
        page = assert_json_ok(self, self.get("/pairs"))
        assert_same_json(self, page["data"], [{"a": a, "b": b, "v": v} for a, b, v in expected])
        page = assert_json_ok(self, self.get("/pairs?a=eq.1&order=v.desc"))
        assert_same_json(self, [r["v"] for r in page["data"]],
                         sorted((v for a, _, v in PAIRS if a == 1), reverse=True))
        page = assert_json_ok(self, self.get("/pairs?b=eq.x"))
        self.assertEqual([(r["a"], r["b"]) for r in page["data"]], [(1, "x"), (2, "x")])

    # -------------------------------------------------------------- types

    def test_types_overrides(self):
        resp = self.get("/v1/things_typed?limit=100")
        page = assert_json_ok(self, resp)
        raw = resp.raw_json()
        self.assertEqual([r["id"] for r in page["data"]], ALL_IDS)
        for row, raw_row, src in zip(page["data"], raw["data"], ROWS):
            with self.subTest(id=src["id"]):
                self.assertEqual(list(row), ["flag", "id", "n", "d", "big"])
                # boolean: true/false
                assert_same_json(self, row["flag"],
                                 None if src["flag"] is None else bool(src["flag"]))
                # string: numbers as strings
                assert_same_json(self, row["n"], None if src["n"] is None else str(src["n"]))
                # number: DECIMAL and big BIGINT as numbers with their exact digits
                if src["d"] is None:
                    self.assertIsNone(raw_row["d"])
                else:
                    self.assertIsInstance(raw_row["d"], tuple, raw_row)
                    self.assertEqual(raw_row["d"][1], f"{src['d']:.3f}")
                if src["big"] is None:
                    self.assertIsNone(raw_row["big"])
                else:
                    self.assertEqual(raw_row["big"], ("int", str(src["big"])))
        item = self.get("/v1/things_typed/1")
        assert_same_json(self, assert_json_ok(self, item),
                         {"flag": True, "id": 1, "n": "5", "d": 1.5, "big": 9007199254740993})
        self.assertEqual(item.raw_json()["d"], ("float", "1.500"))

    def test_typed_filters_still_take_column_values(self):
        self.assertEqual(self.ids("/v1/things_typed?n=eq.5"),
                         expected_ids([("n", cmp(lambda v: v == 5))]))
        self.assertEqual(self.ids("/v1/things_typed?flag=eq.false"),
                         expected_ids([("flag", cmp(lambda v: v == 0))]))

    def test_demo_users_active_is_boolean(self):
        resp = self.get("/users/1")
        self.assertRegex(resp.body.decode(), r'"active"\s*:\s*true\s*[,}]')
        resp = self.get("/users/2")
        self.assertRegex(resp.body.decode(), r'"active"\s*:\s*false\s*[,}]')
        page = assert_json_ok(self, self.get("/users?active=eq.false&limit=5&select=id,active"))
        assert_same_json(self, page["data"], [{"id": i, "active": False}
                                              for i in (2, 3, 6, 9, 12)])

    # ---------------------------------------------------------------- misc

    def test_head_on_filtered_collection(self):
        got = self.get("/things?n=eq.5")
        head = self.request("HEAD", "/things?n=eq.5")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        length = head.headers.get("Content-Length")
        if length is not None:
            self.assertEqual(int(length), len(got.body))

    def test_unknown_entry_paths(self):
        for path in ("/thing", "/things/1/2", "/v1/things", "/v1", "/things_typed"):
            with self.subTest(path=path):
                assert_problem(self, self.get(path), 404, "not-found")


if __name__ == "__main__":
    harness.main()
