/*
 * One worker's slice of the connection pool: idle connections, a bounded
 * queue of requests waiting for one, and reconnection of broken ones. The
 * pool alone decides whether a connection is idle, lent, or to be reopened;
 * connections report their link's events to it, and statements (db_query.c)
 * their outcome. A pool belongs to one loop and is used from that loop's
 * thread only.
 */
#ifndef QUERYD_DB_POOL_H
#define QUERYD_DB_POOL_H

#include <stdbool.h>
#include <uv.h>

#include "core/config.h"
#include "core/list.h"
#include "core/scope.h"

/* A released statement gets this long to end once its KILL is asked for;
 * past it, its connection is reopened instead. */
enum { DB_POOL_DRAIN_MS = 1000 };

typedef struct db_pool db_pool_t;
typedef struct db_conn db_conn_t;
typedef struct db_lease db_lease_t;

/** status is 0 with lease->conn set, or -ENOTCONN when the database went down. */
typedef void (*db_lease_cb)(db_lease_t *lease, int status, void *data);

/** A request's claim on a connection; lives in the request's scope. */
struct db_lease {
        db_pool_t *pool;
        db_conn_t *conn;   /* set once granted */
        db_lease_cb cb;
        void *data;
        unsigned riders;         /* other requests waiting on this lease (db_pool_add_rider) */
        scope_defer_t *release;  /* the scope's hold on the lease */
        /* the pool's own */
        scope_t *scope;          /* the holder's, kept alive while a released statement ends */
        scope_t *statement_scope; /* the running statement's memory when not scope's:
                                     kept alive with it */
        list_node_t queue_node;  /* on the wait queue until granted */
        bool statement_open;     /* a statement started and has not finished */
        bool broken;             /* a statement failed at the client level */
        bool transaction_open;   /* the holder began a transaction and has not ended it */
        bool detached;           /* released while its statement ran: the pool ends it */
        void (*resume)(void *op); /* continues a statement paused between calls */
        void *resume_op;
};

typedef struct db_pool_stats {
        unsigned size;
        unsigned idle;
        unsigned busy;
        unsigned waiting;
} db_pool_stats_t;

/**
 * The database became reachable again after being unreachable (up true, err
 * 0, message NULL), or nothing is up and a connect failed with the client's
 * err and message (up false). Once per change; the layer above logs it.
 */
typedef void (*db_pool_state_cb)(bool up, unsigned err, const char *message, void *data);

typedef struct db_pool_options {
        const db_target_t *target; /* where and as whom to connect; outlives the pool */
        const char *time_zone;     /* the sessions' time zone, "+HH:MM"; outlives the pool */
        unsigned size;             /* connections */
        unsigned queue_limit;      /* requests that may wait beyond the idle connections */
        db_pool_state_cb state_cb; /* or NULL */
        void *state_data;
        bool track_position;       /* sessions report @@last_gtid (db_query_t.last_gtid) */
} db_pool_options_t;

/**
 * Creates a pool of options->size connections and starts connecting them
 * (state_cb may run before this returns). The options are copied. Returns 0,
 * -EINVAL for size 0, or -ENOMEM.
 */
int db_pool_new(db_pool_t **ret_pool, uv_loop_t *loop, const db_pool_options_t *options);

/**
 * Asks for a connection for the request that owns scope. The lease is
 * released when the scope closes: the connection goes back to the pool, or is
 * reopened if a statement on it failed at the client level or a transaction
 * on it is still open. A statement still running is stopped first (KILL
 * QUERY over a connection of the pool's own, to the same server) and its
 * rest read and dropped, with the scope's memory kept until then; the
 * connection is then lent again, or reopened when the KILL cannot be sent
 * or the statement does not end within DB_POOL_DRAIN_MS.
 * cb runs exactly once, on a later loop turn,
 * unless this returns an error: -EAGAIN when the wait queue is full,
 * -ENOTCONN when the database is down, -ENOMEM, -ESHUTDOWN while closing,
 * -ECANCELED when the scope is already closed.
 */
int db_pool_acquire(db_pool_t *pool, scope_t *scope, db_lease_cb cb, void *data,
                    db_lease_t **ret_lease);

/**
 * Counts one more request waiting for lease, which is still queued: a
 * request that will share the lease's statement (coalesced lookups). Riders
 * count against the queue limit as waiters of their own do. Returns 0,
 * -EAGAIN when the queue is full, or -EALREADY when the lease is no longer
 * queued.
 */
int db_pool_add_rider(db_lease_t *lease);

/** A rider stopped waiting before its lease was granted. */
void db_pool_drop_rider(db_lease_t *lease);

/** Gives the connection back before the scope closes (the scope then does nothing). */
void db_pool_release(db_lease_t *lease);

/**
 * The holder of a granted lease says that a transaction is open on its
 * connection (open true, after START TRANSACTION succeeded) or no longer is
 * (after COMMIT or ROLLBACK succeeded). A lease released with a transaction
 * open never hands it on: the connection is reopened, which makes the
 * server roll the transaction back, and queryd_db_transactions_abandoned_total
 * counts it.
 */
void db_pool_transaction_open(db_lease_t *lease, bool open);

/** Whether some connection is up (or the database has not been tried yet). */
bool db_pool_is_up(const db_pool_t *pool);

/** Current counts; safe to call from any thread (the figures are atomics). */
void db_pool_get_stats(const db_pool_t *pool, db_pool_stats_t *ret_stats);

/**
 * Fails every waiter, closes every connection (one still lent is taken back
 * and counted as leaked: every request should have finished) and calls
 * closed_cb once all are closed, possibly before this returns; the handles
 * are gone after the following loop turn. Then db_pool_free().
 */
void db_pool_close(db_pool_t *pool, void (*closed_cb)(void *arg), void *arg);

/** Frees a closed pool; the count of leases never returned, 0 if none leaked. */
unsigned db_pool_free(db_pool_t *pool);

/* What a statement on a lease reports (db_query.c; request code has no use
 * for these). They decide what the lease's release does with the connection. */

/** A statement starts on the lease's connection: until it finishes, the
 * connection has a statement running or results unread. memory holds what
 * the statement reads into: if the lease is released meanwhile, it stays,
 * with the lease's scope, until the statement has ended on the server. */
void db_pool_statement_started(db_lease_t *lease, scope_t *memory);

/**
 * The statement finished: successfully or with a server-level error (the
 * connection may be lent again), or with conn_broken for a client-level
 * error (the connection is unusable: its release reopens it). Returns true
 * when the statement's holder is to hear of it; false when the lease was
 * released while the statement ran (lease->detached): the pool has taken
 * the connection back, and the statement's memory, which is in the released
 * lease's scope, may be gone once this returns.
 */
bool db_pool_statement_finished(db_lease_t *lease, bool conn_broken);

/**
 * The statement stopped between two client calls, with results unread
 * (a paused fetch): should the lease be released meanwhile, the pool calls
 * resume(op) to read on, with the statement detached. Cleared when the
 * statement finishes or resumes (resume NULL).
 */
void db_pool_statement_paused(db_lease_t *lease, void (*resume)(void *op), void *op);

#endif
