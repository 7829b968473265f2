/* Unit tests for the answer store: hits and expiry, least recently used
 * out under the byte bound, the per-entry limit, invalidation by tag, and
 * bodies that outlive their eviction. */
#include <errno.h>
#include <stdio.h>

#include "core/cache_store.h"
#include "test.h"

static int put(cache_store_t *s, const char *key, const char *tag, size_t len, uint64_t now,
               uint64_t ttl)
{
        static char data[4096];
        cache_body_t *b = cache_body_new("application/json", data, len, now);
        int r = cache_store_put(s, key, strlen(key), tag, b, now, ttl);

        cache_body_unref(b);
        return r;
}

static bool has(cache_store_t *s, const char *key, uint64_t now)
{
        cache_body_t *b = cache_store_get(s, key, strlen(key), now);

        cache_body_unref(b);
        return b != NULL;
}

static void test_hit_keeps_body_and_type(void)
{
        cache_store_t *s = cache_store_new(1 << 20);
        cache_body_t *b = cache_body_new("text/csv", "a,b\n", 4, 100);

        ASSERT_EQ_INT(cache_store_put(s, "k", 1, "users", b, 100, 1000), 0);
        cache_body_unref(b);
        cache_body_t *got = cache_store_get(s, "k", 1, 500);
        ASSERT_NOT_NULL(got);
        if (got != NULL) {
                ASSERT_EQ_MEM(got->data, got->len, "a,b\n", 4);
                ASSERT_EQ_STR(got->content_type, "text/csv");
                ASSERT_EQ_UINT(got->stored_ms, 100);
        }
        cache_body_unref(got);
        ASSERT_NULL(cache_store_get(s, "K", 1, 500)); /* keys are bytes: case counts */
        cache_store_free(s);
}

static void test_keys_with_nul_bytes(void)
{
        cache_store_t *s = cache_store_new(1 << 20);
        cache_body_t *b = cache_body_new("application/json", "{}", 2, 0);

        ASSERT_EQ_INT(cache_store_put(s, "a\0b", 3, "t", b, 0, 1000), 0);
        cache_body_unref(b);
        cache_body_t *got = cache_store_get(s, "a\0c", 3, 1);
        ASSERT_NULL(got);
        got = cache_store_get(s, "a\0b", 3, 1);
        ASSERT_NOT_NULL(got);
        cache_body_unref(got);
        cache_store_free(s);
}

static void test_expiry(void)
{
        cache_store_t *s = cache_store_new(1 << 20);
        cache_store_stats_t st;

        ASSERT_EQ_INT(put(s, "k", "t", 10, 1000, 500), 0);
        ASSERT_TRUE(has(s, "k", 1499));
        ASSERT_FALSE(has(s, "k", 1500));
        cache_store_stats(s, &st);
        ASSERT_EQ_UINT(st.entries, 0); /* dropped on the way */
        ASSERT_EQ_UINT(st.bytes, 0);
        ASSERT_EQ_UINT(st.evictions, 0);
        cache_store_free(s);
}

static void test_least_recently_used_goes_first(void)
{
        /* Entries of about 1 KiB in a store of 8 KiB (one may cost 1 KiB). */
        cache_store_t *s = cache_store_new(8 * 1024);
        cache_store_stats_t st;
        char key[16];

        for (int i = 0; i < 6; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                ASSERT_EQ_INT(put(s, key, "t", 800, 0, 100000), 0);
        }
        ASSERT_TRUE(has(s, "k0", 1)); /* k0 is now the most recently used */
        for (int i = 6; i < 12; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                ASSERT_EQ_INT(put(s, key, "t", 800, 2, 100000), 0);
        }
        cache_store_stats(s, &st);
        ASSERT_TRUE(st.bytes <= 8 * 1024);
        ASSERT_TRUE(st.evictions > 0);
        ASSERT_EQ_UINT(st.entries + st.evictions, 12);
        ASSERT_FALSE(has(s, "k1", 3)); /* the oldest unused went first */
        ASSERT_TRUE(has(s, "k11", 3));
        cache_store_free(s);
}

static void test_too_large_is_refused(void)
{
        cache_store_t *s = cache_store_new(8 * 1024);

        ASSERT_EQ_UINT(cache_store_entry_limit(s), 1024);
        ASSERT_EQ_INT(put(s, "big", "t", 2000, 0, 1000), -E2BIG);
        ASSERT_FALSE(has(s, "big", 1));
        cache_store_free(s);
}

static void test_replace_same_key(void)
{
        cache_store_t *s = cache_store_new(1 << 20);
        cache_store_stats_t st;

        ASSERT_EQ_INT(put(s, "k", "t", 10, 0, 1000), 0);
        ASSERT_EQ_INT(put(s, "k", "t", 20, 5, 1000), 0);
        cache_store_stats(s, &st);
        ASSERT_EQ_UINT(st.entries, 1);
        cache_body_t *b = cache_store_get(s, "k", 1, 6);
        ASSERT_NOT_NULL(b);
        if (b != NULL)
                ASSERT_EQ_UINT(b->len, 20);
        cache_body_unref(b);
        cache_store_free(s);
}

static void test_invalidate_by_tag(void)
{
        cache_store_t *s = cache_store_new(1 << 20);

        put(s, "u1", "users", 10, 0, 1000);
        put(s, "u2", "users", 10, 0, 1000);
        put(s, "o1", "orders", 10, 0, 1000);
        put(s, "q1", "*", 10, 0, 1000);
        cache_store_invalidate(s, "users");
        ASSERT_FALSE(has(s, "u1", 1));
        ASSERT_FALSE(has(s, "u2", 1));
        ASSERT_FALSE(has(s, "q1", 1)); /* a named query may read any table */
        ASSERT_TRUE(has(s, "o1", 1));
        cache_store_invalidate(s, NULL);
        ASSERT_FALSE(has(s, "o1", 1));
        cache_store_free(s);
}

static void test_body_outlives_eviction(void)
{
        cache_store_t *s = cache_store_new(1 << 20);

        put(s, "k", "t", 100, 0, 1000);
        cache_body_t *b = cache_store_get(s, "k", 1, 1);
        cache_store_invalidate(s, NULL);
        cache_store_free(s);
        ASSERT_NOT_NULL(b);
        if (b != NULL)
                ASSERT_EQ_UINT(b->len, 100); /* still readable: ASan would say otherwise */
        cache_body_unref(b);
}

static void test_many_entries_grow_the_table(void)
{
        cache_store_t *s = cache_store_new(64 << 20);
        cache_store_stats_t st;
        char key[32];
        bool all = true;

        for (int i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "/users/%d", i);
                put(s, key, "users", 16, 0, 1000);
        }
        for (int i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "/users/%d", i);
                all = all && has(s, key, 1);
        }
        ASSERT_TRUE(all);
        cache_store_stats(s, &st);
        ASSERT_EQ_UINT(st.entries, 5000);
        cache_store_free(s);
}

int main(void)
{
        RUN_TEST(test_hit_keeps_body_and_type);
        RUN_TEST(test_keys_with_nul_bytes);
        RUN_TEST(test_expiry);
        RUN_TEST(test_least_recently_used_goes_first);
        RUN_TEST(test_too_large_is_refused);
        RUN_TEST(test_replace_same_key);
        RUN_TEST(test_invalidate_by_tag);
        RUN_TEST(test_body_outlives_eviction);
        RUN_TEST(test_many_entries_grow_the_table);
        return test_report();
}
