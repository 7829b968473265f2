/*
 * Transactions and multi-result statements on the real pool and statement
 * code, against a real MariaDB (the URL is the first argument; the driver,
 * test_db_tx.py, creates the tables and procedures named below).
 *
 * A lease released with its transaction open must not hand the transaction
 * on: its connection is reopened, the server rolls back, and the next lease
 * of that connection finds no transaction and none of its rows. A CALL's
 * later results are read past, so the connection takes the next statement.
 * Every session runs with a strict sql_mode.
 *
 * Usage: db_tx URL
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

enum { POOL_SIZE = 2, QUEUE_LIMIT = 8, MAX_WAIT_MS = 5000 };

typedef struct request {
        scope_t *scope;
        db_lease_t *lease;
        db_conn_t *conn;
        int lease_calls;
        db_query_t query;
        int done_calls;
        int done_status;
        unsigned rows;
        long long first_int;   /* the first column of the last row, if an integer */
        char first_text[256];  /* ...or its bytes */
} request_t;

typedef struct fixture {
        uv_loop_t loop;
        uv_timer_t tick; /* keeps UV_RUN_ONCE from blocking */
        config_t config;
        db_pool_t *pool;
        int closed_calls;
} fixture_t;

static fixture_t fx;

static void tick_cb(uv_timer_t *timer)
{
        (void)timer;
}

static bool run_until(bool (*done)(request_t *r), request_t *r)
{
        uint64_t deadline = uv_hrtime() + (uint64_t)MAX_WAIT_MS * 1000000u;

        while (!done(r)) {
                if (uv_hrtime() > deadline)
                        return false;
                uv_run(&fx.loop, UV_RUN_ONCE);
        }
        return true;
}

static bool pool_settled(request_t *r)
{
        db_pool_stats_t s;

        (void)r;
        db_pool_get_stats(fx.pool, &s);
        return s.idle == POOL_SIZE && s.busy == 0 && s.waiting == 0;
}

static bool granted(request_t *r)
{
        return r->lease_calls > 0;
}

static bool finished(request_t *r)
{
        return r->done_calls > 0;
}

static bool pool_closed(request_t *r)
{
        (void)r;
        return fx.closed_calls > 0;
}

static void lease_cb(db_lease_t *lease, int status, void *data)
{
        request_t *r = data;

        r->lease_calls++;
        ASSERT_EQ_INT(status, 0);
        r->conn = lease->conn;
}

static bool row_cb(db_query_t *q, void *data)
{
        request_t *r = data;
        const db_row_column_t *c = &q->row.columns[0];

        r->rows++;
        r->first_int = c->value.as.i;
        snprintf(r->first_text, sizeof(r->first_text), "%.*s", (int)c->value.length,
                 c->value.bytes != NULL ? c->value.bytes : "");
        return true;
}

static void done_cb(db_query_t *q, int status, void *data)
{
        request_t *r = data;

        (void)q;
        r->done_calls++;
        r->done_status = status;
}

static void closed_cb(void *arg)
{
        (void)arg;
        fx.closed_calls++;
}

static bool fixture_init(const char *url)
{
        char err[256] = "";

        memset(&fx, 0, sizeof(fx));
        ASSERT_EQ_INT(config_parse_database_url(url, &fx.config.db, err, sizeof(err)), 0);
        snprintf(fx.config.time_zone, sizeof(fx.config.time_zone), "+00:00");
        ASSERT_EQ_INT(uv_loop_init(&fx.loop), 0);
        ASSERT_EQ_INT(uv_timer_init(&fx.loop, &fx.tick), 0);
        uv_timer_start(&fx.tick, tick_cb, 10, 10);
        db_pool_options_t options = {
                .target = &fx.config.db,
                .time_zone = fx.config.time_zone,
                .size = POOL_SIZE,
                .queue_limit = QUEUE_LIMIT,
        };
        ASSERT_EQ_INT(db_pool_new(&fx.pool, &fx.loop, &options), 0);
        if (fx.pool == NULL)
                return false;
        ASSERT_TRUE(run_until(pool_settled, NULL));
        return pool_settled(NULL);
}

