/*
 * Unit tests for the "auth" section and the entries' "roles" (the file's
 * shape only: views, conditions and keys are checked against the database
 * and loaded at start, and tested over HTTP).
 */
#include <string.h>

#include "api/api.h"
#include "api/config_shorthand.h"
#include "test.h"

#define ENTRY "'resources': [{'path': '/o', 'table': 'o', 'key': 'id'"
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_full_section(void)
{
        api_t *api = parse_ok(
                "{'auth': {'jwt': {'secret_env': 'S', 'jwks_file': '/k.json', 'audience': 'q',"
                "                  'issuer': 'i', 'role_claim': 'app.role', 'leeway_s': 5},"
                "          'api_keys': [{'sha256': '" HEX64 "', 'role': 'rep', "
                "                        'claims': {'tenant': 7}}],"
                "          'anonymous_role': 'anon',"
                "          'roles': {'customer': {'db_role': 'shop', "
                "                                 'rate': {'per_second': 2.5, 'burst': 10}}}},"
                ENTRY ", 'roles': {'anon': {'columns': ['id', 'status']},"
                "                   'customer': {'rows': 'c = :claims.sub AND t = :claims.org.id'},"
                "                   'admin': {}}}],"
                " 'queries': [{'path': '/q', 'sql': 'SELECT :t', "
                "   'params': {'t': {'type': 'int', 'from': 'claims.tenant'}},"
                "   'roles': {'customer': {}}}]}");

        if (api == NULL)
                return;
        const api_auth_t *a = api->auth;
        ASSERT_NOT_NULL(a);
        ASSERT_EQ_STR(a->jwt->secret_env, "S");
        ASSERT_EQ_STR(a->jwt->jwks_file, "/k.json");
        ASSERT_EQ_STR(a->jwt->role_claim, "app.role");
        ASSERT_EQ_UINT(a->jwt->leeway_s, 5);
        ASSERT_EQ_UINT(a->key_count, 1);
        ASSERT_EQ_UINT(a->keys[0].sha256[1], 0x11);
        ASSERT_EQ_INT(json_integer_value(json_object_get(a->keys[0].claims, "tenant")), 7);
        ASSERT_EQ_STR(a->anonymous_role, "anon");
        ASSERT_EQ_STR(a->roles[0].db_role, "shop");
        ASSERT_TRUE(a->roles[0].has_rate);
        ASSERT_TRUE(a->roles[0].per_second == 2.5 && a->roles[0].burst == 10);
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_UINT(r->access_count, 3);
        ASSERT_EQ_UINT(r->access[0].column_count, 2);
        ASSERT_EQ_STR(r->access[1].rows, "c = :claims.sub AND t = :claims.org.id");
        ASSERT_NULL(r->access[2].columns);
        ASSERT_NULL(r->access[2].rows);
        ASSERT_EQ_STR(api->queries[0].params[0].from_claim, "tenant");
        ASSERT_EQ_STR(api_access_for(r->access, r->access_count, "customer")->role, "customer");
        ASSERT_NULL(api_access_for(r->access, r->access_count, "nobody"));
        api_free(api);
}

static void test_defaults(void)
{
        api_t *api = parse_ok("{'auth': {'jwt': {'secret_env': 'S'}}, " ENTRY "}]}");

        if (api == NULL)
                return;
        ASSERT_EQ_STR(api->auth->jwt->role_claim, "role");
        ASSERT_EQ_UINT(api->auth->jwt->leeway_s, 30);
        ASSERT_NULL(api->auth->anonymous_role);
        api_free(api);
}

