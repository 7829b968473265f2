/*
 * Unit tests for request values -> bound parameters: every type's accepted
 * and refused spellings at their edges, the bind each one makes (type,
 * value, length), and the reason phrases a client reads.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"
#include "sql/typed_value.h"
#include "test.h"

static scope_t *scope;

/* Parses text, expecting success, into *bind; a check-only call must agree. */
static bool parse_ok(const api_rule_t *rule, const char *text, size_t len, MYSQL_BIND *bind,
                     const char *file, int line)
{
        char reason[256] = "";

        memset(bind, 0x5A, sizeof(*bind)); /* it must be zeroed by the call */
        int r = typed_value_parse(rule, text, len, scope, bind, reason, sizeof(reason));
        int check_only = typed_value_parse(rule, text, len, NULL, NULL, reason, sizeof(reason));
        if (r != 0 || check_only != 0) {
                test_fail_header(file, line);
                test_print_bytes(text, len);
                fprintf(stderr, " refused (%d, check only %d): %s\n", r, check_only, reason);
                return false;
        }
        if (bind->is_null != NULL || bind->buffer == NULL || bind->error != NULL) {
                test_fail_header(file, line);
                fputs("the bind is not zeroed, or has no buffer\n", stderr);
                return false;
        }
        test_pass();
        return true;
}

/* Parses text, expecting -EINVAL with exactly that reason, with and without a bind. */
static void check_refused(const api_rule_t *rule, const char *text, size_t len, const char *why,
                          const char *file, int line)
{
        char reason[256] = "";
        char check_reason[256] = "";
        MYSQL_BIND bind;

        int r = typed_value_parse(rule, text, len, scope, &bind, reason, sizeof(reason));
        int check_only = typed_value_parse(rule, text, len, NULL, NULL, check_reason,
                                           sizeof(check_reason));
        if (r != -EINVAL || check_only != -EINVAL) {
                test_fail_header(file, line);
                test_print_bytes(text, len);
                fprintf(stderr, " gave %d (check only %d), expected -EINVAL\n", r, check_only);
                return;
        }
        test_check_str(reason, why, file, line, "reason", why);
        test_check_str(check_reason, why, file, line, "check-only reason", why);
}

/* The literal's length from sizeof, so embedded NULs count. */
#define OK(rule, lit, bind) parse_ok((rule), (lit), sizeof(lit) - 1, (bind), __FILE__, __LINE__)
#define REFUSED(rule, lit, why) \
        check_refused((rule), (lit), sizeof(lit) - 1, (why), __FILE__, __LINE__)

/* ---- INT ---- */

static const api_rule_t int_rule = { .type = API_TYPE_INT };
static const api_rule_t uint_rule = { .type = API_TYPE_INT, .is_unsigned = true };

static void check_int(const api_rule_t *rule, const char *text, size_t len, long long expected,
                      const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_LONGLONG, file, line, "buffer_type",
                       "MYSQL_TYPE_LONGLONG");
        test_check_int(b.is_unsigned, 0, file, line, "is_unsigned", "0");
        test_check_int(*(long long *)b.buffer, expected, file, line, text, "expected");
}

static void check_uint(const api_rule_t *rule, const char *text, size_t len,
                       unsigned long long expected, const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_LONGLONG, file, line, "buffer_type",
                       "MYSQL_TYPE_LONGLONG");
        test_check_int(b.is_unsigned, 1, file, line, "is_unsigned", "1");
        test_check_uint(*(unsigned long long *)b.buffer, expected, file, line, text, "expected");
}

#define INT_IS(rule, lit, v) check_int((rule), (lit), sizeof(lit) - 1, (v), __FILE__, __LINE__)
#define UINT_IS(rule, lit, v) check_uint((rule), (lit), sizeof(lit) - 1, (v), __FILE__, __LINE__)

static void test_int_accepted(void)
{
        INT_IS(&int_rule, "0", 0);
        INT_IS(&int_rule, "-0", 0);
        INT_IS(&int_rule, "1", 1);
        INT_IS(&int_rule, "-1", -1);
        INT_IS(&int_rule, "007", 7);
        INT_IS(&int_rule, "-007", -7);
        /* Leading zeros never overflow, however many. */
        INT_IS(&int_rule, "0000000000000000000000000000000042", 42);
        INT_IS(&int_rule, "9223372036854775807", INT64_MAX);
        INT_IS(&int_rule, "-9223372036854775808", INT64_MIN);
        INT_IS(&int_rule, "-9223372036854775807", INT64_MIN + 1);
}

static void test_int_refused(void)
{
        const char *no = "is not an integer";

        REFUSED(&int_rule, "", no);
        REFUSED(&int_rule, "-", no);
        REFUSED(&int_rule, "+1", no);
        REFUSED(&int_rule, "--1", no);
        REFUSED(&int_rule, " 1", no);
        REFUSED(&int_rule, "1 ", no);
        REFUSED(&int_rule, "1\n", no);
        REFUSED(&int_rule, "1e3", no);
        REFUSED(&int_rule, "1.0", no);
        REFUSED(&int_rule, "1.", no);
        REFUSED(&int_rule, "0x10", no);
        REFUSED(&int_rule, "12abc", no);
        REFUSED(&int_rule, "1,000", no);
        REFUSED(&int_rule, "1_000", no);
        REFUSED(&int_rule, "1\0", no);
        REFUSED(&int_rule, "\0001", no);
        REFUSED(&int_rule, "\xD9\xA1", no); /* U+0661 ARABIC-INDIC DIGIT ONE */
        REFUSED(&int_rule, "\xEF\xBC\x91", no); /* U+FF11 FULLWIDTH DIGIT ONE */
        REFUSED(&int_rule, "9223372036854775808", "is out of range for a 64-bit integer");
        REFUSED(&int_rule, "-9223372036854775809", "is out of range for a 64-bit integer");
        REFUSED(&int_rule, "18446744073709551616", "is out of range for a 64-bit integer");
        REFUSED(&int_rule, "99999999999999999999999999", "is out of range for a 64-bit integer");
}

