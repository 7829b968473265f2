/*
 * Unit tests for the streaming body readers: every body is read whole and
 * in pieces of many sizes (down to one byte), and each way must give the
 * same rows and the same error, described as text so a failure shows both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/body_reader.h"
#include "core/strbuf.h"
#include "test.h"

#define BIG ((size_t)1 << 20)

typedef struct outcome {
        strbuf_t text;
        int stop_at; /* the row whose callback returns -42; -1: none */
        int calls;
} outcome_t;

static int describe_row_cb(const body_row_t *row, void *data)
{
        static const char kinds[] = "ntf#sjx";
        outcome_t *o = data;

        o->calls++;
        strbuf_appendf(&o->text, "%llu:", row->index);
        for (size_t i = 0; i < row->field_count; i++) {
                const body_field_t *f = &row->fields[i];
                strbuf_append_char(&o->text, ' ');
                strbuf_append(&o->text, f->name, f->name_len);
                if (strlen(f->name) != f->name_len)
                        strbuf_append_str(&o->text, "<name not terminated>");
                strbuf_append_char(&o->text, '=');
                strbuf_append_char(&o->text, kinds[f->kind]);
                if (f->text != NULL) {
                        strbuf_append_char(&o->text, '(');
                        strbuf_append(&o->text, f->text, f->len);
                        strbuf_append_char(&o->text, ')');
                        if (f->text[f->len] != '\0')
                                strbuf_append_str(&o->text, "<not terminated>");
                }
        }
        strbuf_append_char(&o->text, '\n');
        return row->index == (unsigned long long)o->stop_at ? -42 : 0;
}

/*
 * Reads body in pieces of chunk bytes (0: whole) and describes what came
 * out: one line per row, then "ok" or the error, its row and its detail.
 */
static char *read_body(body_format_t format, const char *body, size_t len, size_t chunk,
                       size_t max_row_bytes, size_t max_fields, int stop_at)
{
        body_reader_t *r = body_reader_new(format, max_row_bytes, max_fields);
        outcome_t o = { .stop_at = stop_at };
        int rc = 0;

        if (chunk == 0)
                chunk = len;
        for (size_t at = 0; at < len && rc == 0; at += chunk)
                rc = body_reader_feed(r, body + at, len - at < chunk ? len - at : chunk,
                                      describe_row_cb, &o);
        if (rc == 0)
                rc = body_reader_finish(r, describe_row_cb, &o);
        if (rc == 0) {
                strbuf_appendf(&o.text, "ok %llu", body_reader_rows(r));
        } else {
                int calls = o.calls;
                strbuf_appendf(&o.text, "error %d row %llu: %s", rc, body_reader_error_row(r),
                               body_reader_error(r));
                /* The error sticks, and nothing more is handed on. */
                if (body_reader_feed(r, "{}\n", 3, describe_row_cb, &o) != rc ||
                    body_reader_finish(r, describe_row_cb, &o) != rc || o.calls != calls)
                        strbuf_append_str(&o.text, " <not sticky>");
        }
        if (format == BODY_FORMAT_JSON && body_reader_single(r))
                strbuf_append_str(&o.text, " single");
        body_reader_free(r);
        return strbuf_take(&o.text, NULL);
}

/* Reads body whole, byte by byte and in pieces of several sizes; all must give expected. */
static void check_limited(body_format_t format, const char *body, size_t max_row_bytes,
                          size_t max_fields, const char *expected)
{
        static const size_t chunks[] = { 0, 1, 2, 3, 5, 7, 64 };
        size_t len = strlen(body);

        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                char *got = read_body(format, body, len, chunks[i], max_row_bytes, max_fields, -1);
                if (strcmp(got, expected) != 0)
                        fprintf(stderr, "  (in pieces of %zu bytes of %s)\n", chunks[i], body);
                ASSERT_EQ_STR(got, expected);
                free(got);
        }
}

static void check(body_format_t format, const char *body, const char *expected)
{
        check_limited(format, body, BIG, 1000, expected);
}

