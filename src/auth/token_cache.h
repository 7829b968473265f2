/*
 * Verified tokens, so a client repeating one token pays for one signature
 * check. Bounded at capacity entries, least recently used out first, keyed by
 * the SHA-256 of the token (the token itself is never stored); an entry lasts
 * until the token's exp and at most max_age_s. One cache per worker thread:
 * there are no locks, and no call may race another on the same cache.
 */
#ifndef QUERYD_TOKEN_CACHE_H
#define QUERYD_TOKEN_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

typedef struct token_cache token_cache_t;

/**
 * A cache of at most capacity tokens, each kept at most max_age_s seconds.
 * capacity 0 or max_age_s 0 makes a cache that remembers nothing. All its
 * memory is taken here; later calls never allocate. NULL when out of memory.
 */
token_cache_t *token_cache_new(size_t capacity, unsigned max_age_s);

/** Drops every entry's claims and frees the cache; NULL is fine. */
void token_cache_free(token_cache_t *cache);

/**
 * The claims of the token (len bytes) put before and not expired at now
 * (an entry is expired from its expiry time on), or NULL when not cached.
 * The claims are borrowed: valid until the next token_cache_put,
 * token_cache_clear or token_cache_free on this cache (take a reference to
 * keep them longer). A hit makes the entry the most recently used.
 */
json_t *token_cache_get(token_cache_t *cache, const char *token, size_t len, time_t now);

/**
 * Remembers the verified token's claims (taking a new reference) until
 * expires, or until now + max_age_s when that is sooner or expires is 0.
 * Putting a token already cached replaces its claims and expiry; when the
 * cache is full, the least recently used entry is dropped. Nothing is kept
 * when the expiry is not after now. Returns 0, or -EINVAL when claims is NULL.
 */
int token_cache_put(token_cache_t *cache, const char *token, size_t len, json_t *claims,
                    time_t expires, time_t now);

/** Forgets everything (the keys or rules changed on reload). */
void token_cache_clear(token_cache_t *cache);

/** The number of entries held, expired ones included until they are dropped. */
size_t token_cache_count(const token_cache_t *cache);

#endif
