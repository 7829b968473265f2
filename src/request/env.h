/*
 * A request's environment: what its handler may use besides the request
 * itself. The configuration in force when it started (held until it
 * completes, so a reload never changes it midway), the settings, and the
 * database by intent: a handler says whether it reads or writes, and
 * env_db_for() picks the pool. Handlers never pick a pool themselves.
 */
#ifndef QUERYD_ENV_H
#define QUERYD_ENV_H

#include <uv.h>

#include "api/api.h"
#include "auth/identity.h"
#include "auth/rate_limit.h"
#include "auth/token_cache.h"
#include "core/config.h"
#include "core/list.h"
#include "core/scope.h"
#include "db/db_pool.h"
#include "db/db_targets.h"
#include "db/gtid.h"
#include "http/http.h"

/** What a worker lends every request it serves; set up by the worker. */
typedef struct env_shared {
        const config_t *config;
        uv_loop_t *loop;
        db_pool_t *primary;          /* this worker's slice of the primary's pool */
        db_pool_t *pools[DB_TARGETS_MAX]; /* this worker's slices: [0] the primary, then
                                             each replica's (db_targets.h numbering) */
        unsigned target_count;       /* 1 + replicas */
        db_pool_t *const *all_pools; /* every worker's slices: [worker * target_count + target] */
        unsigned worker_count;
        db_targets_t *targets;       /* the servers' health, process-wide */
        unsigned next_replica;       /* where the search for the least busy starts */
        list_node_t open_item_batches; /* lookups still taking others (item_batch.c) */
        token_cache_t *tokens;       /* this worker's verified bearer tokens... */
        const api_t *tokens_api;     /* ...under this api, the worker's latest */
        rate_limiter_t *limiter;     /* the process's rate limits, shared by every worker */
        struct read_cache *cache;    /* the process's answers (read_cache.h); NULL: none */
        struct read_cache_waker *cache_waker; /* wakes this worker's waiting reads */
} env_shared_t;

typedef enum db_intent {
        DB_READ,  /* a statement that changes nothing */
        DB_WRITE, /* a statement that may change rows, or a read inside a write's transaction */
} db_intent_t;

struct env {
        const api_t *api;       /* the configuration file's endpoints, as loaded */
        const config_t *config; /* the settings (QUERYD_*) */
        uv_loop_t *loop;
        const char *db_role;    /* the MariaDB role its statements run under (request/access.c):
                                   "" none (SET ROLE NONE), NULL the session's own */
        env_shared_t *shared;   /* private to request/: use the functions below */
        /* Who is asking (request/access.c); NULL without an "auth" section. */
        const identity_t *identity;
        MYSQL_BIND *row_binds;  /* the claims the row condition of the caller's view binds */
        /* Shared answers (request/read_cache.c): the entry's Cache-Control for a
         * read, and the state of a read that others wait for; NULL: none. */
        const char *cache_control;
        struct read_cache_lead *cache_lead;
        /* How fresh its reads must be (env_take_consistency). */
        bool strong;            /* Prefer: consistency=strong: the primary */
        bool positioned;        /* Queryd-Position given: a server that applied position */
        gtid_set_t position;
};

/**
 * A new environment in scope for a request served with api, which it holds
 * until the scope closes. NULL when out of memory.
 */
env_t *env_new(env_shared_t *shared, api_t *api, scope_t *scope);

/**
 * Reads how fresh req's reads must be: the Queryd-Position header (or,
 * when QUERYD_POSITION_COOKIE is 1 and no header is given, the
 * queryd_position cookie; a malformed cookie is ignored) and Prefer:
 * consistency=strong, which adds Preference-Applied. Returns false after
 * answering 400 for a malformed header.
 */
bool env_take_consistency(env_t *env, http_request_t *req);

/**
 * The pool a statement of this intent runs on, counted as a request on its
 * server. Writes: the primary. Reads: the least busy replica that is up and
 * within the lag bound and, for a positioned read, known to have applied
 * the position; with none, or consistency=strong, the primary.
 */
db_pool_t *env_db_for(const env_t *env, db_intent_t intent);

/**
 * A read's connection, as db_pool_acquire() (same callback contract and
 * errors), for reads that may wait: a positioned read no replica is known
 * to have applied borrows a healthy replica's connection and waits there
 * (MASTER_GTID_WAIT) up to wait_ms before cb hears of it; if the replica
 * does not get there in time, the read goes to the primary. Any other read
 * goes where env_db_for() sends it. *ret_lease is at all times the lease
 * asked for or waited on, which the caller may release (then cb never
 * runs). This is where a positioned read picks its server and waits.
 */
int env_acquire_read(env_t *env, scope_t *scope, unsigned wait_ms, db_lease_cb cb, void *data,
                     db_lease_t **ret_lease);

/**
 * A write committed at gtid (@@last_gtid): answers Queryd-Position with it
 * (and the cookie, when turned on).
 */
void env_wrote_at(const env_t *env, http_request_t *req, const char *gtid);

/** A request failed on pool's server (no connection, a lost one): counted per server. */
void env_count_error(const env_t *env, const db_pool_t *pool);

/** Pool counts of the primary, summed over every worker's slice. */
void env_pool_totals(const env_t *env, db_pool_stats_t *ret_totals);

/** Pool counts of target (db_targets.h numbering), summed over every worker's slice. */
void env_target_pool_totals(const env_t *env, unsigned target, db_pool_stats_t *ret_totals);

#endif
