/*
 * KILL QUERY over a connection of the killer's own. The connection opens
 * when a kill first waits, stays open for the next ones, and is closed
 * (not retried) when it fails: the kills waiting then fail, and the pool
 * falls back to reopening their connections.
 */
#include "db/db_killer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

typedef struct kill_order {
        db_conn_t *victim;
        unsigned long thread_id; /* the victim's session, as it was when the kill was asked */
        unsigned host_index;     /* the server it is on */
} kill_order_t;

struct db_killer {
        db_conn_t conn;
        uv_timer_t watchdog;     /* bounds a connect or a KILL */
        db_killer_options_t options;
        kill_order_t *queue;     /* waiting, oldest first */
        unsigned count;
        kill_order_t killing;    /* the KILL in flight: victim NULL when none, or cancelled */
        bool sending;            /* a KILL is in flight (killing.victim may be cancelled) */
        bool closing;
        void (*closed_cb)(void *arg);
        void *closed_arg;
        char sql[48];
        int ret;
};

static const db_conn_events_t killer_events;

int db_killer_new(db_killer_t **ret_killer, uv_loop_t *loop, const db_killer_options_t *options)
{
        db_killer_t *k = calloc(1, sizeof(*k));

        *ret_killer = NULL;
        if (k == NULL)
                return -ENOMEM;
        k->options = *options;
        k->queue = calloc(options->capacity ? options->capacity : 1, sizeof(*k->queue));
        if (k->queue == NULL) {
                free(k);
                return -ENOMEM;
        }
        db_conn_options_t conn_options = {
                .target = options->target,
                .time_zone = options->time_zone,
                .events = &killer_events,
                .owner = k,
                .one_host = true, /* a thread id means something on its own server only */
        };
        int r = db_conn_init(&k->conn, loop, &conn_options);
        if (r == 0)
                r = uv_timer_init(loop, &k->watchdog);
        if (r < 0) {
                free(k->queue);
                free(k);
                return r;
        }
        k->watchdog.data = k;
        *ret_killer = k;
        return 0;
}

static void report(db_killer_t *k, db_conn_t *victim, int status)
{
        if (victim != NULL)
                k->options.done(victim, status, k->options.data);
}

/* Fails every kill waiting and the one in flight: the connection is gone. */
static void fail_all(db_killer_t *k, int status)
{
        db_conn_t *in_flight = k->killing.victim;

        k->killing.victim = NULL;
        report(k, in_flight, status);
        while (k->count > 0) {
                db_conn_t *victim = k->queue[0].victim;
                memmove(k->queue, k->queue + 1, --k->count * sizeof(*k->queue));
                report(k, victim, status);
        }
}

static void give_up(db_killer_t *k, int status)
{
        uv_timer_stop(&k->watchdog);
        fail_all(k, status);
        db_conn_close(&k->conn); /* also drops a connect retry: the next kill connects anew */
}

static void watchdog_cb(uv_timer_t *timer)
{
        give_up(timer->data, -ETIMEDOUT);
}

/* ---- the KILL ---- */

static void kick(db_killer_t *k);

static int kill_step(db_conn_t *conn, int ready)
{
        db_killer_t *k = conn->op;

        if (ready == 0)
                return mysql_real_query_start(&k->ret, conn->mysql, k->sql, strlen(k->sql));
        return mysql_real_query_cont(&k->ret, conn->mysql, ready);
}

static void kill_done(db_conn_t *conn)
{
        db_killer_t *k = conn->op;
        db_conn_t *victim = k->killing.victim;
        unsigned err = k->ret == 0 ? 0 : mysql_errno(conn->mysql);

        uv_timer_stop(&k->watchdog);
        k->sending = false;
        k->killing.victim = NULL;
        if (err >= 2000 && err < 3000) { /* the link failed: the KILL may not have arrived */
                report(k, victim, -EIO);
                give_up(k, -ENOTCONN);
                return;
        }
        /* 1094 (no such thread): the victim's session is gone, so is its statement. */
        if (err == 0)
                metrics_count_query_killed();
        report(k, victim, err == 0 || err == 1094 ? 0 : -EIO);
        db_conn_watch_idle(conn);
        kick(k);
}

