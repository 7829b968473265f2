/*
 * A request's writes in one transaction, from acquire to release, on the
 * model of query_call.c: the runner holds the lease and the request's
 * deadline, and runs one statement at a time through its db_query.
 */
#include "request/write_tx.h"

#include <errno.h>
#include <stdio.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/db_role.h"
#include "request/answer.h"

typedef enum tx_state {
        TX_NEW,       /* not begun */
        TX_BEGINNING, /* waiting for a connection, SET ROLE, START TRANSACTION */
        TX_OPEN,      /* between statements */
        TX_RUNNING,   /* a statement runs */
        TX_FINISHING, /* COMMIT or ROLLBACK runs */
        TX_CLOSED,    /* finished: the connection is back in the pool */
        TX_LOST,      /* gone and answered: lost_status says why */
} tx_state_t;

struct write_tx {
        env_t *env;
        http_request_t *req;
        db_lease_t *lease;     /* while held */
        db_query_t query;
        tx_state_t state;
        int lost_status;
        bool commit;           /* what TX_FINISHING runs */
        db_query_row_cb row_cb; /* the running statement's, or NULL */
        void *row_data;
        write_tx_done_fn done; /* the step under way's */
        void *data;
        unsigned prefer_ms;    /* a lower deadline for each step (Prefer: timeout=); 0: none */
};

/* A statement may take its timeout and the grace for the database to
 * report it; so may the wait for the next one while the caller reads on. A
 * lower deadline of the request's own is kept to the millisecond. */
static unsigned step_ms(const write_tx_t *tx)
{
        unsigned timeout_ms = tx->env->config->query_timeout_ms;

        if (tx->prefer_ms != 0 && tx->prefer_ms < timeout_ms)
                return tx->prefer_ms;
        return timeout_ms + DB_QUERY_GRACE_MS;
}

/* The statement deadline as the client is told it. */
static unsigned statement_ms(const write_tx_t *tx)
{
        unsigned timeout_ms = tx->env->config->query_timeout_ms;

        return tx->prefer_ms != 0 && tx->prefer_ms < timeout_ms ? tx->prefer_ms : timeout_ms;
}

void write_tx_set_deadline(write_tx_t *tx, unsigned ms)
{
        tx->prefer_ms = ms;
}

static bool is_client_error(unsigned code)
{
        return code >= 2000 && code < 3000;
}

write_tx_t *write_tx_new(env_t *env, http_request_t *req)
{
        write_tx_t *tx = scope_alloc(req->scope, sizeof(*tx));

        if (tx == NULL)
                return NULL;
        tx->env = env;
        tx->req = req;
        tx->query.row_options.time_zone = env->config->time_zone;
        return tx;
}

/* Hands the step's outcome to its caller; the step is over before it hears. */
static void report(write_tx_t *tx, int status, const db_error_t *error)
{
        write_tx_done_fn done = tx->done;
        void *data = tx->data;

        tx->done = NULL;
        tx->data = NULL;
        done(tx, status, error, data);
}

static void give_back(write_tx_t *tx)
{
        if (tx->lease != NULL)
                db_pool_release(tx->lease);
        tx->lease = NULL;
}

/* The transaction is gone and the request answered: the connection goes
 * back, and is reopened (rolling back) if the transaction was open on it. */
static void lose(write_tx_t *tx, int status)
{
        give_back(tx);
        tx->state = TX_LOST;
        tx->lost_status = status;
}

static void misuse(write_tx_t *tx, const char *what, write_tx_done_fn done, void *data)
{
        log_error("request %s: write transaction misused: %s", tx->req->id, what);
        http_fail(tx->req, 500, "internal", "the write could not be carried out");
        done(tx, -EINVAL, NULL, data);
}

/* ---- deadlines ---- */

/* A COMMIT past its deadline may or may not have been applied: the caller
 * must say so, so it hears of it as a lost link. */
static void commit_unknown(write_tx_t *tx)
{
        db_error_t error = { .code = 2013, .sqlstate = "HY000" }; /* CR_SERVER_LOST */

        snprintf(error.message, sizeof(error.message),
                 "the database did not confirm the COMMIT within %u ms", step_ms(tx));
        give_back(tx);
        tx->state = TX_CLOSED;
        report(tx, -EIO, &error);
}

