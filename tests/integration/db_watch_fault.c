/*
 * A pooled connection whose socket cannot be watched while a statement runs
 * on it, against a real MariaDB (the URL is the first argument). The pool and
 * the statement code are the real ones; the failures are injected by wrapping
 * library calls at link time (-Wl,--wrap): uv_poll_init_socket or
 * uv_poll_start fails on demand, and connecting (with the statement a new
 * session runs) completes without ever waiting, so a connection has no
 * socket watch until its first statement.
 *
 * The statement must end with an error at once (not at the request's
 * deadline), its connection must stay with its lease until the lease is
 * released, releasing that lease must not close a connection another lease
 * holds, and the pool must end with every connection back and nothing open.
 *
 * Usage: db_watch_fault URL poll-init|poll-start
 */
#include <errno.h>
#include <mysql.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "core/config.h"
#include "core/scope.h"
#include "db/db_conn.h"
#include "db/db_pool.h"
#include "db/db_query.h"
#include "test.h"

enum {
        POOL_SIZE = 2,
        QUEUE_LIMIT = 8,
        REQUESTS = 3,
        PROMPT_MS = 1000,  /* an error this late would be the deadline's */
        MAX_WAIT_MS = 5000,
        SETTLE_MS = 300,
};

/* ---- injected failures ---- */

static bool fail_poll_init;
static bool fail_poll_start;
static unsigned poll_inits_failed;
static unsigned poll_starts_failed;

int __real_uv_poll_init_socket(uv_loop_t *loop, uv_poll_t *handle, uv_os_sock_t socket);
int __real_uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);
int __real_mysql_close_start(MYSQL *mysql);

int __wrap_uv_poll_init_socket(uv_loop_t *loop, uv_poll_t *handle, uv_os_sock_t socket);
int __wrap_uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);
int __wrap_mysql_close_start(MYSQL *mysql);
int __wrap_mysql_real_connect_start(MYSQL **ret, MYSQL *mysql, const char *host, const char *user,
                                    const char *passwd, const char *db, unsigned int port,
                                    const char *unix_socket, unsigned long client_flags);

int __wrap_uv_poll_init_socket(uv_loop_t *loop, uv_poll_t *handle, uv_os_sock_t socket)
{
        if (fail_poll_init) {
                poll_inits_failed++;
                return UV_ENOMEM;
        }
        return __real_uv_poll_init_socket(loop, handle, socket);
}

int __wrap_uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb)
{
        if (fail_poll_start) {
                poll_starts_failed++;
                return UV_ENOMEM;
        }
        return __real_uv_poll_start(handle, events, cb);
}

/* A blocking connect inside the _start call: it returns having finished, so
 * the connection never waited for its socket and nothing watches it yet. */
int __wrap_mysql_real_connect_start(MYSQL **ret, MYSQL *mysql, const char *host, const char *user,
                                    const char *passwd, const char *db, unsigned int port,
                                    const char *unix_socket, unsigned long client_flags)
{
        *ret = mysql_real_connect(mysql, host, user, passwd, db, port, unix_socket, client_flags);
        return 0;
}

/* The statement a session runs when it opens (db_conn.c's probe) runs
 * blocking as well, result included, so that opening a session still never
 * waits for the socket. Every other text statement is left alone. */
int __real_mysql_real_query_start(int *ret, MYSQL *mysql, const char *q, unsigned long length);
int __real_mysql_store_result_start(MYSQL_RES **ret, MYSQL *mysql);
int __wrap_mysql_real_query_start(int *ret, MYSQL *mysql, const char *q, unsigned long length);
int __wrap_mysql_store_result_start(MYSQL_RES **ret, MYSQL *mysql);

static MYSQL *probing; /* the session whose probe's result comes next */

int __wrap_mysql_real_query_start(int *ret, MYSQL *mysql, const char *q, unsigned long length)
{
        static const char probe[] = "SELECT @@wsrep_on";

        if (length < sizeof(probe) - 1 || strncmp(q, probe, sizeof(probe) - 1) != 0)
                return __real_mysql_real_query_start(ret, mysql, q, length);
        *ret = mysql_real_query(mysql, q, length);
        probing = *ret == 0 ? mysql : NULL;
        return 0;
}

