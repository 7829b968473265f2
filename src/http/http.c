/*
 * libmicrohttpd in external-epoll mode on a libuv loop.
 *
 * Facts this file is built around (libmicrohttpd 0.9.75):
 * - MHD_resume_connection wakes nothing in this mode: after resuming, the loop
 *   must call MHD_run itself. We do so from a uv_idle "kick", never from
 *   inside a libmicrohttpd callback.
 * - Queuing a response on the first call of the access handler closes the
 *   connection instead of keeping it alive, so requests are answered on the
 *   second call or after resume.
 * - After every MHD_run the timer is re-armed from MHD_get_timeout.
 * - Suspended connections neither time out nor report disconnects: every
 *   suspended request has its own deadline timer.
 */
#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/db_errors.h"
#include "http/access_log.h"
#include "http/conn_guard.h"
#include "http/cors.h"
#include "http/problem.h"
#include "routes/routes.h"
#include "server/worker.h"

/* Request line and headers must fit in the connection's memory: longer ones
 * are refused with 414 or 431 by libmicrohttpd. */
enum { CONNECTION_MEMORY_LIMIT = 64 * 1024, LISTEN_BACKLOG = 1024 };

struct http_server {
        worker_t *worker;
        struct MHD_Daemon *daemon;
        uv_poll_t daemon_poll; /* readable when the daemon's epoll set has events */
        uv_timer_t daemon_timer;
        uv_idle_t kick;        /* runs MHD_run on the next loop turn */
        uv_timer_t drain_timer;
        conn_guard_t *guard;
        http_request_t *suspended;
        unsigned active_requests;
        bool stopping;         /* draining: answers carry Connection: close */
        bool closing;          /* the drain is over: new requests get 503 at once */
        void (*stopped_cb)(worker_t *w);
        uint32_t id_prefix;
        uint64_t id_counter;
};

static void run_daemon(http_server_t *s);

/* ---- driving the daemon from the loop ---- */

static void finish_stop(http_server_t *s);

/* Runs the daemon on the next loop turn; also where a drained server stops,
 * since stopping from inside a libmicrohttpd callback would re-enter it. */
static void kick_cb(uv_idle_t *idle)
{
        http_server_t *s = idle->data;

        uv_idle_stop(idle);
        run_daemon(s);
        if (s->stopping && s->active_requests == 0 && s->daemon != NULL)
                finish_stop(s);
}

static void kick(http_server_t *s)
{
        if (s->daemon != NULL)
                uv_idle_start(&s->kick, kick_cb);
}

static void daemon_timer_cb(uv_timer_t *timer)
{
        run_daemon(timer->data);
}

