/*
 * libmicrohttpd in external-epoll mode on a libuv loop.
 *
 * Facts this file is built around (libmicrohttpd 0.9.75):
 * - MHD_resume_connection wakes nothing in this mode: after resuming, the loop
 *   must call MHD_run itself. We do so from a uv_idle "kick", never from
 *   inside a libmicrohttpd callback.
 * - A response can be queued only on the first call of the access handler
 *   (the head is in) or on the final one (the whole request is in). Queued
 *   on the first, libmicrohttpd reads no body and closes the connection after
 *   the answer, so requests are answered on the final call or after resume;
 *   only a body refused at its head (413) is answered on the first.
 * - After every MHD_run the timer is re-armed from MHD_get_timeout.
 * - Suspended connections neither time out nor report disconnects: every
 *   suspended request has its own deadline timer (http_deadline.c).
 * - The daemon has no listening socket: the wire gate (wire_gate.h) accepts
 *   clients, refuses malformed requests itself, and gives the daemon one
 *   end of a socketpair per client with MHD_add_connection.
 */
#include "http/http_private.h"

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

/* A head the gate lets through (wire_frame.h: WIRE_HEAD_MAX) fits in the
 * connection's memory with its header and argument records, and so does the
 * answer's head. Request bodies are read in pieces of about half of it. */
enum { CONNECTION_MEMORY_LIMIT = 64 * 1024 };

static void finish_stop(http_server_t *s);

/* ---- driving the daemon from the loop ---- */

/* Runs the daemon on the next loop turn; also where a drained server stops,
 * since stopping from inside a libmicrohttpd callback would re-enter it. */
static void kick_cb(uv_idle_t *idle)
{
        http_server_t *s = idle->data;

        uv_idle_stop(idle);
        /* A daemon with bytes still buffered has requests to start: the
         * drain is over only once it has none and none is in flight. */
        bool more = http_run_daemon(s);
        if (!more && s->stopping && s->active_requests == 0 && s->daemon != NULL)
                finish_stop(s);
}

void http_kick(http_server_t *s)
{
        if (s->daemon != NULL)
                uv_idle_start(&s->kick, kick_cb);
}

static void daemon_timer_cb(uv_timer_t *timer)
{
        http_run_daemon(timer->data);
}

static void daemon_poll_cb(uv_poll_t *poll, int status, int events)
{
        (void)status;
        (void)events;
        http_run_daemon(poll->data);
}

static unsigned connection_count(struct MHD_Daemon *daemon)
{
        const union MHD_DaemonInfo *info =
                MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

        return info ? info->num_connections : 0;
}

/*
 * One round of the daemon. At its connection limit libmicrohttpd stops
 * listening and only listens again at the start of a later round, so a round
 * that closed connections is followed by another; and a round happens at
 * least every RUN_INTERVAL_MS whatever the daemon asks for. Returns whether
 * another round follows on the next loop turn.
 */
bool http_run_daemon(http_server_t *s)
{
        enum { RUN_INTERVAL_MS = 1000 };
        MHD_UNSIGNED_LONG_LONG timeout;

        if (s->daemon == NULL)
                return false;
        unsigned before = connection_count(s->daemon);
        MHD_run(s->daemon);
        if (connection_count(s->daemon) < before) {
                http_kick(s);
                return true;
        }
        if (MHD_get_timeout(s->daemon, &timeout) != MHD_YES || timeout > RUN_INTERVAL_MS)
                timeout = RUN_INTERVAL_MS;
        /* A zero timeout means data is already buffered: run again next turn. */
        if (timeout == 0) {
                http_kick(s);
                return true;
        }
        uv_timer_start(&s->daemon_timer, daemon_timer_cb, timeout, 0);
        return false;
}

/* ---- libmicrohttpd callbacks ---- */

int http_daemon_fd(struct MHD_Connection *connection)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);

        return info ? info->connect_fd : -1;
}

static enum MHD_Result queue_answer(http_request_t *req)
{
        enum MHD_Result r = MHD_queue_response(req->connection, req->status, req->response);

        MHD_destroy_response(req->response);
        req->response = NULL;
        return r;
}

/* The head is in: give the request to the dispatcher, on the handler's
 * deadline, or refuse it while the server shuts down. */
static void dispatch(http_server_t *s, http_request_t *req)
{
        req->dispatched = true;
        http_set_deadline(req, s->options.default_deadline_ms, NULL, NULL);
        if (s->closing)
                http_fail(req, 503, "database-unavailable", "the service is shutting down");
        else
                s->dispatch(req, s->dispatch_data);
}

