/*
 * Unit tests for what the configuration says of writes: a resource's
 * "methods", "writable" and "max_affected", a role's "methods", a named
 * query's "method", every start error they can give, and the route table
 * api_build_routes makes of them (the methods each path answers, its Allow).
 *
 * The JSON below is written with ' for " (and ^ for a real '), to stay readable.
 */
#include <string.h>

#include "api/api.h"
#include "api/config_shorthand.h"
#include "test.h"

/* "roles" need an "auth" section. */
#define AUTH "{'auth': {'jwt': {'secret_env': 'S'}}, "
#define RESOURCE(more) AUTH "'resources': [{'path': '/users', 'table': 'users', 'key': 'id'" more "}]}"
#define LISTED(more)                                                                       \
        AUTH "'resources': [{'path': '/users', 'table': 'users', 'key': 'id',"             \
        " 'columns': ['id', 'name', 'age']" more "}]}"
#define QUERY(sql, more) AUTH "'queries': [{'path': '/q', 'sql': '" sql "'" more "}]}"
#define AT "t.json: resources[0] '/users': "
#define AT_Q "t.json: queries[0] '/q': "

static void test_method_bits(void)
{
        ASSERT_EQ_UINT(api_method_bit("GET"), API_METHOD_GET);
        ASSERT_EQ_UINT(api_method_bit("HEAD"), API_METHOD_GET);
        ASSERT_EQ_UINT(api_method_bit("POST"), API_METHOD_POST);
        ASSERT_EQ_UINT(api_method_bit("PUT"), API_METHOD_PUT);
        ASSERT_EQ_UINT(api_method_bit("PATCH"), API_METHOD_PATCH);
        ASSERT_EQ_UINT(api_method_bit("DELETE"), API_METHOD_DELETE);
        ASSERT_EQ_UINT(api_method_bit("get"), 0);
        ASSERT_EQ_UINT(api_method_bit("OPTIONS"), 0);
        ASSERT_EQ_UINT(api_method_bit(NULL), 0);
}

static void test_defaults(void)
{
        api_t *api = parse_ok(RESOURCE(", 'roles': {'a': {}}") );

        if (api == NULL)
                return;
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_UINT(r->methods, API_METHOD_GET);
        ASSERT_EQ_UINT(r->max_affected, 1000);
        ASSERT_TRUE(r->all_writable);
        ASSERT_EQ_UINT(r->access[0].methods, API_METHOD_GET);
        api_free(api);
        api = parse_ok(QUERY("SELECT 1", ", 'roles': {'a': {}}"));
        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->queries[0].method, API_METHOD_GET);
        ASSERT_EQ_UINT(api->queries[0].access[0].methods, API_METHOD_GET);
        api_free(api);
}

static void test_methods_writable_and_max_affected(void)
{
        api_t *api = parse_ok(LISTED(", 'methods': ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'],"
                                     " 'writable': ['name', 'age'], 'max_affected': 5,"
                                     " 'roles': {'reader': {'methods': ['GET']},"
                                     "           'editor': {'methods': ['PATCH', 'GET']},"
                                     "           'all': {}}"));

        if (api == NULL)
                return;
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_UINT(r->methods, API_METHOD_GET | API_METHOD_POST | API_METHOD_PUT |
                                           API_METHOD_PATCH | API_METHOD_DELETE);
        ASSERT_EQ_UINT(r->max_affected, 5);
        ASSERT_FALSE(r->all_writable);
        ASSERT_FALSE(r->columns[0].writable);
        ASSERT_TRUE(r->columns[1].writable);
        ASSERT_TRUE(r->columns[2].writable);
        ASSERT_EQ_UINT(r->access[0].methods, API_METHOD_GET);
        ASSERT_EQ_UINT(r->access[1].methods, API_METHOD_PATCH | API_METHOD_GET);
        ASSERT_EQ_UINT(r->access[2].methods, r->methods);
        api_free(api);
}

/* Without "columns", "writable" names wait among the placeholders for the schema. */
static void test_writable_without_columns(void)
{
        api_t *api = parse_ok(RESOURCE(", 'types': {'active': 'boolean'},"
                                       " 'writable': ['name', 'active'], 'methods': ['POST']"));

        if (api == NULL)
                return;
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_UINT(r->methods, API_METHOD_POST);
        ASSERT_EQ_UINT(r->column_count, 3);
        ASSERT_EQ_STR(r->columns[0].name, "id");
        ASSERT_FALSE(r->columns[0].writable);
        ASSERT_EQ_STR(r->columns[1].name, "active");
        ASSERT_TRUE(r->columns[1].writable);
        ASSERT_EQ_STR(r->columns[2].name, "name");
        ASSERT_TRUE(r->columns[2].writable);
        api_free(api);
        api = parse_ok(RESOURCE(", 'writable': []"));
        if (api != NULL)
                ASSERT_FALSE(api->resources[0].all_writable);
        api_free(api);
}

