/*
 * Unit tests for filter text: every operator with and without "not.", values
 * that hold dots, quotes and SQL-looking text (all just values), in.(...)
 * lists with quoting and escapes, the errors a client reads, and LIKE
 * patterns built from like.* text.
 */
#include <errno.h>
#include <string.h>

#include "core/scope.h"
#include "sql/filter_expr.h"
#include "test.h"

static scope_t *scope;

static void check_parsed(const char *text, filter_op_t op, bool negated,
                         const char *const *values, size_t count, const char *file, int line)
{
        char reason[256] = "";
        filter_expr_t e;

        memset(&e, 0x5A, sizeof(e));
        int r = filter_expr_parse(text, scope, &e, reason, sizeof(reason));
        if (r != 0) {
                test_fail_header(file, line);
                fprintf(stderr, "\"%s\" refused (%d): %s\n", text, r, reason);
                return;
        }
        test_check_int(e.op, op, file, line, "op", "expected op");
        test_check_int(e.negated, negated, file, line, "negated", "expected");
        test_check_uint(e.value_count, count, file, line, "value_count", "expected count");
        for (size_t i = 0; i < count && i < e.value_count; i++) {
                test_check_mem(e.values[i], e.lengths[i], values[i], strlen(values[i]), file,
                               line, "value", "expected value");
                /* Terminated at its length, so it can also be read as a string. */
                test_check(e.values[i][e.lengths[i]] == '\0', file, line,
                           "the value is NUL-terminated");
        }
}

/* The expected values follow the operator; a list of none is not allowed
 * by the macro, so is.* has its own check. */
#define PARSED(text, op, negated, ...)                                                        \
        do {                                                                                  \
                const char *const expected_[] = { __VA_ARGS__ };                              \
                check_parsed((text), (op), (negated), expected_,                              \
                             sizeof(expected_) / sizeof(expected_[0]), __FILE__, __LINE__);   \
        } while (0)

static void check_is(const char *text, bool negated, filter_is_t is, const char *file, int line)
{
        char reason[256] = "";
        filter_expr_t e;

        int r = filter_expr_parse(text, scope, &e, reason, sizeof(reason));
        if (r != 0) {
                test_fail_header(file, line);
                fprintf(stderr, "\"%s\" refused (%d): %s\n", text, r, reason);
                return;
        }
        test_check_int(e.op, FILTER_IS, file, line, "op", "FILTER_IS");
        test_check_int(e.negated, negated, file, line, "negated", "expected");
        test_check_int(e.is, is, file, line, "is", "expected");
        /* The keyword is SQL, not a value to bind. */
        test_check_uint(e.value_count, 0, file, line, "value_count", "0");
}

#define IS_PARSED(text, negated, is) check_is((text), (negated), (is), __FILE__, __LINE__)

static void check_refused(const char *text, const char *why, const char *file, int line)
{
        char reason[256] = "";
        filter_expr_t e;

        int r = filter_expr_parse(text, scope, &e, reason, sizeof(reason));
        if (r != -EINVAL) {
                test_fail_header(file, line);
                fprintf(stderr, "\"%s\" gave %d, expected -EINVAL\n", text, r);
                return;
        }
        test_check_str(reason, why, file, line, "reason", why);
}

#define REFUSED(text, why) check_refused((text), (why), __FILE__, __LINE__)

static const char no_op[] = "expected <op>.<value>, e.g. eq.30";
#define UNKNOWN_OP(op) \
        "unknown operator '" op "' (expected eq, neq, gt, gte, lt, lte, like, in or is)"

static void test_every_operator(void)
{
        PARSED("eq.30", FILTER_EQ, false, "30");
        PARSED("neq.30", FILTER_NEQ, false, "30");
        PARSED("gt.30", FILTER_GT, false, "30");
        PARSED("gte.30", FILTER_GTE, false, "30");
        PARSED("lt.30", FILTER_LT, false, "30");
        PARSED("lte.30", FILTER_LTE, false, "30");
        PARSED("like.*son", FILTER_LIKE, false, "*son");
        PARSED("in.(1,2,3)", FILTER_IN, false, "1", "2", "3");
        IS_PARSED("is.null", false, FILTER_IS_NULL);
        IS_PARSED("is.true", false, FILTER_IS_TRUE);
        IS_PARSED("is.false", false, FILTER_IS_FALSE);
}

