/* Unit tests for an entry's "cache_ms" and "cache_control": their defaults,
 * their bounds, and header values that could break the answer's head. */
#include "config_shorthand.h"

#define USERS "{'resources': [{'path': '/users', 'table': 'users', 'key': 'id'"

static void expect_refused(const char *shorthand, const char *mention)
{
        char err[512] = "";
        char *expected = unquote(mention);
        api_t *api = parse(shorthand, err, sizeof(err));

        ASSERT_NULL(api);
        ASSERT_CONTAINS(err, expected);
        api_free(api);
        free(expected);
}

static void test_defaults_are_off(void)
{
        api_t *api = parse_ok(USERS "}], 'queries': [{'path': '/q', 'sql': 'SELECT 1'}]}");

        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->resources[0].cache_ms, 0);
        ASSERT_NULL(api->resources[0].cache_control);
        ASSERT_EQ_UINT(api->queries[0].cache_ms, 0);
        ASSERT_NULL(api->queries[0].cache_control);
        api_free(api);
}

static void test_values_are_kept(void)
{
        api_t *api = parse_ok(USERS ", 'cache_ms': 1500, 'cache_control': 'public, max-age=60'}],"
                              " 'queries': [{'path': '/q', 'sql': 'SELECT 1', 'cache_ms': 10,"
                              " 'cache_control': 'no-cache'}]}");

        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->resources[0].cache_ms, 1500);
        ASSERT_EQ_STR(api->resources[0].cache_control, "public, max-age=60");
        ASSERT_EQ_UINT(api->queries[0].cache_ms, 10);
        ASSERT_EQ_STR(api->queries[0].cache_control, "no-cache");
        api_free(api);
}

static void test_bounds(void)
{
        expect_refused(USERS ", 'cache_ms': -1}]}", "'cache_ms' must be an integer from 0 to");
        expect_refused(USERS ", 'cache_ms': 86400001}]}", "from 0 to 86400000");
        expect_refused(USERS ", 'cache_ms': '5'}]}", "'cache_ms' must be an integer");
}

static void test_control_characters_are_refused(void)
{
        expect_refused(USERS ", 'cache_control': 'max-age=5\\r\\nSet-Cookie: a=b'}]}",
                       "'cache_control' must be 1 to 256 visible ASCII characters");
        expect_refused(USERS ", 'cache_control': 'max-age=5\\u0000'}]}", "is not allowed");
        expect_refused(USERS ", 'cache_control': 'max-age=5\\t'}]}", "'cache_control'");
        expect_refused(USERS ", 'cache_control': 'caf\\u00e9'}]}", "'cache_control'");
        expect_refused(USERS ", 'cache_control': ''}]}", "'cache_control'");
        expect_refused(USERS ", 'cache_control': ' max-age=5'}]}", "'cache_control'");
        expect_refused(USERS ", 'cache_control': 60}]}", "'cache_control'");
}

static void test_not_for_writing_queries(void)
{
        expect_refused("{'queries': [{'path': '/q', 'sql': 'DELETE FROM t', 'method': 'POST',"
                       " 'cache_ms': 1000}]}",
                       "are for GET queries");
}

int main(void)
{
        RUN_TEST(test_defaults_are_off);
        RUN_TEST(test_values_are_kept);
        RUN_TEST(test_bounds);
        RUN_TEST(test_control_characters_are_refused);
        RUN_TEST(test_not_for_writing_queries);
        return test_report();
}
