/*
 * Unit tests for the generated OpenAPI document: an api built by hand (the
 * demo's /users resource and /users/{id}/peers query, and a resource with
 * every other column kind), the document parsed back with jansson and
 * checked for paths, parameters, the JSON type of each column kind,
 * nullability, "types" overrides and query parameter schemas. Also: the
 * same api gives the same text, and every failed allocation gives NULL
 * without a leak.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/openapi_gen.h"
#include "test.h"

/* ------------------------------------------------------------------ building an api */

static void column(api_column_t *c, const char *name, enum enum_field_types type, unsigned flags,
                   unsigned long length, unsigned decimals, api_type_t rule)
{
        c->name = strdup(name);
        c->meta.type = type;
        c->meta.flags = flags;
        c->meta.charsetnr = 45; /* utf8mb4 */
        c->meta.length = length;
        c->meta.decimals = decimals;
        c->rule.type = rule;
        c->rule.is_unsigned = (flags & UNSIGNED_FLAG) != 0;
        c->nullable = (flags & NOT_NULL_FLAG) == 0;
        c->orderable = rule != API_TYPE_JSON && type != MYSQL_TYPE_BLOB;
}

static void binary(api_column_t *c)
{
        c->meta.charsetnr = 63;
        c->rule.type = API_TYPE_BINARY;
}

/* The demo table (docker/initdb/01-schema.sql) as api_schema_check describes it. */
static void demo_columns(api_resource_t *r)
{
        enum { NN = NOT_NULL_FLAG };
        api_column_t *c = calloc(14, sizeof(*c));

        r->columns = c;
        r->column_count = 14;
        column(&c[0], "id", MYSQL_TYPE_LONG, NN | PRI_KEY_FLAG, 11, 0, API_TYPE_INT);
        column(&c[1], "name", MYSQL_TYPE_VAR_STRING, NN, 400, 0, API_TYPE_STRING);
        c[1].rule.max_length = 100;
        column(&c[2], "email", MYSQL_TYPE_VAR_STRING, NN, 1020, 0, API_TYPE_STRING);
        column(&c[3], "age", MYSQL_TYPE_LONG, 0, 11, 0, API_TYPE_INT);
        column(&c[4], "balance", MYSQL_TYPE_NEWDECIMAL, NN, 14, 2, API_TYPE_DECIMAL);
        column(&c[5], "active", MYSQL_TYPE_TINY, NN, 1, 0, API_TYPE_BOOLEAN);
        c[5].output = API_OUTPUT_BOOLEAN;
        column(&c[6], "created_at", MYSQL_TYPE_DATETIME, NN, 19, 0, API_TYPE_DATETIME);
        column(&c[7], "bio", MYSQL_TYPE_BLOB, 0, 262140, 0, API_TYPE_STRING);
        column(&c[8], "visits", MYSQL_TYPE_LONGLONG, NN, 20, 0, API_TYPE_INT);
        column(&c[9], "score", MYSQL_TYPE_DOUBLE, 0, 22, 31, API_TYPE_NUMBER);
        column(&c[10], "birthday", MYSQL_TYPE_DATE, 0, 10, 0, API_TYPE_DATE);
        column(&c[11], "last_login", MYSQL_TYPE_TIMESTAMP, 0, 23, 3, API_TYPE_DATETIME);
        column(&c[12], "avatar", MYSQL_TYPE_VAR_STRING, 0, 16, 0, API_TYPE_BINARY);
        binary(&c[12]);
        c[12].rule.max_length = 16;
        column(&c[13], "prefs", MYSQL_TYPE_BLOB, 0, 4294967295UL, 0, API_TYPE_JSON);
        c[13].meta.is_json = true;
}

static void demo_resource(api_resource_t *r)
{
        r->path = strdup("/users");
        r->item_path = strdup("/users/{id}");
        r->table = strdup("users");
        demo_columns(r);
        r->key = calloc(1, sizeof(*r->key));
        r->key_count = 1;
        r->default_limit = 100;
        r->max_limit = 10000;
        r->all_columns = true;
}

static void param(api_param_t *p, const char *name, const char *default_text, bool in_path)
{
        p->name = strdup(name);
        p->rule.type = API_TYPE_INT;
        p->default_text = default_text ? strdup(default_text) : NULL;
        p->in_path = in_path;
}

static void peers_query(api_query_t *q)
{
        q->path = strdup("/users/{id}/peers");
        q->max_rows = 10000;
        q->params = calloc(4, sizeof(*q->params));
        q->param_count = 4;
        param(&q->params[0], "id", NULL, true);
        param(&q->params[1], "lo", "0", false);
        param(&q->params[2], "hi", "200", false);
        param(&q->params[3], "limit", "50", false);
        q->params[3].rule.has_min = q->params[3].rule.has_max = true;
        q->params[3].rule.min = 1;
        q->params[3].rule.max = 500;
        q->columns = calloc(3, sizeof(*q->columns));
        q->column_count = 3;
        column(&q->columns[0], "id", MYSQL_TYPE_LONG, NOT_NULL_FLAG, 11, 0, API_TYPE_INT);
        column(&q->columns[1], "name", MYSQL_TYPE_VAR_STRING, NOT_NULL_FLAG, 400, 0,
               API_TYPE_STRING);
        column(&q->columns[2], "age", MYSQL_TYPE_LONG, 0, 11, 0, API_TYPE_INT);
}

