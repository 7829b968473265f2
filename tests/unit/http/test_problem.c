/*
 * Unit tests for RFC 9457 problem documents: the fields and their types, the
 * type URN and fixed titles, and that bad UTF-8 in the detail still yields a
 * document.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_errors.h"
#include "http/problem.h"
#include "test.h"

static const char *string_member(json_t *object, const char *key)
{
        return json_string_value(json_object_get(object, key));
}

static void test_fields(void)
{
        json_t *p = problem_new(404, "not-found", "no user with id 42", "req-0001");

        ASSERT_NOT_NULL(p);
        if (p == NULL)
                return;
        ASSERT_TRUE(json_is_object(p));
        ASSERT_EQ_UINT(json_object_size(p), 5);
        ASSERT_EQ_STR(string_member(p, "type"), "urn:queryd:problem:not-found");
        ASSERT_EQ_STR(string_member(p, "title"), "Not Found");
        ASSERT_TRUE(json_is_integer(json_object_get(p, "status")));
        ASSERT_EQ_INT(json_integer_value(json_object_get(p, "status")), 404);
        ASSERT_EQ_STR(string_member(p, "detail"), "no user with id 42");
        ASSERT_EQ_STR(string_member(p, "request_id"), "req-0001");
        /* The caller owns the only reference. */
        ASSERT_EQ_INT(p->refcount, 1);
        json_decref(p);
}

static void test_titles(void)
{
        static const struct {
                const char *slug;
                const char *title;
                unsigned status;
        } cases[] = {
                { "not-found", "Not Found", 404 },
                { "method-not-allowed", "Method Not Allowed", 405 },
                { "invalid-parameter", "Invalid Parameter", 400 },
                { "database-unavailable", "Database Unavailable", 503 },
                { "overloaded", "Overloaded", 503 },
                { "timeout", "Timeout", 504 },
                { "database-error", "Database Error", 500 },
                { "internal", "Internal Error", 500 },
                { "too-many-requests", "Too Many Requests", 429 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char type[80];
                json_t *p = problem_new(cases[i].status, cases[i].slug, "d", "r");
                ASSERT_NOT_NULL(p);
                if (p == NULL)
                        continue;
                snprintf(type, sizeof(type), "urn:queryd:problem:%s", cases[i].slug);
                ASSERT_EQ_STR(string_member(p, "type"), type);
                ASSERT_EQ_STR(string_member(p, "title"), cases[i].title);
                ASSERT_EQ_INT(json_integer_value(json_object_get(p, "status")), cases[i].status);
                json_decref(p);
        }
}

static void test_unknown_slug_still_yields_a_document(void)
{
        json_t *p = problem_new(418, "teapot", "short and stout", "r1");

        ASSERT_NOT_NULL(p);
        if (p == NULL)
                return;
        ASSERT_EQ_STR(string_member(p, "type"), "urn:queryd:problem:teapot");
        ASSERT_NOT_NULL(string_member(p, "title"));
        ASSERT_TRUE(strlen(string_member(p, "title")) > 0);
        json_decref(p);
}

/* Every slug the database error table can produce has its own title. */
static void test_db_error_slugs_have_titles(void)
{
        int untitled = 0;

        for (unsigned code = 0; code < 5000; code++) {
                db_error_mapping_t m = db_errors_map(code);
                json_t *p = problem_new(m.status, m.slug, "d", "r");
                const char *title = p ? string_member(p, "title") : NULL;
                if (title == NULL || strcmp(title, "Error") == 0) {
                        if (untitled++ < 5)
                                fprintf(stderr, "  errno %u: slug %s has no title\n", code, m.slug);
                }
                json_decref(p);
        }
        ASSERT_EQ_INT(untitled, 0);
}

static void test_invalid_utf8_detail(void)
{
        static const char *const details[] = {
                "bad byte \xFF here",
                "overlong \xC0\x80",
                "surrogate \xED\xA0\x80",
                "truncated \xF0\x9F\x98",
        };

        for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
                json_t *p = problem_new(400, "invalid-parameter", details[i], "req-9");
                ASSERT_NOT_NULL(p);
                if (p == NULL)
                        continue;
                ASSERT_TRUE(json_is_object(p));
                ASSERT_EQ_STR(string_member(p, "type"), "urn:queryd:problem:invalid-parameter");
                ASSERT_EQ_INT(json_integer_value(json_object_get(p, "status")), 400);
                ASSERT_EQ_STR(string_member(p, "request_id"), "req-9");
                const char *detail = string_member(p, "detail");
                ASSERT_NOT_NULL(detail);
                ASSERT_TRUE(detail != NULL && strlen(detail) > 0);
                /* And it serializes: this is what goes on the wire. */
                char *body = json_dumps(p, JSON_COMPACT);
                ASSERT_NOT_NULL(body);
                free(body);
                json_decref(p);
        }
}

static void test_valid_utf8_detail_is_kept(void)
{
        json_t *p = problem_new(400, "invalid-parameter", "caf\xC3\xA9 \xF0\x9F\x98\x80", "r");

        ASSERT_NOT_NULL(p);
        if (p == NULL)
                return;
        ASSERT_EQ_STR(string_member(p, "detail"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
        json_decref(p);
}

static void test_serialized_form(void)
{
        json_t *p = problem_new(504, "timeout", "took \"too\" long", "abc");
        char *body = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

        ASSERT_EQ_STR(body, "{\"detail\":\"took \\\"too\\\" long\",\"request_id\":\"abc\","
                            "\"status\":504,\"title\":\"Timeout\","
                            "\"type\":\"urn:queryd:problem:timeout\"}");
        free(body);
        json_decref(p);
}

int main(void)
{
        RUN_TEST(test_fields);
        RUN_TEST(test_titles);
        RUN_TEST(test_unknown_slug_still_yields_a_document);
        RUN_TEST(test_db_error_slugs_have_titles);
        RUN_TEST(test_invalid_utf8_detail);
        RUN_TEST(test_valid_utf8_detail_is_kept);
        RUN_TEST(test_serialized_form);
        return test_report();
}