static void daemon_poll_cb(uv_poll_t *poll, int status, int events)
{
        (void)status;
        (void)events;
        run_daemon(poll->data);
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
 * least every RUN_INTERVAL_MS whatever the daemon asks for.
 */
static void run_daemon(http_server_t *s)
{
        enum { RUN_INTERVAL_MS = 1000 };
        MHD_UNSIGNED_LONG_LONG timeout;

        if (s->daemon == NULL)
                return;
        unsigned before = connection_count(s->daemon);
        MHD_run(s->daemon);
        if (connection_count(s->daemon) < before) {
                kick(s);
                return;
        }
        if (MHD_get_timeout(s->daemon, &timeout) != MHD_YES || timeout > RUN_INTERVAL_MS)
                timeout = RUN_INTERVAL_MS;
        /* A zero timeout means data is already buffered: run again next turn. */
        if (timeout == 0)
                kick(s);
        else
                uv_timer_start(&s->daemon_timer, daemon_timer_cb, timeout, 0);
}

/* ---- request contexts ---- */

static bool is_well_formed_id(const char *id)
{
        size_t len = id ? strlen(id) : 0;

        if (len == 0 || len > 64)
                return false;
        return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static void assign_id(http_server_t *s, http_request_t *req)
{
        const char *incoming = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                           "X-Request-Id");

        if (is_well_formed_id(incoming))
                snprintf(req->id, sizeof(req->id), "%s", incoming);
        else
                snprintf(req->id, sizeof(req->id), "%08x%08x", s->id_prefix,
                         (unsigned)++s->id_counter);
}

static void deadline_closed_cb(uv_handle_t *handle)
{
        http_request_t *req = handle->data;

        scope_unref(req->scope);
}

/* Scope release for the deadline timer: the scope stays alive until libuv
 * has let go of the handle. */
static void release_deadline(void *arg)
{
        http_request_t *req = arg;

        uv_close((uv_handle_t *)req->deadline, deadline_closed_cb);
}

static void unlink_suspended(http_server_t *s, http_request_t *req)
{
        if (req->prev)
                req->prev->next = req->next;
        else
                s->suspended = req->next;
        if (req->next)
                req->next->prev = req->prev;
        req->prev = req->next = NULL;
}

static void arm_deadline(http_request_t *req);

/* Parks the connection while its answer waits; the server keeps a list,
 * since a daemon must not stop with connections still suspended. */
static void suspend(http_server_t *s, http_request_t *req)
{
        MHD_suspend_connection(req->connection);
        req->suspended = true;
        arm_deadline(req);
        req->next = s->suspended;
        if (s->suspended)
                s->suspended->prev = req;
        s->suspended = req;
}

static void unwatch_client(http_request_t *req);

static void resume(http_server_t *s, http_request_t *req)
{
        if (!req->suspended)
                return;
        req->suspended = false;
        unwatch_client(req);
        unlink_suspended(s, req);
        MHD_resume_connection(req->connection);
        kick(s);
}

static void release_response(void *arg)
{
        http_request_t *req = arg;

        if (req->response != NULL)
                MHD_destroy_response(req->response);
        req->response = NULL;
}

static http_request_t *request_new(http_server_t *s, struct MHD_Connection *connection,
                                   const char *url, const char *method)
{
        scope_t *scope = scope_new();
        http_request_t *req = scope ? scope_alloc(scope, sizeof(*req)) : NULL;

        if (req == NULL)
                goto fail;
        req->worker = s->worker;
        req->scope = scope;
        req->connection = connection;
        req->path = scope_strndup(scope, url, strlen(url));
        req->method = scope_strndup(scope, method, strlen(method));
        req->started_ns = uv_hrtime();
        req->route = METRICS_UNMATCHED_ROUTE;
        req->deadline = scope_alloc(scope, sizeof(*req->deadline));
        if (req->path == NULL || req->method == NULL || req->deadline == NULL)
                goto fail;
        uv_timer_init(&s->worker->loop, req->deadline);
        req->deadline->data = req;
        scope_ref(scope);
        if (scope_defer(scope, release_deadline, req, NULL) < 0) {
                uv_close((uv_handle_t *)req->deadline, deadline_closed_cb);
                goto fail;
        }
        if (scope_defer(scope, release_response, req, NULL) < 0)
                goto fail;
        assign_id(s, req);
        s->active_requests++;
        return req;
fail:
        if (scope != NULL)
                scope_close(scope);
        return NULL;
}

/* ---- noticing a client that hangs up while its request waits ---- */

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
static void watch_client(http_server_t *s, http_request_t *req)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        uv_poll_t *watch = scope_alloc(req->scope, sizeof(*watch));

        req->client_watch_tried = true;
        if (info == NULL || watch == NULL ||
            uv_poll_init_socket(&s->worker->loop, watch, info->connect_fd) < 0)
                return; /* the deadline still bounds the request */
        watch->data = req;
        scope_ref(req->scope);
        req->client_watch = watch;
        uv_poll_start(watch, UV_DISCONNECT, client_gone_cb);
}

static void unwatch_client(http_request_t *req)
{
        if (req->client_watch == NULL)
                return;
        uv_close((uv_handle_t *)req->client_watch, client_watch_closed_cb);
        req->client_watch = NULL;
}

/* ---- answering ---- */

