/*
 * Unit tests for a resource's "relations" in the configuration: what is
 * read of them, and every start error their shape can give. (Resolving
 * them to entries and reading the foreign keys needs the database: the
 * integration tests do it.)
 *
 * The JSON below is written with ' for " (and ^ for a real '), to stay readable.
 */
#include <string.h>

#include "api/api.h"
#include "api/config_shorthand.h"
#include "test.h"

#define RESOURCE(more) "{'resources': [{'path': '/users', 'table': 'users', 'key': 'id'" more "}]}"
#define RELATION(more) RESOURCE(", 'relations': [" more "]")
#define AT "t.json: resources[0] '/users': "

static void test_declared(void)
{
        api_t *api = parse_ok(RELATION("{'name': 'team', 'from': ['team_id', 'org'], "
                                       "'to': '/teams', 'to_columns': ['id', 'org']}"));

        if (api == NULL)
                return;
        const api_resource_t *res = &api->resources[0];
        ASSERT_EQ_UINT(res->relation_count, 1);
        const api_relation_t *rel = &res->relations[0];
        ASSERT_EQ_STR(rel->name, "team");
        ASSERT_NULL(rel->constraint);
        ASSERT_EQ_STR(rel->target_path, "/teams");
        ASSERT_TRUE(rel->to_one);
        ASSERT_EQ_UINT(rel->column_count, 2);
        ASSERT_EQ_STR(rel->columns[1], "org");
        ASSERT_EQ_STR(rel->target_columns[0], "id");
        api_free(api);
        api = parse_ok(RESOURCE(""));
        if (api != NULL)
                ASSERT_EQ_UINT(api->resources[0].relation_count, 0);
        api_free(api);
}

static void test_errors(void)
{
        expect_error(RESOURCE(", 'relations': {}"),
                     AT "'relations' must be an array of at most 64 objects");
        expect_error(RELATION("1"), AT "'relations' must be an array of objects");
        expect_error(RELATION("{'name': 'a(b', 'from': ['x'], 'to': '/t', 'to_columns': ['id']}"),
                     AT "'relations': 'name' must be 1 to 64 characters, none of ( ) , ! . * & =");
        expect_error(RELATION("{'from': ['x'], 'to': '/t', 'to_columns': ['id']}"),
                     AT "'relations': 'name' must be 1 to 64 characters, none of ( ) , ! . * & =");
        expect_error(RELATION("{'name': 'a', 'from': ['x'], 'to_columns': ['id']}"),
                     AT "'relations' 'a': 'to' must be a resource^s path");
        expect_error(RELATION("{'name': 'a', 'from': ['x'], 'to': '/t', 'to_columns': ['a', 'b']}"),
                     AT "'relations' 'a': 'from' and 'to_columns' must name as many columns");
        expect_error(RELATION("{'name': 'a', 'from': [], 'to': '/t', 'to_columns': []}"),
                     AT "'relations': 'from' must be an array of 1 to 4 column names");
        expect_error(RELATION("{'name': 'a', 'from': ['x', 1], 'to': '/t', "
                              "'to_columns': ['a', 'b']}"),
                     AT "'relations': a column name must be a string");
        expect_error(RELATION("{'name': 'a', 'from': ['x'], 'to': '/t', 'to_columns': [2]}"),
                     AT "'relations': a column name must be a string");
        expect_error(RELATION("{'name': 'a', 'from': ['x'], 'to': '/t', 'to_columns': ['y'], "
                              "'on': 1}"),
                     AT "unknown key 'on'");
}

int main(void)
{
        RUN_TEST(test_declared);
        RUN_TEST(test_errors);
        return test_report();
}
