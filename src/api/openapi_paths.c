/*
 * Path items of the OpenAPI document: the operations each path has, the
 * error answers they may give (one table, oa_errors), and the header and
 * response components those answers refer to.
 */
#include "api/openapi_parts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

const oa_error_t oa_errors[OA_ERROR_COUNT] = {
        [OA_INVALID_PARAMETER] = {
                400, "InvalidParameter", "InvalidParameterProblem",
                "A query or path parameter is malformed, out of range, unknown or repeated; "
                "`parameter` names it.",
                .base = "Problem", .slugs = { "invalid-parameter" }, .fixed_status = true,
                .names_parameter = true,
        },
        [OA_NOT_FOUND] = {
                404, "NotFound", "NotFoundProblem", "No row with this key, or no such path.",
                .base = "Problem", .slugs = { "not-found" }, .fixed_status = true,
        },
        [OA_METHOD_NOT_ALLOWED] = {
                405, "MethodNotAllowed", "MethodNotAllowedProblem",
                "The path exists but does not answer this method: `Allow` names those it does.",
                .allow = true, .base = "Problem", .slugs = { "method-not-allowed" },
                .fixed_status = true,
        },
        [OA_NOT_ACCEPTABLE] = {
                406, "NotAcceptable", "NotAcceptableProblem",
                "The Accept header allows none of `application/json`, `application/x-ndjson` and "
                "`text/csv`.",
                .base = "Problem", .slugs = { "not-acceptable" }, .fixed_status = true,
        },
        [OA_INTERNAL_ERROR] = {
                500, "InternalError", "InternalProblem",
                "The database reported an error, the server failed, or a named query found more "
                "rows than it may return (`too-many-rows`).",
                .base = "Problem", .slugs = { "database-error", "internal", "too-many-rows" },
        },
        [OA_SERVICE_UNAVAILABLE] = {
                503, "ServiceUnavailable", "UnavailableProblem",
                "The database cannot be reached (`database-unavailable`), or no database "
                "connection became free in time or the wait queue is full (`overloaded`).",
                .retry_after = true, .base = "Problem",
                .slugs = { "database-unavailable", "overloaded" }, .fixed_status = true,
        },
        [OA_TIMEOUT] = {
                504, "Timeout", "TimeoutProblem",
                "The query did not finish within its timeout. When the database interrupted it, "
                "`errno` is 1969 and `sqlstate` 70100.",
                .base = "Problem", .slugs = { "timeout" }, .fixed_status = true,
        },
        [OA_NOT_READY] = {
                503, "NotReady", "NotReadyProblem", "The database did not answer in time.",
                .retry_after = true, .base = "UnavailableProblem", .carries_pool = true,
        },
        [OA_UNAUTHORIZED] = {
                401, "Unauthorized", "UnauthorizedProblem",
                "No credentials where this role needs them, or a bearer token or API key that "
                "is not valid (expired, badly signed, for another audience...). "
                "`WWW-Authenticate` says which (RFC 6750).",
                .challenge = true, .base = "Problem", .slugs = { "unauthorized" },
                .fixed_status = true,
        },
        [OA_FORBIDDEN] = {
                403, "Forbidden", "ForbiddenProblem",
                "The caller's role may not use this entry, or the database's own grants "
                "refused the statement to it.",
                .base = "Problem", .slugs = { "forbidden" }, .fixed_status = true,
        },
        [OA_TOO_MANY_REQUESTS] = {
                429, "TooManyRequests", "TooManyRequestsProblem",
                "The caller asked faster than its role's rate allows; `Retry-After` says when "
                "to ask again.",
                .retry_after = true, .rate_limit = true, .base = "Problem",
                .slugs = { "too-many-requests" }, .fixed_status = true,
        },
};

unsigned oa_document_errors(const api_t *api)
{
        unsigned all = (1u << OA_ERROR_COUNT) - 1;

        return api->auth != NULL ? all : all & ~(unsigned)OA_AUTH_ERRORS;
}

/* The operations a path item may have. */
enum { METHOD_GET = 1 << 0, METHOD_HEAD = 1 << 1 };

