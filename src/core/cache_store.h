/*
 * A bounded store of answers by key: least recently used out once the bytes
 * kept pass the bound, each answer kept for its own time to live, and
 * dropped by tag (the table it was read from) when that table changes. It
 * takes no lock: its one user (request/read_cache.c) holds one around every
 * call. Bodies are reference counted so that an answer being sent survives
 * its eviction.
 */
#ifndef QUERYD_CACHE_STORE_H
#define QUERYD_CACHE_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cache_store cache_store_t;

/** A stored answer: immutable once made, freed with its last reference. */
typedef struct cache_body {
        atomic_long refs;
        uint64_t stored_ms;     /* when it was made, for Age */
        const char *content_type;
        size_t len;
        char data[];            /* len bytes, then content_type with its NUL */
} cache_body_t;

/** Figures for /metrics. */
typedef struct cache_store_stats {
        size_t bytes;           /* kept now: bodies, keys and bookkeeping */
        size_t entries;
        uint64_t evictions;     /* entries dropped to make room (not expiry or invalidation) */
} cache_store_stats_t;

/** A body holding a copy of data (len bytes) with one reference; NULL when out of memory. */
cache_body_t *cache_body_new(const char *content_type, const char *data, size_t len,
                             uint64_t now_ms);

void cache_body_ref(cache_body_t *body);

/** Drops a reference (NULL is ignored); the last frees the body. Safe from any thread. */
void cache_body_unref(cache_body_t *body);

/** A store that keeps at most max_bytes; NULL when out of memory. */
cache_store_t *cache_store_new(size_t max_bytes);

void cache_store_free(cache_store_t *s);

/** The most bytes one entry may cost: a fraction of the bound, so one answer never
 * flushes the rest. */
size_t cache_store_entry_limit(const cache_store_t *s);

/**
 * The body stored under key (key_len bytes, any bytes) and still fresh at
 * now_ms, with a new reference for the caller, or NULL. A hit becomes the
 * most recently used; an expired entry found on the way is dropped.
 */
cache_body_t *cache_store_get(cache_store_t *s, const char *key, size_t key_len, uint64_t now_ms);

/**
 * Keeps body (the store takes its own reference) under key until
 * now_ms + ttl_ms, tagged with tag ("*": dropped by every invalidation),
 * replacing an entry of the same key and dropping the least recently used
 * ones until it fits. Returns 0, -E2BIG when it costs more than
 * cache_store_entry_limit(), or -ENOMEM.
 */
int cache_store_put(cache_store_t *s, const char *key, size_t key_len, const char *tag,
                    cache_body_t *body, uint64_t now_ms, uint64_t ttl_ms);

/** Drops the entries tagged tag and those tagged "*"; tag NULL: every entry. */
void cache_store_invalidate(cache_store_t *s, const char *tag);

void cache_store_stats(const cache_store_t *s, cache_store_stats_t *ret_stats);

/** A hash of key for the table (FNV-1a, 64 bits, its start varied by seed). */
uint64_t cache_store_hash(uint64_t seed, const char *key, size_t key_len);

#endif
