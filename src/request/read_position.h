/*
 * Reads that carry a position (the Queryd-Position request header: the
 * MariaDB GTID list a write answered with) must see everything committed
 * up to it. On a Galera cluster every node has the commit once the writer
 * heard of it, but may not have applied it yet: such a read runs as a
 * causal read (wsrep_sync_wait), so the node first applies everything the
 * cluster committed before the read started.
 */
#ifndef QUERYD_READ_POSITION_H
#define QUERYD_READ_POSITION_H

#include <stdbool.h>

#include "db/db_query.h"
#include "http/http.h"

/** The request header that carries a position. */
#define READ_POSITION_HEADER "Queryd-Position"

/**
 * Whether text is a well-formed GTID list: domain-server-sequence triples
 * of decimal numbers separated by commas, blanks allowed around each.
 */
bool read_position_valid(const char *text);

/**
 * Reads req's Queryd-Position header. Returns 0 when the request has none,
 * 1 when it has a well-formed one, or -EINVAL after answering 400
 * (problem+json naming the header) for a malformed one.
 */
int read_position_check(http_request_t *req);

/**
 * Makes q, a read about to run on conn for a request that carries a
 * position, wait for the cluster: on a Galera node its statement becomes
 * SET STATEMENT wsrep_sync_wait=1 FOR <statement> (a statement text of its
 * own, so the connection's statement cache keeps both, and the setting
 * ends with the statement: a pooled connection never carries it to
 * another request). On any other server q is left as it is. The new text
 * lives in scope. Returns 0, or -ENOMEM (q unchanged).
 */
int read_position_wait(db_query_t *q, const db_conn_t *conn, scope_t *scope);

#endif