/* The operations of spec's path: those of its route, which HEAD follows GET in. */
static unsigned path_methods(const api_t *api, const oa_path_spec_t *spec)
{
        const route_t *route = api_route(api, spec->path);

        if (route == NULL || router_method(route, "GET") == NULL)
                return 0;
        return METHOD_GET | METHOD_HEAD;
}

/*
 * "GET, HEAD" as the 405 answer's description says it: "`GET` and `HEAD`".
 * Without one Allow for every path, the description stays general.
 */
static json_t *method_not_allowed_description(const char *allow)
{
        char phrase[160];
        size_t n = 0;

        if (allow == NULL)
                return oa_str(oa_errors[OA_METHOD_NOT_ALLOWED].description);
        for (const char *p = allow; *p != '\0' && n < sizeof(phrase) - 16;) {
                size_t len = strcspn(p, ",");
                const char *rest = p + len + (p[len] == ',' ? 2 : 0);
                const char *sep = n == 0 ? "" : *rest == '\0' ? " and " : ", ";
                n += (size_t)snprintf(phrase + n, sizeof(phrase) - n, "%s`%.*s`", sep, (int)len,
                                      p);
                p = rest;
        }
        return oa_strf("The path exists but supports only %s.", phrase);
}

static const char POSITION_PATTERN[] = "^[0-9]+-[0-9]+-[0-9]+(,[0-9]+-[0-9]+-[0-9]+)*$";

json_t *oa_x_request_id(void)
{
        return oa_object_of("X-Request-Id", oa_ref("headers", "X-Request-Id"), NULL);
}

json_t *oa_push_read_headers(json_t *params)
{
        params = oa_push(
                params,
                oa_parameter("Queryd-Position", "header", false,
                             oa_str("Read your writes: the `Queryd-Position` a write answered "
                                    "(GTIDs `domain-server-sequence`, comma-separated; several "
                                    "writes' positions may be joined). The read is served by a "
                                    "server that has applied it: a replica known to, one that "
                                    "gets there within half the acquire deadline, or the "
                                    "primary. Malformed: 400."),
                             oa_object_of("type", oa_str("string"), "pattern",
                                          oa_str(POSITION_PATTERN), NULL)));
        return oa_push(params,
                       oa_parameter("Prefer", "header", false,
                                    oa_str("Comma-separated preferences (RFC 7240): "
                                           "`consistency=strong` reads from the primary (answered "
                                           "with `Preference-Applied: consistency=strong`); "
                                           "`timeout=<seconds>` lowers the statement's "
                                           "deadline."),
                                    oa_object_of("type", oa_str("string"), NULL)));
}

json_t *oa_with_position(json_t *response)
{
        json_t *headers = json_object_get(response, "headers");

        if (headers != NULL) {
                json_object_set_new(headers, "Queryd-Position",
                                    oa_ref("headers", "Queryd-Position"));
                json_object_set_new(headers, "Preference-Applied",
                                    oa_ref("headers", "Preference-Applied"));
        }
        return response;
}

/* The Allow header: the one value every path sends, when there is one. */
static json_t *allow_schema(const char *allow)
{
        json_t *schema = oa_object_of("type", oa_str("string"), NULL);

        return allow ? oa_with(schema, "const", oa_str(allow)) : schema;
}

/* The headers of answers to identities: challenges and rates. */
static json_t *auth_headers(json_t *headers)
{
        static const char *const string[] = { "type", "string", NULL };
        json_t *schema = oa_object_of(string[0], oa_str(string[1]), NULL);

        headers = oa_with(
                headers, "WWW-Authenticate",
                oa_object_of("description",
                             oa_str("An RFC 6750 challenge: `Bearer realm=\"queryd\"`, with "
                                    "`error=\"invalid_token\"` and a description when the "
                                    "credentials sent are not valid."),
                             "required", json_true(), "schema", schema, NULL));
        headers = oa_with(
                headers, "RateLimit",
                oa_object_of("description",
                             oa_str("What is left of the caller's budget "
                                    "(draft-ietf-httpapi-ratelimit-headers)."),
                             "schema", oa_object_of("type", oa_str("string"), NULL), NULL));
        return oa_with(headers, "RateLimit-Policy",
                       oa_object_of("description",
                                    oa_str("The caller's role's rate: its burst and the "
                                           "window in which it refills."),
                                    "schema", oa_object_of("type", oa_str("string"), NULL), NULL));
}

