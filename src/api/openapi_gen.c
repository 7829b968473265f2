/*
 * The OpenAPI 3.1 document of a loaded api, built as a jansson tree and
 * dumped once per configuration. The row schemas follow rowjson.c writer by
 * writer, so a client generated from the document reads every answer.
 * openapi.yaml holds the document the demo configuration gives, with more
 * prose; tests/integration/test_openapi.py checks that the two agree.
 */
#include "api/openapi_gen.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "json/rowjson.h"

#define DOCUMENT_VERSION "0.2.0"

enum { BINARY_CHARSET = 63, MAX_EXACT_BITS = 53 };

static const double MAX_EXACT_INT = 9007199254740992.0; /* 2^53 */

/* Query parameters of a collection that are never filters. */
static const char *const RESERVED_PARAMS[] = { "select", "order", "limit", "after", "offset",
                                               "count" };

/* Component names the fixed part of the document uses. */
static const char *const FIXED_SCHEMAS[] = {
        "Health", "Ready", "PoolStats", "Problem", "InvalidParameterProblem", "NotFoundProblem",
        "MethodNotAllowedProblem", "InternalProblem", "UnavailableProblem", "TimeoutProblem",
        "NotReadyProblem",
};

/* ------------------------------------------------------------------ json helpers
 * Every constructor returns NULL when out of memory and every helper takes
 * (steals) the values it is given, NULL included: a failed allocation deep
 * down makes the whole document NULL without a check at each step.
 */

static json_t *str(const char *text)
{
        return json_string(text);
}

static json_t *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *strf(const char *fmt, ...)
{
        va_list ap;
        char *text = NULL;
        json_t *s = NULL;

        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n >= 0)
                text = malloc((size_t)n + 1);
        if (text != NULL) {
                va_start(ap, fmt);
                vsnprintf(text, (size_t)n + 1, fmt, ap);
                va_end(ap);
                s = json_stringn(text, (size_t)n);
        }
        free(text);
        return s;
}

/* Adds key: value to object; NULL (both released) when either is NULL or the add fails. */
static json_t *with(json_t *object, const char *key, json_t *value)
{
        if (object == NULL || value == NULL) {
                json_decref(object);
                json_decref(value);
                return NULL;
        }
        if (json_object_set_new(object, key, value) < 0) { /* it released value */
                json_decref(object);
                return NULL;
        }
        return object;
}

/* Appends value to array, with the same rules as with(). */
static json_t *push(json_t *array, json_t *value)
{
        if (array == NULL || value == NULL) {
                json_decref(array);
                json_decref(value);
                return NULL;
        }
        if (json_array_append_new(array, value) < 0) {
                json_decref(array);
                return NULL;
        }
        return array;
}

/* {key: value, ...} from (const char *, json_t *) pairs ending with a NULL key. */
static json_t *object_of(const char *key, ...)
{
        json_t *object = json_object();
        va_list ap;

        va_start(ap, key);
        /* After a failure, with() goes on releasing the remaining values. */
        for (; key != NULL; key = va_arg(ap, const char *))
                object = with(object, key, va_arg(ap, json_t *));
        va_end(ap);
        return object;
}

/* [s, ...] from strings ending with NULL. */
static json_t *strings_of(const char *first, ...)
{
        json_t *array = json_array();
        va_list ap;

        va_start(ap, first);
        for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
                array = push(array, str(s));
        va_end(ap);
        return array;
}

static json_t *ref(const char *section, const char *name)
{
        return object_of("$ref", strf("#/components/%s/%s", section, name), NULL);
}

/* "t", or [t, alt, "null"] when there is an alternative or null is possible. */
static json_t *type_of(const char *type, const char *alt, bool nullable)
{
        if (alt == NULL && !nullable)
                return str(type);
        json_t *types = push(json_array(), str(type));
        if (alt != NULL)
                types = push(types, str(alt));
        if (nullable)
                types = push(types, str("null"));
        return types;
}

/* Whole values as integers, so 1 reads "1" and not "1.0". */
static json_t *number(double value)
{
        bool exact = value >= -MAX_EXACT_INT && value <= MAX_EXACT_INT;

        if (exact && value == (double)(json_int_t)value)
                return json_integer((json_int_t)value);
        return json_real(value);
}

static bool is_reserved(const char *name)
{
        for (size_t i = 0; i < sizeof(RESERVED_PARAMS) / sizeof(RESERVED_PARAMS[0]); i++)
                if (strcmp(name, RESERVED_PARAMS[i]) == 0)
                        return true;
        return false;
}

/* Text matching itself in an ECMA-262 (unicode mode) regular expression. */
static void append_regex_literal(strbuf_t *b, const char *text)
{
        for (const char *p = text; *p != '\0'; p++) {
                if (strchr("^$\\.*+?()[]{}|", *p) != NULL)
                        strbuf_append_char(b, '\\');
                strbuf_append_char(b, *p);
        }
}

/* A string of the buffer's text, which is released. */
static json_t *take_string(strbuf_t *b)
{
        json_t *s = b->failed || b->data == NULL ? NULL : json_stringn(b->data, b->len);

        strbuf_done(b);
        return s;
}

/* ------------------------------------------------------------------ fixed components */

static json_t *x_request_id(void)
{
        return object_of("X-Request-Id", ref("headers", "X-Request-Id"), NULL);
}

static json_t *headers_components(void)
{
        return object_of(
                "X-Request-Id",
                object_of("description",
                          str("Identifies the request in the access log; also `request_id` in "
                              "problem bodies. An incoming `X-Request-Id` of 1 to 64 characters "
                              "from `A-Z a-z 0-9 . _ -` is kept; otherwise queryd makes one."),
                          "required", json_true(), "schema",
                          object_of("type", str("string"), "minLength", json_integer(1), NULL),
                          NULL),
                "Retry-After",
                object_of("description", str("Seconds after which a retry may succeed."),
                          "required", json_true(), "schema",
                          object_of("type", str("integer"), "minimum", json_integer(0), NULL),
                          NULL),
                "Allow",
                object_of("description", str("The methods the path supports."), "required",
                          json_true(), "schema",
                          object_of("type", str("string"), "const", str("GET, HEAD"), NULL), NULL),
                NULL);
}

/* X-Request-Id, and Retry-After or Allow when asked. */
static json_t *headers_of(bool retry_after, bool allow)
{
        json_t *headers = x_request_id();

        if (retry_after)
                headers = with(headers, "Retry-After", ref("headers", "Retry-After"));
        if (allow)
                headers = with(headers, "Allow", ref("headers", "Allow"));
        return headers;
}

static json_t *problem_response(const char *description, const char *schema, json_t *headers)
{
        return object_of("description", str(description), "headers", headers, "content",
                         object_of("application/problem+json",
                                   object_of("schema", ref("schemas", schema), NULL), NULL),
                         NULL);
}

static json_t *head_only_response(bool retry_after)
{
        return object_of("description",
                         str("The status and headers `GET` would give, without a body."),
                         "headers", headers_of(retry_after, false), NULL);
}

