/*
 * Unit tests for request bodies on a real HTTP server: the http layer alone
 * on a libuv loop, with a dispatch function of the test's own, spoken to over
 * loopback by a client thread. A handler that takes the body gets it in
 * pieces as it arrives and may pause it; one that takes none runs after the
 * body is thrown away; past the limit the answer is 413, for a declared
 * length before any of it is read, for a chunked body once the limit passes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "test.h"

enum { BODY_LIMIT = 200000, BIG_BODY = 150000, MAX_WAIT_MS = 10000 };

/* What the server side saw of the last request. */
static struct {
        int dispatched;
        unsigned long long bytes;   /* body bytes the handler was handed */
        unsigned pieces;            /* calls with len > 0 */
        unsigned ends;              /* calls with len 0 */
        unsigned pauses;
        int after_body_runs;
        bool bytes_ok;              /* every byte was the one the client sent */
} seen;

typedef struct fixture {
        uv_loop_t loop;
        http_server_t *server;
        uv_timer_t resume_timer;
        http_request_t *paused;
        uint16_t port;
        bool stopped;
        bool resume_at_once;        /* on_body resumes before returning its pause */
} fixture_t;

static fixture_t fx;

/* The body the client sends: byte i is 'a' + i % 26. */
static char body_byte(unsigned long long i)
{
        return (char)('a' + i % 26);
}

static void resume_cb(uv_timer_t *timer)
{
        (void)timer;
        if (fx.paused != NULL)
                http_body_resume(fx.paused);
        fx.paused = NULL;
}

/* Takes the body, pausing after every fourth piece until a timer resumes it. */
static int on_body(http_request_t *req, const char *chunk, size_t len, void *data)
{
        (void)data;
        if (len == 0) {
                seen.ends++;
                char *text = malloc(64);
                int n = snprintf(text, 64, "%llu", seen.bytes);
                http_respond(req, 200, "text/plain", text, (size_t)n);
                return HTTP_BODY_MORE;
        }
        for (size_t i = 0; i < len; i++)
                if (chunk[i] != body_byte(seen.bytes + i))
                        seen.bytes_ok = false;
        seen.bytes += len;
        if (++seen.pieces % 4 != 0)
                return HTTP_BODY_MORE;
        seen.pauses++;
        if (fx.resume_at_once) { /* the work the pause waits for finished at once */
                http_body_resume(req);
                return HTTP_BODY_PAUSE;
        }
        fx.paused = req;
        uv_timer_start(&fx.resume_timer, resume_cb, 5, 0);
        return HTTP_BODY_PAUSE;
}

static void after_body(http_request_t *req, void *data)
{
        (void)data;
        seen.after_body_runs++;
        char *text = strdup("after");
        http_respond(req, 200, "text/plain", text, strlen(text));
}

/* "/take" reads the body; every other path runs after it is thrown away. */
static void dispatch(http_request_t *req, void *data)
{
        (void)data;
        seen.dispatched++;
        if (strcmp(req->path, "/take") == 0)
                http_receive_body(req, on_body, NULL);
        else
                http_after_body(req, after_body, NULL);
}

static uint16_t free_port(void)
{
        struct sockaddr_in addr = { .sin_family = AF_INET,
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(addr);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        uint16_t port = 0;

        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
            getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
                port = ntohs(addr.sin_port);
        close(fd);
        return port;
}

static bool start_server(void)
{
        http_options_t options = {
                .listen_host = "127.0.0.1",
                .max_connections = 16,
                .idle_timeout_ms = 5000,
                .header_timeout_ms = 5000,
                .default_deadline_ms = MAX_WAIT_MS,
                .max_body_bytes = BODY_LIMIT,
        };

        memset(&fx, 0, sizeof(fx));
        ASSERT_EQ_INT(uv_loop_init(&fx.loop), 0);
        uv_timer_init(&fx.loop, &fx.resume_timer);
        fx.port = options.listen_port = free_port();
        int r = http_server_new(&fx.server, &fx.loop, &options, dispatch, NULL);
        ASSERT_EQ_INT(r, 0);
        return r == 0;
}

/* ---- the client, on a thread of its own while the loop runs ---- */

typedef struct exchange {
        const char *head;          /* request line and headers, without the blank line */
        unsigned long long length; /* body bytes to send after the head */
        bool chunked;              /* as chunks of 10,000 bytes */
        char answer[4096];
        size_t answer_len;
        bool closed;               /* the server closed the connection after answering */
        bool done;
} exchange_t;

static bool send_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
                if (n <= 0)
                        return false;
                data += n;
                len -= (size_t)n;
        }
        return true;
}