static void test_not(void)
{
        PARSED("not.eq.30", FILTER_EQ, true, "30");
        PARSED("not.neq.a", FILTER_NEQ, true, "a");
        PARSED("not.gt.1", FILTER_GT, true, "1");
        PARSED("not.gte.1", FILTER_GTE, true, "1");
        PARSED("not.lt.1", FILTER_LT, true, "1");
        PARSED("not.lte.1", FILTER_LTE, true, "1");
        PARSED("not.like.a*", FILTER_LIKE, true, "a*");
        PARSED("not.in.(a,b)", FILTER_IN, true, "a", "b");
        IS_PARSED("not.is.null", true, FILTER_IS_NULL);
        IS_PARSED("not.is.true", true, FILTER_IS_TRUE);
        IS_PARSED("not.is.false", true, FILTER_IS_FALSE);
        /* "not." belongs to the syntax only at the start: later it is value text. */
        PARSED("eq.not.x", FILTER_EQ, false, "not.x");
        PARSED("not.eq.not.", FILTER_EQ, true, "not.");
        REFUSED("not.not.eq.1", "'not.' may appear only once");
        REFUSED("not.not.not.eq.1", "'not.' may appear only once");
        REFUSED("not.30", no_op);
        REFUSED("not.", no_op);
        REFUSED("not", no_op);
        REFUSED("NOT.eq.1", UNKNOWN_OP("NOT"));
}

static void test_value_is_the_rest(void)
{
        /* Dots after the operator's belong to the value. */
        PARSED("eq.1.5", FILTER_EQ, false, "1.5");
        PARSED("eq.a.b.c", FILTER_EQ, false, "a.b.c");
        PARSED("eq...", FILTER_EQ, false, "..");
        PARSED("eq.eq.1", FILTER_EQ, false, "eq.1");
        PARSED("gt.2024-01-01T00:00:00.5", FILTER_GT, false, "2024-01-01T00:00:00.5");
        /* The empty string is a value like any other. */
        PARSED("eq.", FILTER_EQ, false, "");
        PARSED("neq.", FILTER_NEQ, false, "");
        PARSED("like.", FILTER_LIKE, false, "");
        PARSED("gt.", FILTER_GT, false, "");
        /* Spaces are kept: trimming is the type's business (it refuses them). */
        PARSED("eq. 1 ", FILTER_EQ, false, " 1 ");
        /* Parentheses and quotes mean something only in in.(...). */
        PARSED("eq.(1,2)", FILTER_EQ, false, "(1,2)");
        PARSED("eq.\"quoted\"", FILTER_EQ, false, "\"quoted\"");
        PARSED("like.\"a,b\"", FILTER_LIKE, false, "\"a,b\"");
        PARSED("eq.\xE6\x97\xA5\xE6\x9C\xAC", FILTER_EQ, false, "\xE6\x97\xA5\xE6\x9C\xAC");
        PARSED("eq.\xFF\xFE", FILTER_EQ, false, "\xFF\xFE"); /* bytes: UTF-8 is the type's check */
}

static void test_hostile_text_is_a_value(void)
{
        PARSED("eq.'; DROP TABLE users; --", FILTER_EQ, false, "'; DROP TABLE users; --");
        PARSED("eq.1 OR 1=1", FILTER_EQ, false, "1 OR 1=1");
        PARSED("eq.`id`", FILTER_EQ, false, "`id`");
        PARSED("eq./* comment */", FILTER_EQ, false, "/* comment */");
        PARSED("eq.# comment", FILTER_EQ, false, "# comment");
        PARSED("eq.-- x", FILTER_EQ, false, "-- x");
        PARSED("eq.;", FILTER_EQ, false, ";");
        PARSED("eq.\\", FILTER_EQ, false, "\\");
        PARSED("eq.%_", FILTER_EQ, false, "%_");
        PARSED("like.%'\\_", FILTER_LIKE, false, "%'\\_");
        PARSED("in.(';--,`x`,/*,#)", FILTER_IN, false, "';--", "`x`", "/*", "#");
        PARSED("in.(\"'); DROP TABLE t; --\")", FILTER_IN, false, "'); DROP TABLE t; --");
        IS_PARSED("not.is.null", true, FILTER_IS_NULL);
        REFUSED("is.null; DROP TABLE t", "is. takes null, true or false");
        REFUSED("eq; DROP TABLE t", no_op);
}

