/*
 * Unit tests for named placeholders: what becomes "?" and what stays text
 * (quotes, comments, "::", ":="), and the statements refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sql/named_sql.h"
#include "test.h"

/* Rewrites sql, expecting success, the bound text and the names joined by ','. */
static void expect_rewrite(const char *sql, const char *bound, const char *names)
{
        named_sql_t n;
        char err[256] = "";
        char joined[256] = "";

        int r = named_sql_rewrite(sql, &n, err, sizeof(err));
        ASSERT_EQ_INT(r, 0);
        if (r != 0) {
                fprintf(stderr, "        for %s: %s\n", sql, err);
                return;
        }
        ASSERT_EQ_STR(n.bound_sql, bound);
        for (size_t i = 0; i < n.name_count; i++) {
                strcat(joined, i ? "," : "");
                strcat(joined, n.names[i]);
        }
        ASSERT_EQ_STR(joined, names);
        named_sql_done(&n);
        ASSERT_NULL(n.bound_sql);
        ASSERT_NULL(n.names);
        ASSERT_EQ_UINT(n.name_count, 0);
        named_sql_done(&n); /* twice is harmless */
}

static void expect_refused(const char *sql, const char *message)
{
        named_sql_t n;
        char err[256] = "";

        ASSERT_EQ_INT(named_sql_rewrite(sql, &n, err, sizeof(err)), -EINVAL);
        ASSERT_EQ_STR(err, message);
        ASSERT_NULL(n.bound_sql);
        ASSERT_NULL(n.names);
        ASSERT_EQ_UINT(n.name_count, 0);
}

static void test_placeholders(void)
{
        expect_rewrite("SELECT 1", "SELECT 1", "");
        expect_rewrite("SELECT * FROM t WHERE a = :a AND b > :b_2",
                       "SELECT * FROM t WHERE a = ? AND b > ?", "a,b_2");
        expect_rewrite("SELECT :_x,:Y9", "SELECT ?,?", "_x,Y9");
        expect_rewrite("SELECT (:a)+:b*-:c", "SELECT (?)+?*-?", "a,b,c");
        expect_rewrite("SELECT x FROM t WHERE a=:a\n", "SELECT x FROM t WHERE a=?\n", "a");
}

static void test_repeated_names(void)
{
        expect_rewrite("SELECT :a, :b, :a, :a", "SELECT ?, ?, ?, ?", "a,b,a,a");
}

static void test_quotes_keep_text(void)
{
        expect_rewrite("SELECT ':a', \":b\", `:c` FROM t WHERE d = :d",
                       "SELECT ':a', \":b\", `:c` FROM t WHERE d = ?", "d");
        /* Doubled quotes and backslash escapes do not end the quoted text. */
        expect_rewrite("SELECT 'it''s :a', 'x\\' :b', \"say \"\":c\"\"\", :d",
                       "SELECT 'it''s :a', 'x\\' :b', \"say \"\":c\"\"\", ?", "d");
        expect_rewrite("SELECT 'a\\\\', :e", "SELECT 'a\\\\', ?", "e");
        /* A backtick name takes doubled backticks, and no backslash escape. */
        expect_rewrite("SELECT `a``:b`, `c\\`, :f", "SELECT `a``:b`, `c\\`, ?", "f");
        /* '?' and ';' inside quotes are text. */
        expect_rewrite("SELECT '?;', \"?\", `;`", "SELECT '?;', \"?\", `;`", "");
}

static void test_comments_keep_text(void)
{
        expect_rewrite("SELECT 1 -- :a ? ;x\n, :b", "SELECT 1 -- :a ? ;x\n, ?", "b");
        expect_rewrite("SELECT 1 # :a ?\n, :b", "SELECT 1 # :a ?\n, ?", "b");
        expect_rewrite("SELECT /* :a ? ; */ :b", "SELECT /* :a ? ; */ ?", "b");
        expect_rewrite("SELECT 1 -- to the end :a", "SELECT 1 -- to the end :a", "");
        expect_rewrite("SELECT 1 --\t:a\n", "SELECT 1 --\t:a\n", "");
        /* "--" without a space after it is two minus signs. */
        expect_rewrite("SELECT 1--:a", "SELECT 1--?", "a");
        expect_rewrite("SELECT 1 /*/ :a */", "SELECT 1 /*/ :a */", "");
}

