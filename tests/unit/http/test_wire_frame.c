/*
 * Unit tests for the request framer: which heads pass, how they are
 * rewritten, why the others are refused, and where bodies end, whole or
 * fed a byte at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/wire_frame.h"
#include "test.h"

/* Frames the literal in one call; returns the result, the ready count and
 * the (maybe rewritten) bytes in out. */
static int frame_all(wire_frame_t *f, const char *lit, size_t lit_len, char *out, size_t *ret_len,
                     size_t *ret_ready)
{
        memcpy(out, lit, lit_len);
        *ret_len = lit_len;
        return wire_frame_scan(f, out, ret_len, ret_ready);
}

#define FRAME(f, lit, out, len, ready) frame_all((f), (lit), sizeof(lit) - 1, (out), (len), (ready))

/* A whole request in one go: passes, all of it ready. */
static void check_passes(const char *lit, size_t lit_len, const char *file, int line)
{
        wire_frame_t f;
        char buf[512];
        size_t len, ready;

        wire_frame_init(&f);
        int r = frame_all(&f, lit, lit_len, buf, &len, &ready);
        test_check(r == 0 && ready == len && f.requests == 1 && wire_frame_between(&f), file, line,
                   lit);
}

static void check_refused(const char *lit, size_t lit_len, unsigned status, const char *file,
                          int line)
{
        wire_frame_t f;
        char buf[512];
        size_t len, ready;

        wire_frame_init(&f);
        int r = frame_all(&f, lit, lit_len, buf, &len, &ready);
        test_check(r == -EPROTO && ready == 0 && f.requests == 0, file, line, lit);
        if (r == -EPROTO)
                test_check_uint(f.refusal.status, status, file, line, lit, "status");
}

#define PASSES(lit) check_passes((lit), sizeof(lit) - 1, __FILE__, __LINE__)
#define REFUSED(lit, status) check_refused((lit), sizeof(lit) - 1, (status), __FILE__, __LINE__)

static void test_good_heads(void)
{
        PASSES("GET /users/1 HTTP/1.1\r\nHost: a\r\n\r\n");
        PASSES("GET /users/1 HTTP/1.0\r\n\r\n");
        PASSES("GET /users/1 HTTP/1.1\nHost: a\n\n"); /* bare LF line ends */
        PASSES("GET /u?a=1&b=%20 HTTP/1.1\r\nHost: a\r\nX-Utf8: caf\xc3\xa9\r\nX-Tab: a\tb\r\n\r\n");
        PASSES("POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}");
        PASSES("POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        PASSES("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
               "2\r\n{}\r\n0\r\n\r\n");
}

