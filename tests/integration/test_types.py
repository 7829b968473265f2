"""JSON typing of every column type the contract lists.

A private database `typesdb` holds a `users` table with one column per
MariaDB type and a handful of rows chosen for their edges (integer limits,
+-2^53, wide decimals, shortest doubles, fractional and negative times,
binary data, emoji, JSON documents, NULL).  queryd serves it like the demo
table; every value is checked both parsed and as printed.
"""

import base64
import json
import re
import unittest
from decimal import Decimal

import harness
from harness import assert_json_ok

TYPES_DB = "typesdb"


class I:
    """A JSON integer: printed as plain digits, equal to value."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"I({self.value})"


class N:
    """A JSON number numerically equal to the decimal text given.

    "0.1" accepts 0.1 or 1e-1 but not 0.10000000000000001: the number printed
    must be the shortest one that reads back as the same double.
    """

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"N({self.text})"


class J:
    """An embedded JSON value (object, array or scalar)."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"J({self.value!r})"


COLUMNS = [
    ("c_tinyint", "TINYINT"),
    ("c_tinyint_u", "TINYINT UNSIGNED"),
    ("c_smallint", "SMALLINT"),
    ("c_mediumint", "MEDIUMINT"),
    ("c_int", "INT"),
    ("c_int_u", "INT UNSIGNED"),
    ("c_bigint", "BIGINT"),
    ("c_bigint_u", "BIGINT UNSIGNED"),
    ("c_decimal", "DECIMAL(12,2)"),
    ("c_decimal_wide", "DECIMAL(65,30)"),
    ("c_decimal_int", "DECIMAL(20,0)"),
    ("c_float", "FLOAT"),
    ("c_double", "DOUBLE"),
    ("c_date", "DATE"),
    ("c_datetime", "DATETIME"),
    ("c_datetime3", "DATETIME(3)"),
    ("c_datetime6", "DATETIME(6)"),
    ("c_timestamp", "TIMESTAMP NULL DEFAULT NULL"),
    ("c_timestamp6", "TIMESTAMP(6) NULL DEFAULT NULL"),
    ("c_time", "TIME"),
    ("c_time3", "TIME(3)"),
    ("c_year", "YEAR"),
    ("c_bit", "BIT(8)"),
    ("c_bit1", "BIT(1)"),
    ("c_bool", "BOOLEAN"),
    ("c_char", "CHAR(10)"),
    ("c_varchar", "VARCHAR(100)"),
    ("c_text", "TEXT"),
    ("c_enum", "ENUM('small','medium','large')"),
    ("c_set", "SET('a','b','c')"),
    ("c_binary", "BINARY(4)"),
    ("c_varbinary", "VARBINARY(16)"),
    ("c_blob", "BLOB"),
    ("c_json", "JSON"),
]
COLUMN_NAMES = ["id"] + [name for name, _ in COLUMNS]


def text(value):
    """SQL for a utf8mb4 string, immune to quoting and escaping rules."""
    return f"CONVERT(X'{value.encode('utf-8').hex()}' USING utf8mb4)"


def binary(data):
    return f"X'{data.hex()}'"


def b64(data):
    return base64.b64encode(data).decode("ascii")


BLOB_BYTES = bytes(range(256)) * 4
VARCHAR_1 = 'Emoji \U0001F680, clef \U0001D11E, \u65e5\u672c\u8a9e, "q" \\ back / slash'
VARCHAR_3 = "\U0001D11E\U0001D11E \U0001F600 \U0001F469\u200d\U0001F4BB caf\u00e9 \u00e9"
# Past 64 KiB: a value whose length goes on the wire in 3 bytes.
BIG_JSON = [f"item {i:05d} \u00e9" for i in range(6000)]
LONG_TEXT = "\u00fcn\u00efcode line\n" * 4000  # 60,000 bytes: a 2-byte length
TEXT_1 = "line1\nline2\ttab\r\n\u0001 ctrl </script> \u2028 end"
TEXT_6 = "x" * 60000
CONTROL_7 = "".join(chr(c) for c in range(1, 32)) + "\u007f"