static void acquire(request_t *r)
{
        memset(r, 0, sizeof(*r));
        r->scope = scope_new();
        ASSERT_NOT_NULL(r->scope);
        ASSERT_EQ_INT(db_pool_acquire(fx.pool, r->scope, lease_cb, r, &r->lease), 0);
        ASSERT_TRUE(run_until(granted, r));
}

/* Runs sql on r's lease to its end; its status. */
static int run(request_t *r, const char *sql, MYSQL_BIND *params)
{
        db_query_t *q = &r->query;

        memset(q, 0, sizeof(*q));
        r->done_calls = 0;
        r->rows = 0;
        r->first_int = -1;
        r->first_text[0] = '\0';
        q->sql = sql;
        q->params = params;
        q->row_options.time_zone = "+00:00";
        q->row_cb = row_cb;
        q->done_cb = done_cb;
        q->data = r;
        db_query_run(q, r->lease, r->scope);
        ASSERT_TRUE(run_until(finished, r));
        ASSERT_EQ_INT(r->done_calls, 1);
        if (r->done_status != 0)
                fprintf(stderr, "  %s: %u %s\n", sql, q->error.code, q->error.message);
        return r->done_status;
}

/* A statement that must succeed with one row whose first column is an integer. */
static long long value_of(request_t *r, const char *sql)
{
        ASSERT_EQ_INT(run(r, sql, NULL), 0);
        ASSERT_EQ_UINT(r->rows, 1);
        return r->first_int;
}

static void release(request_t *r)
{
        if (r->lease != NULL)
                db_pool_release(r->lease);
        r->lease = NULL;
        scope_close(r->scope);
        r->scope = NULL;
}

static void walk_cb(uv_handle_t *handle, void *arg)
{
        int *open = arg;

        if (!uv_is_closing(handle))
                (*open)++;
}