static void on_deadline(http_request_t *req, void *data)
{
        write_tx_t *tx = data;
        const config_t *config = tx->env->config;

        switch (tx->state) {
        case TX_BEGINNING:
                if (tx->lease != NULL && tx->lease->conn == NULL)
                        http_fail(req, 503, "overloaded",
                                  "no database connection became free within %u ms",
                                  config->acquire_timeout_ms);
                else
                        http_fail(req, 504, "timeout", "the query did not complete within %u ms",
                                  statement_ms(tx));
                lose(tx, -ETIMEDOUT);
                report(tx, -ETIMEDOUT, NULL);
                return;
        case TX_RUNNING:
                http_fail(req, 504, "timeout", "the query did not complete within %u ms",
                          statement_ms(tx));
                lose(tx, -ETIMEDOUT);
                report(tx, -ETIMEDOUT, NULL);
                return;
        case TX_OPEN:
                /* Nobody waits on the transaction: the caller hears at its next call. */
                http_fail(req, 504, "timeout",
                          "the rest of the request did not arrive within %u ms", step_ms(tx));
                lose(tx, -ETIMEDOUT);
                return;
        case TX_FINISHING:
                if (tx->commit) {
                        commit_unknown(tx);
                        return;
                }
                give_back(tx); /* reopened: the server rolls back */
                tx->state = TX_CLOSED;
                report(tx, 0, NULL);
                return;
        default:
                return; /* http answers 504 */
        }
}

static void set_deadline(write_tx_t *tx, unsigned ms)
{
        http_set_deadline(tx->req, ms, on_deadline, tx);
}

/* ---- statements ---- */

static bool on_row(db_query_t *q, void *data)
{
        write_tx_t *tx = data;

        return tx->row_cb == NULL || tx->row_cb(q, tx->row_data);
}

static void start_statement(write_tx_t *tx, const char *sql, MYSQL_BIND *params,
                            unsigned timeout_ms, db_query_done_cb done_cb)
{
        db_query_t *q = &tx->query;

        q->sql = sql;
        q->params = params;
        q->timeout_ms = timeout_ms;
        q->row_cb = on_row;
        q->done_cb = done_cb;
        q->data = tx;
        set_deadline(tx, step_ms(tx));
        db_query_run(q, tx->lease, tx->req->scope);
}

/* A statement failed at the client level: the link is gone, and the
 * transaction with it. Answers and says so. */
static int answer_lost_link(write_tx_t *tx, const db_error_t *error)
{
        int status = error->code == 2008 ? -ENOMEM : -ECONNRESET; /* CR_OUT_OF_MEMORY */

        answer_db_error(tx->req, error);
        lose(tx, status);
        return status;
}

/* ---- begin ---- */

static void on_started(db_query_t *q, int status, void *data)
{
        write_tx_t *tx = data;

        if (status == 0) {
                db_pool_transaction_open(tx->lease, true);
                tx->state = TX_OPEN;
                set_deadline(tx, step_ms(tx));
                report(tx, 0, NULL);
                return;
        }
        metrics_count_db_error();
        if (is_client_error(q->error.code)) {
                report(tx, answer_lost_link(tx, &q->error), NULL);
                return;
        }
        answer_db_error(tx->req, &q->error);
        lose(tx, -EACCES);
        report(tx, -EACCES, NULL);
}

static void on_role(db_lease_t *lease, int status, const db_error_t *error, void *data)
{
        write_tx_t *tx = data;

        (void)lease;
        if (status == 0) {
                /* No timeout of the database's: the deadline bounds it. */
                start_statement(tx, "START TRANSACTION", NULL, 0, on_started);
                return;
        }
        metrics_count_db_error();
        answer_role_failure(tx->req, error);
        status = is_client_error(error->code) ? -ECONNRESET : -EACCES;
        lose(tx, status);
        report(tx, status, NULL);
}

static void on_lease(db_lease_t *lease, int status, void *data)
{
        write_tx_t *tx = data;

        if (status < 0) {
                answer_acquire_failure(tx->req, status);
                lose(tx, status);
                report(tx, status, NULL);
                return;
        }
        set_deadline(tx, step_ms(tx));
        db_lease_use_role(lease, tx->req->scope, tx->env->db_role, on_role, tx);
}

