/*
 * Route matching: method + path against a table of path templates such as
 * "/users/{id}". Pure string work, no I/O, so it can be tested and fuzzed alone.
 */
#ifndef QUERYD_ROUTER_H
#define QUERYD_ROUTER_H

#include <stddef.h>

enum { ROUTER_MAX_PARAMS = 8 };

typedef struct http_request http_request_t;
typedef struct route_match route_match_t;
typedef void (*route_handler_fn)(http_request_t *req, const route_match_t *match);

typedef struct route {
        const char *template; /* "/users/{id}": a {name} segment captures one segment */
        route_handler_fn handler;
        const void *target; /* what the handler serves: an api entry, or NULL */
        int metrics_slot;   /* its label in /metrics (metrics_route_slot) */
} route_t;

struct route_match {
        const route_t *route;
        unsigned param_count;
        const char *params[ROUTER_MAX_PARAMS]; /* point into the path, not NUL-terminated */
        size_t param_lengths[ROUTER_MAX_PARAMS];
};

typedef enum router_result {
        ROUTE_FOUND,
        ROUTE_NOT_FOUND,
        ROUTE_METHOD_NOT_ALLOWED,
} router_result_t;

/** Every route answers GET and HEAD (read-only service). */
extern const char router_allowed_methods[];

/**
 * Finds the route for method and path (the path without its query string).
 * A path matching no template is ROUTE_NOT_FOUND; one matching with another
 * method is ROUTE_METHOD_NOT_ALLOWED (answer with router_allowed_methods).
 */
router_result_t router_match(const route_t *routes, size_t count, const char *method,
                             const char *path, route_match_t *ret_match);

#endif
