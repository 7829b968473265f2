/*
 * One prepared statement on a leased connection, as a chain of non-blocking
 * client calls: prepare -> execute -> fetch* -> free result -> next result*.
 * Each link is a step function driven by db_conn_drive().
 */
#include "db/db_query.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db_conn.h"

static db_query_t *query_of(db_conn_t *conn)
{
        return conn->op;
}

/*
 * Client-side errors (2000..2999) mean the connection itself is unusable;
 * so does ER_UNKNOWN_COM_ERROR (1047), with which a Galera node that has
 * left the cluster's primary component refuses every statement: reopened,
 * the connection goes to a node that serves (db_conn.c).
 */
static bool is_client_error(unsigned code)
{
        return (code >= 2000 && code < 3000) || code == 1047;
}

static void finish(db_query_t *q, int status)
{
        if (!db_pool_statement_finished(q->lease, status != 0 && is_client_error(q->error.code)))
                return; /* released while it ran: nobody waits, and q may be gone */
        q->done_cb(q, status, q->data);
}

static void capture_stmt_error(db_query_t *q)
{
        MYSQL *mysql = q->lease->conn->mysql;

        q->error.code = mysql_stmt_errno(q->stmt);
        snprintf(q->error.sqlstate, sizeof(q->error.sqlstate), "%s", mysql_stmt_sqlstate(q->stmt));
        snprintf(q->error.message, sizeof(q->error.message), "%s", mysql_stmt_error(q->stmt));
        if (q->error.code == 0 && mysql_errno(mysql) != 0) {
                /* An error read while fetching rows unbuffered (a statement
                 * interrupted mid-result) is left on the connection. */
                q->error.code = mysql_errno(mysql);
                snprintf(q->error.sqlstate, sizeof(q->error.sqlstate), "%s", mysql_sqlstate(mysql));
                snprintf(q->error.message, sizeof(q->error.message), "%s", mysql_error(mysql));
        }
        if (q->error.code == 0) { /* an error the library did not number */
                q->error.code = 2000;
                snprintf(q->error.sqlstate, sizeof(q->error.sqlstate), "HY000");
        }
}

static void fail_with_stmt_error(db_query_t *q)
{
        capture_stmt_error(q);
        finish(q, -EIO);
}

/* A row the binary protocol cannot hold (db_row.h): the link is not to be trusted. */
static void fail_malformed_row(db_query_t *q)
{
        q->error.code = 2027; /* CR_MALFORMED_PACKET */
        snprintf(q->error.sqlstate, sizeof(q->error.sqlstate), "HY000");
        snprintf(q->error.message, sizeof(q->error.message), "malformed row from the server");
        finish(q, -EIO);
}

static void fail_out_of_memory(db_query_t *q)
{
        q->error.code = 2008; /* CR_OUT_OF_MEMORY */
        snprintf(q->error.sqlstate, sizeof(q->error.sqlstate), "HY001");
        snprintf(q->error.message, sizeof(q->error.message), "out of memory");
        finish(q, -EIO);
}

/* ---- further results ---- */

/*
 * A CALL answers with the result sets of its procedure and then a status of
 * its own; the connection takes no other statement until all have been
 * read. Rows of the results after the first are skipped: the library reads
 * past what is unread when asked for the next result.
 */
static int next_result_step(db_conn_t *conn, int ready)
{
        db_query_t *q = query_of(conn);

        if (ready == 0)
                return mysql_stmt_next_result_start(&q->ret, q->stmt);
        return mysql_stmt_next_result_cont(&q->ret, q->stmt, ready);
}

static void next_result_done(db_conn_t *conn);

static void read_other_results(db_query_t *q, db_conn_t *conn)
{
        if (!mysql_stmt_more_results(q->stmt)) {
                finish(q, 0);
                return;
        }
        db_conn_drive(conn, next_result_step, next_result_done, q);
}

