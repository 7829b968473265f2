/*
 * Unit tests for count=estimated's reading of EXPLAIN EXTENDED rows: one
 * table, a join of the outermost select, subqueries left out, numbers given
 * as strings, an impossible WHERE, and text that holds no estimate.
 */
#include <errno.h>
#include <string.h>

#include "sql/count_estimate.h"
#include "test.h"

static int read_estimate(const char *text, long long *ret)
{
        return count_estimate_read(text, strlen(text), ret);
}

static void test_estimates(void)
{
        long long n = -1;

        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"type\":\"ALL\",\"rows\":5000,"
                                    "\"filtered\":100}", &n), 0);
        ASSERT_EQ_INT(n, 5000);
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"type\":\"ALL\",\"rows\":\"5000\","
                                    "\"filtered\":\"12.50\"}", &n), 0);
        ASSERT_EQ_INT(n, 625);
        /* An access by index counted its conditions in rows already. */
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"type\":\"range\",\"rows\":500,"
                                    "\"filtered\":16.67}", &n), 0);
        ASSERT_EQ_INT(n, 500);
        /* A semi-join flattened into the outer select: the rows multiply. */
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"type\":\"range\",\"rows\":4,\"filtered\":100.0},"
                                    "{\"id\":1,\"type\":\"index\",\"rows\":250,\"filtered\":50.0},"
                                    "{\"id\":2,\"rows\":99999,\"filtered\":100.0}", &n), 0);
        ASSERT_EQ_INT(n, 500);
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"rows\":null,\"filtered\":null}", &n), 0);
        ASSERT_EQ_INT(n, 0);
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"rows\":30}", &n), 0); /* no filtered column */
        ASSERT_EQ_INT(n, 30);
}

static void test_no_estimate(void)
{
        long long n = 7;

        ASSERT_EQ_INT(read_estimate("", &n), -EINVAL);
        ASSERT_EQ_INT(read_estimate("{\"id\":2,\"rows\":3}", &n), -EINVAL);
        ASSERT_EQ_INT(read_estimate("{\"id\":1,", &n), -EINVAL);
        ASSERT_EQ_INT(read_estimate("{\"id\":1,\"rows\":-5}", &n), -EINVAL);
        ASSERT_EQ_INT(n, 7);
}

int main(void)
{
        RUN_TEST(test_estimates);
        RUN_TEST(test_no_estimate);
        return test_report();
}
