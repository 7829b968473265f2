/*
 * Defence against slow clients (slowloris): every client connection must
 * deliver a complete request head within the header timeout, counted from
 * the moment it connected or its previous answer completed. libmicrohttpd's
 * own timeout is reset by every byte, so a client trickling one byte at a
 * time would otherwise hold its connection forever.
 */
#ifndef QUERYD_CONN_GUARD_H
#define QUERYD_CONN_GUARD_H

#include <microhttpd.h>
#include <uv.h>

typedef struct conn_guard conn_guard_t;

/** A guard sweeping on loop every so often. Returns 0 or -ENOMEM. */
int conn_guard_new(conn_guard_t **ret_guard, uv_loop_t *loop, unsigned header_timeout_ms);

/** libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void conn_guard_notify_cb(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

/** The connection's request head has arrived: stop counting. */
void conn_guard_request_started(struct MHD_Connection *connection);

/** The connection's request is done: start counting for the next one. */
void conn_guard_request_done(struct MHD_Connection *connection);

/** Stops the sweep; the guard frees itself once its timer has closed. */
void conn_guard_close(conn_guard_t *guard);

#endif