/* Every other kind of column, and names that need care. */
static void kinds_resource(api_resource_t *r)
{
        enum { NN = NOT_NULL_FLAG, U = UNSIGNED_FLAG };
        api_column_t *c = calloc(15, sizeof(*c));

        r->path = strdup("/v1/kinds");
        r->item_path = strdup("/v1/kinds/{a}/{b}");
        r->table = strdup("kinds");
        r->columns = c;
        r->column_count = 15;
        column(&c[0], "a", MYSQL_TYPE_VAR_STRING, NN, 40, 0, API_TYPE_STRING);
        c[0].rule.max_length = 10;
        column(&c[1], "b", MYSQL_TYPE_LONGLONG, NN | U, 20, 0, API_TYPE_INT);
        column(&c[2], "bits64", MYSQL_TYPE_BIT, NN | U, 64, 0, API_TYPE_INT);
        column(&c[3], "bits8", MYSQL_TYPE_BIT, 0, 8, 0, API_TYPE_INT);
        column(&c[4], "f", MYSQL_TYPE_FLOAT, NN, 12, 31, API_TYPE_NUMBER);
        column(&c[5], "dec_num", MYSQL_TYPE_NEWDECIMAL, NN, 7, 2, API_TYPE_DECIMAL);
        c[5].output = API_OUTPUT_NUMBER;
        column(&c[6], "int_str", MYSQL_TYPE_LONG, NN, 11, 0, API_TYPE_INT);
        c[6].output = API_OUTPUT_STRING;
        column(&c[7], "big_num", MYSQL_TYPE_LONGLONG, 0, 20, 0, API_TYPE_INT);
        c[7].output = API_OUTPUT_NUMBER;
        column(&c[8], "dt6", MYSQL_TYPE_DATETIME, NN, 26, 6, API_TYPE_DATETIME);
        column(&c[9], "t3", MYSQL_TYPE_TIME, NN, 14, 3, API_TYPE_TIME);
        column(&c[10], "ts", MYSQL_TYPE_TIMESTAMP, NN, 19, 0, API_TYPE_DATETIME);
        column(&c[11], "doc", MYSQL_TYPE_JSON, 0, 0, 0, API_TYPE_JSON);
        column(&c[12], "blob", MYSQL_TYPE_BLOB, NN, 65535, 0, API_TYPE_BINARY);
        binary(&c[12]);
        column(&c[13], "limit", MYSQL_TYPE_LONG, NN, 11, 0, API_TYPE_INT); /* not a filter */
        column(&c[14], "x.y|z", MYSQL_TYPE_LONG, NN, 11, 0, API_TYPE_INT);
        r->key = calloc(2, sizeof(*r->key));
        r->key[0] = 0;
        r->key[1] = 1;
        r->key_count = 2;
        r->default_limit = 10;
        r->max_limit = 20;
}

/* A query with one parameter of each other type and a named override. */
static void typed_query(api_query_t *q, const char *path)
{
        static const api_type_t types[] = { API_TYPE_NUMBER, API_TYPE_DECIMAL, API_TYPE_STRING,
                                            API_TYPE_BOOLEAN, API_TYPE_DATE, API_TYPE_DATETIME,
                                            API_TYPE_TIME, API_TYPE_ENUM };
        static const char *const names[] = { "n", "d", "s", "flag", "day", "at", "t", "color" };
        enum { COUNT = sizeof(types) / sizeof(types[0]) };

        q->path = strdup(path);
        q->max_rows = 5;
        q->params = calloc(COUNT, sizeof(*q->params));
        q->param_count = COUNT;
        for (size_t i = 0; i < COUNT; i++) {
                param(&q->params[i], names[i], NULL, false);
                q->params[i].rule.type = types[i];
        }
        q->params[0].rule.has_min = true;
        q->params[0].rule.min = -1.5;
        q->params[2].rule.max_length = 20;
        free(q->params[3].default_text);
        q->params[3].default_text = strdup("true");
        q->params[7].rule.values = calloc(2, sizeof(char *));
        q->params[7].rule.values[0] = strdup("red");
        q->params[7].rule.values[1] = strdup("blue");
        q->params[7].rule.value_count = 2;
        q->columns = calloc(1, sizeof(*q->columns));
        q->column_count = 1;
        column(&q->columns[0], "flag", MYSQL_TYPE_TINY, NOT_NULL_FLAG, 1, 0, API_TYPE_INT);
        q->types = calloc(1, sizeof(*q->types));
        q->type_count = 1;
        q->types[0].column = strdup("flag");
        q->types[0].output = API_OUTPUT_BOOLEAN;
}

/*
 * The document reads each path's methods from the api's route table, as
 * api_finish builds it first: the built-in routes and every entry answer GET.
 */
static void never_called(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
}

static const route_t builtins[] = {
        { .template = "/healthz", .methods = { { "GET", never_called } } },
        { .template = "/readyz", .methods = { { "GET", never_called } } },
        { .template = "/metrics", .methods = { { "GET", never_called } } },
        { .template = "/openapi.json", .methods = { { "GET", never_called } } },
};

static const api_handlers_t handlers = {
        .builtins = builtins,
        .builtin_count = sizeof(builtins) / sizeof(builtins[0]),
        .collection = { { "GET", never_called } },
        .item = { { "GET", never_called } },
        .query = { { "GET", never_called } },
};

static api_t *with_routes(api_t *api)
{
        ASSERT_EQ_INT(api_build_routes(api, &handlers), 0);
        return api;
}

static api_t *demo_api(void)
{
        api_t *api = calloc(1, sizeof(*api));

        api->resources = calloc(1, sizeof(*api->resources));
        api->resource_count = 1;
        demo_resource(&api->resources[0]);
        api->queries = calloc(1, sizeof(*api->queries));
        api->query_count = 1;
        peers_query(&api->queries[0]);
        return with_routes(api);
}

static api_t *kinds_api(void)
{
        api_t *api = calloc(1, sizeof(*api));

        api->resources = calloc(2, sizeof(*api->resources));
        api->resource_count = 2;
        kinds_resource(&api->resources[0]);
        demo_resource(&api->resources[1]);
        free(api->resources[1].path);
        free(api->resources[1].item_path);
        api->resources[1].path = strdup("/health"); /* its schema name is taken */
        api->resources[1].item_path = strdup("/health/{id}");
        api->queries = calloc(2, sizeof(*api->queries));
        api->query_count = 2;
        typed_query(&api->queries[0], "/v1-kinds");  /* the same name as /v1/kinds */
        typed_query(&api->queries[1], "/v1/kinds/page"); /* V1KindsPage is taken */
        return with_routes(api);
}

/* ------------------------------------------------------------------ reading the document */

