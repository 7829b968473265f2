/* GET /metrics: counters and pool gauges in Prometheus text format, and
 * each database server's figures. */
#include <stdlib.h>

#include "core/metrics.h"
#include "http/http.h"
#include "request/env.h"
#include "request/read_cache.h"
#include "routes/routes.h"

void metrics_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        db_pool_stats_t pool;
        strbuf_t body = { 0 };
        size_t len;

        (void)match;
        env_pool_totals(env, &pool);
        metrics_render(&body, &pool);
        read_cache_render_metrics(env, &body);
        db_pool_stats_t per_target[DB_TARGETS_MAX];
        for (unsigned t = 0; t < env->shared->target_count; t++)
                env_target_pool_totals(env, t, &per_target[t]);
        db_targets_render(env->shared->targets, per_target, &body);
        if (body.failed) {
                strbuf_done(&body);
                http_fail(req, 500, "internal", "out of memory while writing the metrics");
                return;
        }
        char *text = strbuf_take(&body, &len);
        http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
