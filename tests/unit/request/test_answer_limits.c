/*
 * Unit tests for the rate limit answers, on a real HTTP server on a libuv
 * loop spoken to over loopback by a client thread: a refusal is a 429 problem
 * with Retry-After, RateLimit and RateLimit-Policy; an allowed request gets the
 * two RateLimit fields on its own answer; CORS exposes them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/metrics.h"
#include "request/answer.h"
#include "test.h"

enum { MAX_WAIT_MS = 10000 };

static struct {
        uv_loop_t loop;
        http_server_t *server;
        uint16_t port;
        bool stopped;
} fx;

/* A bucket of 3, a token every 2 s, found empty: the next token in 2 s. */
static const rate_verdict_t refused = { .allowed = false, .limit = 3, .window_s = 6,
                                        .remaining = 0, .reset_s = 6, .retry_after_s = 2 };
static const rate_verdict_t allowed = { .allowed = true, .limit = 100, .window_s = 2,
                                        .remaining = 41, .reset_s = 2, .retry_after_s = 0 };

static void answer_cb(http_request_t *req, void *data)
{
        (void)data;
        if (strcmp(req->path, "/refused") == 0) {
                answer_rate_limited(req, &refused);
                return;
        }
        answer_rate_headers(req, &allowed);
        http_respond_json(req, 200, json_object());
}

static void dispatch(http_request_t *req, void *data)
{
        http_after_body(req, answer_cb, data);
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

typedef struct exchange {
        const char *path;
        char answer[4096];
        bool done;
} exchange_t;

static void *client_main(void *arg)
{
        exchange_t *x = arg;
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(fx.port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = { .tv_sec = MAX_WAIT_MS / 1000 };
        char head[256];
        size_t len = 0;
        ssize_t got;

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
                int n = snprintf(head, sizeof(head),
                                 "GET %s HTTP/1.1\r\nHost: t\r\nOrigin: https://a.example\r\n"
                                 "Connection: close\r\n\r\n",
                                 x->path);
                size_t room = sizeof(x->answer) - 1;
                if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n)
                        while (len < room && (got = recv(fd, x->answer + len, room - len, 0)) > 0)
                                len += (size_t)got;
        }
        x->answer[len] = '\0';
        close(fd);
        __atomic_store_n(&x->done, true, __ATOMIC_RELEASE);
        return NULL;
}

static void poll_cb(uv_timer_t *timer)
{
        if (__atomic_load_n(&((exchange_t *)timer->data)->done, __ATOMIC_ACQUIRE))
                uv_stop(timer->loop);
}

/* GET path from a client thread while the loop serves; the answer, head and body. */
static void run_exchange(exchange_t *x)
{
        pthread_t client;
        uv_timer_t poll;

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

static void test_refusal(void)
{
        exchange_t x = { .path = "/refused" };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 429");
        ASSERT_CONTAINS(x.answer, "Content-Type: application/problem+json");
        ASSERT_CONTAINS(x.answer, "Retry-After: 2\r\n");
        ASSERT_CONTAINS(x.answer, "RateLimit: \"default\";r=0;t=2\r\n");
        ASSERT_CONTAINS(x.answer, "RateLimit-Policy: \"default\";q=3;w=6\r\n");
        ASSERT_CONTAINS(x.answer, "\"type\":\"urn:queryd:problem:too-many-requests\"");
        ASSERT_CONTAINS(x.answer, "\"title\":\"Too Many Requests\"");
        ASSERT_CONTAINS(x.answer, "\"status\":429");
        ASSERT_CONTAINS(x.answer, "Access-Control-Expose-Headers: X-Request-Id, Retry-After, "
                                  "RateLimit, RateLimit-Policy, WWW-Authenticate, "
                                  "Queryd-Position\r\n");
}

static void test_allowed_request_sees_its_budget(void)
{
        exchange_t x = { .path = "/allowed" };

        run_exchange(&x);
        ASSERT_CONTAINS(x.answer, "HTTP/1.1 200");
        ASSERT_CONTAINS(x.answer, "RateLimit: \"default\";r=41;t=2\r\n");
        ASSERT_CONTAINS(x.answer, "RateLimit-Policy: \"default\";q=100;w=2\r\n");
        ASSERT_NOT_CONTAINS(x.answer, "\r\nRetry-After:");
}

/* The 429 above is counted under its own status, not "other". */
static void test_metrics_count_429(void)
{
        strbuf_t out = { 0 };
        db_pool_stats_t pool = { 0 };

        metrics_render(&out, &pool);
        ASSERT_CONTAINS(out.data, "status=\"429\"} 1\n");
        ASSERT_NOT_CONTAINS(out.data, "status=\"other\"");
        strbuf_done(&out);
}

int main(void)
{
        http_options_t options = {
                .listen_host = "127.0.0.1",
                .max_connections = 16,
                .idle_timeout_ms = 5000,
                .header_timeout_ms = 5000,
                .default_deadline_ms = MAX_WAIT_MS,
                .cors_origins = "*",
        };

        uv_loop_init(&fx.loop);
        fx.port = options.listen_port = free_port();
        if (http_server_new(&fx.server, &fx.loop, &options, dispatch, NULL) != 0) {
                fprintf(stderr, "cannot start the server\n");
                return 1;
        }
        RUN_TEST(test_refusal);
        RUN_TEST(test_allowed_request_sees_its_budget);
        http_server_stop(fx.server, 1000, stopped_cb, NULL);
        uv_run(&fx.loop, UV_RUN_DEFAULT);
        http_server_free(fx.server);
        RUN_TEST(test_metrics_count_429);
        if (!fx.stopped || uv_loop_close(&fx.loop) != 0 || scope_live_count() != 0) {
                fprintf(stderr, "the server did not close cleanly\n");
                return 1;
        }
        return test_report();
}
