/*
 * From a request's head to its handler: the configuration in force is
 * pinned for the request, the route and method are found, and the handler
 * runs, once the body is read for handlers that take none. Unknown paths
 * get 404, unknown methods 405 with Allow, CORS preflights their answer.
 */
#ifndef QUERYD_DISPATCH_H
#define QUERYD_DISPATCH_H

#include "http/http.h"

/** The HTTP server's dispatch function (http_dispatch_fn); data is the worker_t. */
void dispatch_request(http_request_t *req, void *data);

/** The admin server's: the worker's admin routes alone (QUERYD_ADMIN_LISTEN). */
void dispatch_admin(http_request_t *req, void *data);

#endif