static void add_headers(http_request_t *req, struct MHD_Response *r, unsigned status,
                        const char *content_type)
{
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(r, "X-Request-Id", req->id);
        if (status == 405)
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, router_allowed_methods);
        if (status == 503)
                MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        if (req->cors_origin != NULL) {
                MHD_add_response_header(r, "Access-Control-Allow-Origin", req->cors_origin);
                MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                        "X-Request-Id, Retry-After");
        }
        bool vary_origin = req->cors_origin != NULL && strcmp(req->cors_origin, "*") != 0;
        if (vary_origin || req->vary_accept)
                MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
                                        !req->vary_accept ? "Origin"
                                        : vary_origin     ? "Origin, Accept"
                                                          : "Accept");
        if (req->worker->http->stopping) /* draining: this is the connection's last answer */
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

void http_respond(http_request_t *req, unsigned status, const char *content_type, char *body,
                  size_t len)
{
        http_server_t *s = req->worker->http;

        if (req->answered) {
                free(body);
                return;
        }
        req->response = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (req->response == NULL) {
                free(body);
                log_error("request %s: cannot create a response", req->id);
                return; /* the deadline will try once more */
        }
        req->answered = true;
        req->status = status;
        req->body_bytes = strcmp(req->method, "HEAD") == 0 ? 0 : len;
        add_headers(req, req->response, status, content_type);
        uv_timer_stop(req->deadline);
        resume(s, req);
}

/* libmicrohttpd asks for the next block when the socket can take it: a
 * client that reads slowly is asked less often, and the source waits. */
static ssize_t read_body_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        http_request_t *req = cls;

        (void)pos;
        if (req->body_failed)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        long n = req->read_body(req, buf, max);
        if (n > 0) {
                req->body_bytes += (size_t)n;
                return n;
        }
        if (n == HTTP_BODY_END)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (n == HTTP_BODY_FAILED)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        /* Returning 0 without suspending would make the daemon spin. */
        suspend(req->worker->http, req);
        return 0;
}

/* Blocks handed to libmicrohttpd; with the head they fit its connection memory. */
enum { STREAM_BLOCK_BYTES = 32 * 1024 };

void http_respond_stream(http_request_t *req, unsigned status, const char *content_type,
                         http_body_read_fn read_body)
{
        if (req->answered)
                return;
        req->response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_BYTES,
                                                          read_body_cb, req, NULL);
        if (req->response == NULL) {
                log_error("request %s: cannot create a response", req->id);
                return; /* the deadline will answer */
        }
        req->answered = true;
        req->status = status;
        req->read_body = read_body;
        /* A hang-up shows as a failed send now; no watch is needed. */
        req->client_watch_tried = true;
        add_headers(req, req->response, status, content_type);
        resume(req->worker->http, req);
}

void http_body_ready(http_request_t *req)
{
        resume(req->worker->http, req);
}

void http_body_fail(http_request_t *req)
{
        if (!req->body_failed)
                metrics_count_stream_cut();
        req->body_failed = true;
        resume(req->worker->http, req);
}

void http_respond_buffer(http_request_t *req, unsigned status, const char *content_type,
                         strbuf_t *body)
{
        size_t len;

        if (body->failed) {
                strbuf_done(body);
                http_fail(req, 500, "internal", "out of memory while writing the answer");
                return;
        }
        char *data = strbuf_take(body, &len);
        if (data == NULL)
                data = strdup(""); /* an empty buffer owns no storage */
        if (data != NULL)
                http_respond(req, status, content_type, data, len);
}

static void respond_dumped(http_request_t *req, unsigned status, const char *content_type,
                           json_t *value)
{
        char *body = value ? json_dumps(value, JSON_COMPACT) : NULL;

        json_decref(value);
        if (body == NULL) {
                log_error("request %s: cannot serialize the response", req->id);
                body = strdup("{\"type\":\"urn:queryd:problem:internal\","
                              "\"title\":\"Internal Error\",\"status\":500}");
                status = 500;
                content_type = "application/problem+json";
                if (body == NULL)
                        return;
        }
        http_respond(req, status, content_type, body, strlen(body));
}