static void test_section_mistakes(void)
{
        expect_error("{'auth': [], " ENTRY "}]}", "t.json: auth: 'auth' must be an object");
        expect_error("{'auth': {'jwks': {}}, " ENTRY "}]}",
                     "t.json: auth: unknown key 'jwks'");
        expect_error("{'auth': {'jwt': {}}, " ENTRY "}]}",
                     "t.json: auth: 'jwt' needs 'secret_env' or 'jwks_file' (or both)");
        expect_error("{'auth': {'jwt': {'secret_env': ''}}, " ENTRY "}]}",
                     "t.json: auth: 'secret_env' must be a non-empty string");
        expect_error("{'auth': {'jwt': {'secret_env': 'S', 'leeway_s': -1}}, " ENTRY "}]}",
                     "t.json: auth: 'leeway_s' must be an integer from 0 to 3600");
        expect_error("{'auth': {'api_keys': [{'sha256': 'abc', 'role': 'r'}]}, " ENTRY "}]}",
                     "t.json: auth: an API key^s 'sha256' must be 64 hexadecimal digits");
        expect_error("{'auth': {'api_keys': [{'sha256': '" HEX64 "'}]}, " ENTRY "}]}",
                     "t.json: auth: an API key^s 'role' must be a role name");
        expect_error("{'auth': {'api_keys': [{'sha256': '" HEX64 "', 'role': 'r'},"
                     "{'sha256': '" HEX64 "', 'role': 's'}]}, " ENTRY "}]}",
                     "t.json: auth: 'api_keys' lists one key twice");
        expect_error("{'auth': {'roles': {'r': {'rate': {'per_second': 0, 'burst': 1}}}}, "
                     ENTRY "}]}",
                     "t.json: auth: 'rate': 'per_second' must be a number from 0.001 to 1000000");
        expect_error("{'auth': {'roles': {'r': {'db_role': 5}}}, " ENTRY "}]}",
                     "t.json: auth: 'db_role' must be a non-empty string");
        expect_error("{'auth': {'anonymous_role': ''}, " ENTRY "}]}",
                     "t.json: auth: 'anonymous_role' must be a role name");
}

static void test_entry_rule_mistakes(void)
{
        expect_error("{'auth': {}, " ENTRY ", 'roles': {}}]}",
                     "t.json: resources[0] '/o': 'roles' must be an object naming at least "
                     "one role");
        expect_error("{'auth': {}, " ENTRY ", 'roles': {'a': {'cols': []}}}]}",
                     "t.json: resources[0] '/o': unknown key 'cols'");
        expect_error("{'auth': {}, " ENTRY ", 'roles': {'a': {'columns': ['x', 'x']}}}]}",
                     "t.json: resources[0] '/o': roles 'a': 'columns': 'x' appears twice");
        expect_error("{'auth': {}, " ENTRY ", 'roles': {'a': {'rows': 'x = :tenant'}}}]}",
                     "t.json: resources[0] '/o': roles 'a': 'rows': the placeholder :tenant "
                     "is not :claims.<path>");
        expect_error("{'auth': {}, " ENTRY ", 'roles': {'a': {'rows': 'x = 1; DROP TABLE o'}}}]}",
                     "t.json: resources[0] '/o': roles 'a': 'rows': text after the ^;^ at byte "
                     "7: one statement only");
        expect_error("{'auth': {}, 'queries': [{'path': '/q', 'sql': 'SELECT 1',"
                     " 'roles': {'a': {'rows': 'x = 1'}}}]}",
                     "t.json: queries[0] '/q': roles 'a': a named query^s rule is {}: its SQL "
                     "chooses the columns, and parameters 'from' the claims its rows");
}

static void test_from_claims(void)
{
        expect_error("{'auth': {}, 'queries': [{'path': '/q', 'sql': 'SELECT :t',"
                     " 'params': {'t': {'type': 'int', 'from': 'tenant'}}}]}",
                     "t.json: queries[0] '/q': parameter 't': 'from' must be 'claims.<path>', "
                     "a dotted path of names");
        expect_error("{'auth': {}, 'queries': [{'path': '/q/{t}', 'sql': 'SELECT :t',"
                     " 'params': {'t': {'type': 'int', 'from': 'claims.t'}}}]}",
                     "t.json: queries[0] '/q/{t}': parameter 't': a path parameter comes from "
                     "the path, not 'from'");
        expect_error("{'auth': {}, 'queries': [{'path': '/q', 'sql': 'SELECT :t',"
                     " 'params': {'t': {'type': 'int', 'default': 1, 'from': 'claims.t'}}}]}",
                     "t.json: queries[0] '/q': parameter 't': a parameter 'from' the claims "
                     "has no 'default'");
}

static void test_rules_need_auth(void)
{
        expect_error("{" ENTRY ", 'roles': {'a': {}}}]}",
                     "t.json: '/o' has 'roles' or parameters 'from' the claims, which need an "
                     "'auth' section");
        expect_error("{'queries': [{'path': '/q', 'sql': 'SELECT :t',"
                     " 'params': {'t': {'type': 'int', 'from': 'claims.t'}}}]}",
                     "t.json: '/q' has 'roles' or parameters 'from' the claims, which need an "
                     "'auth' section");
}

int main(void)
{
        RUN_TEST(test_full_section);
        RUN_TEST(test_defaults);
        RUN_TEST(test_section_mistakes);
        RUN_TEST(test_entry_rule_mistakes);
        RUN_TEST(test_from_claims);
        RUN_TEST(test_rules_need_auth);
        return test_report();
}