/* The first call: the head is in, no body has been read. */
static enum MHD_Result start_request(http_server_t *s, struct MHD_Connection *connection,
                                     const char *url, const char *method, void **con_cls)
{
        conn_guard_request_started(connection);
        http_request_t *req = http_request_new(s, connection, url, method);
        *con_cls = req;
        if (req == NULL)
                return MHD_NO;
        http_body_check_length(req);
        return req->response != NULL ? queue_answer(req) : MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        http_server_t *s = cls;
        http_request_t *req = *con_cls;

        (void)version;
        if (req == NULL)
                return start_request(s, connection, url, method, con_cls);
        if (!req->dispatched)
                dispatch(s, req);
        if (*upload_data_size > 0) {
                /* A paused reader's next piece stays unread: libmicrohttpd may
                 * offer it within the same round, and offers it again after
                 * the resume. A request answered while its reader paused
                 * (a write that failed mid-body) has no reader left: the
                 * rest is read and thrown away, or the answer never leaves. */
                if (req->body_paused && req->answered)
                        req->body_paused = false;
                if (req->body_paused)
                        return MHD_YES;
                size_t len = *upload_data_size;
                *upload_data_size = 0;
                return http_body_take(req, upload_data, len) ? MHD_YES : MHD_NO;
        }
        if (!http_body_take(req, NULL, 0))
                return MHD_NO;
        if (req->response != NULL)
                return queue_answer(req);
        if (req->answered)
                return MHD_NO; /* answered, but the response could not be built */
        http_request_suspend(req);
        return MHD_YES;
}

static void maybe_finish_drain(http_server_t *s);

static void completed_cb(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        http_server_t *s = cls;
        http_request_t *req = *con_cls;

        conn_guard_request_done(connection);
        wire_gate_request_done(s->gate, http_daemon_fd(connection));
        if (req == NULL)
                return;
        *con_cls = NULL;
        http_request_complete(req, toe);
        s->active_requests--;
        if (s->stopping)
                maybe_finish_drain(s);
}

/* libmicrohttpd calls this for the path and for each query argument. It
 * decodes nothing: the path is split into segments before they are decoded
 * (router.c), so "/users%2F1" is not "/users/1", and the arguments are
 * checked for invalid escapes and decoded with the request (http_request.c). */
static size_t unescape_cb(void *cls, struct MHD_Connection *connection, char *text)
{
        (void)cls;
        (void)connection;
        return strlen(text);
}

/* libmicrohttpd's own complaints, timestamped like every other line. Its
 * sockets are the gate's socketpairs, on which 0.9.75 tries TCP options
 * before every answer and complains of their failure (EOPNOTSUPP is not
 * among the errors it takes as "not TCP"): those complaints say nothing. */
static void daemon_log_cb(void *cls, const char *fmt, va_list ap)
{
        char text[512];

        (void)cls;
        if (strstr(fmt, "option to %s state failed") != NULL ||
            strncmp(fmt, "Failed to push the data", 23) == 0)
                return;
        vsnprintf(text, sizeof(text), fmt, ap);
        text[strcspn(text, "\n")] = '\0';
        log_warn("http: %s", text);
}

/* ---- start and stop ---- */

static int resolve_listen(const http_options_t *o, struct sockaddr_storage *addr,
                          socklen_t *ret_len)
{
        struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                                  .ai_socktype = SOCK_STREAM };
        struct addrinfo *found;
        char port[8];

        snprintf(port, sizeof(port), "%u", o->listen_port);
        if (getaddrinfo(o->listen_host, port, &hints, &found) != 0)
                return -EADDRNOTAVAIL;
        memcpy(addr, found->ai_addr, found->ai_addrlen);
        *ret_len = found->ai_addrlen;
        freeaddrinfo(found);
        return 0;
}

static struct MHD_Daemon *start_daemon(http_server_t *s, const http_options_t *o)
{
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                         MHD_USE_NO_LISTEN_SOCKET;
        return MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s,
                                MHD_OPTION_EXTERNAL_LOGGER, daemon_log_cb, NULL,
                                MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                                MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify_cb, s->guard,
                                MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, (o->idle_timeout_ms + 999) / 1000,
                                MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_ip,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
                                MHD_OPTION_END);
}