static void test_resource_errors(void)
{
        expect_error(RESOURCE(", 'methods': []"),
                     AT "'methods' must be a non-empty array of GET, POST, PUT, PATCH and DELETE");
        expect_error(RESOURCE(", 'methods': 'GET'"),
                     AT "'methods' must be a non-empty array of GET, POST, PUT, PATCH and DELETE");
        expect_error(RESOURCE(", 'methods': ['GET', 'HEAD']"),
                     AT "'methods': 'HEAD' is not one of GET, POST, PUT, PATCH, DELETE");
        expect_error(RESOURCE(", 'methods': ['get']"),
                     AT "'methods': 'get' is not one of GET, POST, PUT, PATCH, DELETE");
        expect_error(RESOURCE(", 'methods': [1]"),
                     AT "'methods': a non-string is not one of GET, POST, PUT, PATCH, DELETE");
        expect_error(RESOURCE(", 'methods': ['POST', 'GET', 'POST']"),
                     AT "'methods': 'POST' appears twice");
        expect_error(RESOURCE(", 'max_affected': 0"),
                     AT "'max_affected' must be an integer from 1 to 1000000000");
        expect_error(RESOURCE(", 'max_affected': '5'"),
                     AT "'max_affected' must be an integer from 1 to 1000000000");
        expect_error(RESOURCE(", 'writable': 'name'"),
                     AT "'writable' must be an array of column names");
        expect_error(RESOURCE(", 'writable': [3]"),
                     AT "'writable': a column name must be a string");
        expect_error(RESOURCE(", 'writable': ['a', 'a']"), AT "'writable': 'a' appears twice");
        expect_error(LISTED(", 'writable': ['email']"),
                     AT "'writable': column 'email' is not in 'columns'");
        expect_error(LISTED(", 'writable': ['name', 'name']"),
                     AT "'writable': 'name' appears twice");
}

static void test_role_errors(void)
{
        expect_error(RESOURCE(", 'roles': {'r': {'methods': ['POST']}}"),
                     AT "roles 'r': 'methods': POST is not among the entry^s 'methods'");
        expect_error(RESOURCE(", 'methods': ['GET', 'POST'], 'roles': {'r': {'methods': []}}"),
                     AT "roles 'r': 'methods' must be a non-empty array of GET, POST, PUT, "
                        "PATCH and DELETE");
        expect_error(RESOURCE(", 'roles': {'r': {'methods': ['GET', 'GET']}}"),
                     AT "roles 'r': 'methods': 'GET' appears twice");
        expect_error(RESOURCE(", 'roles': {'r': {'methods': ['FETCH']}}"),
                     AT "roles 'r': 'methods': 'FETCH' is not one of GET, POST, PUT, PATCH, "
                        "DELETE");
}

static void test_query_method(void)
{
        static const struct {
                const char *method;
                unsigned bit;
        } cases[] = { { "POST", API_METHOD_POST },
                      { "PUT", API_METHOD_PUT },
                      { "PATCH", API_METHOD_PATCH },
                      { "DELETE", API_METHOD_DELETE } };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[256];
                snprintf(text, sizeof(text),
                         QUERY("INSERT INTO t (a) VALUES (:a)",
                               ", 'method': '%s', 'params': {'a': {'type': 'int'}},"
                               " 'roles': {'w': {}}"),
                         cases[i].method);
                api_t *api = parse_ok(text);
                if (api == NULL)
                        continue;
                ASSERT_EQ_UINT(api->queries[0].method, cases[i].bit);
                ASSERT_EQ_UINT(api->queries[0].access[0].methods, cases[i].bit);
                api_free(api);
        }
        api_t *api = parse_ok(QUERY("  update t set a = 1", ", 'method': 'PATCH'"));
        api_free(api);
        api = parse_ok(QUERY("\\n(CALL p())", ", 'method': 'POST'"));
        api_free(api);
        api = parse_ok(QUERY("DELETE FROM t", ", 'method': 'DELETE'"));
        api_free(api);
        api = parse_ok(QUERY("REPLACE INTO t VALUES (1)", ", 'method': 'PUT'"));
        api_free(api);
}

