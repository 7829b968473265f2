/* The request environment: the one place that decides which server a
 * statement goes to. */
#include "request/env.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db_query.h"
#include "http/prefer.h"

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

/* ---- how fresh ---- */

static const char POSITION_COOKIE[] = "queryd_position";

/* The position cookie's value in a Cookie header, or NULL. */
static const char *cookie_value(const char *cookies, size_t *ret_len)
{
        size_t name_len = sizeof(POSITION_COOKIE) - 1;

        for (const char *p = cookies; p != NULL && *p != '\0'; ) {
                while (*p == ' ' || *p == ';')
                        p++;
                size_t len = strcspn(p, ";");
                if (len > name_len && strncmp(p, POSITION_COOKIE, name_len) == 0 &&
                    p[name_len] == '=') {
                        *ret_len = len - name_len - 1;
                        return p + name_len + 1;
                }
                p += len;
        }
        return NULL;
}

static bool take_position(env_t *env, http_request_t *req)
{
        const char *header = http_header(req, "Queryd-Position");
        size_t len;

        if (header != NULL) {
                if (gtid_parse(header, strlen(header), &env->position) < 0) {
                        http_fail_param(req, "Queryd-Position",
                                        "Queryd-Position is a list of GTIDs "
                                        "domain-server-sequence separated by commas, as a "
                                        "write answered it");
                        return false;
                }
                env->positioned = env->position.count > 0;
                return true;
        }
        if (!env->config->position_cookie)
                return true;
        const char *cookie = cookie_value(http_header(req, "Cookie"), &len);
        if (cookie != NULL && gtid_parse(cookie, len, &env->position) == 0)
                env->positioned = env->position.count > 0;
        return true;
}

bool env_take_consistency(env_t *env, http_request_t *req)
{
        const char *prefer_header = http_header(req, "Prefer");

        if (!take_position(env, req))
                return false;
        if (prefer_header == NULL || strstr(prefer_header, "consistency") == NULL)
                return true;
        prefer_t prefer;
        char why[160];
        if (prefer_parse(prefer_header, &prefer, why, sizeof(why)) < 0)
                return true; /* whoever reads Prefer for its own answers 400 */
        env->strong = prefer.strong;
        if (prefer.strong)
                http_add_header(req, "Preference-Applied", "consistency=strong");
        return true;
}

/* ---- where ---- */

/* Load of a slice: lent and waited-for connections per connection. */
static double load_of(const db_pool_t *pool)
{
        db_pool_stats_t s;

        db_pool_get_stats(pool, &s);
        return s.size ? (double)(s.busy + s.waiting) / s.size : 1e9;
}

/* The least busy replica that may serve env's read; 0 (the primary) if none. */
static unsigned pick_replica(const env_t *env, bool need_applied)
{
        env_shared_t *shared = env->shared;
        unsigned replicas = shared->target_count - 1, best = 0;
        double best_load = 0;

        /* Ties go round: idle replicas share the reads too. */
        unsigned start = shared->next_replica++;
        for (unsigned k = 0; k < replicas; k++) {
                unsigned t = 1 + (start + k) % replicas;
                if (!db_targets_readable(shared->targets, t) || !db_pool_is_up(shared->pools[t]))
                        continue;
                if (need_applied && !db_targets_has_applied(shared->targets, t, &env->position))
                        continue;
                double load = load_of(shared->pools[t]);
                if (best == 0 || load < best_load) {
                        best = t;
                        best_load = load;
                }
        }
        return best;
}

static unsigned target_for(const env_t *env, db_intent_t intent)
{
        if (intent == DB_WRITE || env->strong || env->shared->target_count < 2)
                return 0;
        return pick_replica(env, env->positioned);
}

db_pool_t *env_db_for(const env_t *env, db_intent_t intent)
{
        unsigned t = target_for(env, intent);

        db_targets_count_request(env->shared->targets, t);
        return env->shared->pools[t];
}

/* ---- positioned reads that wait ---- */

typedef struct read_wait {
        env_t *env;
        scope_t *scope;
        db_lease_cb cb;
        void *data;
        db_lease_t **lease;     /* the caller's: the lease of the moment */
        unsigned replica;
        db_query_t query;
        MYSQL_BIND params[2];
        char position[GTID_TEXT_MAX];
        unsigned long position_len;
        double seconds;
        long long answer;       /* MASTER_GTID_WAIT's: 0 applied, -1 timed out */
        bool answered;
} read_wait_t;

static const char SQL_GTID_WAIT[] = "SELECT MASTER_GTID_WAIT(?, ?)";

/* The wait failed or ran out: the primary serves the read. */
static void read_from_primary(read_wait_t *w)
{
        env_shared_t *shared = w->env->shared;

        db_targets_count_request(shared->targets, 0);
        *w->lease = NULL;
        int r = db_pool_acquire(shared->pools[0], w->scope, w->cb, w->data, w->lease);
        if (r < 0) {
                db_targets_count_error(shared->targets, 0);
                w->cb(NULL, r, w->data);
        }
}

