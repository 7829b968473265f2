/*
 * Unit tests for the answers to refused writes, on a real HTTP server on a
 * libuv loop spoken to over loopback by a client thread: each MariaDB
 * refusal a client's data can cause gets its status and type, a value's
 * column is read from the server's message whatever the value quoted before
 * it holds, and nothing of the message (another row's key, the value) leaks
 * into the detail.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "request/answer.h"
#include "test.h"

enum { MAX_WAIT_MS = 10000 };

static struct {
        uv_loop_t loop;
        http_server_t *server;
        uint16_t port;
        bool stopped;
} fx;

/* The refusal each path answers with. */
static const struct {
        const char *path;
        db_error_t error;
} refusals[] = {
        { "/duplicate", { 1062, "23000", "Duplicate entry 'secret@example.com' for key 'email'" } },
        { "/parent", { 1451, "23000", "Cannot delete or update a parent row: a foreign key "
                                      "constraint fails" } },
        { "/child", { 1452, "23000", "Cannot add or update a child row: a foreign key "
                                     "constraint fails" } },
        { "/check", { 4025, "23000", "CONSTRAINT `price_positive` failed for `shop`.`items`" } },
        { "/deadlock", { 1213, "40001", "Deadlock found when trying to get lock; try "
                                        "restarting transaction" } },
        { "/lock-wait", { 1205, "HY000", "Lock wait timeout exceeded; try restarting "
                                         "transaction" } },
        { "/null", { 1048, "23000", "Column 'email' cannot be null" } },
        { "/range", { 1264, "22003", "Out of range value for column 'age' at row 12" } },
        { "/long", { 1406, "22001", "Data too long for column 'name' at row 1" } },
        { "/integer", { 1366, "22007", "Incorrect integer value: 'x for column `a`.`b`.`c` "
                                       "at row 1' for column `shop`.`items`.`qty` at row 3" } },
        { "/date", { 1292, "22007", "Incorrect date value: '2024-13-01' for column "
                                    "`shop`.`items`.`odd``name` at row 1" } },
        { "/default", { 1364, "HY000", "Field 'sku' doesn't have a default value" } },
        { "/truncated", { 1265, "01000", "Data truncated for column 'kind' at row 1" } },
        { "/unnamed", { 1366, "22007", "Incorrect value, cut short" } },
        { "/grant", { 1142, "42000", "INSERT command denied to user 'app'@'host' for table "
                                     "`shop`.`items`" } },
        { "/other", { 1146, "42S02", "Table 'shop.gone' doesn't exist" } },
};

static void answer_cb(http_request_t *req, void *data)
{
        (void)data;
        for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
                if (strcmp(req->path, refusals[i].path) == 0) {
                        answer_write_error(req, &refusals[i].error);
                        return;
                }
        }
        http_fail(req, 404, "not-found", "no such refusal");
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
                                 "GET %s HTTP/1.1\r\nHost: t\r\n"
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

/* The answer to path, which must have status and type slug. */
static void expect(exchange_t *x, const char *path, const char *status, const char *slug)
{
        char type[96];

        memset(x, 0, sizeof(*x));
        x->path = path;
        run_exchange(x);
        ASSERT_CONTAINS(x->answer, status);
        snprintf(type, sizeof(type), "\"type\":\"urn:queryd:problem:%s\"", slug);
        ASSERT_CONTAINS(x->answer, type);
        ASSERT_CONTAINS(x->answer, "\"errno\":");
}

static void test_conflicts(void)
{
        static exchange_t x;

        expect(&x, "/duplicate", "HTTP/1.1 409", "conflict");
        ASSERT_CONTAINS(x.answer, "a row with this key already exists");
        ASSERT_CONTAINS(x.answer, "\"title\":\"Conflict\"");
        ASSERT_NOT_CONTAINS(x.answer, "secret@example.com");
        expect(&x, "/parent", "HTTP/1.1 409", "conflict");
        expect(&x, "/child", "HTTP/1.1 409", "conflict");
}

static void test_constraint_violation(void)
{
        static exchange_t x;

        expect(&x, "/check", "HTTP/1.1 422", "constraint-violation");
        ASSERT_CONTAINS(x.answer, "check constraint");
}

static void test_busy_asks_to_retry(void)
{
        static exchange_t x;

        expect(&x, "/deadlock", "HTTP/1.1 503", "busy");
        ASSERT_CONTAINS(x.answer, "Retry-After: 1\r\n");
        expect(&x, "/lock-wait", "HTTP/1.1 503", "busy");
        ASSERT_CONTAINS(x.answer, "Retry-After: 1\r\n");
}

static void test_values_name_their_column(void)
{
        static exchange_t x;

        expect(&x, "/null", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column email cannot be null");
        expect(&x, "/range", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column age is out of range");
        expect(&x, "/long", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column name is too long");
        expect(&x, "/integer", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column qty is not valid for its type");
        ASSERT_NOT_CONTAINS(x.answer, "`a`");
        expect(&x, "/date", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column odd`name is not a valid date or time");
        ASSERT_NOT_CONTAINS(x.answer, "2024-13-01");
        expect(&x, "/default", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column sku is missing and has no default");
        expect(&x, "/truncated", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "the value for column kind would be truncated");
        expect(&x, "/unnamed", "HTTP/1.1 400", "invalid-body");
        ASSERT_CONTAINS(x.answer, "\"detail\":\"a value is not valid for its type\"");
}

static void test_other_refusals_as_reads(void)
{
        static exchange_t x;

        expect(&x, "/grant", "HTTP/1.1 403", "forbidden");
        ASSERT_NOT_CONTAINS(x.answer, "items");
        expect(&x, "/other", "HTTP/1.1 500", "database-error");
}

int main(void)
{
        http_options_t options = {
                .listen_host = "127.0.0.1",
                .max_connections = 16,
                .idle_timeout_ms = 5000,
                .header_timeout_ms = 5000,
                .default_deadline_ms = MAX_WAIT_MS,
        };

        uv_loop_init(&fx.loop);
        fx.port = options.listen_port = free_port();
        if (http_server_new(&fx.server, &fx.loop, &options, dispatch, NULL) != 0) {
                fprintf(stderr, "cannot start the server\n");
                return 1;
        }
        RUN_TEST(test_conflicts);
        RUN_TEST(test_constraint_violation);
        RUN_TEST(test_busy_asks_to_retry);
        RUN_TEST(test_values_name_their_column);
        RUN_TEST(test_other_refusals_as_reads);
        http_server_stop(fx.server, 1000, stopped_cb, NULL);
        uv_run(&fx.loop, UV_RUN_DEFAULT);
        http_server_free(fx.server);
        if (!fx.stopped || uv_loop_close(&fx.loop) != 0 || scope_live_count() != 0) {
                fprintf(stderr, "the server did not close cleanly\n");
                return 1;
        }
        return test_report();
}
