/* The route table's handlers, one endpoint family per file. */
#ifndef QUERYD_ROUTES_H
#define QUERYD_ROUTES_H

#include <stdbool.h>

#include "api/api.h"
#include "http/router.h"
#include "json/row_format.h"

/** The built-in routes, and the methods of every kind of entry (api_finish). */
extern const api_handlers_t routes_handlers;

/** The same without the admin routes, for an admin address serving them (QUERYD_ADMIN_LISTEN). */
extern const api_handlers_t routes_public_handlers;

/** The admin routes, /healthz, /readyz and /metrics (metrics_slot unset: copy, then set it). */
enum { ROUTES_ADMIN_COUNT = 3 };
extern const route_t *const routes_admin;

/* Built-in endpoints. */
void health_live(env_t *env, http_request_t *req, const route_match_t *match);
void health_ready(env_t *env, http_request_t *req, const route_match_t *match);
void metrics_get(env_t *env, http_request_t *req, const route_match_t *match);
void openapi_get(env_t *env, http_request_t *req, const route_match_t *match);
void explorer_get(env_t *env, http_request_t *req, const route_match_t *match);  /* GET / */
void explorer_file(env_t *env, http_request_t *req, const route_match_t *match); /* its files */

/** Whether an answer to Accept should be the explorer page rather than JSON. */
bool explorer_wants_html(const char *accept);

/**
 * GET /'s JSON index: {"entries": [{"path", "kind": "resource"|"query",
 * "item" (resources)}], "openapi": "/openapi.json"}, in the file's order,
 * only the entries role may use under "auth" (api_role_may_use). A new
 * reference, or NULL when out of memory.
 */
json_t *explorer_index(const api_t *api, const char *role);

/* Entries of the configuration file; match->target is the entry, as the caller sees it. */
void collection_get(env_t *env, http_request_t *req, const route_match_t *match);
void item_get(env_t *env, http_request_t *req, const route_match_t *match);
void named_query_get(env_t *env, http_request_t *req, const route_match_t *match);

/* Writes (routes/write_*.c): each reads its own body. */
void collection_post(env_t *env, http_request_t *req, const route_match_t *match);
void collection_patch(env_t *env, http_request_t *req, const route_match_t *match);
void collection_delete(env_t *env, http_request_t *req, const route_match_t *match);
void item_put(env_t *env, http_request_t *req, const route_match_t *match);
void item_patch(env_t *env, http_request_t *req, const route_match_t *match);
void item_delete(env_t *env, http_request_t *req, const route_match_t *match);

/**
 * A named query declared with a write method (POST, PUT, PATCH or DELETE):
 * its parameters from the path, the query string and a JSON object body;
 * answers the rows it returns, or {"affected_rows": N}.
 */
void named_query_write(env_t *env, http_request_t *req, const route_match_t *match);

/**
 * The format a route that answers rows writes them in, from the Accept
 * header; false once the request is answered 406.
 */
bool routes_row_format(http_request_t *req, row_format_t *ret_format);

/**
 * Binds the key values of an item path (match's parameters) to binds
 * (res->key_count of them), parsed by their columns' rules; false once the
 * request is answered 400.
 */
bool routes_bind_key(http_request_t *req, const api_resource_t *res, const route_match_t *match,
                     MYSQL_BIND *binds);

#endif
