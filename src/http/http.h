/*
 * libmicrohttpd glue: one daemon per worker in external-epoll mode, driven by
 * the worker's libuv loop; request contexts with their scope, suspend and
 * resume around asynchronous work, deadlines, and the one way to answer.
 */
#ifndef QUERYD_HTTP_H
#define QUERYD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "db/db_query.h"
#include "http/query_args.h"
#include "http/router.h"

typedef struct worker worker_t;
typedef struct http_server http_server_t;
typedef void (*http_deadline_fn)(http_request_t *req);

/**
 * The source of a body written while it is sent: copies at most max bytes
 * into buf and returns their count, or one of the HTTP_BODY_* below.
 */
typedef long (*http_body_read_fn)(http_request_t *req, char *buf, size_t max);
enum {
        HTTP_BODY_WAIT = 0,    /* nothing yet: http_body_ready() says when */
        HTTP_BODY_END = -1,    /* the body is complete */
        HTTP_BODY_FAILED = -2, /* cut short: the connection closes without ending the body */
};

enum { HTTP_MAX_QUERY_ARGS = 32 };

struct http_request {
        worker_t *worker;
        scope_t *scope;               /* closes when libmicrohttpd completes the request */
        const char *path;
        char id[65];                  /* request id, also sent as X-Request-Id */
        query_arg_t args[HTTP_MAX_QUERY_ARGS];
        size_t arg_count;
        bool too_many_args;
        bool vary_accept;             /* the answer depends on the Accept header */
        void *route_state;            /* the handler's own, for its callbacks */
        api_t *api;                   /* the routes it was matched with, held until it completes */
        /* private to http.c */
        const char *method;
        const char *cors_origin;      /* Access-Control-Allow-Origin to send, or NULL */
        uint64_t started_ns;
        int route;                    /* index in the route table, or METRICS_UNMATCHED_ROUTE */
        size_t body_bytes;
        uv_poll_t *client_watch;      /* while suspended: notices the client hanging up */
        bool client_watch_tried;
        struct MHD_Connection *connection;
        struct MHD_Response *response;
        unsigned status;
        bool answered;
        bool suspended;
        http_body_read_fn read_body;  /* a streamed answer's source, or NULL */
        bool body_failed;             /* the stream is to be cut short */
        uv_timer_t *deadline;         /* also wakes up once to start client_watch */
        uint64_t deadline_at;         /* loop time in ms */
        http_deadline_fn on_deadline;
        http_request_t *prev, *next;  /* the server's list of suspended requests */
};

/** Creates the worker's daemon bound to the configured address. Returns 0 or -errno. */
int http_server_new(http_server_t **ret_server, worker_t *worker);

/**
 * Stops accepting, lets requests in flight finish (up to drain_ms), then
 * stops the daemon and closes its handles; done_cb runs when the daemon is
 * stopped (its handles close on the next loop turn).
 */
void http_server_stop(http_server_t *server, unsigned drain_ms, void (*done_cb)(worker_t *w));

/** Frees a stopped server once its handles have closed. */
void http_server_free(http_server_t *server);

/**
 * Answers with body (malloc'd; ownership passes here, also on failure).
 * Only the first answer of a request counts; later ones are dropped. May be
 * called from the route handler or later from any callback on the loop.
 */
void http_respond(http_request_t *req, unsigned status, const char *content_type, char *body,
                  size_t len);

/**
 * Answers with the buffer's content (taken; the buffer is left empty), or
 * with a 500 problem when building it ran out of memory.
 */
void http_respond_buffer(http_request_t *req, unsigned status, const char *content_type,
                         strbuf_t *body);

/**
 * Answers with a body that read_body produces over time, sent with chunked
 * transfer encoding, so that a large result never sits whole in memory.
 * Unlike the other answers it leaves the deadline running: a handler that
 * streams must end the body (or cut it short) from its on_deadline.
 */
void http_respond_stream(http_request_t *req, unsigned status, const char *content_type,
                         http_body_read_fn read_body);

/** Calls a body reader that returned HTTP_BODY_WAIT again: bytes, or the end, are ready. */
void http_body_ready(http_request_t *req);

/** Cuts a streamed body short: the client sees the connection close before its end. */
void http_body_fail(http_request_t *req);

/** Answers with value serialized as application/json; steals the reference. */
void http_respond_json(http_request_t *req, unsigned status, json_t *value);

/** Answers with a problem document (see problem.h); steals the reference. */
void http_respond_problem(http_request_t *req, json_t *problem);

/** Answers with an application/problem+json error; detail is printf-formatted. */
void http_fail(http_request_t *req, unsigned status, const char *slug, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/**
 * Answers 400 invalid-parameter for the request parameter name (a query
 * parameter, or a path segment's name), which the problem names in a
 * "parameter" member; detail is printf-formatted.
 */
void http_fail_param(http_request_t *req, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/** Answers for a failed statement, mapped by db_errors; adds errno and sqlstate. */
void http_fail_db(http_request_t *req, const db_error_t *error);

/** Answers for a failed acquire (db_pool_acquire's or its callback's error). */
void http_fail_acquire(http_request_t *req, int status);

/**
 * Replaces the request's deadline: after ms, on_deadline runs unless the
 * request was answered (it must answer). The default deadline is the
 * configured request timeout and answers 504.
 */
void http_set_deadline(http_request_t *req, unsigned ms, http_deadline_fn on_deadline);

/** The value of a request header, or NULL. */
const char *http_header(http_request_t *req, const char *name);

/**
 * Checks the query string against allowed names (NULL-terminated): unknown
 * or repeated names get a 400 answer and false.
 */
bool http_check_query_args(http_request_t *req, const char *const *allowed);

#endif
