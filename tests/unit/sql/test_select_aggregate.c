/*
 * Unit tests for the aggregate grammar of select and order: which terms are
 * aggregates at all (embedded relations are not), how they split into alias,
 * column, function and direction, and the phrases hostile terms get.
 */
#include <errno.h>
#include <string.h>

#include "sql/select_aggregate.h"
#include "test.h"

static int split(const char *term, bool in_order, aggregate_term_t *t, char *reason)
{
        return select_aggregate_split(term, strlen(term), in_order, t, reason, 192);
}

static void test_shapes(void)
{
        static const char *const aggregates[] = { "count()", "balance.sum()", "t:balance.sum()",
                                                  "sum()", "balance.drop()", "a.b.max()",
                                                  "count(*)", "x:count()", "balance.sum(1" };
        static const char *const others[] = { "balance", "members(id,name)", "m:members(id)",
                                              "counts()", "t:balance", "" };

        for (size_t i = 0; i < sizeof(aggregates) / sizeof(aggregates[0]); i++)
                ASSERT_TRUE(select_aggregate_shaped(aggregates[i], strlen(aggregates[i])));
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
                ASSERT_FALSE(select_aggregate_shaped(others[i], strlen(others[i])));
        /* Only the term's own bytes count, not the select that follows it. */
        ASSERT_FALSE(select_aggregate_shaped("id,count()", 2));
}

static void test_splits(void)
{
        char reason[192];
        aggregate_term_t t;

        ASSERT_EQ_INT(split("total:balance.sum()", false, &t, reason), 0);
        ASSERT_EQ_INT(t.fn, AGGREGATE_SUM);
        ASSERT_EQ_MEM(t.alias, t.alias_len, "total", 5);
        ASSERT_EQ_MEM(t.column, t.column_len, "balance", 7);
        ASSERT_EQ_INT(split("count()", false, &t, reason), 0);
        ASSERT_EQ_INT(t.fn, AGGREGATE_COUNT);
        ASSERT_NULL(t.column);
        ASSERT_NULL(t.alias);
        ASSERT_EQ_INT(split("a.b.avg()", false, &t, reason), 0); /* the last dot splits */
        ASSERT_EQ_MEM(t.column, t.column_len, "a.b", 3);
        ASSERT_EQ_INT(split("age.max().desc", true, &t, reason), 0);
        ASSERT_EQ_INT(t.fn, AGGREGATE_MAX);
        ASSERT_TRUE(t.descending);
        ASSERT_EQ_INT(split("count().asc", true, &t, reason), 0);
        ASSERT_FALSE(t.descending);
        ASSERT_EQ_STR(select_aggregate_name(AGGREGATE_AVG), "avg");
}

static void refused(const char *term, bool in_order, const char *mention, int line)
{
        char reason[192] = "";
        aggregate_term_t t;
        int r = split(term, in_order, &t, reason);

        test_check(r == -EINVAL, __FILE__, line, "refused");
        test_check_contains(reason, mention, true, __FILE__, line, "reason");
}

static void test_refusals(void)
{
        refused("balance.drop()", false, "unknown aggregate 'drop'", __LINE__);
        refused("balance.sum(1)", false, "no argument", __LINE__);
        refused("balance.sum(())", false, "no argument", __LINE__);
        refused("balance.sum(", false, "no argument", __LINE__);
        refused("balance.sum()x", false, "follow", __LINE__);
        refused("sum()", false, "needs a column", __LINE__);
        refused(".sum()", false, "names no column", __LINE__);
        refused("1x:count()", false, "alias", __LINE__);
        refused(":count()", false, "alias", __LINE__);
        refused("t:count()", true, "no alias", __LINE__);
        refused("count().sideways", true, "asc or desc", __LINE__);
        refused("count()desc", true, "asc or desc", __LINE__);
}

int main(void)
{
        RUN_TEST(test_shapes);
        RUN_TEST(test_splits);
        RUN_TEST(test_refusals);
        return test_report();
}
