/* Dispatch: the route table of the api in force (or the admin routes),
 * matched once per request. */
#include "server/dispatch.h"

#include <string.h>

#include "http/query_args.h"

#include "request/access.h"
#include "request/read_cache.h"
#include "server/worker.h"

typedef struct dispatch {
        env_t *env;
        router_result_t found;
        route_match_t match;
} dispatch_t;

/* Runs once the body is read (or was not asked for): everything that answers. */
static void route(http_request_t *req, void *data)
{
        dispatch_t *d = data;
        char allow[64];

        if (d->found == ROUTE_FOUND) {
                if (!env_take_consistency(d->env, req))
                        return; /* answered 400 */
                if (access_admit(d->env, req, &d->match) &&
                    !read_cache_serve(d->env, req, &d->match))
                        d->match.method->handler(d->env, req, &d->match);
                return;
        }
        if (d->found == ROUTE_NOT_FOUND) {
                http_fail(req, 404, "not-found", "no resource at this path");
                return;
        }
        router_allow(d->match.route, allow, sizeof(allow));
        if (http_is_preflight(req)) {
                http_answer_preflight(req, allow);
                return;
        }
        http_add_header(req, "Allow", allow);
        http_fail(req, 405, "method-not-allowed", "%s is not allowed here; use %s", req->method,
                  allow);
}

/* Runs once the body is read: a target with an invalid percent-escape. */
static void refuse_target(http_request_t *req, void *data)
{
        (void)data;
        http_check_target(req);
}

/* The router matched the path as sent; handlers get its captures decoded. */
static bool decode_params(route_match_t *m, scope_t *scope)
{
        for (unsigned i = 0; i < m->param_count; i++) {
                char *text = scope_alloc(scope, m->param_lengths[i] + 1);
                if (text == NULL)
                        return false;
                m->param_lengths[i] = query_args_decode(m->params[i], m->param_lengths[i], text);
                m->params[i] = text;
        }
        return true;
}

static void dispatch_in(worker_t *w, const route_t *routes, size_t count, http_request_t *req)
{
        dispatch_t *d = scope_alloc(req->scope, sizeof(*d));

        if (d == NULL || (d->env = env_new(&w->shared, w->api, req->scope)) == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (req->bad_escape_in_path || req->bad_escape_arg != NULL) {
                http_after_body(req, refuse_target, d);
                return;
        }
        d->found = router_match(routes, count, req->method, req->path, &d->match);
        if (!decode_params(&d->match, req->scope)) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (d->match.route != NULL)
                req->metrics_route = d->match.route->metrics_slot;
        if (d->found == ROUTE_FOUND && d->match.method->takes_body)
                route(req, d); /* the handler reads the body itself */
        else
                http_after_body(req, route, d);
}

void dispatch_request(http_request_t *req, void *data)
{
        worker_t *w = data;

        dispatch_in(w, w->api->routes, w->api->route_count, req);
}

void dispatch_admin(http_request_t *req, void *data)
{
        worker_t *w = data;

        dispatch_in(w, w->admin_routes, ROUTES_ADMIN_COUNT, req);
}
