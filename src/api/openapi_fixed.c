/*
 * The parts every OpenAPI document has: the probes', metrics', the
 * document's own and the explorer page's paths, and the schemas of their answers and of problems
 * (a variant per error answer of oa_errors).
 */
#include "api/openapi_parts.h"

#include <errno.h>

/* The fixed schemas other than the problem variants, in the document's order. */
static const char *const BASE_SCHEMAS[] = { "Health", "Ready", "PoolStats", "Problem" };
enum { BASE_SCHEMA_COUNT = sizeof(BASE_SCHEMAS) / sizeof(BASE_SCHEMAS[0]) };

size_t oa_fixed_schema_count(void)
{
        return BASE_SCHEMA_COUNT + OA_ERROR_COUNT;
}

const char *oa_fixed_schema_name(size_t i)
{
        return i < BASE_SCHEMA_COUNT ? BASE_SCHEMAS[i] : oa_errors[i - BASE_SCHEMA_COUNT].schema;
}

static json_t *counter(const char *description)
{
        return oa_object_of("description", oa_str(description), "type", oa_str("integer"),
                            "minimum", json_integer(0), NULL);
}

static json_t *health_schema(void)
{
        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("status", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of("status",
                             oa_object_of("type", oa_str("string"), "const", oa_str("ok"), NULL),
                             NULL),
                NULL);
}

static json_t *ready_schema(void)
{
        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("status", "pool", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of("status",
                             oa_object_of("type", oa_str("string"), "const", oa_str("ready"), NULL),
                             "pool", oa_ref("schemas", "PoolStats"), NULL),
                NULL);
}

static json_t *pool_stats_schema(void)
{
        return oa_object_of("type", oa_str("object"), "description",
                            oa_str("Database connection counts, totals over all workers."),
                            "required", oa_strings_of("size", "idle", "busy", "waiting", NULL),
                            "additionalProperties", json_false(), "properties",
                            oa_object_of("size", counter("Connections configured."), "idle",
                                         counter("Connections open and free."), "busy",
                                         counter("Connections lent to a request."), "waiting",
                                         counter("Requests waiting for a connection."), NULL),
                            NULL);
}

static json_t *problem_schema(void)
{
        json_t *properties = oa_object_of(
                "type",
                oa_object_of("type", oa_str("string"), "pattern",
                             oa_str("^urn:queryd:problem:[a-z-]+$"), NULL),
                "title", oa_object_of("type", oa_str("string"), "minLength", json_integer(1), NULL),
                "status",
                oa_object_of("type", oa_str("integer"), "minimum", json_integer(400), "maximum",
                             json_integer(599), NULL),
                "detail",
                oa_object_of("description",
                             oa_str("Human text naming the parameter or resource and the reason."),
                             "type", oa_str("string"), "minLength", json_integer(1), NULL),
                "request_id",
                oa_object_of("description",
                             oa_str("The value of the `X-Request-Id` response header."), "type",
                             oa_str("string"), "minLength", json_integer(1), NULL),
                "errno",
                oa_object_of("description", oa_str("MariaDB error number (database errors only)."),
                             "type", oa_str("integer"), NULL),
                "sqlstate",
                oa_object_of("description", oa_str("SQLSTATE (database errors only)."), "type",
                             oa_str("string"), "pattern", oa_str("^[0-9A-Z]{5}$"), NULL),
                NULL);

        return oa_object_of("type", oa_str("object"), "description",
                            oa_str("An RFC 9457 problem document."), "required",
                            oa_strings_of("type", "title", "status", "detail", "request_id", NULL),
                            "properties", properties, NULL);
}

static json_t *slug(const char *name)
{
        return oa_strf("urn:queryd:problem:%s", name);
}

/* The problem types of e: a const, or an enum of several. */
static json_t *slugs_of(const oa_error_t *e)
{
        size_t count = 0;

        while (count < sizeof(e->slugs) / sizeof(e->slugs[0]) && e->slugs[count] != NULL)
                count++;
        if (count == 1)
                return oa_const_of(slug(e->slugs[0]));
        json_t *values = json_array();
        for (size_t i = 0; i < count; i++)
                values = oa_push(values, slug(e->slugs[i]));
        return oa_object_of("enum", values, NULL);
}

/* allOf: [base, {properties}], the narrower problem an error answer carries. */
static json_t *problem_variant(const oa_error_t *e)
{
        json_t *properties = json_object();
        json_t *narrower = json_object();

        if (e->slugs[0] != NULL)
                properties = oa_with(properties, "type", slugs_of(e));
        if (e->fixed_status)
                properties = oa_with(properties, "status", oa_const_of(json_integer(e->status)));
        if (e->names_parameter)
                properties = oa_with(properties, "parameter",
                                     oa_object_of("description", oa_str("The parameter at fault."),
                                                  "type", oa_str("string"), NULL));
        if (e->carries_pool) {
                properties = oa_with(properties, "pool", oa_ref("schemas", "PoolStats"));
                properties = oa_with(
                        properties, "down",
                        oa_object_of("description",
                                     oa_str("The servers that cannot serve reads: `primary`, "
                                            "`replica1`, ..."),
                                     "type", oa_str("array"), "items",
                                     oa_object_of("type", oa_str("string"), NULL), NULL));
                narrower = oa_with(narrower, "required", oa_strings_of("pool", NULL));
        }
        narrower = oa_with(narrower, "properties", properties);
        return oa_object_of("allOf",
                            oa_push(oa_push(json_array(), oa_ref("schemas", e->base)), narrower),
                            NULL);
}