static json_t *responses_components(void)
{
        return object_of(
                "HeadOnly", head_only_response(false), "HeadOnlyUnavailable",
                head_only_response(true), "InvalidParameter",
                problem_response("A query or path parameter is malformed, out of range, unknown "
                                 "or repeated; `parameter` names it.",
                                 "InvalidParameterProblem", headers_of(false, false)),
                "NotFound",
                problem_response("No row with this key, or no such path.", "NotFoundProblem",
                                 headers_of(false, false)),
                "MethodNotAllowed",
                problem_response("The path exists but supports only `GET` and `HEAD`.",
                                 "MethodNotAllowedProblem", headers_of(false, true)),
                "NotAcceptable",
                problem_response("The Accept header allows none of `application/json`, "
                                 "`application/x-ndjson` and `text/csv`.",
                                 "NotAcceptableProblem", headers_of(false, false)),
                "InternalError",
                problem_response("The database reported an error, the server failed, or a named "
                                 "query found more rows than it may return (`too-many-rows`).",
                                 "InternalProblem", headers_of(false, false)),
                "ServiceUnavailable",
                problem_response("The database cannot be reached (`database-unavailable`), or no "
                                 "database connection became free in time or the wait queue is "
                                 "full (`overloaded`).",
                                 "UnavailableProblem", headers_of(true, false)),
                "Timeout",
                problem_response("The query did not finish within its timeout. When the database "
                                 "interrupted it, `errno` is 1969 and `sqlstate` 70100.",
                                 "TimeoutProblem", headers_of(false, false)),
                "NotReady",
                problem_response("The database did not answer in time.", "NotReadyProblem",
                                 headers_of(true, false)),
                NULL);
}

static json_t *counter(const char *description)
{
        return object_of("description", str(description), "type", str("integer"), "minimum",
                         json_integer(0), NULL);
}

static json_t *health_schema(void)
{
        return object_of("type", str("object"), "required", strings_of("status", NULL),
                         "additionalProperties", json_false(), "properties",
                         object_of("status",
                                   object_of("type", str("string"), "const", str("ok"), NULL),
                                   NULL),
                         NULL);
}

static json_t *ready_schema(void)
{
        return object_of("type", str("object"), "required", strings_of("status", "pool", NULL),
                         "additionalProperties", json_false(), "properties",
                         object_of("status",
                                   object_of("type", str("string"), "const", str("ready"), NULL),
                                   "pool", ref("schemas", "PoolStats"), NULL),
                         NULL);
}

static json_t *pool_stats_schema(void)
{
        return object_of("type", str("object"), "description",
                         str("Database connection counts, totals over all workers."), "required",
                         strings_of("size", "idle", "busy", "waiting", NULL),
                         "additionalProperties", json_false(), "properties",
                         object_of("size", counter("Connections configured."), "idle",
                                   counter("Connections open and free."), "busy",
                                   counter("Connections lent to a request."), "waiting",
                                   counter("Requests waiting for a connection."), NULL),
                         NULL);
}

static json_t *problem_schema(void)
{
        json_t *properties = object_of(
                "type",
                object_of("type", str("string"), "pattern", str("^urn:queryd:problem:[a-z-]+$"),
                          NULL),
                "title", object_of("type", str("string"), "minLength", json_integer(1), NULL),
                "status",
                object_of("type", str("integer"), "minimum", json_integer(400), "maximum",
                          json_integer(599), NULL),
                "detail",
                object_of("description",
                          str("Human text naming the parameter or resource and the reason."),
                          "type", str("string"), "minLength", json_integer(1), NULL),
                "request_id",
                object_of("description", str("The value of the `X-Request-Id` response header."),
                          "type", str("string"), "minLength", json_integer(1), NULL),
                "errno",
                object_of("description", str("MariaDB error number (database errors only)."),
                          "type", str("integer"), NULL),
                "sqlstate",
                object_of("description", str("SQLSTATE (database errors only)."), "type",
                          str("string"), "pattern", str("^[0-9A-Z]{5}$"), NULL),
                NULL);

        return object_of("type", str("object"), "description", str("An RFC 9457 problem document."),
                         "required",
                         strings_of("type", "title", "status", "detail", "request_id", NULL),
                         "properties", properties, NULL);
}

/* allOf: [base, {properties: properties}], a narrower problem. */
static json_t *problem_variant(const char *base, json_t *properties)
{
        return object_of("allOf",
                         push(push(json_array(), ref("schemas", base)),
                              object_of("properties", properties, NULL)),
                         NULL);
}

static json_t *const_of(json_t *value)
{
        return object_of("const", value, NULL);
}

static json_t *slug_const(const char *slug)
{
        return const_of(strf("urn:queryd:problem:%s", slug));
}

static json_t *slugs_enum(const char *first, const char *second, const char *third)
{
        json_t *values = push(push(json_array(), strf("urn:queryd:problem:%s", first)),
                              strf("urn:queryd:problem:%s", second));

        if (third != NULL)
                values = push(values, strf("urn:queryd:problem:%s", third));
        return object_of("enum", values, NULL);
}

static json_t *not_ready_schema(void)
{
        return object_of("allOf",
                         push(push(json_array(), ref("schemas", "UnavailableProblem")),
                              object_of("required", strings_of("pool", NULL), "properties",
                                        object_of("pool", ref("schemas", "PoolStats"), NULL),
                                        NULL)),
                         NULL);
}

/* The schemas every document has, after the entries' own. */
static int add_fixed_schemas(json_t *schemas)
{
        json_t *fixed = object_of(
                "Health", health_schema(), "Ready", ready_schema(), "PoolStats",
                pool_stats_schema(), "Problem", problem_schema(), "InvalidParameterProblem",
                problem_variant("Problem",
                                object_of("type", slug_const("invalid-parameter"), "status",
                                          const_of(json_integer(400)), "parameter",
                                          object_of("description", str("The parameter at fault."),
                                                    "type", str("string"), NULL),
                                          NULL)),
                "NotFoundProblem",
                problem_variant("Problem", object_of("type", slug_const("not-found"), "status",
                                                     const_of(json_integer(404)), NULL)),
                "MethodNotAllowedProblem",
                problem_variant("Problem",
                                object_of("type", slug_const("method-not-allowed"), "status",
                                          const_of(json_integer(405)), NULL)),
                "NotAcceptableProblem",
                problem_variant("Problem",
                                object_of("type", slug_const("not-acceptable"), "status",
                                          const_of(json_integer(406)), NULL)),
                "InternalProblem",
                problem_variant("Problem",
                                object_of("type",
                                          slugs_enum("database-error", "internal",
                                                     "too-many-rows"),
                                          NULL)),
                "UnavailableProblem",
                problem_variant("Problem",
                                object_of("type", slugs_enum("database-unavailable", "overloaded",
                                                             NULL),
                                          "status", const_of(json_integer(503)), NULL)),
                "TimeoutProblem",
                problem_variant("Problem", object_of("type", slug_const("timeout"), "status",
                                                     const_of(json_integer(504)), NULL)),
                "NotReadyProblem", not_ready_schema(), NULL);
        int r = fixed != NULL && json_object_update(schemas, fixed) == 0 ? 0 : -ENOMEM;

        json_decref(fixed);
        return r;
}