static void test_uint(void)
{
        UINT_IS(&uint_rule, "0", 0);
        UINT_IS(&uint_rule, "9223372036854775808", 9223372036854775808ull);
        UINT_IS(&uint_rule, "18446744073709551615", UINT64_MAX);
        UINT_IS(&uint_rule, "00018446744073709551615", UINT64_MAX);
        REFUSED(&uint_rule, "18446744073709551616",
                "is out of range for an unsigned 64-bit integer");
        REFUSED(&uint_rule, "-1", "is not an unsigned integer");
        REFUSED(&uint_rule, "-0", "is not an unsigned integer");
        REFUSED(&uint_rule, "+1", "is not an integer");
        REFUSED(&uint_rule, "x", "is not an integer");
}

static void test_int_bounds(void)
{
        const api_rule_t percent = { .type = API_TYPE_INT, .has_min = true, .min = 1,
                                     .has_max = true, .max = 100 };
        const api_rule_t negative = { .type = API_TYPE_INT, .has_min = true, .min = -10,
                                      .has_max = true, .max = -5 };
        const api_rule_t big = { .type = API_TYPE_INT, .is_unsigned = true, .has_max = true,
                                 .max = 9007199254740992.0 };
        const api_rule_t huge_min = { .type = API_TYPE_INT, .has_min = true,
                                      .min = -9007199254740992.0 };

        INT_IS(&percent, "1", 1);
        INT_IS(&percent, "100", 100);
        INT_IS(&percent, "0050", 50);
        REFUSED(&percent, "0", "is below the minimum 1");
        REFUSED(&percent, "-0", "is below the minimum 1");
        REFUSED(&percent, "-9223372036854775808", "is below the minimum 1");
        REFUSED(&percent, "101", "is above the maximum 100");
        REFUSED(&percent, "9223372036854775807", "is above the maximum 100");
        /* Syntax is checked before the bounds. */
        REFUSED(&percent, "1000000000000000000000", "is out of range for a 64-bit integer");

        INT_IS(&negative, "-10", -10);
        INT_IS(&negative, "-5", -5);
        REFUSED(&negative, "-11", "is below the minimum -10");
        REFUSED(&negative, "-4", "is above the maximum -5");
        REFUSED(&negative, "0", "is above the maximum -5");
        REFUSED(&negative, "5", "is above the maximum -5");

        /* Bounds at 2^53 compare exactly, with no rounding through double. */
        UINT_IS(&big, "9007199254740992", 9007199254740992ull);
        REFUSED(&big, "9007199254740993", "is above the maximum 9007199254740992");
        REFUSED(&big, "18446744073709551615", "is above the maximum 9007199254740992");
        INT_IS(&huge_min, "-9007199254740992", -9007199254740992ll);
        REFUSED(&huge_min, "-9007199254740993", "is below the minimum -9007199254740992");
}

/* ---- NUMBER ---- */

static const api_rule_t number_rule = { .type = API_TYPE_NUMBER };
static const api_rule_t float_rule = { .type = API_TYPE_NUMBER, .is_float = true };

static void check_double(const api_rule_t *rule, const char *text, size_t len, double expected,
                         const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_DOUBLE, file, line, "buffer_type",
                       "MYSQL_TYPE_DOUBLE");
        double value = *(double *)b.buffer;
        test_check(memcmp(&value, &expected, sizeof(value)) == 0, file, line,
                   "the bound double has the expected bits");
}

static void check_float(const api_rule_t *rule, const char *text, size_t len, float expected,
                        const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_FLOAT, file, line, "buffer_type",
                       "MYSQL_TYPE_FLOAT");
        test_check_uint(b.buffer_length, sizeof(float), file, line, "buffer_length",
                        "sizeof(float)");
        float value = *(float *)b.buffer;
        test_check(memcmp(&value, &expected, sizeof(value)) == 0, file, line,
                   "the bound float has the expected bits");
}

#define DOUBLE_IS(rule, lit, v) \
        check_double((rule), (lit), sizeof(lit) - 1, (v), __FILE__, __LINE__)
#define FLOAT_IS(rule, lit, v) check_float((rule), (lit), sizeof(lit) - 1, (v), __FILE__, __LINE__)

static void test_number_accepted(void)
{
        DOUBLE_IS(&number_rule, "0", 0.0);
        DOUBLE_IS(&number_rule, "-0", -0.0);
        DOUBLE_IS(&number_rule, "-0.0", -0.0);
        DOUBLE_IS(&number_rule, "42", 42.0);
        DOUBLE_IS(&number_rule, "1.5", 1.5);
        DOUBLE_IS(&number_rule, "-2.25", -2.25);
        DOUBLE_IS(&number_rule, ".5", 0.5);
        DOUBLE_IS(&number_rule, "5.", 5.0);
        DOUBLE_IS(&number_rule, "007.50", 7.5);
        DOUBLE_IS(&number_rule, "1e3", 1000.0);
        DOUBLE_IS(&number_rule, "1E3", 1000.0);
        DOUBLE_IS(&number_rule, "1e+3", 1000.0);
        DOUBLE_IS(&number_rule, "25e-2", 0.25);
        DOUBLE_IS(&number_rule, "0.1", 0.1);
        DOUBLE_IS(&number_rule, "1.7976931348623157e308", 1.7976931348623157e308);
        DOUBLE_IS(&number_rule, "-1.7976931348623157e308", -1.7976931348623157e308);
        DOUBLE_IS(&number_rule, "4.9e-324", 4.9e-324);
        /* Too small to hold rounds to zero rather than being refused: near enough. */
        DOUBLE_IS(&number_rule, "1e-400", 0.0);
        DOUBLE_IS(&number_rule, "9007199254740993", 9007199254740992.0);
}

