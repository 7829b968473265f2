/*
 * Unit tests for route matching against a small local table: exact paths,
 * {param} captures, what does not match, and 404 versus 405.
 */
#include <string.h>

#include "http/router.h"
#include "test.h"

/* Each dummy handler records that it was the one dispatched to. */
static int last_handler;

static void root_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 1;
}

static void users_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 2;
}

static void user_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 3;
}

static void user_post_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 4;
}

static void health_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 5;
}

static void deep_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        last_handler = 6;
}

static const route_t routes[] = {
        { .template = "/", .methods = { { "GET", root_handler } } },
        { .template = "/users", .methods = { { "GET", users_handler } } },
        { .template = "/users/{id}", .methods = { { "GET", user_handler } } },
        { .template = "/users/{id}/posts/{post}", .methods = { { "GET", user_post_handler } } },
        { .template = "/healthz", .methods = { { "GET", health_handler } } },
        { .template = "/a/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", .methods = { { "GET", deep_handler } } },
};

enum { ROUTE_COUNT = sizeof(routes) / sizeof(routes[0]) };

static router_result_t match(const char *method, const char *path, route_match_t *m)
{
        memset(m, 0xA5, sizeof(*m)); /* stale garbage must not leak into the answer */
        return router_match(routes, ROUTE_COUNT, method, path, m);
}

/* Dispatches through the matched route and answers which handler ran. */
static int dispatch(const route_match_t *m)
{
        last_handler = 0;
        if (m->route != NULL && m->method != NULL && m->method->handler != NULL)
                m->method->handler(NULL, NULL, m);
        return last_handler;
}

