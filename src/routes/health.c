/*
 * GET /healthz: the process answers. GET /readyz: a database round trip
 * succeeded within a short deadline; both report the pool's counts.
 */
#include "http/problem.h"
#include "request/query_call.h"
#include "routes/routes.h"
#include "server/worker.h"

enum { READY_DEADLINE_MS = 2000 };

static const char SQL_PING[] = "SELECT 1";

void health_live(http_request_t *req, const route_match_t *match)
{
        (void)match;
        http_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *pool_json(const worker_t *w)
{
        db_pool_stats_t t;

        worker_pool_totals(w, &t);
        return json_pack("{s:i, s:i, s:i, s:i}", "size", (int)t.size, "idle", (int)t.idle, "busy",
                         (int)t.busy, "waiting", (int)t.waiting);
}

static void not_ready(http_request_t *req)
{
        json_t *problem = problem_new(503, "database-unavailable",
                                      "no database round trip succeeded within 2000 ms", req->id);

        json_object_set_new(problem, "pool", pool_json(req->worker));
        http_respond_problem(req, problem);
}

static void ready_done(query_call_t *call, int status)
{
        if (status == 0)
                http_respond_json(call->req, 200,
                                  json_pack("{s:s, s:o}", "status", "ready", "pool",
                                            pool_json(call->req->worker)));
}

void health_ready(http_request_t *req, const route_match_t *match)
{
        (void)match;
        if (!db_pool_is_up(req->worker->pool)) {
                not_ready(req);
                return;
        }
        query_call_t *call = query_call_new(req, SQL_PING, NULL);
        if (call == NULL) {
                not_ready(req);
                return;
        }
        call->deadline_ms = READY_DEADLINE_MS;
        call->on_timeout = not_ready;
        query_call_start(call, ready_done);
}