#define JSON(body, expected) check(BODY_FORMAT_JSON, body, expected)
#define NDJSON(body, expected) check(BODY_FORMAT_NDJSON, body, expected)
#define CSV(body, expected) check(BODY_FORMAT_CSV, body, expected)
#define EINVAL_AT(row, detail) "error -22 row " #row ": " detail

static void test_json_single_object(void)
{
        JSON("{\"id\":1,\"name\":\"Ann\",\"ok\":true,\"no\":false,\"x\":null}",
             "0: id=#(1) name=s(Ann) ok=t no=f x=n\nok 1 single");
        JSON(" \r\n\t{ \"a\" : 1 , \"b\"\t:\n\"c\" } \n", "0: a=#(1) b=s(c)\nok 1 single");
        JSON("{}", "0:\nok 1 single");
}

static void test_json_array(void)
{
        JSON("[{\"a\":1},{\"a\":2} , {\"a\":3}]", "0: a=#(1)\n1: a=#(2)\n2: a=#(3)\nok 3");
        JSON("[]", "ok 0");
        JSON(" [ \n ] ", "ok 0");
        JSON("[{}]", "0:\nok 1");
}

static void test_json_numbers_exact(void)
{
        JSON("{\"a\":12345678901234567890.123456789,\"b\":-0.5e-10,\"c\":1E+400,\"d\":-0,"
             "\"e\":0,\"f\":-123456789012345678901234567890,\"g\":2.50,\"h\":1e5}",
             "0: a=#(12345678901234567890.123456789) b=#(-0.5e-10) c=#(1E+400) d=#(-0) e=#(0) "
             "f=#(-123456789012345678901234567890) g=#(2.50) h=#(1e5)\nok 1 single");
        JSON("[{\"a\":01}]", EINVAL_AT(0, "an invalid number"));
        JSON("[{\"a\":1.}]", EINVAL_AT(0, "an invalid number"));
        JSON("[{\"a\":.5}]", EINVAL_AT(0, "expected a value"));
        JSON("[{\"a\":-}]", EINVAL_AT(0, "an invalid number"));
        JSON("[{\"a\":1e}]", EINVAL_AT(0, "an invalid number"));
        JSON("[{\"a\":+1}]", EINVAL_AT(0, "expected a value"));
        JSON("[{\"a\":1.2.3}]", EINVAL_AT(0, "an invalid number"));
        JSON("[{\"a\":1},{\"a\":-01}]", "0: a=#(1)\n" EINVAL_AT(1, "an invalid number"));
        JSON("{\"a\":tru}", EINVAL_AT(0, "expected a value") " single");
        JSON("{\"a\":nulll}", EINVAL_AT(0, "expected ',' or '}' after a value") " single");
}

static void test_json_escapes(void)
{
        JSON("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}",
             "0: s=s(a\"b\\c/d\b\f\n\r\t)\nok 1 single");
        JSON("{\"\\u0061\\u00e9\":\"\\u20AC\\ud83d\\ude00\\u0041\"}",
             "0: a\xC3\xA9=s(\xE2\x82\xAC\xF0\x9F\x98\x80" "A)\nok 1 single");
        JSON("{\"s\":\"\\x\"}", EINVAL_AT(0, "an invalid escape in a string") " single");
        JSON("{\"s\":\"\\u12\"}", EINVAL_AT(0, "an invalid \\u escape in a string") " single");
        JSON("{\"s\":\"\\u12G4\"}", EINVAL_AT(0, "an invalid \\u escape in a string") " single");
        JSON("{\"s\":\"\\ud800\"}", EINVAL_AT(0, "a lone surrogate in a \\u escape") " single");
        JSON("{\"s\":\"\\udc00\\ud800\"}",
             EINVAL_AT(0, "a lone surrogate in a \\u escape") " single");
        JSON("{\"s\":\"\\ud800\\u0041\"}",
             EINVAL_AT(0, "a lone surrogate in a \\u escape") " single");
        JSON("{\"s\":\"\\u0000\"}", EINVAL_AT(0, "\\u0000 is not allowed in a string") " single");
        JSON("{\"s\":\"a\tb\"}", EINVAL_AT(0, "a control character in a string") " single");
        JSON("{\"s\":\"abc", EINVAL_AT(0, "the body ends before the JSON is complete") " single");
}