static void test_in_lists(void)
{
        PARSED("in.(1)", FILTER_IN, false, "1");
        PARSED("in.(a,b,c)", FILTER_IN, false, "a", "b", "c");
        /* Unquoted values are taken as they are: no trimming. */
        PARSED("in.(a b, c ,d)", FILTER_IN, false, "a b", " c ", "d");
        /* Empty values are values. */
        PARSED("in.(,)", FILTER_IN, false, "", "");
        PARSED("in.(a,)", FILTER_IN, false, "a", "");
        PARSED("in.(,a)", FILTER_IN, false, "", "a");
        PARSED("in.(\"\")", FILTER_IN, false, "");
        PARSED("in.(\"\",\"\")", FILTER_IN, false, "", "");
        /* Quoting makes commas and parentheses literal. */
        PARSED("in.(\"a,b\",c)", FILTER_IN, false, "a,b", "c");
        PARSED("in.(\"a)\",\"(b\")", FILTER_IN, false, "a)", "(b");
        PARSED("in.(\")\")", FILTER_IN, false, ")");
        PARSED("in.(\",\")", FILTER_IN, false, ",");
        PARSED("in.(\"a\",b,\"c\")", FILTER_IN, false, "a", "b", "c");
        /* \" and \\ are the escapes inside quotes. */
        PARSED("in.(\"say \\\"hi\\\"\")", FILTER_IN, false, "say \"hi\"");
        PARSED("in.(\"back\\\\slash\")", FILTER_IN, false, "back\\slash");
        PARSED("in.(\"\\\\\")", FILTER_IN, false, "\\");
        PARSED("in.(\"\\\"\")", FILTER_IN, false, "\"");
        PARSED("in.(\"\\\\\",\"\\\"\")", FILTER_IN, false, "\\", "\"");
        /* An escaped quote does not close: this is the one value a") */
        PARSED("in.(\"a\\\")\")", FILTER_IN, false, "a\")");
        /* Outside quotes, quotes and backslashes are plain characters. */
        PARSED("in.(a\"b,c\\d)", FILTER_IN, false, "a\"b", "c\\d");
        PARSED("in.(a\")", FILTER_IN, false, "a\"");
        /* The list is everything between the first '(' and the last ')'. */
        PARSED("in.((a),b)", FILTER_IN, false, "(a)", "b");
        PARSED("in.(a))", FILTER_IN, false, "a)");
        PARSED("in.(1.5,2.5)", FILTER_IN, false, "1.5", "2.5");
        PARSED("in.(\xE6\x97\xA5\xE6\x9C\xAC,\"\xC3\xA9,\xC3\xA8\")", FILTER_IN, false,
               "\xE6\x97\xA5\xE6\x9C\xAC", "\xC3\xA9,\xC3\xA8");
        PARSED("not.in.(\"not.in.(x)\")", FILTER_IN, true, "not.in.(x)");
}

/* "in.(" + count values (quoted when asked, each holding a comma) + ")". */
static void build_list(char *out, size_t count, bool quoted)
{
        strcpy(out, "in.(");
        for (size_t i = 0; i < count; i++) {
                char value[16];
                snprintf(value, sizeof(value), quoted ? "%s\"v,%zu\"" : "%s%zu", i ? "," : "", i);
                strcat(out, value);
        }
        strcat(out, ")");
}

