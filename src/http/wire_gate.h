/*
 * The wire gate: queryd's own listener in front of libmicrohttpd. It accepts
 * client connections on the server's loop, frames their requests
 * (wire_frame.h), refuses malformed ones itself with problem+json, and hands
 * the rest to the daemon through a socketpair, pumping the answers back. It
 * also keeps a client that half-closed its side served until its answers
 * are out, which libmicrohttpd 0.9.75 does not.
 */
#ifndef QUERYD_WIRE_GATE_H
#define QUERYD_WIRE_GATE_H

#include <sys/socket.h>

typedef struct wire_gate wire_gate_t;
struct http_server;

/**
 * Listens on addr (SO_REUSEPORT, so sibling workers share the port) for
 * server, whose daemon must run without a listening socket of its own.
 * Returns 0 or a negative errno; nothing is left open on failure.
 */
int wire_gate_new(wire_gate_t **ret_gate, struct http_server *server, const struct sockaddr *addr,
                  socklen_t addrlen);

/** Stops accepting (the drain); connections already in go on. */
void wire_gate_stop_listening(wire_gate_t *gate);

/** libmicrohttpd finished a request on the connection with this daemon-side fd. */
void wire_gate_request_done(wire_gate_t *gate, int daemon_fd);

/**
 * The request on this daemon-side fd waits for its answer with nothing sent
 * yet: a client that has half-closed can be asked whether it is still there.
 */
void wire_gate_request_waiting(wire_gate_t *gate, int daemon_fd);

/**
 * After the daemon has stopped: passes on what it wrote last, closes every
 * connection, and frees the gate once its handles have closed.
 */
void wire_gate_close(wire_gate_t *gate);

#endif
