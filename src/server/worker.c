/* Worker threads: set up on the main thread (so a bad listen address is
 * reported before anything runs), then each runs its loop until stopped. */
#include "server/worker.h"

#include <errno.h>
#include <mysql.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "request/read_cache.h"
#include "server/dispatch.h"

/* Verified bearer tokens a worker remembers; one without exp is checked
 * again after the maximum age. */
enum { TOKEN_CACHE_SIZE = 4096, TOKEN_CACHE_MAX_AGE_S = 300 };

/* The pool reports; this layer logs. */
static void pool_state_cb(bool up, unsigned err, const char *message, void *data)
{
        (void)data;
        if (up)
                log_info("database reachable again");
        else
                log_error("database unreachable: %s (errno %u)", message, err);
}

static void replica_state_cb(bool up, unsigned err, const char *message, void *data)
{
        const db_target_t *replica = data;

        if (up)
                log_info("replica %s reachable again", replica->hosts[0].name);
        else
                log_error("replica %s unreachable: %s (errno %u)", replica->hosts[0].name,
                          message, err);
}

static void pool_closed_cb(void *arg)
{
        worker_t *w = arg;

        if (--w->pools_open > 0)
                return;
        uv_close((uv_handle_t *)&w->stop_signal, NULL);
        uv_close((uv_handle_t *)&w->api_signal, NULL);
        read_cache_waker_close(w->shared.cache_waker);
}

static void api_cb(uv_async_t *async)
{
        worker_t *w = async->data;

        pthread_mutex_lock(&w->next_api_lock);
        api_t *next = w->next_api;
        w->next_api = NULL;
        pthread_mutex_unlock(&w->next_api_lock);
        if (next == NULL)
                return;
        api_unref(w->api);
        w->api = next;
        /* The keys and checks may have changed with the file: tokens are
         * verified again, and requests still on the old api add none. */
        token_cache_clear(w->shared.tokens);
        w->shared.tokens_api = next;
        /* Answers of the old entries go too; those still being read on it
         * are not kept (read_cache.c). */
        read_cache_clear(w->shared.cache);
}

void worker_set_api(worker_t *w, api_t *api)
{
        api_ref(api);
        pthread_mutex_lock(&w->next_api_lock);
        api_t *replaced = w->next_api; /* two reloads within one loop turn */
        w->next_api = api;
        pthread_mutex_unlock(&w->next_api_lock);
        if (replaced != NULL)
                api_unref(replaced);
        uv_async_send(&w->api_signal);
}

static void http_stopped_cb(void *data)
{
        worker_t *w = data;

        /* Every request of every server has completed, so every lease is
         * back: close the pool. */
        if (--w->servers_running > 0)
                return;
        w->pools_open = 1 + w->config->replica_count;
        for (unsigned i = 0; i < w->config->replica_count; i++)
                db_pool_close(w->replica_pools[i], pool_closed_cb, w);
        db_pool_close(w->pool, pool_closed_cb, w);
}

static void stop_cb(uv_async_t *async)
{
        worker_t *w = async->data;

        http_server_stop(w->http, w->config->drain_timeout_ms, http_stopped_cb, w);
        if (w->admin_http != NULL)
                http_server_stop(w->admin_http, w->config->drain_timeout_ms, http_stopped_cb, w);
}

/* Requests have completed, so the worker holds the last of its references. */
static void drop_apis(worker_t *w)
{
        api_unref(w->api);
        if (w->next_api != NULL)
                api_unref(w->next_api);
        w->api = w->next_api = NULL;
        pthread_mutex_destroy(&w->next_api_lock);
}

/* The worker's share of a process-wide figure, rounded up: the kernel
 * spreads connections over the workers' sockets unevenly. */
static unsigned share_of(unsigned total, const config_t *c)
{
        unsigned workers = c->workers < c->pool_size ? c->workers : c->pool_size;

        return (total + workers - 1) / workers;
}

static int start_http(worker_t *w)
{
        const config_t *c = w->config;
        http_options_t options = {
                .listen_host = c->listen_host,
                .listen_port = c->listen_port,
                .max_connections = share_of(c->max_connections, c),
                .max_connections_per_ip = share_of(c->max_connections_per_ip, c),
                .idle_timeout_ms = c->idle_timeout_ms,
                .header_timeout_ms = c->header_timeout_ms,
                /* The longest a database request may take: waiting for a
                 * connection, then running. */
                .default_deadline_ms = c->acquire_timeout_ms + c->query_timeout_ms + 1000,
                .max_body_bytes = c->max_body_bytes,
                .cors_origins = c->cors_origins,
                .access_log = c->access_log != 0,
                .id_salt = w->index,
                .codings = c->codings,
                .coding_count = c->coding_count,
        };

        int r = http_server_new(&w->http, &w->loop, &options, dispatch_request, w);
        if (r == 0)
                w->servers_running++;
        return r;
}

/* Probes and scrapes need few connections; they get no CORS. */
enum { ADMIN_MAX_CONNECTIONS = 64 };

static int start_admin_http(worker_t *w)
{
        const config_t *c = w->config;
        http_options_t options = {
                .listen_host = c->admin_host,
                .listen_port = c->admin_port,
                .max_connections = ADMIN_MAX_CONNECTIONS,
                .idle_timeout_ms = c->idle_timeout_ms,
                .header_timeout_ms = c->header_timeout_ms,
                .default_deadline_ms = c->acquire_timeout_ms + c->query_timeout_ms + 1000,
                .max_body_bytes = c->max_body_bytes,
                .access_log = c->access_log != 0,
                .id_salt = c->workers, /* no worker has this index */
        };

        for (size_t i = 0; i < ROUTES_ADMIN_COUNT; i++) {
                w->admin_routes[i] = routes_admin[i];
                w->admin_routes[i].metrics_slot = metrics_route_slot(routes_admin[i].template);
        }
        int r = http_server_new(&w->admin_http, &w->loop, &options, dispatch_admin, w);
        if (r == 0)
                w->servers_running++;
        return r;
}