int http_server_new(http_server_t **ret_server, uv_loop_t *loop, const http_options_t *options,
                    http_dispatch_fn dispatch_fn, void *dispatch_data)
{
        http_server_t *s = calloc(1, sizeof(*s));

        *ret_server = NULL;
        if (s == NULL)
                return -ENOMEM;
        s->loop = loop;
        s->options = *options;
        s->dispatch = dispatch_fn;
        s->dispatch_data = dispatch_data;
        list_init(&s->suspended);
        if (getrandom(&s->id_prefix, sizeof(s->id_prefix), 0) != sizeof(s->id_prefix))
                s->id_prefix = (uint32_t)getpid() ^ options->id_salt;
        if (conn_guard_new(&s->guard, loop, options->header_timeout_ms) < 0) {
                free(s);
                return -ENOMEM;
        }
        struct sockaddr_storage addr;
        socklen_t addrlen;
        if (resolve_listen(options, &addr, &addrlen) < 0) {
                log_error("cannot resolve %s, the host to listen on", options->listen_host);
                conn_guard_close(s->guard);
                free(s);
                return -EADDRNOTAVAIL;
        }
        s->daemon = start_daemon(s, options);
        int r = s->daemon ? wire_gate_new(&s->gate, s, (struct sockaddr *)&addr, addrlen) : -ENOMEM;
        if (r < 0) {
                log_error("cannot listen on %s:%u", options->listen_host, options->listen_port);
                if (s->daemon != NULL)
                        MHD_stop_daemon(s->daemon);
                conn_guard_close(s->guard);
                free(s);
                return -EADDRINUSE;
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        uv_poll_init(loop, &s->daemon_poll, info->epoll_fd);
        uv_timer_init(loop, &s->daemon_timer);
        uv_timer_init(loop, &s->drain_timer);
        uv_idle_init(loop, &s->kick);
        s->daemon_poll.data = s->daemon_timer.data = s->drain_timer.data = s->kick.data = s;
        uv_poll_start(&s->daemon_poll, UV_READABLE, daemon_poll_cb);
        http_kick(s);
        *ret_server = s;
        return 0;
}

/* Requests still suspended when the drain ends are answered, since stopping
 * a daemon with suspended connections is not allowed. */
static void answer_suspended(http_server_t *s)
{
        list_node_t *node;

        while ((node = list_first(&s->suspended)) != NULL) {
                http_request_t *req = list_entry(node, http_request_t, suspended_node);
                if (req->read_stream != NULL)
                        http_stream_fail(req); /* a stream waiting for rows */
                else
                        http_fail(req, 503, "database-unavailable",
                                  "the service is shutting down");
                http_request_resume(req); /* even when no answer could be built */
        }
}

static void finish_stop(http_server_t *s)
{
        s->closing = true;
        answer_suspended(s);
        uv_timer_stop(&s->drain_timer);
        uv_poll_stop(&s->daemon_poll);
        struct MHD_Daemon *daemon = s->daemon;
        s->daemon = NULL;
        MHD_run(daemon); /* lets the daemon take back the connections just resumed */
        MHD_stop_daemon(daemon);
        wire_gate_close(s->gate); /* after the daemon: what it wrote last is passed on */
        conn_guard_close(s->guard); /* after the daemon: closing connections still report */
        uv_close((uv_handle_t *)&s->daemon_poll, NULL);
        uv_close((uv_handle_t *)&s->daemon_timer, NULL);
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        uv_close((uv_handle_t *)&s->kick, NULL);
        if (s->stopped_cb != NULL)
                s->stopped_cb(s->stopped_data);
}

static void drain_timer_cb(uv_timer_t *timer)
{
        http_server_t *s = timer->data;

        if (s->active_requests > 0)
                log_info("drain timeout: %u requests still in flight", s->active_requests);
        finish_stop(s);
}

/* Called from libmicrohttpd's completion callback too: kick_cb stops the
 * server on the next turn if nothing came in meanwhile. */
static void maybe_finish_drain(http_server_t *s)
{
        if (s->active_requests == 0)
                http_kick(s);
}

void http_server_stop(http_server_t *s, unsigned drain_ms, void (*done_cb)(void *data), void *data)
{
        s->stopping = true;
        s->stopped_cb = done_cb;
        s->stopped_data = data;
        wire_gate_stop_listening(s->gate);
        uv_timer_start(&s->drain_timer, drain_timer_cb, drain_ms, 0);
        maybe_finish_drain(s);
}

void http_server_free(http_server_t *s)
{
        free(s);
}
