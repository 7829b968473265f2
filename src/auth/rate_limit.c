/*
 * Token buckets per identity behind one mutex: a chained hash table finds an
 * identity's bucket, and a list in order of use finds the bucket to forget
 * when the table is full. A take holds the lock for a lookup and a few
 * multiplications, which is short next to a request; striping would not pay.
 */
#include "auth/rate_limit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"

/* How many of the least recently used buckets are looked at for one that has
 * refilled: enough to find one where idle identities abound, few enough that
 * a flood of new identities costs a bounded time under the lock. */
enum { FULL_SCAN = 16 };

/* Sums of fractions of tokens are not exact: 10 x 0.1 may be 0.9999999999. */
#define EPSILON 1e-9

/* Figures in seconds saturate here rather than overflow an unsigned. */
#define MAX_SECONDS 1e9

typedef struct bucket {
        list_node_t use_node;   /* in the limiter's use list, most recent first */
        struct bucket *next;    /* in the same hash slot */
        uint64_t hash;
        uint64_t updated_ms;    /* when tokens was last brought up to date */
        double tokens;
        rate_limit_t limit;     /* the limit of its last take */
        char identity[];
} bucket_t;

struct rate_limiter {
        pthread_mutex_t lock;
        size_t max_buckets;
        size_t count;
        size_t slot_mask;       /* slot count - 1, a power of two at least max_buckets */
        bucket_t **slots;
        list_node_t by_use;
};

/* FNV-1a: identities come from verified tokens and keys, not from whoever
 * sends a request, so a keyed hash against collision floods is not needed. */
static uint64_t hash_of(const char *text)
{
        uint64_t h = 0xcbf29ce484222325u;

        for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
                h ^= *p;
                h *= 0x100000001b3u;
        }
        return h;
}

rate_limiter_t *rate_limiter_new(size_t max_identities)
{
        rate_limiter_t *l = calloc(1, sizeof(*l));
        size_t slots = 8;

        if (l == NULL)
                return NULL;
        if (max_identities == 0)
                max_identities = 1;
        while (slots < max_identities && slots <= SIZE_MAX / 2 / sizeof(bucket_t *))
                slots *= 2;
        l->slots = calloc(slots, sizeof(bucket_t *));
        if (l->slots == NULL || pthread_mutex_init(&l->lock, NULL) != 0) {
                free(l->slots);
                free(l);
                return NULL;
        }
        l->max_buckets = max_identities;
        l->slot_mask = slots - 1;
        list_init(&l->by_use);
        return l;
}

void rate_limiter_free(rate_limiter_t *limiter)
{
        if (limiter == NULL)
                return;
        list_for_each_safe(node, &limiter->by_use)
                free(list_entry(node, bucket_t, use_node));
        pthread_mutex_destroy(&limiter->lock);
        free(limiter->slots);
        free(limiter);
}

size_t rate_limiter_count(rate_limiter_t *limiter)
{
        pthread_mutex_lock(&limiter->lock);
        size_t count = limiter->count;
        pthread_mutex_unlock(&limiter->lock);
        return count;
}

static bucket_t *find(rate_limiter_t *l, const char *identity, uint64_t hash)
{
        for (bucket_t *b = l->slots[hash & l->slot_mask]; b != NULL; b = b->next)
                if (b->hash == hash && strcmp(b->identity, identity) == 0)
                        return b;
        return NULL;
}

/* The tokens b would hold at now_ms, up to its burst. */
static double tokens_at(const bucket_t *b, uint64_t now_ms)
{
        double tokens = b->tokens;

        /* Another thread's loop may have stamped the bucket a little later. */
        if (now_ms > b->updated_ms)
                tokens += (double)(now_ms - b->updated_ms) * b->limit.per_second / 1000.0;
        return tokens < b->limit.burst ? tokens : b->limit.burst;
}

static void forget(rate_limiter_t *l, bucket_t *b)
{
        bucket_t **at = &l->slots[b->hash & l->slot_mask];

        while (*at != b)
                at = &(*at)->next;
        *at = b->next;
        list_remove(&b->use_node);
        l->count--;
        free(b);
}

