/* Unit tests for what read_cache.c decides without a server: the
 * Cache-Control sent with an answer that depends on credentials. */
#include "request/read_cache.h"
#include "test.h"

static const char *private_of(const char *control)
{
        static char buf[128];

        return read_cache_private_control(control, buf, sizeof(buf));
}

static void test_shared_cache_directives_are_dropped(void)
{
        ASSERT_EQ_STR(private_of("public, max-age=60"), "max-age=60");
        ASSERT_EQ_STR(private_of("max-age=60, s-maxage=600"), "max-age=60");
        ASSERT_EQ_STR(private_of("PUBLIC,max-age=5,S-MAXAGE=9, must-revalidate"),
                      "max-age=5, must-revalidate");
        ASSERT_EQ_STR(private_of("public"), "");
}

static void test_others_pass_as_they_are(void)
{
        ASSERT_EQ_STR(private_of("no-store"), "no-store");
        ASSERT_EQ_STR(private_of("max-age=60, stale-while-revalidate=30"),
                      "max-age=60, stale-while-revalidate=30");
        ASSERT_EQ_STR(private_of("publicity=1"), "publicity=1"); /* not the directive */
}

static void test_long_value_is_cut_between_directives(void)
{
        char buf[16];

        ASSERT_EQ_STR(read_cache_private_control("max-age=60, no-transform", buf, sizeof(buf)),
                      "max-age=60");
}

int main(void)
{
        RUN_TEST(test_shared_cache_directives_are_dropped);
        RUN_TEST(test_others_pass_as_they_are);
        RUN_TEST(test_long_value_is_cut_between_directives);
        return test_report();
}
