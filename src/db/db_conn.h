/*
 * One non-blocking MariaDB connection: connecting, closing, watching an idle
 * socket for a server that went away, and driving client calls through the
 * *_start/_cont API with the socket on a uv_poll. A connection knows its own
 * link and nothing of who uses it: it reports what happens to the link to an
 * owner through the events it is given at init, and the owner decides what
 * becomes of it (db_pool.c). Used by db_pool.c, db_query.c and db_role.c only.
 */
#ifndef QUERYD_DB_CONN_H
#define QUERYD_DB_CONN_H

#include <mysql.h>
#include <stdbool.h>
#include <uv.h>

#include "core/config.h"

typedef struct db_conn db_conn_t;

/**
 * One step of a non-blocking client call: called with ready == 0 to start it
 * and with the MYSQL_WAIT_* events that happened to continue it. Returns the
 * MYSQL_WAIT_* events to wait for, or 0 when the call has finished.
 */
typedef int (*db_step_fn)(db_conn_t *conn, int ready);
typedef void (*db_done_fn)(db_conn_t *conn);

/** The link to the server. */
typedef enum db_conn_state {
        DB_CONN_DOWN,       /* no connection; a connect retry may be scheduled */
        DB_CONN_CONNECTING,
        DB_CONN_UP,
        DB_CONN_CLOSING,
} db_conn_state_t;

/**
 * What a connection tells its owner. Each runs on the loop, from inside the
 * connection's own callbacks or from the call named, and may call db_conn_*
 * functions on the connection.
 */
typedef struct db_conn_events {
        /** Connected: the link is up and no call is in progress. */
        void (*up_cb)(db_conn_t *conn, void *owner);
        /**
         * A connect attempt failed with the client's err and message, on
         * the last host of a list whose every host failed in a row (with
         * several hosts, the next one is tried at once and this is not
         * called, unless options.one_host); the connection tries again by
         * itself after a backoff,
         * until db_conn_close(). May run from inside db_conn_connect().
         */
        void (*connect_failed_cb)(db_conn_t *conn, unsigned err, const char *message,
                                  void *owner);
        /**
         * With no call in progress the server closed the link (restart, idle
         * timeout, KILL) or sent something unasked. The connection has
         * stopped watching the socket and left the link as it is.
         */
        void (*lost_cb)(db_conn_t *conn, void *owner);
        /**
         * db_conn_close() has finished: the link is down and nothing is
         * scheduled. May run from inside db_conn_close().
         */
        void (*closed_cb)(db_conn_t *conn, void *owner);
} db_conn_events_t;

/** Where to connect and whom to tell; everything pointed at must outlive the conn. */
typedef struct db_conn_options {
        const db_target_t *target;
        const char *time_zone;          /* the session time zone, "+HH:MM" */
        bool track_position;            /* the session reports @@last_gtid as it changes */
        const db_conn_events_t *events;
        void *owner;                    /* passed to every event */
        /* A failed connect is reported at once, never followed by the next
         * host of the list without the owner asking (it sets host_index). */
        bool one_host;
} db_conn_options_t;

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
        db_conn_options_t options;
        MYSQL *mysql;
        uv_poll_t *poll;  /* heap: freed in its close callback, after the conn moves on */
        int poll_events;  /* the UV_* interest registered on poll */
        uv_timer_t timer; /* MYSQL_WAIT_TIMEOUT while a call runs; connect retry when down */
        db_conn_state_t state;
        db_step_fn step;  /* the client call in progress, or NULL */
        db_done_fn done;
        void *op;         /* the caller's state for the call in progress */
        unsigned backoff_ms;
        unsigned host_index; /* the database host this conn uses: a failed connect moves on */
        unsigned hosts_failed; /* hosts that failed in a row since the last session opened */
        bool aborting;    /* a call is being ended early: callers must not see its rows */
        /* The server is a Galera cluster node (wsrep on), found when the
         * session opened: reads that must see every commit of the cluster
         * ask it for a causal read (request/read_position.c). */
        bool galera;
        int probe_ret;              /* the session probe's query status */
        MYSQL_RES *probe_result;    /* its row, while being read */
        /* The MariaDB role the session runs under (db_role.c). Known only
         * after a SET ROLE that succeeded: a new session starts under the
         * account's default role, whatever that is (role_untouched), and a
         * request that names a role or no role sets it explicitly. */
        bool role_known;
        bool role_untouched; /* no SET ROLE since the session opened */
        char *role;       /* heap; NULL: none. Meaningful while role_known */
        unsigned statement_count;
        unsigned long statement_clock; /* ticks at each lookup, for last_used */
        db_cached_stmt_t statements[DB_CONN_MAX_STATEMENTS];
};

/** Prepares the conn's handles; it starts DOWN. Returns 0 or a UV error. */
int db_conn_init(db_conn_t *conn, uv_loop_t *loop, const db_conn_options_t *options);

/** Starts connecting a DOWN conn now; up_cb or connect_failed_cb tells the outcome. */
void db_conn_connect(db_conn_t *conn);

/**
 * Runs a client call: step(conn, 0) now, step(conn, events) as the socket
 * becomes ready, then done(conn). done may run before this returns. When the
 * socket cannot be watched, the call is ended the way a lost server ends it:
 * step sees the failure and done runs as for any other.
 */
void db_conn_drive(db_conn_t *conn, db_step_fn step, db_done_fn done, void *op);

/** Whether a client call is in progress (driven and not yet done). */
bool db_conn_is_calling(const db_conn_t *conn);

/**
 * Stops watching the socket of a conn whose call paused between two client
 * calls (a fetch waiting for the reader): the data stays in the socket.
 * The next db_conn_drive() watches it again.
 */
void db_conn_pause(db_conn_t *conn);

/**
 * Watches an UP conn with no call in progress: lost_cb tells when the server
 * closes it. Best effort: a socket that cannot be watched is found closed by
 * the next call instead.
 */
void db_conn_watch_idle(db_conn_t *conn);

/**
 * Closes the connection whatever it is doing (a call in progress is dropped
 * and its done never runs, a connect retry is cancelled); closed_cb runs
 * once it is down. Nothing on a conn already closing: its close goes on.
 */
void db_conn_close(db_conn_t *conn);

/** Stops the conn's handles for good; the loop sees them closed a turn later. */
void db_conn_done(db_conn_t *conn);

/**
 * Forgets the session's role (db_role.c): the next user sets it again.
 * Safe on a conn with no role recorded.
 */
void db_conn_forget_role(db_conn_t *conn);

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
