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

/** What a worker lends every request it serves; set up by the worker. */
typedef struct env_shared {
        const config_t *config;
        uv_loop_t *loop;
        db_pool_t *primary;          /* this worker's slice of the primary's pool */
        db_pool_t *const *all_primaries; /* every worker's slice, for process-wide figures */
        unsigned all_primary_count;
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
};

/**
 * A new environment in scope for a request served with api, which it holds
 * until the scope closes. NULL when out of memory.
 */
env_t *env_new(env_shared_t *shared, api_t *api, scope_t *scope);

/** The pool a statement of this intent runs on. */
db_pool_t *env_db_for(const env_t *env, db_intent_t intent);

/** Pool counts summed over every worker's slice. */
void env_pool_totals(const env_t *env, db_pool_stats_t *ret_totals);

#endif