static void test_json_invalid_utf8(void)
{
        JSON("{\"s\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}",
             "0: s=s(caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80)\nok 1 single");
        JSON("{\"s\":\"\xC3\x28\"}", EINVAL_AT(0, "invalid UTF-8 in a string") " single");
        JSON("{\"s\":\"\xC0\xAF\"}", EINVAL_AT(0, "invalid UTF-8 in a string") " single");
        JSON("{\"s\":\"\xED\xA0\x80\"}", EINVAL_AT(0, "invalid UTF-8 in a string") " single");
        JSON("{\"s\":\"\xF4\x90\x80\x80\"}", EINVAL_AT(0, "invalid UTF-8 in a string") " single");
        JSON("[{\"\xFF\":1}]", EINVAL_AT(0, "invalid UTF-8 in a string"));
        JSON("[{\"a\":[\"\xE2\x82\"]}]", EINVAL_AT(0, "invalid UTF-8 in a string"));
}

static void test_json_duplicate_keys(void)
{
        JSON("{\"a\":1,\"a\":2}", EINVAL_AT(0, "duplicate key \"a\"") " single");
        JSON("[{\"a\":1},{\"b\":1,\"\\u0062\":2}]", "0: a=#(1)\n" EINVAL_AT(1, "duplicate key \"b\""));

        /* Past the keys compared one by one, the set of names takes over. */
        strbuf_t body = { 0 }, want = { 0 };
        strbuf_append_str(&body, "{");
        strbuf_append_str(&want, "0:");
        for (int i = 0; i < 40; i++) {
                strbuf_appendf(&body, "%s\"k%d\":%d", i ? "," : "", i, i);
                strbuf_appendf(&want, " k%d=#(%d)", i, i);
        }
        strbuf_append_str(&want, "\nok 1 single");
        strbuf_append_char(&body, '}');
        JSON(body.data, want.data);
        body.len--; /* reopen the object */
        strbuf_append_str(&body, ",\"k25\":0}");
        JSON(body.data, EINVAL_AT(0, "duplicate key \"k25\"") " single");

        /* A long name is cut in the detail, between characters. */
        strbuf_t name = { 0 };
        for (int i = 0; i < 40; i++)
                strbuf_append_str(&name, "\xC3\xA9"); /* 80 bytes */
        strbuf_done(&body);
        strbuf_appendf(&body, "%s,%s\n", name.data, name.data);
        strbuf_done(&want);
        strbuf_appendf(&want, "duplicate column \"%.64s...\" in the header", name.data);
        char *got = read_body(BODY_FORMAT_CSV, body.data, body.len, 3, BIG, 10, -1);
        ASSERT_CONTAINS(got, want.data);
        free(got);
        strbuf_done(&body);
        strbuf_appendf(&body, "{\"%s\":1,\"%s\":2}", name.data, name.data);
        got = read_body(BODY_FORMAT_JSON, body.data, body.len, 3, BIG, 10, -1);
        strbuf_done(&want);
        strbuf_appendf(&want, "duplicate key \"%.64s...\" single", name.data);
        ASSERT_CONTAINS(got, want.data);
        strbuf_done(&want);
        free(got);
        strbuf_done(&name);
        strbuf_done(&body);
}