void http_respond_json(http_request_t *req, unsigned status, json_t *value)
{
        respond_dumped(req, status, "application/json", value);
}

void http_respond_problem(http_request_t *req, json_t *problem)
{
        json_t *status = json_object_get(problem, "status");

        respond_dumped(req, status ? (unsigned)json_integer_value(status) : 500,
                       "application/problem+json", problem);
}

static void fail_with(http_request_t *req, unsigned status, const char *slug, const char *detail,
                      const db_error_t *db, const char *parameter)
{
        json_t *problem = problem_new(status, slug, detail, req->id);

        if (db != NULL && problem != NULL) {
                json_object_set_new(problem, "errno", json_integer(db->code));
                json_object_set_new(problem, "sqlstate", json_string(db->sqlstate));
        }
        if (parameter != NULL && problem != NULL) {
                json_t *name = json_string(parameter);
                /* A name that is not UTF-8 is shown by the detail alone. */
                if (name != NULL)
                        json_object_set_new(problem, "parameter", name);
        }
        if (status >= 500)
                log_error("request %s %s: %u %s: %s", req->id, req->path, status, slug, detail);
        http_respond_problem(req, problem);
}

void http_fail(http_request_t *req, unsigned status, const char *slug, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        fail_with(req, status, slug, detail, NULL, NULL);
}

void http_fail_param(http_request_t *req, const char *name, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        fail_with(req, 400, "invalid-parameter", detail, NULL, name);
}

void http_fail_db(http_request_t *req, const db_error_t *error)
{
        db_error_mapping_t m = db_errors_map(error->code);
        char detail[320];

        snprintf(detail, sizeof(detail), "the database answered: %s", error->message);
        fail_with(req, m.status, m.slug, detail, error, NULL);
}

void http_fail_acquire(http_request_t *req, int status)
{
        if (status == -EAGAIN)
                http_fail(req, 503, "overloaded", "too many requests are waiting for a database "
                                                  "connection");
        else if (status == -ESHUTDOWN)
                http_fail(req, 503, "database-unavailable", "the service is shutting down");
        else if (status == -ENOTCONN)
                http_fail(req, 503, "database-unavailable", "the database cannot be reached");
        else
                http_fail(req, 500, "internal", "cannot borrow a database connection (%s)",
                          strerror(-status));
}

/* ---- deadlines ---- */

/* Handlers without a deadline of their own get the longest a database
 * request may take: waiting for a connection, then running. */
static unsigned default_deadline_ms(const config_t *c)
{
        return c->acquire_timeout_ms + c->query_timeout_ms + 1000;
}

static void default_deadline(http_request_t *req)
{
        http_fail(req, 504, "timeout", "the request did not complete within %u ms",
                  default_deadline_ms(req->worker->config));
}

/*
 * Most requests are answered within milliseconds: watching their client for
 * a hang-up would cost more system calls than the request itself. The watch
 * starts only once a request has been suspended this long.
 */
enum { CLIENT_WATCH_DELAY_MS = 50 };

static void deadline_cb(uv_timer_t *timer);

/* Arms the timer for the deadline, or earlier to start the client watch. */
static void arm_deadline(http_request_t *req)
{
        uint64_t now = uv_now(req->deadline->loop);
        uint64_t left = req->deadline_at > now ? req->deadline_at - now : 0;

        if (req->suspended && !req->client_watch_tried && left > CLIENT_WATCH_DELAY_MS)
                left = CLIENT_WATCH_DELAY_MS;
        uv_timer_start(req->deadline, deadline_cb, left, 0);
}

static void deadline_cb(uv_timer_t *timer)
{
        http_request_t *req = timer->data;

        if (req->answered && req->read_body == NULL)
                return;
        if (uv_now(timer->loop) < req->deadline_at) {
                if (req->suspended && !req->client_watch_tried)
                        watch_client(req->worker->http, req);
                arm_deadline(req);
                return;
        }
        req->on_deadline(req);
        if (!req->answered) /* the handler did not answer: do it for it */
                default_deadline(req);
}

