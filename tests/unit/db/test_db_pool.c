/*
 * Unit tests for the connection pool with a real libuv loop and no database:
 * the URL points at a TCP port on 127.0.0.1 that nothing listens on, so every
 * connect attempt is refused. Covers failing fast while the database is down,
 * waiters failed with -ENOTCONN or -ESHUTDOWN exactly once, the database
 * reported unreachable once through the state callback, the queue limit
 * (requests riding on a queued lease included), and a shutdown that leaves no handle, scope or lease behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <mysql.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/scope.h"
#include "db/db_pool.h"
#include "test.h"

/* MAX_WAIT_MS: how long run_until() waits for the pool to notice a refused
 * connect or to close. Both take milliseconds, so only a failing test waits
 * that long, and a loaded machine never comes near it. */
enum { POOL_SIZE = 2, MAX_WAIT_MS = 10000, MAX_WAITERS = 8 };

/* ---- the environment each test runs in ---- */

typedef struct waiter {
        scope_t *scope;
        db_lease_t *lease;
        int calls;
        int status;
        bool had_conn;       /* lease->conn was set when cb ran */
        bool close_in_cb;    /* close the request's scope from the callback */
} waiter_t;

typedef struct fixture {
        uv_loop_t loop;
        uv_timer_t tick;     /* keeps UV_RUN_ONCE from blocking on a long backoff */
        config_t config;
        db_pool_t *pool;
        int closed_calls;
        int down_reports;    /* state_cb calls saying the database is unreachable */
        int up_reports;
        waiter_t waiters[MAX_WAITERS];
} fixture_t;

static unsigned closed_port;

/* A port on 127.0.0.1 that was free a moment ago and now has no listener. */
static unsigned find_closed_port(void)
{
        struct sockaddr_in addr;
        socklen_t len = sizeof(addr);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        unsigned port = 0;

        if (fd < 0)
                return 0;
        memset(&addr, 0, sizeof(addr));
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
                port = ntohs(addr.sin_port);
        close(fd);
        return port;
}

static void tick_cb(uv_timer_t *timer)
{
        (void)timer;
}

static void lease_cb(db_lease_t *lease, int status, void *data)
{
        waiter_t *w = data;

        w->calls++;
        w->status = status;
        w->had_conn = lease->conn != NULL;
        if (w->close_in_cb && w->scope != NULL) {
                scope_close(w->scope);
                w->scope = NULL;
        }
}

static void state_cb(bool up, unsigned err, const char *message, void *data)
{
        fixture_t *f = data;

        (void)err;
        (void)message;
        if (up)
                f->up_reports++;
        else
                f->down_reports++;
}

static void closed_cb(void *arg)
{
        fixture_t *f = arg;

        f->closed_calls++;
}

/* Sets up a loop and a pool of POOL_SIZE connections aimed at the closed port. */
static bool fixture_init(fixture_t *f, unsigned queue_limit)
{
        char url[128], err[256] = "";

        memset(f, 0, sizeof(*f));
        snprintf(url, sizeof(url), "mysql://queryd:not-a-secret@127.0.0.1:%u/queryd", closed_port);
        ASSERT_EQ_INT(config_parse_database_url(url, &f->config.db, err, sizeof(err)), 0);
        snprintf(f->config.time_zone, sizeof(f->config.time_zone), "+00:00");
        f->config.pool_size = POOL_SIZE;
        f->config.queue_limit = queue_limit;
        f->config.query_timeout_ms = 1000;
        f->config.workers = 1;
        ASSERT_EQ_INT(uv_loop_init(&f->loop), 0);
        ASSERT_EQ_INT(uv_timer_init(&f->loop, &f->tick), 0);
        uv_timer_start(&f->tick, tick_cb, 10, 10);
        db_pool_options_t options = {
                .target = &f->config.db,
                .time_zone = f->config.time_zone,
                .size = POOL_SIZE,
                .queue_limit = queue_limit,
                .state_cb = state_cb,
                .state_data = f,
        };
        int r = db_pool_new(&f->pool, &f->loop, &options);
        ASSERT_EQ_INT(r, 0);
        ASSERT_NOT_NULL(f->pool);
        return r == 0 && f->pool != NULL;
}

/* Turns the loop until done(f) holds or MAX_WAIT_MS pass; whether it held. */
static bool run_until(fixture_t *f, bool (*done)(fixture_t *f))
{
        uint64_t deadline = uv_hrtime() + (uint64_t)MAX_WAIT_MS * 1000000u;

        while (!done(f)) {
                if (uv_hrtime() > deadline)
                        return false;
                uv_run(&f->loop, UV_RUN_ONCE);
        }
        return true;
}

