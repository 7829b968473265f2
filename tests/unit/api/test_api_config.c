/*
 * Unit tests for the configuration file's shape (api_config_load and
 * api_config_parse): the demo configuration read field by field, the
 * defaults, and every kind of mistake, each with the message naming the entry.
 *
 * The JSON below is written with ' for " (and ^ for a real '), to stay readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/config_shorthand.h"
#include "test.h"

/* One resource entry, with the given members after path, table and key. */
#define RESOURCE(more) "{'resources': [{'path': '/users', 'table': 'users', 'key': 'id'" more "}]}"
/* One query entry: path, sql and the given members. */
#define QUERY(path, sql, more) "{'queries': [{'path': '" path "', 'sql': '" sql "'" more "}]}"

static const char demo[] =
        "{'resources': [{'path': '/users', 'table': 'users', 'key': 'id',"
        "   'types': {'active': 'boolean'}, 'max_limit': 10000, 'default_limit': 100}],"
        " 'queries': [{'path': '/users/{id}/peers',"
        "   'sql': 'SELECT id, name, age FROM users WHERE id <> :id AND age BETWEEN :lo AND :hi"
        " ORDER BY age, id LIMIT :limit',"
        "   'params': {'id': {'type': 'int'}, 'lo': {'type': 'int', 'default': 0},"
        "              'hi': {'type': 'int', 'default': 200},"
        "              'limit': {'type': 'int', 'min': 1, 'max': 500, 'default': 50}}}]}";

/* ---- accepted configurations ---- */

static void test_demo_resource(void)
{
        api_t *api = parse_ok(demo);

        if (api == NULL)
                return;
        ASSERT_EQ_STR(api->source, SOURCE);
        ASSERT_EQ_INT(atomic_load(&api->refs), 1);
        ASSERT_EQ_UINT(api->resource_count, 1);
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_STR(r->path, "/users");
        ASSERT_EQ_STR(r->item_path, "/users/{id}");
        ASSERT_EQ_STR(r->table, "users");
        ASSERT_EQ_STR(r->quoted_table, "`users`");
        /* No "columns": only the names mentioned, key first, until the schema check. */
        ASSERT_TRUE(r->all_columns);
        ASSERT_EQ_UINT(r->column_count, 2);
        ASSERT_EQ_STR(r->columns[0].name, "id");
        ASSERT_EQ_STR(r->columns[0].quoted, "`id`");
        ASSERT_EQ_INT(r->columns[0].output, API_OUTPUT_DEFAULT);
        ASSERT_EQ_STR(r->columns[1].name, "active");
        ASSERT_EQ_INT(r->columns[1].output, API_OUTPUT_BOOLEAN);
        ASSERT_EQ_UINT(r->key_count, 1);
        ASSERT_EQ_UINT(r->key[0], 0);
        ASSERT_EQ_UINT(r->max_limit, 10000);
        ASSERT_EQ_UINT(r->default_limit, 100);
        ASSERT_EQ_UINT(r->timeout_ms, 0);
        ASSERT_NULL(r->item_sql);
        ASSERT_NULL(api->routes);
        ASSERT_NULL(api->openapi_json);
        api_free(api);
}

static void test_demo_query(void)
{
        api_t *api = parse_ok(demo);

        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->query_count, 1);
        const api_query_t *q = &api->queries[0];
        ASSERT_EQ_STR(q->path, "/users/{id}/peers");
        ASSERT_EQ_STR(q->bound_sql, "SELECT id, name, age FROM users WHERE id <> ? AND age "
                                    "BETWEEN ? AND ? ORDER BY age, id LIMIT ?");
        ASSERT_CONTAINS(q->sql, ":limit");
        ASSERT_EQ_UINT(q->param_count, 4);
        ASSERT_EQ_STR(q->params[0].name, "id");
        ASSERT_TRUE(q->params[0].in_path);
        ASSERT_EQ_INT(q->params[0].rule.type, API_TYPE_INT);
        ASSERT_NULL(q->params[0].default_text);
        ASSERT_EQ_STR(q->params[1].name, "lo");
        ASSERT_FALSE(q->params[1].in_path);
        ASSERT_EQ_STR(q->params[1].default_text, "0");
        ASSERT_EQ_STR(q->params[2].name, "hi");
        ASSERT_EQ_STR(q->params[2].default_text, "200");
        ASSERT_EQ_STR(q->params[3].name, "limit");
        ASSERT_TRUE(q->params[3].rule.has_min);
        ASSERT_TRUE(q->params[3].rule.has_max);
        ASSERT_TRUE(q->params[3].rule.min == 1 && q->params[3].rule.max == 500);
        ASSERT_EQ_STR(q->params[3].default_text, "50");
        ASSERT_EQ_UINT(q->bind_count, 4);
        for (size_t i = 0; i < 4; i++)
                ASSERT_EQ_UINT(q->bind_params[i], i);
        ASSERT_EQ_UINT(q->type_count, 0);
        ASSERT_EQ_UINT(q->max_rows, 10000);
        ASSERT_EQ_UINT(q->timeout_ms, 0);
        ASSERT_EQ_UINT(q->column_count, 0);
        api_free(api);
}

