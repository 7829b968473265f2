/*
 * A request's writes in one transaction: borrow a connection with the write
 * intent, switch it to the request's role, START TRANSACTION, run the
 * statements one at a time, then COMMIT or ROLLBACK and give the connection
 * back. The transaction never outlives its request: when the request's scope
 * closes with it open (client gone, deadline), the connection is reopened
 * rather than lent again, and the server rolls it back.
 *
 * The runner owns the request's deadline from write_tx_begin() until
 * write_tx_finish() reports: waiting for a connection, the acquire timeout
 * (then 503); a statement, its query timeout plus DB_QUERY_GRACE_MS, or a
 * lower deadline set with write_tx_set_deadline() (then 504, and a
 * statement still running is stopped: db_pool.h); between statements, while the caller reads more of the body, the
 * same span again (then 504), so a client that trickles its body cannot
 * hold rows locked for longer than one statement may run.
 */
#ifndef QUERYD_WRITE_TX_H
#define QUERYD_WRITE_TX_H

#include <stdbool.h>

#include "db/db_query.h"
#include "http/http.h"
#include "request/env.h"

typedef struct write_tx write_tx_t;

/**
 * status 0: the step succeeded. -EIO: the database refused the statement
 * (error filled in; the transaction is still open and the request NOT
 * answered: the caller rolls back and answers, e.g. answer_write_error).
 * Any other negative status: the request was already answered here and the
 * transaction is gone (connection released): -EAGAIN, -ENOTCONN,
 * -ESHUTDOWN, -ENOMEM no connection could be borrowed (503, or 500 out of
 * memory); -ETIMEDOUT a deadline passed (503 waiting for a connection, 504
 * otherwise); -ECONNRESET the connection was lost (503); -EACCES the role
 * could not be taken or START TRANSACTION was refused; -EINVAL misuse (a
 * statement already running, no transaction begun: 500). error is NULL
 * unless status is -EIO, and valid during the call only.
 *
 * Once the transaction is gone, every later write_tx_run() or
 * write_tx_finish() reports the status it was lost with at once, before
 * returning, and sends nothing.
 */
typedef void (*write_tx_done_fn)(write_tx_t *tx, int status, const db_error_t *error, void *data);

/** A transaction for req, in its scope. NULL when out of memory. */
write_tx_t *write_tx_new(env_t *env, http_request_t *req);

/**
 * Lowers the deadline of each step to ms (a request's Prefer: timeout=),
 * when it is below the query timeout; 0: the query timeout. Call before
 * write_tx_begin().
 */
void write_tx_set_deadline(write_tx_t *tx, unsigned ms);

/**
 * Borrows a connection with the write intent, switches it to env->db_role
 * (as query_call does), runs START TRANSACTION and marks the transaction
 * open in the pool; then done. done runs once, on the loop, or before this
 * returns when no connection can be asked for.
 */
void write_tx_begin(write_tx_t *tx, write_tx_done_fn done, void *data);

/**
 * Runs one statement (sql with ? placeholders bound to params, or NULL) in
 * the transaction with the query timeout env->config->query_timeout_ms.
 * row_cb (or NULL) takes each result row as db_query's row_cb does, with
 * row_data: returning false pauses the fetch until write_tx_resume_rows().
 * sql and params must outlive the statement. done runs once, on the loop or
 * before this returns. Only one statement runs at a time: calling this
 * while one runs is misuse (-EINVAL, answered 500; the running one goes on).
 */
void write_tx_run(write_tx_t *tx, const char *sql, MYSQL_BIND *params, db_query_row_cb row_cb,
                  void *row_data, write_tx_done_fn done, void *data);

/** Fetches again after row_cb paused. Nothing when no fetch is paused. */
void write_tx_resume_rows(write_tx_t *tx);

/**
 * COMMIT (commit true) or ROLLBACK, marks the transaction closed and gives
 * the connection back; then done. A COMMIT whose outcome is unknown (the
 * connection was lost during it) reports -EIO with a client error code
 * (2000..2999) and does not answer; a COMMIT the database refused reports
 * -EIO with its error, the transaction rolled back. Either way the
 * connection has been given back and the caller answers. A ROLLBACK always
 * reports 0: one the database did not confirm is made certain by reopening
 * the connection. On a transaction never begun or already finished, done
 * reports 0 at once.
 */
void write_tx_finish(write_tx_t *tx, bool commit, write_tx_done_fn done, void *data);

/** The last statement's affected rows (as the server counts them). */
unsigned long long write_tx_affected_rows(const write_tx_t *tx);

/** The last statement's first generated AUTO_INCREMENT value, 0 if none. */
unsigned long long write_tx_insert_id(const write_tx_t *tx);

/**
 * The db_query of the next and last statement: set its row_options before
 * write_tx_run() (they survive the run), read its row and rows in row_cb
 * for RETURNING rows.
 */
db_query_t *write_tx_query(write_tx_t *tx);

/** Whether a transaction is open: begun, not finished, not lost. */
bool write_tx_is_open(const write_tx_t *tx);

#endif
