/*
 * A worker's slice of the connection pool. Connections are handed out on a
 * later loop turn through a uv_idle "dispatcher", never from inside the
 * caller's stack, so a request handler is never re-entered by its own acquire.
 *
 * Each connection has a record here saying whether it is idle (on the idle
 * stack) or lent (to a lease); its link (down, connecting, up, closing) is
 * db_conn's. Connections report link events, statements report outcomes, and
 * only this file decides to lend, keep or reopen a connection.
 */
#include "db/db_pool.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "db/db_conn.h"
#include "db/db_killer.h"

/* The pool's record of one connection. */
typedef struct pooled_conn {
        db_conn_t conn;
        list_node_t idle_node; /* on pool->idle while idle */
        db_lease_t *lease;     /* while lent */
        bool was_up;           /* it has been connected before: the next up is a reconnect */
        /* Draining: its lease was released with a statement running, which
         * is being stopped; the lease's scope is held until it ends. */
        db_lease_t *drained;
        uv_timer_t drain_timer; /* DB_POOL_DRAIN_MS: then reopened instead */
        bool idle_after_kill;  /* the statement ended while its KILL is in flight */
} pooled_conn_t;

struct db_pool {
        uv_loop_t *loop;
        db_pool_options_t options;
        pooled_conn_t *conns;
        unsigned conns_up;      /* idle or lent */
        bool down;              /* no conn is up and the last connect failed */
        list_node_t idle;       /* idle conns, most recently used first */
        list_node_t waiters;    /* leases waiting for a conn, oldest first */
        uv_idle_t dispatcher;
        db_killer_t *killer;    /* stops statements whose lease was released */
        bool closing;
        unsigned closed_conns;
        bool killer_closed;
        unsigned leaked_leases;
        void (*closed_cb)(void *arg);
        void *closed_arg;
        atomic_uint idle_count, busy_count, waiting_count;
};

static const db_conn_events_t conn_events;

static void dispatch_cb(uv_idle_t *handle);
static void kill_done(db_conn_t *victim, int status, void *data);

static pooled_conn_t *pooled(db_conn_t *conn)
{
        return list_entry(conn, pooled_conn_t, conn);
}

int db_pool_new(db_pool_t **ret_pool, uv_loop_t *loop, const db_pool_options_t *options)
{
        unsigned size = options->size;
        db_pool_t *pool = size > 0 ? calloc(1, sizeof(*pool)) : NULL;

        *ret_pool = NULL;
        if (size == 0)
                return -EINVAL;
        if (pool == NULL)
                return -ENOMEM;
        pool->conns = calloc(size, sizeof(*pool->conns));
        if (pool->conns == NULL) {
                free(pool);
                return -ENOMEM;
        }
        db_killer_options_t killer_options = {
                .target = options->target,
                .time_zone = options->time_zone,
                .capacity = size,
                .timeout_ms = DB_POOL_DRAIN_MS,
                .done = kill_done,
                .data = pool,
        };
        if (db_killer_new(&pool->killer, loop, &killer_options) < 0) {
                free(pool->conns);
                free(pool);
                return -ENOMEM;
        }
        pool->loop = loop;
        pool->options = *options;
        list_init(&pool->idle);
        list_init(&pool->waiters);
        uv_idle_init(loop, &pool->dispatcher);
        pool->dispatcher.data = pool;
        db_conn_options_t conn_options = {
                .target = options->target,
                .time_zone = options->time_zone,
                .events = &conn_events,
                .owner = pool,
                .track_position = options->track_position,
        };
        for (unsigned i = 0; i < size; i++) {
                db_conn_init(&pool->conns[i].conn, loop, &conn_options);
                uv_timer_init(loop, &pool->conns[i].drain_timer);
                pool->conns[i].drain_timer.data = &pool->conns[i];
        }
        for (unsigned i = 0; i < size; i++)
                db_conn_connect(&pool->conns[i].conn);
        *ret_pool = pool;
        return 0;
}

static void report_state(db_pool_t *pool, bool up, unsigned err, const char *message)
{
        if (pool->options.state_cb != NULL)
                pool->options.state_cb(up, err, message, pool->options.state_data);
}

/* ---- the idle stack and the wait queue ---- */

static bool has_idle(const db_pool_t *pool)
{
        return !list_is_empty(&pool->idle);
}

static void push_idle(db_pool_t *pool, pooled_conn_t *pc)
{
        list_push_head(&pool->idle, &pc->idle_node);
        atomic_fetch_add(&pool->idle_count, 1);
        db_conn_watch_idle(&pc->conn);
        if (!list_is_empty(&pool->waiters))
                uv_idle_start(&pool->dispatcher, dispatch_cb);
}

