/* Unit tests for cors: which origins may read, and what is sent back. */
#include "http/cors.h"
#include "test.h"

static void test_off(void)
{
        ASSERT_NULL(cors_allow_origin(NULL, "https://a.example"));
        ASSERT_NULL(cors_allow_origin("*", NULL));
}

static void test_any(void)
{
        ASSERT_EQ_STR(cors_allow_origin("*", "https://a.example"), "*");
        ASSERT_EQ_STR(cors_allow_origin("*", "null"), "*");
}

static void test_list(void)
{
        const char *list = "https://a.example,http://localhost:3000";

        ASSERT_EQ_STR(cors_allow_origin(list, "https://a.example"), "https://a.example");
        ASSERT_EQ_STR(cors_allow_origin(list, "http://localhost:3000"), "http://localhost:3000");
        /* exact bytes only: no prefixes, suffixes, case folding or other ports */
        ASSERT_NULL(cors_allow_origin(list, "https://a.exampl"));
        ASSERT_NULL(cors_allow_origin(list, "https://a.example.evil"));
        ASSERT_NULL(cors_allow_origin(list, "HTTPS://A.EXAMPLE"));
        ASSERT_NULL(cors_allow_origin(list, "http://localhost:30000"));
        ASSERT_NULL(cors_allow_origin(list, "http://localhost"));
        ASSERT_NULL(cors_allow_origin(list, "https://a.example,http://localhost:3000"));
        ASSERT_NULL(cors_allow_origin(list, ""));
        ASSERT_NULL(cors_allow_origin(list, "*"));
}

int main(void)
{
        RUN_TEST(test_off);
        RUN_TEST(test_any);
        RUN_TEST(test_list);
        return test_report();
}