static void send_body(int fd, const exchange_t *x)
{
        char piece[10000];

        for (unsigned long long sent = 0; sent < x->length;) {
                size_t n = x->length - sent < sizeof(piece) ? (size_t)(x->length - sent)
                                                            : sizeof(piece);
                for (size_t i = 0; i < n; i++)
                        piece[i] = body_byte(sent + i);
                char size_line[32];
                int w = snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
                if ((x->chunked && !send_all(fd, size_line, (size_t)w)) ||
                    !send_all(fd, piece, n) || (x->chunked && !send_all(fd, "\r\n", 2)))
                        return; /* the server stopped reading: the answer tells why */
                sent += n;
        }
        if (x->chunked)
                send_all(fd, "0\r\n\r\n", 5);
}

static void *client_main(void *arg)
{
        exchange_t *x = arg;
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(fx.port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = { .tv_sec = MAX_WAIT_MS / 1000 };
        char head[512];

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
                int n = snprintf(head, sizeof(head), "%s\r\n\r\n", x->head);
                if (send_all(fd, head, (size_t)n))
                        send_body(fd, x);
                ssize_t got = -1;
                while (x->answer_len < sizeof(x->answer) - 1 &&
                       (got = recv(fd, x->answer + x->answer_len,
                                   sizeof(x->answer) - 1 - x->answer_len, 0)) > 0)
                        x->answer_len += (size_t)got;
                x->closed = got == 0;
                x->answer[x->answer_len] = '\0';
        }
        close(fd);
        __atomic_store_n(&x->done, true, __ATOMIC_RELEASE);
        return NULL;
}

static void poll_cb(uv_timer_t *timer)
{
        exchange_t *x = timer->data;

        if (__atomic_load_n(&x->done, __ATOMIC_ACQUIRE))
                uv_stop(timer->loop);
}

/* Runs one exchange: the loop serves while the client thread talks. */
static void run_exchange(exchange_t *x)
{
        pthread_t client;
        uv_timer_t poll;

        memset(&seen, 0, sizeof(seen));
        seen.bytes_ok = true;
        uv_timer_init(&fx.loop, &poll);
        poll.data = x;
        uv_timer_start(&poll, poll_cb, 1, 1);
        pthread_create(&client, NULL, client_main, x);
        uv_run(&fx.loop, UV_RUN_DEFAULT);
        pthread_join(client, NULL);
        uv_close((uv_handle_t *)&poll, NULL);
        uv_run(&fx.loop, UV_RUN_NOWAIT);
}

static void stopped_cb(void *data)
{
        (void)data;
        fx.stopped = true;
}

static void stop_server(void)
{
        http_server_stop(fx.server, 1000, stopped_cb, NULL);
        uv_close((uv_handle_t *)&fx.resume_timer, NULL);
        uv_run(&fx.loop, UV_RUN_DEFAULT);
        ASSERT_TRUE(fx.stopped);
        http_server_free(fx.server);
        ASSERT_EQ_INT(uv_loop_close(&fx.loop), 0);
        ASSERT_EQ_INT(scope_live_count(), 0);
}

static const char *body_of(const exchange_t *x)
{
        const char *blank = strstr(x->answer, "\r\n\r\n");

        return blank ? blank + 4 : "";
}

/* ---- the tests ---- */