static void test_number_refused(void)
{
        const char *no = "is not a number";

        REFUSED(&number_rule, "", no);
        REFUSED(&number_rule, "-", no);
        REFUSED(&number_rule, ".", no);
        REFUSED(&number_rule, "-.", no);
        REFUSED(&number_rule, "+1", no);
        REFUSED(&number_rule, " 1", no);
        REFUSED(&number_rule, "1 ", no);
        REFUSED(&number_rule, "\t1", no);
        REFUSED(&number_rule, "nan", no);
        REFUSED(&number_rule, "NaN", no);
        REFUSED(&number_rule, "-nan", no);
        REFUSED(&number_rule, "inf", no);
        REFUSED(&number_rule, "-inf", no);
        REFUSED(&number_rule, "Infinity", no);
        REFUSED(&number_rule, "0x10", no);
        REFUSED(&number_rule, "0x1p3", no);
        REFUSED(&number_rule, "e5", no);
        REFUSED(&number_rule, "1e", no);
        REFUSED(&number_rule, "1e+", no);
        REFUSED(&number_rule, "1e1.5", no);
        REFUSED(&number_rule, "1.2.3", no);
        REFUSED(&number_rule, "1,5", no);
        REFUSED(&number_rule, "1\0", no);
        REFUSED(&number_rule, "1f", no);
        REFUSED(&number_rule, "1e999", "is out of range");
        REFUSED(&number_rule, "-1e999", "is out of range");
        REFUSED(&number_rule, "1.8e308", "is out of range");
}

static void test_float(void)
{
        const api_rule_t float_max = { .type = API_TYPE_NUMBER, .is_float = true,
                                       .has_max = true, .max = 0.1 };

        FLOAT_IS(&float_rule, "1.5", 1.5f);
        FLOAT_IS(&float_rule, "0.1", 0.1f);
        FLOAT_IS(&float_rule, "-0", -0.0f);
        FLOAT_IS(&float_rule, "3.4028234e38", 3.4028234e38f);
        FLOAT_IS(&float_rule, "-3.4028234e38", -3.4028234e38f);
        /* Rounded from the text once. Through a double this would land exactly
         * halfway between two floats (1 + 3 * 2^-24) and round up to even;
         * the text is just below halfway, so the float below is right. */
        FLOAT_IS(&float_rule, "1.00000017881393432617187499", 1.00000011920928955078125f);
        REFUSED(&float_rule, "3.5e38", "is out of range for a float");
        REFUSED(&float_rule, "-1e39", "is out of range for a float");
        REFUSED(&float_rule, "1e999", "is out of range");
        REFUSED(&float_rule, "nan", "is not a number");
        /* Bounds apply to the number the client wrote, not its float: 0.1f is
         * slightly above 0.1, and max 0.1 still admits 0.1. */
        FLOAT_IS(&float_max, "0.1", 0.1f);
        REFUSED(&float_max, "0.10000001", "is above the maximum 0.1");
}

static void test_number_bounds(void)
{
        const api_rule_t range = { .type = API_TYPE_NUMBER, .has_min = true, .min = 0,
                                   .has_max = true, .max = 1.5 };
        const api_rule_t tenth = { .type = API_TYPE_NUMBER, .has_min = true, .min = 0.1,
                                   .has_max = true, .max = 1234567.25 };

        DOUBLE_IS(&range, "0", 0.0);
        DOUBLE_IS(&range, "-0", -0.0);
        DOUBLE_IS(&range, "1.5", 1.5);
        REFUSED(&range, "-0.0001", "is below the minimum 0");
        REFUSED(&range, "1.50001", "is above the maximum 1.5");
        REFUSED(&range, "1e300", "is above the maximum 1.5");
        /* Bounds are written with the fewest digits that read back. */
        REFUSED(&tenth, "0.09", "is below the minimum 0.1");
        REFUSED(&tenth, "2e6", "is above the maximum 1234567.25");
}

/* ---- DECIMAL ---- */

static const api_rule_t decimal_rule = { .type = API_TYPE_DECIMAL };