static json_t *string_header(const char *description)
{
        return oa_object_of("description", oa_str(description), "schema",
                            oa_object_of("type", oa_str("string"), NULL), NULL);
}

/* Compression and validators (README: Compression, ETags). */
static json_t *encoding_headers(json_t *headers)
{
        headers = oa_with(headers, "ETag",
                          string_header("Strong validator of a whole (not streamed) 200 answer "
                                        "to GET or HEAD: a hash of the bytes sent, with "
                                        "-zstd or -gzip when compressed."));
        headers = oa_with(headers, "Content-Encoding",
                          string_header("zstd or gzip when the body is compressed "
                                        "(Accept-Encoding, QUERYD_COMPRESSION)."));
        return oa_with(headers, "Vary",
                       string_header("The request headers the answer depends on, "
                                     "Accept-Encoding among them when it could be compressed."));
}

/* The headers of a representation: the request id, its coding and validator. */
static json_t *representation_headers(json_t *headers)
{
        headers = oa_with(headers, "ETag", oa_ref("headers", "ETag"));
        headers = oa_with(headers, "Content-Encoding", oa_ref("headers", "Content-Encoding"));
        headers = oa_with(headers, "Preference-Applied", oa_ref("headers", "Preference-Applied"));
        return oa_with(headers, "Vary", oa_ref("headers", "Vary"));
}

json_t *oa_headers_components(const char *allow, bool auth)
{
        json_t *headers = oa_object_of(
                "X-Request-Id",
                oa_object_of(
                        "description",
                        oa_str("Identifies the request in the access log; also `request_id` "
                               "in problem bodies. An incoming `X-Request-Id` of 1 to 64 "
                               "characters from `A-Z a-z 0-9 . _ -` is kept; otherwise "
                               "queryd makes one."),
                        "required", json_true(), "schema",
                        oa_object_of("type", oa_str("string"), "minLength", json_integer(1), NULL),
                        NULL),
                "Retry-After",
                oa_object_of(
                        "description", oa_str("Seconds after which a retry may succeed."),
                        "required", json_true(), "schema",
                        oa_object_of("type", oa_str("integer"), "minimum", json_integer(0), NULL),
                        NULL),
                "Allow",
                oa_object_of("description", oa_str("The methods the path supports."), "required",
                             json_true(), "schema",
                             allow_schema(allow),
                             NULL),
                "Queryd-Position",
                oa_object_of("description",
                             oa_str("Where the write committed (MariaDB GTID "
                                    "`domain-server-sequence`), with replicas configured: send "
                                    "it back as the `Queryd-Position` request header to read "
                                    "the write from any server."),
                             "schema",
                             oa_object_of("type", oa_str("string"), "pattern",
                                          oa_str(POSITION_PATTERN), NULL),
                             NULL),
                "Preference-Applied",
                oa_object_of("description",
                             oa_str("The `Prefer` preferences honoured (RFC 7240): "
                                    "`consistency=strong`, `timeout=<seconds>` on reads; "
                                    "`return=`, `max-affected=`, `timeout=` on writes."),
                             "schema", oa_object_of("type", oa_str("string"), NULL), NULL),
                NULL);
        headers = encoding_headers(headers);
        return auth ? auth_headers(headers) : headers;
}

/* X-Request-Id, and the headers e's answers carry besides (none for NULL). */
static json_t *headers_of(bool retry_after, const oa_error_t *e)
{
        json_t *headers = oa_x_request_id();

        if (retry_after)
                headers = oa_with(headers, "Retry-After", oa_ref("headers", "Retry-After"));
        if (e != NULL && e->allow)
                headers = oa_with(headers, "Allow", oa_ref("headers", "Allow"));
        if (e != NULL && e->challenge)
                headers = oa_with(headers, "WWW-Authenticate",
                                  oa_ref("headers", "WWW-Authenticate"));
        if (e != NULL && e->rate_limit) {
                headers = oa_with(headers, "RateLimit", oa_ref("headers", "RateLimit"));
                headers = oa_with(headers, "RateLimit-Policy",
                                  oa_ref("headers", "RateLimit-Policy"));
        }
        return headers;
}

