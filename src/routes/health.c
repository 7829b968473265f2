/*
 * GET /healthz: the process answers. GET /readyz: a database round trip
 * succeeded within a short deadline on a server that serves reads (the
 * primary or a replica: reads go on while the primary is down); both
 * report the pool's counts, and a 503 names the servers that are down.
 */
#include <stdio.h>

#include "http/problem.h"
#include "request/query_call.h"
#include "routes/routes.h"

enum { READY_DEADLINE_MS = 2000 };

static const char SQL_PING[] = "SELECT 1";

void health_live(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        http_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *pool_json(const env_t *env)
{
        db_pool_stats_t t;

        env_pool_totals(env, &t);
        return json_pack("{s:i, s:i, s:i, s:i}", "size", (int)t.size, "idle", (int)t.idle, "busy",
                         (int)t.busy, "waiting", (int)t.waiting);
}

/* The servers that cannot serve reads now. */
static json_t *down_json(const env_t *env)
{
        const env_shared_t *shared = env->shared;
        json_t *down = json_array();

        for (unsigned t = 0; t < shared->target_count; t++) {
                bool up = t == 0 ? db_pool_is_up(shared->pools[0])
                                 : db_targets_readable(shared->targets, t) &&
                                           db_pool_is_up(shared->pools[t]);
                if (!up)
                        json_array_append_new(down,
                                              json_string(db_targets_name(shared->targets, t)));
        }
        return down;
}

static void not_ready(env_t *env, http_request_t *req)
{
        char detail[96];

        snprintf(detail, sizeof(detail), "no database round trip succeeded within %u ms",
                 (unsigned)READY_DEADLINE_MS);
        json_t *problem = problem_new(503, "database-unavailable", detail, req->id);
        json_object_set_new(problem, "pool", pool_json(env));
        json_object_set_new(problem, "down", down_json(env));
        http_respond_problem(req, problem);
}

static void ready_timeout(query_call_t *call)
{
        not_ready(call->env, call->req);
}

static void ready_done(query_call_t *call, int status)
{
        if (status == 0)
                http_respond_json(call->req, 200,
                                  json_pack("{s:s, s:o}", "status", "ready", "pool",
                                            pool_json(call->env)));
}

void health_ready(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)match;
        /* Reads go to the primary when no replica may take them: it is the last resort. */
        if (!db_pool_is_up(env_db_for(env, DB_READ))) {
                not_ready(env, req);
                return;
        }
        query_call_t *call = query_call_new(env, req, SQL_PING, NULL);
        if (call == NULL) {
                not_ready(env, req);
                return;
        }
        call->deadline_ms = READY_DEADLINE_MS;
        call->on_timeout = ready_timeout;
        query_call_start(call, ready_done);
}
