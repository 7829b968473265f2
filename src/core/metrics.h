/*
 * Process-wide counters for GET /metrics (Prometheus text format). Every
 * figure is an atomic, so workers record without locks.
 */
#ifndef QUERYD_METRICS_H
#define QUERYD_METRICS_H

#include <stddef.h>

#include "core/strbuf.h"
#include "db/db_pool.h"

/** Label of requests that matched no route. */
enum { METRICS_UNMATCHED_ROUTE = -1 };

/**
 * The slot counting requests of the route with this template, the same for
 * the same template across reloads; METRICS_UNMATCHED_ROUTE when every slot
 * is taken. Takes a lock: call when building a route table, not per request.
 */
int metrics_route_slot(const char *template);

/** Records one finished request: route slot (or unmatched), status, duration, body bytes. */
void metrics_record_request(int route, unsigned status, double seconds, size_t bytes);

/** A statement that failed with a database or client-library error. */
void metrics_count_db_error(void);

/** A connection opened again after it had been lost or discarded. */
void metrics_count_reconnect(void);

/** A statement stopped with KILL QUERY after its request stopped waiting for it (db_pool.c). */
void metrics_count_query_killed(void);

/** A connection given back with a transaction open, reopened to roll it back (db_pool.c). */
void metrics_count_transaction_abandoned(void);

/** A SET ROLE sent because the connection's role was another or unknown (db_role.c). */
void metrics_count_role_switch(void);

/** One statement that served this many coalesced item lookups (item_batch.c). */
void metrics_count_lookup_batch(unsigned lookups);

/** A streamed answer whose body was cut short after its 200 had been sent. */
void metrics_count_stream_cut(void);

/**
 * Bytes that went into a content coding ("zstd" or "gzip"; others are not
 * counted) and the bytes that came out of it (http_encoding.c).
 */
void metrics_count_compressed(const char *coding, size_t before, size_t after);

/** Appends every metric, with the pool gauges given, in Prometheus text format. */
void metrics_render(strbuf_t *out, const db_pool_stats_t *pool);

#endif