/* ------------------------------------------------------------------ paths */

/* An error status an operation may answer, and the response component saying how. */
typedef struct error_response {
        const char *status;
        const char *component;
} error_response_t;

static const error_response_t COLLECTION_ERRORS[] = {
        { "400", "InvalidParameter" }, { "406", "NotAcceptable" }, { "500", "InternalError" },
        { "503", "ServiceUnavailable" }, { "504", "Timeout" }, { NULL, NULL },
};
static const error_response_t ITEM_ERRORS[] = {
        { "400", "InvalidParameter" }, { "404", "NotFound" }, { "406", "NotAcceptable" },
        { "500", "InternalError" },
        { "503", "ServiceUnavailable" }, { "504", "Timeout" }, { NULL, NULL },
};
static const error_response_t READY_ERRORS[] = { { "503", "NotReady" }, { NULL, NULL } };
static const error_response_t NO_ERRORS[] = { { NULL, NULL } };

/* What one path answers to GET (and, the same without a body, to HEAD). */
typedef struct path_spec {
        const char *path;
        const char *get_id, *head_id; /* operationIds */
        const char *summary;
        json_t *description;          /* taken */
        json_t *parameters;           /* taken; an empty array: none */
        json_t *ok;                   /* taken: the 200 response */
        const error_response_t *errors;
} path_spec_t;

static json_t *ok_response(json_t *description, const char *media_type, json_t *schema)
{
        return object_of("description", description, "headers", x_request_id(), "content",
                         object_of(media_type, object_of("schema", schema, NULL), NULL), NULL);
}

/*
 * Rows come in the format Accept asks for: JSON (schema), NDJSON (one
 * object of the row schema per line) or CSV (text with a header row).
 */
static json_t *rows_response(const char *description, json_t *schema, const char *row)
{
        return object_of(
                "description",
                strf("%s As `application/json` by default; `Accept: application/x-ndjson` gives "
                     "one row object per line, `Accept: text/csv` RFC 4180 CSV with a header "
                     "row. Large results are streamed (chunked); an error after the answer "
                     "started closes the connection before the body ends.",
                     description),
                "headers", x_request_id(), "content",
                object_of("application/json", object_of("schema", schema, NULL),
                          "application/x-ndjson", object_of("schema", ref("schemas", row), NULL),
                          "text/csv",
                          object_of("schema", object_of("type", str("string"), NULL), NULL),
                          NULL),
                NULL);
}

static json_t *get_operation(path_spec_t *spec)
{
        json_t *responses = object_of("200", spec->ok, NULL);

        spec->ok = NULL;
        for (const error_response_t *e = spec->errors; e->status != NULL; e++)
                responses = with(responses, e->status, ref("responses", e->component));
        json_t *op = object_of("operationId", str(spec->get_id), "summary", str(spec->summary),
                               NULL);
        op = with(op, "description", spec->description);
        spec->description = NULL;
        return with(op, "responses", responses);
}

static json_t *head_operation(const path_spec_t *spec)
{
        json_t *responses = object_of("200", ref("responses", "HeadOnly"), NULL);

        for (const error_response_t *e = spec->errors; e->status != NULL; e++)
                responses = with(responses, e->status,
                                 ref("responses", strcmp(e->status, "503") == 0
                                                          ? "HeadOnlyUnavailable"
                                                          : "HeadOnly"));
        return object_of("operationId", str(spec->head_id), "summary",
                         str("The same without a body."), "description",
                         strf("Same status and headers as `GET %s`, without a body.", spec->path),
                         "responses", responses, NULL);
}

/* Sets key: value in object (value taken, NULL counts as out of memory). */
static int put(json_t *object, const char *key, json_t *value)
{
        if (value == NULL)
                return -ENOMEM;
        return json_object_set_new(object, key, value) == 0 ? 0 : -ENOMEM;
}

/* Adds the path item spec describes to paths; takes spec's json members. */
static int add_path(json_t *paths, path_spec_t *spec)
{
        json_t *item = object_of("x-other-methods", ref("responses", "MethodNotAllowed"), NULL);

        if (spec->parameters != NULL && json_array_size(spec->parameters) == 0)
                json_decref(spec->parameters);
        else
                item = with(item, "parameters", spec->parameters);
        spec->parameters = NULL;
        item = with(item, "get", get_operation(spec));
        item = with(item, "head", head_operation(spec));
        json_decref(spec->ok);
        json_decref(spec->description);
        return put(paths, spec->path, item);
}

/* The members of an OpenAPI document the /openapi.json schema insists on. */
static json_t *document_properties(void)
{
        return object_of("openapi",
                         object_of("type", str("string"), "pattern", str("^3\\.1\\."), NULL),
                         "info", object_of("type", str("object"), NULL), "paths",
                         object_of("type", str("object"), NULL), NULL);
}

static int add_builtin_paths(json_t *paths)
{
        path_spec_t specs[] = {
                { "/healthz", "getHealth", "headHealth", "Liveness probe.",
                  str("Answers as long as the process serves HTTP; does not touch the database."),
                  json_array(),
                  ok_response(str("The process is alive."), "application/json",
                              ref("schemas", "Health")),
                  NO_ERRORS },
                { "/readyz", "getReadiness", "headReadiness",
                  "Readiness probe with connection pool counts.",
                  str("Ready when a database round trip succeeded within 2 seconds. `pool` holds "
                      "totals over all workers."),
                  json_array(),
                  ok_response(str("The database answers."), "application/json",
                              ref("schemas", "Ready")),
                  READY_ERRORS },
                { "/metrics", "getMetrics", "headMetrics",
                  "Counters and gauges in Prometheus text format.",
                  str("Request counts and durations by route template, response bytes, the "
                      "connection pool gauges and database error and reconnect counters. Query "
                      "parameters are ignored."),
                  json_array(),
                  ok_response(str("Prometheus text exposition format 0.0.4."), "text/plain",
                              object_of("type", str("string"), NULL)),
                  NO_ERRORS },
                { "/openapi.json", "getOpenAPI", "headOpenAPI", "This document.",
                  str("The OpenAPI 3.1 description of this service, generated from its "
                      "configuration file. Query parameters are ignored."),
                  json_array(),
                  ok_response(str("An OpenAPI 3.1 document."), "application/json",
                              object_of("type", str("object"), "required",
                                        strings_of("openapi", "info", "paths", NULL),
                                        "properties", document_properties(), NULL)),
                  NO_ERRORS },
        };
        int r = 0;

        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
                if (add_path(paths, &specs[i]) < 0) /* keeps going: each takes its spec */
                        r = -ENOMEM;
        return r;
}

/* ------------------------------------------------------------------ column types */

/* The writer rowjson.c uses for a column. */
static rowjson_kind_t kind_of(const api_column_meta_t *m)
{
        return rowjson_kind_of(m->type, m->charsetnr, m->is_json);
}

