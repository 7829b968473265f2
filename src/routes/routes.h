/* The built-in routes and every handler, one endpoint family per file. */
#ifndef QUERYD_ROUTES_H
#define QUERYD_ROUTES_H

#include <stdbool.h>

#include "http/router.h"
#include "json/row_format.h"

extern const route_t builtin_routes[];
extern const size_t builtin_route_count;

/* Built-in endpoints. */
void health_live(http_request_t *req, const route_match_t *match);
void health_ready(http_request_t *req, const route_match_t *match);
void metrics_get(http_request_t *req, const route_match_t *match);
void openapi_get(http_request_t *req, const route_match_t *match);

/* Entries of the configuration file; match->route->target is the entry. */
void collection_get(http_request_t *req, const route_match_t *match);
void item_get(http_request_t *req, const route_match_t *match);
void named_query_get(http_request_t *req, const route_match_t *match);

/**
 * The format a route that answers rows writes them in, from the Accept
 * header; false once the request is answered 406.
 */
bool routes_row_format(http_request_t *req, row_format_t *ret_format);

#endif