static void test_listed_columns_and_composite_key(void)
{
        api_t *api = parse_ok("{'resources': [{'path': '/v1/pairs.x_~-y', 'table': 'we`ird',"
                              " 'key': ['b', 'a'], 'columns': ['a', 'b', 'c`d', 'e'],"
                              " 'types': {'e': 'string', 'a': 'number'}, 'max_limit': 50,"
                              " 'timeout_ms': 250}]}");

        if (api == NULL)
                return;
        const api_resource_t *r = &api->resources[0];
        ASSERT_EQ_STR(r->item_path, "/v1/pairs.x_~-y/{b}/{a}");
        ASSERT_EQ_STR(r->quoted_table, "`we``ird`");
        ASSERT_FALSE(r->all_columns);
        ASSERT_EQ_UINT(r->column_count, 4);
        ASSERT_EQ_STR(r->columns[2].name, "c`d");
        ASSERT_EQ_STR(r->columns[2].quoted, "`c``d`");
        ASSERT_EQ_INT(r->columns[0].output, API_OUTPUT_NUMBER);
        ASSERT_EQ_INT(r->columns[1].output, API_OUTPUT_DEFAULT);
        ASSERT_EQ_INT(r->columns[3].output, API_OUTPUT_STRING);
        ASSERT_EQ_UINT(r->key_count, 2);
        ASSERT_EQ_UINT(r->key[0], 1);
        ASSERT_EQ_UINT(r->key[1], 0);
        ASSERT_EQ_UINT(r->max_limit, 50);
        ASSERT_EQ_UINT(r->default_limit, 50); /* min(100, max_limit) */
        ASSERT_EQ_UINT(r->timeout_ms, 250);
        api_free(api);
}

static void test_resource_defaults(void)
{
        api_t *api = parse_ok(RESOURCE(""));

        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->resources[0].max_limit, 1000);
        ASSERT_EQ_UINT(api->resources[0].default_limit, 100);
        ASSERT_EQ_UINT(api->resources[0].column_count, 1);
        ASSERT_EQ_UINT(api->query_count, 0);
        ASSERT_NULL(api->queries);
        api_free(api);
}

