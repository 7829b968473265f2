/*
 * What the files of src/http/ share and nothing else sees: the server's
 * state and the steps of a request's life that cross from one file to
 * another (http_server.c drives the daemon, http_request.c keeps request
 * contexts, http_answer.c answers, http_deadline.c and http_body.c).
 */
#ifndef QUERYD_HTTP_PRIVATE_H
#define QUERYD_HTTP_PRIVATE_H

#include <microhttpd.h>

#include "http/conn_guard.h"
#include "http/http.h"
#include "http/wire_gate.h"

/* A header a handler added to its answer (http_add_header). */
struct http_header_line {
        const char *name;
        const char *value;
        struct http_header_line *next;
};

struct http_server {
        uv_loop_t *loop;
        http_options_t options;
        http_dispatch_fn dispatch;
        void *dispatch_data;
        struct MHD_Daemon *daemon;
        uv_poll_t daemon_poll; /* readable when the daemon's epoll set has events */
        uv_timer_t daemon_timer;
        uv_idle_t kick;        /* runs MHD_run on the next loop turn */
        uv_timer_t drain_timer;
        conn_guard_t *guard;
        wire_gate_t *gate;     /* the listener: requests reach the daemon through it */
        list_node_t suspended; /* requests parked while their answer waits */
        unsigned active_requests;
        bool stopping;         /* draining: answers carry Connection: close */
        bool closing;          /* the drain is over: new requests get 503 at once */
        void (*stopped_cb)(void *data);
        void *stopped_data;
        uint32_t id_prefix;
        uint64_t id_counter;
};

/* http_server.c */

/** Runs the daemon on the next loop turn (after a resume, or to stop a drained server). */
void http_kick(http_server_t *s);

/**
 * One round of the daemon now; never from inside a libmicrohttpd callback.
 * Returns whether another round follows on the next loop turn.
 */
bool http_run_daemon(http_server_t *s);

/** The daemon's socket of a connection (its end of the gate's socketpair), or -1. */
int http_daemon_fd(struct MHD_Connection *connection);

/* http_request.c */

/** A new request context in a scope of its own; NULL when out of memory. */
http_request_t *http_request_new(http_server_t *s, struct MHD_Connection *connection,
                                 const char *url, const char *method);

/** Parks the connection while its answer waits (the server keeps a list). */
void http_request_suspend(http_request_t *req);

/** Lets the daemon go on with a parked connection; nothing if it is not parked. */
void http_request_resume(http_request_t *req);

/** Every request ends here, answered or not: counted, logged, its scope closed. */
void http_request_complete(http_request_t *req, enum MHD_RequestTerminationCode toe);

/* http_deadline.c */

/** Arms the deadline timer (or the earlier wake-up that starts the client watch). */
void http_deadline_arm(http_request_t *req);

/** Stops the client watch of a request that is resumed. */
void http_unwatch_client(http_request_t *req);

/* http_body.c */

/**
 * The access handler's part for the request body: takes one piece of it
 * (len > 0) or its end (len 0). Returns false when the connection must
 * close without an answer.
 */
bool http_body_take(http_request_t *req, const char *chunk, size_t len);

/** Answers 413 at once when the declared Content-Length is past the limit. */
void http_body_check_length(http_request_t *req);

#endif