static json_t *generate(const api_t *api)
{
        size_t len = 0;
        char *text = openapi_gen_document(api, NULL, &len);
        json_error_t error;

        ASSERT_NOT_NULL(text);
        if (text == NULL)
                return NULL;
        ASSERT_EQ_UINT(len, strlen(text));
        json_t *doc = json_loads(text, 0, &error);
        if (doc == NULL)
                fprintf(stderr, "document does not parse: %s at line %d\n", error.text, error.line);
        ASSERT_NOT_NULL(doc);
        free(text);
        return doc;
}

/* The value at a path of keys (objects) and "#n" indexes (arrays), or NULL. */
static json_t *at(json_t *value, ...)
{
        va_list ap;

        va_start(ap, value);
        for (const char *key = va_arg(ap, const char *); key != NULL && value != NULL;
             key = va_arg(ap, const char *))
                value = key[0] == '#' ? json_array_get(value, strtoul(key + 1, NULL, 10))
                                      : json_object_get(value, key);
        va_end(ap);
        return value;
}

static const char *string_at(json_t *value)
{
        return json_string_value(value);
}

/* A component a {"$ref": "#/components/<section>/<name>"} points at. */
static json_t *deref(json_t *doc, json_t *value)
{
        const char *ref = json_string_value(json_object_get(value, "$ref"));
        char section[64], name[128];

        if (ref == NULL)
                return value;
        if (sscanf(ref, "#/components/%63[^/]/%127s", section, name) != 2)
                return NULL;
        return at(doc, "components", section, name, NULL);
}

/* The parameter of a path item with this name. */
static json_t *find_param(json_t *item, const char *name)
{
        json_t *params = json_object_get(item, "parameters");
        size_t i;
        json_t *p;

        json_array_foreach (params, i, p)
                if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
                        return p;
        return NULL;
}

/* The names of a path item's parameters, comma-separated. */
static void param_names(json_t *item, char *out, size_t size)
{
        json_t *params = json_object_get(item, "parameters");
        size_t i, n = 0;
        json_t *p;

        out[0] = '\0';
        json_array_foreach (params, i, p)
                n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? "," : "",
                                      json_string_value(json_object_get(p, "name")));
}

/* The JSON type(s) of a schema as text: "integer", "integer|string|null", "" for none. */
static void types_of(json_t *schema, char *out, size_t size)
{
        json_t *type = json_object_get(schema, "type");
        size_t i, n = 0;
        json_t *t;

        out[0] = '\0';
        if (json_is_string(type)) {
                snprintf(out, size, "%s", json_string_value(type));
                return;
        }
        json_array_foreach (type, i, t)
                n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? "|" : "",
                                      json_string_value(t));
}

static void check_type(json_t *schema, const char *expected, const char *what)
{
        char types[64];

        types_of(schema, types, sizeof(types));
        if (strcmp(types, expected) != 0)
                fprintf(stderr, "  (type of %s)\n", what);
        ASSERT_EQ_STR(types, expected);
}

static json_t *property(json_t *doc, const char *schema, const char *column)
{
        return at(doc, "components", "schemas", schema, "properties", column, NULL);
}

/* ------------------------------------------------------------------ tests */

static void test_paths_and_operations(void)
{
        api_t *api = demo_api();
        json_t *doc = generate(api);
        static const char *const paths[] = { "/users", "/users/{id}", "/users/{id}/peers",
                                             "/healthz", "/readyz", "/metrics", "/openapi.json" };

        ASSERT_EQ_STR(string_at(at(doc, "openapi", NULL)), "3.1.0");
        ASSERT_EQ_STR(string_at(at(doc, "info", "title", NULL)), "queryd");
        ASSERT_NOT_NULL(string_at(at(doc, "info", "version", NULL)));
        ASSERT_EQ_UINT(json_object_size(at(doc, "paths", NULL)), 7);
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                json_t *item = at(doc, "paths", paths[i], NULL);
                ASSERT_NOT_NULL(at(item, "get", "responses", "200", NULL));
                ASSERT_NOT_NULL(at(item, "head", "responses", "200", NULL));
                ASSERT_NOT_NULL(at(item, "get", "operationId", NULL));
                ASSERT_NOT_NULL(at(item, "get", "summary", NULL));
                ASSERT_NULL(at(item, "x-other-methods", NULL));
                /* A method the path does not serve is an operation answering only 405. */
                const char *refused[] = { "put", "post", "delete", "patch" };
                for (size_t m = 0; m < 4; m++) {
                        json_t *responses = at(item, refused[m], "responses", NULL);
                        ASSERT_EQ_UINT(json_object_size(responses), 1);
                        ASSERT_EQ_STR(string_at(at(responses, "405", "$ref", NULL)),
                                      "#/components/responses/MethodNotAllowed");
                        ASSERT_EQ_STR(string_at(at(item, refused[m], "tags", NULL) != NULL
                                                        ? json_array_get(at(item, refused[m],
                                                                            "tags", NULL),
                                                                         0)
                                                        : NULL),
                                      "not-allowed");
                        ASSERT_EQ_UINT(json_array_size(at(item, refused[m], "security", NULL)),
                                       0);
                }
        }
        /* Error statuses of each kind of path, GET and HEAD alike. */
        json_t *users = at(doc, "paths", "/users", "get", "responses", NULL);
        ASSERT_EQ_UINT(json_object_size(users), 7);
        ASSERT_EQ_STR(string_at(at(users, "304", "$ref", NULL)),
                      "#/components/responses/NotModified");
        ASSERT_EQ_STR(string_at(at(users, "400", "$ref", NULL)),
                      "#/components/responses/InvalidParameter");
        ASSERT_EQ_STR(string_at(at(users, "406", "$ref", NULL)),
                      "#/components/responses/NotAcceptable");
        ASSERT_NOT_NULL(at(users, "500", NULL));
        ASSERT_NOT_NULL(at(users, "503", NULL));
        ASSERT_NOT_NULL(at(users, "504", NULL));
        ASSERT_NULL(at(users, "404", NULL));
        ASSERT_EQ_UINT(json_object_size(at(doc, "paths", "/users/{id}", "head", "responses", NULL)),
                       8);
        /* Rows in three formats: JSON, NDJSON lines of the row schema, CSV text. */
        json_t *content = at(doc, "paths", "/users", "get", "responses", "200", "content", NULL);
        ASSERT_EQ_UINT(json_object_size(content), 3);
        /* NDJSON is text on the wire; each line is a row or a group. */
        ASSERT_EQ_STR(string_at(at(content, "application/x-ndjson", "schema", "type", NULL)),
                      "string");
        ASSERT_EQ_STR(string_at(at(content, "application/x-ndjson", "x-item-schema", "anyOf", "#0",
                                   "$ref", NULL)),
                      "#/components/schemas/Users");
        ASSERT_EQ_STR(string_at(at(content, "application/x-ndjson", "x-item-schema", "anyOf", "#1",
                                   "$ref", NULL)),
                      "#/components/schemas/UsersGroup");
        ASSERT_EQ_STR(string_at(at(content, "text/csv", "schema", "type", NULL)), "string");
        ASSERT_EQ_STR(string_at(at(doc, "paths", "/users/{id}", "head", "responses", "503", "$ref",
                                   NULL)),
                      "#/components/responses/HeadOnlyUnavailable");
        ASSERT_NOT_NULL(at(doc, "paths", "/users/{id}", "get", "responses", "404", NULL));
        ASSERT_EQ_UINT(json_object_size(at(doc, "paths", "/healthz", "get", "responses", NULL)), 2);
        /* Every read takes If-None-Match and Accept-Encoding; its 200 has an ETag. */
        ASSERT_EQ_STR(string_at(at(doc, "paths", "/users", "get", "responses", "200", "headers",
                                   "ETag", "$ref", NULL)),
                      "#/components/headers/ETag");
        ASSERT_EQ_UINT(json_array_size(at(doc, "paths", "/users", "head", "parameters", NULL)), 2);
        ASSERT_EQ_STR(string_at(at(doc, "paths", "/readyz", "get", "responses", "503", "$ref",
                                   NULL)),
                      "#/components/responses/NotReady");
        ASSERT_NOT_NULL(at(doc, "paths", "/metrics", "get", "responses", "200", "content",
                           "text/plain", NULL));
        ASSERT_NOT_NULL(at(doc, "paths", "/openapi.json", "get", "responses", "200", "content",
                           "application/json", NULL));
        ASSERT_EQ_STR(string_at(at(doc, "x-unknown-paths", "$ref", NULL)),
                      "#/components/responses/NotFound");
        /* The 400 problem names the parameter; 503 carries Retry-After. */
        ASSERT_NOT_NULL(at(doc, "components", "schemas", "InvalidParameterProblem", "allOf", "#1",
                           "properties", "parameter", NULL));
        ASSERT_NOT_NULL(at(doc, "components", "responses", "ServiceUnavailable", "headers",
                           "Retry-After", NULL));
        ASSERT_NOT_NULL(at(doc, "components", "responses", "MethodNotAllowed", "headers", "Allow",
                           NULL));
        json_decref(doc);
        api_free(api);
}