static void test_in_list_sizes(void)
{
        static char text[2048];
        char reason[128];
        filter_expr_t e;

        build_list(text, FILTER_MAX_VALUES, false);
        ASSERT_EQ_INT(filter_expr_parse(text, scope, &e, reason, sizeof(reason)), 0);
        ASSERT_EQ_UINT(e.value_count, FILTER_MAX_VALUES);
        ASSERT_EQ_STR(e.values[0], "0");
        ASSERT_EQ_STR(e.values[FILTER_MAX_VALUES - 1], "99");

        build_list(text, FILTER_MAX_VALUES, true);
        ASSERT_EQ_INT(filter_expr_parse(text, scope, &e, reason, sizeof(reason)), 0);
        ASSERT_EQ_UINT(e.value_count, FILTER_MAX_VALUES);
        ASSERT_EQ_STR(e.values[FILTER_MAX_VALUES - 1], "v,99");

        build_list(text, FILTER_MAX_VALUES + 1, false);
        REFUSED(text, "in.(...) takes 1 to 100 values");
        build_list(text, FILTER_MAX_VALUES + 1, true);
        REFUSED(text, "in.(...) takes 1 to 100 values");
        /* 101 empty values: 100 commas. */
        memset(text, 0, sizeof(text));
        strcpy(text, "in.(");
        memset(text + 4, ',', FILTER_MAX_VALUES);
        strcat(text, ")");
        REFUSED(text, "in.(...) takes 1 to 100 values");
        text[4 + FILTER_MAX_VALUES - 1] = ')';
        text[4 + FILTER_MAX_VALUES] = '\0';
        ASSERT_EQ_INT(filter_expr_parse(text, scope, &e, reason, sizeof(reason)), 0);
        ASSERT_EQ_UINT(e.value_count, FILTER_MAX_VALUES);
}

static void test_in_errors(void)
{
        const char *parens = "in. takes a list in parentheses, e.g. in.(1,2,3)";

        REFUSED("in.()", "in.(...) takes 1 to 100 values");
        REFUSED("in.", parens);
        REFUSED("in.(", parens);
        REFUSED("in.)", parens);
        REFUSED("in.1,2", parens);
        REFUSED("in.(1,2", parens);
        REFUSED("in.1,2)", parens);
        REFUSED("in.[1,2]", parens);
        REFUSED("in. (1,2)", parens);
        REFUSED("in.(1,2) ", parens);
        REFUSED("in.(\"a)", "in.(...): a quoted value is not closed");
        REFUSED("in.(\")", "in.(...): a quoted value is not closed");
        REFUSED("in.(\"a\\\")", "in.(...): a quoted value is not closed");
        REFUSED("in.(a,\"b)", "in.(...): a quoted value is not closed");
        REFUSED("in.(\"a\"b)", "in.(...): a quoted value must be followed by ',' or ')'");
        REFUSED("in.(\"a\" ,b)", "in.(...): a quoted value must be followed by ',' or ')'");
        REFUSED("in.(\"a\"\"b\")", "in.(...): a quoted value must be followed by ',' or ')'");
        REFUSED("in.(\"a\\n\")", "in.(...): only \\\" and \\\\ are escapes in a quoted value");
        REFUSED("in.(\"\\", parens);
}

static void test_is_errors(void)
{
        const char *why = "is. takes null, true or false";

        REFUSED("is.", why);
        REFUSED("is.NULL", why);
        REFUSED("is.Null", why);
        REFUSED("is.nil", why);
        REFUSED("is.null ", why);
        REFUSED("is. null", why);
        REFUSED("is.unknown", why);
        REFUSED("is.1", why);
        REFUSED("is.(null)", why);
        REFUSED("not.is.maybe", why);
}

static void test_operator_errors(void)
{
        REFUSED("30", no_op);
        REFUSED("", no_op);
        REFUSED("eq", no_op);
        REFUSED("in", no_op);
        REFUSED("12.5", no_op);
        REFUSED(".5", no_op);
        REFUSED(".", no_op);
        REFUSED("-1.eq", no_op);
        REFUSED("e q.1", no_op);
        REFUSED("\xE6\x97\xA5.1", no_op);
        REFUSED("gtx.1", UNKNOWN_OP("gtx"));
        REFUSED("EQ.1", UNKNOWN_OP("EQ"));
        REFUSED("ilike.a", UNKNOWN_OP("ilike"));
        REFUSED("john.smith", UNKNOWN_OP("john"));
        /* A long one is cut, so the detail stays short. */
        REFUSED("abcdefghijklmnopqrstuvwxyz.1", UNKNOWN_OP("abcdefghijklmnop..."));
}