static void test_query_parameters(void)
{
        api_t *api = parse_ok(
                "{'queries': [{'path': '/a/{x}/b/{y}',"
                " 'sql': 'SELECT :s, :x, :e, :s, :y, :n, :d, :b, :t, :dt, :tm, :dec',"
                " 'params': {'s': {'type': 'string', 'max_length': 5, 'default': 'hi'},"
                "  'y': {'type': 'int', 'min': -3.0, 'max': 9007199254740992},"
                "  'e': {'type': 'enum', 'values': ['red', 'green', ''], 'default': 'green'},"
                "  'n': {'type': 'number', 'min': 0.5, 'default': 0.75},"
                "  'd': {'type': 'date', 'default': '2024-05-01'},"
                "  'b': {'type': 'boolean', 'default': true},"
                "  't': {'type': 'string'}, 'dt': {'type': 'datetime'},"
                "  'tm': {'type': 'time'}, 'dec': {'type': 'decimal', 'default': '-1.50'}},"
                " 'types': {'s': 'string', 'x': 'boolean'},"
                " 'max_rows': 7, 'timeout_ms': 3600000}]}");

        if (api == NULL)
                return;
        const api_query_t *q = &api->queries[0];
        ASSERT_EQ_STR(q->bound_sql, "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
        ASSERT_EQ_UINT(q->param_count, 11);
        /* Path parameters first, in path order; x is not declared: a string. */
        ASSERT_EQ_STR(q->params[0].name, "x");
        ASSERT_TRUE(q->params[0].in_path);
        ASSERT_EQ_INT(q->params[0].rule.type, API_TYPE_STRING);
        ASSERT_EQ_UINT(q->params[0].rule.max_length, 1000);
        ASSERT_EQ_STR(q->params[1].name, "y");
        ASSERT_TRUE(q->params[1].in_path);
        ASSERT_EQ_INT(q->params[1].rule.type, API_TYPE_INT);
        ASSERT_TRUE(q->params[1].rule.min == -3 && q->params[1].rule.max == 9007199254740992.0);
        /* Then the declared ones in file order. */
        static const char *const names[] = { "x", "y", "s", "e", "n", "d", "b", "t", "dt", "tm",
                                             "dec" };
        static const api_type_t types[] = { API_TYPE_STRING, API_TYPE_INT, API_TYPE_STRING,
                                            API_TYPE_ENUM, API_TYPE_NUMBER, API_TYPE_DATE,
                                            API_TYPE_BOOLEAN, API_TYPE_STRING,
                                            API_TYPE_DATETIME, API_TYPE_TIME,
                                            API_TYPE_DECIMAL };
        for (size_t i = 0; i < 11; i++) {
                ASSERT_EQ_STR(q->params[i].name, names[i]);
                ASSERT_EQ_INT(q->params[i].rule.type, types[i]);
        }
        ASSERT_EQ_UINT(q->params[2].rule.max_length, 5);
        ASSERT_EQ_STR(q->params[2].default_text, "hi");
        ASSERT_EQ_UINT(q->params[3].rule.value_count, 3);
        ASSERT_EQ_STR(q->params[3].rule.values[1], "green");
        ASSERT_EQ_STR(q->params[3].rule.values[2], "");
        ASSERT_EQ_STR(q->params[3].default_text, "green");
        ASSERT_TRUE(q->params[4].rule.has_min && !q->params[4].rule.has_max);
        ASSERT_EQ_STR(q->params[4].default_text, "0.75");
        ASSERT_EQ_STR(q->params[5].default_text, "2024-05-01");
        ASSERT_EQ_STR(q->params[6].default_text, "true");
        ASSERT_EQ_UINT(q->params[7].rule.max_length, 1000);
        ASSERT_NULL(q->params[7].default_text);
        ASSERT_EQ_STR(q->params[10].default_text, "-1.50");
        /* :s twice: two ? bound to the same parameter. */
        static const size_t binds[] = { 2, 0, 3, 2, 1, 4, 5, 6, 7, 8, 9, 10 };
        ASSERT_EQ_UINT(q->bind_count, 12);
        for (size_t i = 0; i < 12; i++)
                ASSERT_EQ_UINT(q->bind_params[i], binds[i]);
        ASSERT_EQ_UINT(q->type_count, 2);
        ASSERT_EQ_STR(q->types[0].column, "s");
        ASSERT_EQ_INT(q->types[0].output, API_OUTPUT_STRING);
        ASSERT_EQ_STR(q->types[1].column, "x");
        ASSERT_EQ_INT(q->types[1].output, API_OUTPUT_BOOLEAN);
        ASSERT_EQ_UINT(q->max_rows, 7);
        ASSERT_EQ_UINT(q->timeout_ms, 3600000);
        api_free(api);
}

static void test_real_default_text(void)
{
        api_t *api = parse_ok(QUERY("/q", "SELECT :n", ", 'params': {'n': {'type': 'number',"
                                                       " 'default': 0.1}}"));

        if (api == NULL)
                return;
        /* %.17g: the text parses back to exactly the double the file meant. */
        ASSERT_EQ_STR(api->queries[0].params[0].default_text, "0.10000000000000001");
        api_free(api);
}

static void test_query_without_parameters(void)
{
        api_t *api = parse_ok(QUERY("/count", "SELECT COUNT(*) AS n FROM users -- :x\\n;", ""));

        if (api == NULL)
                return;
        ASSERT_EQ_STR(api->queries[0].bound_sql, "SELECT COUNT(*) AS n FROM users -- :x\n");
        ASSERT_EQ_UINT(api->queries[0].param_count, 0);
        ASSERT_NULL(api->queries[0].params);
        ASSERT_EQ_UINT(api->queries[0].bind_count, 0);
        ASSERT_NULL(api->queries[0].bind_params);
        api_free(api);
}

static void test_eight_path_parameters(void)
{
        api_t *api = parse_ok(QUERY("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}",
                                    "SELECT :a, :b, :c, :d, :e, :f, :g, :h", ""));

        if (api == NULL)
                return;
        ASSERT_EQ_UINT(api->queries[0].param_count, 8);
        api_free(api);
}

/* ---- mistakes: the whole file ---- */

static void test_json_syntax(void)
{
        expect_error("{\n  'resources': [\n    {'path' '/users'}]}",
                     "t.json: line 3 column 20: ^:^ expected near ^'/users'^");
        expect_error("", "t.json: line 1 column 0: ^[^ or ^{^ expected near end of file");
        expect_error("{'queries': [], 'queries': []}",
                     "t.json: line 1 column 25: duplicate object key near ^'queries'^");
        expect_error("{'resources': [{'path': '\\u0000'}]}",
                     "t.json: line 1 column 32: \\u0000 is not allowed without JSON_ALLOW_NUL "
                     "near ^'\\u0000'^");
}

static void test_json_syntax_message_is_one_line(void)
{
        char err[512] = "";

        /* jansson quotes the bad text, a newline too: it comes out escaped. */
        ASSERT_NULL(api_config_parse("{\n  \" \\\n\x10", 9, SOURCE, err, sizeof(err)));
        ASSERT_EQ_STR(err, "t.json: line 3 column 0: invalid escape near '\" \\\\x0a'");
}

static void test_file_shape(void)
{
        expect_error("[]", "t.json: the configuration must be a JSON object");
        expect_error("{}", "t.json: no entries: 'resources' and 'queries' are absent or empty");
        expect_error("{'resources': [], 'queries': []}",
                     "t.json: no entries: 'resources' and 'queries' are absent or empty");
        expect_error("{'resource': []}", "t.json: unknown key 'resource'");
        expect_error("{'resources': {}}", "t.json: 'resources' must be an array");
        expect_error("{'queries': 'x'}", "t.json: 'queries' must be an array");
        expect_error("{'resources': [1]}", "t.json: resources[0]: an entry must be an object");
        expect_error("{'queries': [[]]}", "t.json: queries[0]: an entry must be an object");
        expect_error("{'schema': false}",
                     "t.json: no entries: 'resources' and 'queries' are absent or empty");
        expect_error("{'schema': 1}", "t.json: 'schema' must be true or false");
}

/* "schema": true serves the database's tables, which need no entry of the file. */
static void test_schema_beside_the_file(void)
{
        api_t *api = parse_ok("{'schema': true}");

        ASSERT_TRUE(api->schema);
        ASSERT_EQ_UINT(api->resource_count, 0);
        api_free(api);
        api = parse_ok(RESOURCE(""));
        ASSERT_TRUE(!api->schema);
        api_free(api);
}

/* ---- mistakes: paths ---- */

static void test_resource_paths(void)
{
        expect_error("{'resources': [{'table': 't', 'key': 'id'}]}",
                     "t.json: resources[0]: 'path' is required");
        expect_error("{'resources': [{'path': 1}]}",
                     "t.json: resources[0]: 'path' must be a string");
        expect_error("{'resources': [{'path': 'users'}]}",
                     "t.json: resources[0]: path 'users' must be '/' followed by segments");
        expect_error("{'resources': [{'path': '/'}]}",
                     "t.json: resources[0]: path '/' must be '/' followed by segments");
        expect_error("{'resources': [{'path': '/users/'}]}",
                     "t.json: resources[0]: path '/users/' has an empty segment");
        expect_error("{'resources': [{'path': '/a//b'}]}",
                     "t.json: resources[0]: path '/a//b' has an empty segment");
        expect_error("{'resources': [{'path': '/a b'}]}",
                     "t.json: resources[0]: path '/a b': segment 'a b' must be made of "
                     "A-Z a-z 0-9 _ . ~ -");
        expect_error("{'resources': [{'path': '/a/..'}]}",
                     "t.json: resources[0]: path '/a/..': segment '..' must be made of "
                     "A-Z a-z 0-9 _ . ~ -");
        expect_error("{'resources': [{'path': '/./a'}]}",
                     "t.json: resources[0]: path '/./a': segment '.' must be made of "
                     "A-Z a-z 0-9 _ . ~ -");
        expect_error("{'resources': [{'path': '/users/{id}'}]}",
                     "t.json: resources[0]: path '/users/{id}': a resource path has no "
                     "{parameters} (the item path adds the key)");
        /* Odd bytes in a message are escaped: it stays one line. */
        expect_error("{'resources': [{'path': '/a\\n\\'\\\\'}]}",
                     "t.json: resources[0]: path '/a\\x0a\\'\\\\': segment 'a\\x0a\\'\\\\' must be "
                     "made of A-Z a-z 0-9 _ . ~ -");
}

static void test_query_paths(void)
{
        expect_error(QUERY("/a/{1x}", "SELECT 1", ""),
                     "t.json: queries[0]: path '/a/{1x}': in '{1x}', a name is letters, digits "
                     "and _, not starting with a digit");
        expect_error(QUERY("/a/{b-c}", "SELECT 1", ""),
                     "t.json: queries[0]: path '/a/{b-c}': in '{b-c}', a name is letters, digits "
                     "and _, not starting with a digit");
        expect_error(QUERY("/a/{}", "SELECT 1", ""),
                     "t.json: queries[0]: path '/a/{}': segment '{}' must be made of "
                     "A-Z a-z 0-9 _ . ~ - or be a {name}");
        expect_error(QUERY("/a/x{b}", "SELECT 1", ""),
                     "t.json: queries[0]: path '/a/x{b}': segment 'x{b}' must be made of "
                     "A-Z a-z 0-9 _ . ~ - or be a {name}");
        expect_error(QUERY("/{a}/x/{a}", "SELECT :a", ""),
                     "t.json: queries[0]: path '/{a}/x/{a}': parameter {a} appears twice");
        expect_error(QUERY("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "SELECT 1", ""),
                     "t.json: queries[0]: path '/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}': more "
                     "than 8 path parameters");
}

static void test_same_path_twice(void)
{
        expect_error("{'resources': [{'path': '/a', 'table': 't', 'key': 'id'},"
                     "               {'path': '/b', 'table': 't', 'key': 'id'},"
                     "               {'path': '/a', 'table': 'u', 'key': 'k'}]}",
                     "t.json: resources[2] '/a': path is already used by resources[0] '/a'");
        expect_error("{'resources': [{'path': '/users', 'table': 't', 'key': 'id'}],"
                     " 'queries': [{'path': '/users/{uid}', 'sql': 'SELECT :uid'}]}",
                     "t.json: queries[0] '/users/{uid}': path is already used by resources[0] "
                     "'/users' (item path '/users/{id}')");
        expect_error("{'resources': [{'path': '/users', 'table': 't', 'key': 'id'}],"
                     " 'queries': [{'path': '/x', 'sql': 'SELECT 1'},"
                     "             {'path': '/users', 'sql': 'SELECT 1'}]}",
                     "t.json: queries[1] '/users': path is already used by resources[0] '/users'");
        expect_error("{'queries': [{'path': '/p/{a}/q', 'sql': 'SELECT :a'},"
                     "             {'path': '/p/{b}/q', 'sql': 'SELECT :b'}]}",
                     "t.json: queries[1] '/p/{b}/q': path is already used by queries[0] "
                     "'/p/{a}/q'");
        expect_error("{'queries': [{'path': '/pairs/{a}/{b}', 'sql': 'SELECT :a, :b'}],"
                     " 'resources': [{'path': '/pairs', 'table': 't', 'key': ['x', 'y']}]}",
                     "t.json: queries[0] '/pairs/{a}/{b}': path is already used by resources[0] "
                     "'/pairs' (item path '/pairs/{x}/{y}')");
        /* Same literals, different shape: allowed. */
        api_t *api = parse_ok("{'resources': [{'path': '/users', 'table': 't', 'key': 'id'}],"
                              " 'queries': [{'path': '/users/{id}/x', 'sql': 'SELECT :id'},"
                              "             {'path': '/users/me/x', 'sql': 'SELECT 1'}]}");
        api_free(api);
}

/* ---- mistakes: resources ---- */

static void test_resource_keys_and_table(void)
{
        expect_error(RESOURCE(", 'colums': ['id']"),
                     "t.json: resources[0] '/users': unknown key 'colums'");
        expect_error("{'resources': [{'path': '/users', 'key': 'id'}]}",
                     "t.json: resources[0] '/users': 'table' is required");
        expect_error("{'resources': [{'path': '/users', 'table': 1, 'key': 'id'}]}",
                     "t.json: resources[0] '/users': 'table' must be a name of 1 to 64 characters");
        expect_error("{'resources': [{'path': '/users', 'table': '', 'key': 'id'}]}",
                     "t.json: resources[0] '/users': 'table' must be a name of 1 to 64 characters");
        expect_error("{'resources': [{'path': '/users', 'key': 'id', 'table': "
                     "'12345678901234567890123456789012345678901234567890123456789012345'}]}",
                     "t.json: resources[0] '/users': 'table' must be a name of 1 to 64 characters");
        /* 64 characters, not bytes: 64 two-byte characters are fine. */
        char json[512] = "{'resources': [{'path': '/u', 'key': 'id', 'table': '";
        for (int i = 0; i < 64; i++)
                strcat(json, "\xc3\xa9");
        strcat(json, "'}]}");
        api_free(parse_ok(json));
}

/* A resource "/users" on table t with the given members. */
#define USERS(members) "{'resources': [{'path': '/users', 'table': 't', " members "}]}"
#define USERS_ERROR "t.json: resources[0] '/users': "

static void test_resource_key(void)
{
        expect_error(USERS("'columns': ['id']"), USERS_ERROR "'key' is required");
        expect_error(USERS("'key': 1"),
                     USERS_ERROR "'key' must be a column name or an array of 1 to 4 of them");
        expect_error(USERS("'key': []"),
                     USERS_ERROR "'key' must be a column name or an array of 1 to 4 of them");
        expect_error(USERS("'key': ['a', 'b', 'c', 'd', 'e']"),
                     USERS_ERROR "'key' must be a column name or an array of 1 to 4 of them");
        expect_error(USERS("'key': ['a', 'b', 'a']"),
                     USERS_ERROR "'key': column 'a' appears twice");
        expect_error(USERS("'key': ['a', 2]"), USERS_ERROR "'key': a column name must be a string");
        expect_error(USERS("'key': ''"),
                     USERS_ERROR "'key': column name '' must be 1 to 64 characters");
        expect_error(USERS("'key': ['a/b']"),
                     USERS_ERROR "'key': column 'a/b' cannot name a path segment (it has a ^/^, "
                                 "^{^ or ^}^)");
        expect_error(USERS("'key': 'a{b}'"),
                     USERS_ERROR "'key': column 'a{b}' cannot name a path segment (it has a ^/^, "
                                 "^{^ or ^}^)");
}

static void test_resource_columns(void)
{
        expect_error(USERS("'key': 'idx', 'columns': ['id', 'name']"),
                     USERS_ERROR "key column 'idx' is not in 'columns'");
        expect_error(USERS("'key': ['id', 'k\\u0001'], 'columns': ['id']"),
                     USERS_ERROR "key column 'k\\x01' is not in 'columns'");
        expect_error(USERS("'key': 'id', 'columns': []"),
                     USERS_ERROR "'columns' must be an array of 1 to 4096 column names");
        expect_error(USERS("'key': 'id', 'columns': 'id'"),
                     USERS_ERROR "'columns' must be an array of 1 to 4096 column names");
        expect_error(USERS("'key': 'id', 'columns': ['id', 'name', 'id']"),
                     USERS_ERROR "'columns': 'id' appears twice");
        expect_error(USERS("'key': 'id', 'columns': ['id', null]"),
                     USERS_ERROR "'columns': a column name must be a string");
        expect_error(USERS("'key': 'id', 'columns': ['id', '']"),
                     USERS_ERROR "'columns': column name '' must be 1 to 64 characters");
}

static void test_resource_types(void)
{
        expect_error(USERS("'key': 'id', 'types': []"), USERS_ERROR "'types' must be an object");
        expect_error(USERS("'key': 'id', 'types': {'active': 'bool'}"),
                     USERS_ERROR "'types': column 'active' must be 'boolean', 'number' or "
                     "'string'");
        expect_error(USERS("'key': 'id', 'types': {'active': 1}"),
                     USERS_ERROR "'types': column 'active' must be 'boolean', 'number' or "
                     "'string'");
        expect_error(USERS("'key': 'id', 'columns': ['id', 'name'],"
                           " 'types': {'active': 'boolean'}"),
                     USERS_ERROR "'types': column 'active' is not in 'columns'");
        expect_error(USERS("'key': 'id', 'types': {'': 'string'}"),
                     USERS_ERROR "'types': column name '' must be 1 to 64 characters");
        /* A key column's override does not add it twice. */
        api_t *api = parse_ok(USERS("'key': 'id', 'types': {'id': 'string', 'b': 'boolean'}"));
        if (api != NULL) {
                ASSERT_EQ_UINT(api->resources[0].column_count, 2);
                ASSERT_EQ_INT(api->resources[0].columns[0].output, API_OUTPUT_STRING);
        }
        api_free(api);
}

static void test_resource_limits(void)
{
        expect_error(USERS("'key': 'id', 'max_limit': 0"),
                     USERS_ERROR "'max_limit' must be an integer from 1 to 1000000000");
        expect_error(USERS("'key': 'id', 'max_limit': 1000000001"),
                     USERS_ERROR "'max_limit' must be an integer from 1 to 1000000000");
        expect_error(USERS("'key': 'id', 'max_limit': '10'"),
                     USERS_ERROR "'max_limit' must be an integer from 1 to 1000000000");
        expect_error(USERS("'key': 'id', 'max_limit': 10.0"),
                     USERS_ERROR "'max_limit' must be an integer from 1 to 1000000000");
        expect_error(USERS("'key': 'id', 'max_limit': -1"),
                     USERS_ERROR "'max_limit' must be an integer from 1 to 1000000000");
        expect_error(USERS("'key': 'id', 'max_limit': 50, 'default_limit': 51"),
                     USERS_ERROR "'default_limit' must be an integer from 1 to 50");
        expect_error(USERS("'key': 'id', 'default_limit': 0"),
                     USERS_ERROR "'default_limit' must be an integer from 1 to 1000");
        expect_error(USERS("'key': 'id', 'timeout_ms': 0"),
                     USERS_ERROR "'timeout_ms' must be an integer from 1 to 3600000");
        expect_error(USERS("'key': 'id', 'timeout_ms': 3600001"),
                     USERS_ERROR "'timeout_ms' must be an integer from 1 to 3600000");
}

static void test_later_entry_named(void)
{
        expect_error("{'resources': [{'path': '/a', 'table': 't', 'key': 'id'},"
                     "               {'path': '/b', 'table': 't', 'key': 'id', 'max_limit': 0}],"
                     " 'queries': [{'path': '/q', 'sql': 'SELECT 1'}]}",
                     "t.json: resources[1] '/b': 'max_limit' must be an integer from 1 to 1000000000");
        expect_error("{'resources': [{'path': '/a', 'table': 't', 'key': 'id'}],"
                     " 'queries': [{'path': '/q', 'sql': 'SELECT 1'}, {'path': '/r'}]}",
                     "t.json: queries[1] '/r': 'sql' is required");
}

/* ---- mistakes: queries ---- */

#define Q_ERROR "t.json: queries[0] '/q': "

static void test_query_members(void)
{
        expect_error(QUERY("/q", "SELECT 1", ", 'param': {}"), Q_ERROR "unknown key 'param'");
        expect_error("{'queries': [{'path': '/q'}]}", Q_ERROR "'sql' is required");
        expect_error("{'queries': [{'path': '/q', 'sql': 1}]}", Q_ERROR "'sql' must be a string");
        expect_error(QUERY("/q", "SELECT 1", ", 'max_rows': 0"),
                     Q_ERROR "'max_rows' must be an integer from 1 to 1000000000");
        expect_error(QUERY("/q", "SELECT 1", ", 'timeout_ms': 1e3"),
                     Q_ERROR "'timeout_ms' must be an integer from 1 to 3600000");
        expect_error(QUERY("/q", "SELECT 1", ", 'types': {'a': 'date'}"),
                     Q_ERROR "'types': column 'a' must be 'boolean', 'number' or 'string'");
        expect_error(QUERY("/q", "SELECT 1", ", 'types': ['a']"),
                     Q_ERROR "'types' must be an object");
        expect_error(QUERY("/q", "SELECT 1", ", 'params': []"),
                     Q_ERROR "'params' must be an object");
}

static void test_query_sql(void)
{
        expect_error(QUERY("/q", "SELECT ?", ""),
                     Q_ERROR "'sql': ^?^ at byte 7 is an anonymous placeholder: use :name");
        expect_error(QUERY("/q", "SELECT 1; DROP TABLE users", ""),
                     Q_ERROR "'sql': text after the ^;^ at byte 10: one statement only");
        expect_error(QUERY("/q", "SELECT ^abc", ""),
                     Q_ERROR "'sql': unterminated ^...^ quote starting at byte 7");
        expect_error(QUERY("/q", "  ", ""), Q_ERROR "'sql': the sql holds no statement");
        expect_error(QUERY("/q", "SELECT :a", ""),
                     Q_ERROR "placeholder :a is neither a declared parameter nor a path parameter");
        expect_error(QUERY("/q", "SELECT ^:a^", ", 'params': {'a': {'type': 'int'}}"),
                     Q_ERROR "parameter 'a' is not used in the sql");
        expect_error(QUERY("/q/{id}", "SELECT 1", ""),
                     "t.json: queries[0] '/q/{id}': parameter 'id' is not used in the sql");
        expect_error("{'queries': [{'path': '/peers', 'sql': 'SELECT :hi',"
                     " 'params': {'lo': {'type': 'int'}, 'hi': {'type': 'int'}}}]}",
                     "t.json: queries[0] '/peers': parameter 'lo' is not used in the sql");
}

/* A query "/q" using :p, with p declared as decl. */
#define PARAM(decl) QUERY("/q", "SELECT :p", ", 'params': {'p': " decl "}")
#define P_ERROR Q_ERROR "parameter 'p': "

static void test_parameter_declarations(void)
{
        expect_error(PARAM("'int'"), P_ERROR "a declaration must be an object");
        expect_error(PARAM("{'type': 'int', 'maximum': 3}"), P_ERROR "unknown key 'maximum'");
        expect_error(PARAM("{}"), P_ERROR "'type' is required");
        expect_error(PARAM("{'type': 'integer'}"),
                     P_ERROR "'type' must be one of int, number, decimal, string, boolean, date, "
                     "datetime, time, enum");
        expect_error(PARAM("{'type': 3}"),
                     P_ERROR "'type' must be one of int, number, decimal, string, boolean, date, "
                     "datetime, time, enum");
        expect_error(QUERY("/q", "SELECT :a_b, :2", ", 'params': {'a_b': {'type': 'int'},"
                                                   " 'a-b': {'type': 'int'}}"),
                     Q_ERROR "parameter 'a-b': a name is letters, digits and _, not starting "
                     "with a digit");
}

static void test_parameter_bounds(void)
{
        expect_error(PARAM("{'type': 'string', 'min': 1}"),
                     P_ERROR "'min' is only for int and number parameters");
        expect_error(PARAM("{'type': 'date', 'max': 1}"),
                     P_ERROR "'max' is only for int and number parameters");
        expect_error(PARAM("{'type': 'int', 'min': '1'}"), P_ERROR "'min' must be a number");
        expect_error(PARAM("{'type': 'int', 'min': 1.5}"),
                     P_ERROR "'min' must be a whole number from -9007199254740992 to "
                     "9007199254740992");
        expect_error(PARAM("{'type': 'int', 'max': 9007199254740993}"),
                     P_ERROR "'max' must be a whole number from -9007199254740992 to "
                     "9007199254740992");
        expect_error(PARAM("{'type': 'int', 'max': -1e300}"),
                     P_ERROR "'max' must be a whole number from -9007199254740992 to "
                     "9007199254740992");
        expect_error(PARAM("{'type': 'number', 'min': 2, 'max': 1.5}"),
                     P_ERROR "'min' is greater than 'max'");
        api_free(parse_ok(PARAM("{'type': 'number', 'min': 1.5, 'max': 1.5}")));
}

static void test_parameter_length_and_values(void)
{
        expect_error(PARAM("{'type': 'int', 'max_length': 3}"),
                     P_ERROR "'max_length' is only for string parameters");
        expect_error(PARAM("{'type': 'string', 'max_length': 0}"),
                     P_ERROR "'max_length' must be an integer from 1 to 1000000");
        expect_error(PARAM("{'type': 'string', 'values': ['a']}"),
                     P_ERROR "'values' is only for enum parameters");
        expect_error(PARAM("{'type': 'enum'}"),
                     P_ERROR "'values' is required for an enum parameter");
        expect_error(PARAM("{'type': 'enum', 'values': []}"),
                     P_ERROR "'values' must be a non-empty array of strings");
        expect_error(PARAM("{'type': 'enum', 'values': 'a'}"),
                     P_ERROR "'values' must be a non-empty array of strings");
        expect_error(PARAM("{'type': 'enum', 'values': ['a', 1]}"),
                     P_ERROR "'values' must be a non-empty array of strings");
        expect_error(PARAM("{'type': 'enum', 'values': ['a', 'b', 'a']}"),
                     P_ERROR "'values': 'a' appears twice");
}

static void test_parameter_defaults(void)
{
        expect_error(PARAM("{'type': 'int', 'default': null}"),
                     P_ERROR "'default' must be a number, a string or a boolean");
        expect_error(PARAM("{'type': 'int', 'default': [1]}"),
                     P_ERROR "'default' must be a number, a string or a boolean");
        expect_error(QUERY("/q/{p}", "SELECT :p",
                           ", 'params': {'p': {'type': 'int', 'default': 1}}"),
                     "t.json: queries[0] '/q/{p}': parameter 'p': a path parameter cannot have "
                     "a 'default'");
        /* The reason is typed_value's; the message says which parameter and value. */
        expect_error_starting(PARAM("{'type': 'int', 'default': 'abc'}"),
                              P_ERROR "the default 'abc' ");
        expect_error_starting(PARAM("{'type': 'int', 'default': 1.5}"),
                              P_ERROR "the default '1.5' ");
        expect_error_starting(PARAM("{'type': 'int', 'min': 1, 'default': 0}"),
                              P_ERROR "the default '0' ");
        expect_error_starting(PARAM("{'type': 'boolean', 'default': 'maybe'}"),
                              P_ERROR "the default 'maybe' ");
        expect_error_starting(PARAM("{'type': 'date', 'default': '2024-13-01'}"),
                              P_ERROR "the default '2024-13-01' ");
        expect_error_starting(PARAM("{'type': 'enum', 'values': ['a'], 'default': 'b'}"),
                              P_ERROR "the default 'b' ");
        expect_error_starting(PARAM("{'type': 'string', 'max_length': 2, 'default': 'abc'}"),
                              P_ERROR "the default 'abc' ");
        api_free(parse_ok(PARAM("{'type': 'string', 'default': true}")));
}

/* ---- the file itself, and the reference count ---- */

static void test_load_file(void)
{
        char path[] = "/tmp/test_api_config_XXXXXX";
        char err[512] = "";
        char *json = unquote(demo);
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ_INT(write(fd, json, strlen(json)), (long long)strlen(json));
        close(fd);
        api_t *api = api_config_load(path, err, sizeof(err));
        ASSERT_NOT_NULL(api);
        if (api != NULL)
                ASSERT_EQ_STR(api->source, path);
        api_free(api);

        fd = open(path, O_WRONLY | O_TRUNC);
        ASSERT_EQ_INT(write(fd, "{\n}", 3), 3);
        close(fd);
        ASSERT_NULL(api_config_load(path, err, sizeof(err)));
        char expected[600];
        snprintf(expected, sizeof(expected),
                 "%s: no entries: \"resources\" and \"queries\" are absent or empty", path);
        ASSERT_EQ_STR(err, expected);
        unlink(path);
        free(json);

        ASSERT_NULL(api_config_load("/nonexistent/queryd.json", err, sizeof(err)));
        ASSERT_EQ_STR(err, "/nonexistent/queryd.json: cannot read: No such file or directory");
        ASSERT_NULL(api_config_load("/tmp", err, sizeof(err)));
        ASSERT_EQ_STR(err, "/tmp: cannot read: Is a directory");
}

static void test_short_error_buffer(void)
{
        char err[16];

        memset(err, 'x', sizeof(err));
        ASSERT_NULL(parse("{}", err, 10));
        ASSERT_EQ_STR(err, "t.json: n");
        ASSERT_EQ_INT(err[10], 'x');
        ASSERT_NULL(parse("{", NULL, 0));
        ASSERT_NULL(parse(PARAM("{}"), NULL, 0));
}

static void test_references(void)
{
        api_t *api = parse_ok(demo);

        api_ref(api);
        ASSERT_EQ_INT(atomic_load(&api->refs), 2);
        api_unref(api);
        ASSERT_EQ_INT(atomic_load(&api->refs), 1);
        api_unref(api); /* the last one frees: LeakSanitizer would see a leak otherwise */
        api_ref(NULL);
        api_unref(NULL);
        api_free(NULL);
}

/* Fields filled by later steps are freed too. */
static void test_free_filled_api(void)
{
        api_t *api = parse_ok(demo);

        if (api == NULL)
                return;
        api->resources[0].item_sql = strdup("SELECT 1");
        api->routes = calloc(2, sizeof(*api->routes));
        api->routes[0].template = strdup("/healthz");
        api->routes[1].template = strdup("/users");
        api->route_count = 2;
        api->openapi_json = strdup("{}");
        api_query_t *q = &api->queries[0];
        q->columns = calloc(1, sizeof(*q->columns));
        q->column_count = 1;
        q->columns[0].name = strdup("id");
        q->columns[0].quoted = strdup("`id`");
        q->columns[0].rule.values = calloc(1, sizeof(char *));
        q->columns[0].rule.values[0] = strdup("a");
        q->columns[0].rule.value_count = 1;
        api_free(api);
}

int main(void)
{
        RUN_TEST(test_demo_resource);
        RUN_TEST(test_demo_query);
        RUN_TEST(test_listed_columns_and_composite_key);
        RUN_TEST(test_resource_defaults);
        RUN_TEST(test_query_parameters);
        RUN_TEST(test_real_default_text);
        RUN_TEST(test_query_without_parameters);
        RUN_TEST(test_eight_path_parameters);
        RUN_TEST(test_json_syntax);
        RUN_TEST(test_json_syntax_message_is_one_line);
        RUN_TEST(test_file_shape);
        RUN_TEST(test_schema_beside_the_file);
        RUN_TEST(test_resource_paths);
        RUN_TEST(test_query_paths);
        RUN_TEST(test_same_path_twice);
        RUN_TEST(test_resource_keys_and_table);
        RUN_TEST(test_resource_key);
        RUN_TEST(test_resource_columns);
        RUN_TEST(test_resource_types);
        RUN_TEST(test_resource_limits);
        RUN_TEST(test_later_entry_named);
        RUN_TEST(test_query_members);
        RUN_TEST(test_query_sql);
        RUN_TEST(test_parameter_declarations);
        RUN_TEST(test_parameter_bounds);
        RUN_TEST(test_parameter_length_and_values);
        RUN_TEST(test_parameter_defaults);
        RUN_TEST(test_load_file);
        RUN_TEST(test_short_error_buffer);
        RUN_TEST(test_references);
        RUN_TEST(test_free_filled_api);
        return test_report();
}
