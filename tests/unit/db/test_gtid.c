/* Unit tests for GTID positions: strict parsing, covering, merging, text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/gtid.h"
#include "test.h"

static int parse(const char *text, gtid_set_t *set)
{
        return gtid_parse(text, strlen(text), set);
}

static void test_parses_lists(void)
{
        gtid_set_t s;
        char out[GTID_TEXT_MAX];

        ASSERT_EQ_INT(parse("0-1-42", &s), 0);
        ASSERT_EQ_UINT(s.count, 1);
        ASSERT_EQ_UINT(s.gtids[0].seq, 42);
        ASSERT_EQ_INT(parse("0-1-42, 7-3-18446744073709551615", &s), 0);
        ASSERT_EQ_UINT(s.count, 2);
        ASSERT_TRUE(gtid_format(&s, out, sizeof(out)));
        ASSERT_EQ_STR(out, "0-1-42,7-3-18446744073709551615");
        ASSERT_EQ_INT(parse("", &s), 0);
        ASSERT_EQ_UINT(s.count, 0);
}

static void test_refuses_malformed(void)
{
        static const char *const bad[] = {
                "0-1", "0-1-", "-1-2", "0-1-2,", ",0-1-2", "0-1-2,0-5-9", "a-1-2",
                "0-1-18446744073709551616", "4294967296-1-1", "0 -1-2", "0-1-2x", "0-+1-2",
        };
        gtid_set_t s;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ASSERT_EQ_INT(parse(bad[i], &s), -EINVAL);
        char many[GTID_TEXT_MAX * 2] = "";
        for (int d = 0; d <= GTID_MAX_DOMAINS; d++) {
                char one[32];
                snprintf(one, sizeof(one), "%s%d-1-1", d ? "," : "", d);
                strcat(many, one);
        }
        ASSERT_EQ_INT(parse(many, &s), -EINVAL);
}

static void test_covers_per_domain(void)
{
        gtid_set_t have, want;

        parse("0-1-10,1-2-5", &have);
        parse("0-1-10", &want);
        ASSERT_TRUE(gtid_covers(&have, &want));
        parse("0-2-9,1-2-5", &want); /* the server id does not matter */
        ASSERT_TRUE(gtid_covers(&have, &want));
        parse("0-1-11", &want);
        ASSERT_FALSE(gtid_covers(&have, &want));
        parse("2-1-1", &want);
        ASSERT_FALSE(gtid_covers(&have, &want));
        parse("", &want);
        ASSERT_TRUE(gtid_covers(&have, &want));
}

static void test_merges(void)
{
        gtid_set_t s;
        gtid_t g = { .domain = 0, .server = 1, .seq = 3 };
        char out[GTID_TEXT_MAX];

        parse("0-1-5", &s);
        ASSERT_EQ_INT(gtid_merge(&s, &g), 0);
        ASSERT_EQ_UINT(s.gtids[0].seq, 5);
        g.domain = 4;
        ASSERT_EQ_INT(gtid_merge(&s, &g), 0);
        ASSERT_TRUE(gtid_format(&s, out, sizeof(out)));
        ASSERT_EQ_STR(out, "0-1-5,4-1-3");
        ASSERT_FALSE(gtid_format(&s, out, 4));
}

int main(void)
{
        RUN_TEST(test_parses_lists);
        RUN_TEST(test_refuses_malformed);
        RUN_TEST(test_covers_per_domain);
        RUN_TEST(test_merges);
        return test_report();
}