static void test_colons_that_are_not_placeholders(void)
{
        expect_rewrite("SELECT a::int, b:::c", "SELECT a::int, b:::c", "");
        expect_rewrite("SELECT @x := :v", "SELECT @x := ?", "v");
        expect_rewrite("SELECT @x:=1", "SELECT @x:=1", "");
        expect_rewrite("SELECT a:b, x$:y", "SELECT a:b, x$:y", "");
        expect_rewrite("SELECT :1, : a, :", "SELECT :1, : a, :", "");
        /* After a placeholder the next ':' follows a name character. */
        expect_rewrite("SELECT :a:b", "SELECT ?:b", "a");
}

static void test_one_statement(void)
{
        expect_rewrite("SELECT :a;", "SELECT ?", "a");
        expect_rewrite("SELECT :a ; \n\t", "SELECT ? ", "a");
        expect_rewrite("SELECT 1; -- done\n/* really */ # yes", "SELECT 1", "");
        expect_refused("SELECT 1; SELECT 2", "text after the ';' at byte 10: one statement only");
        expect_refused("SELECT 1;;", "text after the ';' at byte 9: one statement only");
        expect_refused("SELECT 1; 'x'", "text after the ';' at byte 10: one statement only");
}

static void test_anonymous_placeholder(void)
{
        expect_refused("SELECT ?", "'?' at byte 7 is an anonymous placeholder: use :name");
        expect_refused("SELECT :a, ?", "'?' at byte 11 is an anonymous placeholder: use :name");
}

static void test_unterminated(void)
{
        expect_refused("SELECT 'abc", "unterminated '...' quote starting at byte 7");
        expect_refused("SELECT 'abc\\'", "unterminated '...' quote starting at byte 7");
        expect_refused("SELECT \"abc", "unterminated \"...\" quote starting at byte 7");
        expect_refused("SELECT `abc", "unterminated `...` quote starting at byte 7");
        expect_refused("SELECT 1 /* x", "unterminated comment starting at byte 9");
        expect_refused("SELECT 1 /*/", "unterminated comment starting at byte 9");
}

static void test_refused_forms(void)
{
        expect_refused("", "the sql holds no statement");
        expect_refused("  \n", "the sql holds no statement");
        expect_refused("-- nothing\n/* at all */", "the sql holds no statement");
        expect_refused(";", "the sql holds no statement");
        expect_refused("SELECT /*! :a */ 1", "executable comment at byte 7: not supported");
        expect_refused("SELECT /*M!100000 1 */ 1", "executable comment at byte 7: not supported");
}

static void test_short_error_buffer(void)
{
        named_sql_t n;
        char err[8];

        memset(err, 'x', sizeof(err));
        ASSERT_EQ_INT(named_sql_rewrite("SELECT ?", &n, err, 5), -EINVAL);
        ASSERT_EQ_STR(err, "'?' ");
        ASSERT_EQ_INT(err[5], 'x');
        ASSERT_EQ_INT(named_sql_rewrite("SELECT ?", &n, NULL, 0), -EINVAL);
}

int main(void)
{
        RUN_TEST(test_placeholders);
        RUN_TEST(test_repeated_names);
        RUN_TEST(test_quotes_keep_text);
        RUN_TEST(test_comments_keep_text);
        RUN_TEST(test_colons_that_are_not_placeholders);
        RUN_TEST(test_one_statement);
        RUN_TEST(test_anonymous_placeholder);
        RUN_TEST(test_unterminated);
        RUN_TEST(test_refused_forms);
        RUN_TEST(test_short_error_buffer);
        return test_report();
}