static void next_result_done(db_conn_t *conn)
{
        db_query_t *q = query_of(conn);

        if (q->ret > 0) {
                fail_with_stmt_error(q);
                return;
        }
        if (q->ret < 0) { /* the library saw no more after all */
                finish(q, 0);
                return;
        }
        if (mysql_stmt_field_count(q->stmt) == 0) {
                /* A status: the figures of the procedure's last statement. */
                q->affected_rows = mysql_stmt_affected_rows(q->stmt);
                q->insert_id = mysql_stmt_insert_id(q->stmt);
        }
        read_other_results(q, conn);
}

/* ---- free result ---- */

static int free_result_step(db_conn_t *conn, int ready)
{
        my_bool failed;

        if (ready == 0)
                return mysql_stmt_free_result_start(&failed, query_of(conn)->stmt);
        return mysql_stmt_free_result_cont(&failed, query_of(conn)->stmt, ready);
}

static void free_result_done(db_conn_t *conn)
{
        read_other_results(query_of(conn), conn);
}

/* ---- fetch ---- */

/* Fetches rows until one must wait for the socket or the result ends. */
static int fetch_step(db_conn_t *conn, int ready)
{
        db_query_t *q = query_of(conn);

        for (;;) {
                int status = ready == 0 ? mysql_stmt_fetch_start(&q->ret, q->stmt)
                                        : mysql_stmt_fetch_cont(&q->ret, q->stmt, ready);
                if (status != 0)
                        return status;
                if (q->ret != 0 && q->ret != MYSQL_DATA_TRUNCATED)
                        return 0; /* MYSQL_NO_DATA or an error */
                if (q->row.malformed)
                        return 0; /* fetch_done fails the query */
                ready = 0;
                /* Rows of a statement released while it ran are dropped. */
                if (!conn->aborting && !q->lease->detached && !q->row_cb(q, q->data)) {
                        q->paused = true;
                        return 0;
                }
        }
}

static void resume_released(void *op)
{
        db_query_resume(op);
}

static void fetch_done(db_conn_t *conn)
{
        db_query_t *q = query_of(conn);

        if (q->paused) {
                db_pool_statement_paused(q->lease, resume_released, q);
                db_conn_pause(conn);
                return;
        }
        if (q->row.malformed) {
                fail_malformed_row(q);
                return;
        }
        if (q->ret != MYSQL_NO_DATA) {
                fail_with_stmt_error(q);
                return;
        }
        db_conn_drive(conn, free_result_step, free_result_done, q);
}

/* ---- execute ---- */

static int execute_step(db_conn_t *conn, int ready)
{
        db_query_t *q = query_of(conn);

        if (ready == 0)
                return mysql_stmt_execute_start(&q->ret, q->stmt);
        return mysql_stmt_execute_cont(&q->ret, q->stmt, ready);
}

/* The session's report of a commit, when it tracks last_gtid: the
 * tracker hands out names and values in turn. */
static void read_last_gtid(db_query_t *q, MYSQL *mysql)
{
        const char *data;
        size_t len;
        bool is_value = false, wanted = false;

        q->last_gtid[0] = '\0';
        for (int r = mysql_session_track_get_first(mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data,
                                                   &len);
             r == 0;
             r = mysql_session_track_get_next(mysql, SESSION_TRACK_SYSTEM_VARIABLES, &data,
                                              &len)) {
                if (is_value && wanted && len < sizeof(q->last_gtid)) {
                        memcpy(q->last_gtid, data, len);
                        q->last_gtid[len] = '\0';
                }
                wanted = !is_value && len == 9 && memcmp(data, "last_gtid", 9) == 0;
                is_value = !is_value;
        }
}

static void execute_done(db_conn_t *conn)
{
        db_query_t *q = query_of(conn);

        if (q->ret != 0) {
                fail_with_stmt_error(q);
                return;
        }
        read_last_gtid(q, q->lease->conn->mysql);
        q->affected_rows = mysql_stmt_affected_rows(q->stmt);
        q->insert_id = mysql_stmt_insert_id(q->stmt);
        /* Without a result set both leave row and rows with no columns, so
         * nothing of an earlier statement's result can be read there. */
        if (q->lease->detached) { /* rows to drop: how to write them is the request's */
                q->row_options.outputs = NULL;
                q->row_options.output_count = q->row_options.visible = 0;
        }
        int r = db_row_bind(&q->row, q->scope, q->stmt);
        if (r == 0)
                r = rowjson_prepare(&q->rows, q->scope, &q->row, &q->row_options);
        if (r < 0) {
                /* The result is unread: finish() marks the conn for reopening. */
                fail_out_of_memory(q);
                return;
        }
        if (mysql_stmt_field_count(q->stmt) == 0) {
                read_other_results(q, conn); /* nothing to fetch */
                return;
        }
        db_conn_drive(conn, fetch_step, fetch_done, q);
}