static int start_pool(worker_t *w, unsigned size, unsigned queue_limit)
{
        db_pool_options_t options = {
                .target = &w->config->db,
                .time_zone = w->config->time_zone,
                .size = size,
                .queue_limit = queue_limit,
                .state_cb = pool_state_cb,
                .state_data = w,
                /* Writes say where they committed when reads may go elsewhere:
                 * to a replica, or to another node of a host list (Galera). */
                .track_position = w->config->replica_count > 0 || w->config->db.host_count > 1,
        };
        int r = db_pool_new(&w->pool, &w->loop, &options);

        for (unsigned i = 0; r == 0 && i < w->config->replica_count; i++) {
                options = (db_pool_options_t){
                        .target = &w->config->replicas[i],
                        .time_zone = w->config->time_zone,
                        .size = share_of(w->config->replica_pool_size, w->config),
                        .queue_limit = queue_limit,
                        .state_cb = replica_state_cb,
                        .state_data = (void *)&w->config->replicas[i],
                };
                r = db_pool_new(&w->replica_pools[i], &w->loop, &options);
        }
        return r;
}

static void share_with_requests(worker_t *w, token_cache_t *tokens)
{
        w->shared = (env_shared_t){
                .config = w->config,
                .loop = &w->loop,
                .primary = w->pool,
                .target_count = 1 + w->config->replica_count,
                .all_pools = w->shared.pools,
                .worker_count = 1,
                .tokens = tokens,
                .tokens_api = w->api,
        };
        w->shared.pools[0] = w->pool;
        for (unsigned i = 0; i < w->config->replica_count; i++)
                w->shared.pools[1 + i] = w->replica_pools[i];
        list_init(&w->shared.open_item_batches);
}

int worker_init(worker_t *w, unsigned index, const config_t *config, api_t *api,
                unsigned pool_size, unsigned queue_limit)
{
        int r;

        memset(w, 0, sizeof(*w));
        w->index = index;
        w->config = config;
        token_cache_t *tokens = token_cache_new(TOKEN_CACHE_SIZE, TOKEN_CACHE_MAX_AGE_S);
        if (tokens == NULL)
                return -ENOMEM;
        r = uv_loop_init(&w->loop);
        if (r < 0) {
                token_cache_free(tokens);
                return r;
        }
        api_ref(api);
        w->api = api;
        pthread_mutex_init(&w->next_api_lock, NULL);
        uv_async_init(&w->loop, &w->stop_signal, stop_cb);
        w->stop_signal.data = w;
        uv_async_init(&w->loop, &w->api_signal, api_cb);
        w->api_signal.data = w;
        r = start_http(w);
        if (r == 0 && index == 0 && config->admin_port != 0)
                r = start_admin_http(w);
        if (r == 0)
                r = start_pool(w, pool_size, queue_limit);
        if (r == 0) {
                share_with_requests(w, tokens);
                return 0;
        }
        token_cache_free(tokens);
        /* Only the signals (and possibly the HTTP servers) exist: undo them. */
        if (w->http != NULL)
                http_server_stop(w->http, 0, NULL, NULL);
        if (w->admin_http != NULL)
                http_server_stop(w->admin_http, 0, NULL, NULL);
        uv_close((uv_handle_t *)&w->stop_signal, NULL);
        uv_close((uv_handle_t *)&w->api_signal, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        http_server_free(w->http);
        http_server_free(w->admin_http);
        uv_loop_close(&w->loop);
        drop_apis(w);
        return r;
}

void worker_share_pools(worker_t *w, db_pool_t *const *pools, unsigned workers,
                        db_targets_t *targets)
{
        w->shared.all_pools = pools;
        w->shared.worker_count = workers;
        w->shared.targets = targets;
}

void worker_share_limiter(worker_t *w, rate_limiter_t *limiter)
{
        w->shared.limiter = limiter;
}

int worker_share_cache(worker_t *w, read_cache_t *cache)
{
        int r = read_cache_waker_new(cache, &w->loop, &w->shared.cache_waker);

        if (r == 0)
                w->shared.cache = cache;
        return r;
}

static void *worker_main(void *arg)
{
        worker_t *w = arg;

        uv_run(&w->loop, UV_RUN_DEFAULT);
        drop_apis(w);
        token_cache_free(w->shared.tokens);
        unsigned leaked = db_pool_free(w->pool);
        for (unsigned i = 0; i < w->config->replica_count; i++)
                leaked += db_pool_free(w->replica_pools[i]);
        http_server_free(w->http);
        http_server_free(w->admin_http);
        if (leaked > 0) {
                log_error("worker %u: %u database connections leaked by requests", w->index, leaked);
                w->exit_status = 1;
        }
        if (uv_loop_close(&w->loop) != 0) {
                log_error("worker %u: handles leaked at shutdown", w->index);
                w->exit_status = 1;
        }
        mysql_thread_end();
        return NULL;
}

int worker_start(worker_t *w)
{
        return -pthread_create(&w->thread, NULL, worker_main, w);
}

void worker_request_stop(worker_t *w)
{
        uv_async_send(&w->stop_signal);
}

int worker_join(worker_t *w)
{
        pthread_join(w->thread, NULL);
        return w->exit_status;
}