int __wrap_mysql_store_result_start(MYSQL_RES **ret, MYSQL *mysql)
{
        if (mysql != probing)
                return __real_mysql_store_result_start(ret, mysql);
        probing = NULL;
        *ret = mysql_store_result(mysql);
        return 0;
}

/* ---- requests ---- */

typedef struct request {
        scope_t *scope;
        db_lease_t *lease;     /* while held: acquired and not yet released */
        db_conn_t *conn;       /* the connection granted */
        int lease_calls;
        int lease_status;
        db_query_t query;
        int done_calls;
        int done_status;
        unsigned rows;
} request_t;

typedef struct fixture {
        uv_loop_t loop;
        uv_timer_t tick; /* keeps UV_RUN_ONCE from blocking */
        config_t config;
        db_pool_t *pool;
        int closed_calls;
        request_t requests[REQUESTS];
        unsigned double_lends;   /* a connection granted while another lease held it */
        unsigned held_closes;    /* a connection closed while a lease other than the releasing one held it */
        request_t *releasing;
} fixture_t;

static fixture_t *current;

/* Whether another request than r holds a lease on conn. */
static bool held_by_other(fixture_t *f, const request_t *r, const db_conn_t *conn)
{
        for (int i = 0; i < REQUESTS; i++) {
                const request_t *o = &f->requests[i];
                if (o != r && o->lease != NULL && o->conn == conn)
                        return true;
        }
        return false;
}

int __wrap_mysql_close_start(MYSQL *mysql)
{
        fixture_t *f = current;

        for (int i = 0; f != NULL && i < REQUESTS; i++) {
                request_t *o = &f->requests[i];
                if (o->lease != NULL && o != f->releasing && o->conn != NULL &&
                    o->conn->mysql == mysql) {
                        fprintf(stderr, "  the connection request %d holds is being closed\n", i);
                        f->held_closes++;
                }
        }
        return __real_mysql_close_start(mysql);
}

static void tick_cb(uv_timer_t *timer)
{
        (void)timer;
}

static void lease_cb(db_lease_t *lease, int status, void *data)
{
        request_t *r = data;

        r->lease_calls++;
        r->lease_status = status;
        if (status < 0) {
                r->lease = NULL;
                return;
        }
        r->conn = lease->conn;
        if (held_by_other(current, r, r->conn)) {
                fprintf(stderr, "  request %d got a connection another lease holds\n",
                        (int)(r - current->requests));
                current->double_lends++;
        }
}

static bool row_cb(db_query_t *q, void *data)
{
        request_t *r = data;

        (void)q;
        r->rows++;
        return true;
}

static void done_cb(db_query_t *q, int status, void *data)
{
        request_t *r = data;

        (void)q;
        r->done_calls++;
        r->done_status = status;
        /* The faulty statement is over: whatever comes next may watch sockets. */
        fail_poll_init = fail_poll_start = false;
}

static void closed_cb(void *arg)
{
        fixture_t *f = arg;

        f->closed_calls++;
}

/* Turns the loop until done(f, r) holds or ms pass; whether it held. */
static bool run_until(fixture_t *f, bool (*done)(fixture_t *f, request_t *r), request_t *r,
                      unsigned ms)
{
        uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000u;

        while (!done(f, r)) {
                if (uv_hrtime() > deadline)
                        return false;
                uv_run(&f->loop, UV_RUN_ONCE);
        }
        return true;
}

static void run_for(fixture_t *f, unsigned ms)
{
        uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000u;

        while (uv_hrtime() < deadline)
                uv_run(&f->loop, UV_RUN_ONCE);
}

static bool pool_settled(fixture_t *f, request_t *r)
{
        db_pool_stats_t s;

        (void)r;
        db_pool_get_stats(f->pool, &s);
        return s.idle == POOL_SIZE && s.busy == 0 && s.waiting == 0;
}