static json_t *problem_response(const oa_error_t *e, const char *allow)
{
        json_t *description = e == &oa_errors[OA_METHOD_NOT_ALLOWED]
                                      ? method_not_allowed_description(allow)
                                      : oa_str(e->description);

        return oa_object_of("description", description, "headers",
                            headers_of(e->retry_after, e), "content",
                            oa_object_of("application/problem+json",
                                         oa_object_of("schema", oa_ref("schemas", e->schema), NULL),
                                         NULL),
                            NULL);
}

static json_t *head_only_response(bool retry_after)
{
        return oa_object_of("description",
                            oa_str("The status and headers `GET` would give, without a body."),
                            "headers", representation_headers(headers_of(retry_after, NULL)),
                            NULL);
}

/* 304: If-None-Match matched the ETag the 200 would carry. */
static json_t *not_modified_response(void)
{
        json_t *headers = oa_with(oa_x_request_id(), "ETag", oa_ref("headers", "ETag"));

        return oa_object_of("description",
                            oa_str("Not modified: If-None-Match matched the answer's ETag. "
                                   "No body."),
                            "headers", oa_with(headers, "Vary", oa_ref("headers", "Vary")),
                            NULL);
}

json_t *oa_responses_components(const char *allow, unsigned errors)
{
        json_t *responses = oa_object_of("HeadOnly", head_only_response(false),
                                         "HeadOnlyUnavailable", head_only_response(true),
                                         "NotModified", not_modified_response(), NULL);

        for (size_t i = 0; i < OA_ERROR_COUNT; i++)
                if (errors & 1u << i)
                        responses = oa_with(responses, oa_errors[i].component,
                                            problem_response(&oa_errors[i], allow));
        return responses;
}

json_t *oa_ok_response(json_t *description, const char *media_type, json_t *schema)
{
        return oa_object_of("description", description, "headers", oa_x_request_id(), "content",
                            oa_object_of(media_type, oa_object_of("schema", schema, NULL), NULL),
                            NULL);
}

/*
 * Rows come in the format Accept asks for: JSON (schema), NDJSON (one
 * object of the row schema per line) or CSV (text with a header row).
 */
json_t *oa_ndjson_media(json_t *line)
{
        return oa_object_of("schema",
                            oa_object_of("description",
                                         oa_str("Newline-delimited JSON: one JSON object per "
                                                "line, each line ended by a newline; "
                                                "`x-item-schema` is the schema of a line."),
                                         "type", oa_str("string"), NULL),
                            "x-item-schema", line, NULL);
}

json_t *oa_rows_response(const char *description, json_t *schema, json_t *line)
{
        return oa_object_of(
                "description",
                oa_strf("%s As `application/json` by default; `Accept: application/x-ndjson` "
                        "gives one row object per line, `Accept: text/csv` RFC 4180 CSV with a "
                        "header row. Large results are streamed (chunked); an error after the "
                        "answer started closes the connection before the body ends.",
                        description),
                "headers", oa_x_request_id(), "content",
                oa_object_of(
                        "application/json", oa_object_of("schema", schema, NULL),
                        "application/x-ndjson", oa_ndjson_media(line), "text/csv",
                        oa_object_of("schema", oa_object_of("type", oa_str("string"), NULL), NULL),
                        NULL),
                NULL);
}

json_t *oa_with_cache_headers(json_t *response, unsigned cache_ms, const char *cache_control)
{
        json_t *headers = json_object_get(response, "headers");

        if (headers == NULL)
                return response;
        if (cache_ms != 0)
                json_object_set_new(
                        headers, "Age",
                        oa_object_of("description",
                                     oa_strf("Seconds since the answer was read from the "
                                             "database, when it is one kept for identical reads "
                                             "(for up to %u ms).",
                                             cache_ms),
                                     "schema",
                                     oa_object_of("type", oa_str("integer"), "minimum",
                                                  json_integer(0), NULL),
                                     NULL));
        if (cache_control != NULL)
                json_object_set_new(
                        headers, "Cache-Control",
                        oa_object_of("description",
                                     oa_strf("`%s`; with credentials, `private` and the "
                                             "directives that allow no shared cache.",
                                             cache_control),
                                     "schema", oa_object_of("type", oa_str("string"), NULL),
                                     NULL));
        return response;
}