static void test_json_nested_values(void)
{
        JSON("{\"a\":{\"b\": [1, 2.5, {\"c\":null}] },\"e\":[],\"f\":{},\"g\":[\"\\u0000\"]}",
             "0: a=j({\"b\": [1, 2.5, {\"c\":null}] }) e=j([]) f=j({}) g=j([\"\\u0000\"])\n"
             "ok 1 single");
        JSON("{\"a\":[1,]}", EINVAL_AT(0, "expected a value") " single");
        JSON("{\"a\":[1 2]}", EINVAL_AT(0, "expected ',' or ']' in a nested value") " single");
        JSON("{\"a\":{\"b\"}}", EINVAL_AT(0, "expected ':' after a key") " single");
        JSON("{\"a\":{1:2}}", EINVAL_AT(0, "expected a key in a nested object") " single");
        JSON("{\"a\":[}]}", EINVAL_AT(0, "expected a value") " single");
        JSON("{\"a\":{\"b\":1]}", EINVAL_AT(0, "expected ',' or '}' in a nested value") " single");

        char deep[256] = "{\"a\":", deeper[300];
        size_t n = strlen(deep);
        for (int i = 0; i < 64; i++)
                deep[n++] = '[';
        for (int i = 0; i < 64; i++)
                deep[n++] = ']';
        strcpy(deep + n, "}");
        char *got = read_body(BODY_FORMAT_JSON, deep, strlen(deep), 0, BIG, 10, -1);
        ASSERT_CONTAINS(got, "ok 1");
        free(got);
        snprintf(deeper, sizeof(deeper), "{\"a\":[%s]}", deep + 5);
        deeper[strlen(deeper) - 2] = ']';
        deeper[strlen(deeper) - 1] = '}';
        got = read_body(BODY_FORMAT_JSON, deeper, strlen(deeper), 1, BIG, 10, -1);
        ASSERT_CONTAINS(got, "values nest deeper than 64 levels");
        free(got);
}

static void test_json_errors_name_their_row(void)
{
        JSON("", EINVAL_AT(0, "the body is empty"));
        JSON(" \n ", EINVAL_AT(0, "the body is empty"));
        JSON("\"x\"", EINVAL_AT(0, "the body is not a JSON object or array"));
        JSON("1", EINVAL_AT(0, "the body is not a JSON object or array"));
        JSON("[1]", EINVAL_AT(0, "an array element is not an object"));
        JSON("[{},{},[]]", "0:\n1:\n" EINVAL_AT(2, "an array element is not an object"));
        JSON("[{\"a\":1} {\"a\":2}]", "0: a=#(1)\n" EINVAL_AT(1, "expected ',' or ']' after a row"));
        JSON("[{\"a\":1},]", "0: a=#(1)\n" EINVAL_AT(1, "an array element is not an object"));
        JSON("[,{}]", EINVAL_AT(0, "an array element is not an object"));
        JSON("{\"a\":1} x", "0: a=#(1)\n" EINVAL_AT(1, "text after the end of the JSON body") " single");
        JSON("{}{}", "0:\n" EINVAL_AT(1, "text after the end of the JSON body") " single");
        JSON("[] []", EINVAL_AT(0, "text after the end of the JSON body"));
        JSON("{\"a\" 1}", EINVAL_AT(0, "expected ':' after a key") " single");
        JSON("{\"a\":1 \"b\":2}", EINVAL_AT(0, "expected ',' or '}' after a value") " single");
        JSON("{\"a\":1,}", EINVAL_AT(0, "expected a key string") " single");
        JSON("{a:1}", EINVAL_AT(0, "expected a key string") " single");
        JSON("{\"a\":1]", EINVAL_AT(0, "expected ',' or '}' after a value") " single");
        JSON("{\"a\":}", EINVAL_AT(0, "expected a value") " single");
}

static void test_json_truncated_at_finish(void)
{
        JSON("[", EINVAL_AT(0, "the body ends before the JSON is complete"));
        JSON("[{\"a\":1}", "0: a=#(1)\n" EINVAL_AT(1, "the body ends before the JSON is complete"));
        JSON("[{\"a\":1},", "0: a=#(1)\n" EINVAL_AT(1, "the body ends before the JSON is complete"));
        JSON("{\"a\":", EINVAL_AT(0, "the body ends before the JSON is complete") " single");
        JSON("[{\"a\":\"}\"", EINVAL_AT(0, "the body ends before the JSON is complete"));
}