static bool granted(fixture_t *f, request_t *r)
{
        (void)f;
        return r->lease_calls > 0;
}

static bool finished(fixture_t *f, request_t *r)
{
        (void)f;
        return r->done_calls > 0;
}

static bool pool_closed(fixture_t *f, request_t *r)
{
        (void)r;
        return f->closed_calls > 0;
}

static bool fixture_init(fixture_t *f, const char *url)
{
        char err[256] = "";

        memset(f, 0, sizeof(*f));
        current = f;
        ASSERT_EQ_INT(config_parse_database_url(url, &f->config.db, err, sizeof(err)), 0);
        snprintf(f->config.time_zone, sizeof(f->config.time_zone), "+00:00");
        ASSERT_EQ_INT(uv_loop_init(&f->loop), 0);
        ASSERT_EQ_INT(uv_timer_init(&f->loop, &f->tick), 0);
        uv_timer_start(&f->tick, tick_cb, 10, 10);
        db_pool_options_t options = {
                .target = &f->config.db,
                .time_zone = f->config.time_zone,
                .size = POOL_SIZE,
                .queue_limit = QUEUE_LIMIT,
        };
        ASSERT_EQ_INT(db_pool_new(&f->pool, &f->loop, &options), 0);
        if (f->pool == NULL)
                return false;
        ASSERT_TRUE(run_until(f, pool_settled, NULL, MAX_WAIT_MS));
        return pool_settled(f, NULL);
}

static void acquire(fixture_t *f, request_t *r)
{
        r->scope = scope_new();
        ASSERT_NOT_NULL(r->scope);
        ASSERT_EQ_INT(db_pool_acquire(f->pool, r->scope, lease_cb, r, &r->lease), 0);
}

static void run_query(request_t *r, const char *sql)
{
        memset(&r->query, 0, sizeof(r->query));
        r->done_calls = 0;
        r->rows = 0;
        r->query.sql = sql;
        r->query.row_options.time_zone = "+00:00";
        r->query.row_cb = row_cb;
        r->query.done_cb = done_cb;
        r->query.data = r;
        db_query_run(&r->query, r->lease, r->scope);
}

/* A statement on r's connection that must succeed with one row. */
static void check_statement_runs(fixture_t *f, request_t *r, const char *sql)
{
        run_query(r, sql);
        ASSERT_TRUE(run_until(f, finished, r, MAX_WAIT_MS));
        ASSERT_EQ_INT(r->done_calls, 1);
        ASSERT_EQ_INT(r->done_status, 0);
        ASSERT_EQ_UINT(r->rows, 1);
}

static void release(fixture_t *f, request_t *r)
{
        if (r->lease == NULL)
                return;
        f->releasing = r;
        db_pool_release(r->lease);
        f->releasing = NULL;
        r->lease = NULL;
}

static void walk_cb(uv_handle_t *handle, void *arg)
{
        int *open = arg;

        if (!uv_is_closing(handle)) {
                (*open)++;
                fprintf(stderr, "  handle still open: %s\n", uv_handle_type_name(handle->type));
        }
}