static void test_collection_parameters(void)
{
        api_t *api = demo_api();
        json_t *doc = generate(api);
        json_t *item = at(doc, "paths", "/users", NULL);
        char names[512];

        param_names(item, names, sizeof(names));
        ASSERT_EQ_STR(names, "limit,after,offset,order,select,count,id,name,email,age,balance,"
                             "active,created_at,bio,visits,score,birthday,last_login,avatar,prefs,"
                             "Queryd-Position,Prefer");
        json_t *limit = find_param(item, "limit");
        ASSERT_EQ_STR(string_at(at(limit, "in", NULL)), "query");
        ASSERT_TRUE(json_is_false(at(limit, "required", NULL)));
        ASSERT_EQ_STR(string_at(at(limit, "schema", "type", NULL)), "integer");
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "minimum", NULL)), 1);
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "default", NULL)), 100);
        ASSERT_NULL(at(limit, "schema", "maximum", NULL)); /* larger values are capped */
        ASSERT_CONTAINS(string_at(at(limit, "description", NULL)), "10000");
        ASSERT_EQ_STR(string_at(at(find_param(item, "after"), "schema", "type", NULL)), "string");
        ASSERT_CONTAINS(string_at(at(find_param(item, "after"), "description", NULL)), "`id`");
        ASSERT_EQ_INT(json_integer_value(at(find_param(item, "offset"), "schema", "minimum", NULL)),
                      0);
        ASSERT_EQ_STR(string_at(at(find_param(item, "count"), "schema", "enum", "#0", NULL)),
                      "exact");
        /* order: orderable columns only (not TEXT or JSON), with directions. */
        const char *order = string_at(at(find_param(item, "order"), "schema", "pattern", NULL));
        /* and aggregates of them, or count(). */
#define ORDERABLE \
        "id|name|email|age|balance|active|created_at|visits|score|birthday|last_login|avatar"
#define ORDER_TERM \
        "(?:" ORDERABLE "|(?:(?:" ORDERABLE ")\\.(?:count|sum|avg|min|max)\\(\\)|count\\(\\)))"
        ASSERT_EQ_STR(order, "^" ORDER_TERM "(?:\\.(?:asc|desc))?(?:," ORDER_TERM
                             "(?:\\.(?:asc|desc))?)*$");