static void remove_idle(db_pool_t *pool, pooled_conn_t *pc)
{
        list_remove(&pc->idle_node);
        atomic_fetch_sub(&pool->idle_count, 1);
}

static pooled_conn_t *pop_idle(db_pool_t *pool)
{
        list_node_t *node = list_first(&pool->idle);

        if (node == NULL)
                return NULL;
        pooled_conn_t *pc = list_entry(node, pooled_conn_t, idle_node);
        remove_idle(pool, pc);
        return pc;
}

static bool is_queued(const db_lease_t *lease)
{
        return list_is_linked(&lease->queue_node);
}

static void enqueue(db_pool_t *pool, db_lease_t *lease)
{
        list_push_tail(&pool->waiters, &lease->queue_node);
        atomic_fetch_add(&pool->waiting_count, 1);
}

static void dequeue(db_pool_t *pool, db_lease_t *lease)
{
        list_remove(&lease->queue_node);
        atomic_fetch_sub(&pool->waiting_count, 1 + lease->riders);
        lease->riders = 0;
}

static db_lease_t *first_waiter(const db_pool_t *pool)
{
        list_node_t *node = list_first(&pool->waiters);

        return node == NULL ? NULL : list_entry(node, db_lease_t, queue_node);
}

static void fail_waiters(db_pool_t *pool, int status)
{
        db_lease_t *lease;

        while ((lease = first_waiter(pool)) != NULL) {
                dequeue(pool, lease);
                lease->cb(lease, status, lease->data);
        }
}

static void grant(db_pool_t *pool, db_lease_t *lease, pooled_conn_t *pc)
{
        pc->lease = lease;
        lease->conn = &pc->conn;
        lease->statement_open = false;
        lease->broken = false;
        lease->transaction_open = false;
        atomic_fetch_add(&pool->busy_count, 1);
        lease->cb(lease, 0, lease->data);
}

static void dispatch_cb(uv_idle_t *handle)
{
        db_pool_t *pool = handle->data;
        db_lease_t *lease;

        while (has_idle(pool) && (lease = first_waiter(pool)) != NULL) {
                dequeue(pool, lease);
                grant(pool, lease, pop_idle(pool));
        }
        uv_idle_stop(handle);
}

/* ---- draining a statement whose lease was released ---- */

/* A connection that will not be lent again: closed, and reopened by conn_closed. */
static void reopen(db_pool_t *pool, pooled_conn_t *pc)
{
        pool->conns_up--;
        db_conn_close(&pc->conn);
}

/*
 * The drained statement ended (reuse: cleanly, with no transaction left
 * open), or is given up on. The connection stops counting as busy; the
 * lease's scope, and with it the statement's memory, may go here.
 */
static void end_drain(db_pool_t *pool, pooled_conn_t *pc, bool reuse)
{
        db_lease_t *lease = pc->drained;
        scope_t *scope = lease->scope, *memory = lease->statement_scope;

        pc->drained = NULL;
        lease->statement_scope = NULL;
        lease->conn = NULL;
        uv_timer_stop(&pc->drain_timer);
        atomic_fetch_sub(&pool->busy_count, 1);
        if (reuse && !pool->closing && db_killer_is_killing(pool->killer, &pc->conn)) {
                /* Lent now, the connection's next statement could meet the KILL. */
                pc->idle_after_kill = true;
        } else {
                db_killer_cancel(pool->killer, &pc->conn);
                if (reuse && !pool->closing)
                        push_idle(pool, pc);
                else if (!pool->closing) /* while closing, db_pool_close() closes it */
                        reopen(pool, pc);
        }
        if (memory != NULL)
                scope_unref(memory);
        scope_unref(scope);
}

static void drain_timeout_cb(uv_timer_t *timer)
{
        pooled_conn_t *pc = timer->data;

        end_drain(pc->conn.options.owner, pc, false);
}

static void kill_done(db_conn_t *victim, int status, void *data)
{
        db_pool_t *pool = data;
        pooled_conn_t *pc = pooled(victim);

        if (pc->idle_after_kill) {
                pc->idle_after_kill = false;
                if (status == 0)
                        push_idle(pool, pc);
                else
                        reopen(pool, pc); /* the KILL may still land on its next statement */
        } else if (pc->drained != NULL && status < 0) {
                end_drain(pool, pc, false); /* as before there was a KILL: reopened */
        }
}

/*
 * Takes back a connection whose statement still runs: stops the statement
 * and reads the rest of it, holding the lease's scope and the statement's
 * own so that its memory stays until then. False when it cannot be (the caller reopens it).
 */
