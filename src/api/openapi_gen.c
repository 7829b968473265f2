/*
 * The OpenAPI 3.1 document of a loaded api, built as a jansson tree and
 * dumped once per configuration: here its info, the names of its component
 * schemas and the document itself; its parts come from openapi_parts.h. The
 * row schemas read the type table the row writer reads (json_types.h), so a
 * client generated from the document reads every answer. openapi.yaml holds
 * the document the demo configuration gives, with more prose;
 * tests/integration/test_openapi.py checks that the two agree.
 */
#include "api/openapi_gen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi_parts.h"

#define DOCUMENT_VERSION "0.2.0"

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

static json_t *tags(void)
{
        return oa_push(json_array(),
                       oa_object_of("name", oa_str(OA_REFUSED_TAG), "description",
                                    oa_str("Methods a path does not answer: 405 with `Allow`."),
                                    NULL));
}

static json_t *info(void)
{
        return oa_object_of(
                "title", oa_str("queryd"), "version", oa_str(DOCUMENT_VERSION), "summary",
                oa_str("Rows of MariaDB tables and named queries served as JSON."), "description",
                oa_str("HTTP endpoints declared in queryd's configuration file, or read from the "
                       "database's own tables when it has none: resources (a "
                       "table as a filtered, ordered, paged collection and its rows by key) and "
                       "named queries (a parameterized statement). They read, and write where "
                       "an entry's `methods` say so, each write in one transaction.\n\n"
                       "**Methods.** A path answers the operations listed for it (`GET` comes "
                       "with `HEAD`: the same status and headers, no body); any other method "
                       "answers 405 with `Allow` (listed as operations tagged `" OA_REFUSED_TAG "`), "
                       "`OPTIONS` is the CORS preflight, an unknown path 404 "
                       "(`x-unknown-paths`).\n\n"
                       "**Errors** are RFC 9457 problem documents (`application/problem+json`) "
                       "whose `type` is `urn:queryd:problem:<slug>`. Slugs: `invalid-parameter`, "
                       "`not-found`, `method-not-allowed`, `not-acceptable`, `unauthorized`, "
                       "`forbidden`, `too-many-requests`, `conflict`, `constraint-violation`, "
                       "`invalid-body`, `body-too-large`, `unsupported-media-type`, "
                       "`max-affected`, `busy`, `cors-rejected`, `client-closed`, "
                       "`database-error`, `internal`, `too-many-rows`, `database-unavailable`, "
                       "`overloaded`, `timeout`, and those any request can get before it is "
                       "routed: 400 `bad-request` (a malformed request line, header, target or "
                       "percent-escape, a control byte, a missing or repeated `Host`, "
                       "`Content-Length` with `Transfer-Encoding`), 414 `uri-too-long`, 431 "
                       "`headers-too-large`, 501 `not-implemented` (a transfer coding other than "
                       "chunked) and 505 `http-version`.\n\n"
                       "**Column types** follow one mapping, given on each row schema: integers "
                       "are numbers except `BIGINT` values beyond ±2^53, which are strings of "
                       "exact digits; `DECIMAL` is a string of exact digits; dates and times are "
                       "strings; binary columns are base64; `JSON` columns are embedded; SQL "
                       "`NULL` is `null`. The configuration's `types` turn integers into booleans "
                       "and numbers into strings or JSON numbers."),
                NULL);
}

/* Whether audience may use an entry with these rules; its rule in *ret_rule. */
static bool admits(const api_t *api, const openapi_audience_t *audience,
                   const api_access_t *access, size_t count, const api_access_t **ret_rule)
{
        *ret_rule = NULL;
        if (audience == NULL)
                return true;
        if (!api_role_may_use(api, access, count, audience->role))
                return false;
        if (access != NULL)
                *ret_rule = api_access_for(access, count, audience->role);
        return true;
}

/* Every entry's paths and schemas, in the file's order: resources, then
 * queries; for an audience, those it may use as it sees them. */