static void test_ndjson(void)
{
        NDJSON("{\"a\":1}\n{\"a\":2}\n", "0: a=#(1)\n1: a=#(2)\nok 2");
        NDJSON("{\"a\":1}\r\n\r\n  \n{\"a\":\"x\"}\r\n", "0: a=#(1)\n1: a=s(x)\nok 2");
        NDJSON("{\"a\":1}\n{\"a\":2}", "0: a=#(1)\n1: a=#(2)\nok 2");
        NDJSON(" {\"a\":[1,\n2]}\n", EINVAL_AT(0, "expected a value"));
        NDJSON("{\"a\":1}\n\n[1]\n", "0: a=#(1)\n" EINVAL_AT(1, "a line is not a JSON object"));
        NDJSON("{\"a\":1} {\"b\":2}\n", EINVAL_AT(0, "text after the object on its line"));
        NDJSON("{\"a\":1}\n{\"a\":", "0: a=#(1)\n" EINVAL_AT(1, "expected a value"));
        NDJSON("{\"a\":1}\n{\"a\":1,\"a\":2}\n{}", "0: a=#(1)\n" EINVAL_AT(1, "duplicate key \"a\""));
        NDJSON("", EINVAL_AT(0, "the body is empty"));
        NDJSON("\n \r\n\n", EINVAL_AT(0, "the body is empty"));
        NDJSON("{\"n\":-1.5E-7,\"s\":\"\\ud83d\\ude00\"}", "0: n=#(-1.5E-7) s=s(\xF0\x9F\x98\x80)\nok 1");
}

static void test_csv(void)
{
        CSV("id,name\n1,Ann\n2,Bob\n", "0: id=x(1) name=x(Ann)\n1: id=x(2) name=x(Bob)\nok 2");
        CSV("id,name\r\n1,Ann\r\n2,Bob", "0: id=x(1) name=x(Ann)\n1: id=x(2) name=x(Bob)\nok 2");
        CSV("id,name\n", "ok 0");
        CSV("id,name", "ok 0");
        CSV("a,b,c\n,\"\",x\n", "0: a=n b=x() c=x(x)\nok 1");
        CSV("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", "0: a=x(x,y) b=x(say \"hi\")\nok 1");
        CSV("a,b\n\"line\r\nbreak\",\"\"\"\"\n", "0: a=x(line\r\nbreak) b=x(\")\nok 1");
        CSV("a,b\n1,2\n\n", "0: a=x(1) b=x(2)\nok 1");
        CSV("a,b\n1,2\r\n\r\n", "0: a=x(1) b=x(2)\nok 1");
        CSV("a,b\n1,\n", "0: a=x(1) b=n\nok 1");
        CSV("\"a b\",\"c,d\"\n1,2\n", "0: a b=x(1) c,d=x(2)\nok 1");
        CSV("a\n1\n\n2\n", "0: a=x(1)\n1: a=n\n2: a=x(2)\nok 3");
        CSV("a\n1\n\n\n", "0: a=x(1)\n1: a=n\nok 2");
        CSV("a,b\n1,2\n\n3,4\n", "0: a=x(1) b=x(2)\n" EINVAL_AT(1, "a row has 1 fields but the header has 2"));
        CSV("a,b\n1,2\n3\n", "0: a=x(1) b=x(2)\n" EINVAL_AT(1, "a row has 1 fields but the header has 2"));
        CSV("a,b\n1,2,3\n", EINVAL_AT(0, "a row has 3 fields but the header has 2"));
        CSV("a,b\n1,x\"y\n", EINVAL_AT(0, "a quote inside an unquoted field"));
        CSV("a,b\n1,\"x\"y\n", EINVAL_AT(0, "text after a closing quote"));
        CSV("a,b\n1,\"x\n", EINVAL_AT(0, "a quoted field is not closed"));
        CSV("a,a\n", EINVAL_AT(0, "duplicate column \"a\" in the header"));
        CSV("a,,b\n", EINVAL_AT(0, "an empty column name in the header"));
        CSV("a,\"\"\n", EINVAL_AT(0, "an empty column name in the header"));
        CSV("\n", EINVAL_AT(0, "the body has no header row"));
        CSV("", EINVAL_AT(0, "the body has no header row"));
        CSV("a\n\xC3\x28\n", EINVAL_AT(0, "invalid UTF-8 or a NUL in a field"));
        CSV("a\n\"\xE2\x82\xAC\xF0\x9F\x98\x80\"\n", "0: a=x(\xE2\x82\xAC\xF0\x9F\x98\x80)\nok 1");
        CSV("a\n1\n2\n\"3\n", "0: a=x(1)\n1: a=x(2)\n" EINVAL_AT(2, "a quoted field is not closed"));
}

