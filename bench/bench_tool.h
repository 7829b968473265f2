/*
 * What the benchmark's database tools (db_ceiling.c, db_writes.c,
 * db_embed.c) share: the clock, the random page starts, latency
 * percentiles and number options, so that their figures are read alike.
 */
#ifndef QUERYD_BENCH_TOOL_H
#define QUERYD_BENCH_TOOL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap, per thread, good enough to spread keys and page starts. */
static inline uint64_t next_random(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

/* For qsort of latencies. */
static inline int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p of n sorted nanosecond latencies, in ms. */
static inline double percentile_ms(const uint64_t *sorted, size_t n, double p)
{
        if (n == 0)
                return 0;
        size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);

        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return (double)sorted[rank - 1] / 1e6;
}

/* A whole decimal number of at most max, nothing before or after it. */
static inline bool parse_number(const char *text, unsigned long long max,
                                unsigned long long *ret)
{
        char *end;

        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || v > max || text[0] == '-')
                return false;
        *ret = v;
        return true;
}

#endif
