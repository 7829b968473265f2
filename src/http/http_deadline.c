/*
 * Deadlines, and noticing a client that hangs up while its request waits.
 * libmicrohttpd neither times out nor watches a suspended connection, so
 * each request has a timer of its own, and a request suspended for a while
 * watches its client's socket.
 */
#include "http/http_private.h"

/*
 * Most requests are answered within milliseconds: watching their client for
 * a hang-up would cost more system calls than the request itself. The watch
 * starts only once a request has been suspended this long.
 */
enum { CLIENT_WATCH_DELAY_MS = 50 };

static void default_deadline(http_request_t *req, void *data)
{
        (void)data;
        http_fail(req, 504, "timeout", "the request did not complete within %u ms",
                  req->server->options.default_deadline_ms);
}

/* ---- the client watch ---- */

static void client_watch_closed_cb(uv_handle_t *handle)
{
        http_request_t *req = handle->data;

        scope_unref(req->scope);
}

static void client_gone_cb(uv_poll_t *watch, int status, int events)
{
        (void)status;
        (void)events;
        http_fail(watch->data, 499, "client-closed",
                  "the client closed its connection before the answer");
}

/* The watch shares the client's socket with libmicrohttpd, so it is closed
 * on resume, while libmicrohttpd still holds that socket open: its fd number
 * cannot have been reused by then. */
static void watch_client(http_request_t *req)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        uv_poll_t *watch = scope_alloc(req->scope, sizeof(*watch));

        req->client_watch_tried = true;
        if (info == NULL || watch == NULL ||
            uv_poll_init_socket(req->server->loop, watch, info->connect_fd) < 0)
                return; /* the deadline still bounds the request */
        watch->data = req;
        scope_ref(req->scope);
        req->client_watch = watch;
        uv_poll_start(watch, UV_DISCONNECT, client_gone_cb);
        /* A client that half-closed is asked now whether it is still there. */
        wire_gate_request_waiting(req->server->gate, info->connect_fd);
}

void http_unwatch_client(http_request_t *req)
{
        if (req->client_watch == NULL)
                return;
        uv_close((uv_handle_t *)req->client_watch, client_watch_closed_cb);
        req->client_watch = NULL;
}

/* ---- the deadline ---- */

static void deadline_cb(uv_timer_t *timer);

void http_deadline_arm(http_request_t *req)
{
        uint64_t now = uv_now(req->server->loop);
        uint64_t left = req->deadline_at > now ? req->deadline_at - now : 0;

        if (req->suspended && !req->client_watch_tried && left > CLIENT_WATCH_DELAY_MS)
                left = CLIENT_WATCH_DELAY_MS;
        uv_timer_start(req->deadline, deadline_cb, left, 0);
}

static void deadline_cb(uv_timer_t *timer)
{
        http_request_t *req = timer->data;

        if (req->answered && req->read_stream == NULL)
                return;
        if (uv_now(timer->loop) < req->deadline_at) {
                if (req->suspended && !req->client_watch_tried)
                        watch_client(req);
                http_deadline_arm(req);
                return;
        }
        req->on_deadline(req, req->deadline_data);
        if (!req->answered) /* the deadline function did not answer: do it for it */
                default_deadline(req, NULL);
}

void http_set_deadline(http_request_t *req, unsigned ms, http_deadline_fn on_deadline, void *data)
{
        req->on_deadline = on_deadline ? on_deadline : default_deadline;
        req->deadline_data = data;
        req->deadline_at = uv_now(req->server->loop) + ms;
        http_deadline_arm(req);
}