static void send_kill(db_killer_t *k)
{
        k->killing = k->queue[0];
        memmove(k->queue, k->queue + 1, --k->count * sizeof(*k->queue));
        k->sending = true;
        snprintf(k->sql, sizeof(k->sql), "KILL QUERY %lu", k->killing.thread_id);
        uv_timer_start(&k->watchdog, watchdog_cb, k->options.timeout_ms, 0);
        db_conn_drive(&k->conn, kill_step, kill_done, k);
}

/* Sends the next KILL, connecting (to the right server) first if need be. */
static void kick(db_killer_t *k)
{
        if (k->closing || k->sending || k->count == 0)
                return;
        unsigned host = k->queue[0].host_index;
        switch (k->conn.state) {
        case DB_CONN_DOWN:
                k->conn.host_index = host;
                uv_timer_start(&k->watchdog, watchdog_cb, k->options.timeout_ms, 0);
                db_conn_connect(&k->conn);
                return;
        case DB_CONN_UP:
                if (k->conn.host_index != host) {
                        db_conn_close(&k->conn); /* closed: connects to the victim's server */
                        return;
                }
                send_kill(k);
                return;
        default:
                return; /* up_cb or closed_cb kicks again */
        }
}

void db_killer_kill(db_killer_t *k, db_conn_t *victim)
{
        unsigned long thread_id = victim->mysql ? mysql_thread_id(victim->mysql) : 0;

        if (k->closing || thread_id == 0 || k->count == k->options.capacity) {
                report(k, victim, -ENOTCONN);
                return;
        }
        k->queue[k->count++] = (kill_order_t){ .victim = victim, .thread_id = thread_id,
                                               .host_index = victim->host_index };
        kick(k);
}

bool db_killer_is_killing(const db_killer_t *k, const db_conn_t *victim)
{
        return k->sending && k->killing.victim == victim;
}

void db_killer_cancel(db_killer_t *k, db_conn_t *victim)
{
        if (k->killing.victim == victim)
                k->killing.victim = NULL;
        for (unsigned i = 0; i < k->count; i++) {
                if (k->queue[i].victim == victim) {
                        memmove(k->queue + i, k->queue + i + 1,
                                (--k->count - i) * sizeof(*k->queue));
                        return;
                }
        }
}

/* ---- the connection's events ---- */

static void killer_up(db_conn_t *conn, void *owner)
{
        db_killer_t *k = owner;

        (void)conn;
        uv_timer_stop(&k->watchdog);
        if (k->closing) {
                db_conn_close(&k->conn);
                return;
        }
        db_conn_watch_idle(&k->conn);
        kick(k);
}

static void killer_connect_failed(db_conn_t *conn, unsigned err, const char *message,
                                  void *owner)
{
        (void)conn;
        (void)err;
        (void)message;
        give_up(owner, -ENOTCONN);
}

static void killer_lost(db_conn_t *conn, void *owner)
{
        (void)owner;
        db_conn_close(conn); /* the next kill connects again */
}

static void killer_closed(db_conn_t *conn, void *owner)
{
        db_killer_t *k = owner;

        (void)conn;
        if (k->closing) {
                k->closed_cb(k->closed_arg);
                return;
        }
        kick(k);
}

static const db_conn_events_t killer_events = {
        .up_cb = killer_up,
        .connect_failed_cb = killer_connect_failed,
        .lost_cb = killer_lost,
        .closed_cb = killer_closed,
};

/* ---- the end ---- */

void db_killer_close(db_killer_t *k, void (*closed_cb)(void *arg), void *arg)
{
        k->closing = true;
        k->closed_cb = closed_cb;
        k->closed_arg = arg;
        k->count = 0;
        k->killing.victim = NULL;
        uv_timer_stop(&k->watchdog);
        if (k->conn.state == DB_CONN_CLOSING)
                return; /* its close goes on and reports */
        db_conn_close(&k->conn);
}

void db_killer_done(db_killer_t *k)
{
        db_conn_done(&k->conn);
        uv_close((uv_handle_t *)&k->watchdog, NULL);
}

void db_killer_free(db_killer_t *k)
{
        if (k == NULL)
                return;
        free(k->queue);
        free(k);
}