static const char *text_type_name(const api_column_meta_t *m)
{
        bool binary = m->charsetnr == BINARY_CHARSET;

        switch (m->type) {
        case MYSQL_TYPE_VARCHAR:
        case MYSQL_TYPE_VAR_STRING:
                return binary ? "VARBINARY" : "VARCHAR";
        case MYSQL_TYPE_STRING:
                if (m->flags & ENUM_FLAG)
                        return "ENUM";
                if (m->flags & SET_FLAG)
                        return "SET";
                return binary ? "BINARY" : "CHAR";
        case MYSQL_TYPE_TINY_BLOB:
        case MYSQL_TYPE_BLOB:
        case MYSQL_TYPE_MEDIUM_BLOB:
        case MYSQL_TYPE_LONG_BLOB:
                return binary ? "BLOB" : "TEXT";
        case MYSQL_TYPE_GEOMETRY:
                return "GEOMETRY";
        case MYSQL_TYPE_NULL:
                return "NULL";
        default:
                return binary ? "binary" : "text";
        }
}

static const char *int_type_name(enum enum_field_types type)
{
        switch (type) {
        case MYSQL_TYPE_TINY:
                return "TINYINT";
        case MYSQL_TYPE_SHORT:
                return "SMALLINT";
        case MYSQL_TYPE_INT24:
                return "MEDIUMINT";
        case MYSQL_TYPE_LONG:
                return "INT";
        case MYSQL_TYPE_YEAR:
                return "YEAR";
        default:
                return "BIGINT";
        }
}

/* The SQL type as the metadata tells it: "BIGINT UNSIGNED", "DECIMAL(12,2)", "TIMESTAMP(3)". */
static void sql_type(const api_column_t *c, char *out, size_t size)
{
        const api_column_meta_t *m = &c->meta;
        rowjson_kind_t kind = kind_of(m);
        static const char *const temporal[] = { [KIND_DATE] = "DATE", [KIND_DATETIME] = "DATETIME",
                                                [KIND_TIMESTAMP] = "TIMESTAMP",
                                                [KIND_TIME] = "TIME" };
        bool is_unsigned = (m->flags & UNSIGNED_FLAG) != 0;
        unsigned scale = m->decimals;

        switch (kind) {
        case KIND_INT:
                snprintf(out, size, "%s%s%s", int_type_name(m->type),
                         m->type == MYSQL_TYPE_TINY && m->length == 1 ? "(1)" : "",
                         is_unsigned ? " UNSIGNED" : "");
                return;
        case KIND_BIT:
                snprintf(out, size, "BIT(%lu)", m->length);
                return;
        case KIND_FLOAT:
        case KIND_DOUBLE:
                snprintf(out, size, "%s%s", kind == KIND_FLOAT ? "FLOAT" : "DOUBLE",
                         is_unsigned ? " UNSIGNED" : "");
                return;
        case KIND_DECIMAL: {
                /* The display length counts the digits, the point and the sign. */
                unsigned long digits = m->length - (scale > 0) - !is_unsigned;
                if (m->length > scale + 2 && digits > scale + 1)
                        snprintf(out, size, "DECIMAL(%lu,%u)", digits, scale);
                else
                        snprintf(out, size, "DECIMAL with %u fraction digits", scale);
                return;
        }
        case KIND_DATE:
        case KIND_DATETIME:
        case KIND_TIMESTAMP:
        case KIND_TIME:
                if (kind != KIND_DATE && scale > 0 && scale <= 6)
                        snprintf(out, size, "%s(%u)", temporal[kind], scale);
                else
                        snprintf(out, size, "%s", temporal[kind]);
                return;
        case KIND_JSON:
                snprintf(out, size, "JSON");
                return;
        default:
                /* The rule knows the characters a text column holds (bytes for binary). */
                if (c->rule.max_length > 0 && (m->type == MYSQL_TYPE_VAR_STRING ||
                                               m->type == MYSQL_TYPE_VARCHAR ||
                                               (m->type == MYSQL_TYPE_STRING &&
                                                !(m->flags & (ENUM_FLAG | SET_FLAG)))))
                        snprintf(out, size, "%s(%zu)", text_type_name(m), c->rule.max_length);
                else
                        snprintf(out, size, "%s", text_type_name(m));
                return;
        }
}

/* How a column's values look in JSON, for its schema and its description. */
typedef struct json_shape {
        const char *type;     /* NULL: any JSON value */
        const char *alt_type; /* a second type, or NULL */
        const char *format;
        const char *encoding; /* contentEncoding */
        char pattern[128];
        const char *note;     /* for the description, or NULL */
} json_shape_t;

/* The fraction a temporal value shows: the declared digits, or six or none
 * for computed values that declare more than six (rowjson.c fraction_digits). */
static void fraction_pattern(unsigned decimals, char *out, size_t size)
{
        if (decimals == 0)
                snprintf(out, size, "%s", "");
        else if (decimals <= 6)
                snprintf(out, size, "\\.[0-9]{%u}", decimals);
        else
                snprintf(out, size, "%s", "(\\.[0-9]{6})?");
}

/* Integers (and BIT) as append_int writes them under each output. */
static void integer_shape(const api_column_t *c, rowjson_kind_t kind, json_shape_t *s)
{
        bool big = kind == KIND_INT ? c->meta.type == MYSQL_TYPE_LONGLONG
                                    : c->meta.length > MAX_EXACT_BITS;
        bool is_unsigned = kind == KIND_BIT || (c->meta.flags & UNSIGNED_FLAG) != 0;
        const char *digits = is_unsigned ? "^[0-9]+$" : "^-?[0-9]+$";

        switch (c->output) {
        case API_OUTPUT_BOOLEAN:
                s->type = "boolean";
                s->note = "written as true or false";
                return;
        case API_OUTPUT_NUMBER:
                s->type = "integer";
                s->note = big ? "always a number, with every digit" : NULL;
                return;
        case API_OUTPUT_STRING:
                s->type = "string";
                snprintf(s->pattern, sizeof(s->pattern), "%s", digits);
                s->note = "a string of its digits";
                return;
        default:
                s->type = "integer";
                if (big) {
                        s->alt_type = "string";
                        snprintf(s->pattern, sizeof(s->pattern), "%s", digits);
                        s->note = "a number within ±2^53 (9007199254740992), otherwise a string "
                                  "of its exact digits";
                }
                return;
        }
}

static void temporal_shape(const api_column_t *c, rowjson_kind_t kind, json_shape_t *s)
{
        char fraction[24];

        fraction_pattern(c->meta.decimals, fraction, sizeof(fraction));
        s->type = "string";
        switch (kind) {
        case KIND_DATE:
                s->format = "date";
                snprintf(s->pattern, sizeof(s->pattern), "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
                return;
        case KIND_DATETIME:
                snprintf(s->pattern, sizeof(s->pattern),
                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}%s$", fraction);
                s->note = "without an offset";
                return;
        case KIND_TIMESTAMP:
                s->format = "date-time";
                snprintf(s->pattern, sizeof(s->pattern),
                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}%s"
                         "[+-][0-9]{2}:[0-9]{2}$",
                         fraction);
                s->note = "with the session offset (QUERYD_TIME_ZONE)";
                return;
        default:
                snprintf(s->pattern, sizeof(s->pattern), "^-?[0-9]{2,}:[0-9]{2}:[0-9]{2}%s$",
                         fraction);
                s->note = "may be negative or beyond 24 hours";
                return;
        }
}

