/*
 * A worker thread: one libuv loop driving one HTTP server on the shared port
 * and one slice of the database pool, and the environment its requests get
 * (request/env.h). Workers share only the read-only configuration and each
 * other's pool counters (atomics). Worker 0 also serves the admin address
 * (QUERYD_ADMIN_LISTEN) when there is one.
 */
#ifndef QUERYD_WORKER_H
#define QUERYD_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "core/config.h"
#include "db/db_pool.h"
#include "http/http.h"
#include "request/env.h"
#include "request/read_cache.h"
#include "routes/routes.h"

typedef struct worker {
        unsigned index;
        const config_t *config;
        uv_loop_t loop;
        uv_async_t stop_signal;
        uv_async_t api_signal;
        api_t *api;        /* the routes new requests use; only this worker's thread touches it */
        pthread_mutex_t next_api_lock;
        api_t *next_api;   /* handed over by worker_set_api, taken on the loop */
        http_server_t *http;
        http_server_t *admin_http; /* worker 0's, with an admin address; else NULL */
        route_t admin_routes[ROUTES_ADMIN_COUNT];
        unsigned servers_running;  /* the pool closes once none is left */
        db_pool_t *pool;
        db_pool_t *replica_pools[CONFIG_MAX_REPLICAS]; /* this worker's slice of each replica's */
        unsigned pools_open;  /* pools not yet closed at the stop */
        env_shared_t shared; /* what its requests' environments point at */
        pthread_t thread;
        int exit_status;   /* 0, or non-zero when something leaked */
} worker_t;

/**
 * Sets up the loop, binds the HTTP server (worker 0: the admin one too, when
 * config has an admin address) and starts connecting the pool slice
 * (pool_size connections, queue_limit waiters) and one of each replica's
 * (its share of QUERYD_REPLICA_POOL_SIZE, at least one), on the calling
 * thread.
 * The worker takes a reference to api.
 * Returns 0 or a negative errno (logged).
 */
int worker_init(worker_t *w, unsigned index, const config_t *config, api_t *api,
                unsigned pool_size, unsigned queue_limit);

/**
 * Tells the worker of every worker's pool slices (pools[workers * (1 +
 * replicas)], worker by worker, each primary first then its replicas,
 * which must outlive it) for the figures its requests report process-wide,
 * and of the servers' health. Call before worker_start().
 */
void worker_share_pools(worker_t *w, db_pool_t *const *pools, unsigned workers,
                        db_targets_t *targets);

/** Tells the worker of the process's rate limiter (which must outlive it). */
void worker_share_limiter(worker_t *w, rate_limiter_t *limiter);

/**
 * Tells the worker of the process's answer cache (which must outlive it),
 * before worker_start(). Returns 0 or a negative errno.
 */
int worker_share_cache(worker_t *w, read_cache_t *cache);

/**
 * Makes api the worker's routes for the requests that start from now on
 * (takes its own reference); requests in flight finish on the old one.
 * Safe from any thread.
 */
void worker_set_api(worker_t *w, api_t *api);

/** Runs the worker's loop on a new thread. */
int worker_start(worker_t *w);

/** Asks the worker to drain and stop; safe from any thread. */
void worker_request_stop(worker_t *w);

/** Waits for the thread to end; the worker's exit status. */
int worker_join(worker_t *w);

#endif
