/*
 * Route matching: method + path against a table of path templates such as
 * "/users/{id}", each listing the methods it answers and a handler for
 * each. Pure string work, no I/O, so it can be tested and fuzzed alone.
 */
#ifndef QUERYD_ROUTER_H
#define QUERYD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

enum { ROUTER_MAX_PARAMS = 8, ROUTER_MAX_METHODS = 5 };

typedef struct http_request http_request_t;
typedef struct route_match route_match_t;
/* What a handler may use besides its request (request/env.h); opaque here. */
typedef struct env env_t;
typedef void (*route_handler_fn)(env_t *env, http_request_t *req, const route_match_t *match);

/** One method a route answers. */
typedef struct route_method {
        const char *name;         /* "GET", "POST", ...: a route that answers GET answers HEAD */
        route_handler_fn handler;
        bool takes_body;          /* it reads the request body (http_receive_body); for the
                                     others the body is read and thrown away before they run */
} route_method_t;

typedef struct route {
        const char *template; /* "/users/{id}": a {name} segment captures one segment */
        route_method_t methods[ROUTER_MAX_METHODS]; /* the first without a name ends them */
        const void *target;   /* what the handlers serve: an api entry, or NULL */
        int metrics_slot;     /* its label in /metrics (metrics_route_slot) */
} route_t;

struct route_match {
        const route_t *route;
        const void *target;           /* what the handler serves: the route's target, or
                                         the caller's view of it (request/access.c) */
        const route_method_t *method; /* set when the route answers the method */
        unsigned param_count;
        const char *params[ROUTER_MAX_PARAMS]; /* point into the path, not NUL-terminated,
                                                  still percent-encoded */
        size_t param_lengths[ROUTER_MAX_PARAMS];
};

typedef enum router_result {
        ROUTE_FOUND,
        ROUTE_NOT_FOUND,
        ROUTE_METHOD_NOT_ALLOWED,
} router_result_t;

/**
 * Finds the route for method and path (the path without its query string, as
 * the client sent it: percent-encoded). The path is split into segments
 * first; a literal segment of a template matches the segment that decodes to
 * it ("/caf%C3%A9" is "/café"), and a segment holding "%2F" is one segment.
 * A path matching no template is ROUTE_NOT_FOUND; one whose route does not
 * answer the method is ROUTE_METHOD_NOT_ALLOWED (router_allow() says what it
 * answers); otherwise ret_match->method is the route's entry for it.
 */
router_result_t router_match(const route_t *routes, size_t count, const char *method,
                             const char *path, route_match_t *ret_match);

/**
 * Writes the methods route answers as an Allow header, "GET, HEAD" (HEAD
 * follows GET), into out (size bytes, NUL-terminated, cut short if needed).
 */
void router_allow(const route_t *route, char *out, size_t size);

/** Whether route answers method (HEAD where it answers GET). */
const route_method_t *router_method(const route_t *route, const char *method);

#endif
