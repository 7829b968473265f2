/*
 * The parts the OpenAPI document is built from, a file each:
 *   openapi_paths.c      the error answers, path items and their operations
 *   openapi_fixed.c      the schemas and paths every document has
 *   openapi_columns.c    column, row and request-value schemas
 *   openapi_resources.c  a resource's two paths and schemas
 *   openapi_queries.c    a named query's path and schemas
 *   openapi_gen.c        component names and the document
 * Every function that returns json_t follows openapi_json.h: NULL when out
 * of memory, values given to it taken.
 */
#ifndef QUERYD_OPENAPI_PARTS_H
#define QUERYD_OPENAPI_PARTS_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/openapi_json.h"

/* ------------------------------------------------------------------ openapi_paths.c */

/** The error answers the document describes, in the order it lists them. */
typedef enum oa_error_id {
        OA_INVALID_PARAMETER,
        OA_NOT_FOUND,
        OA_METHOD_NOT_ALLOWED,
        OA_NOT_ACCEPTABLE,
        OA_INTERNAL_ERROR,
        OA_SERVICE_UNAVAILABLE,
        OA_TIMEOUT,
        OA_NOT_READY,
        OA_UNAUTHORIZED,      /* these three only with an "auth" section */
        OA_FORBIDDEN,
        OA_TOO_MANY_REQUESTS,
        OA_ERROR_COUNT,
} oa_error_id_t;

/** The errors an operation may answer, as a set of 1u << oa_error_id_t. */
enum {
        OA_COLLECTION_ERRORS = 1u << OA_INVALID_PARAMETER | 1u << OA_NOT_ACCEPTABLE |
                               1u << OA_INTERNAL_ERROR | 1u << OA_SERVICE_UNAVAILABLE |
                               1u << OA_TIMEOUT,
        OA_ITEM_ERRORS = OA_COLLECTION_ERRORS | 1u << OA_NOT_FOUND,
        OA_READY_ERRORS = 1u << OA_NOT_READY,
        OA_AUTH_ERRORS = 1u << OA_UNAUTHORIZED | 1u << OA_FORBIDDEN | 1u << OA_TOO_MANY_REQUESTS,
};

/** The error answers api's document describes: OA_AUTH_ERRORS only with "auth". */
unsigned oa_document_errors(const api_t *api);

/** One error answer: its status, its response component and its problem schema. */
typedef struct oa_error {
        unsigned status;
        const char *component;  /* #/components/responses/<component> */
        const char *schema;     /* #/components/schemas/<schema> */
        const char *description;
        bool retry_after;       /* its answers carry Retry-After */
        bool allow;             /* and Allow */
        bool challenge;         /* and WWW-Authenticate */
        bool rate_limit;        /* and RateLimit, RateLimit-Policy */
        const char *base;       /* the problem schema it narrows */
        const char *slugs[3];   /* its problem types: one a const, more an enum, none the base's */
        bool fixed_status;      /* its schema says the status */
        bool names_parameter;   /* its problems name the parameter at fault */
        bool carries_pool;      /* its problems hold the pool counts */
} oa_error_t;

/** The error answers, by oa_error_id_t: the one list of statuses the document gives. */
extern const oa_error_t oa_errors[OA_ERROR_COUNT];

/** What one path answers to GET (and, the same without a body, to HEAD). */
typedef struct oa_path_spec {
        const char *path;
        const char *get_id, *head_id; /* operationIds */
        const char *summary;
        json_t *description;          /* taken */
        json_t *parameters;           /* taken; an empty array: none */
        json_t *ok;                   /* taken: the 200 response */
        unsigned errors;              /* OA_*_ERRORS */
} oa_path_spec_t;

/**
 * Adds the path item spec describes to paths, with an operation for each
 * method api's route of the path answers; takes spec's json members. A path
 * api has no route for (a built-in served on the admin address), or a NULL
 * path (the items of a resource without a key), is left out. 0 or -ENOMEM.
 */
int oa_add_path(json_t *paths, const api_t *api, oa_path_spec_t *spec);

/** {"X-Request-Id": its header component}, the header every answer has. */
json_t *oa_x_request_id(void);

/** Appends a read's consistency headers (Queryd-Position, Prefer) to params. */
json_t *oa_push_read_headers(json_t *params);

/** Adds the Queryd-Position header to a successful write's response object. */
json_t *oa_with_position(json_t *response);

/** A 200 response of one media type. */
json_t *oa_ok_response(json_t *description, const char *media_type, json_t *schema);

/** A 200 response of rows: JSON (schema), NDJSON (line: each line's schema, taken) or CSV. */
json_t *oa_rows_response(const char *description, json_t *schema, json_t *line);

