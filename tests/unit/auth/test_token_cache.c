/* The verified-token cache: hits, misses, expiry, eviction at capacity, clear. */
#include <errno.h>
#include <stdio.h>

#include "auth/token_cache.h"
#include "test.h"

enum { T0 = 1700000000 };

static json_t *claims_of(const char *sub)
{
        return json_pack("{s:s}", "sub", sub);
}

static void put(token_cache_t *c, const char *token, const char *sub, time_t expires,
                time_t now)
{
        json_t *claims = claims_of(sub);
        ASSERT_EQ_INT(token_cache_put(c, token, strlen(token), claims, expires, now), 0);
        json_decref(claims); /* the cache keeps its own reference */
}

static const char *sub_of(token_cache_t *c, const char *token, time_t now)
{
        json_t *claims = token_cache_get(c, token, strlen(token), now);
        return claims ? json_string_value(json_object_get(claims, "sub")) : NULL;
}

static void test_hit_and_miss(void)
{
        token_cache_t *c = token_cache_new(4, 300);

        ASSERT_NOT_NULL(c);
        ASSERT_NULL(token_cache_get(c, "a.b.c", 5, T0));
        put(c, "a.b.c", "ada", T0 + 60, T0);
        ASSERT_EQ_STR(sub_of(c, "a.b.c", T0 + 1), "ada");
        ASSERT_NULL(sub_of(c, "a.b.d", T0 + 1));
        ASSERT_NULL(token_cache_get(c, "a.b.c", 4, T0 + 1)); /* a prefix is another token */
        ASSERT_EQ_UINT(token_cache_count(c), 1);
        /* Putting again replaces the claims and the expiry. */
        put(c, "a.b.c", "bob", T0 + 120, T0 + 2);
        ASSERT_EQ_STR(sub_of(c, "a.b.c", T0 + 90), "bob");
        ASSERT_EQ_UINT(token_cache_count(c), 1);
        token_cache_free(c);
}

static void test_expiry(void)
{
        token_cache_t *c = token_cache_new(4, 300);

        put(c, "exp", "e", T0 + 60, T0);
        ASSERT_EQ_STR(sub_of(c, "exp", T0 + 59), "e");
        ASSERT_NULL(sub_of(c, "exp", T0 + 60)); /* expired from exp on */
        /* Without exp, or with a later one, max_age_s bounds the entry. */
        put(c, "no-exp", "n", 0, T0);
        put(c, "late-exp", "l", T0 + 100000, T0);
        ASSERT_EQ_STR(sub_of(c, "no-exp", T0 + 299), "n");
        ASSERT_NULL(sub_of(c, "no-exp", T0 + 300));
        ASSERT_EQ_STR(sub_of(c, "late-exp", T0 + 299), "l");
        ASSERT_NULL(sub_of(c, "late-exp", T0 + 300));
        /* An expiry not after now keeps nothing. */
        put(c, "stale", "s", T0 - 1, T0);
        put(c, "now", "s", T0, T0);
        ASSERT_NULL(sub_of(c, "stale", T0 - 10));
        ASSERT_NULL(sub_of(c, "now", T0 - 10));
        ASSERT_EQ_UINT(token_cache_count(c), 3);
        token_cache_free(c);
}

static void test_eviction_at_capacity(void)
{
        token_cache_t *c = token_cache_new(3, 300);

        put(c, "t1", "1", 0, T0);
        put(c, "t2", "2", 0, T0);
        put(c, "t3", "3", 0, T0);
        ASSERT_EQ_STR(sub_of(c, "t1", T0), "1"); /* t1 used: t2 is now the oldest */
        put(c, "t4", "4", 0, T0);
        ASSERT_EQ_UINT(token_cache_count(c), 3);
        ASSERT_NULL(sub_of(c, "t2", T0));
        ASSERT_EQ_STR(sub_of(c, "t1", T0), "1");
        ASSERT_EQ_STR(sub_of(c, "t3", T0), "3");
        ASSERT_EQ_STR(sub_of(c, "t4", T0), "4");
        /* Many more tokens than room: the last three stay. */
        char token[32];
        for (int i = 0; i < 1000; i++) {
                snprintf(token, sizeof(token), "many-%d", i);
                put(c, token, token, 0, T0);
        }
        ASSERT_EQ_UINT(token_cache_count(c), 3);
        ASSERT_EQ_STR(sub_of(c, "many-999", T0), "many-999");
        ASSERT_EQ_STR(sub_of(c, "many-997", T0), "many-997");
        ASSERT_NULL(sub_of(c, "many-996", T0));
        ASSERT_NULL(sub_of(c, "t4", T0));
        token_cache_free(c);
}

static void test_clear(void)
{
        token_cache_t *c = token_cache_new(8, 300);

        put(c, "x", "x", 0, T0);
        put(c, "y", "y", 0, T0);
        token_cache_clear(c);
        ASSERT_EQ_UINT(token_cache_count(c), 0);
        ASSERT_NULL(sub_of(c, "x", T0));
        ASSERT_NULL(sub_of(c, "y", T0));
        put(c, "x", "again", 0, T0); /* usable after a clear */
        ASSERT_EQ_STR(sub_of(c, "x", T0), "again");
        token_cache_free(c);
}

/* The cache holds a reference: the claims outlive the caller's own, and are
 * released by replacement, eviction, clear and free (ASan's leak check and
 * valgrind see the rest). */
static void test_references(void)
{
        token_cache_t *c = token_cache_new(1, 300);
        json_t *claims = claims_of("ref");

        token_cache_put(c, "r", 1, claims, 0, T0);
        ASSERT_EQ_INT(claims->refcount, 2);
        put(c, "r", "other", 0, T0); /* replaced */
        ASSERT_EQ_INT(claims->refcount, 1);
        token_cache_put(c, "r", 1, claims, 0, T0);
        put(c, "s", "s", 0, T0); /* evicted */
        ASSERT_EQ_INT(claims->refcount, 1);
        token_cache_put(c, "r", 1, claims, 0, T0);
        token_cache_clear(c);
        ASSERT_EQ_INT(claims->refcount, 1);
        token_cache_put(c, "r", 1, claims, 0, T0);
        token_cache_free(c);
        ASSERT_EQ_INT(claims->refcount, 1);
        json_decref(claims);
        token_cache_free(NULL);
}

static void test_disabled_and_bad_arguments(void)
{
        token_cache_t *none = token_cache_new(0, 300);
        token_cache_t *no_age = token_cache_new(16, 0);
        json_t *claims = claims_of("z");

        ASSERT_NOT_NULL(none);
        ASSERT_NOT_NULL(no_age);
        ASSERT_EQ_INT(token_cache_put(none, "z", 1, claims, 0, T0), 0);
        ASSERT_EQ_INT(token_cache_put(no_age, "z", 1, claims, T0 + 60, T0), 0);
        ASSERT_NULL(token_cache_get(none, "z", 1, T0));
        ASSERT_NULL(token_cache_get(no_age, "z", 1, T0));
        ASSERT_EQ_INT(token_cache_put(none, "z", 1, NULL, 0, T0), -EINVAL);
        ASSERT_EQ_INT(claims->refcount, 1);
        json_decref(claims);
        token_cache_free(none);
        token_cache_free(no_age);
}

int main(void)
{
        RUN_TEST(test_hit_and_miss);
        RUN_TEST(test_expiry);
        RUN_TEST(test_eviction_at_capacity);
        RUN_TEST(test_clear);
        RUN_TEST(test_references);
        RUN_TEST(test_disabled_and_bad_arguments);
        return test_report();
}
