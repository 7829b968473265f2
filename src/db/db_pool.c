/*
 * A worker's slice of the connection pool. Connections are handed out on a
 * later loop turn through a uv_idle "dispatcher", never from inside the
 * caller's stack, so a request handler is never re-entered by its own acquire.
 */
#include "db/db_pool.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/db_conn.h"
#include "db/db_pool_events.h"

struct db_pool {
        uv_loop_t *loop;
        const config_t *config;
        db_conn_t *conns;
        unsigned size;
        unsigned conns_up;      /* IDLE or BUSY */
        bool down;              /* no conn is up and the last connect failed */
        db_conn_t *idle;        /* stack of idle conns */
        db_lease_t *waiters_head, *waiters_tail;
        unsigned queue_limit;
        uv_idle_t dispatcher;
        bool closing;
        unsigned closed_conns;
        unsigned leaked_leases;
        void (*closed_cb)(void *arg);
        void *closed_arg;
        atomic_uint idle_count, busy_count, waiting_count;
};

const config_t *db_pool_config(const db_pool_t *pool)
{
        return pool->config;
}

static void dispatch_cb(uv_idle_t *handle);

int db_pool_new(db_pool_t **ret_pool, uv_loop_t *loop, const config_t *config, unsigned size,
                unsigned queue_limit)
{
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
        pool->loop = loop;
        pool->config = config;
        pool->size = size;
        pool->queue_limit = queue_limit;
        uv_idle_init(loop, &pool->dispatcher);
        pool->dispatcher.data = pool;
        for (unsigned i = 0; i < size; i++)
                db_conn_init(&pool->conns[i], pool, loop);
        for (unsigned i = 0; i < size; i++)
                db_conn_connect(&pool->conns[i]);
        *ret_pool = pool;
        return 0;
}

/* ---- the idle stack and the wait queue ---- */

static void push_idle(db_pool_t *pool, db_conn_t *conn)
{
        conn->state = CONN_IDLE;
        conn->next_idle = pool->idle;
        pool->idle = conn;
        atomic_fetch_add(&pool->idle_count, 1);
        db_conn_watch_idle(conn);
        if (pool->waiters_head != NULL)
                uv_idle_start(&pool->dispatcher, dispatch_cb);
}

static db_conn_t *pop_idle(db_pool_t *pool)
{
        db_conn_t *conn = pool->idle;

        if (conn == NULL)
                return NULL;
        pool->idle = conn->next_idle;
        conn->next_idle = NULL;
        atomic_fetch_sub(&pool->idle_count, 1);
        return conn;
}

static void remove_idle(db_pool_t *pool, db_conn_t *conn)
{
        for (db_conn_t **p = &pool->idle; *p != NULL; p = &(*p)->next_idle) {
                if (*p == conn) {
                        *p = conn->next_idle;
                        conn->next_idle = NULL;
                        atomic_fetch_sub(&pool->idle_count, 1);
                        return;
                }
        }
}

static void enqueue(db_pool_t *pool, db_lease_t *lease)
{
        lease->prev = pool->waiters_tail;
        lease->next = NULL;
        if (pool->waiters_tail)
                pool->waiters_tail->next = lease;
        else
                pool->waiters_head = lease;
        pool->waiters_tail = lease;
        lease->queued = true;
        atomic_fetch_add(&pool->waiting_count, 1);
}

static void dequeue(db_pool_t *pool, db_lease_t *lease)
{
        if (lease->prev)
                lease->prev->next = lease->next;
        else
                pool->waiters_head = lease->next;
        if (lease->next)
                lease->next->prev = lease->prev;
        else
                pool->waiters_tail = lease->prev;
        lease->prev = lease->next = NULL;
        lease->queued = false;
        atomic_fetch_sub(&pool->waiting_count, 1 + lease->riders);
        lease->riders = 0;
}

static void fail_waiters(db_pool_t *pool, int status)
{
        while (pool->waiters_head != NULL) {
                db_lease_t *lease = pool->waiters_head;
                dequeue(pool, lease);
                lease->cb(lease, status, lease->data);
        }
}

static void grant(db_pool_t *pool, db_lease_t *lease, db_conn_t *conn)
{
        conn->state = CONN_BUSY;
        conn->lease = lease;
        lease->conn = conn;
        lease->clean = true;
        atomic_fetch_add(&pool->busy_count, 1);
        lease->cb(lease, 0, lease->data);
}

static void dispatch_cb(uv_idle_t *handle)
{
        db_pool_t *pool = handle->data;

        while (pool->waiters_head != NULL && pool->idle != NULL) {
                db_lease_t *lease = pool->waiters_head;
                dequeue(pool, lease);
                grant(pool, lease, pop_idle(pool));
        }
        uv_idle_stop(handle);
}

/* ---- leases ---- */