static void shape_of(const api_column_t *c, rowjson_kind_t kind, json_shape_t *s)
{
        memset(s, 0, sizeof(*s));
        switch (kind) {
        case KIND_INT:
        case KIND_BIT:
                integer_shape(c, kind, s);
                return;
        case KIND_FLOAT:
        case KIND_DOUBLE:
                s->type = c->output == API_OUTPUT_STRING ? "string" : "number";
                s->note = c->output == API_OUTPUT_STRING
                                  ? "a string of the shortest form that reads back the same"
                                  : "in the shortest form that reads back the same";
                return;
        case KIND_DECIMAL:
                if (c->output == API_OUTPUT_NUMBER) {
                        s->type = "number";
                        s->note = "a number with the exact digits MariaDB prints";
                        return;
                }
                s->type = "string";
                snprintf(s->pattern, sizeof(s->pattern), "%s", "^-?[0-9]+(\\.[0-9]+)?$");
                s->note = "a string of the exact digits MariaDB prints";
                return;
        case KIND_DATE:
        case KIND_DATETIME:
        case KIND_TIMESTAMP:
        case KIND_TIME:
                temporal_shape(c, kind, s);
                return;
        case KIND_BINARY:
                s->type = "string";
                s->encoding = "base64";
                snprintf(s->pattern, sizeof(s->pattern), "%s",
                         "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$");
                s->note = "base64 (standard alphabet, padded)";
                return;
        case KIND_JSON:
                s->note = "embedded as a JSON value of any type";
                return;
        default:
                s->type = "string";
                return;
        }
}

static json_t *column_schema(const api_column_t *c)
{
        rowjson_kind_t kind = kind_of(&c->meta);
        bool nullable = (c->meta.flags & NOT_NULL_FLAG) == 0;
        json_shape_t shape;
        char type[64];

        shape_of(c, kind, &shape);
        sql_type(c, type, sizeof(type));
        json_t *s = object_of("description",
                              strf("%s%s%s%s.", type, nullable ? ", nullable" : "",
                                   shape.note ? "; " : "", shape.note ? shape.note : ""),
                              NULL);
        if (shape.type != NULL) /* a JSON column takes any value, null too */
                s = with(s, "type", type_of(shape.type, shape.alt_type, nullable));
        if (shape.format != NULL)
                s = with(s, "format", str(shape.format));
        if (shape.pattern[0] != '\0')
                s = with(s, "pattern", str(shape.pattern));
        if (shape.encoding != NULL)
                s = with(s, "contentEncoding", str(shape.encoding));
        return s;
}

/* An object with exactly these columns, all present. */
static json_t *row_schema(json_t *description, const api_column_t *columns, size_t count)
{
        json_t *required = json_array();
        json_t *properties = json_object();

        for (size_t i = 0; i < count; i++) {
                required = push(required, str(columns[i].name));
                properties = with(properties, columns[i].name, column_schema(&columns[i]));
        }
        return object_of("type", str("object"), "description", description, "required", required,
                         "additionalProperties", json_false(), "properties", properties, NULL);
}

/* ------------------------------------------------------------------ request values */

static void format_number(double value, char *out, size_t size)
{
        if (value >= -MAX_EXACT_INT && value <= MAX_EXACT_INT && value == (double)(long long)value)
                snprintf(out, size, "%lld", (long long)value);
        else
                snprintf(out, size, "%.17g", value);
}

/* What a request value of rule must be, as a phrase: "an integer from 1 to 500". */
static void rule_phrase(const api_rule_t *rule, char *out, size_t size)
{
        static const char *const phrases[] = {
                [API_TYPE_INT] = "an integer",
                [API_TYPE_NUMBER] = "a finite number",
                [API_TYPE_DECIMAL] = "a decimal: digits with an optional leading `-` and fraction",
                [API_TYPE_STRING] = "text",
                [API_TYPE_BOOLEAN] = "`true` or `false`",
                [API_TYPE_DATE] = "a date, `YYYY-MM-DD`",
                [API_TYPE_DATETIME] = "a date and time, `YYYY-MM-DD[T ]hh:mm:ss[.ffffff]`",
                [API_TYPE_TIME] = "a time, `[-]hh:mm:ss[.ffffff]`",
                [API_TYPE_ENUM] = "one of the listed values",
                [API_TYPE_BINARY] = "base64 (standard alphabet, padded)",
                [API_TYPE_JSON] = "any value",
        };
        char low[32] = "", high[32] = "";

        if (rule->has_min)
                format_number(rule->min, low, sizeof(low));
        else if (rule->type == API_TYPE_INT && rule->is_unsigned)
                snprintf(low, sizeof(low), "0");
        if (rule->has_max)
                format_number(rule->max, high, sizeof(high));
        const char *base = phrases[rule->type];
        if (low[0] != '\0' && high[0] != '\0')
                snprintf(out, size, "%s from %s to %s", base, low, high);
        else if (low[0] != '\0')
                snprintf(out, size, "%s of at least %s", base, low);
        else if (high[0] != '\0')
                snprintf(out, size, "%s of at most %s", base, high);
        else if (rule->type == API_TYPE_STRING && rule->max_length > 0)
                snprintf(out, size, "text of at most %zu characters", rule->max_length);
        else
                snprintf(out, size, "%s", base);
}

static json_t *enum_values(const api_rule_t *rule)
{
        json_t *values = json_array();

        for (size_t i = 0; i < rule->value_count; i++)
                values = push(values, str(rule->values[i]));
        return values;
}

