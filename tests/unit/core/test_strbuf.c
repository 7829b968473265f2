/*
 * Unit tests for the growable byte buffer: appends of every kind, formatted
 * output longer than the first allocation, and take/done ownership.
 */
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "test.h"

/* The invariants every caller relies on after any append. */
static void check_invariants(const strbuf_t *b, const char *file, int line)
{
        bool ok = !b->failed && b->data != NULL && b->len < b->cap && b->data[b->len] == '\0';

        if (ok) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "buffer data=%p len=%zu cap=%zu failed=%d%s\n", (void *)b->data, b->len,
                b->cap, b->failed, b->data && b->len < b->cap && b->data[b->len] != '\0'
                                           ? " (not NUL-terminated)" : "");
}

#define ASSERT_INVARIANTS(b) check_invariants((b), __FILE__, __LINE__)

static void test_appends(void)
{
        strbuf_t b = { 0 };

        strbuf_append(&b, "abc", 3);
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_MEM(b.data, b.len, "abc", 3);
        strbuf_append_str(&b, "def");
        strbuf_append_char(&b, '!');
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_STR(b.data, "abcdef!");
        ASSERT_EQ_UINT(b.len, 7);
        strbuf_append(&b, "", 0);
        strbuf_append_str(&b, "");
        ASSERT_EQ_UINT(b.len, 7);
        ASSERT_INVARIANTS(&b);
        strbuf_done(&b);
}

static void test_binary_bytes(void)
{
        strbuf_t b = { 0 };

        strbuf_append(&b, "a\0b", 3);
        strbuf_append_char(&b, '\0');
        strbuf_append_char(&b, (char)0xFF);
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_UINT(b.len, 5);
        ASSERT_EQ_MEM(b.data, b.len, "a\0b\0\xFF", 5);
        strbuf_done(&b);
}

static void test_growth_keeps_content(void)
{
        strbuf_t b = { 0 };
        int intact = 1;

        for (int i = 0; i < 100000; i++)
                strbuf_append_char(&b, (char)('a' + i % 26));
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_UINT(b.len, 100000);
        for (size_t i = 0; i < b.len; i++)
                intact &= b.data[i] == (char)('a' + i % 26);
        ASSERT_TRUE(intact);

        /* One append far larger than the capacity. */
        size_t big = 3u << 20;
        char *chunk = malloc(big);
        ASSERT_NOT_NULL(chunk);
        if (chunk != NULL) {
                memset(chunk, 'Z', big);
                strbuf_append(&b, chunk, big);
                ASSERT_INVARIANTS(&b);
                ASSERT_EQ_UINT(b.len, 100000 + big);
                ASSERT_EQ_MEM(b.data + 100000, big, chunk, big);
                free(chunk);
        }
        strbuf_done(&b);
}

static void test_reserve(void)
{
        strbuf_t b = { 0 };

        ASSERT_TRUE(strbuf_reserve(&b, 1000));
        /* Room for n bytes and the terminator. */
        ASSERT_TRUE(b.cap - b.len > 1000);
        ASSERT_FALSE(b.failed);
        strbuf_append_str(&b, "x");
        ASSERT_TRUE(strbuf_reserve(&b, 5000));
        ASSERT_TRUE(b.cap - b.len > 5000);
        ASSERT_EQ_STR(b.data, "x");
        strbuf_done(&b);
}

static void test_appendf_short(void)
{
        strbuf_t b = { 0 };

        strbuf_appendf(&b, "%d-%s-%c-%05.1f", 42, "x", 'y', 2.5);
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_STR(b.data, "42-x-y-002.5");
        ASSERT_EQ_UINT(b.len, strlen("42-x-y-002.5"));
        strbuf_appendf(&b, "%s", "");
        ASSERT_EQ_UINT(b.len, 12);
        strbuf_appendf(&b, "[%u]", 7u);
        ASSERT_EQ_STR(b.data, "42-x-y-002.5[7]");
        strbuf_done(&b);
}

