/* Slow-request guard. A connection past its deadline is shut down at the
 * socket; libmicrohttpd then sees the end of stream and closes it itself,
 * which is the only way to end a connection it is still reading headers on. */
#include "http/conn_guard.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/list.h"

typedef struct guarded_conn {
        list_node_t node;          /* in the guard's list */
        conn_guard_t *guard;
        MHD_socket fd;
        bool waiting;              /* for a request head, since waiting_since_ms */
        uint64_t waiting_since_ms;
} guarded_conn_t;

struct conn_guard {
        uv_timer_t sweep;
        unsigned header_timeout_ms;
        list_node_t conns;
};

static void start_waiting(guarded_conn_t *c)
{
        c->waiting = true;
        c->waiting_since_ms = uv_now(c->guard->sweep.loop);
}

static void sweep_cb(uv_timer_t *timer)
{
        conn_guard_t *g = timer->data;
        uint64_t now = uv_now(timer->loop);

        list_for_each(node, &g->conns) {
                guarded_conn_t *c = list_entry(node, guarded_conn_t, node);
                if (c->waiting && now - c->waiting_since_ms > g->header_timeout_ms) {
                        shutdown(c->fd, SHUT_RDWR);
                        c->waiting = false;
                }
        }
}

int conn_guard_new(conn_guard_t **ret_guard, uv_loop_t *loop, unsigned header_timeout_ms)
{
        conn_guard_t *g = calloc(1, sizeof(*g));
        unsigned period = header_timeout_ms / 4;

        *ret_guard = NULL;
        if (g == NULL)
                return -ENOMEM;
        g->header_timeout_ms = header_timeout_ms;
        list_init(&g->conns);
        uv_timer_init(loop, &g->sweep);
        g->sweep.data = g;
        /* The sweep alone must not keep the loop alive. */
        uv_timer_start(&g->sweep, sweep_cb, period, period ? period : 1);
        uv_unref((uv_handle_t *)&g->sweep);
        *ret_guard = g;
        return 0;
}

static void track(conn_guard_t *g, struct MHD_Connection *connection, void **socket_context)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        guarded_conn_t *c = calloc(1, sizeof(*c));

        *socket_context = c;
        if (c == NULL || info == NULL) {
                free(c);
                *socket_context = NULL;
                return;
        }
        c->guard = g;
        c->fd = info->connect_fd;
        start_waiting(c);
        list_push_head(&g->conns, &c->node);
}

static void untrack(guarded_conn_t *c)
{
        if (c == NULL)
                return;
        list_remove(&c->node);
        free(c);
}

void conn_guard_notify_cb(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        conn_guard_t *g = cls;

        if (code == MHD_CONNECTION_NOTIFY_STARTED)
                track(g, connection, socket_context);
        else
                untrack(*socket_context);
}

static guarded_conn_t *guarded(struct MHD_Connection *connection)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

        return info ? info->socket_context : NULL;
}

void conn_guard_request_started(struct MHD_Connection *connection)
{
        guarded_conn_t *c = guarded(connection);

        if (c != NULL)
                c->waiting = false;
}

void conn_guard_request_done(struct MHD_Connection *connection)
{
        guarded_conn_t *c = guarded(connection);

        if (c != NULL)
                start_waiting(c);
}

static void sweep_closed_cb(uv_handle_t *handle)
{
        free(handle->data);
}

void conn_guard_close(conn_guard_t *g)
{
        uv_close((uv_handle_t *)&g->sweep, sweep_closed_cb);
}