/* The JSON schema of a request value of rule (a path or query parameter). */
static json_t *rule_schema(const api_rule_t *rule)
{
        switch (rule->type) {
        case API_TYPE_INT: {
                json_t *s = object_of("type", str("integer"), NULL);
                if (!rule->is_unsigned) /* unsigned values go past int64 */
                        s = with(s, "format", str("int64"));
                if (rule->has_min || rule->is_unsigned)
                        s = with(s, "minimum", number(rule->has_min ? rule->min : 0));
                if (rule->has_max)
                        s = with(s, "maximum", number(rule->max));
                return s;
        }
        case API_TYPE_NUMBER: {
                json_t *s = object_of("type", str("number"), NULL);
                if (rule->has_min)
                        s = with(s, "minimum", number(rule->min));
                if (rule->has_max)
                        s = with(s, "maximum", number(rule->max));
                return s;
        }
        case API_TYPE_DECIMAL:
                return object_of("type", str("string"), "pattern", str("^-?[0-9]+(\\.[0-9]+)?$"),
                                 NULL);
        case API_TYPE_STRING:
                if (rule->max_length == 0)
                        return object_of("type", str("string"), NULL);
                return object_of("type", str("string"), "maxLength",
                                 json_integer((json_int_t)rule->max_length), NULL);
        case API_TYPE_BOOLEAN:
                return object_of("type", str("boolean"), NULL);
        case API_TYPE_DATE:
                return object_of("type", str("string"), "format", str("date"), NULL);
        case API_TYPE_DATETIME:
                return object_of("type", str("string"), "pattern",
                                 str("^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                                     "(\\.[0-9]{1,6})?$"),
                                 NULL);
        case API_TYPE_TIME:
                return object_of("type", str("string"), "pattern",
                                 str("^-?[0-9]+:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?$"), NULL);
        case API_TYPE_ENUM:
                return object_of("type", str("string"), "enum", enum_values(rule), NULL);
        case API_TYPE_BINARY:
                return object_of("type", str("string"), "contentEncoding", str("base64"), NULL);
        default:
                return json_object();
        }
}

/* A default given as text, as the JSON value of its type. */
static json_t *default_value(const api_rule_t *rule, const char *text)
{
        char *end;

        errno = 0;
        switch (rule->type) {
        case API_TYPE_INT: {
                long long v = strtoll(text, &end, 10);
                if (errno == 0 && *end == '\0' && end != text)
                        return json_integer(v);
                return str(text); /* beyond int64 (unsigned): keep the digits */
        }
        case API_TYPE_NUMBER:
                return number(strtod(text, NULL));
        case API_TYPE_BOOLEAN:
                return json_boolean(strcmp(text, "true") == 0 || strcmp(text, "1") == 0);
        default:
                return str(text);
        }
}

static json_t *parameter(const char *name, const char *in, bool required, json_t *description,
                         json_t *schema)
{
        return object_of("name", str(name), "in", str(in), "required", json_boolean(required),
                         "description", description, "schema", schema, NULL);
}

/* ------------------------------------------------------------------ resources */

/* ^(?:a|b|c)<suffix>(?:,(?:a|b|c)<suffix>)*$ over the columns (all, or the orderable ones). */
static json_t *column_list_pattern(const api_resource_t *res, bool orderable, const char *suffix)
{
        strbuf_t alt = { 0 }, b = { 0 };

        for (size_t i = 0; i < res->column_count; i++) {
                if (orderable && !res->columns[i].orderable)
                        continue;
                if (alt.len > 0)
                        strbuf_append_char(&alt, '|');
                append_regex_literal(&alt, res->columns[i].name);
        }
        strbuf_appendf(&b, "^(?:%.*s)%s(?:,(?:%.*s)%s)*$", (int)alt.len, alt.data ? alt.data : "",
                       suffix, (int)alt.len, alt.data ? alt.data : "", suffix);
        b.failed |= alt.failed;
        strbuf_done(&alt);
        return take_string(&b);
}

/* "`a`, `b`" for the columns (all, or the orderable ones; keys: the key columns). */
static json_t *column_names(const api_resource_t *res, bool orderable, bool keys,
                            const char *prefix, const char *suffix)
{
        strbuf_t b = { 0 };
        size_t count = keys ? res->key_count : res->column_count;

        strbuf_append_str(&b, prefix);
        for (size_t i = 0, n = 0; i < count; i++) {
                const api_column_t *c = &res->columns[keys ? res->key[i] : i];
                if (orderable && !c->orderable)
                        continue;
                strbuf_appendf(&b, "%s`%s`", n++ > 0 ? ", " : "", c->name);
        }
        strbuf_append_str(&b, suffix);
        return take_string(&b);
}

static bool has_orderable(const api_resource_t *res)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (res->columns[i].orderable)
                        return true;
        return false;
}

static json_t *select_parameter(const api_resource_t *res)
{
        return parameter("select", "query", false,
                         column_names(res, false, false,
                                      "Comma-separated columns to return, each at most once: "
                                      "rows then hold exactly these keys, in this order "
                                      "(default: every column). Columns: ",
                                      "."),
                         object_of("type", str("string"), "pattern",
                                   column_list_pattern(res, false, ""), NULL));
}

static json_t *after_description(const api_resource_t *res)
{
        if (res->key_count == 1)
                return strf("Cursor from the `next` link of the previous page: the rows after "
                            "that page, in the same order (it must come from the same `order`). "
                            "Opaque, except that with the default order it is the last `%s` "
                            "of the previous page. Cannot be combined with `offset`.",
                            res->columns[res->key[0]].name);
        return str("Opaque cursor from the `next` link of the previous page: the rows after that "
                   "page, in the same order (it must come from the same `order`). Cannot be "
                   "combined with `offset`.");
}

static json_t *paging_parameters(const api_resource_t *res)
{
        json_t *params = json_array();

        params = push(params,
                      parameter("limit", "query", false,
                                strf("Rows per page, at least 1 (default %u). Values above %u are "
                                     "capped to %u (and the `next` link carries the capped "
                                     "value).",
                                     res->default_limit, res->max_limit, res->max_limit),
                                object_of("type", str("integer"), "format", str("int64"),
                                          "minimum", json_integer(1), "default",
                                          json_integer(res->default_limit), NULL)));
        params = push(params, parameter("after", "query", false, after_description(res),
                                        object_of("type", str("string"), NULL)));
        params = push(params,
                      parameter("offset", "query", false,
                                str("Rows to skip. Cannot be combined with `after`. Deep offsets "
                                    "are slow because the database still reads every skipped "
                                    "row; prefer the `next` link."),
                                object_of("type", str("integer"), "format", str("int64"),
                                          "minimum", json_integer(0), NULL)));
        return params;
}

static json_t *order_parameter(const api_resource_t *res)
{
        json_t *keys = column_names(res, false, true, "", "");
        json_t *description = keys == NULL ? NULL
                : column_names(res, true, false, "", "");
        json_t *text = description == NULL ? NULL
                : strf("Sort order: comma-separated `column[.asc|.desc]` terms, each column at "
                       "most once (default: %s ascending). The key columns are appended as "
                       "tie-breakers when missing. NULL sorts first ascending, last descending. "
                       "Orderable columns: %s.",
                       json_string_value(keys), json_string_value(description));

        json_decref(keys);
        json_decref(description);
        return parameter("order", "query", false, text,
                         object_of("type", str("string"), "pattern",
                                   column_list_pattern(res, true, "(?:\\.(?:asc|desc))?"), NULL));
}

/* The operators a filter on c may use: like on text only, a JSON column only is.null. */
static const char *filter_ops(const api_column_t *c)
{
        if (c->rule.type == API_TYPE_STRING)
                return "eq, neq, gt, gte, lt, lte, like, in or is";
        return "eq, neq, gt, gte, lt, lte, in or is";
}

static json_t *filter_pattern(const api_column_t *c)
{
        if (c->rule.type == API_TYPE_JSON)
                return str("^(?:not\\.)?is\\.null$");
        if (c->rule.type == API_TYPE_STRING)
                return str("^(?:not\\.)?(?:eq|neq|gt|gte|lt|lte|like|in|is)\\.");
        return str("^(?:not\\.)?(?:eq|neq|gt|gte|lt|lte|in|is)\\.");
}