void http_set_deadline(http_request_t *req, unsigned ms, http_deadline_fn on_deadline)
{
        req->on_deadline = on_deadline ? on_deadline : default_deadline;
        req->deadline_at = uv_now(req->deadline->loop) + ms;
        arm_deadline(req);
}

/* ---- query arguments ---- */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
        http_request_t *req = cls;

        (void)kind;
        if (req->arg_count == HTTP_MAX_QUERY_ARGS) {
                req->too_many_args = true;
                return MHD_NO;
        }
        req->args[req->arg_count].name = key;
        req->args[req->arg_count].value = value;
        req->arg_count++;
        return MHD_YES;
}

const char *http_header(http_request_t *req, const char *name)
{
        return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

bool http_check_query_args(http_request_t *req, const char *const *allowed)
{
        bool repeated;

        if (req->too_many_args) {
                http_fail(req, 400, "invalid-parameter", "too many query parameters (at most %d)",
                          HTTP_MAX_QUERY_ARGS);
                return false;
        }
        const char *bad = query_args_check(req->args, req->arg_count, allowed, &repeated);
        if (bad == NULL)
                return true;
        http_fail_param(req, bad,
                        repeated ? "query parameter '%s' is given more than once"
                                 : "unknown query parameter '%s'",
                        bad);
        return false;
}

/* ---- libmicrohttpd callbacks ---- */

static void unref_api(void *arg)
{
        api_unref(arg);
}

/* A browser asking whether it may send the request: answered here, never
 * by a handler. */
static void answer_preflight(http_request_t *req)
{
        const char *method = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                         "Access-Control-Request-Method");
        const char *headers = MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                                          "Access-Control-Request-Headers");

        if (req->cors_origin == NULL) {
                http_fail(req, 403, "cors-rejected", "this origin may not read from queryd");
                return;
        }
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
                http_fail(req, 403, "cors-rejected", "only GET and HEAD are allowed, not %s",
                          method);
                return;
        }
        char *empty = strdup("");
        if (empty == NULL)
                return;
        http_respond(req, 204, "text/plain", empty, 0);
        if (req->response == NULL)
                return;
        MHD_add_response_header(req->response, "Access-Control-Allow-Methods", "GET, HEAD");
        if (headers != NULL)
                MHD_add_response_header(req->response, "Access-Control-Allow-Headers", headers);
        MHD_add_response_header(req->response, "Access-Control-Max-Age", "600");
}

static bool is_preflight(http_request_t *req, const char *method)
{
        return req->worker->config->cors_origins != NULL && strcmp(method, "OPTIONS") == 0 &&
               MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND,
                                           "Access-Control-Request-Method") != NULL;
}