static int add_entries(const api_t *api, const openapi_audience_t *audience, json_t *paths,
                       json_t *schemas)
{
        name_set_t names = { 0 };
        const api_access_t *rule;
        int r = 0;

        for (size_t i = 0; r == 0 && i < oa_fixed_schema_count(); i++)
                r = name_add(&names, oa_fixed_schema_name(i));
        for (size_t i = 0; r == 0 && i < api->resource_count; i++) {
                const api_resource_t *res = &api->resources[i];
                if (!admits(api, audience, res->access, res->access_count, &rule))
                        continue;
                char *name = unique_name(&names, res->path);
                unsigned methods = rule != NULL ? rule->methods : res->methods;
                if (rule != NULL && rule->view != NULL)
                        res = rule->view;
                r = name ? oa_add_resource(paths, schemas, api, res, name) : -ENOMEM;
                if (r == 0 && methods != 0) /* 0: an entry built by hand, as it reads */
                        r = oa_add_resource_writes(paths, api, res, name, methods);
                free(name);
        }
        for (size_t i = 0; r == 0 && i < api->query_count; i++) {
                const api_query_t *q = &api->queries[i];
                if (!admits(api, audience, q->access, q->access_count, &rule))
                        continue;
                char *name = unique_name(&names, q->path);
                r = name ? oa_add_query(paths, schemas, api, q, name) : -ENOMEM;
                free(name);
        }
        name_set_done(&names);
        return r;
}

/* The Allow header every route sends into buf, or NULL when routes differ. */
static const char *common_allow(const api_t *api, char *buf, size_t size)
{
        char allow[64];

        buf[0] = '\0';
        for (size_t i = 0; i < api->route_count; i++) {
                router_allow(&api->routes[i], allow, sizeof(allow));
                if (i == 0)
                        snprintf(buf, size, "%s", allow);
                else if (strcmp(buf, allow) != 0)
                        return NULL;
        }
        return buf[0] != '\0' ? buf : NULL;
}

/* How a caller proves who it is: bearer tokens, API keys, or nothing. */
static json_t *security_schemes(const api_auth_t *auth)
{
        json_t *schemes = json_object();

        if (auth->jwt != NULL)
                schemes = oa_with(schemes, "bearer",
                                  oa_object_of("type", oa_str("http"), "scheme", oa_str("bearer"),
                                               "bearerFormat", oa_str("JWT"), NULL));
        if (auth->key_count > 0)
                schemes = oa_with(schemes, "apiKey",
                                  oa_object_of("type", oa_str("apiKey"), "in", oa_str("header"),
                                               "name", oa_str("X-API-Key"), NULL));
        return schemes;
}

/* Each scheme alone will do; {} says that no credentials may do too. */
static json_t *security(const api_auth_t *auth)
{
        json_t *any = json_array();

        if (auth == NULL)
                return any;
        if (auth->jwt != NULL)
                any = oa_push(any, oa_object_of("bearer", json_array(), NULL));
        if (auth->key_count > 0)
                any = oa_push(any, oa_object_of("apiKey", json_array(), NULL));
        if (auth->anonymous_role != NULL)
                any = oa_push(any, json_object());
        return any;
}

static json_t *components(const api_t *api, const char *allow, json_t *schemas)
{
        unsigned errors = oa_document_errors(api);
        json_t *c = oa_object_of("headers", oa_headers_components(allow, api->auth != NULL),
                                 "responses", oa_responses_components(allow, errors), "schemas",
                                 schemas, NULL);

        return api->auth ? oa_with(c, "securitySchemes", security_schemes(api->auth)) : c;
}

char *openapi_gen_document(const api_t *api, const openapi_audience_t *audience,
                           size_t *ret_len)
{
        json_t *paths = json_object(), *schemas = json_object();
        char allow_buf[64];
        const char *allow = common_allow(api, allow_buf, sizeof(allow_buf));
        char *text = NULL;
        int r = paths && schemas ? add_entries(api, audience, paths, schemas) : -ENOMEM;

        if (r == 0)
                r = oa_add_builtin_paths(paths, api);
        if (r == 0)
                r = oa_add_refusals(paths, api);
        if (r == 0)
                r = oa_add_fixed_schemas(schemas, oa_document_errors(api));
        if (r < 0) {
                json_decref(paths);
                json_decref(schemas);
                return NULL;
        }
        json_t *doc = oa_object_of(
                "openapi", oa_str("3.1.0"), "info", info(), "servers",
                oa_push(json_array(),
                        oa_object_of("url", oa_str("/"), "description",
                                     oa_str("The server that serves this document."), NULL)),
                "security", security(api->auth), "tags", tags(), "x-unknown-paths",
                oa_ref("responses", "NotFound"), "paths", paths, "components",
                components(api, allow, schemas), NULL);
        if (doc != NULL)
                text = json_dumps(doc, JSON_INDENT(2));
        json_decref(doc);
        if (text != NULL && ret_len != NULL)
                *ret_len = strlen(text);
        return text;
}