static bool start_drain(db_pool_t *pool, pooled_conn_t *pc, db_lease_t *lease)
{
        if (pc->conn.state != DB_CONN_UP || pc->conn.mysql == NULL || lease->scope == NULL ||
            (!db_conn_is_calling(&pc->conn) && lease->resume == NULL))
                return false; /* nothing would ever end the statement */
        lease->detached = true;
        pc->drained = lease;
        scope_ref(lease->scope);
        if (lease->statement_scope != NULL)
                scope_ref(lease->statement_scope);
        uv_timer_start(&pc->drain_timer, drain_timeout_cb, DB_POOL_DRAIN_MS, 0);
        if (lease->resume != NULL) {
                void (*resume)(void *op) = lease->resume;
                lease->resume = NULL;
                resume(lease->resume_op); /* may end the drain before it returns */
        }
        if (pc->drained == lease)
                db_killer_kill(pool->killer, &pc->conn); /* may also end it */
        return true;
}

/* ---- leases ---- */

static void lease_release(void *arg)
{
        db_lease_t *lease = arg;
        db_pool_t *pool = lease->pool;

        if (is_queued(lease))
                dequeue(pool, lease);
        if (lease->conn == NULL)
                return;
        pooled_conn_t *pc = pooled(lease->conn);
        pc->lease = NULL;
        if (lease->transaction_open)
                metrics_count_transaction_abandoned();
        /* Busy until the statement has ended on the server. */
        if (!pool->closing && lease->statement_open && !lease->broken &&
            start_drain(pool, pc, lease))
                return;
        lease->conn = NULL;
        atomic_fetch_sub(&pool->busy_count, 1);
        if (pool->closing) {
                db_conn_close(&pc->conn);
        } else if (lease->statement_open || lease->broken || lease->transaction_open ||
                   db_conn_is_calling(&pc->conn)) {
                /* A statement may still run or have rows unread, the link
                 * failed under it, or a transaction is open on it: never lend
                 * such a connection again; reopen it instead (conn_closed
                 * connects it). Closing the session rolls its transaction back. */
                pool->conns_up--;
                db_conn_close(&pc->conn);
        } else {
                push_idle(pool, pc);
        }
}

/* Queued leases include those the idle connections will take on the next
 * turn: only the rest count against the limit. */
static bool queue_is_full(const db_pool_t *pool)
{
        return atomic_load(&pool->waiting_count) >=
               atomic_load(&pool->idle_count) + pool->options.queue_limit;
}

int db_pool_acquire(db_pool_t *pool, scope_t *scope, db_lease_cb cb, void *data,
                    db_lease_t **ret_lease)
{
        if (pool->closing)
                return -ESHUTDOWN;
        if (!has_idle(pool) && pool->down)
                return -ENOTCONN;
        if (queue_is_full(pool))
                return -EAGAIN;
        db_lease_t *lease = scope_alloc(scope, sizeof(*lease));
        if (lease == NULL)
                return -ENOMEM;
        int r = scope_defer(scope, lease_release, lease, &lease->release);
        if (r < 0)
                return r;
        lease->pool = pool;
        lease->scope = scope;
        lease->cb = cb;
        lease->data = data;
        enqueue(pool, lease);
        if (has_idle(pool))
                uv_idle_start(&pool->dispatcher, dispatch_cb);
        if (ret_lease != NULL)
                *ret_lease = lease;
        return 0;
}

int db_pool_add_rider(db_lease_t *lease)
{
        db_pool_t *pool = lease->pool;

        if (!is_queued(lease))
                return -EALREADY;
        if (queue_is_full(pool))
                return -EAGAIN;
        lease->riders++;
        atomic_fetch_add(&pool->waiting_count, 1);
        return 0;
}

void db_pool_drop_rider(db_lease_t *lease)
{
        if (!is_queued(lease) || lease->riders == 0)
                return;
        lease->riders--;
        atomic_fetch_sub(&lease->pool->waiting_count, 1);
}

void db_pool_release(db_lease_t *lease)
{
        scope_release_now(lease->release);
}

void db_pool_transaction_open(db_lease_t *lease, bool open)
{
        lease->transaction_open = open;
}

bool db_pool_is_up(const db_pool_t *pool)
{
        return !pool->down;
}

void db_pool_get_stats(const db_pool_t *pool, db_pool_stats_t *s)
{
        s->size = pool->options.size;
        s->idle = atomic_load(&pool->idle_count);
        s->busy = atomic_load(&pool->busy_count);
        s->waiting = atomic_load(&pool->waiting_count);
}

/* ---- what statements report ---- */

void db_pool_statement_started(db_lease_t *lease, scope_t *memory)
{
        lease->statement_open = true;
        lease->statement_scope = memory != lease->scope ? memory : NULL;
}

