/* Unit tests for row_format: which format an Accept header asks for. */
#include <errno.h>
#include <stddef.h>

#include "json/row_format.h"
#include "test.h"

static int chosen(const char *accept)
{
        row_format_t f;

        if (row_format_negotiate(accept, &f) < 0)
                return -1;
        return (int)f;
}

static void test_default_is_json(void)
{
        ASSERT_EQ_INT(chosen(NULL), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen(""), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("  "), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("*/*"), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("application/*"), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("application/json"), ROW_FORMAT_JSON);
        /* what browsers send */
        ASSERT_EQ_INT(chosen("text/html,application/xhtml+xml,application/xml;q=0.9,"
                             "image/avif,image/webp,*/*;q=0.8"),
                      ROW_FORMAT_JSON);
        /* curl's default */
        ASSERT_EQ_INT(chosen("*/*"), ROW_FORMAT_JSON);
}

static void test_exact_types(void)
{
        ASSERT_EQ_INT(chosen("application/x-ndjson"), ROW_FORMAT_NDJSON);
        ASSERT_EQ_INT(chosen("text/csv"), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen("TEXT/CSV"), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen(" text/csv ; charset=utf-8 "), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen("text/*"), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen("text/plain, text/csv"), ROW_FORMAT_CSV);
}

static void test_quality(void)
{
        ASSERT_EQ_INT(chosen("application/json;q=0.5, text/csv"), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen("application/json;q=0.5, text/csv;q=0.4"), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("text/csv;q=1, application/json;q=1"), ROW_FORMAT_JSON);
        ASSERT_EQ_INT(chosen("application/x-ndjson;q=0.9, */*;q=0.1"), ROW_FORMAT_NDJSON);
        ASSERT_EQ_INT(chosen("text/csv; Q=0.7 ,application/json;q=0.65"), ROW_FORMAT_CSV);
        ASSERT_EQ_INT(chosen("text/csv;q=0.001, application/json;q=0"), ROW_FORMAT_CSV);
        /* the most specific range decides: json refused, anything else welcome */
        ASSERT_EQ_INT(chosen("application/json;q=0, */*"), ROW_FORMAT_NDJSON);
        ASSERT_EQ_INT(chosen("application/*;q=0, */*"), ROW_FORMAT_CSV);
}

/* A weight that is not a qvalue makes the whole header malformed. */
static void test_malformed_weight(void)
{
        static const char *const malformed[] = {
                "application/json;q=2, text/csv;q=0.1",
                "application/json;q=0.12345, text/csv;q=0.1",
                "application/json;q=1.5, text/csv;q=0.1",
                "application/json;q=, text/csv;q=0.1",
                "application/json;q=abc",
                "text/csv;q=2",
                "text/csv;q=1.001",
                "text/csv;q=-0",
                "text/csv;q=.5",
                "*/*;q=0.5x",
        };
        row_format_t f;

        for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
                ASSERT_EQ_INT(row_format_negotiate(malformed[i], &f), -EINVAL);
        ASSERT_EQ_INT(row_format_negotiate("text/csv;q=1.000", &f), 0);
        ASSERT_EQ_INT(f, ROW_FORMAT_CSV);
        ASSERT_EQ_INT(row_format_negotiate("application/xml", &f), -1);
}

static void test_nothing_acceptable(void)
{
        ASSERT_EQ_INT(chosen("application/xml"), -1);
        ASSERT_EQ_INT(chosen("text/html"), -1);
        ASSERT_EQ_INT(chosen("*/*;q=0"), -1);
        ASSERT_EQ_INT(chosen("application/json;q=0"), -1);
        ASSERT_EQ_INT(chosen("json"), -1);
        ASSERT_EQ_INT(chosen(",,,"), -1);
        ASSERT_EQ_INT(chosen("application/jsonx"), -1);
        ASSERT_EQ_INT(chosen("application/jso"), -1);
        ASSERT_EQ_INT(chosen("text/csv2"), -1);
}

static void test_content_types(void)
{
        ASSERT_EQ_STR(row_format_content_type(ROW_FORMAT_JSON), "application/json");
        ASSERT_EQ_STR(row_format_content_type(ROW_FORMAT_NDJSON), "application/x-ndjson");
        ASSERT_EQ_STR(row_format_content_type(ROW_FORMAT_CSV),
                      "text/csv; charset=utf-8; header=present");
}

int main(void)
{
        RUN_TEST(test_default_is_json);
        RUN_TEST(test_exact_types);
        RUN_TEST(test_quality);
        RUN_TEST(test_nothing_acceptable);
        RUN_TEST(test_malformed_weight);
        RUN_TEST(test_content_types);
        return test_report();
}
