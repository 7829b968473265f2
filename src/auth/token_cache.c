/*
 * The cache is an array of capacity entries allocated once, a hash table of
 * bucket chains over it (indexed by the digest's first bytes: SHA-256 spreads
 * them evenly), and a list in order of use whose tail is the eviction victim.
 * Every operation is O(1) apart from hashing the token.
 */
#include "auth/token_cache.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"

enum { DIGEST_BYTES = 32 };

typedef struct entry {
        unsigned char digest[DIGEST_BYTES];
        json_t *claims; /* NULL: the entry is free */
        time_t expires_at;
        struct entry *next_in_bucket;
        list_node_t use_node; /* on used (most recent first) or on free_entries */
} entry_t;

struct token_cache {
        EVP_MD *sha256;
        entry_t *entries;
        entry_t **buckets;
        size_t bucket_mask;
        size_t capacity;
        size_t count;
        unsigned max_age_s;
        list_node_t used;
        list_node_t free_entries;
};

/* The smallest power of two at least n (n >= 1). */
static size_t power_of_two_at_least(size_t n)
{
        size_t p = 1;

        while (p < n)
                p <<= 1;
        return p;
}

token_cache_t *token_cache_new(size_t capacity, unsigned max_age_s)
{
        token_cache_t *cache = calloc(1, sizeof(*cache));

        if (cache == NULL)
                return NULL;
        list_init(&cache->used);
        list_init(&cache->free_entries);
        if (max_age_s == 0 || capacity > SIZE_MAX / 4 / sizeof(entry_t))
                capacity = 0;
        size_t buckets = power_of_two_at_least(capacity * 2 + 1);
        cache->capacity = capacity;
        cache->max_age_s = max_age_s;
        cache->bucket_mask = buckets - 1;
        cache->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        cache->entries = calloc(capacity + 1, sizeof(entry_t));
        cache->buckets = calloc(buckets, sizeof(entry_t *));
        if (cache->sha256 == NULL || cache->entries == NULL || cache->buckets == NULL) {
                token_cache_free(cache);
                return NULL;
        }
        for (size_t i = 0; i < capacity; i++)
                list_push_tail(&cache->free_entries, &cache->entries[i].use_node);
        return cache;
}

void token_cache_free(token_cache_t *cache)
{
        if (cache == NULL)
                return;
        token_cache_clear(cache);
        EVP_MD_free(cache->sha256);
        free(cache->entries);
        free(cache->buckets);
        free(cache);
}

static int hash_token(const token_cache_t *cache, const char *token, size_t len,
                      unsigned char digest[DIGEST_BYTES])
{
        unsigned int n = 0;

        if (EVP_Digest(token, len, digest, &n, cache->sha256, NULL) != 1 || n != DIGEST_BYTES)
                return -ENOMEM;
        return 0;
}

static entry_t **bucket_of(const token_cache_t *cache, const unsigned char *digest)
{
        uint64_t h;

        memcpy(&h, digest, sizeof(h));
        return &cache->buckets[h & cache->bucket_mask];
}

static entry_t *find(const token_cache_t *cache, const unsigned char *digest)
{
        for (entry_t *e = *bucket_of(cache, digest); e != NULL; e = e->next_in_bucket)
                if (CRYPTO_memcmp(e->digest, digest, DIGEST_BYTES) == 0)
                        return e;
        return NULL;
}

/* Takes e out of its bucket and the use order, drops its claims and frees it. */
static void drop(token_cache_t *cache, entry_t *e)
{
        entry_t **link = bucket_of(cache, e->digest);

        while (*link != e)
                link = &(*link)->next_in_bucket;
        *link = e->next_in_bucket;
        e->next_in_bucket = NULL;
        json_decref(e->claims);
        e->claims = NULL;
        list_remove(&e->use_node);
        list_push_head(&cache->free_entries, &e->use_node);
        cache->count--;
}

json_t *token_cache_get(token_cache_t *cache, const char *token, size_t len, time_t now)
{
        unsigned char digest[DIGEST_BYTES];

        if (cache->count == 0 || hash_token(cache, token, len, digest) < 0)
                return NULL;
        entry_t *e = find(cache, digest);
        if (e == NULL || now >= e->expires_at)
                return NULL;
        list_remove(&e->use_node);
        list_push_head(&cache->used, &e->use_node);
        return e->claims;
}

/* A free entry, the least recently used one dropped first when there is none. */
static entry_t *take_entry(token_cache_t *cache)
{
        if (list_is_empty(&cache->free_entries))
                drop(cache, list_entry(cache->used.prev, entry_t, use_node));
        return list_entry(list_pop_head(&cache->free_entries), entry_t, use_node);
}

int token_cache_put(token_cache_t *cache, const char *token, size_t len, json_t *claims,
                    time_t expires, time_t now)
{
        unsigned char digest[DIGEST_BYTES];
        time_t latest = now + (time_t)cache->max_age_s;
        time_t expires_at = expires != 0 && expires < latest ? expires : latest;

        if (claims == NULL)
                return -EINVAL;
        if (cache->capacity == 0 || expires_at <= now || hash_token(cache, token, len, digest) < 0)
                return 0;
        entry_t *e = find(cache, digest);
        if (e != NULL) {
                json_decref(e->claims);
                list_remove(&e->use_node);
        } else {
                e = take_entry(cache);
                memcpy(e->digest, digest, DIGEST_BYTES);
                entry_t **bucket = bucket_of(cache, digest);
                e->next_in_bucket = *bucket;
                *bucket = e;
                cache->count++;
        }
        e->claims = json_incref(claims);
        e->expires_at = expires_at;
        list_push_head(&cache->used, &e->use_node);
        return 0;
}

void token_cache_clear(token_cache_t *cache)
{
        while (!list_is_empty(&cache->used))
                drop(cache, list_entry(cache->used.next, entry_t, use_node));
}

size_t token_cache_count(const token_cache_t *cache)
{
        return cache->count;
}