static void check_decimal(const char *text, const char *file, int line)
{
        MYSQL_BIND b;
        size_t len = strlen(text);

        if (!parse_ok(&decimal_rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_NEWDECIMAL, file, line, "buffer_type",
                       "MYSQL_TYPE_NEWDECIMAL");
        test_check(b.length != NULL && *b.length == len, file, line, "*length is the text's");
        test_check_mem(b.buffer, b.buffer_length, text, len, file, line, "buffer", text);
        test_check(b.buffer != text, file, line, "the buffer is a copy");
}

#define DECIMAL_OK(text) check_decimal((text), __FILE__, __LINE__)

static void test_decimal(void)
{
        const char *no = "is not a decimal number";

        DECIMAL_OK("0");
        DECIMAL_OK("-0");
        DECIMAL_OK("007");
        DECIMAL_OK("123.456");
        DECIMAL_OK("-1.50");
        DECIMAL_OK("0.000000000000000000000000000001");
        /* 65 digits, the widest DECIMAL; 66 is one too many. */
        DECIMAL_OK("12345678901234567890123456789012345678901234567890123456789012345");
        DECIMAL_OK("-1234567890123456789012345678901234.5678901234567890123456789012345");
        REFUSED(&decimal_rule,
                "123456789012345678901234567890123456789012345678901234567890123456",
                "has more than 65 digits");
        REFUSED(&decimal_rule,
                "1234567890123456789012345678901234.56789012345678901234567890123456",
                "has more than 65 digits");
        REFUSED(&decimal_rule, "", no);
        REFUSED(&decimal_rule, "-", no);
        REFUSED(&decimal_rule, ".5", no);
        REFUSED(&decimal_rule, "5.", no);
        REFUSED(&decimal_rule, "-.5", no);
        REFUSED(&decimal_rule, "+1", no);
        REFUSED(&decimal_rule, " 1", no);
        REFUSED(&decimal_rule, "1 ", no);
        REFUSED(&decimal_rule, "1e3", no);
        REFUSED(&decimal_rule, "1.2.3", no);
        REFUSED(&decimal_rule, "1,5", no);
        REFUSED(&decimal_rule, "nan", no);
        REFUSED(&decimal_rule, "1\0", no);
        REFUSED(&decimal_rule, "\xEF\xBC\x90", no); /* U+FF10 FULLWIDTH DIGIT ZERO */
}

/* ---- STRING ---- */

static const api_rule_t string_rule = { .type = API_TYPE_STRING };

static void check_bytes_bound(const api_rule_t *rule, const char *text, size_t len,
                              enum enum_field_types type, const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, len, &b, file, line))
                return;
        test_check_int(b.buffer_type, type, file, line, "buffer_type", "expected type");
        test_check(b.length != NULL && *b.length == len, file, line, "*length is the text's");
        test_check_mem(b.buffer, b.buffer_length, text, len, file, line, "buffer", "text");
        test_check(b.buffer != text, file, line, "the buffer is a copy");
}

#define STRING_OK(rule, lit) \
        check_bytes_bound((rule), (lit), sizeof(lit) - 1, MYSQL_TYPE_STRING, __FILE__, __LINE__)

