/*
 * Unit tests for the per-request scope: release order and once-only
 * semantics, reference counting across close, and the arena allocator.
 * Every test ends with the process-wide live scope count where it started.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"
#include "test.h"

enum { MAX_EVENTS = 16 };

/* What the releases did, in order: each release appends its tag. */
static int events[MAX_EVENTS];
static int event_count;

static void reset_events(void)
{
        memset(events, 0, sizeof(events));
        event_count = 0;
}

static void record_cb(void *arg)
{
        if (event_count < MAX_EVENTS)
                events[event_count] = (int)(intptr_t)arg;
        event_count++;
}

/* Each test is wrapped so a leaked or over-freed scope shows up at once. */
#define RUN_SCOPE_TEST(fn)                                                  \
        do {                                                                \
                long live_before = scope_live_count();                      \
                reset_events();                                             \
                RUN_TEST(fn);                                               \
                ASSERT_EQ_INT(scope_live_count(), live_before);             \
        } while (0)

static void test_new_scope_is_open_and_counted(void)
{
        long before = scope_live_count();
        scope_t *s = scope_new();

        ASSERT_NOT_NULL(s);
        ASSERT_EQ_INT(scope_live_count(), before + 1);
        ASSERT_FALSE(scope_is_closed(s));
        scope_close(s);
        ASSERT_EQ_INT(scope_live_count(), before);
}

static void test_releases_run_lifo(void)
{
        scope_t *s = scope_new();

        for (int i = 1; i <= 5; i++)
                ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)(intptr_t)i, NULL), 0);
        ASSERT_EQ_INT(event_count, 0);
        scope_close(s);
        ASSERT_EQ_INT(event_count, 5);
        for (int i = 0; i < 5; i++)
                ASSERT_EQ_INT(events[i], 5 - i);
}

static void test_close_twice_runs_releases_once(void)
{
        scope_t *s = scope_new();

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, NULL), 0);
        /* An extra reference keeps the scope valid for the second close. */
        scope_ref(s);
        scope_close(s);
        ASSERT_TRUE(scope_is_closed(s));
        scope_close(s);
        ASSERT_EQ_INT(event_count, 1);
        scope_unref(s);
        ASSERT_EQ_INT(event_count, 1);
}

static void test_release_now_then_close_runs_once(void)
{
        scope_t *s = scope_new();
        scope_defer_t *first = NULL, *second = NULL;

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, &first), 0);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)2, &second), 0);
        ASSERT_NOT_NULL(first);
        ASSERT_NOT_NULL(second);
        ASSERT_TRUE(first != second);

        scope_release_now(first);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(events[0], 1);
        scope_release_now(first); /* spent: nothing happens */
        ASSERT_EQ_INT(event_count, 1);

        scope_close(s);
        ASSERT_EQ_INT(event_count, 2);
        ASSERT_EQ_INT(events[1], 2);
}

static void test_cancel_disarms(void)
{
        scope_t *s = scope_new();
        scope_defer_t *cancelled = NULL, *kept = NULL;

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, &kept), 0);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)2, &cancelled), 0);
        scope_cancel(cancelled);
        scope_cancel(cancelled); /* twice is harmless */
        scope_release_now(cancelled); /* a cancelled release never runs */
        ASSERT_EQ_INT(event_count, 0);
        scope_close(s);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(events[0], 1);
}

static void test_null_defer_handles_are_safe(void)
{
        scope_cancel(NULL);
        scope_release_now(NULL);
        ASSERT_EQ_INT(event_count, 0);
}

static void test_cancel_after_release_now_is_safe(void)
{
        scope_t *s = scope_new();
        scope_defer_t *d = NULL;

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)7, &d), 0);
        scope_release_now(d);
        scope_cancel(d);
        scope_close(s);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(events[0], 7);
}

static void test_ref_keeps_memory_after_close(void)
{
        long before = scope_live_count();
        scope_t *s = scope_new();
        unsigned char *p = scope_alloc(s, 100);

        ASSERT_NOT_NULL(p);
        if (p == NULL)
                return;
        memset(p, 0xA5, 100);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, NULL), 0);
        scope_ref(s);
        scope_close(s);
        /* The releases ran at close even though a reference remains... */
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_TRUE(scope_is_closed(s));
        ASSERT_EQ_INT(scope_live_count(), before + 1);
        /* ...and the memory is still there (ASan would object otherwise). */
        int intact = 1;
        for (int i = 0; i < 100; i++)
                intact &= p[i] == 0xA5;
        ASSERT_TRUE(intact);
        scope_unref(s);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(scope_live_count(), before);
}

static void test_several_refs(void)
{
        long before = scope_live_count();
        scope_t *s = scope_new();

        scope_ref(s);
        scope_ref(s);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, NULL), 0);
        scope_unref(s);
        scope_unref(s);
        /* The owner's reference remains: still open, nothing released. */
        ASSERT_FALSE(scope_is_closed(s));
        ASSERT_EQ_INT(event_count, 0);
        ASSERT_EQ_INT(scope_live_count(), before + 1);
        scope_close(s);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(scope_live_count(), before);
}

