/*
 * Unit tests for strict parameter parsing: 64-bit integers with no sign
 * tricks, spaces or trailing junk, and query strings without unknown or
 * repeated names.
 */
#include <limits.h>
#include <string.h>

#include "http/query_args.h"
#include "test.h"

/* Parses a literal (its length taken from sizeof, so embedded NULs count). */
#define PARSE(lit, ret) query_args_parse_int64((lit), sizeof(lit) - 1, (ret))

static void check_int64_ok(const char *text, size_t len, long long expected, const char *file,
                           int line)
{
        long long value = 0x5A5A5A5A;

        if (!query_args_parse_int64(text, len, &value)) {
                test_fail_header(file, line);
                fprintf(stderr, "\"%.*s\" refused, expected %lld\n", (int)len, text, expected);
                return;
        }
        test_check_int(value, expected, file, line, text, "expected");
}

static void check_int64_refused(const char *text, size_t len, const char *file, int line)
{
        long long value = 0x5A5A5A5A;

        if (query_args_parse_int64(text, len, &value)) {
                test_fail_header(file, line);
                fputs("accepted ", stderr);
                test_print_bytes(text, len);
                fprintf(stderr, " as %lld\n", value);
                return;
        }
        test_pass();
}

#define ASSERT_INT64_OK(lit, expected) \
        check_int64_ok((lit), sizeof(lit) - 1, (expected), __FILE__, __LINE__)
#define ASSERT_INT64_REFUSED(lit) check_int64_refused((lit), sizeof(lit) - 1, __FILE__, __LINE__)

static void test_int64_accepted(void)
{
        ASSERT_INT64_OK("0", 0);
        ASSERT_INT64_OK("-0", 0);
        ASSERT_INT64_OK("1", 1);
        ASSERT_INT64_OK("-1", -1);
        ASSERT_INT64_OK("42", 42);
        ASSERT_INT64_OK("007", 7);
        ASSERT_INT64_OK("9223372036854775807", LLONG_MAX);
        ASSERT_INT64_OK("-9223372036854775808", LLONG_MIN);
        ASSERT_INT64_OK("9223372036854775806", LLONG_MAX - 1);
}

static void test_int64_refused(void)
{
        ASSERT_INT64_REFUSED("");
        ASSERT_INT64_REFUSED("-");
        ASSERT_INT64_REFUSED("+1");
        ASSERT_INT64_REFUSED("--1");
        ASSERT_INT64_REFUSED("-+1");
        ASSERT_INT64_REFUSED(" 1");
        ASSERT_INT64_REFUSED("1 ");
        ASSERT_INT64_REFUSED("\t1");
        ASSERT_INT64_REFUSED("1\n");
        ASSERT_INT64_REFUSED("1.5");
        ASSERT_INT64_REFUSED("1.");
        ASSERT_INT64_REFUSED("1e3");
        ASSERT_INT64_REFUSED("0x10");
        ASSERT_INT64_REFUSED("12abc");
        ASSERT_INT64_REFUSED("abc");
        ASSERT_INT64_REFUSED("1,000");
        ASSERT_INT64_REFUSED("9223372036854775808");
        ASSERT_INT64_REFUSED("-9223372036854775809");
        ASSERT_INT64_REFUSED("99999999999999999999");
        ASSERT_INT64_REFUSED("-99999999999999999999");
        ASSERT_INT64_REFUSED("123456789012345678901234567890");
        /* Embedded NULs, counted in by the length, are not digits. */
        ASSERT_INT64_REFUSED("1\0");
        ASSERT_INT64_REFUSED("1\0002");
        ASSERT_INT64_REFUSED("\0");
        ASSERT_INT64_REFUSED("-\0001");
        /* Non-ASCII digits (here U+0661 ARABIC-INDIC ONE) are not digits. */
        ASSERT_INT64_REFUSED("\xD9\xA1");
}