/* The grammar common to every filter is in the collection's description. */
static json_t *filter_description(const api_column_t *c)
{
        char type[64], phrase[160];
        bool truth = c->rule.type == API_TYPE_INT || c->rule.type == API_TYPE_NUMBER ||
                     c->rule.type == API_TYPE_DECIMAL || c->rule.type == API_TYPE_BOOLEAN;

        sql_type(c, type, sizeof(type));
        if (c->rule.type == API_TYPE_JSON)
                return strf("Filter on `%s` (%s): only `is.null` or `not.is.null`.", c->name, type);
        rule_phrase(&c->rule, phrase, sizeof(phrase));
        return strf("Filter on `%s` (%s): `[not.]<op>.<value>` with op %s; a value is %s%s.",
                    c->name, type, filter_ops(c), phrase,
                    truth ? "; also `is.true` and `is.false`" : "");
}

static json_t *collection_parameters(const api_resource_t *res)
{
        json_t *params = paging_parameters(res);

        if (has_orderable(res))
                params = push(params, order_parameter(res));
        params = push(params, select_parameter(res));
        params = push(params,
                      parameter("count", "query", false,
                                str("`exact` adds `count`, the number of rows matching the "
                                    "filters, to the answer."),
                                object_of("type", str("string"), "enum", strings_of("exact", NULL),
                                          NULL)));
        for (size_t i = 0; i < res->column_count; i++) {
                const api_column_t *c = &res->columns[i];
                if (is_reserved(c->name)) /* the reserved meaning wins */
                        continue;
                params = push(params,
                              parameter(c->name, "query", false, filter_description(c),
                                        object_of("type", str("string"), "pattern",
                                                  filter_pattern(c), NULL)));
        }
        return params;
}

static json_t *page_schema(const api_resource_t *res, const char *row)
{
        strbuf_t next = { 0 };

        strbuf_append_char(&next, '^');
        append_regex_literal(&next, res->path);
        strbuf_append_str(&next, "\\?");
        return object_of(
                "type", str("object"), "required", strings_of("data", "next", NULL),
                "additionalProperties", json_false(), "properties",
                object_of("data",
                          object_of("type", str("array"), "maxItems",
                                    json_integer(res->max_limit), "items", ref("schemas", row),
                                    NULL),
                          "next",
                          object_of("description",
                                    str("Path and query of the next page, or null on the last "
                                        "page."),
                                    "type", type_of("string", NULL, true), "pattern",
                                    take_string(&next), NULL),
                          "count",
                          object_of("description",
                                    str("Rows matching the filters (with `count=exact`)."), "type",
                                    str("integer"), "minimum", json_integer(0), NULL),
                          NULL),
                NULL);
}

static json_t *key_parameters(const api_resource_t *res)
{
        json_t *params = json_array();

        for (size_t i = 0; i < res->key_count; i++) {
                const api_column_t *c = &res->columns[res->key[i]];
                char type[64], phrase[160];
                sql_type(c, type, sizeof(type));
                rule_phrase(&c->rule, phrase, sizeof(phrase));
                params = push(params, parameter(c->name, "path", true,
                                                strf("Key column `%s` (%s): %s.", c->name, type,
                                                     phrase),
                                                rule_schema(&c->rule)));
        }
        return push(params, select_parameter(res));
}

