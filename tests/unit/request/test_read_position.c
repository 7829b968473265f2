/*
 * Unit tests for the shape of a Queryd-Position: a list of MariaDB GTIDs
 * (domain-server-sequence) separated by commas, blanks allowed around each,
 * numbers no wider than their types; anything else is refused.
 */
#include <string.h>

#include "request/read_position.h"
#include "test.h"

static void test_gtid_lists_are_accepted(void)
{
        ASSERT_TRUE(read_position_valid("0-1-42"));
        ASSERT_TRUE(read_position_valid("100-1-5,0-2-7"));
        ASSERT_TRUE(read_position_valid(" 0-1-2 , 100-1-33 "));
        ASSERT_TRUE(read_position_valid("4294967295-4294967295-18446744073709551615"));
        ASSERT_TRUE(read_position_valid("\t1-1-1"));
}

static void test_other_text_is_refused(void)
{
        static const char *const bad[] = {
                "", " ", ",", "x", "1", "1-2", "1-2-", "-1-2-3", "1--2-3", "1-2-3,",
                ",1-2-3", "1-2-3,,4-5-6", "1-2-3;4-5-6", "1-2-3 4-5-6", "1-2-3x",
                "+1-2-3", "1-2-0x3", "1-2-3-4", "12345678901-1-1", "1-12345678901-1",
                "1-1-123456789012345678901", "1.0-2-3",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (read_position_valid(bad[i]))
                        fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
                ASSERT_FALSE(read_position_valid(bad[i]));
        }
        ASSERT_FALSE(read_position_valid(NULL));
}

/* Builds a list of count GTIDs "1-1-1" into text. */
static void gtid_list(char *text, size_t count)
{
        size_t len = 0;

        for (size_t i = 0; i < count; i++) {
                memcpy(text + len, i == 0 ? "1-1-1" : ",1-1-1", i == 0 ? 5 : 6);
                len += i == 0 ? 5 : 6;
        }
        text[len] = '\0';
}

static void test_long_lists(void)
{
        static char text[8192];

        gtid_list(text, 600); /* 3,599 bytes: within the bound */
        ASSERT_TRUE(read_position_valid(text));
        gtid_list(text, 1000); /* 5,999 bytes: past it */
        ASSERT_FALSE(read_position_valid(text));
}

int main(void)
{
        RUN_TEST(test_gtid_lists_are_accepted);
        RUN_TEST(test_other_text_is_refused);
        RUN_TEST(test_long_lists);
        return test_report();
}
