/*
 * HTTP on a libuv loop: a libmicrohttpd daemon in external-epoll mode, one
 * request context per request with its scope, suspend and resume around
 * asynchronous work, deadlines, request bodies read in chunks, and the one
 * way to answer. It knows nothing of routes, databases or workers: every
 * request goes to the dispatch function the server was created with.
 */
#ifndef QUERYD_HTTP_H
#define QUERYD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "core/list.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "http/query_args.h"

typedef struct http_server http_server_t;
typedef struct http_request http_request_t;

/** How a server listens and guards itself; strings are borrowed for the server's life. */
typedef struct http_options {
        const char *listen_host;
        uint16_t listen_port;
        unsigned max_connections;        /* this server's share of the client connections */
        unsigned max_connections_per_ip; /* its share per client address; 0: no limit */
        unsigned idle_timeout_ms;        /* a silent connection is closed (whole seconds) */
        unsigned header_timeout_ms;      /* a request head must arrive within this */
        unsigned default_deadline_ms;    /* a request without a deadline of its own: 504 after */
        unsigned max_body_bytes;         /* a longer request body is refused with 413; 0: no limit */
        const char *cors_origins;        /* "*", "a,b" or NULL (config.h); NULL: no CORS */
        bool access_log;                 /* one JSON line per finished request on stdout */
        unsigned id_salt;                /* tells this server's request ids from its siblings' */
        const config_coding_t *codings;  /* answer compression, preferred first; borrowed */
        unsigned coding_count;           /* 0: answers are never compressed */
} http_options_t;

/**
 * Routes a request once its head (method, path, headers, query) is in. It
 * answers, or arranges for the request to go on: http_after_body() for a
 * handler that takes no body, http_receive_body() for one that does.
 */
typedef void (*http_dispatch_fn)(http_request_t *req, void *data);

/** Runs when a request's deadline passes unanswered (see http_set_deadline). */
typedef void (*http_deadline_fn)(http_request_t *req, void *data);

/** Runs once a request's body has been read and discarded (see http_after_body). */
typedef void (*http_continue_fn)(http_request_t *req, void *data);

/**
 * Takes one piece of a request body (len > 0), or learns of its end (len 0).
 * Returns HTTP_BODY_MORE for the next piece, HTTP_BODY_PAUSE to hold the
 * next until http_body_resume(), or HTTP_BODY_STOP once it has answered.
 * A piece is valid only during the call.
 */
typedef int (*http_body_fn)(http_request_t *req, const char *chunk, size_t len, void *data);
enum { HTTP_BODY_MORE = 0, HTTP_BODY_PAUSE = 1, HTTP_BODY_STOP = 2 };

/**
 * The source of an answer written while it is sent: copies at most max bytes
 * into buf and returns their count, or one of the HTTP_STREAM_* below.
 */
typedef long (*http_stream_fn)(http_request_t *req, char *buf, size_t max, void *data);
enum {
        HTTP_STREAM_WAIT = 0,    /* nothing yet: http_stream_ready() says when */
        HTTP_STREAM_END = -1,    /* the answer is complete */
        HTTP_STREAM_FAILED = -2, /* cut short: the connection closes without ending it */
};

enum { HTTP_MAX_QUERY_ARGS = 32 };

struct http_request {
        http_server_t *server;
        scope_t *scope;               /* closes when libmicrohttpd completes the request */
        const char *method;
        const char *path;
        char id[65];                  /* request id, also sent as X-Request-Id */
        query_arg_t args[HTTP_MAX_QUERY_ARGS];
        size_t arg_count;
        bool too_many_args;
        bool bad_escape_in_path;      /* the path holds a '%' that starts no escape */
        const char *bad_escape_arg;   /* the first argument that does, or NULL */
        bool vary_accept;             /* the answer depends on the Accept header */
        bool vary_credentials;        /* and on Authorization and X-API-Key: no shared
                                         cache may keep it (Cache-Control: private) */
        int metrics_route;            /* its route's slot in /metrics (set by the dispatcher) */
        struct http_header_line *extra_headers; /* http_add_header(), in scope */
        const char *role;             /* who sent it, for the access log: the caller's role */
        const char *subject;          /* and who it is (a token's sub, an API key's name) */
        /* private to http/ */
        const char *cors_origin;      /* Access-Control-Allow-Origin to send, or NULL */
        uint64_t started_ns;
        size_t sent_bytes;
        uv_poll_t *client_watch;      /* while suspended: notices the client hanging up */
        bool client_watch_tried;
        struct MHD_Connection *connection;
        struct MHD_Response *response;
        unsigned status;
        bool dispatched;
        bool answered;
        bool suspended;
        uint64_t body_bytes;          /* of the request body, read so far */
        bool body_ended;
        http_body_fn on_body;         /* the handler reading the body, or NULL: discarded */
        http_continue_fn after_body;  /* what runs once a discarded body is read */
        void *body_data;
        bool body_paused;
        bool body_delivering;         /* on_body is running */
        bool body_resumed_early;      /* and called http_body_resume before returning */
        http_stream_fn read_stream;   /* a streamed answer's source, or NULL */
        void *stream_data;
        bool stream_failed;           /* the stream is to be cut short */
        bool vary_encoding;           /* the answer could be compressed: Vary: Accept-Encoding */
        const char *content_encoding; /* the coding its body was compressed with, or NULL */
        uv_timer_t *deadline;         /* also wakes up once to start client_watch */
        uint64_t deadline_at;         /* loop time in ms */
        http_deadline_fn on_deadline;
        void *deadline_data;
        list_node_t suspended_node;   /* in the server's list of suspended requests */
};

