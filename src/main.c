/* queryd: wiring only. Reads the configuration, starts the workers, waits for
 * SIGINT or SIGTERM (reloading the endpoints on SIGHUP), and stops everything
 * in order. */
#include <arpa/inet.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "auth/rate_limit.h"
#include "core/config.h"
#include "core/log.h"
#include "core/scope.h"
#include "server/api_load.h"
#include "server/worker.h"

/* The identities whose rates are remembered at once: bounded memory whatever
 * the number of callers (the limiter forgets full buckets first). */
enum { RATE_LIMITER_IDENTITIES = 65536 };

static void stop_signals_set(sigset_t *set)
{
        sigemptyset(set);
        sigaddset(set, SIGINT);
        sigaddset(set, SIGTERM);
        sigaddset(set, SIGHUP);
}

/* Blocked from the first instruction, so that a stop request arriving while
 * queryd starts is waited for instead of killing it; worker threads inherit
 * the mask, so only the main thread's sigwait sees these signals. */
static void block_stop_signals(void)
{
        sigset_t set;

        stop_signals_set(&set);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
}

/* Every client connection and every database connection is a descriptor:
 * the default soft limit of 1024 would cap concurrency well below the hard one. */
static void raise_descriptor_limit(void)
{
        struct rlimit limit;

        if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
                limit.rlim_cur = limit.rlim_max;
                setrlimit(RLIMIT_NOFILE, &limit);
        }
}

/* A reload waits this long for the database; the old routes serve meanwhile. */
enum { RELOAD_WAIT_MS = 5000 };

static void reload(const config_t *config, worker_t *all, unsigned count)
{
        char err[1024];
        bool unreachable;
        api_t *api = api_load(config, RELOAD_WAIT_MS, err, sizeof(err), &unreachable);

        if (api == NULL) {
                log_error("configuration reload rejected, the previous one stays: %s", err);
                return;
        }
        for (unsigned i = 0; i < count; i++)
                worker_set_api(&all[i], api);
        log_info("configuration reloaded from %s%s: %zu resources, %zu queries",
                 config->config_path ? config->config_path : "the database schema",
                 config->config_path && api->schema ? " and the database schema" : "",
                 api->resource_count, api->query_count);
        api_unref(api);
}

/* Worker index's part of total, split as evenly as whole numbers allow. */
static unsigned share(unsigned total, unsigned workers, unsigned index)
{
        return total / workers + (index < total % workers);
}

/* Every worker's pool slices, told to every worker for the process-wide
 * figures its requests report; the caller frees the array after the joins. */
static db_pool_t **share_pools(worker_t *all, unsigned count, db_targets_t *targets)
{
        unsigned per_worker = db_targets_count(targets);
        db_pool_t **pools = calloc(count ? count * per_worker : 1, sizeof(*pools));

        if (pools == NULL)
                abort(); /* a few pointers at start: nothing sane to do without them */
        for (unsigned i = 0; i < count; i++) {
                pools[i * per_worker] = all[i].pool;
                for (unsigned r = 1; r < per_worker; r++)
                        pools[i * per_worker + r] = all[i].replica_pools[r - 1];
        }
        for (unsigned i = 0; i < count; i++)
                worker_share_pools(&all[i], pools, count, targets);
        return pools;
}

/* Without "auth" every caller reads everything: fine on loopback, worth a
 * word anywhere else. */
static void warn_if_open(const config_t *config, const api_t *api)
{
        struct in6_addr v6;
        struct in_addr v4;
        const char *host = config->listen_host;
        bool loopback = strcmp(host, "localhost") == 0 ||
                        (inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
                        (inet_pton(AF_INET6, host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));

        if (api->auth == NULL && !loopback)
                log_warn("listening on %s with no \"auth\" section: every caller who can reach "
                         "it may read every entry", host);
}

static int run(const config_t *config, api_t *api)
{
        unsigned workers = config->workers < config->pool_size ? config->workers : config->pool_size;
        worker_t *all = calloc(workers, sizeof(*all));
        unsigned ready = 0;
        int status = 0;
        sigset_t stop_signals;
        int sig;

        if (all == NULL)
                return 1;
        stop_signals_set(&stop_signals);
        for (; ready < workers; ready++) {
                if (worker_init(&all[ready], ready, config, api,
                                share(config->pool_size, workers, ready),
                                share(config->queue_limit, workers, ready)) < 0) {
                        status = 1;
                        break;
                }
        }
        db_targets_t *targets;
        if (db_targets_new(&targets, config) < 0)
                abort(); /* a few threads at start: nothing sane to do without them */
        db_pool_t **pools = share_pools(all, ready, targets);
        rate_limiter_t *limiter = rate_limiter_new(RATE_LIMITER_IDENTITIES);
        if (limiter == NULL)
                abort(); /* out of memory at start */
        for (unsigned i = 0; i < ready; i++)
                worker_share_limiter(&all[i], limiter);
        read_cache_t *cache = read_cache_new(config->cache_bytes);
        if (cache == NULL)
                abort(); /* out of memory at start */
        for (unsigned i = 0; i < ready; i++)
                if (worker_share_cache(&all[i], cache) < 0)
                        abort();
        /* Workers that were set up run even when a later one failed, so that
         * the ordinary stop below releases what they hold. */
        for (unsigned i = 0; i < ready; i++)
                if (worker_start(&all[i]) < 0)
                        abort(); /* cannot create a thread at start: nothing sane to do */
        if (status == 0) {
                log_info("queryd listening on http://%s:%u with %u workers and %u connections to %s",
                         config->listen_host, config->listen_port, workers, config->pool_size,
                         config->database_url_redacted);
                if (config->admin_port != 0)
                        log_info("/metrics, /healthz and /readyz on http://%s:%u",
                                 config->admin_host, config->admin_port);
                while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP)
                        reload(config, all, ready);
                log_info("signal %d: draining and stopping", sig);
        }
        for (unsigned i = 0; i < ready; i++)
                worker_request_stop(&all[i]);
        for (unsigned i = 0; i < ready; i++)
                if (worker_join(&all[i]) != 0)
                        status = 1;
        free(pools);
        db_targets_free(targets);
        free(all);
        rate_limiter_free(limiter);
        read_cache_free(cache);
        return status;
}

int main(int argc, char **argv)
{
        config_t config;
        char err[1024];

        block_stop_signals();
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(config_help, stdout);
                return 0;
        }
        if (argc > 1) {
                fprintf(stderr, "queryd: unexpected argument '%s' (configuration comes from the "
                                "environment; see --help)\n", argv[1]);
                return 2;
        }
        if (config_from_env(&config, err, sizeof(err)) < 0) {
                fprintf(stderr, "queryd: %s\n", err);
                return 2;
        }
        if (mysql_library_init(0, NULL, NULL) != 0) {
                fprintf(stderr, "queryd: cannot initialise the MariaDB client library\n");
                config_done(&config);
                return 1;
        }
        raise_descriptor_limit();
        bool unreachable;
        api_t *api = api_load(&config, config.start_timeout_ms, err, sizeof(err), &unreachable);
        if (api == NULL) {
                fprintf(stderr, "queryd: %s\n", err);
                mysql_library_end();
                config_done(&config);
                return unreachable ? 1 : 2;
        }
        warn_if_open(&config, api);
        int status = run(&config, api);
        api_unref(api);
        mysql_library_end();
        config_done(&config);
        if (scope_live_count() != 0) {
                log_error("%ld request scopes leaked", scope_live_count());
                status = 1;
        }
        log_info("stopped");
        return status;
}