static void fixture_done(void)
{
        ASSERT_TRUE(run_until(pool_settled, NULL));
        db_pool_close(fx.pool, closed_cb, NULL);
        ASSERT_TRUE(run_until(pool_closed, NULL));
        uv_close((uv_handle_t *)&fx.tick, NULL);
        ASSERT_EQ_INT(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
        int open = 0;
        uv_walk(&fx.loop, walk_cb, &open);
        ASSERT_EQ_INT(open, 0);
        ASSERT_EQ_UINT(db_pool_free(fx.pool), 0);
        ASSERT_EQ_INT(uv_loop_close(&fx.loop), 0);
        config_done(&fx.config);
        ASSERT_EQ_INT(scope_live_count(), 0);
}

static const char *database_url;

/* Begins a transaction on r and inserts v into tx_probe. */
static void insert_in_transaction(request_t *r, int v)
{
        int value = v;
        MYSQL_BIND param = { .buffer_type = MYSQL_TYPE_LONG, .buffer = &value };

        ASSERT_EQ_INT(run(r, "START TRANSACTION", NULL), 0);
        ASSERT_EQ_UINT(r->rows, 0);
        db_pool_transaction_open(r->lease, true);
        ASSERT_EQ_INT(run(r, "INSERT INTO tx_probe (v) VALUES (?)", &param), 0);
        ASSERT_EQ_UINT(r->rows, 0);
        ASSERT_EQ_UINT(r->query.affected_rows, 1);
        ASSERT_TRUE(r->query.insert_id > 0);
        ASSERT_EQ_INT(value_of(r, "SELECT @@in_transaction"), 1);
}

static void test_abandoned_transaction_rolls_back(void)
{
        static request_t a, other, next;

        if (!fixture_init(database_url))
                return;
        acquire(&a);
        acquire(&other);
        long long first_session = value_of(&a, "SELECT CONNECTION_ID()");
        insert_in_transaction(&a, 42);
        db_conn_t *conn = a.conn;

        /* Released without COMMIT: the connection is reopened, not lent on. */
        release(&a);
        acquire(&next);
        ASSERT_TRUE(next.conn == conn);
        ASSERT_TRUE(value_of(&next, "SELECT CONNECTION_ID()") != first_session);
        ASSERT_EQ_INT(value_of(&next, "SELECT @@in_transaction"), 0);
        ASSERT_EQ_INT(value_of(&next, "SELECT COUNT(*) FROM tx_probe WHERE v = 42"), 0);
        ASSERT_EQ_INT(value_of(&other, "SELECT COUNT(*) FROM tx_probe WHERE v = 42"), 0);

        /* Committed and marked closed: the same session is lent again. */
        long long session = value_of(&next, "SELECT CONNECTION_ID()");
        insert_in_transaction(&next, 43);
        ASSERT_EQ_INT(run(&next, "COMMIT", NULL), 0);
        db_pool_transaction_open(next.lease, false);
        release(&next);
        acquire(&next);
        ASSERT_TRUE(next.conn == conn);
        ASSERT_EQ_INT(value_of(&next, "SELECT CONNECTION_ID()"), session);
        ASSERT_EQ_INT(value_of(&next, "SELECT @@in_transaction"), 0);
        ASSERT_EQ_INT(value_of(&other, "SELECT COUNT(*) FROM tx_probe WHERE v = 43"), 1);

        /* Rolled back by statement: nothing stays, nothing is reopened. */
        insert_in_transaction(&next, 44);
        ASSERT_EQ_INT(run(&next, "ROLLBACK", NULL), 0);
        db_pool_transaction_open(next.lease, false);
        ASSERT_EQ_INT(value_of(&other, "SELECT COUNT(*) FROM tx_probe WHERE v = 44"), 0);
        release(&next);
        release(&other);
        fixture_done();
}

static void test_sessions_are_strict(void)
{
        static request_t r;

        if (!fixture_init(database_url))
                return;
        acquire(&r);
        ASSERT_EQ_INT(run(&r, "SELECT @@sql_mode", NULL), 0);
        ASSERT_CONTAINS(r.first_text, "STRICT_ALL_TABLES");
        ASSERT_CONTAINS(r.first_text, "NO_ZERO_DATE");
        ASSERT_CONTAINS(r.first_text, "NO_AUTO_VALUE_ON_ZERO");
        ASSERT_EQ_INT(run(&r, "SELECT @@time_zone", NULL), 0);
        ASSERT_EQ_STR(r.first_text, "+00:00");
        /* Refused, not coerced: NULL into NOT NULL, 300 into TINYINT. */
        ASSERT_EQ_INT(run(&r, "INSERT INTO tx_probe (v) VALUES (NULL)", NULL), -EIO);
        ASSERT_EQ_UINT(r.query.error.code, 1048);
        ASSERT_EQ_INT(run(&r, "INSERT INTO tx_small (t) VALUES (300)", NULL), -EIO);
        ASSERT_EQ_UINT(r.query.error.code, 1264);
        ASSERT_EQ_INT(run(&r, "INSERT INTO tx_small (t) VALUES ('12abc')", NULL), -EIO);
        ASSERT_EQ_UINT(r.query.error.code, 1265);
        ASSERT_EQ_INT(value_of(&r, "SELECT COUNT(*) FROM tx_small"), 0);
        release(&r);
        fixture_done();
}

static void test_call_reads_every_result(void)
{
        static request_t r;

        if (!fixture_init(database_url))
                return;
        acquire(&r);
        for (int i = 0; i < 2; i++) { /* prepared, then from the statement cache */
                ASSERT_EQ_INT(run(&r, "CALL tx_two_results()", NULL), 0);
                ASSERT_EQ_UINT(r.rows, 2); /* the first result's rows only */
                ASSERT_EQ_INT(value_of(&r, "SELECT 7"), 7);
        }
        ASSERT_EQ_INT(run(&r, "CALL tx_no_result()", NULL), 0);
        ASSERT_EQ_UINT(r.rows, 0);
        ASSERT_EQ_UINT(r.query.affected_rows, 1);
        ASSERT_EQ_INT(value_of(&r, "SELECT 8"), 8);
        /* A procedure failing after its first result: its error, and the
         * connection still takes statements. */
        ASSERT_EQ_INT(run(&r, "CALL tx_fails_late()", NULL), -EIO);
        ASSERT_EQ_UINT(r.query.error.code, 1048);
        ASSERT_EQ_INT(value_of(&r, "SELECT 9"), 9);
        release(&r);
        fixture_done();
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: %s DATABASE_URL\n", argv[0]);
                return 2;
        }
        database_url = argv[1];
        mysql_library_init(0, NULL, NULL);
        RUN_TEST(test_abandoned_transaction_rolls_back);
        RUN_TEST(test_sessions_are_strict);
        RUN_TEST(test_call_reads_every_result);
        mysql_library_end();
        return test_report();
}