/* Closes everything and checks that nothing is left: no lease, handle or scope. */
static void fixture_done(fixture_t *f)
{
        for (int i = 0; i < REQUESTS; i++) {
                release(f, &f->requests[i]);
                scope_close(f->requests[i].scope);
                f->requests[i].scope = NULL;
        }
        ASSERT_TRUE(run_until(f, pool_settled, NULL, MAX_WAIT_MS));
        db_pool_close(f->pool, closed_cb, f);
        bool closed = run_until(f, pool_closed, NULL, MAX_WAIT_MS);
        ASSERT_TRUE(closed);
        ASSERT_EQ_INT(f->closed_calls, 1);
        uv_close((uv_handle_t *)&f->tick, NULL);
        if (!closed) {
                current = NULL;
                return; /* the loop would not run dry: leave it */
        }
        ASSERT_EQ_INT(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
        int open = 0;
        uv_walk(&f->loop, walk_cb, &open);
        ASSERT_EQ_INT(open, 0);
        ASSERT_EQ_UINT(db_pool_free(f->pool), 0);
        ASSERT_EQ_INT(uv_loop_close(&f->loop), 0);
        config_done(&f->config);
        ASSERT_EQ_INT(scope_live_count(), 0);
        current = NULL;
}

/*
 * Request 0 runs a statement whose socket watch cannot be set up; requests
 * 1 and 2 then ask for connections while request 0 still holds its lease.
 */
static void check_unwatchable_statement(const char *url, bool *fault)
{
        static fixture_t f;
        request_t *a = &f.requests[0], *b = &f.requests[1], *c = &f.requests[2];

        if (!fixture_init(&f, url))
                return;
        acquire(&f, a);
        ASSERT_TRUE(run_until(&f, granted, a, MAX_WAIT_MS));
        ASSERT_EQ_INT(a->lease_status, 0);
        ASSERT_NOT_NULL(a->conn);

        *fault = true;
        uint64_t start = uv_hrtime();
        run_query(a, "SELECT 1");
        bool ended = run_until(&f, finished, a, MAX_WAIT_MS);
        uint64_t took_ms = (uv_hrtime() - start) / 1000000u;
        *fault = false;
        ASSERT_TRUE(poll_inits_failed + poll_starts_failed > 0);
        /* The statement ends with a client-level error, promptly. */
        ASSERT_TRUE(ended);
        ASSERT_TRUE(took_ms < PROMPT_MS);
        ASSERT_EQ_INT(a->done_calls, 1);
        ASSERT_EQ_INT(a->done_status, -EIO);
        ASSERT_TRUE(a->query.error.code >= 2000 && a->query.error.code < 3000);

        /* While request 0 holds its lease, only the other connection is lent. */
        acquire(&f, b);
        acquire(&f, c);
        run_for(&f, SETTLE_MS);
        ASSERT_EQ_INT(b->lease_calls + c->lease_calls, 1);
        ASSERT_TRUE(b->conn != a->conn);
        ASSERT_TRUE(c->conn != a->conn);
        request_t *first = b->lease_calls > 0 ? b : c;
        request_t *second = first == b ? c : b;
        ASSERT_EQ_INT(first->lease_status, 0);
        check_statement_runs(&f, first, "SELECT 2");

        /* Releasing request 0 reopens its connection for the one waiting. */
        release(&f, a);
        ASSERT_TRUE(run_until(&f, granted, second, MAX_WAIT_MS));
        ASSERT_EQ_INT(second->lease_calls, 1);
        ASSERT_EQ_INT(second->lease_status, 0);
        ASSERT_TRUE(second->conn != first->conn);
        check_statement_runs(&f, second, "SELECT 3");
        check_statement_runs(&f, first, "SELECT 4");

        ASSERT_EQ_UINT(f.double_lends, 0);
        ASSERT_EQ_UINT(f.held_closes, 0);
        release(&f, first);
        release(&f, second);
        /* Every connection comes back idle. */
        ASSERT_TRUE(run_until(&f, pool_settled, NULL, MAX_WAIT_MS));
        fixture_done(&f);
}

static const char *database_url;

static void test_poll_cannot_be_created(void)
{
        check_unwatchable_statement(database_url, &fail_poll_init);
        ASSERT_TRUE(poll_inits_failed > 0);
}

static void test_poll_cannot_be_started(void)
{
        check_unwatchable_statement(database_url, &fail_poll_start);
        ASSERT_TRUE(poll_starts_failed > 0);
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: %s DATABASE_URL poll-init|poll-start\n", argv[0]);
                return 2;
        }
        database_url = argv[1];
        mysql_library_init(0, NULL, NULL);
        if (strcmp(argv[2], "poll-init") == 0) {
                RUN_TEST(test_poll_cannot_be_created);
        } else if (strcmp(argv[2], "poll-start") == 0) {
                RUN_TEST(test_poll_cannot_be_started);
        } else {
                fprintf(stderr, "unknown case %s\n", argv[2]);
                return 2;
        }
        mysql_library_end();
        return test_report();
}