/**
 * Creates a server on loop, bound to the options' address, that hands every
 * request to dispatch. Returns 0 or a negative errno (logged).
 */
int http_server_new(http_server_t **ret_server, uv_loop_t *loop, const http_options_t *options,
                    http_dispatch_fn dispatch, void *dispatch_data);

/**
 * Stops accepting, lets requests in flight finish (up to drain_ms), then
 * stops the daemon and closes its handles; done_cb(data) runs when the
 * daemon is stopped (its handles close on the next loop turn).
 */
void http_server_stop(http_server_t *server, unsigned drain_ms, void (*done_cb)(void *data),
                      void *data);

/** Frees a stopped server once its handles have closed. */
void http_server_free(http_server_t *server);

/* ---- the request ---- */

/** Writes the client's address as text into buf ("" when unknown); returns buf. */
const char *http_client_address(http_request_t *req, char *buf, size_t size);

/** The value of a request header, or NULL. */
const char *http_header(http_request_t *req, const char *name);

/**
 * Adds a header to the request's answer, whatever it turns out to be (Allow
 * for a 405, WWW-Authenticate for a 401, Retry-After for a 429). name and
 * value are copied into the request's scope; a line already added with the
 * same name and value is not added again. Returns 0 or -ENOMEM.
 */
int http_add_header(http_request_t *req, const char *name, const char *value);

/**
 * Checks the query string against allowed names (NULL-terminated): unknown
 * or repeated names, and names without a value ("?select" rather than
 * "?select=id"), get a 400 answer and false.
 */
bool http_check_query_args(http_request_t *req, const char *const *allowed);

/**
 * Checks the request target before it is routed: a '%' not followed by two
 * hex digits, in the path or in the query, gets a 400 answer and false.
 */
bool http_check_target(http_request_t *req);

/**
 * Reads the request body and throws it away (within the body limit), then
 * calls fn(req, data), at once when there is no body. A request whose body
 * passes the limit is answered 413 and fn never runs.
 */
void http_after_body(http_request_t *req, http_continue_fn fn, void *data);

/**
 * Hands the request body to on_body as it arrives, piece by piece, then
 * once with len 0 at its end (also when there is no body). Past the body
 * limit the request is answered 413 and on_body hears no more.
 */
void http_receive_body(http_request_t *req, http_body_fn on_body, void *data);

/**
 * Hands on_body the next piece after it returned HTTP_BODY_PAUSE. Called
 * while on_body runs (its work finished at once), the pause it is about to
 * return is void.
 */
void http_body_resume(http_request_t *req);

/* ---- deadlines ---- */

/**
 * Replaces the request's deadline: after ms, on_deadline(req, data) runs
 * unless the request was answered (it must answer). on_deadline NULL: the
 * default, which answers 504.
 */
void http_set_deadline(http_request_t *req, unsigned ms, http_deadline_fn on_deadline,
                       void *data);

/* ---- answers: only the first answer of a request counts, later ones are dropped ---- */

/**
 * Answers with body (malloc'd; ownership passes here, also on failure). May
 * be called from the dispatcher or later from any callback on the loop.
 */
void http_respond(http_request_t *req, unsigned status, const char *content_type, char *body,
                  size_t len);

/**
 * Answers with the buffer's content (taken; the buffer is left empty), or
 * with a 500 problem when building it ran out of memory.
 */
void http_respond_buffer(http_request_t *req, unsigned status, const char *content_type,
                         strbuf_t *body);

/** Answers with value serialized as application/json; steals the reference. */
void http_respond_json(http_request_t *req, unsigned status, json_t *value);

/**
 * Answers with a body that read(req, ..., data) produces over time, sent
 * with chunked transfer encoding, so that a large answer never sits whole in
 * memory. Unlike the other answers it leaves the deadline running: whoever
 * streams must end the answer (or cut it short) from its deadline function.
 */
void http_respond_stream(http_request_t *req, unsigned status, const char *content_type,
                         http_stream_fn read, void *data);

/** Calls a stream source that returned HTTP_STREAM_WAIT again: bytes, or the end, are ready. */
void http_stream_ready(http_request_t *req);

/** Cuts a streamed answer short: the client sees the connection close before its end. */
void http_stream_fail(http_request_t *req);

/** Answers with a problem document (problem.h) as it is; steals the reference. */
void http_respond_problem(http_request_t *req, json_t *problem);

/**
 * Answers with a problem document for an error (the reference is stolen): a
 * status of 500 or more is also logged, with the request id and the detail.
 */
void http_fail_problem(http_request_t *req, json_t *problem);

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

/**
 * Answers a CORS preflight for a resource that answers the methods in allow
 * ("GET, HEAD"): 204 with the Access-Control-Allow-* headers, or 403 when the
 * origin or the method asked for may not.
 */
void http_answer_preflight(http_request_t *req, const char *allow);

/** Whether the request is a CORS preflight (CORS on, OPTIONS, Access-Control-Request-Method). */
bool http_is_preflight(http_request_t *req);

#endif