static void lease_release(void *arg)
{
        db_lease_t *lease = arg;
        db_pool_t *pool = lease->pool;
        db_conn_t *conn = lease->conn;

        if (lease->queued)
                dequeue(pool, lease);
        if (conn == NULL)
                return;
        lease->conn = NULL;
        conn->lease = NULL;
        atomic_fetch_sub(&pool->busy_count, 1);
        if (pool->closing) {
                db_conn_close(conn, false);
        } else if (!lease->clean || lease->broken || conn->step != NULL) {
                /* A statement may still run or have rows unread: never lend
                 * such a connection again; reopen it instead. */
                pool->conns_up--;
                db_conn_close(conn, true);
        } else {
                push_idle(pool, conn);
        }
}

/* Queued leases include those the idle connections will take on the next
 * turn: only the rest count against the limit. */
static bool queue_is_full(const db_pool_t *pool)
{
        return atomic_load(&pool->waiting_count) >=
               atomic_load(&pool->idle_count) + pool->queue_limit;
}

int db_pool_acquire(db_pool_t *pool, scope_t *scope, db_lease_cb cb, void *data,
                    db_lease_t **ret_lease)
{
        if (pool->closing)
                return -ESHUTDOWN;
        if (pool->idle == NULL && pool->down)
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
        lease->cb = cb;
        lease->data = data;
        enqueue(pool, lease);
        if (pool->idle != NULL)
                uv_idle_start(&pool->dispatcher, dispatch_cb);
        if (ret_lease != NULL)
                *ret_lease = lease;
        return 0;
}

int db_pool_add_rider(db_lease_t *lease)
{
        db_pool_t *pool = lease->pool;

        if (!lease->queued)
                return -EALREADY;
        if (queue_is_full(pool))
                return -EAGAIN;
        lease->riders++;
        atomic_fetch_add(&pool->waiting_count, 1);
        return 0;
}

void db_pool_drop_rider(db_lease_t *lease)
{
        if (!lease->queued || lease->riders == 0)
                return;
        lease->riders--;
        atomic_fetch_sub(&lease->pool->waiting_count, 1);
}

void db_pool_release(db_lease_t *lease)
{
        scope_release_now(lease->release);
}

bool db_pool_is_up(const db_pool_t *pool)
{
        return !pool->down;
}

void db_pool_get_stats(const db_pool_t *pool, db_pool_stats_t *s)
{
        s->size = pool->size;
        s->idle = atomic_load(&pool->idle_count);
        s->busy = atomic_load(&pool->busy_count);
        s->waiting = atomic_load(&pool->waiting_count);
}

/* ---- what connections report ---- */

void db_pool_on_conn_up(db_pool_t *pool, db_conn_t *conn)
{
        if (pool->down)
                log_info("database reachable again");
        pool->down = false;
        pool->conns_up++;
        if (conn->was_up)
                metrics_count_reconnect();
        conn->was_up = true;
        if (pool->closing) {
                db_conn_close(conn, false);
                return;
        }
        push_idle(pool, conn);
}

void db_pool_on_connect_failed(db_pool_t *pool, db_conn_t *conn, unsigned err, const char *message)
{
        (void)conn;
        if (pool->conns_up > 0 || pool->down)
                return;
        /* The first failure with nothing up: say so once, and stop making
         * requests wait for a database that is not there. */
        pool->down = true;
        log_error("database unreachable: %s (errno %u)", message, err);
        fail_waiters(pool, -ENOTCONN);
}

void db_pool_on_idle_conn_lost(db_pool_t *pool, db_conn_t *conn)
{
        remove_idle(pool, conn);
        pool->conns_up--;
}

static void close_handles(db_pool_t *pool)
{
        for (unsigned i = 0; i < pool->size; i++)
                db_conn_done(&pool->conns[i]);
        uv_close((uv_handle_t *)&pool->dispatcher, NULL);
        pool->closed_cb(pool->closed_arg);
}

void db_pool_on_conn_closed(db_pool_t *pool, db_conn_t *conn)
{
        (void)conn;
        if (pool->closing && ++pool->closed_conns == pool->size)
                close_handles(pool);
}

/* ---- shutdown ---- */

void db_pool_close(db_pool_t *pool, void (*closed_cb)(void *arg), void *arg)
{
        pool->closing = true;
        pool->closed_cb = closed_cb;
        pool->closed_arg = arg;
        fail_waiters(pool, -ESHUTDOWN);
        while (pop_idle(pool) != NULL)
                ;
        for (unsigned i = 0; i < pool->size; i++) {
                db_conn_t *conn = &pool->conns[i];
                if (conn->lease != NULL) {
                        /* Every request has finished by now: a lease still out
                         * is a leak. Take the connection back regardless. */
                        pool->leaked_leases++;
                        conn->lease->conn = NULL;
                        conn->lease = NULL;
                        atomic_fetch_sub(&pool->busy_count, 1);
                }
                if (conn->state == CONN_CLOSING)
                        conn->reconnect_after_close = false;
                else
                        db_conn_close(conn, false);
        }
}

unsigned db_pool_free(db_pool_t *pool)
{
        unsigned leaked = pool->leaked_leases;

        free(pool->conns);
        free(pool);
        return leaked;
}
