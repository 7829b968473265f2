/*
 * One pooled, non-blocking MariaDB connection: connecting, closing, watching
 * an idle socket for a server that went away, and driving client calls
 * through the *_start/_cont API with the socket on a uv_poll.
 * Used by db_pool.c and db_query.c only.
 */
#ifndef QUERYD_DB_CONN_H
#define QUERYD_DB_CONN_H

#include <mysql.h>
#include <stdbool.h>
#include <uv.h>

#include "core/config.h"

typedef struct db_conn db_conn_t;
typedef struct db_pool db_pool_t;
typedef struct db_lease db_lease_t;

/**
 * One step of a non-blocking client call: called with ready == 0 to start it
 * and with the MYSQL_WAIT_* events that happened to continue it. Returns the
 * MYSQL_WAIT_* events to wait for, or 0 when the call has finished.
 */
typedef int (*db_step_fn)(db_conn_t *conn, int ready);
typedef void (*db_done_fn)(db_conn_t *conn);

typedef enum db_conn_state {
        CONN_DOWN,       /* no connection; a reconnect may be scheduled */
        CONN_CONNECTING,
        CONN_IDLE,
        CONN_BUSY,       /* lent to a request */
        CONN_CLOSING,
} db_conn_state_t;

/* Collections with filters write a statement per shape of request, so the
 * cache is bounded and evicts the statement used least recently. */
enum { DB_CONN_MAX_STATEMENTS = 32 };

typedef struct db_cached_stmt {
        char *sql;          /* the statement (a copy: requests build theirs) */
        unsigned timeout_ms; /* the max_statement_time it was prepared with */
        unsigned long hash;
        unsigned long last_used;
        MYSQL_STMT *stmt;
} db_cached_stmt_t;

struct db_conn {
        db_pool_t *pool;
        MYSQL *mysql;
        uv_poll_t *poll;  /* heap: freed in its close callback, after the conn moves on */
        int poll_events;  /* the UV_* interest registered on poll */
        uv_timer_t timer; /* MYSQL_WAIT_TIMEOUT while a call runs; reconnect backoff when down */
        db_conn_state_t state;
        db_step_fn step;  /* the client call in progress, or NULL */
        db_done_fn done;
        void *op;         /* the caller's state for the call in progress */
        unsigned backoff_ms;
        unsigned host_index; /* the database host this conn uses: a failed connect moves on */
        bool reconnect_after_close;
        bool aborting;
        bool was_up;      /* it has been connected before: the next connect is a reconnect */    /* a call is being ended early: callers must not see its rows */
        db_conn_t *next_idle;
        db_lease_t *lease;
        unsigned statement_count;
        unsigned long statement_clock; /* ticks at each lookup, for last_used */
        db_cached_stmt_t statements[DB_CONN_MAX_STATEMENTS];
};

/** Prepares the conn's handles; it starts DOWN. Returns 0 or a UV error. */
int db_conn_init(db_conn_t *conn, db_pool_t *pool, uv_loop_t *loop);

/** Starts connecting now; the pool hears of the outcome. */
void db_conn_connect(db_conn_t *conn);

/**
 * Runs a client call: step(conn, 0) now, step(conn, events) as the socket
 * becomes ready, then done(conn). done may run before this returns.
 */
void db_conn_drive(db_conn_t *conn, db_step_fn step, db_done_fn done, void *op);

/**
 * Stops watching the socket of a conn whose call paused between two client
 * calls (a fetch waiting for the reader): the data stays in the socket.
 * The next db_conn_drive() watches it again.
 */
void db_conn_pause(db_conn_t *conn);

/** Watches an idle conn: if the server closes it, it is reopened. */
void db_conn_watch_idle(db_conn_t *conn);

/**
 * Closes the connection whatever it is doing (a call in progress is dropped
 * and its done never runs), then reconnects if reconnect is true.
 */
void db_conn_close(db_conn_t *conn, bool reconnect);

/** Stops the conn's handles for good; the loop sees them closed a turn later. */
void db_conn_done(db_conn_t *conn);

/** The statement cached for sql prepared with timeout_ms on this connection, or NULL. */
MYSQL_STMT *db_conn_statement(db_conn_t *conn, const char *sql, unsigned timeout_ms);

/**
 * Caches a statement under a copy of sql. A full cache first closes its
 * least recently used statement (the connection is idle between requests,
 * so the close, which the server does not answer, cannot block). False
 * when out of memory (the caller closes stmt).
 */
bool db_conn_keep_statement(db_conn_t *conn, const char *sql, unsigned timeout_ms,
                            MYSQL_STMT *stmt);

/** Drops stmt from the cache without closing it. */
void db_conn_forget_statement(db_conn_t *conn, MYSQL_STMT *stmt);

#endif