#undef ORDER_TERM
#undef ORDERABLE
        ASSERT_EQ_STR(string_at(at(find_param(item, "count"), "schema", "enum", "#1", NULL)),
                      "estimated");
        const char *select = string_at(at(find_param(item, "select"), "schema", "pattern", NULL));
        ASSERT_CONTAINS(select, "|bio|");
        ASSERT_CONTAINS(select, "|prefs|(?:[A-Za-z_][A-Za-z0-9_]*:)?(?:");
        ASSERT_CONTAINS(string_at(at(find_param(item, "select"), "description", NULL)),
                        "total:balance.sum()");
        /* Filters: an exploded array per column (a column may be filtered
         * several times) of strings with the operators the column allows. */
        json_t *age = find_param(item, "age");
        ASSERT_EQ_STR(string_at(at(age, "schema", "type", NULL)), "array");
        ASSERT_EQ_STR(string_at(at(age, "style", NULL)), "form");
        ASSERT_TRUE(json_is_true(at(age, "explode", NULL)));
        ASSERT_EQ_STR(string_at(at(age, "schema", "items", "type", NULL)), "string");
        ASSERT_EQ_STR(string_at(at(age, "schema", "items", "pattern", NULL)),
                      "^(?:not\\.)?(?:eq|neq|gt|gte|lt|lte|in|is)\\.");
        ASSERT_CONTAINS(string_at(at(age, "description", NULL)), "an integer");
        ASSERT_CONTAINS(string_at(at(age, "description", NULL)), "`is.true`");
        ASSERT_CONTAINS(string_at(at(find_param(item, "name"), "schema", "items", "pattern", NULL)),
                        "like");
        ASSERT_NOT_CONTAINS(string_at(at(find_param(item, "name"), "description", NULL)),
                            "is.true");
        ASSERT_CONTAINS(string_at(at(item, "get", "description", NULL)), "`*`");
        ASSERT_EQ_STR(string_at(at(find_param(item, "prefs"), "schema", "items", "pattern", NULL)),
                      "^(?:not\\.)?is\\.null$");
        /* The page: data, next, count. */
        json_t *page = deref(doc, at(item, "get", "responses", "200", "content",
                                     "application/json", "schema", NULL));
        ASSERT_NOT_NULL(page);
        ASSERT_EQ_STR(string_at(at(page, "required", "#1", NULL)), "next");
        ASSERT_EQ_UINT(json_array_size(at(page, "required", NULL)), 2);
        ASSERT_TRUE(json_is_false(at(page, "additionalProperties", NULL)));
        ASSERT_EQ_STR(string_at(at(page, "properties", "data", "items", "anyOf", "#0", "$ref",
                                   NULL)),
                      "#/components/schemas/Users");
        /* Grouped rows (aggregates in select): columns typed, other keys free. */
        ASSERT_EQ_STR(string_at(at(page, "properties", "data", "items", "anyOf", "#1", "$ref",
                                   NULL)),
                      "#/components/schemas/UsersGroup");
        json_t *group = at(doc, "components", "schemas", "UsersGroup", NULL);
        ASSERT_NULL(at(group, "required", NULL));
        check_type(at(group, "properties", "age", NULL), "integer|null", "age");
        ASSERT_TRUE(json_is_object(at(group, "additionalProperties", NULL)));
        ASSERT_TRUE(json_is_true(at(page, "properties", "count_estimated", "const", NULL)));
        ASSERT_EQ_INT(json_integer_value(at(page, "properties", "data", "maxItems", NULL)), 10000);
        check_type(at(page, "properties", "next", NULL), "string|null", "next");
        ASSERT_EQ_STR(string_at(at(page, "properties", "next", "pattern", NULL)), "^/users\\?");
        check_type(at(page, "properties", "count", NULL), "integer", "count");
        json_decref(doc);
        api_free(api);
}

static void test_item_parameters(void)
{
        api_t *api = demo_api();
        json_t *doc = generate(api);
        json_t *item = at(doc, "paths", "/users/{id}", NULL);
        char names[128];

        param_names(item, names, sizeof(names));
        ASSERT_EQ_STR(names, "id,select,Queryd-Position,Prefer");
        json_t *id = find_param(item, "id");
        ASSERT_EQ_STR(string_at(at(id, "in", NULL)), "path");
        ASSERT_TRUE(json_is_true(at(id, "required", NULL)));
        ASSERT_EQ_STR(string_at(at(id, "schema", "type", NULL)), "integer");
        ASSERT_EQ_STR(string_at(at(id, "schema", "format", NULL)), "int64");
        ASSERT_EQ_STR(string_at(at(item, "get", "responses", "200", "content", "application/json",
                                   "schema", "$ref", NULL)),
                      "#/components/schemas/Users");
        json_decref(doc);
        api_free(api);
}

static void test_demo_row_types(void)
{
        api_t *api = demo_api();
        json_t *doc = generate(api);
        json_t *users = at(doc, "components", "schemas", "Users", NULL);

        ASSERT_EQ_STR(string_at(at(users, "type", NULL)), "object");
        ASSERT_TRUE(json_is_false(at(users, "additionalProperties", NULL)));
        ASSERT_NULL(at(users, "required", NULL)); /* select= gives any subset */
        ASSERT_EQ_UINT(json_object_size(at(users, "properties", NULL)), 14);
        check_type(property(doc, "Users", "id"), "integer", "id");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "id"), "description", NULL)), "INT.");
        check_type(property(doc, "Users", "name"), "string", "name");
        check_type(property(doc, "Users", "age"), "integer|null", "age");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "age"), "description", NULL)),
                      "INT, nullable.");
        check_type(property(doc, "Users", "balance"), "string", "balance");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "balance"), "pattern", NULL)),
                      "^-?[0-9]+(\\.[0-9]+)?$");
        ASSERT_CONTAINS(string_at(at(property(doc, "Users", "balance"), "description", NULL)),
                        "DECIMAL(12,2)");
        check_type(property(doc, "Users", "active"), "boolean", "active");
        ASSERT_CONTAINS(string_at(at(property(doc, "Users", "active"), "description", NULL)),
                        "TINYINT(1)");
        check_type(property(doc, "Users", "created_at"), "string", "created_at");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "created_at"), "pattern", NULL)),
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$");
        check_type(property(doc, "Users", "bio"), "string|null", "bio");
        ASSERT_CONTAINS(string_at(at(property(doc, "Users", "bio"), "description", NULL)), "TEXT");
        check_type(property(doc, "Users", "visits"), "integer|string", "visits");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "visits"), "pattern", NULL)),
                      "^-?[0-9]+$");
        check_type(property(doc, "Users", "score"), "number|null", "score");
        check_type(property(doc, "Users", "birthday"), "string|null", "birthday");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "birthday"), "format", NULL)), "date");
        check_type(property(doc, "Users", "last_login"), "string|null", "last_login");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "last_login"), "format", NULL)),
                      "date-time");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "last_login"), "pattern", NULL)),
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}"
                      "[+-][0-9]{2}:[0-9]{2}$");
        ASSERT_CONTAINS(string_at(at(property(doc, "Users", "last_login"), "description", NULL)),
                        "TIMESTAMP(3), nullable");
        check_type(property(doc, "Users", "avatar"), "string|null", "avatar");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "avatar"), "contentEncoding", NULL)),
                      "base64");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "avatar"), "description", NULL)),
                      "VARBINARY(16), nullable; base64 (standard alphabet, padded).");
        ASSERT_EQ_STR(string_at(at(property(doc, "Users", "name"), "description", NULL)),
                      "VARCHAR(100).");
        /* JSON: any value, so no type at all. */
        ASSERT_NULL(at(property(doc, "Users", "prefs"), "type", NULL));
        ASSERT_CONTAINS(string_at(at(property(doc, "Users", "prefs"), "description", NULL)),
                        "JSON");
        json_decref(doc);
        api_free(api);
}