/**
 * The media type object of NDJSON: the body is text (what a validator sees),
 * and x-item-schema gives each line's JSON value (line, taken). OpenAPI 3.2
 * names this itemSchema; a 3.1 document carries it as an extension.
 */
json_t *oa_ndjson_media(json_t *line);

/**
 * response (a 200 of an entry's GET) with the headers its caching adds:
 * Age for cache_ms, Cache-Control for cache_control (NULL: none). Returns
 * response.
 */
json_t *oa_with_cache_headers(json_t *response, unsigned cache_ms, const char *cache_control);

/**
 * #/components/headers. allow: the Allow header every route of the api
 * sends, or NULL when they differ. auth: the headers of identities too.
 */
json_t *oa_headers_components(const char *allow, bool auth);

/** #/components/responses of the errors in errors; allow as for oa_headers_components(). */
json_t *oa_responses_components(const char *allow, unsigned errors);

/* ------------------------------------------------------------------ openapi_fixed.c */

/** How many schemas every document has, and their names (i below that count). */
size_t oa_fixed_schema_count(void);
const char *oa_fixed_schema_name(size_t i);

/** Adds those schemas (of the errors in errors) to schemas, after the entries' own. */
int oa_add_fixed_schemas(json_t *schemas, unsigned errors);

/**
 * Adds the built-in paths (/healthz, /readyz, /metrics, /openapi.json, and
 * the explorer's /, /explorer.js, /explorer.css, /favicon.ico). 0 or -ENOMEM.
 */
int oa_add_builtin_paths(json_t *paths, const api_t *api);

/** The tag of the operations oa_add_refusals() adds. */
#define OA_REFUSED_TAG "not-allowed"

/**
 * Adds to every path item of paths, for each of GET, PUT, POST, DELETE and PATCH it has no
 * operation for and api's router does not serve there, an operation whose only answer is
 * 405 (what the router then sends).
 * Call once every path is in. 0 or -ENOMEM.
 */
int oa_add_refusals(json_t *paths, const api_t *api);

/* ------------------------------------------------------------------ openapi_columns.c */

/** The SQL type as the metadata tells it: "BIGINT UNSIGNED", "DECIMAL(12,2)", "TIMESTAMP(3)". */
void oa_sql_type(const api_column_t *c, char *out, size_t size);

/** An object with exactly these columns, all present, each as the row writer writes it. */
json_t *oa_row_schema(json_t *description, const api_column_t *columns, size_t count);

/**
 * A row of a resource: any subset of these columns (select), none required,
 * no other key unless embeds (the resource has relations), when any other
 * key is an embedded relation (an object, an array of objects or null).
 */
json_t *oa_resource_row_schema(json_t *description, const api_column_t *columns, size_t count,
                               bool embeds);

/** The schema of a row of a grouped answer: columns typed as in a row, none required,
 *  and aggregates under any other key (a number, a string, a boolean or null). */
json_t *oa_group_schema(json_t *description, const api_column_t *columns, size_t count);

/** What a request value of rule must be, as a phrase: "an integer from 1 to 500". */
void oa_rule_phrase(const api_rule_t *rule, char *out, size_t size);

/** The JSON schema of a request value of rule (a path or query parameter). */
json_t *oa_rule_schema(const api_rule_t *rule);

/** A default given as text, as the JSON value of its rule's type. */
json_t *oa_default_value(const api_rule_t *rule, const char *text);

/** A parameter object. */
json_t *oa_parameter(const char *name, const char *in, bool required, json_t *description,
                     json_t *schema);

/* ------------------------------------------------------------------ the entries */

/** A resource's collection and item paths, its row schema (name) and page schema. */
int oa_add_resource(json_t *paths, json_t *schemas, const api_t *api, const api_resource_t *res,
                    const char *name);

/** A named query's path, its row schema (name) and result schema. */
int oa_add_query(json_t *paths, json_t *schemas, const api_t *api, const api_query_t *q,
                 const char *name);

/* ------------------------------------------------------------------ openapi_writes.c */

/**
 * Adds to a resource's path items (oa_add_resource put them in paths) the
 * write operations of methods (API_METHOD_*: what the audience may use),
 * and drops get and head when methods lack GET. 0 or -ENOMEM.
 */
int oa_add_resource_writes(json_t *paths, const api_t *api, const api_resource_t *res,
                           const char *name, unsigned methods);

/** Adds a named query's write operation (its method) to its path item. 0 or -ENOMEM. */
int oa_add_query_write(json_t *paths, const api_t *api, const api_query_t *q, const char *name,
                       const char *result);

#endif