# id -> {column: (SQL literal, expected JSON value)}; columns left out are NULL.
ROWS = {
    1: {
        "c_tinyint": ("-128", I(-128)),
        "c_tinyint_u": ("255", I(255)),
        "c_smallint": ("-32768", I(-32768)),
        "c_mediumint": ("8388607", I(8388607)),
        "c_int": ("-2147483648", I(-2147483648)),
        "c_int_u": ("4294967295", I(4294967295)),
        "c_bigint": ("9007199254740992", I(9007199254740992)),
        "c_bigint_u": ("18446744073709551615", "18446744073709551615"),
        "c_decimal": ("1234.50", "1234.50"),
        "c_decimal_wide": ("12345678901234567890123456789012345.123456789012345678901234567890",
                           "12345678901234567890123456789012345.123456789012345678901234567890"),
        "c_decimal_int": ("12345678901234567890", "12345678901234567890"),
        "c_float": ("1.1", N("1.1")),
        "c_double": ("0.1", N("0.1")),
        "c_date": ("'2024-05-01'", "2024-05-01"),
        "c_datetime": ("'2024-05-01 13:45:00'", "2024-05-01T13:45:00"),
        "c_datetime3": ("'2024-05-01 13:45:00.123'", "2024-05-01T13:45:00.123"),
        "c_datetime6": ("'2024-05-01 13:45:00.123456'", "2024-05-01T13:45:00.123456"),
        "c_timestamp": ("'2024-05-01 13:45:00'", "2024-05-01T13:45:00+00:00"),
        "c_timestamp6": ("'2024-05-01 13:45:00.000001'", "2024-05-01T13:45:00.000001+00:00"),
        "c_time": ("'13:45:00'", "13:45:00"),
        "c_time3": ("'13:45:00.5'", "13:45:00.500"),
        "c_year": ("2024", I(2024)),
        "c_bit": ("b'10100101'", I(165)),
        "c_bit1": ("b'1'", I(1)),
        "c_bool": ("TRUE", I(1)),
        "c_char": (text("abc"), "abc"),
        "c_varchar": (text(VARCHAR_1), VARCHAR_1),
        "c_text": (text(TEXT_1), TEXT_1),
        "c_enum": ("'medium'", "medium"),
        "c_set": ("'a,c'", "a,c"),
        "c_binary": ("X'DEADBEEF'", "3q2+7w=="),
        "c_varbinary": ("X'00FF10'", "AP8Q"),
        "c_blob": (binary(b"\x00\x01\x02\xfb\xfc\xfd\xfe\xff"), b64(b"\x00\x01\x02\xfb\xfc\xfd\xfe\xff")),
        "c_json": (text('{"a": 1, "b": [true, null, "x"], "c": {"d": 1.5, "e": "\\u00e9\U0001F680"}}'),
                   J({"a": 1, "b": [True, None, "x"], "c": {"d": 1.5, "e": "\u00e9\U0001F680"}})),
    },
    2: {
        "c_tinyint": ("127", I(127)),
        "c_tinyint_u": ("0", I(0)),
        "c_smallint": ("32767", I(32767)),
        "c_mediumint": ("-8388608", I(-8388608)),
        "c_int": ("2147483647", I(2147483647)),
        "c_int_u": ("0", I(0)),
        "c_bigint": ("-9007199254740992", I(-9007199254740992)),
        "c_bigint_u": ("9007199254740993", "9007199254740993"),
        "c_decimal": ("-0.01", "-0.01"),
        "c_decimal_wide": ("0", "0.000000000000000000000000000000"),
        "c_decimal_int": ("-99999999999999999999", "-99999999999999999999"),
        "c_float": ("-1.5", N("-1.5")),
        "c_double": ("1e300", N("1e300")),
        "c_date": ("'1000-01-01'", "1000-01-01"),
        "c_datetime": ("'1000-01-01 00:00:00'", "1000-01-01T00:00:00"),
        "c_datetime3": ("'2024-01-01 00:00:00.000'", "2024-01-01T00:00:00.000"),
        "c_datetime6": ("'9999-12-31 23:59:59.999999'", "9999-12-31T23:59:59.999999"),
        "c_timestamp": ("'1970-01-01 00:00:01'", "1970-01-01T00:00:01+00:00"),
        "c_timestamp6": ("'2038-01-19 03:14:07.999999'", "2038-01-19T03:14:07.999999+00:00"),
        "c_time": ("'-01:02:03'", "-01:02:03"),
        "c_time3": ("'838:59:59.999'", "838:59:59.999"),
        "c_year": ("1901", I(1901)),
        "c_bit": ("b'00000000'", I(0)),
        "c_bit1": ("b'0'", I(0)),
        "c_bool": ("FALSE", I(0)),
        "c_char": ("''", ""),
        "c_varchar": ("''", ""),
        "c_text": ("''", ""),
        "c_enum": ("'small'", "small"),
        "c_set": ("''", ""),
        "c_binary": ("X'6162'", b64(b"ab\x00\x00")),
        "c_varbinary": ("X''", ""),
        "c_blob": (binary(BLOB_BYTES), b64(BLOB_BYTES)),
        "c_json": (text("[1, 2, 3]"), J([1, 2, 3])),
    },
    3: {
        "c_bigint": ("9007199254740993", "9007199254740993"),
        "c_bigint_u": ("9007199254740992", I(9007199254740992)),
        "c_decimal_wide": ("-0.000000000000000000000000000001",
                           "-0.000000000000000000000000000001"),
        "c_float": ("3.14159", N("3.14159")),
        "c_double": ("123456789012345680", N("123456789012345680")),
        "c_time": ("'838:59:59'", "838:59:59"),
        "c_time3": ("'-838:59:59.000'", "-838:59:59.000"),
        "c_year": ("2155", I(2155)),
        "c_varchar": (text(VARCHAR_3), VARCHAR_3),
        "c_set": ("'a,b,c'", "a,b,c"),
        "c_json": (text("42"), J(42)),
    },
    4: {
        "c_bigint": ("-9007199254740993", "-9007199254740993"),
        "c_double": ("5e-324", N("5e-324")),
        "c_float": ("16777216", N("16777216")),
        "c_time": ("'-838:59:59'", "-838:59:59"),
        "c_time3": ("'-00:00:00.001'", "-00:00:00.001"),
        "c_json": (text('"text \\u00e9"'), J("text \u00e9")),
    },
    5: {},  # every column NULL
    6: {
        "c_bigint": ("9223372036854775807", "9223372036854775807"),
        "c_bigint_u": ("0", I(0)),
        "c_decimal": ("9999999999.99", "9999999999.99"),
        "c_double": ("-1.7976931348623157e308", N("-1.7976931348623157e308")),
        "c_text": (text(TEXT_6), TEXT_6),
        "c_json": (text("{}"), J({})),
    },
    7: {
        "c_bigint": ("-9223372036854775808", "-9223372036854775808"),
        "c_double": ("-2.5", N("-2.5")),
        "c_varchar": (text(CONTROL_7), CONTROL_7),
        "c_json": (text('{"a": {"b": {"c": [[[]]], "d": true}}}'),
                   J({"a": {"b": {"c": [[[]]], "d": True}}})),
    },
    8: {
        # A NUL byte inside a string: must come out as \u0000, not cut short.
        "c_text": (text("NUL:\u0000:end"), "NUL:\u0000:end"),
        "c_double": ("-0.0", N("0")),
        "c_json": (text("true"), J(True)),
    },
    9: {
        # Doubles that need all 17 significant digits to read back the same.
        "c_double": ("0.1e0 + 0.2e0", N("0.30000000000000004")),
        "c_float": ("0.1", N("0.1")),
        "c_decimal": ("0.00", "0.00"),
    },
    10: {
        "c_double": ("3 / 7e0", N(repr(3 / 7))),
        "c_float": ("-3.4028234e38", N("-3.4028235e+38")),  # -FLT_MAX
    },
    11: {
        "c_double": ("1e0 + 2.220446049250313e-16", N("1.0000000000000002")),
    },
    12: {
        "c_json": (text(json.dumps(BIG_JSON, ensure_ascii=False)), J(BIG_JSON)),
        "c_text": (text(LONG_TEXT), LONG_TEXT),
    },
}