static void test_query(void)
{
        api_t *api = demo_api();
        json_t *doc = generate(api);
        json_t *item = at(doc, "paths", "/users/{id}/peers", NULL);
        char names[128];

        param_names(item, names, sizeof(names));
        ASSERT_EQ_STR(names, "id,lo,hi,limit");
        json_t *id = find_param(item, "id");
        ASSERT_EQ_STR(string_at(at(id, "in", NULL)), "path");
        ASSERT_TRUE(json_is_true(at(id, "required", NULL)));
        ASSERT_EQ_STR(string_at(at(id, "schema", "type", NULL)), "integer");
        ASSERT_NULL(at(id, "schema", "default", NULL));
        json_t *lo = find_param(item, "lo");
        ASSERT_EQ_STR(string_at(at(lo, "in", NULL)), "query");
        ASSERT_TRUE(json_is_false(at(lo, "required", NULL)));
        ASSERT_TRUE(json_is_integer(at(lo, "schema", "default", NULL)));
        ASSERT_EQ_INT(json_integer_value(at(lo, "schema", "default", NULL)), 0);
        ASSERT_EQ_INT(json_integer_value(at(find_param(item, "hi"), "schema", "default", NULL)),
                      200);
        json_t *limit = find_param(item, "limit");
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "minimum", NULL)), 1);
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "maximum", NULL)), 500);
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "default", NULL)), 50);
        ASSERT_CONTAINS(string_at(at(limit, "description", NULL)), "from 1 to 500");
        /* Responses: 400 for parameters, 500 for too-many-rows; no 404. */
        ASSERT_NOT_NULL(at(item, "get", "responses", "400", NULL));
        ASSERT_NOT_NULL(at(item, "get", "responses", "500", NULL));
        ASSERT_NULL(at(item, "get", "responses", "404", NULL));
        json_t *result = deref(doc, at(item, "get", "responses", "200", "content",
                                       "application/json", "schema", NULL));
        ASSERT_EQ_STR(string_at(at(result, "properties", "data", "items", "$ref", NULL)),
                      "#/components/schemas/UsersIdPeers");
        check_type(at(result, "properties", "next", NULL), "null", "next");
        ASSERT_EQ_INT(json_integer_value(at(result, "properties", "data", "maxItems", NULL)),
                      10000);
        check_type(property(doc, "UsersIdPeers", "id"), "integer", "peers id");
        check_type(property(doc, "UsersIdPeers", "name"), "string", "peers name");
        check_type(property(doc, "UsersIdPeers", "age"), "integer|null", "peers age");
        ASSERT_EQ_UINT(json_array_size(at(doc, "components", "schemas", "UsersIdPeers", "required",
                                          NULL)),
                       3);
        json_decref(doc);
        api_free(api);
}