/* Makes room for one more bucket: one that has refilled if the least
 * recently used few hold one, else the least recently used. */
static void make_room(rate_limiter_t *l, uint64_t now_ms)
{
        list_node_t *node = l->by_use.prev;

        for (int i = 0; i < FULL_SCAN && node != &l->by_use; i++, node = node->prev) {
                bucket_t *b = list_entry(node, bucket_t, use_node);
                if (tokens_at(b, now_ms) >= b->limit.burst - EPSILON) {
                        forget(l, b);
                        return;
                }
        }
        forget(l, list_entry(l->by_use.prev, bucket_t, use_node));
}

/* A new full bucket for identity, or NULL when out of memory. */
static bucket_t *add(rate_limiter_t *l, const char *identity, uint64_t hash,
                     const rate_limit_t *limit, uint64_t now_ms)
{
        size_t len = strlen(identity);
        bucket_t *b = calloc(1, sizeof(*b) + len + 1);

        if (b == NULL)
                return NULL;
        if (l->count >= l->max_buckets)
                make_room(l, now_ms);
        memcpy(b->identity, identity, len + 1);
        b->hash = hash;
        b->updated_ms = now_ms;
        b->limit = *limit;
        b->tokens = limit->burst;
        b->next = l->slots[hash & l->slot_mask];
        l->slots[hash & l->slot_mask] = b;
        l->count++;
        return b;
}

/* Whole seconds for x, rounded up; 0 for no time (or a limit that makes no sense). */
static unsigned ceil_seconds(double x)
{
        if (!(x > EPSILON))
                return 0;
        return x >= MAX_SECONDS ? (unsigned)MAX_SECONDS : (unsigned)ceil(x - EPSILON);
}

static unsigned whole_tokens(double x)
{
        if (!(x > 0))
                return 0;
        return x >= MAX_SECONDS ? (unsigned)MAX_SECONDS : (unsigned)floor(x + EPSILON);
}

/* Takes a token from b, brought up to date, if it holds one, and says so. */
static void decide(bucket_t *b, rate_verdict_t *ret)
{
        const rate_limit_t *limit = &b->limit;

        ret->allowed = b->tokens >= 1.0 - EPSILON;
        if (ret->allowed)
                b->tokens = b->tokens > 1.0 ? b->tokens - 1.0 : 0.0;
        ret->limit = whole_tokens(limit->burst);
        ret->window_s = ceil_seconds(limit->burst / limit->per_second);
        ret->remaining = whole_tokens(b->tokens);
        ret->reset_s = ceil_seconds((limit->burst - b->tokens) / limit->per_second);
        ret->retry_after_s = 0;
        if (!ret->allowed) {
                ret->retry_after_s = ceil_seconds((1.0 - b->tokens) / limit->per_second);
                if (ret->retry_after_s == 0)
                        ret->retry_after_s = 1;
        }
}

void rate_limiter_take(rate_limiter_t *limiter, const char *identity, const rate_limit_t *limit,
                       uint64_t now_ms, rate_verdict_t *ret)
{
        uint64_t hash = hash_of(identity);

        pthread_mutex_lock(&limiter->lock);
        bucket_t *b = find(limiter, identity, hash);
        if (b == NULL)
                b = add(limiter, identity, hash, limit, now_ms);
        if (b == NULL) {
                pthread_mutex_unlock(&limiter->lock);
                /* Refusing everyone because memory ran short would be worse. */
                bucket_t full = { .tokens = limit->burst, .limit = *limit };
                decide(&full, ret);
                ret->allowed = true;
                return;
        }
        /* The time since the last take refills at the rate in force then. */
        b->tokens = tokens_at(b, now_ms);
        if (now_ms > b->updated_ms)
                b->updated_ms = now_ms;
        b->limit = *limit;
        if (b->tokens > limit->burst)
                b->tokens = limit->burst;
        list_remove(&b->use_node);
        list_push_head(&limiter->by_use, &b->use_node);
        decide(b, ret);
        pthread_mutex_unlock(&limiter->lock);
}