/* responses with the error answers in errors added, each from component(e). */
static json_t *with_errors(json_t *responses, unsigned errors,
                           const char *(*component)(const oa_error_t *e))
{
        for (size_t i = 0; i < OA_ERROR_COUNT; i++) {
                char status[16];
                if (!(errors & 1u << i))
                        continue;
                snprintf(status, sizeof(status), "%u", oa_errors[i].status);
                responses =
                        oa_with(responses, status, oa_ref("responses", component(&oa_errors[i])));
        }
        return responses;
}

static const char *error_component(const oa_error_t *e)
{
        return e->component;
}

/* HEAD answers an error with its status and headers only. */
static const char *head_error_component(const oa_error_t *e)
{
        return e->retry_after ? "HeadOnlyUnavailable" : "HeadOnly";
}

static json_t *header_parameter(const char *name, const char *description)
{
        return oa_object_of("name", oa_str(name), "in", oa_str("header"), "description",
                            oa_str(description), "schema",
                            oa_object_of("type", oa_str("string"), NULL), NULL);
}

/* The request headers every GET and HEAD takes: compression and revalidation. */
static json_t *read_parameters(void)
{
        return oa_push(oa_push(json_array(),
                               header_parameter("If-None-Match",
                                                "ETags (or *) the client holds: a match "
                                                "answers 304 without a body.")),
                       header_parameter("Accept-Encoding",
                                        "Content codings the client takes, with q-values: "
                                        "zstd, gzip, identity."));
}

static json_t *get_operation(oa_path_spec_t *spec)
{
        json_t *headers = json_object_get(spec->ok, "headers");

        if (headers != NULL) /* added in place: the reference taken here is dropped again */
                json_decref(representation_headers(json_incref(headers)));
        json_t *responses = oa_object_of("200", spec->ok, "304",
                                         oa_ref("responses", "NotModified"), NULL);

        spec->ok = NULL;
        responses = with_errors(responses, spec->errors, error_component);
        json_t *op = oa_object_of("operationId", oa_str(spec->get_id), "summary",
                                  oa_str(spec->summary), "parameters", read_parameters(), NULL);
        op = oa_with(op, "description", spec->description);
        spec->description = NULL;
        return oa_with(op, "responses", responses);
}

static json_t *head_operation(const oa_path_spec_t *spec)
{
        json_t *responses = oa_object_of("200", oa_ref("responses", "HeadOnly"), "304",
                                         oa_ref("responses", "NotModified"), NULL);

        responses = with_errors(responses, spec->errors, head_error_component);
        return oa_object_of(
                "operationId", oa_str(spec->head_id), "summary", oa_str("The same without a body."),
                "parameters", read_parameters(),
                "description",
                oa_strf("Same status and headers as `GET %s`, without a body.", spec->path),
                "responses", responses, NULL);
}

int oa_add_path(json_t *paths, const api_t *api, oa_path_spec_t *spec)
{
        if (spec->path == NULL || api_route(api, spec->path) == NULL) {
                json_decref(spec->parameters);
                json_decref(spec->ok);
                json_decref(spec->description);
                spec->parameters = NULL;
                return 0;
        }
        json_t *item = json_object();
        unsigned methods = path_methods(api, spec);

        if (spec->parameters != NULL && json_array_size(spec->parameters) == 0)
                json_decref(spec->parameters);
        else
                item = oa_with(item, "parameters", spec->parameters);
        spec->parameters = NULL;
        if (methods & METHOD_GET)
                item = oa_with(item, "get", get_operation(spec));
        if (methods & METHOD_HEAD)
                item = oa_with(item, "head", head_operation(spec));
        json_decref(spec->ok);
        json_decref(spec->description);
        return oa_put(paths, spec->path, item);
}

/* The methods documented as refused where the router does not serve them: HEAD follows GET,
 * OPTIONS is the CORS preflight, and other methods are nobody's API. */
static const char *const REFUSABLE[] = { "get", "put", "post", "delete", "patch" };