void write_tx_begin(write_tx_t *tx, write_tx_done_fn done, void *data)
{
        if (tx->state != TX_NEW) {
                misuse(tx, "begun twice", done, data);
                return;
        }
        tx->state = TX_BEGINNING;
        tx->done = done;
        tx->data = data;
        set_deadline(tx, tx->env->config->acquire_timeout_ms);
        int r = db_pool_acquire(env_db_for(tx->env, DB_WRITE), tx->req->scope, on_lease, tx,
                                &tx->lease);
        if (r < 0) {
                tx->lease = NULL;
                answer_acquire_failure(tx->req, r);
                lose(tx, r);
                report(tx, r, NULL);
        }
}

/* ---- one statement ---- */

static void on_ran(db_query_t *q, int status, void *data)
{
        write_tx_t *tx = data;

        tx->row_cb = NULL;
        tx->row_data = NULL;
        if (status < 0) {
                metrics_count_db_error();
                if (is_client_error(q->error.code)) {
                        report(tx, answer_lost_link(tx, &q->error), NULL);
                        return;
                }
        }
        /* A refused statement leaves the transaction open: the caller rolls back. */
        tx->state = TX_OPEN;
        set_deadline(tx, step_ms(tx));
        report(tx, status, status < 0 ? &q->error : NULL);
}

/* Whether a step may start now; if not, done hears why, at once. */
static bool may_start(write_tx_t *tx, const char *what, write_tx_done_fn done, void *data)
{
        if (tx->state == TX_OPEN)
                return true;
        if (tx->state == TX_LOST)
                done(tx, tx->lost_status, NULL, data);
        else
                misuse(tx, what, done, data);
        return false;
}

void write_tx_run(write_tx_t *tx, const char *sql, MYSQL_BIND *params, db_query_row_cb row_cb,
                  void *row_data, write_tx_done_fn done, void *data)
{
        if (!may_start(tx, "a statement run outside an open transaction or beside another",
                       done, data))
                return;
        tx->state = TX_RUNNING;
        tx->done = done;
        tx->data = data;
        tx->row_cb = row_cb;
        tx->row_data = row_data;
        start_statement(tx, sql, params, tx->env->config->query_timeout_ms, on_ran);
}

void write_tx_resume_rows(write_tx_t *tx)
{
        if (tx->state == TX_RUNNING && tx->query.paused)
                db_query_resume(&tx->query);
}

/* ---- the end ---- */

static void on_finished(db_query_t *q, int status, void *data)
{
        write_tx_t *tx = data;

        if (status == 0) {
                db_pool_transaction_open(tx->lease, false);
                if (tx->commit && q->last_gtid[0] != '\0')
                        env_wrote_at(tx->env, tx->req, q->last_gtid);
        } else {
                metrics_count_db_error();
                env_count_error(tx->env, tx->lease->pool);
        }
        /* Unconfirmed, the transaction is still marked open: the release
         * reopens the connection, and the server rolls back what it holds. */
        give_back(tx);
        tx->state = TX_CLOSED;
        /* The caller answers now; should it not, the request still ends. */
        http_set_deadline(tx->req, step_ms(tx), NULL, NULL);
        if (status < 0 && tx->commit)
                report(tx, -EIO, &q->error);
        else
                report(tx, 0, NULL);
}

void write_tx_finish(write_tx_t *tx, bool commit, write_tx_done_fn done, void *data)
{
        if (tx->state == TX_NEW || tx->state == TX_CLOSED) {
                done(tx, 0, NULL, data);
                return;
        }
        if (!may_start(tx, "finished while a step runs", done, data))
                return;
        tx->state = TX_FINISHING;
        tx->commit = commit;
        tx->done = done;
        tx->data = data;
        tx->row_cb = NULL;
        start_statement(tx, commit ? "COMMIT" : "ROLLBACK", NULL, 0, on_finished);
}

/* ---- what the caller reads ---- */

unsigned long long write_tx_affected_rows(const write_tx_t *tx)
{
        return tx->query.affected_rows;
}

unsigned long long write_tx_insert_id(const write_tx_t *tx)
{
        return tx->query.insert_id;
}

db_query_t *write_tx_query(write_tx_t *tx)
{
        return &tx->query;
}

bool write_tx_is_open(const write_tx_t *tx)
{
        return tx->state == TX_OPEN || tx->state == TX_RUNNING || tx->state == TX_FINISHING;
}
