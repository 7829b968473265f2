/*
 * Identical reads share one answer: an entry with "cache_ms" keeps the
 * answers of its GETs for that long (answered again with Age), and a read
 * arriving while an identical one runs waits for it and takes its answer
 * (collapsing) instead of sending a statement of its own. "Identical"
 * means the same api, path, query arguments (decoded, in the order sent),
 * role, values of the claims the caller's rules bind, Accept and
 * Accept-Encoding. One cache serves the whole process: a read on one worker
 * may answer an identical read on another, which it wakes on its own loop.
 * A write through queryd drops the answers read from its table.
 */
#ifndef QUERYD_READ_CACHE_H
#define QUERYD_READ_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/strbuf.h"
#include "http/http.h"
#include "request/env.h"

typedef struct read_cache read_cache_t;

/** What a worker's loop needs to be woken by reads finishing on other loops. */
typedef struct read_cache_waker read_cache_waker_t;

/** A cache of at most max_bytes (0: caching off, collapsing too); NULL when out of memory. */
read_cache_t *read_cache_new(size_t max_bytes);

/** Frees a cache once every worker has stopped. */
void read_cache_free(read_cache_t *cache);

/**
 * The waker of the worker whose loop is loop, for its requests' environments
 * (env_shared_t.cache_waker). Returns 0 or -ENOMEM.
 */
int read_cache_waker_new(read_cache_t *cache, uv_loop_t *loop, read_cache_waker_t **ret_waker);

/** Closes a waker once none of its loop's requests is left; freed on the next loop turn. */
void read_cache_waker_close(read_cache_waker_t *waker);

/**
 * Before the handler of an admitted request runs: answers it from the
 * cache (true), or makes it wait for an identical read already running
 * (true: it is answered when that read ends, or runs its handler itself
 * when that read fails), or lets the handler run (false), as the leader
 * of the reads that follow when the entry caches.
 */
bool read_cache_serve(env_t *env, http_request_t *req, const route_match_t *match);

/**
 * Adds the entry's Cache-Control to a successful read's answer; without
 * cache_control, or for a request that is no GET or HEAD, nothing. Call
 * before answering, streamed answers too.
 */
void read_cache_headers(env_t *env, http_request_t *req);

/**
 * A leading read's 200 answer (content_type, body): kept for the reads
 * waiting for it and, when it fits, for those to come. Call before the
 * answer takes body. Nothing for a read that does not lead.
 */
void read_cache_keep(env_t *env, const char *content_type, const strbuf_t *body);

/**
 * A leading read whose answer will not be kept (a stream, an error):
 * the reads waiting for it run on their own now. Nothing for a read that
 * does not lead; it is also what the end of a leading request does.
 */
void read_cache_let_go(env_t *env);

/** A write to table (NULL: to tables unknown) succeeded: its answers go. */
void read_cache_invalidate(read_cache_t *cache, const char *table);

/**
 * A write of the request env serves may have changed table (NULL: tables
 * it does not name): read_cache_invalidate on the process's cache. Call
 * before answering it, so that the writer's next read sees the change.
 */
void read_cache_written(env_t *env, const char *table);

/** Drops every answer (the configuration was replaced). */
void read_cache_clear(read_cache_t *cache);

/** Appends the cache's figures to /metrics (Prometheus text). */
void read_cache_render_metrics(const env_t *env, strbuf_t *out);

/**
 * The entry's Cache-Control as sent to a caller whose answer depends on
 * its credentials: without the directives that let a shared cache keep it
 * (public, s-maxage), since such an answer goes out with Cache-Control:
 * private. Writes at most size bytes into buf; returns buf, "" when
 * nothing is left.
 */
const char *read_cache_private_control(const char *control, char *buf, size_t size);

#endif
