/*
 * Unit tests for entity tags: the tag of the bytes sent (SHA-256, checked
 * against OpenSSL's command-line figure for "abc"), a suffix per content
 * coding, and If-None-Match lists with weak comparison.
 */
#include <string.h>

#include "http/etag.h"
#include "test.h"

static void test_tag_is_the_digest_of_the_bytes(void)
{
        char tag[ETAG_SIZE];

        /* SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad */
        ASSERT_EQ_INT(etag_make("abc", 3, NULL, tag), 0);
        ASSERT_EQ_STR(tag, "\"ba7816bf8f01cfea414140de5dae2223\"");
        ASSERT_EQ_INT(etag_make("abc", 3, "gzip", tag), 0);
        ASSERT_EQ_STR(tag, "\"ba7816bf8f01cfea414140de5dae2223-gzip\"");
        ASSERT_EQ_INT(etag_make("", 0, "zstd", tag), 0);
        ASSERT_EQ_STR(tag, "\"e3b0c44298fc1c149afbf4c8996fb924-zstd\"");
}

static void test_none_match(void)
{
        const char *tag = "\"ba7816bf8f01cfea414140de5dae2223-gzip\"";

        ASSERT_TRUE(etag_none_match("\"ba7816bf8f01cfea414140de5dae2223-gzip\"", tag));
        ASSERT_TRUE(etag_none_match("*", tag));
        ASSERT_TRUE(etag_none_match("  * ", tag));
        ASSERT_TRUE(etag_none_match("W/\"ba7816bf8f01cfea414140de5dae2223-gzip\"", tag));
        ASSERT_TRUE(etag_none_match("\"x\", W/\"y\" ,\"ba7816bf8f01cfea414140de5dae2223-gzip\"",
                                    tag));
        ASSERT_TRUE(etag_none_match(",\"a,b\", \"ba7816bf8f01cfea414140de5dae2223-gzip\"", tag));
        ASSERT_FALSE(etag_none_match("\"ba7816bf8f01cfea414140de5dae2223\"", tag));
        ASSERT_FALSE(etag_none_match("\"ba7816bf8f01cfea414140de5dae2223-zstd\"", tag));
        ASSERT_FALSE(etag_none_match("ba7816bf8f01cfea414140de5dae2223-gzip", tag));
        ASSERT_FALSE(etag_none_match("", tag));
        ASSERT_FALSE(etag_none_match("*, \"x\"", tag));
        ASSERT_FALSE(etag_none_match("\"unclosed", tag));
        /* Past a malformed element nothing matches. */
        ASSERT_FALSE(etag_none_match("junk, \"ba7816bf8f01cfea414140de5dae2223-gzip\"", tag));
}

int main(void)
{
        RUN_TEST(test_tag_is_the_digest_of_the_bytes);
        RUN_TEST(test_none_match);
        return test_report();
}