static void execute(db_query_t *q, db_conn_t *conn)
{
        if (q->params != NULL && mysql_stmt_bind_param(q->stmt, q->params)) {
                fail_with_stmt_error(q);
                return;
        }
        db_pool_statement_started(q->lease, q->scope);
        db_conn_drive(conn, execute_step, execute_done, q);
}

/* ---- prepare ---- */

/*
 * The statement as prepared: with a timeout, the database itself stops it.
 * A statement that sets variables of its own (SET STATEMENT ... FOR) gets
 * the timeout added to its list: the clause cannot be nested.
 */
static const char *statement_text(db_query_t *q)
{
        static const char set_statement[] = "SET STATEMENT ";
        const size_t set_len = sizeof(set_statement) - 1;
        const char *rest = q->sql;
        const char *sep = " FOR ";
        char *text;

        if (q->timeout_ms == 0)
                return q->sql;
        if (strncmp(rest, set_statement, set_len) == 0) {
                rest += set_len;
                sep = ", ";
        }
        text = scope_alloc(q->scope, strlen(q->sql) + 64);
        if (text == NULL)
                return NULL;
        sprintf(text, "SET STATEMENT max_statement_time=%u.%03u%s%s", q->timeout_ms / 1000,
                q->timeout_ms % 1000, sep, rest);
        return text;
}

static int prepare_step(db_conn_t *conn, int ready)
{
        db_query_t *q = query_of(conn);

        if (ready != 0)
                return mysql_stmt_prepare_cont(&q->ret, q->stmt, ready);
        const char *text = statement_text(q);
        if (text == NULL) {
                q->ret = 1; /* out of memory, reported as the prepare's failure */
                return 0;
        }
        return mysql_stmt_prepare_start(&q->ret, q->stmt, text, strlen(text));
}

static void prepare_done(db_conn_t *conn)
{
        db_query_t *q = query_of(conn);

        if (q->ret == 0 && q->lease->detached) {
                finish(q, 0); /* released while it prepared: never run it */
                return;
        }
        if (q->ret == 0) {
                execute(q, conn);
                return;
        }
        capture_stmt_error(q);
        /* A failed prepare left no statement on the server to close. */
        db_conn_forget_statement(conn, q->stmt);
        mysql_stmt_close(q->stmt);
        q->stmt = NULL;
        finish(q, -EIO);
}

void db_query_resume(db_query_t *q)
{
        if (!q->paused)
                return;
        q->paused = false;
        db_pool_statement_paused(q->lease, NULL, NULL);
        db_conn_drive(q->lease->conn, fetch_step, fetch_done, q);
}

void db_query_run(db_query_t *q, db_lease_t *lease, scope_t *scope)
{
        db_conn_t *conn = lease->conn;

        q->lease = lease;
        q->scope = scope;
        q->paused = false;
        q->affected_rows = q->insert_id = 0;
        q->last_gtid[0] = '\0';
        memset(&q->error, 0, sizeof(q->error));
        q->stmt = db_conn_statement(conn, q->sql, q->timeout_ms);
        if (q->stmt != NULL) {
                execute(q, conn);
                return;
        }
        q->stmt = mysql_stmt_init(conn->mysql);
        /* Cached before it is prepared, so that a connection closed in the
         * middle of the prepare still frees it. */
        if (q->stmt != NULL && !db_conn_keep_statement(conn, q->sql, q->timeout_ms, q->stmt)) {
                mysql_stmt_close(q->stmt);
                q->stmt = NULL;
        }
        if (q->stmt == NULL) {
                fail_out_of_memory(q);
                return;
        }
        db_pool_statement_started(lease, q->scope);
        db_conn_drive(conn, prepare_step, prepare_done, q);
}