int oa_add_fixed_schemas(json_t *schemas, unsigned errors)
{
        json_t *fixed =
                oa_object_of("Health", health_schema(), "Ready", ready_schema(), "PoolStats",
                             pool_stats_schema(), "Problem", problem_schema(), NULL);

        for (size_t i = 0; i < OA_ERROR_COUNT; i++)
                if (errors & 1u << i)
                        fixed = oa_with(fixed, oa_errors[i].schema, problem_variant(&oa_errors[i]));
        int r = fixed != NULL && json_object_update(schemas, fixed) == 0 ? 0 : -ENOMEM;

        json_decref(fixed);
        return r;
}

/* The members of an OpenAPI document the /openapi.json schema insists on. */
static json_t *document_properties(void)
{
        return oa_object_of(
                "openapi",
                oa_object_of("type", oa_str("string"), "pattern", oa_str("^3\\.1\\."), NULL),
                "info", oa_object_of("type", oa_str("object"), NULL), "paths",
                oa_object_of("type", oa_str("object"), NULL), NULL);
}

static json_t *text_schema(void)
{
        return oa_object_of("type", oa_str("string"), NULL);
}

/* GET /'s JSON: the entries the caller may use and where the document is. */
static json_t *index_schema(void)
{
        json_t *entry = oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("path", "kind", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of("path", text_schema(), "kind",
                             oa_object_of("enum", oa_strings_of("resource", "query", NULL), NULL),
                             "item",
                             oa_object_of("description",
                                          oa_str("A resource's item path (resources only)."),
                                          "type", oa_str("string"), NULL),
                             NULL),
                NULL);

        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("entries", "openapi", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of("entries",
                             oa_object_of("type", oa_str("array"), "items", entry, NULL),
                             "openapi", oa_object_of("const", oa_str("/openapi.json"), NULL),
                             NULL),
                NULL);
}

/* The page for a browser (Accept prefers text/html), the index otherwise. */
static json_t *explorer_response(void)
{
        return oa_object_of(
                "description",
                oa_str("`text/html` when the Accept header prefers it (browsers), otherwise "
                       "the JSON index."),
                "headers", oa_x_request_id(), "content",
                oa_object_of("text/html", oa_object_of("schema", text_schema(), NULL),
                             "application/json", oa_object_of("schema", index_schema(), NULL),
                             NULL),
                NULL);
}

/* The page's own files, compiled into the binary. */
static oa_path_spec_t page_file(const char *path, const char *get_id, const char *head_id,
                                const char *summary, const char *media_type)
{
        return (oa_path_spec_t){ path,
                                 get_id,
                                 head_id,
                                 summary,
                                 oa_str("A file of the explorer page served at `/`, compiled "
                                        "into the binary. Query parameters are ignored."),
                                 json_array(),
                                 oa_ok_response(oa_str("The file."), media_type, text_schema()),
                                 0 };
}

int oa_add_builtin_paths(json_t *paths, const api_t *api)
{
        oa_path_spec_t specs[] = {
                { "/healthz", "getHealth", "headHealth", "Liveness probe.",
                  oa_str("Answers as long as the process serves HTTP; does not touch the "
                         "database."),
                  json_array(),
                  oa_ok_response(oa_str("The process is alive."), "application/json",
                                 oa_ref("schemas", "Health")),
                  0 },
                { "/readyz", "getReadiness", "headReadiness",
                  "Readiness probe with connection pool counts.",
                  oa_str("Ready when a database round trip succeeded within 2 seconds on a "
                         "server that serves reads: the primary, or with replicas any replica "
                         "(reads go on while the primary is down). `pool` holds the primary's "
                         "totals over all workers; a 503's `down` lists the servers that cannot "
                         "serve reads (`primary`, `replica1`, ...)."),
                  json_array(),
                  oa_ok_response(oa_str("The database answers."), "application/json",
                                 oa_ref("schemas", "Ready")),
                  OA_READY_ERRORS },
                { "/metrics", "getMetrics", "headMetrics",
                  "Counters and gauges in Prometheus text format.",
                  oa_str("Request counts and durations by route template, response bytes, the "
                         "connection pool gauges and database error and reconnect counters. Query "
                         "parameters are ignored."),
                  json_array(),
                  oa_ok_response(oa_str("Prometheus text exposition format 0.0.4."), "text/plain",
                                 oa_object_of("type", oa_str("string"), NULL)),
                  0 },
                { "/openapi.json", "getOpenAPI", "headOpenAPI", "This document.",
                  oa_str("The OpenAPI 3.1 description of this service, generated from its "
                         "configuration: its file, the database's own tables, or both. Query "
                         "parameters are ignored."),
                  json_array(),
                  oa_ok_response(oa_str("An OpenAPI 3.1 document."), "application/json",
                                 oa_object_of("type", oa_str("object"), "required",
                                              oa_strings_of("openapi", "info", "paths", NULL),
                                              "properties", document_properties(), NULL)),
                  0 },
                { "/", "getExplorer", "headExplorer", "The explorer page, or an index of the entries.",
                  oa_str("For a browser, a page that reads this service's OpenAPI document and "
                         "browses its resources and named queries; for any other client, the "
                         "entries the caller may use. Query parameters are ignored."),
                  json_array(), explorer_response(), 0 },
                page_file("/explorer.js", "getExplorerScript", "headExplorerScript",
                          "The explorer page's script.", "text/javascript"),
                page_file("/explorer.css", "getExplorerStyle", "headExplorerStyle",
                          "The explorer page's style sheet.", "text/css"),
                page_file("/favicon.ico", "getFavicon", "headFavicon", "The icon of the page.",
                          "image/svg+xml"),
        };
        int r = 0;

        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
                if (oa_add_path(paths, api, &specs[i]) < 0) /* keeps going: each takes its spec */
                        r = -ENOMEM;
        return r;
}