static void test_exact_paths(void)
{
        route_match_t m;

        ASSERT_EQ_INT(match("GET", "/users", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[1]);
        ASSERT_EQ_UINT(m.param_count, 0);
        ASSERT_EQ_INT(dispatch(&m), 2);

        ASSERT_EQ_INT(match("GET", "/healthz", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[4]);
        ASSERT_EQ_UINT(m.param_count, 0);
        ASSERT_EQ_INT(dispatch(&m), 5);

        ASSERT_EQ_INT(match("GET", "/", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[0]);
        ASSERT_EQ_INT(dispatch(&m), 1);
}

static void test_param_capture(void)
{
        static const char path[] = "/users/42";
        route_match_t m;

        ASSERT_EQ_INT(match("GET", path, &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[2]);
        ASSERT_EQ_INT(dispatch(&m), 3);
        ASSERT_EQ_UINT(m.param_count, 1);
        /* The capture points into the path itself. */
        ASSERT_EQ_PTR(m.params[0], path + 7);
        ASSERT_EQ_UINT(m.param_lengths[0], 2);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "42", 2);
}

static void test_param_is_taken_raw(void)
{
        static const char path[] = "/users/%2F..%20x";
        route_match_t m;

        ASSERT_EQ_INT(match("GET", path, &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[2]);
        ASSERT_EQ_UINT(m.param_count, 1);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "%2F..%20x", 9);
}

/* The path is split at its slashes before anything is decoded: "%2F" is
 * inside a segment, and literal segments match their encoded form. */
static void test_encoded_path(void)
{
        route_match_t m;

        ASSERT_EQ_INT(match("GET", "/users%2F1", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/users%2f1", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/%75sers", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[1]);
        ASSERT_EQ_INT(match("GET", "/%75sers/a%2Fb", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[2]);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "a%2Fb", 5);
        ASSERT_EQ_INT(match("GET", "/users%2F1/posts/2", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/user%73%2F", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/user%7", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/users%00", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("GET", "/healthz%", &m), ROUTE_NOT_FOUND);
}

static void test_two_params(void)
{
        static const char path[] = "/users/abc/posts/7";
        route_match_t m;

        ASSERT_EQ_INT(match("GET", path, &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[3]);
        ASSERT_EQ_INT(dispatch(&m), 4);
        ASSERT_EQ_UINT(m.param_count, 2);
        ASSERT_EQ_PTR(m.params[0], path + 7);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "abc", 3);
        ASSERT_EQ_PTR(m.params[1], path + 17);
        ASSERT_EQ_MEM(m.params[1], m.param_lengths[1], "7", 1);
}

static void test_eight_params_fit(void)
{
        route_match_t m;

        ASSERT_EQ_INT(match("GET", "/a/1/22/333/4444/5/6/7/8", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &routes[5]);
        ASSERT_EQ_UINT(m.param_count, ROUTER_MAX_PARAMS);
        ASSERT_EQ_MEM(m.params[7], m.param_lengths[7], "8", 1);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "1", 1);
        ASSERT_EQ_MEM(m.params[1], m.param_lengths[1], "22", 2);
        ASSERT_EQ_MEM(m.params[2], m.param_lengths[2], "333", 3);
        ASSERT_EQ_MEM(m.params[3], m.param_lengths[3], "4444", 4);
}

static void test_no_match(void)
{
        static const char *const paths[] = {
                "/users/",          /* trailing slash: an empty id */
                "/users//",
                "/healthz/",        /* trailing slash on an exact path */
                "/users/42/",
                "//users",          /* empty segment */
                "/users//posts/7",
                "/users/42/posts/", /* empty second param */
                "/users/42/extra",  /* longer than any template */
                "/users/42/posts/7/x",
                "/healthz/x",
                "/healthzz",        /* same prefix, longer segment */
                "/health",
                "/users42",
                "/Users",           /* case matters */
                "/USERS/1",
                "/nope",
                "",
                "users",
                "/users/42/posts",
                "/a/1/2/3",
                "/a/1/2/3/4/5",
        };
        route_match_t m;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                router_result_t r = match("GET", paths[i], &m);
                if (r != ROUTE_NOT_FOUND) {
                        test_fail_header(__FILE__, __LINE__);
                        fprintf(stderr, "GET \"%s\": got %d, expected ROUTE_NOT_FOUND\n", paths[i],
                                (int)r);
                } else {
                        test_pass();
                }
                ASSERT_NULL(m.route);
        }
}

static void test_other_methods_are_405(void)
{
        static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                                               "TRACE", "CONNECT", "get", "" };
        static const char *const paths[] = { "/users", "/users/42", "/healthz", "/" };
        route_match_t m;

        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
                        router_result_t r = match(methods[i], paths[j], &m);
                        if (r != ROUTE_METHOD_NOT_ALLOWED) {
                                test_fail_header(__FILE__, __LINE__);
                                fprintf(stderr, "%s \"%s\": got %d, expected 405\n", methods[i],
                                        paths[j], (int)r);
                        } else {
                                test_pass();
                        }
                        ASSERT_NOT_NULL(m.route);
                }
        }
        /* The answer names what is allowed. */
        char allow[64];
        router_allow(m.route, allow, sizeof(allow));
        ASSERT_EQ_STR(allow, "GET, HEAD");
}

static void test_unknown_path_is_404_for_any_method(void)
{
        route_match_t m;

        ASSERT_EQ_INT(match("POST", "/nope", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("DELETE", "/users/", &m), ROUTE_NOT_FOUND);
        ASSERT_EQ_INT(match("HEAD", "/users/1/x", &m), ROUTE_NOT_FOUND);
}

static void test_head_is_get(void)
{
        static const char *const paths[] = { "/", "/users", "/users/7", "/users/7/posts/8",
                                             "/healthz" };
        route_match_t get, head;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                ASSERT_EQ_INT(match("GET", paths[i], &get), ROUTE_FOUND);
                ASSERT_EQ_INT(match("HEAD", paths[i], &head), ROUTE_FOUND);
                ASSERT_EQ_PTR(head.route, get.route);
                ASSERT_EQ_UINT(head.param_count, get.param_count);
                for (unsigned k = 0; k < get.param_count && k < ROUTER_MAX_PARAMS; k++) {
                        ASSERT_EQ_PTR(head.params[k], get.params[k]);
                        ASSERT_EQ_UINT(head.param_lengths[k], get.param_lengths[k]);
                }
        }
}

static void test_most_literal_template_wins(void)
{
        static const route_t ordered[] = {
                { .template = "/users/{id}", .methods = { { "GET", user_handler } } },
                { .template = "/users/me", .methods = { { "GET", root_handler } } },
                { .template = "/users/{id}/posts/{post}", .methods = { { "GET", user_post_handler } } },
                { .template = "/users/{id}/posts/latest", .methods = { { "GET", deep_handler } } },
        };
        route_match_t m;

        ASSERT_EQ_INT(router_match(ordered, 4, "GET", "/users/me/posts/latest", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &ordered[3]);
        ASSERT_EQ_UINT(m.param_count, 1);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "me", 2);
        ASSERT_EQ_INT(router_match(ordered, 4, "GET", "/users/me/posts/7", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &ordered[2]);
        ASSERT_EQ_UINT(m.param_count, 2);
        ASSERT_EQ_INT(router_match(ordered, 2, "GET", "/users/me", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &ordered[1]);
        ASSERT_EQ_UINT(m.param_count, 0);
        ASSERT_EQ_INT(router_match(ordered, 2, "GET", "/users/mex", &m), ROUTE_FOUND);
        ASSERT_EQ_PTR(m.route, &ordered[0]);
        ASSERT_EQ_UINT(m.param_count, 1);
        ASSERT_EQ_MEM(m.params[0], m.param_lengths[0], "mex", 3);
}

static void test_empty_table(void)
{
        route_match_t m;

        ASSERT_EQ_INT(router_match(routes, 0, "GET", "/users", &m), ROUTE_NOT_FOUND);
        ASSERT_NULL(m.route);
}

/* A route lists its methods: each finds its own handler, HEAD follows GET
 * only where GET is listed, and Allow names them all in table order. */
static void test_methods_of_a_route(void)
{
        static const route_t table[] = {
                { .template = "/items",
                  .methods = { { "GET", users_handler }, { "POST", user_handler, true } } },
                { .template = "/items/{id}",
                  .methods = { { "PUT", user_post_handler, true }, { "DELETE", deep_handler } } },
        };
        route_match_t m;
        char allow[64];

        ASSERT_EQ_INT(router_match(table, 2, "POST", "/items", &m), ROUTE_FOUND);
        ASSERT_EQ_INT(dispatch(&m), 3);
        ASSERT_TRUE(m.method->takes_body);
        ASSERT_EQ_INT(router_match(table, 2, "HEAD", "/items", &m), ROUTE_FOUND);
        ASSERT_EQ_INT(dispatch(&m), 2);
        ASSERT_FALSE(m.method->takes_body);
        ASSERT_EQ_INT(router_match(table, 2, "PUT", "/items", &m), ROUTE_METHOD_NOT_ALLOWED);
        router_allow(m.route, allow, sizeof(allow));
        ASSERT_EQ_STR(allow, "GET, HEAD, POST");

        ASSERT_EQ_INT(router_match(table, 2, "DELETE", "/items/4", &m), ROUTE_FOUND);
        ASSERT_EQ_INT(dispatch(&m), 6);
        ASSERT_EQ_INT(router_match(table, 2, "GET", "/items/4", &m), ROUTE_METHOD_NOT_ALLOWED);
        ASSERT_EQ_INT(router_match(table, 2, "HEAD", "/items/4", &m), ROUTE_METHOD_NOT_ALLOWED);
        router_allow(m.route, allow, sizeof(allow));
        ASSERT_EQ_STR(allow, "PUT, DELETE");
}

/* An Allow header that does not fit is cut, never overrun. */
static void test_allow_is_bounded(void)
{
        static const route_t route = {
                .template = "/x",
                .methods = { { "GET", NULL }, { "POST", NULL }, { "PATCH", NULL } },
        };
        char allow[12];

        memset(allow, 'x', sizeof(allow));
        router_allow(&route, allow, sizeof(allow));
        ASSERT_TRUE(memchr(allow, '\0', sizeof(allow)) != NULL);
        ASSERT_EQ_STR(allow, "GET, HEAD");
}

int main(void)
{
        RUN_TEST(test_exact_paths);
        RUN_TEST(test_param_capture);
        RUN_TEST(test_param_is_taken_raw);
        RUN_TEST(test_encoded_path);
        RUN_TEST(test_two_params);
        RUN_TEST(test_eight_params_fit);
        RUN_TEST(test_no_match);
        RUN_TEST(test_other_methods_are_405);
        RUN_TEST(test_unknown_path_is_404_for_any_method);
        RUN_TEST(test_head_is_get);
        RUN_TEST(test_most_literal_template_wins);
        RUN_TEST(test_empty_table);
        RUN_TEST(test_methods_of_a_route);
        RUN_TEST(test_allow_is_bounded);
        return test_report();
}
