/*
 * Rate limits per identity: one token bucket per identity (a role and a
 * subject, or an API key), shared by every worker thread of the process, so
 * that a client spreading its requests over several connections still meets
 * one limit. Memory is bounded whatever the number of identities.
 */
#ifndef QUERYD_RATE_LIMIT_H
#define QUERYD_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rate_limiter rate_limiter_t;

/** A role's "rate": per_second > 0 and burst >= 1 (the configuration checks both). */
typedef struct rate_limit {
        double per_second; /* tokens added back per second */
        double burst;      /* the bucket's size, and what a new identity starts with */
} rate_limit_t;

/** What rate_limiter_take decided, with the figures the answer's headers show. */
typedef struct rate_verdict {
        bool allowed;
        unsigned limit;         /* the burst (whole tokens), for RateLimit-Policy's q */
        unsigned window_s;      /* seconds an empty bucket takes to fill (ceil), its w */
        unsigned remaining;     /* whole tokens left after this request */
        unsigned reset_s;       /* seconds until the bucket is full again (ceil) */
        unsigned retry_after_s; /* refused: seconds until a token is back (ceil, >= 1); else 0 */
} rate_verdict_t;

/**
 * A limiter remembering at most max_identities buckets (at least 1), owned by
 * the caller; NULL when out of memory. When it is full, a new identity takes
 * the place of one whose bucket has refilled completely (forgetting it loses
 * nothing: it would start full again), looked for among the least recently
 * used few, else of the least recently used one.
 */
rate_limiter_t *rate_limiter_new(size_t max_identities);

/** Frees the limiter and every bucket; no take may be running. NULL is fine. */
void rate_limiter_free(rate_limiter_t *limiter);

/**
 * Takes one token from identity's bucket at now_ms (a monotonic clock in ms:
 * uv_now, or uv_hrtime() / 1000000; the threads' clocks may lag one another a
 * little, and a time before the bucket's last take counts as no time passed).
 * identity is any string ("role\nsubject"); it is copied. A bucket is created
 * full; limit applies from this take on, so a reload's new limit takes effect
 * at an identity's next request. Thread-safe. When memory runs out the request
 * is allowed, with the figures of a full bucket.
 */
void rate_limiter_take(rate_limiter_t *limiter, const char *identity, const rate_limit_t *limit,
                       uint64_t now_ms, rate_verdict_t *ret);

/** How many buckets the limiter holds now (at most its max_identities). */
size_t rate_limiter_count(rate_limiter_t *limiter);

#endif