static void test_int64_reads_only_len_bytes(void)
{
        long long value = -5;

        /* The text needs no terminator and what follows len is ignored. */
        ASSERT_TRUE(query_args_parse_int64("12345", 3, &value));
        ASSERT_EQ_INT(value, 123);
        ASSERT_TRUE(query_args_parse_int64("-7xyz", 2, &value));
        ASSERT_EQ_INT(value, -7);
        char raw[2] = { '9', '9' };
        ASSERT_TRUE(query_args_parse_int64(raw, sizeof(raw), &value));
        ASSERT_EQ_INT(value, 99);
        ASSERT_FALSE(query_args_parse_int64("12", 0, &value));
}

static const char *const allowed[] = { "limit", "after", "fields", NULL };

static void test_check_allowed_args_pass(void)
{
        const query_arg_t args[] = {
                { "limit", "10" },
                { "after", "5" },
                { "fields", NULL },
        };
        bool repeated = true;

        ASSERT_NULL(query_args_check(args, 3, allowed, &repeated));
        ASSERT_FALSE(repeated);
        repeated = true;
        ASSERT_NULL(query_args_check(args, 0, allowed, &repeated));
        ASSERT_FALSE(repeated);
}

static void test_check_unknown_name(void)
{
        const query_arg_t args[] = {
                { "limit", "10" },
                { "bogus", "1" },
                { "after", "5" },
        };
        bool repeated = true;
        const char *offending = query_args_check(args, 3, allowed, &repeated);

        ASSERT_EQ_STR(offending, "bogus");
        ASSERT_EQ_PTR(offending, args[1].name);
        ASSERT_FALSE(repeated);

        /* Names are compared exactly: no case folding, no prefixes. */
        const query_arg_t upper[] = { { "Limit", "1" } };
        ASSERT_EQ_STR(query_args_check(upper, 1, allowed, &repeated), "Limit");
        ASSERT_FALSE(repeated);
        const query_arg_t prefix[] = { { "lim", "1" } };
        ASSERT_EQ_STR(query_args_check(prefix, 1, allowed, &repeated), "lim");
        const query_arg_t longer[] = { { "limits", "1" } };
        ASSERT_EQ_STR(query_args_check(longer, 1, allowed, &repeated), "limits");
        const query_arg_t empty[] = { { "", "1" } };
        const char *empty_name = query_args_check(empty, 1, allowed, &repeated);
        ASSERT_EQ_PTR(empty_name, empty[0].name);
        ASSERT_FALSE(repeated);
}

static void test_check_repeated_name(void)
{
        const query_arg_t args[] = {
                { "limit", "10" },
                { "after", "5" },
                { "limit", "20" },
        };
        bool repeated = false;
        const char *offending = query_args_check(args, 3, allowed, &repeated);

        ASSERT_EQ_STR(offending, "limit");
        ASSERT_TRUE(repeated);

        /* A repeated flag without a value counts too. */
        const query_arg_t flags[] = { { "fields", NULL }, { "fields", NULL } };
        repeated = false;
        ASSERT_EQ_STR(query_args_check(flags, 2, allowed, &repeated), "fields");
        ASSERT_TRUE(repeated);

        /* An unknown name repeated is reported as unknown. */
        const query_arg_t unknown[] = { { "x", "1" }, { "x", "2" } };
        repeated = true;
        ASSERT_EQ_STR(query_args_check(unknown, 2, allowed, &repeated), "x");
        ASSERT_FALSE(repeated);
}

static void test_get(void)
{
        const query_arg_t args[] = {
                { "limit", "10" },
                { "fields", NULL },
                { "after", "" },
        };

        ASSERT_EQ_STR(query_args_get(args, 3, "limit"), "10");
        ASSERT_EQ_PTR(query_args_get(args, 3, "limit"), args[0].value);
        ASSERT_EQ_STR(query_args_get(args, 3, "after"), "");
        ASSERT_NULL(query_args_get(args, 3, "fields"));
        ASSERT_NULL(query_args_get(args, 3, "missing"));
        ASSERT_NULL(query_args_get(args, 3, "Limit"));
        ASSERT_NULL(query_args_get(args, 0, "limit"));
}

