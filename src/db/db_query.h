/*
 * Runs one prepared statement on a leased connection through the
 * non-blocking API: prepare (once per connection, then cached), bind,
 * execute, fetch rows one by one, free the result. A statement without a
 * result set (INSERT, UPDATE, START TRANSACTION, ...) just runs; one with
 * several (CALL) hands on the rows of its first and reads past the others,
 * so the connection is ready for the next statement.
 */
#ifndef QUERYD_DB_QUERY_H
#define QUERYD_DB_QUERY_H

#include <mysql.h>

#include "core/scope.h"
#include "db/db_pool.h"
#include "db/db_row.h"
#include "json/rowjson.h"

typedef struct db_query db_query_t;

/* The database stops a statement at its timeout_ms and says so (errno
 * 1969); whoever waits for it gives it this much longer to, before
 * answering 504 itself whatever the database does. Short enough that a
 * frozen database costs the client no more than that. */
enum { DB_QUERY_GRACE_MS = 50 };

/**
 * Called after each fetched row of the statement's first result set; q->row
 * holds its values and q->rows writes them. Returns true to go on, false to pause the fetch until
 * db_query_resume().
 */
typedef bool (*db_query_row_cb)(db_query_t *q, void *data);

/**
 * Called once at the end: status 0 with affected_rows and insert_id set, or
 * -EIO with q->error filled in.
 */
typedef void (*db_query_done_cb)(db_query_t *q, int status, void *data);

typedef struct db_error {
        unsigned code;     /* MariaDB errno */
        char sqlstate[6];
        char message[256];
} db_error_t;

struct db_query {
        /* set by the caller */
        const char *sql;   /* one statement with ? placeholders */
        MYSQL_BIND *params;
        rowjson_options_t row_options;
        unsigned timeout_ms; /* the database interrupts the statement after this; 0: never */
        db_query_row_cb row_cb;
        db_query_done_cb done_cb;
        void *data;
        /* results */
        db_row_t row;      /* the result's columns and the values of the row fetched last */
        rowjson_t rows;    /* how they are written */
        db_error_t error;
        /* After success, for a statement without rows (a CALL: its last
         * statement); with rows (RETURNING), count them instead. */
        unsigned long long affected_rows; /* rows changed, as the server counts */
        unsigned long long insert_id;     /* the first AUTO_INCREMENT value made, or 0 */
        char last_gtid[64]; /* the GTID the statement committed, as the session reports it
                               (a pool with track_position), or "" */
        /* internal */
        db_lease_t *lease;
        scope_t *scope;
        MYSQL_STMT *stmt;
        int ret;
        bool paused;
};

/**
 * Runs q on the lease's connection; row and done callbacks run on the loop,
 * possibly before this returns. If the request's scope closes first, the
 * lease release reopens the connection and no callback runs.
 */
void db_query_run(db_query_t *q, db_lease_t *lease, scope_t *scope);

/**
 * Fetches again after the row callback paused: the rows wait in the
 * socket and the server's buffers meanwhile, which is the backpressure a
 * slow reader puts on the database.
 */
void db_query_resume(db_query_t *q);

#endif
