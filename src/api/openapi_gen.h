/*
 * The OpenAPI 3.1 document GET /openapi.json serves, generated from a loaded
 * api: the built-in routes, each resource's collection and item, each named
 * query, and row schemas that give the JSON types rowjson.c really writes.
 */
#ifndef QUERYD_OPENAPI_GEN_H
#define QUERYD_OPENAPI_GEN_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

/** Whom a document is for, when the api has an "auth" section. */
typedef struct openapi_audience {
        const char *role;   /* NULL: a caller with no role (no credentials, no anonymous role) */
        bool anonymous;     /* role is the anonymous role: entries without "roles" are not its */
} openapi_audience_t;

/**
 * The document as JSON text for api, whose column metadata api_schema_check
 * has filled in; for audience (NULL: every entry, as it is), only the
 * entries its role may use, each with the columns the role sees. Pure: no
 * I/O, api is only read. Returns a NUL-terminated string the caller frees
 * with free() and its length (without the NUL) in *ret_len (may be NULL),
 * or NULL when out of memory. The same api gives the same text: members
 * keep one fixed order.
 */
char *openapi_gen_document(const api_t *api, const openapi_audience_t *audience,
                           size_t *ret_len);

#endif