static bool on_wait_answer(db_query_t *q, void *data)
{
        read_wait_t *w = data;

        if (q->row.count == 1 && !q->row.columns[0].value.is_null) {
                w->answer = q->row.columns[0].value.as.i;
                w->answered = true;
        }
        return true;
}

static void on_waited(db_query_t *q, int status, void *data)
{
        read_wait_t *w = data;
        db_lease_t *lease = *w->lease;

        (void)q;
        if (status == 0 && w->answered && w->answer == 0) {
                w->cb(lease, 0, w->data);
                return;
        }
        if (status < 0)
                db_targets_count_error(w->env->shared->targets, w->replica);
        db_pool_release(lease);
        read_from_primary(w);
}

static void on_replica_lease(db_lease_t *lease, int status, void *data)
{
        read_wait_t *w = data;

        if (status < 0) {
                db_targets_count_error(w->env->shared->targets, w->replica);
                read_from_primary(w);
                return;
        }
        w->query.sql = SQL_GTID_WAIT;
        w->query.params = w->params;
        w->query.row_options.time_zone = w->env->config->time_zone;
        w->query.row_cb = on_wait_answer;
        w->query.done_cb = on_waited;
        w->query.data = w;
        db_query_run(&w->query, lease, w->scope);
}

static void bind_wait(read_wait_t *w, unsigned wait_ms)
{
        gtid_format(&w->env->position, w->position, sizeof(w->position));
        w->position_len = strlen(w->position);
        w->seconds = wait_ms / 1000.0;
        w->params[0] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_STRING, .buffer = w->position,
                                     .buffer_length = w->position_len,
                                     .length = &w->position_len };
        w->params[1] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_DOUBLE, .buffer = &w->seconds };
}

int env_acquire_read(env_t *env, scope_t *scope, unsigned wait_ms, db_lease_cb cb, void *data,
                     db_lease_t **ret_lease)
{
        unsigned t = target_for(env, DB_READ);
        unsigned replica = 0;

        /* Not applied anywhere yet: wait on a replica within the lag bound,
         * which should get there soon. */
        if (t == 0 && env->positioned && !env->strong && wait_ms > 0 &&
            env->shared->target_count > 1)
                replica = pick_replica(env, false);
        if (replica == 0) {
                db_pool_t *pool = env->shared->pools[t];
                db_targets_count_request(env->shared->targets, t);
                int r = db_pool_acquire(pool, scope, cb, data, ret_lease);
                if (r < 0)
                        db_targets_count_error(env->shared->targets, t);
                return r;
        }
        read_wait_t *w = scope_alloc(scope, sizeof(*w));
        if (w == NULL)
                return -ENOMEM;
        *w = (read_wait_t){ .env = env, .scope = scope, .cb = cb, .data = data,
                            .lease = ret_lease, .replica = replica };
        bind_wait(w, wait_ms);
        db_targets_count_request(env->shared->targets, replica);
        int r = db_pool_acquire(env->shared->pools[replica], scope, on_replica_lease, w,
                                ret_lease);
        if (r < 0) {
                db_targets_count_error(env->shared->targets, replica);
                db_targets_count_request(env->shared->targets, 0);
                r = db_pool_acquire(env->shared->pools[0], scope, cb, data, ret_lease);
        }
        return r;
}

void env_wrote_at(const env_t *env, http_request_t *req, const char *gtid)
{
        char cookie[128];

        http_add_header(req, "Queryd-Position", gtid);
        if (!env->config->position_cookie)
                return;
        snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Lax",
                 POSITION_COOKIE, gtid);
        http_add_header(req, "Set-Cookie", cookie);
}

void env_count_error(const env_t *env, const db_pool_t *pool)
{
        const env_shared_t *shared = env->shared;

        for (unsigned t = 0; t < shared->target_count; t++)
                if (shared->pools[t] == pool)
                        db_targets_count_error(shared->targets, t);
}

/* ---- figures ---- */

void env_target_pool_totals(const env_t *env, unsigned target, db_pool_stats_t *t)
{
        const env_shared_t *shared = env->shared;

        memset(t, 0, sizeof(*t));
        for (unsigned w = 0; w < shared->worker_count; w++) {
                db_pool_stats_t s;
                db_pool_get_stats(shared->all_pools[w * shared->target_count + target], &s);
                t->size += s.size;
                t->idle += s.idle;
                t->busy += s.busy;
                t->waiting += s.waiting;
        }
}

void env_pool_totals(const env_t *env, db_pool_stats_t *t)
{
        env_target_pool_totals(env, 0, t);
}