static void dispatch(http_request_t *req, const char *method)
{
        route_match_t match;
        api_t *api = req->worker->api;

        api_ref(api);
        if (scope_defer(req->scope, unref_api, api, NULL) < 0) {
                api_unref(api);
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        req->api = api;
        req->cors_origin = cors_allow_origin(
                req->worker->config->cors_origins,
                MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Origin"));
        MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, collect_arg, req);
        router_result_t found = router_match(api->routes, api->route_count, method, req->path,
                                             &match);
        if (match.route != NULL)
                req->route = match.route->metrics_slot;
        if (found == ROUTE_METHOD_NOT_ALLOWED && is_preflight(req, method)) {
                answer_preflight(req);
                return;
        }
        switch (found) {
        case ROUTE_NOT_FOUND:
                http_fail(req, 404, "not-found", "no resource at this path");
                return;
        case ROUTE_METHOD_NOT_ALLOWED:
                http_fail(req, 405, "method-not-allowed", "%s is not allowed here; use %s",
                          method, router_allowed_methods);
                return;
        case ROUTE_FOUND:
                match.route->handler(req, &match);
                return;
        }
}

static enum MHD_Result queue_answer(http_request_t *req)
{
        enum MHD_Result r = MHD_queue_response(req->connection, req->status, req->response);

        MHD_destroy_response(req->response);
        req->response = NULL;
        return r;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        http_server_t *s = cls;
        http_request_t *req = *con_cls;

        (void)version;
        (void)upload_data;
        if (req == NULL) {
                conn_guard_request_started(connection);
                req = request_new(s, connection, url, method);
                *con_cls = req;
                return req ? MHD_YES : MHD_NO;
        }
        if (*upload_data_size > 0) {
                *upload_data_size = 0; /* no endpoint takes a body: discard it */
                return MHD_YES;
        }
        if (req->response != NULL)
                return queue_answer(req);
        if (req->answered)
                return MHD_NO; /* answered, but the response could not be built */
        http_set_deadline(req, default_deadline_ms(s->worker->config), NULL);
        if (s->closing)
                http_fail(req, 503, "database-unavailable", "the service is shutting down");
        else
                dispatch(req, method);
        if (req->response != NULL)
                return queue_answer(req);
        suspend(s, req);
        return MHD_YES;
}

static void maybe_finish_drain(http_server_t *s);

static const char *outcome_of(const http_request_t *req, enum MHD_RequestTerminationCode toe)
{
        if (req->status == 499)
                return "client-gone";
        switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK:
                return "completed";
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
                return "timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
                return "shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR:
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
                return "client-gone";
        default:
                return "error";
        }
}

static void client_address(struct MHD_Connection *connection, char *text, size_t size)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = info ? info->client_addr : NULL;

        text[0] = '\0';
        if (sa != NULL && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, size);
        else if (sa != NULL && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, size);
}

/* Every request ends here, answered or not: count it and log it. */
static void record(http_server_t *s, http_request_t *req, enum MHD_RequestTerminationCode toe)
{
        double seconds = (double)(uv_hrtime() - req->started_ns) / 1e9;
        char client[INET6_ADDRSTRLEN];

        metrics_record_request(req->route, req->status, seconds, req->body_bytes);
        if (!s->worker->config->access_log)
                return;
        client_address(req->connection, client, sizeof(client));
        access_log_write(&(access_log_entry_t){
                .request_id = req->id,
                .method = req->method,
                .path = req->path,
                .args = req->args,
                .arg_count = req->arg_count,
                .client = client[0] ? client : NULL,
                .status = req->status,
                .bytes = req->body_bytes,
                .duration_ms = seconds * 1e3,
                .outcome = outcome_of(req, toe),
        });
}

static void completed_cb(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        http_server_t *s = cls;
        http_request_t *req = *con_cls;

        conn_guard_request_done(connection);
        if (req == NULL)
                return;
        *con_cls = NULL;
        if (req->suspended)
                unlink_suspended(s, req);
        record(s, req, toe);
        s->active_requests--;
        scope_close(req->scope);
        if (s->stopping)
                maybe_finish_drain(s);
}

/* ---- start and stop ---- */

static size_t unescape_cb(void *cls, struct MHD_Connection *connection, char *text)
{
        (void)cls;
        (void)connection;
        return query_args_unescape(text);
}

static int resolve_listen(const config_t *c, struct sockaddr_storage *addr, bool *ret_ipv6)
{
        struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                                  .ai_socktype = SOCK_STREAM };
        struct addrinfo *found;
        char port[8];

        snprintf(port, sizeof(port), "%u", c->listen_port);
        if (getaddrinfo(c->listen_host, port, &hints, &found) != 0)
                return -EADDRNOTAVAIL;
        memcpy(addr, found->ai_addr, found->ai_addrlen);
        *ret_ipv6 = found->ai_family == AF_INET6;
        freeaddrinfo(found);
        return 0;
}

static struct MHD_Daemon *start_daemon(http_server_t *s, const config_t *c)
{
        struct sockaddr_storage addr;
        bool ipv6;