static void check_unescape(const char *input, const char *expected, size_t expected_len,
                           int line)
{
        char text[64];

        snprintf(text, sizeof(text), "%s", input);
        size_t len = query_args_unescape(text);
        if (len == expected_len && memcmp(text, expected, len) == 0 && text[len] == '\0') {
                test_pass();
                return;
        }
        test_fail_header(__FILE__, line);
        fprintf(stderr, "unescape(\"%s\") gave ", input);
        test_print_bytes(text, len);
        fputc('\n', stderr);
}

#define ASSERT_UNESCAPES(input, expected) \
        check_unescape((input), (expected), sizeof(expected) - 1, __LINE__)

static void test_unescape(void)
{
        ASSERT_UNESCAPES("a%20b%2Fc%2fd", "a b/c/d");
        ASSERT_UNESCAPES("100%", "100%");
        ASSERT_UNESCAPES("%zz%4", "%zz%4");
        ASSERT_UNESCAPES("%2500", "%00");          /* a literal percent sign, then 00 */
        ASSERT_UNESCAPES("%00", "\xC0\x80");     /* NUL: invalid UTF-8, never "%00" */
        ASSERT_UNESCAPES("1%00junk", "1\xC0\x80junk");
        ASSERT_UNESCAPES("%C3%A9", "\xC3\xA9");
        ASSERT_UNESCAPES("", "");
}

static void test_escapes_valid(void)
{
        static const char *const valid[] = { "", "abc", "%41", "a%2Fb", "%c3%A9", "%00", "%25zz" };
        static const char *const invalid[] = { "%", "100%", "%zz", "%4", "%4g", "a%%20",
                                               "%2", "x%G0" };

        for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
                ASSERT_TRUE(query_args_escapes_valid(valid[i], strlen(valid[i])));
        for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
                ASSERT_FALSE(query_args_escapes_valid(invalid[i], strlen(invalid[i])));
        /* Only len bytes count: an escape cut at the end is invalid. */
        ASSERT_FALSE(query_args_escapes_valid("%41", 2));
        ASSERT_TRUE(query_args_escapes_valid("a%41", 1));
}

static void test_decode_reads_only_len_bytes(void)
{
        char out[16];

        ASSERT_EQ_UINT(query_args_decode("a%2Fb%41", 5, out), 3);
        ASSERT_EQ_STR(out, "a/b");
        ASSERT_EQ_UINT(query_args_decode("%4142", 4, out), 2);
        ASSERT_EQ_STR(out, "A4");
        ASSERT_EQ_UINT(query_args_decode("x%41", 3, out), 3); /* a cut escape stays as is */
        ASSERT_EQ_STR(out, "x%4");
}

static void test_decoded_equals(void)
{
        ASSERT_TRUE(query_args_decoded_equals("caf%C3%A9", 9, "caf\xC3\xA9", 5));
        ASSERT_TRUE(query_args_decoded_equals("order%20items", 13, "order items", 11));
        ASSERT_TRUE(query_args_decoded_equals("users", 5, "users", 5));
        ASSERT_TRUE(query_args_decoded_equals("", 0, "", 0));
        ASSERT_FALSE(query_args_decoded_equals("users", 5, "user", 4));
        ASSERT_FALSE(query_args_decoded_equals("user", 4, "users", 5));
        ASSERT_FALSE(query_args_decoded_equals("a%2Fb", 5, "a", 1));
        ASSERT_FALSE(query_args_decoded_equals("%00", 3, "\xC0\x80", 2));
        ASSERT_TRUE(query_args_decoded_equals("100%", 4, "100%", 4)); /* malformed: as is */
        ASSERT_TRUE(query_args_decoded_equals("100%25", 6, "100%", 4));
}

int main(void)
{
        RUN_TEST(test_unescape);
        RUN_TEST(test_escapes_valid);
        RUN_TEST(test_decode_reads_only_len_bytes);
        RUN_TEST(test_decoded_equals);
        RUN_TEST(test_int64_accepted);
        RUN_TEST(test_int64_refused);
        RUN_TEST(test_int64_reads_only_len_bytes);
        RUN_TEST(test_check_allowed_args_pass);
        RUN_TEST(test_check_unknown_name);
        RUN_TEST(test_check_repeated_name);
        RUN_TEST(test_get);
        return test_report();
}