bool db_pool_statement_finished(db_lease_t *lease, bool conn_broken)
{
        lease->statement_open = false;
        lease->resume = NULL;
        if (conn_broken)
                lease->broken = true;
        if (!lease->detached) {
                lease->statement_scope = NULL;
                return true;
        }
        /* A statement ended at the server's will, or by the KILL. */
        end_drain(lease->pool, pooled(lease->conn), !lease->broken && !lease->transaction_open);
        return false;
}

void db_pool_statement_paused(db_lease_t *lease, void (*resume)(void *op), void *op)
{
        lease->resume = resume;
        lease->resume_op = op;
}

/* ---- what connections report ---- */

static void conn_up(db_conn_t *conn, void *owner)
{
        db_pool_t *pool = owner;
        pooled_conn_t *pc = pooled(conn);

        if (pool->down)
                report_state(pool, true, 0, NULL);
        pool->down = false;
        pool->conns_up++;
        if (pc->was_up)
                metrics_count_reconnect();
        pc->was_up = true;
        if (pool->closing) {
                db_conn_close(conn);
                return;
        }
        push_idle(pool, pc);
}

static void conn_connect_failed(db_conn_t *conn, unsigned err, const char *message, void *owner)
{
        db_pool_t *pool = owner;

        (void)conn;
        if (pool->conns_up > 0 || pool->down)
                return;
        /* The first failure with nothing up: say so once, and stop making
         * requests wait for a database that is not there. */
        pool->down = true;
        report_state(pool, false, err, message);
        fail_waiters(pool, -ENOTCONN);
}

static void conn_lost(db_conn_t *conn, void *owner)
{
        db_pool_t *pool = owner;
        pooled_conn_t *pc = pooled(conn);

        /* A lent conn is left to its borrower: the next statement fails on
         * it, and the lease's release reopens it. */
        if (!list_is_linked(&pc->idle_node))
                return;
        remove_idle(pool, pc);
        pool->conns_up--;
        db_conn_close(conn);
}

static void close_handles(db_pool_t *pool)
{
        for (unsigned i = 0; i < pool->options.size; i++) {
                db_conn_done(&pool->conns[i].conn);
                uv_close((uv_handle_t *)&pool->conns[i].drain_timer, NULL);
        }
        db_killer_done(pool->killer);
        uv_close((uv_handle_t *)&pool->dispatcher, NULL);
        pool->closed_cb(pool->closed_arg);
}

static void close_handles_when_closed(db_pool_t *pool)
{
        if (pool->closed_conns == pool->options.size && pool->killer_closed)
                close_handles(pool);
}

static void conn_closed(db_conn_t *conn, void *owner)
{
        db_pool_t *pool = owner;

        if (!pool->closing) {
                db_conn_connect(conn); /* every close but the last one reopens */
                return;
        }
        pool->closed_conns++;
        close_handles_when_closed(pool);
}

static void killer_closed(void *arg)
{
        db_pool_t *pool = arg;

        pool->killer_closed = true;
        close_handles_when_closed(pool);
}

static const db_conn_events_t conn_events = {
        .up_cb = conn_up,
        .connect_failed_cb = conn_connect_failed,
        .lost_cb = conn_lost,
        .closed_cb = conn_closed,
};

/* ---- shutdown ---- */

void db_pool_close(db_pool_t *pool, void (*closed_cb)(void *arg), void *arg)
{
        pool->closing = true;
        pool->closed_cb = closed_cb;
        pool->closed_arg = arg;
        fail_waiters(pool, -ESHUTDOWN);
        while (pop_idle(pool) != NULL)
                ;
        for (unsigned i = 0; i < pool->options.size; i++) {
                pooled_conn_t *pc = &pool->conns[i];
                pc->idle_after_kill = false;
                if (pc->drained != NULL) {
                        /* Closed while the statement's memory is still held:
                         * the close ends the call in progress. */
                        db_conn_close(&pc->conn);
                        end_drain(pool, pc, false);
                        continue;
                }
                if (pc->lease != NULL) {
                        /* Every request has finished by now: a lease still out
                         * is a leak. Take the connection back regardless. */
                        pool->leaked_leases++;
                        pc->lease->conn = NULL;
                        pc->lease = NULL;
                        atomic_fetch_sub(&pool->busy_count, 1);
                }
                /* A conn already closing finishes its close and reports it. */
                db_conn_close(&pc->conn);
        }
        db_killer_close(pool->killer, killer_closed, pool);
}

unsigned db_pool_free(db_pool_t *pool)
{
        unsigned leaked = pool->leaked_leases;

        db_killer_free(pool->killer);
        free(pool->conns);
        free(pool);
        return leaked;
}
