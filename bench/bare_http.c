/*
 * The HTTP ceiling for the benchmark: libmicrohttpd in its simplest fast
 * setup (internal polling threads on epoll, one per worker) answering every
 * request with the same fixed JSON body of about the size of one user row.
 * No database, no routing, no JSON work: only what HTTP itself costs.
 *
 * usage: bare_http [--listen 127.0.0.1:PORT] [--threads N]
 * Logs "listening on http://HOST:PORT" on stderr; SIGTERM/SIGINT stop it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Shaped like GET /users/{id} of a generated row (about 400 bytes). */
static const char BODY[] =
        "{\"id\":4242,\"name\":\"Zoë Straße 🚀\",\"email\":\"user4242@example.com\","
        "\"age\":55,\"balance\":\"-6617.18\",\"active\":1,\"created_at\":\"2031-08-17T02:27:26\","
        "\"bio\":\"Bio #4242: Says \\\"hello\\\" and 'bye'.\",\"visits\":694,"
        "\"score\":606.0,\"birthday\":\"1995-03-09\",\"last_login\":\"2024-06-05T08:34:26.566+00:00\","
        "\"avatar\":\"2Dw0SuoiPw==\",\"prefs\":{\"theme\":\"dark\",\"page_size\":30,"
        "\"langs\":[\"de\"],\"note\":\"quote \\\" inside\"}}";

static struct MHD_Response *response;

static enum MHD_Result answer_cb(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
        static int seen;

        (void)cls;
        (void)url;
        (void)method;
        (void)version;
        (void)upload_data;
        /* Answer on the second call, as libmicrohttpd's examples do: the first
         * only announces the request head. */
        if (*req_cls == NULL) {
                *req_cls = &seen;
                return MHD_YES;
        }
        *upload_data_size = 0;
        return MHD_queue_response(connection, MHD_HTTP_OK, response);
}

static int parse_listen(const char *text, struct sockaddr_in *addr)
{
        char host[64];
        const char *colon = strrchr(text, ':');
        char *end;

        if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
                return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        long port = strtol(colon + 1, &end, 10);
        if (*end != '\0' || port < 1 || port > 65535)
                return -1;
        memset(addr, 0, sizeof(*addr));
        addr->sin_family = AF_INET;
        addr->sin_port = htons((uint16_t)port);
        return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
        const char *listen = "127.0.0.1:8081";
        unsigned threads = 2;
        struct sockaddr_in addr;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--listen") == 0)
                        listen = argv[i + 1];
                else if (strcmp(argv[i], "--threads") == 0)
                        threads = (unsigned)strtoul(argv[i + 1], NULL, 10);
                else
                        break;
        }
        if (argc % 2 == 0 || parse_listen(listen, &addr) < 0 || threads < 1 || threads > 256) {
                fprintf(stderr, "usage: bare_http [--listen 127.0.0.1:PORT] [--threads N]\n");
                return 2;
        }

        /* The signals are taken with sigwait, so every thread must block them. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);

        response = MHD_create_response_from_buffer(sizeof(BODY) - 1, (void *)BODY,
                                                   MHD_RESPMEM_PERSISTENT);
        if (response == NULL ||
            MHD_add_response_header(response, "Content-Type", "application/json") != MHD_YES)
                return 1;
        struct MHD_Daemon *daemon = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                ntohs(addr.sin_port), NULL, NULL, answer_cb, NULL,
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                MHD_OPTION_THREAD_POOL_SIZE, threads,
                MHD_OPTION_CONNECTION_LIMIT, 10000u,
                MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                MHD_OPTION_END);
        if (daemon == NULL) {
                fprintf(stderr, "bare_http: cannot listen on %s\n", listen);
                return 1;
        }
        fprintf(stderr, "bare_http: %zu-byte body, %u threads, listening on http://%s\n",
                sizeof(BODY) - 1, threads, listen);

        int sig;
        while (sigwait(&stop, &sig) != 0)
                ;
        MHD_stop_daemon(daemon);
        MHD_destroy_response(response);
        return 0;
}