/* Turns the loop for about ms milliseconds whatever happens. */
static void run_for(fixture_t *f, unsigned ms)
{
        uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000u;

        while (uv_hrtime() < deadline)
                uv_run(&f->loop, UV_RUN_ONCE);
}

static bool pool_is_down(fixture_t *f)
{
        return !db_pool_is_up(f->pool);
}

static bool pool_is_closed(fixture_t *f)
{
        return f->closed_calls > 0;
}

static void walk_cb(uv_handle_t *handle, void *arg)
{
        int *open = arg;

        if (!uv_is_closing(handle)) {
                (*open)++;
                fprintf(stderr, "  handle still open: %s\n", uv_handle_type_name(handle->type));
        }
}

/*
 * Closes the pool and checks the whole shutdown: closed_cb once, the loop
 * running dry, no leaked lease, uv_loop_close() == 0 and no live scope.
 */
static void fixture_done(fixture_t *f)
{
        for (int i = 0; i < MAX_WAITERS; i++) {
                if (f->waiters[i].scope != NULL) {
                        scope_close(f->waiters[i].scope);
                        f->waiters[i].scope = NULL;
                }
        }
        db_pool_close(f->pool, closed_cb, f);
        ASSERT_TRUE(run_until(f, pool_is_closed));
        ASSERT_EQ_INT(f->closed_calls, 1);
        uv_close((uv_handle_t *)&f->tick, NULL);
        /* Everything is closing: the loop must now run dry by itself. */
        ASSERT_EQ_INT(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
        ASSERT_EQ_INT(f->closed_calls, 1);
        int open = 0;
        uv_walk(&f->loop, walk_cb, &open);
        ASSERT_EQ_INT(open, 0);
        ASSERT_EQ_UINT(db_pool_free(f->pool), 0);
        f->pool = NULL;
        ASSERT_EQ_INT(uv_loop_close(&f->loop), 0);
        config_done(&f->config);
        ASSERT_EQ_INT(scope_live_count(), 0);
}

static int acquire(fixture_t *f, int i)
{
        waiter_t *w = &f->waiters[i];

        w->scope = scope_new();
        ASSERT_NOT_NULL(w->scope);
        return db_pool_acquire(f->pool, w->scope, lease_cb, w, &w->lease);
}

static void check_stats(fixture_t *f, unsigned idle, unsigned busy, unsigned waiting,
                        const char *file, int line)
{
        db_pool_stats_t s;

        memset(&s, 0xFF, sizeof(s));
        db_pool_get_stats(f->pool, &s);
        test_check_uint(s.size, POOL_SIZE, file, line, "stats.size", "POOL_SIZE");
        test_check_uint(s.idle, idle, file, line, "stats.idle", "idle");
        test_check_uint(s.busy, busy, file, line, "stats.busy", "busy");
        test_check_uint(s.waiting, waiting, file, line, "stats.waiting", "waiting");
}

#define ASSERT_STATS(f, idle, busy, waiting) \
        check_stats((f), (idle), (busy), (waiting), __FILE__, __LINE__)

/* ---- tests ---- */

static void test_new_pool_is_up_until_tried(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        /* Nothing has been tried on the loop yet. */
        ASSERT_TRUE(db_pool_is_up(f.pool));
        ASSERT_EQ_INT(f.down_reports, 0);
        ASSERT_STATS(&f, 0, 0, 0);
        fixture_done(&f);
}

static void test_waiter_queued_before_failure_gets_enotconn_once(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        waiter_t *w = &f.waiters[0];
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        ASSERT_NOT_NULL(w->lease);
        /* Never called back from inside acquire. */
        ASSERT_EQ_INT(w->calls, 0);
        ASSERT_STATS(&f, 0, 0, 1);

        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_EQ_INT(w->calls, 1);
        ASSERT_EQ_INT(w->status, -ENOTCONN);
        ASSERT_FALSE(w->had_conn);
        ASSERT_STATS(&f, 0, 0, 0);

        /* Reconnect attempts go on failing; the waiter hears nothing more,
         * and the pool reported the database unreachable once. */
        run_for(&f, 400);
        ASSERT_EQ_INT(w->calls, 1);
        ASSERT_EQ_INT(f.down_reports, 1);
        ASSERT_EQ_INT(f.up_reports, 0);
        ASSERT_FALSE(db_pool_is_up(f.pool));
        ASSERT_STATS(&f, 0, 0, 0);

        scope_close(w->scope);
        w->scope = NULL;
        ASSERT_EQ_INT(w->calls, 1);
        fixture_done(&f);
        ASSERT_EQ_INT(w->calls, 1);
}

static void test_fail_fast_while_down(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_FALSE(db_pool_is_up(f.pool));
        ASSERT_STATS(&f, 0, 0, 0);

        waiter_t *w = &f.waiters[0];
        ASSERT_EQ_INT(acquire(&f, 0), -ENOTCONN);
        ASSERT_STATS(&f, 0, 0, 0);
        /* An error return means the callback never runs. */
        run_for(&f, 200);
        ASSERT_EQ_INT(w->calls, 0);
        ASSERT_EQ_INT(acquire(&f, 1), -ENOTCONN);
        run_for(&f, 50);
        ASSERT_EQ_INT(f.waiters[1].calls, 0);
        fixture_done(&f);
        ASSERT_EQ_INT(w->calls, 0);
}

static void test_waiters_closing_their_scope_in_the_callback(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        for (int i = 0; i < 3; i++) {
                f.waiters[i].close_in_cb = true;
                ASSERT_EQ_INT(acquire(&f, i), 0);
        }
        ASSERT_STATS(&f, 0, 0, 3);
        ASSERT_TRUE(run_until(&f, pool_is_down));
        for (int i = 0; i < 3; i++) {
                ASSERT_EQ_INT(f.waiters[i].calls, 1);
                ASSERT_EQ_INT(f.waiters[i].status, -ENOTCONN);
                ASSERT_NULL(f.waiters[i].scope);
        }
        ASSERT_STATS(&f, 0, 0, 0);
        ASSERT_EQ_INT(scope_live_count(), 0);
        fixture_done(&f);
}

static void test_queue_limit_zero(void)
{
        fixture_t f;

        if (!fixture_init(&f, 0))
                return;
        /* No idle connection yet and no room to wait: refused at once. */
        ASSERT_TRUE(db_pool_is_up(f.pool));
        ASSERT_EQ_INT(acquire(&f, 0), -EAGAIN);
        ASSERT_STATS(&f, 0, 0, 0);
        ASSERT_TRUE(run_until(&f, pool_is_down));
        /* Once the database is known down, that is the answer. */
        ASSERT_EQ_INT(acquire(&f, 1), -ENOTCONN);
        run_for(&f, 50);
        ASSERT_EQ_INT(f.waiters[0].calls, 0);
        ASSERT_EQ_INT(f.waiters[1].calls, 0);
        fixture_done(&f);
}

static void test_queue_limit_bounds_waiters(void)
{
        fixture_t f;

        if (!fixture_init(&f, 2))
                return;
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        ASSERT_EQ_INT(acquire(&f, 1), 0);
        ASSERT_EQ_INT(acquire(&f, 2), -EAGAIN);
        ASSERT_STATS(&f, 0, 0, 2);
        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_EQ_INT(f.waiters[0].calls, 1);
        ASSERT_EQ_INT(f.waiters[0].status, -ENOTCONN);
        ASSERT_EQ_INT(f.waiters[1].calls, 1);
        ASSERT_EQ_INT(f.waiters[1].status, -ENOTCONN);
        ASSERT_EQ_INT(f.waiters[2].calls, 0);
        ASSERT_STATS(&f, 0, 0, 0);
        fixture_done(&f);
}

static void test_riders_count_as_waiters(void)
{
        fixture_t f;

        if (!fixture_init(&f, 3))
                return;
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        db_lease_t *lease = f.waiters[0].lease;
        /* Two more requests will share the lease's statement. */
        ASSERT_EQ_INT(db_pool_add_rider(lease), 0);
        ASSERT_EQ_INT(db_pool_add_rider(lease), 0);
        ASSERT_STATS(&f, 0, 0, 3);
        ASSERT_EQ_INT(db_pool_add_rider(lease), -EAGAIN);
        ASSERT_EQ_INT(acquire(&f, 1), -EAGAIN);
        /* One of them stops waiting: room for another waiter. */
        db_pool_drop_rider(lease);
        ASSERT_STATS(&f, 0, 0, 2);
        ASSERT_EQ_INT(acquire(&f, 2), 0);
        ASSERT_STATS(&f, 0, 0, 3);
        /* Leaving the queue takes the lease's riders along. */
        db_pool_release(lease);
        ASSERT_STATS(&f, 0, 0, 1);
        ASSERT_EQ_INT(db_pool_add_rider(lease), -EALREADY);
        db_pool_drop_rider(lease); /* no longer queued: nothing to drop */
        ASSERT_STATS(&f, 0, 0, 1);
        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_EQ_INT(f.waiters[0].calls, 0);
        ASSERT_EQ_INT(f.waiters[2].calls, 1);
        ASSERT_STATS(&f, 0, 0, 0);
        fixture_done(&f);
}

static void test_scope_closed_while_waiting_leaves_the_queue(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        ASSERT_EQ_INT(acquire(&f, 1), 0);
        ASSERT_STATS(&f, 0, 0, 2);
        /* The first request goes away (say the client hung up). */
        scope_close(f.waiters[0].scope);
        f.waiters[0].scope = NULL;
        ASSERT_STATS(&f, 0, 0, 1);
        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_EQ_INT(f.waiters[0].calls, 0);
        ASSERT_EQ_INT(f.waiters[1].calls, 1);
        ASSERT_EQ_INT(f.waiters[1].status, -ENOTCONN);
        fixture_done(&f);
}

static void test_release_while_waiting(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        db_pool_release(f.waiters[0].lease);
        ASSERT_STATS(&f, 0, 0, 0);
        db_pool_release(f.waiters[0].lease); /* twice is harmless */
        ASSERT_TRUE(run_until(&f, pool_is_down));
        ASSERT_EQ_INT(f.waiters[0].calls, 0);
        fixture_done(&f);
        ASSERT_EQ_INT(f.waiters[0].calls, 0);
}

static void test_close_fails_waiters_with_eshutdown(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        ASSERT_EQ_INT(acquire(&f, 0), 0);
        ASSERT_EQ_INT(acquire(&f, 1), 0);
        db_pool_close(f.pool, closed_cb, &f);
        /* Failing every waiter is part of closing. */
        ASSERT_EQ_INT(f.waiters[0].calls, 1);
        ASSERT_EQ_INT(f.waiters[0].status, -ESHUTDOWN);
        ASSERT_EQ_INT(f.waiters[1].calls, 1);
        ASSERT_EQ_INT(f.waiters[1].status, -ESHUTDOWN);
        ASSERT_STATS(&f, 0, 0, 0);
        ASSERT_EQ_INT(acquire(&f, 2), -ESHUTDOWN);

        ASSERT_TRUE(run_until(&f, pool_is_closed));
        ASSERT_EQ_INT(f.closed_calls, 1);
        for (int i = 0; i < 3; i++) {
                scope_close(f.waiters[i].scope);
                f.waiters[i].scope = NULL;
        }
        uv_close((uv_handle_t *)&f.tick, NULL);
        ASSERT_EQ_INT(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
        ASSERT_EQ_INT(f.closed_calls, 1);
        ASSERT_EQ_INT(f.waiters[0].calls, 1);
        ASSERT_EQ_INT(f.waiters[1].calls, 1);
        ASSERT_EQ_INT(f.waiters[2].calls, 0);
        ASSERT_EQ_UINT(db_pool_free(f.pool), 0);
        ASSERT_EQ_INT(uv_loop_close(&f.loop), 0);
        config_done(&f.config);
        ASSERT_EQ_INT(scope_live_count(), 0);
}

static void test_close_while_down(void)
{
        fixture_t f;

        if (!fixture_init(&f, 16))
                return;
        ASSERT_TRUE(run_until(&f, pool_is_down));
        /* Let a reconnect backoff be pending when the pool closes. */
        run_for(&f, 50);
        fixture_done(&f);
}

int main(void)
{
        mysql_library_init(0, NULL, NULL);
        closed_port = find_closed_port();
        ASSERT_TRUE(closed_port > 0);
        if (closed_port > 0) {
                RUN_TEST(test_new_pool_is_up_until_tried);
                RUN_TEST(test_waiter_queued_before_failure_gets_enotconn_once);
                RUN_TEST(test_fail_fast_while_down);
                RUN_TEST(test_waiters_closing_their_scope_in_the_callback);
                RUN_TEST(test_queue_limit_zero);
                RUN_TEST(test_queue_limit_bounds_waiters);
                RUN_TEST(test_riders_count_as_waiters);
                RUN_TEST(test_scope_closed_while_waiting_leaves_the_queue);
                RUN_TEST(test_release_while_waiting);
                RUN_TEST(test_close_fails_waiters_with_eshutdown);
                RUN_TEST(test_close_while_down);
        }
        ASSERT_EQ_INT(scope_live_count(), 0);
        mysql_library_end();
        return test_report();
}