CONFIG = {"resources": [{"path": "/users", "table": "users", "key": "id"}]}


def setup_sql():
    columns = ",\n  ".join(f"`{name}` {decl}" + ("" if "NULL" in decl else " NULL")
                           for name, decl in COLUMNS)
    statements = [
        "SET NAMES utf8mb4;",
        "SET time_zone = '+00:00';",
        f"CREATE DATABASE IF NOT EXISTS `{TYPES_DB}` CHARACTER SET utf8mb4 "
        "COLLATE utf8mb4_unicode_ci;",
        f"USE `{TYPES_DB}`;",
        "CREATE TABLE users (\n  id INT NOT NULL PRIMARY KEY,\n  " + columns +
        "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;",
    ]
    for row_id, values in ROWS.items():
        names = ["id"] + list(values)
        literals = [str(row_id)] + [sql for sql, _ in values.values()]
        statements.append(f"INSERT INTO users ({', '.join(names)}) "
                          f"VALUES ({', '.join(literals)});")
    return "\n".join(statements)


def expected_row(row_id):
    row = {"id": I(row_id)}
    for name, _ in COLUMNS:
        row[name] = ROWS[row_id].get(name, (None, None))[1]
    return row


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class TypeTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        cls.db = cls.fixture.start_mariadb()
        cls.db.execute(setup_sql())
        cls.db.create_app_user(harness.APP_USER, harness.APP_PASSWORD, TYPES_DB)
        cls.url = cls.db.tcp_url(harness.APP_USER, harness.APP_PASSWORD, TYPES_DB)
        # Every column of the table ("columns" absent), no "types": the
        # documented default mapping.
        cls.config = cls.fixture.config_file("types", CONFIG)
        cls.queryd = cls.fixture.queryd(cls.url, config=cls.config)

    @classmethod
    def tearDownClass(cls):
        cls.queryd.stop_and_check(harness.class_asserter())

    def setUp(self):
        self.maxDiff = None

    def check_value(self, column, expected, value, raw):
        """Compare one column: value parsed normally, raw with number texts."""
        if expected is None:
            self.assertIsNone(value)
        elif isinstance(expected, I):
            self.assertIsInstance(raw, tuple, f"expected a JSON number, got {value!r}")
            kind, token = raw
            self.assertEqual(kind, "int", f"expected integer digits, got {token!r}")
            self.assertEqual(int(token), expected.value)
        elif isinstance(expected, N):
            self.assertIsInstance(raw, tuple, f"expected a JSON number, got {value!r}")
            _, token = raw
            self.assertEqual(Decimal(token), Decimal(expected.text),
                             f"printed {token!r}, the shortest round-trip form is "
                             f"{expected.text!r}")
        elif isinstance(expected, J):
            self.assertEqual(canonical(value), canonical(expected.value))
        else:
            self.assertIsInstance(value, str, f"expected a JSON string, got {value!r}")
            self.assertEqual(value, expected)

    def check_row(self, row_id, value, raw, where):
        expected = expected_row(row_id)
        self.assertIsInstance(value, dict, where)
        self.assertEqual(list(value), COLUMN_NAMES, f"{where}: keys or their order")
        for column in COLUMN_NAMES:
            with self.subTest(where=where, id=row_id, column=column):
                self.check_value(column, expected[column], value.get(column), raw.get(column))

    def test_each_row_by_id(self):
        for row_id in ROWS:
            resp = self.queryd.get(f"/users/{row_id}")
            value = assert_json_ok(self, resp)
            self.check_row(row_id, value, resp.raw_json(), f"/users/{row_id}")

    def test_rows_in_list(self):
        resp = self.queryd.get("/users?limit=100")
        page = assert_json_ok(self, resp)
        raw_page = resp.raw_json()
        self.assertEqual([row["id"] for row in page["data"]], sorted(ROWS))
        self.assertIsNone(page["next"])
        for value, raw in zip(page["data"], raw_page["data"]):
            self.check_row(value["id"], value, raw, "/users?limit=100")

    def test_raw_text_of_precise_values(self):
        body = self.queryd.get("/users/1").body.decode("utf-8")
        self.assertRegex(body, r'"c_double"\s*:\s*0\.1\s*[,}]')
        self.assertRegex(body, r'"c_float"\s*:\s*1\.1\s*[,}]')
        self.assertRegex(body, r'"c_bigint"\s*:\s*9007199254740992\s*[,}]')
        self.assertRegex(body, r'"c_bigint_u"\s*:\s*"18446744073709551615"')
        body = self.queryd.get("/users/3").body.decode("utf-8")
        self.assertRegex(body, r'"c_bigint"\s*:\s*"9007199254740993"')
        self.assertRegex(body, r'"c_double"\s*:\s*(123456789012345680|1\.2345678901234568[eE]\+?17)'
                         r'\s*[,}]')
        body = self.queryd.get("/users/2").body.decode("utf-8")
        self.assertRegex(body, r'"c_double"\s*:\s*1(\.0+)?[eE]\+?300\s*[,}]')

    def test_json_string_escaping_is_valid(self):
        # Control characters must be escaped: a strict parser rejects raw
        # ones inside strings, and json.loads(strict=True) is one.
        for row_id in (1, 7, 8):
            with self.subTest(id=row_id):
                body = self.queryd.get(f"/users/{row_id}").body.decode("utf-8").strip()
                json.loads(body, strict=True)
                self.assertIsNone(re.search(r"[\x00-\x1f]", body),
                                  "unescaped control character in the body")

    def test_time_zone_setting(self):
        q = self.fixture.queryd(self.url, name="queryd-tz", config=self.config,
                                time_zone="+05:30")
        try:
            row = assert_json_ok(self, q.get("/users/1"))
            self.assertEqual(row["c_timestamp"], "2024-05-01T19:15:00+05:30")
            self.assertEqual(row["c_timestamp6"], "2024-05-01T19:15:00.000001+05:30")
            self.assertEqual(row["c_datetime"], "2024-05-01T13:45:00")
            row = assert_json_ok(self, q.get("/users/2"))
            self.assertEqual(row["c_timestamp"], "1970-01-01T05:30:01+05:30")
        finally:
            q.stop_and_check(self)

    def test_negative_time_zone(self):
        q = self.fixture.queryd(self.url, name="queryd-tz-neg", config=self.config,
                                time_zone="-08:00")
        try:
            row = assert_json_ok(self, q.get("/users/2"))
            self.assertEqual(row["c_timestamp"], "1969-12-31T16:00:01-08:00")
        finally:
            q.stop_and_check(self)

    def test_absent_and_invalid_ids(self):
        harness.assert_problem(self, self.queryd.get("/users/99"), 404, "not-found")
        harness.assert_invalid(self, self.queryd.get("/users/x"), "id")

    def test_columns_in_table_order_without_types(self):
        # Without "columns" every column comes, in the table's order; without
        # "types" BOOLEAN stays a number.
        resp = self.queryd.get("/users/1?select=c_bool,id")
        self.assertEqual(assert_json_ok(self, resp), {"c_bool": 1, "id": 1})
        self.assertRegex(resp.body.decode(), r'"c_bool"\s*:\s*1\s*[,}]')


if __name__ == "__main__":
    harness.main()
