/*
 * Unit tests for the rate limiter: a burst then refusals, refill with time
 * (a fake clock, no sleeping), the figures for the headers, identities apart,
 * bounded memory that forgets refilled buckets first, and one limit held
 * across threads.
 */
#include <pthread.h>
#include <stdio.h>

#include "auth/rate_limit.h"
#include "test.h"

static const rate_limit_t ten_per_s = { .per_second = 10, .burst = 20 };

static rate_verdict_t take(rate_limiter_t *l, const char *identity, const rate_limit_t *limit,
                           uint64_t now_ms)
{
        rate_verdict_t v;

        rate_limiter_take(l, identity, limit, now_ms, &v);
        return v;
}

/* How many of n takes at now_ms were allowed. */
static unsigned allowed_of(rate_limiter_t *l, const char *identity, const rate_limit_t *limit,
                           uint64_t now_ms, unsigned n)
{
        unsigned allowed = 0;

        for (unsigned i = 0; i < n; i++)
                allowed += take(l, identity, limit, now_ms).allowed;
        return allowed;
}

static void test_burst_then_refusal(void)
{
        rate_limiter_t *l = rate_limiter_new(100);
        rate_verdict_t v;

        ASSERT_NOT_NULL(l);
        v = take(l, "reader\nalice", &ten_per_s, 1000);
        ASSERT_TRUE(v.allowed);
        ASSERT_EQ_UINT(v.limit, 20);
        ASSERT_EQ_UINT(v.remaining, 19);
        ASSERT_EQ_UINT(v.retry_after_s, 0);
        ASSERT_EQ_UINT(allowed_of(l, "reader\nalice", &ten_per_s, 1000, 19), 19);
        v = take(l, "reader\nalice", &ten_per_s, 1000);
        ASSERT_FALSE(v.allowed);
        ASSERT_EQ_UINT(v.remaining, 0);
        ASSERT_EQ_UINT(allowed_of(l, "reader\nalice", &ten_per_s, 1000, 50), 0);
        rate_limiter_free(l);
}

static void test_refill_with_time(void)
{
        rate_limiter_t *l = rate_limiter_new(100);

        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 0, 25), 20);
        /* 10 per second: one token per 100 ms, never more than the burst. */
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 99, 5), 0);
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 100, 5), 1);
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 550, 10), 4);
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 60000, 30), 20);
        /* A clock a little behind the last take (another thread's loop) adds nothing. */
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 59990, 3), 0);
        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 60100, 3), 1);
        rate_limiter_free(l);
}

static void test_figures(void)
{
        rate_limiter_t *l = rate_limiter_new(100);
        const rate_limit_t slow = { .per_second = 0.5, .burst = 3 }; /* a token per 2 s */
        rate_verdict_t v;

        v = take(l, "slow", &slow, 0);
        ASSERT_TRUE(v.allowed);
        ASSERT_EQ_UINT(v.limit, 3);
        ASSERT_EQ_UINT(v.window_s, 6);
        ASSERT_EQ_UINT(v.remaining, 2);
        ASSERT_EQ_UINT(v.reset_s, 2);
        take(l, "slow", &slow, 0);
        v = take(l, "slow", &slow, 0);
        ASSERT_TRUE(v.allowed);
        ASSERT_EQ_UINT(v.remaining, 0);
        ASSERT_EQ_UINT(v.reset_s, 6);
        v = take(l, "slow", &slow, 0);
        ASSERT_FALSE(v.allowed);
        ASSERT_EQ_UINT(v.retry_after_s, 2);
        ASSERT_EQ_UINT(v.reset_s, 6);
        /* 0.5 s later: 0.25 token, 1.5 s to the next one (rounded up), 5.5 to full. */
        v = take(l, "slow", &slow, 500);
        ASSERT_FALSE(v.allowed);
        ASSERT_EQ_UINT(v.retry_after_s, 2);
        ASSERT_EQ_UINT(v.reset_s, 6);
        v = take(l, "slow", &slow, 1500);
        ASSERT_FALSE(v.allowed);
        ASSERT_EQ_UINT(v.retry_after_s, 1);
        ASSERT_EQ_UINT(v.reset_s, 5);
        v = take(l, "slow", &slow, 2000);
        ASSERT_TRUE(v.allowed);
        ASSERT_EQ_UINT(v.remaining, 0);
        /* Whatever the fraction, a refusal says to wait at least a second. */
        const rate_limit_t fast = { .per_second = 1000, .burst = 1 };
        ASSERT_TRUE(take(l, "fast", &fast, 0).allowed);
        v = take(l, "fast", &fast, 0);
        ASSERT_FALSE(v.allowed);
        ASSERT_EQ_UINT(v.retry_after_s, 1);
        ASSERT_EQ_UINT(v.window_s, 1);
        rate_limiter_free(l);
}

static void test_new_limit_applies_at_next_take(void)
{
        rate_limiter_t *l = rate_limiter_new(100);
        const rate_limit_t smaller = { .per_second = 1, .burst = 5 };

        ASSERT_EQ_UINT(allowed_of(l, "k", &ten_per_s, 0, 10), 10);
        /* Ten tokens left, but the new bucket holds five. */
        rate_verdict_t v = take(l, "k", &smaller, 0);
        ASSERT_TRUE(v.allowed);
        ASSERT_EQ_UINT(v.limit, 5);
        ASSERT_EQ_UINT(v.remaining, 4);
        ASSERT_EQ_UINT(allowed_of(l, "k", &smaller, 0, 10), 4);
        /* One per second now. */
        ASSERT_EQ_UINT(allowed_of(l, "k", &smaller, 1000, 10), 1);
        rate_limiter_free(l);
}

