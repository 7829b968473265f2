/*
 * Unit tests for the explorer's pure parts: whether an Accept header gets
 * the page or the index, the index's entries for each role, and the
 * quality row_format_quality reads from a header.
 */
#include <string.h>

#include "api/config_shorthand.h"
#include "json/row_format.h"
#include "routes/routes.h"
#include "test.h"

static void test_quality_of_a_media_type(void)
{
        ASSERT_EQ_INT(row_format_quality(NULL, "text", "html"), 1000);
        ASSERT_EQ_INT(row_format_quality(" ", "text", "html"), 1000);
        ASSERT_EQ_INT(row_format_quality("text/html", "text", "html"), 1000);
        ASSERT_EQ_INT(row_format_quality("TEXT/HTML;q=0.5", "text", "html"), 500);
        ASSERT_EQ_INT(row_format_quality("text/*;q=0.3, */*;q=0.1", "text", "html"), 300);
        ASSERT_EQ_INT(row_format_quality("*/*;q=0.8", "application", "json"), 800);
        ASSERT_EQ_INT(row_format_quality("text/html;q=0, */*", "text", "html"), 0);
        ASSERT_EQ_INT(row_format_quality("application/json", "text", "html"), 0);
}

static void test_browsers_get_the_page(void)
{
        ASSERT_TRUE(explorer_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,"
                                        "image/avif,image/webp,*/*;q=0.8"));
        ASSERT_TRUE(explorer_wants_html("text/html"));
        ASSERT_TRUE(explorer_wants_html("application/json;q=0.5, text/html"));
        ASSERT_TRUE(explorer_wants_html("text/*"));
}

static void test_other_clients_get_the_index(void)
{
        ASSERT_FALSE(explorer_wants_html(NULL));
        ASSERT_FALSE(explorer_wants_html(""));
        ASSERT_FALSE(explorer_wants_html("*/*"));
        ASSERT_FALSE(explorer_wants_html("application/json"));
        ASSERT_FALSE(explorer_wants_html("text/html, application/json")); /* a tie: JSON */
        ASSERT_FALSE(explorer_wants_html("text/html;q=0.5, application/json"));
        ASSERT_FALSE(explorer_wants_html("text/csv"));
        ASSERT_FALSE(explorer_wants_html("text/html;q=0"));
}

static char *index_text(const api_t *api, const char *role)
{
        json_t *index = explorer_index(api, role);
        char *text = index ? json_dumps(index, JSON_COMPACT) : NULL;

        json_decref(index);
        return text;
}

static void check_index(const api_t *api, const char *role, const char *expected)
{
        char *text = index_text(api, role);

        ASSERT_NOT_NULL(text);
        if (text != NULL)
                ASSERT_EQ_STR(text, expected);
        free(text);
}

static void test_index_lists_every_entry_without_auth(void)
{
        api_t *api = parse_ok("{'resources': [{'path': '/users', 'table': 'users', 'key': 'id'},"
                              "               {'path': '/pairs', 'table': 'p', 'key': ['a', 'b']}],"
                              " 'queries': [{'path': '/users/{id}/peers', "
                              "              'sql': 'SELECT :id', 'params': {'id': {'type': 'int'}}}]}");

        if (api == NULL)
                return;
        check_index(api, NULL,
                    "{\"entries\":[{\"path\":\"/users\",\"kind\":\"resource\",\"item\":"
                    "\"/users/{id}\"},{\"path\":\"/pairs\",\"kind\":\"resource\",\"item\":"
                    "\"/pairs/{a}/{b}\"},{\"path\":\"/users/{id}/peers\",\"kind\":\"query\"}],"
                    "\"openapi\":\"/openapi.json\"}");
        api_free(api);
}

static void test_index_follows_the_roles(void)
{
        api_t *api = parse_ok(
                "{'auth': {'jwt': {'secret_env': 'S'}, 'anonymous_role': 'anon'},"
                " 'resources': [{'path': '/open', 'table': 't', 'key': 'id', "
                "                'roles': {'anon': {}, 'staff': {'columns': ['id']}}},"
                "               {'path': '/any', 'table': 't', 'key': 'id'}],"
                " 'queries': [{'path': '/q', 'sql': 'SELECT 1', 'roles': {'admin': {}}}]}");

        if (api == NULL)
                return;
        check_index(api, NULL, "{\"entries\":[],\"openapi\":\"/openapi.json\"}");
        check_index(api, "anon",
                    "{\"entries\":[{\"path\":\"/open\",\"kind\":\"resource\",\"item\":"
                    "\"/open/{id}\"}],\"openapi\":\"/openapi.json\"}");
        check_index(api, "staff",
                    "{\"entries\":[{\"path\":\"/open\",\"kind\":\"resource\",\"item\":"
                    "\"/open/{id}\"},{\"path\":\"/any\",\"kind\":\"resource\",\"item\":"
                    "\"/any/{id}\"}],\"openapi\":\"/openapi.json\"}");
        check_index(api, "admin",
                    "{\"entries\":[{\"path\":\"/any\",\"kind\":\"resource\",\"item\":"
                    "\"/any/{id}\"},{\"path\":\"/q\",\"kind\":\"query\"}],"
                    "\"openapi\":\"/openapi.json\"}");
        /* the same verdicts as api_role_may_use gives each entry */
        const api_resource_t *open = &api->resources[0];
        ASSERT_TRUE(api_role_may_use(api, open->access, open->access_count, "anon"));
        ASSERT_FALSE(api_role_may_use(api, NULL, 0, "anon"));
        ASSERT_TRUE(api_role_may_use(api, NULL, 0, "someone"));
        ASSERT_FALSE(api_role_may_use(api, NULL, 0, NULL));
        api_free(api);
}

int main(void)
{
        RUN_TEST(test_quality_of_a_media_type);
        RUN_TEST(test_browsers_get_the_page);
        RUN_TEST(test_other_clients_get_the_index);
        RUN_TEST(test_index_lists_every_entry_without_auth);
        RUN_TEST(test_index_follows_the_roles);
        return test_report();
}