static void test_last_unref_without_close_releases(void)
{
        long before = scope_live_count();
        scope_t *s = scope_new();

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, NULL), 0);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)2, NULL), 0);
        scope_unref(s);
        ASSERT_EQ_INT(event_count, 2);
        ASSERT_EQ_INT(events[0], 2);
        ASSERT_EQ_INT(events[1], 1);
        ASSERT_EQ_INT(scope_live_count(), before);
}

static void test_defer_after_close_is_refused(void)
{
        scope_t *s = scope_new();
        scope_defer_t *d = (scope_defer_t *)&d; /* any non-NULL value */

        scope_ref(s);
        scope_close(s);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)9, &d), -ECANCELED);
        ASSERT_NULL(d);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)9, NULL), -ECANCELED);
        scope_unref(s);
        ASSERT_EQ_INT(event_count, 0);
}

/* A release that tries to register another release while the scope closes. */
static scope_t *reentrant_scope;
static int reentrant_result;

static void defer_from_release_cb(void *arg)
{
        (void)arg;
        reentrant_result = scope_defer(reentrant_scope, record_cb, (void *)99, NULL);
        record_cb((void *)1);
}

static void test_release_cannot_register_releases(void)
{
        reentrant_scope = scope_new();
        reentrant_result = 0;
        ASSERT_EQ_INT(scope_defer(reentrant_scope, defer_from_release_cb, NULL, NULL), 0);
        scope_close(reentrant_scope);
        ASSERT_EQ_INT(reentrant_result, -ECANCELED);
        ASSERT_EQ_INT(event_count, 1);
        ASSERT_EQ_INT(events[0], 1);
        reentrant_scope = NULL;
}

/* The common async pattern: a handle holds a reference that its release drops. */
static void unref_cb(void *arg)
{
        scope_unref(arg);
        record_cb((void *)3);
}

static void test_release_may_drop_the_last_other_reference(void)
{
        long before = scope_live_count();
        scope_t *s = scope_new();

        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)1, NULL), 0);
        scope_ref(s);
        ASSERT_EQ_INT(scope_defer(s, unref_cb, s, NULL), 0);
        ASSERT_EQ_INT(scope_defer(s, record_cb, (void *)2, NULL), 0);
        scope_close(s);
        ASSERT_EQ_INT(event_count, 3);
        ASSERT_EQ_INT(events[0], 2);
        ASSERT_EQ_INT(events[1], 3);
        ASSERT_EQ_INT(events[2], 1);
        ASSERT_EQ_INT(scope_live_count(), before);
}

static int all_bytes_are(const unsigned char *p, size_t n, unsigned char value)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != value)
                        return 0;
        return 1;
}

static void test_alloc_is_zeroed_and_aligned(void)
{
        static const size_t sizes[] = { 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 255, 1000 };
        scope_t *s = scope_new();

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                unsigned char *p = scope_alloc(s, sizes[i]);
                ASSERT_NOT_NULL(p);
                if (p == NULL)
                        break;
                ASSERT_EQ_UINT((uintptr_t)p % 16, 0);
                ASSERT_TRUE(all_bytes_are(p, sizes[i], 0));
                /* Dirty it so a later block reuse that skips zeroing shows. */
                memset(p, 0xEE, sizes[i]);
        }
        scope_close(s);

        /* Freed blocks come back from malloc dirty (ASan fills them too). */
        s = scope_new();
        unsigned char *p = scope_alloc(s, 4000);
        ASSERT_NOT_NULL(p);
        if (p != NULL)
                ASSERT_TRUE(all_bytes_are(p, 4000, 0));
        scope_close(s);
}

static void test_large_allocations(void)
{
        static const size_t sizes[] = { 4095, 4096, 4097, 10000, 100000, 1 << 20 };
        unsigned char *blocks[sizeof(sizes) / sizeof(sizes[0])];
        scope_t *s = scope_new();
        unsigned char *small = scope_alloc(s, 32);

        ASSERT_NOT_NULL(small);
        if (small == NULL)
                return;
        memset(small, 0x11, 32);
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                blocks[i] = scope_alloc(s, sizes[i]);
                ASSERT_NOT_NULL(blocks[i]);
                if (blocks[i] == NULL)
                        return;
                ASSERT_EQ_UINT((uintptr_t)blocks[i] % 16, 0);
                ASSERT_TRUE(all_bytes_are(blocks[i], sizes[i], 0));
                memset(blocks[i], (int)(i + 1), sizes[i]);
        }
        /* Small allocations after large ones still work and overlap nothing. */
        unsigned char *after = scope_alloc(s, 48);
        ASSERT_NOT_NULL(after);
        if (after != NULL) {
                ASSERT_TRUE(all_bytes_are(after, 48, 0));
                memset(after, 0x22, 48);
        }
        ASSERT_TRUE(all_bytes_are(small, 32, 0x11));
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
                ASSERT_TRUE(all_bytes_are(blocks[i], sizes[i], (unsigned char)(i + 1)));
        if (after != NULL)
                ASSERT_TRUE(all_bytes_are(after, 48, 0x22));
        scope_close(s);
}