static void test_body_in_pieces_with_pauses(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                 "Content-Length: 150000",
                         .length = BIG_BODY };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_EQ_STR(body_of(&x), "150000");
        ASSERT_EQ_UINT(seen.bytes, BIG_BODY);
        ASSERT_TRUE(seen.bytes_ok);
        ASSERT_TRUE(seen.pieces >= 4); /* handed as it arrived, not whole */
        ASSERT_TRUE(seen.pauses >= 1);
        ASSERT_EQ_UINT(seen.ends, 1);
        ASSERT_EQ_INT(seen.dispatched, 1);
}

static void test_pause_resumed_before_it_returns(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                 "Content-Length: 150000",
                         .length = BIG_BODY };

        fx.resume_at_once = true;
        run_exchange(&x);
        fx.resume_at_once = false;
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_EQ_STR(body_of(&x), "150000");
        ASSERT_TRUE(seen.bytes_ok);
        ASSERT_TRUE(seen.pauses >= 1);
        ASSERT_EQ_UINT(seen.ends, 1);
}

static void test_chunked_body_in_pieces(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                 "Transfer-Encoding: chunked",
                         .length = BIG_BODY,
                         .chunked = true };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_EQ_STR(body_of(&x), "150000");
        ASSERT_TRUE(seen.bytes_ok);
        ASSERT_EQ_UINT(seen.ends, 1);
}

static void test_no_body_still_ends(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nConnection: close" };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_EQ_STR(body_of(&x), "0");
        ASSERT_EQ_UINT(seen.pieces, 0);
        ASSERT_EQ_UINT(seen.ends, 1);
}

static void test_handler_without_body_runs_after_it(void)
{
        exchange_t x = { .head = "GET /other HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                 "Content-Length: 150000",
                         .length = BIG_BODY };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_EQ_STR(body_of(&x), "after");
        ASSERT_EQ_INT(seen.after_body_runs, 1);
        ASSERT_EQ_UINT(seen.bytes, 0);
}

static void test_declared_length_past_limit_is_413_unread(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nContent-Length: 200001",
                         .length = 0 };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 413");
        ASSERT_CONTAINS(x.answer, "application/problem+json");
        ASSERT_CONTAINS(x.answer, "urn:queryd:problem:body-too-large");
        ASSERT_CONTAINS(x.answer, "X-Request-Id");
        ASSERT_TRUE(x.closed); /* the unread body cannot be skipped: the connection ends */
        ASSERT_EQ_INT(seen.dispatched, 0);
}

static void test_chunked_past_limit_is_413(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked",
                         .length = BODY_LIMIT + 50000,
                         .chunked = true };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 413");
        ASSERT_CONTAINS(x.answer, "urn:queryd:problem:body-too-large");
        ASSERT_TRUE(seen.bytes <= BODY_LIMIT); /* the handler heard nothing past the limit */
        ASSERT_EQ_UINT(seen.ends, 0);
        ASSERT_TRUE(seen.bytes_ok);
}

static void test_chunked_far_past_limit_is_cut(void)
{
        exchange_t x = { .head = "POST /take HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked",
                         .length = BODY_LIMIT + 4 * 1024 * 1024,
                         .chunked = true };

        run_exchange(&x);
        ASSERT_TRUE(x.closed || x.answer_len == 0);
        ASSERT_TRUE(seen.bytes <= BODY_LIMIT);
        ASSERT_EQ_UINT(seen.ends, 0);
}

int main(void)
{
        if (!start_server())
                return test_report();
        RUN_TEST(test_body_in_pieces_with_pauses);
        RUN_TEST(test_pause_resumed_before_it_returns);
        RUN_TEST(test_chunked_body_in_pieces);
        RUN_TEST(test_no_body_still_ends);
        RUN_TEST(test_handler_without_body_runs_after_it);
        RUN_TEST(test_declared_length_past_limit_is_413_unread);
        RUN_TEST(test_chunked_past_limit_is_413);
        RUN_TEST(test_chunked_far_past_limit_is_cut);
        RUN_TEST(stop_server);
        return test_report();
}