static void test_string_accepted(void)
{
        const api_rule_t three = { .type = API_TYPE_STRING, .max_length = 3 };

        STRING_OK(&string_rule, "");
        STRING_OK(&string_rule, "abc");
        STRING_OK(&string_rule, "h\xC3\xA9llo");
        STRING_OK(&string_rule, "\xF0\x9F\x98\x80"); /* U+1F600 */
        STRING_OK(&string_rule, "\xEF\xBF\xBF");     /* U+FFFF */
        STRING_OK(&string_rule, "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
        STRING_OK(&string_rule, "\xED\x9F\xBF");     /* U+D7FF, just below the surrogates */
        STRING_OK(&string_rule, "\x01\x1F\x7F");     /* controls other than NUL are text */
        /* Hostile text is a value like any other: it is bound, never pasted. */
        STRING_OK(&string_rule, "'; DROP TABLE users; --");
        STRING_OK(&string_rule, "`x` /* */ # \\ \" ' %_*");
        /* max_length counts characters, not bytes: three of 3 bytes each. */
        STRING_OK(&three, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
        STRING_OK(&three, "a\xF0\x9F\x98\x80z");
        STRING_OK(&three, "");

        /* The empty string still has a buffer: a NULL one would send SQL NULL. */
        MYSQL_BIND b;
        if (OK(&string_rule, "", &b)) {
                ASSERT_NOT_NULL(b.buffer);
                ASSERT_EQ_UINT(*b.length, 0);
        }
}

static void test_string_refused(void)
{
        const api_rule_t three = { .type = API_TYPE_STRING, .max_length = 3 };
        const char *bad = "is not valid UTF-8";

        REFUSED(&three, "abcd", "is longer than 3 characters");
        REFUSED(&three, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E!", "is longer than 3 characters");
        REFUSED(&string_rule, "a\0b", "contains a NUL byte");
        REFUSED(&string_rule, "\0", "contains a NUL byte");
        REFUSED(&string_rule, "\xC0\xAF", bad);             /* overlong '/' */
        REFUSED(&string_rule, "\xC1\xBF", bad);             /* overlong */
        REFUSED(&string_rule, "\xE0\x80\xAF", bad);         /* overlong, 3 bytes */
        REFUSED(&string_rule, "\xF0\x80\x80\xAF", bad);     /* overlong, 4 bytes */
        REFUSED(&string_rule, "\xC0\x80", bad);             /* overlong NUL */
        REFUSED(&string_rule, "\xED\xA0\x80", bad);         /* U+D800, a surrogate */
        REFUSED(&string_rule, "\xED\xBF\xBF", bad);         /* U+DFFF */
        REFUSED(&string_rule, "\xF4\x90\x80\x80", bad);     /* U+110000 */
        REFUSED(&string_rule, "\xF5\x80\x80\x80", bad);
        REFUSED(&string_rule, "\xFF", bad);
        REFUSED(&string_rule, "\xFE", bad);
        REFUSED(&string_rule, "\x80", bad);                 /* a lone continuation byte */
        REFUSED(&string_rule, "abc\xE6\x97", bad);          /* cut short at the end */
        REFUSED(&string_rule, "\xE6\x97z", bad);            /* cut short in the middle */
        REFUSED(&string_rule, "caf\xE9", bad);              /* Latin-1 */
}

/* ---- BOOLEAN ---- */

static const api_rule_t boolean_rule = { .type = API_TYPE_BOOLEAN };

static void check_boolean(const char *text, int expected, const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(&boolean_rule, text, strlen(text), &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_TINY, file, line, "buffer_type",
                       "MYSQL_TYPE_TINY");
        test_check_int(*(signed char *)b.buffer, expected, file, line, text, "expected");
}

static void test_boolean(void)
{
        const char *no = "is not a boolean (true or false)";

        check_boolean("true", 1, __FILE__, __LINE__);
        check_boolean("1", 1, __FILE__, __LINE__);
        check_boolean("false", 0, __FILE__, __LINE__);
        check_boolean("0", 0, __FILE__, __LINE__);
        REFUSED(&boolean_rule, "", no);
        REFUSED(&boolean_rule, "TRUE", no);
        REFUSED(&boolean_rule, "True", no);
        REFUSED(&boolean_rule, "yes", no);
        REFUSED(&boolean_rule, "t", no);
        REFUSED(&boolean_rule, "2", no);
        REFUSED(&boolean_rule, "-1", no);
        REFUSED(&boolean_rule, "01", no);
        REFUSED(&boolean_rule, " true", no);
        REFUSED(&boolean_rule, "true ", no);
        REFUSED(&boolean_rule, "true\0", no);
        REFUSED(&boolean_rule, "truex", no);
}

/* ---- DATE, DATETIME, TIME ---- */

static const api_rule_t date_rule = { .type = API_TYPE_DATE };
static const api_rule_t datetime_rule = { .type = API_TYPE_DATETIME };
static const api_rule_t time_rule = { .type = API_TYPE_TIME };

/* The MYSQL_TIME a temporal value was bound as, or NULL (already reported). */
static const MYSQL_TIME *bound_time(const api_rule_t *rule, const char *text,
                                    enum enum_field_types type, const char *file, int line)
{
        static MYSQL_BIND b;

        if (!parse_ok(rule, text, strlen(text), &b, file, line))
                return NULL;
        test_check_int(b.buffer_type, type, file, line, "buffer_type", "expected type");
        test_check_uint(b.buffer_length, sizeof(MYSQL_TIME), file, line, "buffer_length",
                        "sizeof(MYSQL_TIME)");
        return b.buffer;
}

static void check_date(const char *text, unsigned y, unsigned m, unsigned d, const char *file,
                       int line)
{
        const MYSQL_TIME *t = bound_time(&date_rule, text, MYSQL_TYPE_DATE, file, line);

        if (t == NULL)
                return;
        test_check(t->year == y && t->month == m && t->day == d, file, line, "the date's fields");
        test_check(t->hour == 0 && t->minute == 0 && t->second == 0 && t->second_part == 0 &&
                           !t->neg,
                   file, line, "no time of day");
        test_check_int(t->time_type, MYSQL_TIMESTAMP_DATE, file, line, "time_type",
                       "MYSQL_TIMESTAMP_DATE");
}

#define DATE_IS(text, y, m, d) check_date((text), (y), (m), (d), __FILE__, __LINE__)

static void test_date(void)
{
        const char *no = "is not a valid date (YYYY-MM-DD)";

        DATE_IS("2024-05-17", 2024, 5, 17);
        DATE_IS("1000-01-01", 1000, 1, 1);
        DATE_IS("9999-12-31", 9999, 12, 31);
        DATE_IS("2024-02-29", 2024, 2, 29); /* leap year */
        DATE_IS("2000-02-29", 2000, 2, 29); /* divisible by 400: leap */
        DATE_IS("2023-12-31", 2023, 12, 31);
        DATE_IS("2023-04-30", 2023, 4, 30);
        REFUSED(&date_rule, "2023-02-29", no);
        REFUSED(&date_rule, "1900-02-29", no); /* divisible by 100: not leap */
        REFUSED(&date_rule, "2024-02-30", no);
        REFUSED(&date_rule, "2023-04-31", no);
        REFUSED(&date_rule, "2023-01-32", no);
        REFUSED(&date_rule, "2023-13-01", no);
        REFUSED(&date_rule, "2023-00-01", no);
        REFUSED(&date_rule, "2023-01-00", no);
        DATE_IS("0999-12-31", 999, 12, 31);
        DATE_IS("0000-00-00", 0, 0, 0);
        REFUSED(&date_rule, "0000-01-00", no);
        REFUSED(&date_rule, "10000-01-01", no);
        REFUSED(&date_rule, "2023-1-01", no);
        REFUSED(&date_rule, "2023-01-1", no);
        REFUSED(&date_rule, "23-01-01", no);
        REFUSED(&date_rule, "2023/01/01", no);
        REFUSED(&date_rule, "20230101", no);
        REFUSED(&date_rule, "2023-01-01 ", no);
        REFUSED(&date_rule, " 2023-01-01", no);
        REFUSED(&date_rule, "2023-01-01T00:00:00", no);
        REFUSED(&date_rule, "2023-01-01\0", no);
        REFUSED(&date_rule, "+023-01-01", no);
        REFUSED(&date_rule, "-023-01-01", no);
        REFUSED(&date_rule, "", no);
}

static void check_datetime(const char *text, unsigned y, unsigned mo, unsigned d, unsigned h,
                           unsigned mi, unsigned s, unsigned long us, const char *file, int line)
{
        const MYSQL_TIME *t = bound_time(&datetime_rule, text, MYSQL_TYPE_DATETIME, file, line);

        if (t == NULL)
                return;
        test_check(t->year == y && t->month == mo && t->day == d, file, line, "the date's fields");
        test_check(t->hour == h && t->minute == mi && t->second == s, file, line,
                   "the time's fields");
        test_check_uint(t->second_part, us, file, line, "second_part", "expected");
        test_check(!t->neg, file, line, "not negative");
        test_check_int(t->time_type, MYSQL_TIMESTAMP_DATETIME, file, line, "time_type",
                       "MYSQL_TIMESTAMP_DATETIME");
}

#define DATETIME_IS(text, y, mo, d, h, mi, s, us) \
        check_datetime((text), (y), (mo), (d), (h), (mi), (s), (us), __FILE__, __LINE__)

static void test_datetime(void)
{
        const char *no = "is not a valid datetime (YYYY-MM-DD hh:mm:ss[.ffffff])";

        DATETIME_IS("2024-02-29T12:34:56", 2024, 2, 29, 12, 34, 56, 0);
        DATETIME_IS("2024-02-29 12:34:56", 2024, 2, 29, 12, 34, 56, 0);
        DATETIME_IS("1000-01-01 00:00:00", 1000, 1, 1, 0, 0, 0, 0);
        DATETIME_IS("9999-12-31T23:59:59.999999", 9999, 12, 31, 23, 59, 59, 999999);
        DATETIME_IS("2024-01-01T00:00:00.5", 2024, 1, 1, 0, 0, 0, 500000);
        DATETIME_IS("2024-01-01T00:00:00.000001", 2024, 1, 1, 0, 0, 0, 1);
        DATETIME_IS("2024-01-01T00:00:00.120", 2024, 1, 1, 0, 0, 0, 120000);
        DATETIME_IS("2024-01-01T00:00:00.000000", 2024, 1, 1, 0, 0, 0, 0);
        REFUSED(&datetime_rule, "2024-01-01T00:00:00.1234567", no); /* 7 fraction digits */
        REFUSED(&datetime_rule, "2024-01-01T00:00:00.", no);
        REFUSED(&datetime_rule, "2024-01-01T00:00:00,5", no);
        REFUSED(&datetime_rule, "2024-01-01T00:00:00.5x", no);
        REFUSED(&datetime_rule, "2024-01-01T24:00:00", no);
        REFUSED(&datetime_rule, "2024-01-01T23:60:00", no);
        REFUSED(&datetime_rule, "2024-01-01T23:59:60", no);
        REFUSED(&datetime_rule, "2024-01-01T1:00:00", no);
        REFUSED(&datetime_rule, "2024-01-01T12:34", no);
        REFUSED(&datetime_rule, "2024-01-01T12:34:56Z", no);
        REFUSED(&datetime_rule, "2024-01-01T12:34:56+02:00", no);
        REFUSED(&datetime_rule, "2024-01-01t12:34:56", no);
        REFUSED(&datetime_rule, "2024-01-01_12:34:56", no);
        REFUSED(&datetime_rule, "2024-01-01  12:34:56", no);
        REFUSED(&datetime_rule, "2024-01-01", no);
        REFUSED(&datetime_rule, "2023-02-29T00:00:00", no);
        DATETIME_IS("0999-12-31T23:59:59", 999, 12, 31, 23, 59, 59, 0);
        REFUSED(&datetime_rule, "2024-01-01T12:34:56\0", no);
        REFUSED(&datetime_rule, "", no);
}

static void check_time(const char *text, bool neg, unsigned day, unsigned h, unsigned mi,
                       unsigned s, unsigned long us, const char *file, int line)
{
        const MYSQL_TIME *t = bound_time(&time_rule, text, MYSQL_TYPE_TIME, file, line);

        if (t == NULL)
                return;
        test_check_int(t->neg, neg, file, line, "neg", "expected");
        /* Hours past a day are carried as days: the protocol's hour is one byte. */
        test_check_uint(t->day, day, file, line, "day", "expected");
        test_check_uint(t->hour, h, file, line, "hour", "expected");
        test_check(t->minute == mi && t->second == s, file, line, "minutes and seconds");
        test_check_uint(t->second_part, us, file, line, "second_part", "expected");
        test_check(t->year == 0 && t->month == 0, file, line, "no date");
        test_check_int(t->time_type, MYSQL_TIMESTAMP_TIME, file, line, "time_type",
                       "MYSQL_TIMESTAMP_TIME");
}

#define TIME_IS(text, neg, day, h, mi, s, us) \
        check_time((text), (neg), (day), (h), (mi), (s), (us), __FILE__, __LINE__)

static void test_time(void)
{
        const char *no = "is not a valid time ([-]hh:mm:ss[.ffffff])";

        TIME_IS("00:00:00", false, 0, 0, 0, 0, 0);
        TIME_IS("12:34:56", false, 0, 12, 34, 56, 0);
        TIME_IS("1:02:03", false, 0, 1, 2, 3, 0);
        TIME_IS("23:59:59.5", false, 0, 23, 59, 59, 500000);
        TIME_IS("24:00:00", false, 1, 0, 0, 0, 0);
        TIME_IS("100:00:00", false, 4, 4, 0, 0, 0);
        TIME_IS("838:59:59", false, 34, 22, 59, 59, 0);
        TIME_IS("-838:59:59.999999", true, 34, 22, 59, 59, 999999);
        TIME_IS("-01:30:00", true, 0, 1, 30, 0, 0);
        TIME_IS("-0:00:00.000001", true, 0, 0, 0, 0, 1);
        /* Minus zero is zero. */
        TIME_IS("-00:00:00", false, 0, 0, 0, 0, 0);
        REFUSED(&time_rule, "839:00:00", no);
        REFUSED(&time_rule, "-839:00:00", no);
        REFUSED(&time_rule, "1000:00:00", no);
        REFUSED(&time_rule, "0838:00:00", no);
        REFUSED(&time_rule, "12:60:00", no);
        REFUSED(&time_rule, "12:00:60", no);
        REFUSED(&time_rule, "12:00", no);
        REFUSED(&time_rule, "12:0:00", no);
        REFUSED(&time_rule, "12:00:0", no);
        REFUSED(&time_rule, ":00:00", no);
        REFUSED(&time_rule, "-:00:00", no);
        REFUSED(&time_rule, "12:00:00.1234567", no);
        REFUSED(&time_rule, "12:00:00.", no);
        REFUSED(&time_rule, "+12:00:00", no);
        REFUSED(&time_rule, "--12:00:00", no);
        REFUSED(&time_rule, " 12:00:00", no);
        REFUSED(&time_rule, "12:00:00 ", no);
        REFUSED(&time_rule, "1 12:00:00", no);
        REFUSED(&time_rule, "120000", no);
        REFUSED(&time_rule, "12:00:00\0", no);
        REFUSED(&time_rule, "", no);
        REFUSED(&time_rule, "-", no);
}

/* ---- ENUM ---- */

static void test_enum(void)
{
        char *colors[] = { "red", "green", "blue" };
        char *with_empty[] = { "", "x" };
        const api_rule_t color = { .type = API_TYPE_ENUM, .values = colors, .value_count = 3 };
        const api_rule_t empty = { .type = API_TYPE_ENUM, .values = with_empty, .value_count = 2 };
        const char *no = "is not one of: red, green, blue";

        STRING_OK(&color, "red");
        STRING_OK(&color, "green");
        STRING_OK(&color, "blue");
        REFUSED(&color, "Red", no);
        REFUSED(&color, "re", no);
        REFUSED(&color, "reds", no);
        REFUSED(&color, "red ", no);
        REFUSED(&color, "red\0", no);
        REFUSED(&color, "", no);
        STRING_OK(&empty, "");
        STRING_OK(&empty, "x");
        REFUSED(&empty, "y", "is not one of: , x");

        /* A long list is cut to the buffer, still terminated. */
        char reason[20];
        ASSERT_EQ_INT(typed_value_parse(&color, "pink", 4, NULL, NULL, reason, sizeof(reason)),
                      -EINVAL);
        ASSERT_EQ_STR(reason, "is not one of: red,");
}

/* ---- BINARY ---- */

static const api_rule_t binary_rule = { .type = API_TYPE_BINARY };

static void check_binary(const api_rule_t *rule, const char *text, const void *expected,
                         size_t expected_len, const char *file, int line)
{
        MYSQL_BIND b;

        if (!parse_ok(rule, text, strlen(text), &b, file, line))
                return;
        test_check_int(b.buffer_type, MYSQL_TYPE_BLOB, file, line, "buffer_type",
                       "MYSQL_TYPE_BLOB");
        test_check(b.length != NULL && *b.length == expected_len, file, line,
                   "*length is the decoded size");
        test_check_mem(b.buffer, b.buffer_length, expected, expected_len, file, line, "decoded",
                       "expected");
}

#define BINARY_IS(rule, text, lit) \
        check_binary((rule), (text), (lit), sizeof(lit) - 1, __FILE__, __LINE__)

static void test_binary_accepted(void)
{
        const api_rule_t two = { .type = API_TYPE_BINARY, .max_length = 2 };

        BINARY_IS(&binary_rule, "", "");
        BINARY_IS(&binary_rule, "QQ==", "A");
        BINARY_IS(&binary_rule, "QQ", "A");
        BINARY_IS(&binary_rule, "QUI=", "AB");
        BINARY_IS(&binary_rule, "QUI", "AB");
        BINARY_IS(&binary_rule, "QUJD", "ABC");
        BINARY_IS(&binary_rule, "QUJDRA==", "ABCD");
        BINARY_IS(&binary_rule, "AAEC", "\x00\x01\x02");
        BINARY_IS(&binary_rule, "AA==", "\x00");
        BINARY_IS(&binary_rule, "+/8=", "\xFB\xFF");
        BINARY_IS(&binary_rule, "-_8=", "\xFB\xFF"); /* the URL-safe alphabet */
        BINARY_IS(&binary_rule, "-_8", "\xFB\xFF");
        BINARY_IS(&binary_rule, "////", "\xFF\xFF\xFF");
        BINARY_IS(&binary_rule, "aGVsbG8gd29ybGQ=", "hello world");
        BINARY_IS(&two, "QUI=", "AB");
        BINARY_IS(&two, "", "");

        /* No bytes still have a buffer: a NULL one would send SQL NULL. */
        MYSQL_BIND b;
        if (OK(&binary_rule, "", &b))
                ASSERT_NOT_NULL(b.buffer);
}

static void test_binary_refused(void)
{
        const api_rule_t two = { .type = API_TYPE_BINARY, .max_length = 2 };
        const char *bad = "is not valid base64";

        REFUSED(&two, "QUJD", "is longer than 2 bytes");
        REFUSED(&two, "QUJDRA", "is longer than 2 bytes");
        REFUSED(&binary_rule, "Q", bad);
        REFUSED(&binary_rule, "Q=", bad);
        REFUSED(&binary_rule, "Q===", bad);
        REFUSED(&binary_rule, "QQ=", bad);    /* padding that does not complete the group */
        REFUSED(&binary_rule, "QQ===", bad);
        REFUSED(&binary_rule, "QUJD=", bad);  /* padding after a full group */
        REFUSED(&binary_rule, "QUJD====", bad);
        REFUSED(&binary_rule, "=", bad);
        REFUSED(&binary_rule, "==", bad);
        REFUSED(&binary_rule, "====", bad);
        REFUSED(&binary_rule, "QQ==QQ==", bad); /* padding in the middle */
        REFUSED(&binary_rule, "Q=Q=", bad);
        REFUSED(&binary_rule, "QR==", bad);   /* the unused low bits must be zero */
        REFUSED(&binary_rule, "QUJ=", bad);
        REFUSED(&binary_rule, "QR", bad);
        REFUSED(&binary_rule, " QUJD", bad);
        REFUSED(&binary_rule, "QUJD ", bad);
        REFUSED(&binary_rule, "QU JD", bad);
        REFUSED(&binary_rule, "QUJD\n", bad);
        REFUSED(&binary_rule, "QUJ*", bad);
        REFUSED(&binary_rule, "QUJ.", bad);
        REFUSED(&binary_rule, "QUJD\0", bad);
        REFUSED(&binary_rule, "\xC3\x81QUJ", bad);
}

/* ---- JSON and the calling contract ---- */

static void test_json_cannot_be_compared(void)
{
        const api_rule_t json = { .type = API_TYPE_JSON };

        REFUSED(&json, "null", "cannot be compared");
        REFUSED(&json, "{}", "cannot be compared");
        REFUSED(&json, "", "cannot be compared");
}

static void test_without_reason_buffer(void)
{
        MYSQL_BIND b;

        ASSERT_EQ_INT(typed_value_parse(&int_rule, "x", 1, scope, &b, NULL, 0), -EINVAL);
        ASSERT_EQ_INT(typed_value_parse(&int_rule, "7", 1, scope, &b, NULL, 0), 0);
        char reason[1] = { 'z' };
        ASSERT_EQ_INT(typed_value_parse(&string_rule, "\xFF", 1, NULL, NULL, reason, 0), -EINVAL);
        ASSERT_EQ_INT(reason[0], 'z');
}

static void test_reads_only_len_bytes(void)
{
        MYSQL_BIND b;

        ASSERT_EQ_INT(typed_value_parse(&int_rule, "12345", 3, scope, &b, NULL, 0), 0);
        ASSERT_EQ_INT(*(long long *)b.buffer, 123);
        ASSERT_EQ_INT(typed_value_parse(&date_rule, "2024-01-01junk", 10, scope, &b, NULL, 0), 0);
        ASSERT_EQ_INT(typed_value_parse(&string_rule, "abc\xFF", 3, scope, &b, NULL, 0), 0);
        ASSERT_EQ_MEM(b.buffer, *b.length, "abc", 3);
        ASSERT_EQ_INT(typed_value_parse(&number_rule, "1.5e3", 3, scope, &b, NULL, 0), 0);
        ASSERT_TRUE(*(double *)b.buffer == 1.5);

        /* Not terminated at all: a heap copy without a NUL, so a read past it is caught. */
        char *raw = malloc(2);
        ASSERT_NOT_NULL(raw);
        if (raw == NULL)
                return;
        memcpy(raw, "42", 2);
        ASSERT_EQ_INT(typed_value_parse(&number_rule, raw, 2, scope, &b, NULL, 0), 0);
        ASSERT_TRUE(*(double *)b.buffer == 42.0);
        ASSERT_EQ_INT(typed_value_parse(&decimal_rule, raw, 2, scope, &b, NULL, 0), 0);
        ASSERT_EQ_INT(typed_value_parse(&time_rule, raw, 2, scope, &b, NULL, 0), -EINVAL);
        free(raw);
}

/* The bind holds copies in scope memory: the request's text may go away. */
static void test_bind_outlives_text(void)
{
        char text[] = "hello";
        MYSQL_BIND b;

        ASSERT_EQ_INT(typed_value_parse(&string_rule, text, 5, scope, &b, NULL, 0), 0);
        memset(text, 'x', 5);
        ASSERT_EQ_MEM(b.buffer, *b.length, "hello", 5);
        ASSERT_EQ_INT(((const char *)b.buffer)[5], '\0');

        char number[] = "17";
        ASSERT_EQ_INT(typed_value_parse(&int_rule, number, 2, scope, &b, NULL, 0), 0);
        number[0] = '9';
        ASSERT_EQ_INT(*(long long *)b.buffer, 17);
}

int main(void)
{
        scope = scope_new();
        if (scope == NULL)
                return 1;
        RUN_TEST(test_int_accepted);
        RUN_TEST(test_int_refused);
        RUN_TEST(test_uint);
        RUN_TEST(test_int_bounds);
        RUN_TEST(test_number_accepted);
        RUN_TEST(test_number_refused);
        RUN_TEST(test_float);
        RUN_TEST(test_number_bounds);
        RUN_TEST(test_decimal);
        RUN_TEST(test_string_accepted);
        RUN_TEST(test_string_refused);
        RUN_TEST(test_boolean);
        RUN_TEST(test_date);
        RUN_TEST(test_datetime);
        RUN_TEST(test_time);
        RUN_TEST(test_enum);
        RUN_TEST(test_binary_accepted);
        RUN_TEST(test_binary_refused);
        RUN_TEST(test_json_cannot_be_compared);
        RUN_TEST(test_without_reason_buffer);
        RUN_TEST(test_reads_only_len_bytes);
        RUN_TEST(test_bind_outlives_text);
        scope_close(scope);
        ASSERT_EQ_INT(scope_live_count(), 0);
        return test_report();
}
