/*
 * Unit tests for the Prefer header: the write preferences, timeout= in
 * seconds (decimals allowed, rounded up to the millisecond, refused when
 * not a positive decimal number), and what Preference-Applied repeats.
 */
#include <errno.h>
#include <limits.h>

#include "http/prefer.h"
#include "test.h"

static int parse(const char *header, prefer_t *ret)
{
        char why[128];

        return prefer_parse(header, ret, why, sizeof(why));
}

static unsigned timeout_of(const char *header)
{
        prefer_t p;

        return parse(header, &p) == 0 ? p.timeout_ms : 0;
}

static void test_no_header(void)
{
        prefer_t p;

        ASSERT_EQ_INT(parse(NULL, &p), 0);
        ASSERT_EQ_UINT(p.timeout_ms, 0);
        ASSERT_TRUE(p.max_affected == -1);
}

static void test_write_preferences(void)
{
        prefer_t p;
        char applied[128];

        ASSERT_EQ_INT(parse("return=representation, tx=rollback, max-affected=3", &p), 0);
        ASSERT_TRUE(p.representation);
        ASSERT_TRUE(p.rollback);
        ASSERT_TRUE(p.max_affected == 3);
        prefer_applied(&p, applied, sizeof(applied));
        ASSERT_EQ_STR(applied, "return=representation, tx=rollback, max-affected=3");
        ASSERT_EQ_INT(parse("return=headers", &p), -EINVAL);
        ASSERT_EQ_INT(parse("max-affected=abc", &p), -EINVAL);
}

static void test_timeout_values(void)
{
        ASSERT_EQ_UINT(timeout_of("timeout=1"), 1000);
        ASSERT_EQ_UINT(timeout_of("timeout=0.5"), 500);
        ASSERT_EQ_UINT(timeout_of("Timeout = 2.25"), 2250);
        ASSERT_EQ_UINT(timeout_of("timeout=\"3\""), 3000);
        ASSERT_EQ_UINT(timeout_of("timeout=0.0001"), 1); /* never earlier than asked */
        ASSERT_EQ_UINT(timeout_of("timeout=1.0015"), 1002);
        ASSERT_EQ_UINT(timeout_of("return=minimal, timeout=0.25; x=y"), 250);
        ASSERT_EQ_UINT(timeout_of("timeout=99999999999999999999"), UINT_MAX);
}

static void test_timeout_refused(void)
{
        static const char *const bad[] = { "timeout=abc", "timeout=-1", "timeout=1e999",
                                           "timeout=0",   "timeout=0.000", "timeout=",
                                           "timeout=1.5s", "timeout=." };
        prefer_t p;
        char why[128];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = prefer_parse(bad[i], &p, why, sizeof(why));
                if (r != -EINVAL)
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                ASSERT_EQ_INT(r, -EINVAL);
        }
        ASSERT_EQ_INT(prefer_parse("timeout=abc", &p, why, sizeof(why)), -EINVAL);
        ASSERT_EQ_STR(why, "Prefer: timeout=abc is not a value queryd knows");
}

static void test_consistency(void)
{
        prefer_t p;

        ASSERT_EQ_INT(parse("consistency=strong", &p), 0);
        ASSERT_TRUE(p.strong);
        ASSERT_EQ_INT(parse("timeout=2, consistency=eventual", &p), 0);
        ASSERT_FALSE(p.strong);
        ASSERT_EQ_UINT(p.timeout_ms, 2000);
        ASSERT_EQ_INT(parse(NULL, &p), 0);
        ASSERT_FALSE(p.strong);
        ASSERT_EQ_INT(parse("consistency=sometimes", &p), -EINVAL);
        ASSERT_EQ_INT(parse("consistency", &p), -EINVAL);
}

static void test_timeout_applied(void)
{
        prefer_t p = { .max_affected = -1 };
        char applied[64];

        static const struct {
                unsigned ms;
                const char *text;
        } cases[] = { { 500, "timeout=0.5" }, { 1000, "timeout=1" }, { 2250, "timeout=2.25" },
                      { 1, "timeout=0.001" }, { 30000, "timeout=30" } };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                p.applied_timeout_ms = cases[i].ms;
                prefer_applied(&p, applied, sizeof(applied));
                ASSERT_EQ_STR(applied, cases[i].text);
        }
        /* Asked for and not applied: not reported. */
        ASSERT_EQ_INT(parse("timeout=5", &p), 0);
        prefer_applied(&p, applied, sizeof(applied));
        ASSERT_EQ_STR(applied, "");
}

int main(void)
{
        RUN_TEST(test_no_header);
        RUN_TEST(test_write_preferences);
        RUN_TEST(test_timeout_values);
        RUN_TEST(test_timeout_refused);
        RUN_TEST(test_timeout_applied);
        RUN_TEST(test_consistency);
        return test_report();
}
