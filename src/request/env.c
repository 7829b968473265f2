/* The request environment. Every statement goes to the primary today; this
 * is the one place that will send reads elsewhere. */
#include "request/env.h"

#include <string.h>

static void unref_api(void *arg)
{
        api_unref(arg);
}

env_t *env_new(env_shared_t *shared, api_t *api, scope_t *scope)
{
        env_t *env = scope_alloc(scope, sizeof(*env));

        if (env == NULL)
                return NULL;
        api_ref(api);
        if (scope_defer(scope, unref_api, api, NULL) < 0) {
                api_unref(api);
                return NULL;
        }
        env->api = api;
        env->config = shared->config;
        env->loop = shared->loop;
        env->shared = shared;
        return env;
}

db_pool_t *env_db_for(const env_t *env, db_intent_t intent)
{
        (void)intent;
        return env->shared->primary;
}

void env_pool_totals(const env_t *env, db_pool_stats_t *t)
{
        const env_shared_t *shared = env->shared;

        memset(t, 0, sizeof(*t));
        for (unsigned i = 0; i < shared->all_primary_count; i++) {
                db_pool_stats_t s;
                db_pool_get_stats(shared->all_primaries[i], &s);
                t->size += s.size;
                t->idle += s.idle;
                t->busy += s.busy;
                t->waiting += s.waiting;
        }
}