static void test_identities_apart(void)
{
        rate_limiter_t *l = rate_limiter_new(100);
        const rate_limit_t three = { .per_second = 1, .burst = 3 };

        ASSERT_EQ_UINT(allowed_of(l, "reader\nalice", &three, 0, 10), 3);
        ASSERT_EQ_UINT(allowed_of(l, "reader\nbob", &three, 0, 10), 3);
        ASSERT_EQ_UINT(allowed_of(l, "writer\nalice", &three, 0, 10), 3);
        ASSERT_EQ_UINT(allowed_of(l, "reader\nalice", &three, 0, 1), 0);
        ASSERT_EQ_UINT(rate_limiter_count(l), 3);
        rate_limiter_free(l);
}

static void test_bounded_memory(void)
{
        enum { MAX = 8 };
        rate_limiter_t *l = rate_limiter_new(MAX);
        const rate_limit_t one = { .per_second = 1, .burst = 1 };
        char name[32];

        /* Ten times as many identities as there is room for, each emptied. */
        for (unsigned i = 0; i < 10 * MAX; i++) {
                snprintf(name, sizeof(name), "caller-%u", i);
                ASSERT_TRUE(take(l, name, &one, 0).allowed);
                ASSERT_TRUE(rate_limiter_count(l) <= MAX);
        }
        ASSERT_EQ_UINT(rate_limiter_count(l), MAX);
        /* The last MAX are remembered (still empty), the first were forgotten. */
        ASSERT_FALSE(take(l, "caller-79", &one, 0).allowed);
        ASSERT_FALSE(take(l, "caller-72", &one, 0).allowed);
        ASSERT_TRUE(take(l, "caller-0", &one, 0).allowed);
        rate_limiter_free(l);
}

static void test_refilled_bucket_forgotten_first(void)
{
        enum { MAX = 4 };
        rate_limiter_t *l = rate_limiter_new(MAX);
        const rate_limit_t slow = { .per_second = 0.1, .burst = 2 };  /* 20 s to refill */
        const rate_limit_t quick = { .per_second = 100, .burst = 1 }; /* 10 ms */

        /* "old" is the least recently used, and empty; "quick" has refilled. */
        ASSERT_EQ_UINT(allowed_of(l, "old", &slow, 0, 3), 2);
        ASSERT_TRUE(take(l, "quick", &quick, 1).allowed);
        ASSERT_EQ_UINT(allowed_of(l, "a", &slow, 2, 2), 2);
        ASSERT_EQ_UINT(allowed_of(l, "b", &slow, 3, 2), 2);
        ASSERT_TRUE(take(l, "new", &slow, 1000).allowed);
        ASSERT_EQ_UINT(rate_limiter_count(l), MAX);
        /* "old" was kept: still empty. */
        ASSERT_FALSE(take(l, "old", &slow, 1000).allowed);
        /* With none refilled, the least recently used goes: "a", not "b". */
        ASSERT_TRUE(take(l, "newer", &slow, 1000).allowed);
        ASSERT_FALSE(take(l, "b", &slow, 1000).allowed);
        ASSERT_EQ_UINT(allowed_of(l, "a", &slow, 1000, 3), 2);
        rate_limiter_free(l);
}

/* ---- threads ---- */

enum { THREADS = 4, TAKES_PER_THREAD = 5000, BURST = 1000 };

typedef struct hammer {
        pthread_t thread;
        rate_limiter_t *limiter;
        unsigned allowed;
} hammer_t;

static void *hammer_cb(void *arg)
{
        hammer_t *h = arg;
        const rate_limit_t limit = { .per_second = 50, .burst = BURST };
        char other[32];

        for (unsigned i = 0; i < TAKES_PER_THREAD; i++) {
                h->allowed += take(h->limiter, "reader\nshared", &limit, 42).allowed;
                /* Other identities come and go meanwhile. */
                snprintf(other, sizeof(other), "other-%u", i % 64);
                take(h->limiter, other, &limit, 42);
        }
        return NULL;
}

static void test_threads_share_one_limit(void)
{
        rate_limiter_t *l = rate_limiter_new(32);
        hammer_t hammers[THREADS] = { { 0 } };
        unsigned total = 0;

        for (int i = 0; i < THREADS; i++) {
                hammers[i].limiter = l;
                ASSERT_EQ_INT(pthread_create(&hammers[i].thread, NULL, hammer_cb, &hammers[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                pthread_join(hammers[i].thread, NULL);
                total += hammers[i].allowed;
        }
        ASSERT_EQ_UINT(total, BURST);
        ASSERT_TRUE(rate_limiter_count(l) <= 32);
        rate_limiter_free(l);
}

int main(void)
{
        RUN_TEST(test_burst_then_refusal);
        RUN_TEST(test_refill_with_time);
        RUN_TEST(test_figures);
        RUN_TEST(test_new_limit_applies_at_next_take);
        RUN_TEST(test_identities_apart);
        RUN_TEST(test_bounded_memory);
        RUN_TEST(test_refilled_bucket_forgotten_first);
        RUN_TEST(test_threads_share_one_limit);
        return test_report();
}