static void test_many_small_allocations(void)
{
        enum { COUNT = 20000 };
        static unsigned char *pointers[COUNT];
        scope_t *s = scope_new();
        int zeroed = 1, aligned = 1, intact = 1, non_null = 1;

        for (size_t i = 0; i < COUNT; i++) {
                size_t size = 1 + i % 40;
                pointers[i] = scope_alloc(s, size);
                if (pointers[i] == NULL) {
                        non_null = 0;
                        break;
                }
                aligned &= (uintptr_t)pointers[i] % 16 == 0;
                zeroed &= all_bytes_are(pointers[i], size, 0);
                memset(pointers[i], (int)(i & 0xFF), size);
        }
        ASSERT_TRUE(non_null);
        if (non_null)
                for (size_t i = 0; i < COUNT; i++)
                        intact &= all_bytes_are(pointers[i], 1 + i % 40, (unsigned char)(i & 0xFF));
        ASSERT_TRUE(aligned);
        ASSERT_TRUE(zeroed);
        ASSERT_TRUE(intact);
        scope_close(s);
}

static void test_strndup(void)
{
        static const char text[] = "hello, world";
        scope_t *s = scope_new();

        char *prefix = scope_strndup(s, text, 5);
        ASSERT_EQ_STR(prefix, "hello");
        ASSERT_TRUE(prefix != text);

        char *whole = scope_strndup(s, text, strlen(text));
        ASSERT_EQ_STR(whole, "hello, world");

        char *empty = scope_strndup(s, text, 0);
        ASSERT_EQ_STR(empty, "");

        /* Only len bytes are read: the source needs no terminator. */
        char raw[3] = { 'a', 'b', 'c' };
        char *copy = scope_strndup(s, raw, sizeof(raw));
        ASSERT_EQ_STR(copy, "abc");

        /* Bytes past an embedded NUL are copied too; the copy is terminated after len. */
        char *with_nul = scope_strndup(s, "x\0y", 3);
        ASSERT_NOT_NULL(with_nul);
        if (with_nul != NULL)
                ASSERT_EQ_MEM(with_nul, 4, "x\0y\0", 4);
        scope_close(s);
}

static void test_alloc_after_close_with_ref(void)
{
        scope_t *s = scope_new();

        scope_ref(s);
        scope_close(s);
        /* Memory stays usable while a reference holds the scope. */
        char *p = scope_strndup(s, "late", 4);
        ASSERT_EQ_STR(p, "late");
        scope_unref(s);
}

/* scope_alloc() must answer NULL for sizes it cannot provide, not overflow. */
static void test_huge_alloc_fails_cleanly(void)
{
        scope_t *s = scope_new();

        ASSERT_NULL(scope_alloc(s, SIZE_MAX));
        ASSERT_NULL(scope_alloc(s, SIZE_MAX - 15));
        ASSERT_NULL(scope_alloc(s, SIZE_MAX - 31));
        scope_close(s);
}

int main(void)
{
        long live_at_start = scope_live_count();

        RUN_SCOPE_TEST(test_new_scope_is_open_and_counted);
        RUN_SCOPE_TEST(test_releases_run_lifo);
        RUN_SCOPE_TEST(test_close_twice_runs_releases_once);
        RUN_SCOPE_TEST(test_release_now_then_close_runs_once);
        RUN_SCOPE_TEST(test_cancel_disarms);
        RUN_SCOPE_TEST(test_null_defer_handles_are_safe);
        RUN_SCOPE_TEST(test_cancel_after_release_now_is_safe);
        RUN_SCOPE_TEST(test_ref_keeps_memory_after_close);
        RUN_SCOPE_TEST(test_several_refs);
        RUN_SCOPE_TEST(test_last_unref_without_close_releases);
        RUN_SCOPE_TEST(test_defer_after_close_is_refused);
        RUN_SCOPE_TEST(test_release_cannot_register_releases);
        RUN_SCOPE_TEST(test_release_may_drop_the_last_other_reference);
        RUN_SCOPE_TEST(test_alloc_is_zeroed_and_aligned);
        RUN_SCOPE_TEST(test_large_allocations);
        RUN_SCOPE_TEST(test_many_small_allocations);
        RUN_SCOPE_TEST(test_strndup);
        RUN_SCOPE_TEST(test_alloc_after_close_with_ref);
        RUN_SCOPE_TEST(test_huge_alloc_fails_cleanly);
        ASSERT_EQ_INT(live_at_start, 0);
        ASSERT_EQ_INT(scope_live_count(), 0);
        return test_report();
}