static void test_query_method_errors(void)
{
        expect_error(QUERY("INSERT INTO t VALUES (1)", ", 'method': 'HEAD'"),
                     AT_Q "'method' must be one of GET, POST, PUT, PATCH, DELETE");
        expect_error(QUERY("INSERT INTO t VALUES (1)", ", 'method': ['POST']"),
                     AT_Q "'method' must be one of GET, POST, PUT, PATCH, DELETE");
        expect_error(QUERY("INSERT INTO t VALUES (1)", ", 'method': 'post'"),
                     AT_Q "'method' must be one of GET, POST, PUT, PATCH, DELETE");
        expect_error(QUERY("INSERT INTO t VALUES (1)", ""),
                     AT_Q "an INSERT, REPLACE, UPDATE, DELETE or CALL statement needs a "
                          "'method': POST, PUT, PATCH or DELETE");
        expect_error(QUERY("delete from t", ", 'method': 'GET'"),
                     AT_Q "an INSERT, REPLACE, UPDATE, DELETE or CALL statement needs a "
                          "'method': POST, PUT, PATCH or DELETE");
        expect_error(QUERY("SELECT 1", ", 'method': 'POST'"),
                     AT_Q "'method': POST is for an INSERT, REPLACE, UPDATE, DELETE or CALL "
                          "statement");
        expect_error(QUERY("INSERTED", ", 'method': 'POST'"),
                     AT_Q "'method': POST is for an INSERT, REPLACE, UPDATE, DELETE or CALL "
                          "statement");
        expect_error(QUERY("DELETE FROM t", ", 'method': 'DELETE', 'roles': {'r': "
                                            "{'methods': ['DELETE']}}"),
                     AT_Q "roles 'r': a named query^s rule is {}: its SQL chooses the columns, "
                          "and parameters 'from' the claims its rows");
}

/* ---- the route table ---- */

static void handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
}

static const route_t builtins[] = {
        { .template = "/healthz", .methods = { { "GET", handler } } },
};

static const api_handlers_t handlers = {
        .builtins = builtins,
        .builtin_count = 1,
        .collection = { { "GET", handler }, { "POST", handler, true },
                        { "PATCH", handler, true }, { "DELETE", handler } },
        .item = { { "GET", handler }, { "PUT", handler, true }, { "PATCH", handler, true },
                  { "DELETE", handler } },
        .query = { { "GET", handler }, { "POST", handler, true }, { "PUT", handler, true },
                   { "PATCH", handler, true }, { "DELETE", handler, true } },
};

static void expect_allow(const api_t *api, const char *template, const char *allow)
{
        const route_t *route = api_route(api, template);
        char got[64] = "(no route)";

        if (route != NULL)
                router_allow(route, got, sizeof(got));
        if (strcmp(got, allow) != 0)
                fprintf(stderr, "  (Allow of %s)\n", template);
        ASSERT_EQ_STR(got, allow);
}

static void test_routes_follow_methods(void)
{
        api_t *api = parse_ok(
                "{'resources': ["
                " {'path': '/a', 'table': 'a', 'key': 'id'},"
                " {'path': '/b', 'table': 'b', 'key': 'id', 'methods': ['DELETE', 'PUT', 'GET',"
                "  'POST', 'PATCH']},"
                " {'path': '/c', 'table': 'c', 'key': 'id', 'methods': ['POST']},"
                " {'path': '/d', 'table': 'd', 'key': 'id', 'methods': ['PUT', 'DELETE']}],"
                " 'queries': [{'path': '/q/r', 'sql': 'SELECT 1'},"
                "  {'path': '/q/{id}/w', 'sql': 'UPDATE t SET a = 1 WHERE id = :id',"
                "   'method': 'PATCH'}]}");

        if (api == NULL)
                return;
        ASSERT_EQ_INT(api_build_routes(api, &handlers), 0);
        expect_allow(api, "/healthz", "GET, HEAD");
        expect_allow(api, "/a", "GET, HEAD");
        expect_allow(api, "/a/{id}", "GET, HEAD");
        expect_allow(api, "/b", "GET, HEAD, POST, PATCH, DELETE");
        expect_allow(api, "/b/{id}", "GET, HEAD, PUT, PATCH, DELETE");
        expect_allow(api, "/c", "POST");
        ASSERT_NULL(api_route(api, "/c/{id}")); /* nothing to answer on an item */
        expect_allow(api, "/d", "DELETE");
        expect_allow(api, "/d/{id}", "PUT, DELETE");
        expect_allow(api, "/q/r", "GET, HEAD");
        expect_allow(api, "/q/{id}/w", "PATCH");
        const route_t *b = api_route(api, "/b");
        ASSERT_TRUE(router_method(b, "POST")->takes_body);
        ASSERT_FALSE(router_method(b, "DELETE")->takes_body);
        ASSERT_NULL(router_method(api_route(api, "/c"), "GET"));
        ASSERT_NULL(router_method(api_route(api, "/c"), "HEAD"));
        api_free(api);
}

int main(void)
{
        RUN_TEST(test_method_bits);
        RUN_TEST(test_defaults);
        RUN_TEST(test_methods_writable_and_max_affected);
        RUN_TEST(test_writable_without_columns);
        RUN_TEST(test_resource_errors);
        RUN_TEST(test_role_errors);
        RUN_TEST(test_query_method);
        RUN_TEST(test_query_method_errors);
        RUN_TEST(test_routes_follow_methods);
        return test_report();
}