static void test_without_reason_buffer(void)
{
        filter_expr_t e;

        ASSERT_EQ_INT(filter_expr_parse("bogus", scope, &e, NULL, 0), -EINVAL);
        ASSERT_EQ_INT(filter_expr_parse("in.(\"x)", scope, &e, NULL, 0), -EINVAL);
        ASSERT_EQ_INT(filter_expr_parse("eq.1", scope, &e, NULL, 0), 0);
        char small[8];
        ASSERT_EQ_INT(filter_expr_parse("gtx.1", scope, &e, small, sizeof(small)), -EINVAL);
        ASSERT_EQ_STR(small, "unknown");
}

static void test_op_sql(void)
{
        ASSERT_EQ_STR(filter_op_sql(FILTER_EQ), "=");
        ASSERT_EQ_STR(filter_op_sql(FILTER_NEQ), "<>");
        ASSERT_EQ_STR(filter_op_sql(FILTER_GT), ">");
        ASSERT_EQ_STR(filter_op_sql(FILTER_GTE), ">=");
        ASSERT_EQ_STR(filter_op_sql(FILTER_LT), "<");
        ASSERT_EQ_STR(filter_op_sql(FILTER_LTE), "<=");
        ASSERT_EQ_STR(filter_op_sql(FILTER_LIKE), "LIKE");
        ASSERT_EQ_STR(filter_op_sql(FILTER_IN), "IN");
        ASSERT_EQ_STR(filter_op_sql(FILTER_IS), "IS");
}

static void check_like(const char *text, size_t len, const char *expected, size_t expected_len,
                       const char *file, int line)
{
        size_t n = 12345;
        char *pattern = filter_like_pattern(text, len, scope, &n);

        if (pattern == NULL) {
                test_fail_header(file, line);
                fputs("no pattern\n", stderr);
                return;
        }
        test_check_mem(pattern, n, expected, expected_len, file, line, "pattern", "expected");
        test_check(pattern[n] == '\0', file, line, "the pattern is NUL-terminated");
}

#define LIKE_IS(lit, expected) \
        check_like((lit), sizeof(lit) - 1, (expected), sizeof(expected) - 1, __FILE__, __LINE__)

static void test_like_pattern(void)
{
        LIKE_IS("", "");
        LIKE_IS("abc", "abc");
        LIKE_IS("*", "%");
        LIKE_IS("**", "%%");
        LIKE_IS("*son", "%son");
        LIKE_IS("a*b*c", "a%b%c");
        /* The LIKE wildcards and the escape itself match themselves. */
        LIKE_IS("50%", "50\\%");
        LIKE_IS("a_b", "a\\_b");
        LIKE_IS("back\\slash", "back\\\\slash");
        LIKE_IS("\\*", "\\\\%");
        LIKE_IS("%_\\*", "\\%\\_\\\\%");
        LIKE_IS("it's \"x\"", "it's \"x\"");
        LIKE_IS("\xE6\x97\xA5*", "\xE6\x97\xA5%");
        LIKE_IS("a\0b", "a\0b");

        size_t n;
        ASSERT_EQ_STR(filter_like_pattern("*abc*", 3, scope, &n), "%ab");
        ASSERT_EQ_UINT(n, 3);
        ASSERT_EQ_STR(filter_like_pattern("x_", 2, scope, NULL), "x\\_");
}

int main(void)
{
        scope = scope_new();
        if (scope == NULL)
                return 1;
        RUN_TEST(test_every_operator);
        RUN_TEST(test_not);
        RUN_TEST(test_value_is_the_rest);
        RUN_TEST(test_hostile_text_is_a_value);
        RUN_TEST(test_in_lists);
        RUN_TEST(test_in_list_sizes);
        RUN_TEST(test_in_errors);
        RUN_TEST(test_is_errors);
        RUN_TEST(test_operator_errors);
        RUN_TEST(test_without_reason_buffer);
        RUN_TEST(test_op_sql);
        RUN_TEST(test_like_pattern);
        scope_close(scope);
        ASSERT_EQ_INT(scope_live_count(), 0);
        return test_report();
}