static int add_resource(json_t *paths, json_t *schemas, const api_resource_t *res,
                        const char *name)
{
        char page[160], list_id[160], head_list_id[160], get_id[160], head_get_id[160];

        snprintf(page, sizeof(page), "%sPage", name);
        snprintf(list_id, sizeof(list_id), "list%s", name);
        snprintf(head_list_id, sizeof(head_list_id), "headList%s", name);
        snprintf(get_id, sizeof(get_id), "get%sItem", name);
        snprintf(head_get_id, sizeof(head_get_id), "headGet%sItem", name);
        path_spec_t collection = {
                res->path, list_id, head_list_id, "List rows, filtered, ordered and paged.",
                strf("One page of rows of table `%s`, sorted by `order`; page forward with the "
                     "`next` link (or `offset`).\n\n"
                     "**Filters** are parameters named after a column: "
                     "`<column>=[not.]<op>.<value>`. "
                     "`eq`, `neq`, `gt`, `gte`, `lt`, `lte` compare with one value typed like the "
                     "column; `like` (text columns) takes `*` for any run of characters, every "
                     "other character (`%%` and `_` too) matching itself; `in.(v1,v2,...)` takes "
                     "1 to 100 values, double-quoted when they hold a comma (with `\\\"` and "
                     "`\\\\` escapes); `is.null`, and `is.true` or `is.false` on numeric and "
                     "boolean columns. `not.` negates, so NULL never matches a negated "
                     "comparison. A column may be filtered several times: the conditions are "
                     "ANDed. Unknown parameters and repeated reserved ones are refused (400).",
                     res->table),
                collection_parameters(res),
                rows_response("A page of rows.", ref("schemas", page), name),
                COLLECTION_ERRORS,
        };
        path_spec_t item = {
                res->item_path, get_id, head_get_id, "One row by its key.",
                str("The row with this key, or 404. Only `select` may be given as a query "
                    "parameter."),
                key_parameters(res),
                rows_response("The row.", ref("schemas", name), name),
                ITEM_ERRORS,
        };
        int r = put(schemas, name,
                    row_schema(strf("A row of table `%s`, as `%s` and `%s` answer it (with "
                                    "`select`, only the selected columns).",
                                    res->table, res->path, res->item_path),
                               res->columns, res->column_count));

        r |= put(schemas, page, page_schema(res, name));
        r |= add_path(paths, &collection);
        r |= add_path(paths, &item);
        return r < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ named queries */

/* The query's output override of c: its columns carry it once the query
 * prepared, and its "types" say it by name in case they do not. */
static api_output_t query_output(const api_query_t *q, const api_column_t *c)
{
        if (c->output != API_OUTPUT_DEFAULT)
                return c->output;
        for (size_t i = 0; i < q->type_count; i++)
                if (strcmp(q->types[i].column, c->name) == 0)
                        return q->types[i].output;
        return API_OUTPUT_DEFAULT;
}

static json_t *query_parameters(const api_query_t *q)
{
        json_t *params = json_array();

        for (size_t i = 0; i < q->param_count; i++) {
                const api_param_t *p = &q->params[i];
                char phrase[160];
                bool required = p->in_path || p->default_text == NULL;
                json_t *schema = rule_schema(&p->rule);
                rule_phrase(&p->rule, phrase, sizeof(phrase));
                json_t *description =
                        p->in_path ? strf("Path segment: %s.", phrase)
                                   : strf("%c%s.", toupper((unsigned char)phrase[0]), phrase + 1);
                if (p->default_text != NULL)
                        schema = with(schema, "default", default_value(&p->rule, p->default_text));
                params = push(params, parameter(p->name, p->in_path ? "path" : "query", required,
                                                description, schema));
        }
        return params;
}

static json_t *query_row_schema(const api_query_t *q)
{
        api_column_t *columns = calloc(q->column_count ? q->column_count : 1, sizeof(*columns));
        json_t *schema;

        if (columns == NULL)
                return NULL;
        for (size_t i = 0; i < q->column_count; i++) {
                columns[i] = q->columns[i]; /* a shallow copy with the override filled in */
                columns[i].output = query_output(q, &q->columns[i]);
        }
        schema = row_schema(strf("A row of the result of `%s`.", q->path), columns,
                            q->column_count);
        free(columns);
        return schema;
}

static json_t *result_schema(const api_query_t *q, const char *row)
{
        return object_of(
                "type", str("object"), "required", strings_of("data", "next", NULL),
                "additionalProperties", json_false(), "properties",
                object_of("data",
                          object_of("type", str("array"), "maxItems", json_integer(q->max_rows),
                                    "items", ref("schemas", row), NULL),
                          "next",
                          object_of("description", str("Always null: every row comes at once."),
                                    "type", str("null"), NULL),
                          NULL),
                NULL);
}

static int add_query(json_t *paths, json_t *schemas, const api_query_t *q, const char *name)
{
        char result[160], get_id[160], head_id[160];

        snprintf(result, sizeof(result), "%sResult", name);
        snprintf(get_id, sizeof(get_id), "query%s", name);
        snprintf(head_id, sizeof(head_id), "headQuery%s", name);
        path_spec_t spec = {
                q->path, get_id, head_id, "Run a named query.",
                strf("Runs a fixed, parameterized statement with the parameters below. Every row "
                     "comes in one answer (`next` is always null); more than %u rows is an error "
                     "(500 `too-many-rows`, or a connection closed before the body ends once a "
                     "large answer has started), never a list cut silently.",
                     q->max_rows),
                query_parameters(q),
                rows_response("The rows.", ref("schemas", result), name),
                COLLECTION_ERRORS,
        };
        int r = put(schemas, name, query_row_schema(q));

        r |= put(schemas, result, result_schema(q, name));
        r |= add_path(paths, &spec);
        return r < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ component names */

typedef struct name_set {
        char **names;
        size_t count, cap;
} name_set_t;

static bool name_taken(const name_set_t *set, const char *name)
{
        for (size_t i = 0; i < set->count; i++)
                if (strcmp(set->names[i], name) == 0)
                        return true;
        return false;
}

static int name_add(name_set_t *set, const char *name)
{
        if (set->count == set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 32;
                char **names = realloc(set->names, cap * sizeof(*names));
                if (names == NULL)
                        return -ENOMEM;
                set->names = names;
                set->cap = cap;
        }
        set->names[set->count] = strdup(name);
        return set->names[set->count] ? (set->count++, 0) : -ENOMEM;
}

static void name_set_done(name_set_t *set)
{
        for (size_t i = 0; i < set->count; i++)
                free(set->names[i]);
        free(set->names);
}

/* "/v1/users/{id}/peers" -> "V1UsersIdPeers": the letters and digits, each
 * run of them capitalised (component names allow [A-Za-z0-9._-]). */
static void name_from_path(const char *path, char *out, size_t size)
{
        size_t n = 0;
        bool start = true;

        for (const char *p = path; *p != '\0' && n + 1 < size; p++) {
                char ch = *p;
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                             (ch >= '0' && ch <= '9');
                if (!alnum) {
                        start = true;
                        continue;
                }
                out[n++] = start && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
                start = false;
        }
        out[n] = '\0';
        if (n == 0)
                snprintf(out, size, "Entry");
}

/* A name for the entry's schemas: N, NPage and NResult all unused. */
static char *unique_name(name_set_t *set, const char *path)
{
        char base[96], name[128], page[136], result[136];

        name_from_path(path, base, sizeof(base));
        for (unsigned i = 1;; i++) {
                if (i == 1)
                        snprintf(name, sizeof(name), "%s", base);
                else
                        snprintf(name, sizeof(name), "%s%u", base, i);
                snprintf(page, sizeof(page), "%sPage", name);
                snprintf(result, sizeof(result), "%sResult", name);
                if (!name_taken(set, name) && !name_taken(set, page) && !name_taken(set, result))
                        break;
        }
        if (name_add(set, name) < 0 || name_add(set, page) < 0 || name_add(set, result) < 0)
                return NULL;
        return strdup(name);
}

/* ------------------------------------------------------------------ the document */

static json_t *info(void)
{
        return object_of(
                "title", str("queryd"), "version", str(DOCUMENT_VERSION), "summary",
                str("Rows of MariaDB tables and named queries served as JSON."), "description",
                str("Read-only HTTP endpoints declared in queryd's configuration file: "
                    "resources (a table as a filtered, ordered, paged collection and its rows "
                    "by key) and named queries (a parameterized statement).\n\n"
                    "**Methods.** Every path accepts `GET` and `HEAD` (the same status and "
                    "headers, no body); any other method answers 405 with `Allow: GET, HEAD` "
                    "(`x-other-methods`), an unknown path 404 (`x-unknown-paths`).\n\n"
                    "**Errors** are RFC 9457 problem documents (`application/problem+json`) "
                    "whose `type` is `urn:queryd:problem:<slug>`.\n\n"
                    "**Column types** follow one mapping, given on each row schema: integers "
                    "are numbers except `BIGINT` values beyond ±2^53, which are strings of "
                    "exact digits; `DECIMAL` is a string of exact digits; dates and times are "
                    "strings; binary columns are base64; `JSON` columns are embedded; SQL "
                    "`NULL` is `null`. The configuration's `types` turn integers into booleans "
                    "and numbers into strings or JSON numbers."),
                NULL);
}

/* Every entry's paths and schemas, in the file's order: resources, then queries. */
static int add_entries(const api_t *api, json_t *paths, json_t *schemas)
{
        name_set_t names = { 0 };
        int r = 0;

        for (size_t i = 0; r == 0 && i < sizeof(FIXED_SCHEMAS) / sizeof(FIXED_SCHEMAS[0]); i++)
                r = name_add(&names, FIXED_SCHEMAS[i]);
        for (size_t i = 0; r == 0 && i < api->resource_count; i++) {
                char *name = unique_name(&names, api->resources[i].path);
                r = name ? add_resource(paths, schemas, &api->resources[i], name) : -ENOMEM;
                free(name);
        }
        for (size_t i = 0; r == 0 && i < api->query_count; i++) {
                char *name = unique_name(&names, api->queries[i].path);
                r = name ? add_query(paths, schemas, &api->queries[i], name) : -ENOMEM;
                free(name);
        }
        name_set_done(&names);
        return r;
}

char *openapi_gen_document(const api_t *api, size_t *ret_len)
{
        json_t *paths = json_object(), *schemas = json_object();
        char *text = NULL;
        int r = paths && schemas ? add_entries(api, paths, schemas) : -ENOMEM;

        if (r == 0)
                r = add_builtin_paths(paths);
        if (r == 0)
                r = add_fixed_schemas(schemas);
        if (r < 0) {
                json_decref(paths);
                json_decref(schemas);
                return NULL;
        }
        json_t *doc = object_of(
                "openapi", str("3.1.0"), "info", info(), "servers",
                push(json_array(),
                     object_of("url", str("/"), "description",
                               str("The server that serves this document."), NULL)),
                "security", json_array(),
                "x-unknown-paths", ref("responses", "NotFound"), "paths", paths, "components",
                object_of("headers", headers_components(), "responses", responses_components(),
                          "schemas", schemas, NULL),
                NULL);
        if (doc != NULL)
                text = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        if (text != NULL && ret_len != NULL)
                *ret_len = strlen(text);
        return text;
}