static void test_csv_nul_refused(void)
{
        static const char body[] = "a\nx\0y\n";
        char *got = read_body(BODY_FORMAT_CSV, body, sizeof(body) - 1, 1, BIG, 10, -1);

        ASSERT_EQ_STR(got, EINVAL_AT(0, "invalid UTF-8 or a NUL in a field"));
        free(got);
}

static void test_bom_skipped(void)
{
        JSON("\xEF\xBB\xBF[{\"a\":1}]", "0: a=#(1)\nok 1");
        NDJSON("\xEF\xBB\xBF{\"a\":1}\n", "0: a=#(1)\nok 1");
        CSV("\xEF\xBB\xBF" "a\n1\n", "0: a=x(1)\nok 1");
        /* Bytes that begin like a BOM but are not one stay in the text. */
        CSV("\xEF\xBB\x80\n1\n", "0: \xEF\xBB\x80=x(1)\nok 1");
        CSV("\xEF\xBB", EINVAL_AT(0, "invalid UTF-8 or a NUL in a field"));
        JSON("\xEF\xBB\xBF", EINVAL_AT(0, "the body is empty"));
        JSON("\xEF[]", EINVAL_AT(0, "the body is not a JSON object or array"));
        JSON("\xEF\xBB\xBF\xEF\xBB\xBF{}", EINVAL_AT(0, "the body is not a JSON object or array"));
}

static void test_limits(void)
{
        /* {"a":1} is 7 bytes. */
        check_limited(BODY_FORMAT_JSON, "[{\"a\":1},{\"a\":1}]", 7, 10, "0: a=#(1)\n1: a=#(1)\nok 2");
        check_limited(BODY_FORMAT_JSON, "[{\"a\":1},{\"a\":12}]", 7, 10,
                      "0: a=#(1)\nerror -7 row 1: a row is longer than 7 bytes");
        check_limited(BODY_FORMAT_JSON, "{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxx", 7, 10,
                      "error -7 row 0: a row is longer than 7 bytes single");
        check_limited(BODY_FORMAT_NDJSON, "{\"a\":1}\n{\"a\":12}\n", 7, 10,
                      "0: a=#(1)\nerror -7 row 1: a row is longer than 7 bytes");
        check_limited(BODY_FORMAT_NDJSON, "{\"a\":1}\n{\"a\":12}", 7, 10,
                      "0: a=#(1)\nerror -7 row 1: a row is longer than 7 bytes");
        check_limited(BODY_FORMAT_CSV, "a,b\n1,2\n12,3\n", 3, 10,
                      "0: a=x(1) b=x(2)\nerror -7 row 1: a row is longer than 3 bytes");
        check_limited(BODY_FORMAT_CSV, "abcd\n1\n", 3, 10,
                      "error -7 row 0: the header is longer than 3 bytes");
        check_limited(BODY_FORMAT_JSON, "[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2,\"c\":3}]", BIG, 2,
                      "0: a=#(1) b=#(2)\nerror -7 row 1: a row has more than 2 fields");
        check_limited(BODY_FORMAT_CSV, "a,b,c\n", BIG, 2,
                      "error -7 row 0: a row has more than 2 fields");
        check_limited(BODY_FORMAT_CSV, "a,b\n1,2,3\n", BIG, 2,
                      "error -7 row 0: a row has more than 2 fields");
}

