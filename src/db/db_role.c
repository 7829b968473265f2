/*
 * SET ROLE on a leased connection, through the non-blocking text protocol:
 * one round trip, the same as executing a prepared SET ROLE, with nothing
 * to cache. The connection's recorded role changes only once the server has
 * confirmed the new one.
 */
#include "db/db_role.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "db/db_conn.h"

typedef struct role_switch {
        db_lease_t *lease;
        const char *db_role; /* NULL: none */
        db_role_cb cb;
        void *data;
        int ret;
        size_t length;
        char text[];         /* the SET ROLE statement */
} role_switch_t;

size_t db_role_statement(char *buf, size_t size, const char *db_role)
{
        static const char none[] = "SET ROLE NONE";
        static const char prefix[] = "SET ROLE `";
        size_t n = 0;

#define PUT(c) do { if (n + 1 < size) buf[n] = (c); n++; } while (0)
        if (db_role == NULL || *db_role == '\0') {
                for (const char *p = none; *p != '\0'; p++)
                        PUT(*p);
        } else {
                for (const char *p = prefix; *p != '\0'; p++)
                        PUT(*p);
                /* A backtick inside a quoted identifier is written twice. */
                for (const char *p = db_role; *p != '\0'; p++) {
                        if (*p == '`')
                                PUT('`');
                        PUT(*p);
                }
                PUT('`');
        }
#undef PUT
        if (size > 0)
                buf[n < size ? n : size - 1] = '\0';
        return n;
}

/* Whether the session is known to run under db_role already. */
static bool runs_under(const db_conn_t *conn, const char *db_role)
{
        if (!conn->role_known)
                return false;
        if (db_role == NULL || conn->role == NULL)
                return db_role == conn->role;
        return strcmp(conn->role, db_role) == 0;
}

static int set_role_step(db_conn_t *conn, int ready)
{
        role_switch_t *op = conn->op;

        if (ready == 0)
                return mysql_real_query_start(&op->ret, conn->mysql, op->text, op->length);
        return mysql_real_query_cont(&op->ret, conn->mysql, ready);
}

/* Records the role the server confirmed; without memory for its name the
 * role stays unknown, which costs the next user a round trip, nothing more. */
static void record_role(db_conn_t *conn, const char *db_role)
{
        char *copy = db_role != NULL ? strdup(db_role) : NULL;

        if (db_role != NULL && copy == NULL)
                return;
        conn->role = copy;
        conn->role_known = true;
}

static void set_role_done(db_conn_t *conn)
{
        role_switch_t *op = conn->op;
        MYSQL *mysql = conn->mysql;

        if (op->ret == 0) {
                /* Released meanwhile, the role's name may be gone with its
                 * request: the role stays unknown, and nobody waits. */
                if (!op->lease->detached)
                        record_role(conn, op->db_role);
                if (db_pool_statement_finished(op->lease, false))
                        op->cb(op->lease, 0, NULL, op->data);
                return;
        }
        db_error_t error = { .code = mysql_errno(mysql) };
        snprintf(error.sqlstate, sizeof(error.sqlstate), "%s", mysql_sqlstate(mysql));
        snprintf(error.message, sizeof(error.message), "%s", mysql_error(mysql));
        if (error.code == 0) /* an error the library did not number */
                error.code = 2000;
        /* Client-level errors (2000..2999) mean the link itself is unusable. */
        if (db_pool_statement_finished(op->lease, error.code >= 2000 && error.code < 3000))
                op->cb(op->lease, -EIO, &error, op->data);
}

static void fail_out_of_memory(db_lease_t *lease, db_role_cb cb, void *data)
{
        db_error_t error = { .code = 2008, .sqlstate = "HY001", .message = "out of memory" };

        cb(lease, -EIO, &error, data);
}

void db_lease_use_role(db_lease_t *lease, scope_t *scope, const char *db_role, db_role_cb cb,
                       void *data)
{
        db_conn_t *conn = lease->conn;

        if (db_role == NULL && conn->role_untouched) { /* the session's own role: as it is */
                cb(lease, 0, NULL, data);
                return;
        }
        if (db_role != NULL && *db_role == '\0')
                db_role = NULL;
        if (runs_under(conn, db_role)) {
                cb(lease, 0, NULL, data);
                return;
        }
        size_t length = db_role_statement(NULL, 0, db_role);
        role_switch_t *op = scope_alloc(scope, sizeof(*op) + length + 1);
        if (op == NULL) {
                fail_out_of_memory(lease, cb, data);
                return;
        }
        *op = (role_switch_t){ .lease = lease, .db_role = db_role, .cb = cb, .data = data,
                               .length = length };
        db_role_statement(op->text, length + 1, db_role);
        /* Unknown until the server confirms: a failure or an abandoned call
         * leaves the next user to set it again. */
        db_conn_forget_role(conn);
        metrics_count_role_switch();
        db_pool_statement_started(lease, scope);
        db_conn_drive(conn, set_role_step, set_role_done, op);
}