        if (resolve_listen(c, &addr, &ipv6) < 0) {
                log_error("QUERYD_LISTEN: cannot resolve %s", c->listen_host);
                return NULL;
        }
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                         (ipv6 ? MHD_USE_IPv6 : 0);
        unsigned workers = c->workers < c->pool_size ? c->workers : c->pool_size;
        /* Limits are per daemon: each worker takes its share. The kernel spreads
         * connections over the workers' sockets, so per-address shares are
         * rounded up. */
        unsigned max_connections = (c->max_connections + workers - 1) / workers;
        unsigned per_ip = (c->max_connections_per_ip + workers - 1) / workers;
        return MHD_start_daemon(flags, c->listen_port, NULL, NULL, access_cb, s,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
                                MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                                MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify_cb, s->guard,
                                MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, (c->idle_timeout_ms + 999) / 1000,
                                MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
                                MHD_OPTION_END);
}

int http_server_new(http_server_t **ret_server, worker_t *w)
{
        http_server_t *s = calloc(1, sizeof(*s));

        *ret_server = NULL;
        if (s == NULL)
                return -ENOMEM;
        s->worker = w;
        if (getrandom(&s->id_prefix, sizeof(s->id_prefix), 0) != sizeof(s->id_prefix))
                s->id_prefix = (uint32_t)getpid() ^ w->index;
        if (conn_guard_new(&s->guard, &w->loop, w->config->header_timeout_ms) < 0) {
                free(s);
                return -ENOMEM;
        }
        s->daemon = start_daemon(s, w->config);
        if (s->daemon == NULL) {
                log_error("cannot listen on %s:%u", w->config->listen_host, w->config->listen_port);
                conn_guard_close(s->guard);
                free(s);
                return -EADDRINUSE;
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        uv_poll_init(&w->loop, &s->daemon_poll, info->epoll_fd);
        uv_timer_init(&w->loop, &s->daemon_timer);
        uv_timer_init(&w->loop, &s->drain_timer);
        uv_idle_init(&w->loop, &s->kick);
        s->daemon_poll.data = s->daemon_timer.data = s->drain_timer.data = s->kick.data = s;
        uv_poll_start(&s->daemon_poll, UV_READABLE, daemon_poll_cb);
        kick(s);
        *ret_server = s;
        return 0;
}

/* Requests still suspended when the drain ends are answered, since stopping
 * a daemon with suspended connections is not allowed. */
static void finish_stop(http_server_t *s)
{
        s->closing = true;
        while (s->suspended != NULL) {
                if (s->suspended->read_body != NULL)
                        http_body_fail(s->suspended); /* a stream waiting for rows */
                else
                        http_fail(s->suspended, 503, "database-unavailable",
                                  "the service is shutting down");
        }
        uv_timer_stop(&s->drain_timer);
        uv_poll_stop(&s->daemon_poll);
        struct MHD_Daemon *daemon = s->daemon;
        s->daemon = NULL;
        MHD_run(daemon); /* lets the daemon take back the connections just resumed */
        MHD_stop_daemon(daemon);
        conn_guard_close(s->guard); /* after the daemon: closing connections still report */
        uv_close((uv_handle_t *)&s->daemon_poll, NULL);
        uv_close((uv_handle_t *)&s->daemon_timer, NULL);
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        uv_close((uv_handle_t *)&s->kick, NULL);
        if (s->stopped_cb != NULL)
                s->stopped_cb(s->worker);
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
                kick(s);
}

void http_server_stop(http_server_t *s, unsigned drain_ms, void (*done_cb)(worker_t *w))
{
        s->stopping = true;
        s->stopped_cb = done_cb;
        MHD_socket listener = MHD_quiesce_daemon(s->daemon);
        if (listener != MHD_INVALID_SOCKET)
                close(listener);
        uv_timer_start(&s->drain_timer, drain_timer_cb, drain_ms, 0);
        maybe_finish_drain(s);
}

void http_server_free(http_server_t *s)
{
        free(s);
}