static void test_callback_stops_the_reader(void)
{
        const char *body = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
        char *got = read_body(BODY_FORMAT_NDJSON, body, strlen(body), 0, BIG, 10, 1);

        ASSERT_EQ_STR(got, "0: a=#(1)\n1: a=#(2)\nerror -42 row 1: the row was refused");
        free(got);
}

static int count_cb(const body_row_t *row, void *data)
{
        unsigned long long *count = data;

        if (row->field_count != 3 || row->fields[2].len != 5 || row->index != *count)
                return -1;
        ++*count;
        return 0;
}

/* A long body in pieces that cut rows anywhere; every row arrives. */
static void test_many_rows_in_pieces(void)
{
        static const body_format_t formats[] = { BODY_FORMAT_NDJSON, BODY_FORMAT_JSON,
                                                 BODY_FORMAT_CSV };
        const int rows = 200000;

        for (size_t f = 0; f < 3; f++) {
                strbuf_t body = { 0 };
                unsigned long long count = 0;
                body_reader_t *r = body_reader_new(formats[f], 1024, 16);
                int rc = 0;

                if (formats[f] == BODY_FORMAT_CSV)
                        strbuf_append_str(&body, "id,n,s\n");
                if (formats[f] == BODY_FORMAT_JSON)
                        strbuf_append_char(&body, '[');
                for (int i = 0; i < rows; i++) {
                        if (formats[f] == BODY_FORMAT_CSV)
                                strbuf_appendf(&body, "%d,%d.5,hello\n", i, -i);
                        else
                                strbuf_appendf(&body, "%s{\"id\":%d,\"n\":%d.5,\"s\":\"hello\"}%s",
                                               formats[f] == BODY_FORMAT_JSON && i ? "," : "", i,
                                               -i, formats[f] == BODY_FORMAT_NDJSON ? "\n" : "");
                }
                if (formats[f] == BODY_FORMAT_JSON)
                        strbuf_append_char(&body, ']');
                for (size_t at = 0, piece = 1; at < body.len && rc == 0; at += piece, piece = piece * 7 % 4093 + 1)
                        rc = body_reader_feed(r, body.data + at, at + piece > body.len ? body.len - at : piece,
                                              count_cb, &count);
                if (rc == 0)
                        rc = body_reader_finish(r, count_cb, &count);
                ASSERT_EQ_INT(rc, 0);
                ASSERT_EQ_UINT(count, rows);
                ASSERT_EQ_UINT(body_reader_rows(r), rows);
                body_reader_free(r);
                strbuf_done(&body);
        }
}

static void test_free_null(void)
{
        body_reader_free(NULL);
        body_reader_t *r = body_reader_new(BODY_FORMAT_JSON, 10, 10);
        ASSERT_NOT_NULL(r);
        ASSERT_NULL(body_reader_error(r));
        ASSERT_FALSE(body_reader_single(r));
        body_reader_free(r);
}

int main(void)
{
        RUN_TEST(test_json_single_object);
        RUN_TEST(test_json_array);
        RUN_TEST(test_json_numbers_exact);
        RUN_TEST(test_json_escapes);
        RUN_TEST(test_json_invalid_utf8);
        RUN_TEST(test_json_duplicate_keys);
        RUN_TEST(test_json_nested_values);
        RUN_TEST(test_json_errors_name_their_row);
        RUN_TEST(test_json_truncated_at_finish);
        RUN_TEST(test_ndjson);
        RUN_TEST(test_csv);
        RUN_TEST(test_csv_nul_refused);
        RUN_TEST(test_bom_skipped);
        RUN_TEST(test_limits);
        RUN_TEST(test_callback_stops_the_reader);
        RUN_TEST(test_many_rows_in_pieces);
        RUN_TEST(test_free_null);
        return test_report();
}
