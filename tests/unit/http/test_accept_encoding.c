/*
 * Unit tests for Accept-Encoding negotiation (RFC 9110 section 12.5.3):
 * q-values, "*", identity and its refusal, the server's order at equal
 * weights, and malformed elements ignored.
 */
#include "http/accept_encoding.h"
#include "test.h"

static const char *const both[] = { "zstd", "gzip" };
static const char *const gzip_first[] = { "gzip", "zstd" };

enum { ZSTD = 0, GZIP = 1, IDENTITY = ACCEPT_ENCODING_IDENTITY };

static int choose(const char *header)
{
        return accept_encoding_choose(header, both, 2);
}

static void test_no_header_or_empty(void)
{
        ASSERT_EQ_INT(choose(NULL), IDENTITY);
        ASSERT_EQ_INT(choose(""), IDENTITY);
        ASSERT_EQ_INT(choose("  "), IDENTITY);
        ASSERT_EQ_INT(choose("identity"), IDENTITY);
        ASSERT_EQ_INT(accept_encoding_choose("gzip", both, 0), IDENTITY);
}

static void test_single_codings(void)
{
        ASSERT_EQ_INT(choose("gzip"), GZIP);
        ASSERT_EQ_INT(choose("zstd"), ZSTD);
        ASSERT_EQ_INT(choose("GZip"), GZIP);
        ASSERT_EQ_INT(choose("x-gzip"), GZIP);
        ASSERT_EQ_INT(choose("br"), IDENTITY);
        ASSERT_EQ_INT(choose("deflate, br"), IDENTITY);
}

static void test_server_order_at_equal_weights(void)
{
        ASSERT_EQ_INT(choose("gzip, zstd"), ZSTD);
        ASSERT_EQ_INT(choose("gzip, deflate, br, zstd"), ZSTD);
        ASSERT_EQ_INT(accept_encoding_choose("gzip, zstd", gzip_first, 2), 0);
        ASSERT_EQ_INT(choose("*"), ZSTD);
        ASSERT_EQ_INT(choose("gzip;q=0.5, zstd;q=0.5"), ZSTD);
}

static void test_q_values(void)
{
        ASSERT_EQ_INT(choose("gzip;q=1.0, zstd;q=0.9"), GZIP);
        ASSERT_EQ_INT(choose("gzip;q=0.001, zstd;q=0"), GZIP);
        ASSERT_EQ_INT(choose("gzip ; q=0.8 , zstd;Q=0.7"), GZIP);
        ASSERT_EQ_INT(choose("zstd;q=0.5, *;q=0.9"), GZIP); /* gzip gets *'s weight */
        ASSERT_EQ_INT(choose("gzip;q=0, *"), ZSTD);
        ASSERT_EQ_INT(choose("zstd;q=0, gzip;q=0"), IDENTITY);
        ASSERT_EQ_INT(choose("*;q=0"), IDENTITY); /* refused everything: sent as it is */
}

static void test_identity_weights(void)
{
        /* Identity named with a higher weight than any coding wins. */
        ASSERT_EQ_INT(choose("gzip;q=0.5, identity"), IDENTITY);
        ASSERT_EQ_INT(choose("identity;q=0.5, gzip"), GZIP);
        /* Equal weights: the coding. */
        ASSERT_EQ_INT(choose("identity, gzip"), GZIP);
        /* Not named: identity is only the fallback. */
        ASSERT_EQ_INT(choose("gzip;q=0.1"), GZIP);
        /* Refused, and nothing offered acceptable: identity all the same. */
        ASSERT_EQ_INT(choose("identity;q=0"), IDENTITY);
        ASSERT_EQ_INT(choose("br, identity;q=0"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip, identity;q=0"), GZIP);
}

static void test_malformed_elements_are_ignored(void)
{
        ASSERT_EQ_INT(choose("gzip;q=abc"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q=1.5"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q=0.1234"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q=2"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q=1.001"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q="), IDENTITY);
        ASSERT_EQ_INT(choose("gzip;q"), IDENTITY);
        ASSERT_EQ_INT(choose("gzip q=0.5"), IDENTITY);
        ASSERT_EQ_INT(choose("zstd;q=abc, gzip"), GZIP);
        ASSERT_EQ_INT(choose("\"gzip\""), IDENTITY);
        /* An element refusing with a bad weight does not refuse. */
        ASSERT_EQ_INT(choose("gzip, gzip;q=x"), GZIP);
        /* Empty elements and other parameters are fine. */
        ASSERT_EQ_INT(choose(",, gzip;level=3 ,"), GZIP);
        ASSERT_EQ_INT(choose("gzip;q=0.5;foo=bar"), GZIP);
        ASSERT_EQ_INT(choose("gzip;q=1."), GZIP);
        ASSERT_EQ_INT(choose("gzip;q=0."), IDENTITY);
}

int main(void)
{
        RUN_TEST(test_no_header_or_empty);
        RUN_TEST(test_single_codings);
        RUN_TEST(test_server_order_at_equal_weights);
        RUN_TEST(test_q_values);
        RUN_TEST(test_identity_weights);
        RUN_TEST(test_malformed_elements_are_ignored);
        return test_report();
}
