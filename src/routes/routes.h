/* The route table and the handlers it points to, one endpoint family per file. */
#ifndef QUERYD_ROUTES_H
#define QUERYD_ROUTES_H

#include "router.h"

extern const route_t routes[];
extern const size_t route_count;

void users_list(http_request_t *req, const route_match_t *match);
void users_get(http_request_t *req, const route_match_t *match);
void health_live(http_request_t *req, const route_match_t *match);
void health_ready(http_request_t *req, const route_match_t *match);
void metrics_get(http_request_t *req, const route_match_t *match);

#endif
