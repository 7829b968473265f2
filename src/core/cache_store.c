/* The answer store: a chained hash table for lookups and one list in use
 * order for eviction, both over the same entries. */
#include "core/cache_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/list.h"

/* One entry costs its body, its key and this much bookkeeping besides. */
enum { ENTRY_OVERHEAD = 128, MIN_BUCKETS = 64, ENTRY_FRACTION = 8 };

typedef struct entry {
        list_node_t use;        /* in the store's list, most recently used first */
        struct entry *next;     /* in its bucket */
        uint64_t hash;
        uint64_t expires_ms;
        size_t cost;
        cache_body_t *body;
        char *tag;
        size_t key_len;
        char key[];
} entry_t;

struct cache_store {
        size_t max_bytes;
        size_t bytes;
        size_t count;
        uint64_t evictions;
        entry_t **buckets;
        size_t bucket_count;    /* a power of two */
        uint64_t seed;          /* so that a client cannot choose keys of one bucket */
        list_node_t by_use;
};

cache_body_t *cache_body_new(const char *content_type, const char *data, size_t len,
                             uint64_t now_ms)
{
        size_t type_len = strlen(content_type);
        cache_body_t *b = malloc(sizeof(*b) + len + type_len + 1);

        if (b == NULL)
                return NULL;
        atomic_init(&b->refs, 1);
        b->stored_ms = now_ms;
        b->len = len;
        if (len > 0)
                memcpy(b->data, data, len);
        memcpy(b->data + len, content_type, type_len + 1);
        b->content_type = b->data + len;
        return b;
}

void cache_body_ref(cache_body_t *body)
{
        atomic_fetch_add(&body->refs, 1);
}

void cache_body_unref(cache_body_t *body)
{
        if (body != NULL && atomic_fetch_sub(&body->refs, 1) == 1)
                free(body);
}

uint64_t cache_store_hash(uint64_t seed, const char *key, size_t key_len)
{
        uint64_t h = 14695981039346656037ULL ^ seed;

        for (size_t i = 0; i < key_len; i++) {
                h ^= (unsigned char)key[i];
                h *= 1099511628211ULL;
        }
        return h;
}

cache_store_t *cache_store_new(size_t max_bytes)
{
        cache_store_t *s = calloc(1, sizeof(*s));

        if (s == NULL)
                return NULL;
        s->buckets = calloc(MIN_BUCKETS, sizeof(*s->buckets));
        if (s->buckets == NULL) {
                free(s);
                return NULL;
        }
        s->bucket_count = MIN_BUCKETS;
        if (getrandom(&s->seed, sizeof(s->seed), 0) != sizeof(s->seed))
                s->seed = (uint64_t)(uintptr_t)s; /* still differs from run to run */
        s->max_bytes = max_bytes;
        list_init(&s->by_use);
        return s;
}

size_t cache_store_entry_limit(const cache_store_t *s)
{
        return s->max_bytes / ENTRY_FRACTION;
}

static entry_t **slot_of(cache_store_t *s, uint64_t hash)
{
        return &s->buckets[hash & (s->bucket_count - 1)];
}

/* Takes e out of its bucket and the use list, and frees it. */
static void drop(cache_store_t *s, entry_t *e)
{
        entry_t **p = slot_of(s, e->hash);

        while (*p != e)
                p = &(*p)->next;
        *p = e->next;
        list_remove(&e->use);
        s->bytes -= e->cost;
        s->count--;
        cache_body_unref(e->body);
        free(e->tag);
        free(e);
}

void cache_store_free(cache_store_t *s)
{
        if (s == NULL)
                return;
        cache_store_invalidate(s, NULL);
        free(s->buckets);
        free(s);
}

static entry_t *find(cache_store_t *s, const char *key, size_t key_len, uint64_t hash)
{
        for (entry_t *e = *slot_of(s, hash); e != NULL; e = e->next)
                if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
                        return e;
        return NULL;
}

cache_body_t *cache_store_get(cache_store_t *s, const char *key, size_t key_len, uint64_t now_ms)
{
        entry_t *e = find(s, key, key_len, cache_store_hash(s->seed, key, key_len));

        if (e == NULL)
                return NULL;
        if (now_ms >= e->expires_ms) {
                drop(s, e);
                return NULL;
        }
        list_remove(&e->use);
        list_push_head(&s->by_use, &e->use);
        cache_body_ref(e->body);
        return e->body;
}

/* Doubles the buckets once there are more entries than buckets; staying
 * small is harmless (chains grow), so a failed allocation is ignored. */
static void grow(cache_store_t *s)
{
        size_t count = s->bucket_count * 2;
        entry_t **buckets;

        if (s->count < s->bucket_count || (buckets = calloc(count, sizeof(*buckets))) == NULL)
                return;
        for (size_t i = 0; i < s->bucket_count; i++) {
                entry_t *e = s->buckets[i];
                while (e != NULL) {
                        entry_t *next = e->next;
                        e->next = buckets[e->hash & (count - 1)];
                        buckets[e->hash & (count - 1)] = e;
                        e = next;
                }
        }
        free(s->buckets);
        s->buckets = buckets;
        s->bucket_count = count;
}

int cache_store_put(cache_store_t *s, const char *key, size_t key_len, const char *tag,
                    cache_body_t *body, uint64_t now_ms, uint64_t ttl_ms)
{
        uint64_t hash = cache_store_hash(s->seed, key, key_len);
        size_t cost = body->len + key_len + strlen(tag) + ENTRY_OVERHEAD;

        if (cost > cache_store_entry_limit(s))
                return -E2BIG;
        entry_t *e = malloc(sizeof(*e) + key_len);
        if (e == NULL || (e->tag = strdup(tag)) == NULL) {
                free(e);
                return -ENOMEM;
        }
        entry_t *old = find(s, key, key_len, hash);
        if (old != NULL)
                drop(s, old);
        while (s->bytes + cost > s->max_bytes && !list_is_empty(&s->by_use)) {
                drop(s, list_entry(s->by_use.prev, entry_t, use));
                s->evictions++;
        }
        memset(&e->use, 0, sizeof(e->use));
        memcpy(e->key, key, key_len);
        e->key_len = key_len;
        e->hash = hash;
        e->expires_ms = now_ms + ttl_ms;
        e->cost = cost;
        cache_body_ref(body);
        e->body = body;
        entry_t **slot = slot_of(s, hash);
        e->next = *slot;
        *slot = e;
        list_push_head(&s->by_use, &e->use);
        s->bytes += cost;
        s->count++;
        grow(s);
        return 0;
}

void cache_store_invalidate(cache_store_t *s, const char *tag)
{
        list_node_t *n = s->by_use.next;

        while (n != &s->by_use) {
                entry_t *e = list_entry(n, entry_t, use);
                n = n->next;
                if (tag == NULL || strcmp(e->tag, tag) == 0 || strcmp(e->tag, "*") == 0)
                        drop(s, e);
        }
}

void cache_store_stats(const cache_store_t *s, cache_store_stats_t *ret_stats)
{
        ret_stats->bytes = s->bytes;
        ret_stats->entries = s->count;
        ret_stats->evictions = s->evictions;
}