static void test_appendf_long(void)
{
        enum { LONG = 10000 };
        static char text[LONG + 1];
        strbuf_t b = { 0 };

        for (size_t i = 0; i < LONG; i++)
                text[i] = (char)('A' + i % 23);
        text[LONG] = '\0';
        strbuf_append_str(&b, "head:");
        strbuf_appendf(&b, "<%s>", text);
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_UINT(b.len, 5 + 1 + LONG + 1);
        ASSERT_EQ_MEM(b.data, 6, "head:<", 6);
        ASSERT_EQ_MEM(b.data + 6, LONG, text, LONG);
        ASSERT_EQ_MEM(b.data + 6 + LONG, 1, ">", 1);
        strbuf_done(&b);
}

/* Formatted output of every length around the first capacity and its
 * doublings, from every starting length around them: no byte lost or added. */
static void test_appendf_boundaries(void)
{
        static char text[1100];
        static char expected[2200];
        int bad = 0;

        memset(text, 'q', sizeof(text));
        for (size_t start = 0; start < 600; start += 7) {
                for (size_t n = 0; n < 560; n += (n < 240 || n > 280) ? 13 : 1) {
                        strbuf_t b = { 0 };
                        memset(expected, 'p', start);
                        memcpy(expected + start, text, n);
                        strbuf_append(&b, expected, start);
                        strbuf_appendf(&b, "%.*s", (int)n, text);
                        if (b.failed || b.len != start + n || b.data[b.len] != '\0' ||
                            memcmp(b.data, expected, start + n) != 0) {
                                if (bad++ < 5)
                                        fprintf(stderr, "  start %zu, n %zu: len %zu\n", start, n,
                                                b.len);
                        }
                        strbuf_done(&b);
                }
        }
        ASSERT_EQ_INT(bad, 0);
}

static void test_take(void)
{
        strbuf_t b = { 0 };
        size_t len = 99;

        strbuf_append_str(&b, "hello");
        char *text = strbuf_take(&b, &len);
        ASSERT_EQ_STR(text, "hello");
        ASSERT_EQ_UINT(len, 5);
        /* The buffer is empty and usable again; the taken block is ours. */
        ASSERT_NULL(b.data);
        ASSERT_EQ_UINT(b.len, 0);
        ASSERT_EQ_UINT(b.cap, 0);
        strbuf_append_str(&b, "again");
        ASSERT_INVARIANTS(&b);
        ASSERT_EQ_STR(b.data, "again");
        ASSERT_TRUE(b.data != text);
        ASSERT_EQ_STR(text, "hello");
        free(text);

        text = strbuf_take(&b, NULL);
        ASSERT_EQ_STR(text, "again");
        free(text);
        strbuf_done(&b);
}

static void test_take_empty(void)
{
        strbuf_t b = { 0 };
        size_t len = 99;
        char *text = strbuf_take(&b, &len);

        ASSERT_NOT_NULL(text);
        ASSERT_EQ_STR(text, "");
        ASSERT_EQ_UINT(len, 0);
        free(text);

        /* Emptied by an earlier take: the same again. */
        strbuf_append_str(&b, "x");
        free(strbuf_take(&b, NULL));
        len = 99;
        text = strbuf_take(&b, &len);
        ASSERT_EQ_STR(text, "");
        ASSERT_EQ_UINT(len, 0);
        free(text);
}

static void test_done(void)
{
        strbuf_t b = { 0 };

        strbuf_done(&b); /* on a buffer never used */
        strbuf_append_str(&b, "data");
        strbuf_done(&b);
        ASSERT_NULL(b.data);
        ASSERT_EQ_UINT(b.len, 0);
        ASSERT_EQ_UINT(b.cap, 0);
        strbuf_done(&b); /* twice */
        ASSERT_NULL(b.data);
        strbuf_append_str(&b, "reuse");
        ASSERT_EQ_STR(b.data, "reuse");
        strbuf_done(&b);
}

int main(void)
{
        RUN_TEST(test_appends);
        RUN_TEST(test_binary_bytes);
        RUN_TEST(test_growth_keeps_content);
        RUN_TEST(test_reserve);
        RUN_TEST(test_appendf_short);
        RUN_TEST(test_appendf_long);
        RUN_TEST(test_appendf_boundaries);
        RUN_TEST(test_take);
        RUN_TEST(test_take_empty);
        RUN_TEST(test_done);
        return test_report();
}