/* The operationId a path's first real operation has, or NULL. */
static const char *base_id(json_t *item)
{
        static const char *const real[] = { "get", "post", "put", "patch", "delete" };

        for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
                json_t *id = json_object_get(json_object_get(item, real[i]), "operationId");

                if (json_is_string(id))
                        return json_string_value(id);
        }
        return NULL;
}

/*
 * "refusePut_listUsers": made of an operationId of the same path, so as unique as those;
 * a path with none of its own is spelled out ("refusePut_users_id_").
 */
static json_t *refusal_id(const char *method, const char *base, const char *path)
{
        char id[256];
        size_t n = (size_t)snprintf(id, sizeof(id), "refuse%c%s_", method[0] - 'a' + 'A',
                                    method + 1);

        if (base != NULL)
                return oa_strf("%s%s", id, base);
        for (const char *p = path + (*path == '/'); *p != '\0' && n + 1 < sizeof(id); p++) {
                bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9');

                id[n++] = alnum ? *p : '_';
        }
        id[n] = '\0';
        return oa_str(id);
}

/*
 * A method the path does not serve, as an operation of its own: a validating proxy and a
 * generated client then know the 405 (and its Allow) rather than call the request unknown.
 * The router refuses it before any credential is looked at, hence no security.
 */
static json_t *refusal_operation(json_t *id, json_t *path_parameters)
{
        json_t *op = oa_object_of(
                "operationId", id, "tags", oa_strings_of(OA_REFUSED_TAG, NULL), "summary",
                oa_str("Not served here: 405."), "description",
                oa_str("This path does not answer this method; `Allow` lists those it does."),
                "security", json_array(), "responses",
                oa_object_of("405", oa_ref("responses", "MethodNotAllowed"), NULL), NULL);

        return json_array_size(path_parameters) > 0 ? oa_with(op, "parameters", path_parameters)
                                                    : (json_decref(path_parameters), op);
}

static bool has_path_parameter(json_t *parameters)
{
        size_t i;
        json_t *p;

        json_array_foreach (parameters, i, p) {
                if (json_is_string(json_object_get(p, "in")) &&
                    strcmp(json_string_value(json_object_get(p, "in")), "path") == 0)
                        return true;
        }
        return false;
}

/*
 * The path parameters a refusal must declare itself: none when the path item does, else
 * those of the path's first real operation that has them (writes keep theirs per operation).
 */
static json_t *refusal_path_parameters(json_t *item)
{
        static const char *const real[] = { "get", "post", "put", "patch", "delete" };
        json_t *copy = json_array();

        if (has_path_parameter(json_object_get(item, "parameters")))
                return copy;
        for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
                json_t *params = json_object_get(json_object_get(item, real[i]), "parameters");
                size_t k;
                json_t *p;

                if (!has_path_parameter(params))
                        continue;
                json_array_foreach (params, k, p) {
                        json_t *in = json_object_get(p, "in");

                        if (json_is_string(in) && strcmp(json_string_value(in), "path") == 0)
                                json_array_append(copy, p);
                }
                break;
        }
        return copy;
}

int oa_add_refusals(json_t *paths, const api_t *api)
{
        static const char *const upper[] = { "GET", "PUT", "POST", "DELETE", "PATCH" };
        const char *path;
        json_t *item;

        json_object_foreach (paths, path, item) {
                const route_t *route = api_route(api, path);
                const char *base = base_id(item);
                char *copy = base != NULL ? strdup(base) : NULL; /* item changes below */

                for (size_t i = 0; route != NULL && i < sizeof(REFUSABLE) / sizeof(REFUSABLE[0]);
                     i++) {
                        if (json_object_get(item, REFUSABLE[i]) != NULL ||
                            router_method(route, upper[i]) != NULL)
                                continue;
                        if (oa_put(item, REFUSABLE[i],
                                   refusal_operation(refusal_id(REFUSABLE[i], copy, path),
                                                     refusal_path_parameters(item))) < 0) {
                                free(copy);
                                return -ENOMEM;
                        }
                }
                free(copy);
                if (base != NULL && copy == NULL)
                        return -ENOMEM;
        }
        return 0;
}