static void test_other_kinds_and_overrides(void)
{
        api_t *api = kinds_api();
        json_t *doc = generate(api);
        const char *k = "V1Kinds";

        ASSERT_NOT_NULL(at(doc, "components", "schemas", k, NULL));
        check_type(property(doc, k, "a"), "string", "a");
        check_type(property(doc, k, "b"), "integer|string", "unsigned bigint");
        ASSERT_EQ_STR(string_at(at(property(doc, k, "b"), "pattern", NULL)), "^[0-9]+$");
        ASSERT_CONTAINS(string_at(at(property(doc, k, "b"), "description", NULL)),
                        "BIGINT UNSIGNED");
        check_type(property(doc, k, "bits64"), "integer|string", "bit(64)");
        check_type(property(doc, k, "bits8"), "integer|null", "bit(8)");
        ASSERT_CONTAINS(string_at(at(property(doc, k, "bits8"), "description", NULL)), "BIT(8)");
        check_type(property(doc, k, "f"), "number", "float");
        check_type(property(doc, k, "dec_num"), "number", "decimal as number");
        ASSERT_NULL(at(property(doc, k, "dec_num"), "pattern", NULL));
        check_type(property(doc, k, "int_str"), "string", "int as string");
        ASSERT_EQ_STR(string_at(at(property(doc, k, "int_str"), "pattern", NULL)), "^-?[0-9]+$");
        check_type(property(doc, k, "big_num"), "integer|null", "bigint as number");
        ASSERT_NULL(at(property(doc, k, "big_num"), "pattern", NULL));
        ASSERT_EQ_STR(string_at(at(property(doc, k, "dt6"), "pattern", NULL)),
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$");
        ASSERT_NULL(at(property(doc, k, "dt6"), "format", NULL));
        ASSERT_EQ_STR(string_at(at(property(doc, k, "t3"), "pattern", NULL)),
                      "^-?[0-9]{2,}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}$");
        ASSERT_EQ_STR(string_at(at(property(doc, k, "ts"), "pattern", NULL)),
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                      "[+-][0-9]{2}:[0-9]{2}$");
        ASSERT_NULL(at(property(doc, k, "doc"), "type", NULL));
        check_type(property(doc, k, "blob"), "string", "blob");
        ASSERT_EQ_STR(string_at(at(property(doc, k, "blob"), "contentEncoding", NULL)), "base64");
        ASSERT_CONTAINS(string_at(at(property(doc, k, "blob"), "description", NULL)), "BLOB");

        /* A composite key: one path parameter per key column, typed by its rule. */
        json_t *item = at(doc, "paths", "/v1/kinds/{a}/{b}", NULL);
        char names[256];
        param_names(item, names, sizeof(names));
        ASSERT_EQ_STR(names, "a,b,select,Queryd-Position,Prefer");
        ASSERT_EQ_INT(json_integer_value(at(find_param(item, "a"), "schema", "maxLength", NULL)),
                      10);
        ASSERT_EQ_INT(json_integer_value(at(find_param(item, "b"), "schema", "minimum", NULL)), 0);
        ASSERT_NULL(at(find_param(item, "b"), "schema", "format", NULL));
        /* Filters: a reserved name is not one; names are escaped in patterns. */
        json_t *list = at(doc, "paths", "/v1/kinds", NULL);
        ASSERT_NULL(find_param(list, "nope"));
        json_t *limit = find_param(list, "limit");
        ASSERT_EQ_INT(json_integer_value(at(limit, "schema", "default", NULL)), 10);
        ASSERT_NOT_NULL(find_param(list, "x.y|z"));
        ASSERT_CONTAINS(string_at(at(find_param(list, "select"), "schema", "pattern", NULL)),
                        "|x\\.y\\|z)");
        ASSERT_EQ_STR(string_at(at(find_param(list, "doc"), "schema", "items", "pattern", NULL)),
                      "^(?:not\\.)?is\\.null$");
        size_t limits = 0, i;
        json_t *p;
        json_array_foreach (at(list, "parameters", NULL), i, p)
                limits += strcmp(json_string_value(json_object_get(p, "name")), "limit") == 0;
        ASSERT_EQ_UINT(limits, 1);
        json_decref(doc);
        api_free(api);
}

static void test_query_parameter_types(void)
{
        api_t *api = kinds_api();
        json_t *doc = generate(api);
        json_t *item = at(doc, "paths", "/v1-kinds", NULL);

        ASSERT_EQ_STR(string_at(at(find_param(item, "n"), "schema", "type", NULL)), "number");
        ASSERT_TRUE(json_is_real(at(find_param(item, "n"), "schema", "minimum", NULL)));
        ASSERT_TRUE(json_real_value(at(find_param(item, "n"), "schema", "minimum", NULL)) == -1.5);
        ASSERT_EQ_STR(string_at(at(find_param(item, "d"), "schema", "type", NULL)), "string");
        ASSERT_EQ_STR(string_at(at(find_param(item, "d"), "schema", "pattern", NULL)),
                      "^-?[0-9]+(\\.[0-9]+)?$");
        ASSERT_EQ_INT(json_integer_value(at(find_param(item, "s"), "schema", "maxLength", NULL)),
                      20);
        ASSERT_EQ_STR(string_at(at(find_param(item, "flag"), "schema", "type", NULL)), "boolean");
        ASSERT_TRUE(json_is_true(at(find_param(item, "flag"), "schema", "default", NULL)));
        ASSERT_TRUE(json_is_false(at(find_param(item, "flag"), "required", NULL)));
        ASSERT_TRUE(json_is_true(at(find_param(item, "n"), "required", NULL)));
        ASSERT_EQ_STR(string_at(at(find_param(item, "day"), "schema", "format", NULL)), "date");
        ASSERT_CONTAINS(string_at(at(find_param(item, "at"), "schema", "pattern", NULL)), "[T ]");
        ASSERT_CONTAINS(string_at(at(find_param(item, "t"), "schema", "pattern", NULL)), "^-?");
        ASSERT_EQ_STR(string_at(at(find_param(item, "color"), "schema", "enum", "#1", NULL)),
                      "blue");
        /* The named "types" override reaches the row schema. */
        const char *name = string_at(at(item, "get", "responses", "200", "content",
                                        "application/json", "schema", "$ref", NULL));
        ASSERT_EQ_STR(name, "#/components/schemas/V1Kinds2Result");
        check_type(property(doc, "V1Kinds2", "flag"), "boolean", "query flag");
        json_decref(doc);
        api_free(api);
}

static void test_unique_names(void)
{
        api_t *api = kinds_api();
        json_t *doc = generate(api);
        json_t *schemas = at(doc, "components", "schemas", NULL);

        /* /health would be "Health", the probe's schema: it gets the next free name. */
        ASSERT_EQ_STR(string_at(at(doc, "paths", "/health", "get", "responses", "200", "content",
                                   "application/json", "schema", "$ref", NULL)),
                      "#/components/schemas/Health2Page");
        ASSERT_EQ_STR(string_at(at(schemas, "Health", "properties", "status", "const", NULL)),
                      "ok");
        ASSERT_NOT_NULL(at(schemas, "Health2", "properties", "visits", NULL));
        /* /v1/kinds/page would be V1KindsPage, the page of /v1/kinds. */
        ASSERT_EQ_STR(string_at(at(doc, "paths", "/v1/kinds/page", "get", "responses", "200",
                                   "content", "application/json", "schema", "$ref", NULL)),
                      "#/components/schemas/V1KindsPage2Result");
        ASSERT_NOT_NULL(at(schemas, "V1KindsPage", "properties", "next", NULL));
        /* operationIds are unique. */
        json_t *seen = json_object();
        const char *path;
        json_t *item;
        json_object_foreach (at(doc, "paths", NULL), path, item) {
                const char *methods[] = { "get", "head", "put", "post", "delete", "patch" };
                for (size_t m = 0; m < 6; m++) {
                        const char *id = string_at(at(item, methods[m], "operationId", NULL));
                        ASSERT_NOT_NULL(id);
                        if (id == NULL)
                                continue;
                        ASSERT_NULL(json_object_get(seen, id));
                        json_object_set_new(seen, id, json_true());
                }
        }
        ASSERT_EQ_UINT(json_object_size(seen), 6 * json_object_size(at(doc, "paths", NULL)));
        json_decref(seen);
        json_decref(doc);
        api_free(api);
}

/* Every "$ref" in value resolves in doc. */
static size_t dangling_refs(json_t *doc, json_t *value)
{
        size_t dangling = 0, i;
        const char *key;
        json_t *child;

        if (json_is_object(value)) {
                if (json_object_get(value, "$ref") != NULL && deref(doc, value) == NULL) {
                        fprintf(stderr, "  dangling %s\n",
                                json_string_value(json_object_get(value, "$ref")));
                        dangling++;
                }
                json_object_foreach (value, key, child)
                        dangling += dangling_refs(doc, child);
        } else if (json_is_array(value)) {
                json_array_foreach (value, i, child)
                        dangling += dangling_refs(doc, child);
        }
        return dangling;
}

static void test_refs_resolve_and_stable(void)
{
        api_t *api = kinds_api();
        char *first = openapi_gen_document(api, NULL, NULL);
        char *second = openapi_gen_document(api, NULL, NULL);
        json_t *doc = generate(api);

        ASSERT_EQ_STR(first, second);
        ASSERT_EQ_UINT(dangling_refs(doc, doc), 0);
        free(first);
        free(second);
        json_decref(doc);
        api_free(api);
}

static void test_empty_api(void)
{
        api_t *api = with_routes(calloc(1, sizeof(api_t)));
        json_t *doc = generate(api);

        ASSERT_EQ_UINT(json_object_size(at(doc, "paths", NULL)), 4);
        ASSERT_EQ_UINT(dangling_refs(doc, doc), 0);
        json_decref(doc);
        api_free(api);
}

/* With an admin address the api has no route for /healthz, /readyz and
 * /metrics: the document leaves them out. */
static void test_builtins_without_routes_left_out(void)
{
        api_t *api = calloc(1, sizeof(*api));
        const api_handlers_t public_only = { .builtins = &builtins[3], .builtin_count = 1 };

        ASSERT_EQ_INT(api_build_routes(api, &public_only), 0);
        json_t *doc = generate(api);
        ASSERT_EQ_UINT(json_object_size(at(doc, "paths", NULL)), 1);
        ASSERT_NOT_NULL(at(doc, "paths", "/openapi.json", NULL));
        ASSERT_NULL(json_object_get(at(doc, "paths", NULL), "/metrics"));
        ASSERT_EQ_UINT(dangling_refs(doc, doc), 0);
        json_decref(doc);
        api_free(api);
}

/* ------------------------------------------------------------------ out of memory */

static long allocations_left = -1; /* -1: no limit */

static void *failing_malloc(size_t size)
{
        if (allocations_left == 0)
                return NULL;
        if (allocations_left > 0)
                allocations_left--;
        return malloc(size);
}

static void test_out_of_memory(void)
{
        api_t *api = demo_api();
        size_t failures = 0;
        long limit;

        json_set_alloc_funcs(failing_malloc, free);
        for (limit = 0; limit < 100000; limit += 1) {
                allocations_left = limit;
                char *text = openapi_gen_document(api, NULL, NULL);
                allocations_left = -1;
                if (text != NULL) {
                        free(text);
                        break;
                }
                failures++;
        }
        json_set_alloc_funcs(malloc, free);
        /* Every earlier cut failed cleanly (ASan reports a leak otherwise). */
        ASSERT_TRUE(limit < 100000);
        ASSERT_EQ_UINT(failures, (size_t)limit);
        ASSERT_TRUE(failures > 100);
        api_free(api);
}

/* The operations come from the route table: a route that does not answer
 * GET gets a 405-only get and no head operation, and an Allow header that differs from
 * path to path is described without a fixed value. */
static void test_operations_follow_the_routes(void)
{
        api_t *api = demo_api();

        for (size_t i = 0; i < api->route_count; i++) {
                if (strcmp(api->routes[i].template, "/users/{id}") == 0) {
                        memset(api->routes[i].methods, 0, sizeof(api->routes[i].methods));
                        api->routes[i].methods[0] = (route_method_t){ .name = "DELETE", .handler = never_called };
                }
        }
        json_t *doc = generate(api);
        json_t *item = at(doc, "paths", "/users/{id}", NULL);
        ASSERT_NOT_NULL(item);
        /* GET is refused there (405 only), DELETE is served: not listed as refused. */
        ASSERT_EQ_UINT(json_object_size(at(item, "get", "responses", NULL)), 1);
        ASSERT_NOT_NULL(at(item, "get", "responses", "405", NULL));
        ASSERT_EQ_STR(string_at(at(item, "get", "operationId", NULL)), "refuseGet_users__id_");
        ASSERT_NULL(at(item, "delete", NULL));
        ASSERT_NULL(at(item, "head", NULL));
        ASSERT_NOT_NULL(at(doc, "paths", "/users", "get", NULL));
        ASSERT_NULL(at(doc, "components", "headers", "Allow", "schema", "const", NULL));
        ASSERT_EQ_STR(string_at(at(doc, "components", "headers", "Allow", "schema", "type", NULL)),
                      "string");
        ASSERT_CONTAINS(string_at(at(doc, "components", "responses", "MethodNotAllowed",
                                     "description", NULL)),
                        "`Allow` names those it does");
        json_decref(doc);
        api_free(api);

        api = demo_api();
        doc = generate(api);
        ASSERT_EQ_STR(string_at(at(doc, "components", "headers", "Allow", "schema", "const", NULL)),
                      "GET, HEAD");
        ASSERT_EQ_STR(string_at(at(doc, "components", "responses", "MethodNotAllowed",
                                   "description", NULL)),
                      "The path exists but supports only `GET` and `HEAD`.");
        json_decref(doc);
        api_free(api);
}

int main(void)
{
        RUN_TEST(test_paths_and_operations);
        RUN_TEST(test_collection_parameters);
        RUN_TEST(test_item_parameters);
        RUN_TEST(test_demo_row_types);
        RUN_TEST(test_query);
        RUN_TEST(test_other_kinds_and_overrides);
        RUN_TEST(test_query_parameter_types);
        RUN_TEST(test_unique_names);
        RUN_TEST(test_refs_resolve_and_stable);
        RUN_TEST(test_empty_api);
        RUN_TEST(test_builtins_without_routes_left_out);
        RUN_TEST(test_out_of_memory);
        RUN_TEST(test_operations_follow_the_routes);
        return test_report();
}