static void test_control_bytes_refused(void)
{
        REFUSED("GET /users/1\0junk HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users?limit=2\0&x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/1\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/1 HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400);
        REFUSED("GET /users/1 HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
        REFUSED("GET /users/1 HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", 400);
}

static void test_request_lines_refused(void)
{
        REFUSED("garbage\r\n\r\n", 400);
        REFUSED("GET /users/1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET  /users/1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/1 HTTP/1.1 x\r\nHost: a\r\n\r\n", 400);
        REFUSED("G@T /users/1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET users/1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET http:///users HTTP/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/1 http/1.1\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET /users/1 HTTP/2.0\r\nHost: a\r\n\r\n", 505);
        REFUSED("GET /users/1 HTTP/0.9\r\nHost: a\r\n\r\n", 505);
        REFUSED("GET /users/1 HTTP/1.2\r\nHost: a\r\n\r\n", 505);
}

static void test_headers_refused(void)
{
        REFUSED("GET / HTTP/1.1\r\n\r\n", 400);                              /* no Host */
        REFUSED("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
        REFUSED("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400);
        REFUSED("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
        REFUSED("GET / HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n", 400);
        REFUSED("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
        REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", 400);
        REFUSED("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                "Transfer-Encoding: chunked\r\n\r\n", 400);
        REFUSED("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
                400);
        REFUSED("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
        REFUSED("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400);
        REFUSED("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
        REFUSED("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

static void test_absolute_form_rewritten(void)
{
        wire_frame_t f;
        char buf[256];
        size_t len, ready;

        wire_frame_init(&f);
        ASSERT_EQ_INT(FRAME(&f, "GET http://h:80/users/1?a=1 HTTP/1.1\r\nHost: h\r\n\r\n", buf,
                            &len, &ready), 0);
        ASSERT_EQ_MEM(buf, len, "GET /users/1?a=1 HTTP/1.1\r\nHost: h\r\n\r\n",
                      strlen("GET /users/1?a=1 HTTP/1.1\r\nHost: h\r\n\r\n"));
        ASSERT_EQ_UINT(ready, len);
        wire_frame_init(&f);
        ASSERT_EQ_INT(FRAME(&f, "GET HTTPS://h?a=1 HTTP/1.1\r\nHost: h\r\n\r\n", buf, &len, &ready),
                      0);
        ASSERT_EQ_MEM(buf, len, "GET /?a=1 HTTP/1.1\r\nHost: h\r\n\r\n",
                      strlen("GET /?a=1 HTTP/1.1\r\nHost: h\r\n\r\n"));
}

static void test_expect_without_body_dropped(void)
{
        wire_frame_t f;
        char buf[256];
        size_t len, ready;
        const char *kept = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";

        wire_frame_init(&f);
        ASSERT_EQ_INT(FRAME(&f, "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nX: y\r\n\r\n",
                            buf, &len, &ready), 0);
        ASSERT_EQ_MEM(buf, len, "GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n",
                      strlen("GET / HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n"));
        wire_frame_init(&f);
        ASSERT_EQ_INT(frame_all(&f, kept, strlen(kept), buf, &len, &ready), 0);
        ASSERT_EQ_MEM(buf, len, kept, strlen(kept));
}

static void test_limits(void)
{
        size_t cap = WIRE_HEAD_MAX;
        char *buf = malloc(cap);
        wire_frame_t f;
        size_t len, ready;

        /* A request line that never ends: 414 once it cannot be a target. */
        memset(buf, 'a', cap);
        memcpy(buf, "GET /", 5);
        len = WIRE_TARGET_MAX + 100;
        wire_frame_init(&f);
        ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), -EPROTO);
        ASSERT_EQ_UINT(f.refusal.status, 414);
        /* A header block that fills the buffer: 431. */
        memset(buf, 'b', cap);
        memcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
        len = cap;
        wire_frame_init(&f);
        ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), -EPROTO);
        ASSERT_EQ_UINT(f.refusal.status, 431);
        /* Too many header lines. */
        len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < WIRE_HEADERS_MAX; i++)
                len += (size_t)snprintf(buf + len, cap - len, "X-%d: v\r\n", i);
        len += (size_t)snprintf(buf + len, cap - len, "\r\n");
        wire_frame_init(&f);
        ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), -EPROTO);
        ASSERT_EQ_UINT(f.refusal.status, 431);
        /* Too many query parameters. */
        len = (size_t)snprintf(buf, cap, "GET /u?a=1");
        for (int i = 0; i < WIRE_ARGS_MAX; i++)
                len += (size_t)snprintf(buf + len, cap - len, "&p%d=v", i);
        len += (size_t)snprintf(buf + len, cap - len, " HTTP/1.1\r\nHost: a\r\n\r\n");
        wire_frame_init(&f);
        ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), -EPROTO);
        ASSERT_EQ_UINT(f.refusal.status, 400);
        ASSERT_EQ_STR(f.refusal.slug, "invalid-parameter");
        free(buf);
}

/* Pipelined requests: the ready count stops at the start of an incomplete head. */
static void test_pipelining(void)
{
        wire_frame_t f;
        char buf[512];
        size_t len, ready;
        const char *two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\n"
                          "Content-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHo";

        wire_frame_init(&f);
        ASSERT_EQ_INT(frame_all(&f, two, strlen(two), buf, &len, &ready), 0);
        ASSERT_EQ_UINT(f.requests, 2);
        ASSERT_EQ_UINT(ready, strlen(two) - strlen("GET /c HTTP/1.1\r\nHo"));
        ASSERT_TRUE(wire_frame_between(&f));
        /* The caller keeps the incomplete head and adds what comes next. */
        memmove(buf, buf + ready, len - ready);
        len -= ready;
        memcpy(buf + len, "st: a\r\n\r\n", 9);
        len += 9;
        ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), 0);
        ASSERT_EQ_UINT(f.requests, 3);
        ASSERT_EQ_UINT(ready, len);
        /* A refused head after good ones: the good ones are still ready. */
        wire_frame_init(&f);
        const char *bad = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c";
        ASSERT_EQ_INT(frame_all(&f, bad, strlen(bad), buf, &len, &ready), -EPROTO);
        ASSERT_EQ_UINT(ready, strlen("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_EQ_UINT(f.requests, 1);
        ASSERT_EQ_STR(f.refusal.path, "/b");
}

/* A chunked body fed one byte at a time ends exactly where it should. */
static void test_chunked_byte_by_byte(void)
{
        const char *req = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n"
                          "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
        wire_frame_t f;
        char buf[512];
        size_t len = 0, passed = 0, ready;

        wire_frame_init(&f);
        for (size_t i = 0; req[i] != '\0'; i++) {
                buf[len++] = req[i];
                ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), 0);
                memmove(buf, buf + ready, len - ready);
                len -= ready;
                passed += ready;
        }
        ASSERT_EQ_UINT(passed, strlen(req));
        ASSERT_EQ_UINT(f.requests, 2);
        ASSERT_TRUE(wire_frame_between(&f));
}

static void test_chunked_refused(void)
{
        const char *bodies[] = { "zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n",
                                 "5\rxhello\r\n0\r\n\r\n", "1234567890123456\r\n",
                                 /* what libmicrohttpd would refuse is refused first */
                                 "5 \r\nhello\r\n0\r\n\r\n", "5\t;x\r\nhello\r\n0\r\n\r\n",
                                 "5;x\x7f\r\nhello\r\n0\r\n\r\n",
                                 "5;\xc3\xa9\r\nhello\r\n0\r\n\r\n" };

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                char buf[256];
                size_t len, ready;
                wire_frame_t f;
                len = (size_t)snprintf(buf, sizeof(buf),
                                       "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                                       "\r\n\r\n%s", bodies[i]);
                wire_frame_init(&f);
                ASSERT_EQ_INT(wire_frame_scan(&f, buf, &len, &ready), -EPROTO);
                ASSERT_FALSE(wire_frame_between(&f));
        }
}

static void test_empty_lines_between_requests(void)
{
        wire_frame_t f;
        char buf[256];
        size_t len, ready;

        wire_frame_init(&f);
        ASSERT_EQ_INT(FRAME(&f, "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n", buf, &len, &ready),
                      0);
        ASSERT_EQ_MEM(buf, len, "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                      strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_EQ_UINT(ready, len);
}

int main(void)
{
        RUN_TEST(test_good_heads);
        RUN_TEST(test_control_bytes_refused);
        RUN_TEST(test_request_lines_refused);
        RUN_TEST(test_headers_refused);
        RUN_TEST(test_absolute_form_rewritten);
        RUN_TEST(test_expect_without_body_dropped);
        RUN_TEST(test_limits);
        RUN_TEST(test_pipelining);
        RUN_TEST(test_chunked_byte_by_byte);
        RUN_TEST(test_chunked_refused);
        RUN_TEST(test_empty_lines_between_requests);
        return test_report();
}
