/*
 * The wire gate (wire_gate.h). Each client connection is two sockets: the
 * client's, and the gate's end of a socketpair whose other end belongs to
 * libmicrohttpd. Bytes go up only once framed (whole heads, then body bytes
 * as they come) and come down as they are; each direction has one buffer,
 * read into once and written from once, and stops reading while its buffer
 * waits to be written: backpressure both ways, and no copy but the kernel's.
 */
#include "http/wire_gate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/metrics.h"
#include "http/access_log.h"
#include "http/http_private.h"
#include "http/problem.h"
#include "http/wire_frame.h"

enum {
        LISTEN_BACKLOG = 1024,
        UP_BYTES = WIRE_HEAD_MAX,   /* an incomplete head must fit whole */
        DOWN_BYTES = 32 * 1024,     /* a daemon block (STREAM_BLOCK_BYTES) at a time */
        OWN_ANSWER_BYTES = 1024,    /* kept free in the down buffer for the gate's own answer */
        LINGER_MS = 2000,           /* reading what a refused client still sends, at most */
        LINGER_BYTES = 1024 * 1024, /* and this much of it */
        CLOSE_GRACE_MS = 2000,      /* passing on the stopped daemon's last answers, at most */
};

/*
 * Asked of a half-closed HTTP/1.1 client whose answer waits: every HTTP/1.1
 * client must accept an interim answer (RFC 9110 section 15.2). A client
 * that only half-closed reads it and then its answer; one that closed
 * outright answers it with a reset, and its request is given up.
 */
static const char still_there[] = "HTTP/1.1 100 Continue\r\n\r\n";

typedef struct gate_conn {
        list_node_t node;             /* in the gate's list */
        wire_gate_t *gate;
        int client_fd, pair_fd, daemon_fd;
        uv_poll_t client_poll, pair_poll;
        uv_timer_t linger_timer;      /* initialized only when lingering */
        int client_events, pair_events;
        int open_handles;
        struct sockaddr_storage client_addr;
        wire_frame_t frame;
        unsigned completed;           /* requests the daemon finished */
        size_t up_len, up_ready, up_sent;
        size_t down_len, down_sent;
        bool client_eof;              /* the client half-closed (or closed: see still_there) */
        bool refusing;                /* a request is refused: answer it once the daemon is done */
        bool pair_shut;               /* the daemon was told no more requests come */
        bool pair_eof;                /* the daemon closed its end */
        bool waiting;                 /* the daemon's request waits with nothing sent */
        bool probed;
        bool refused;                 /* the gate's own answer went out: linger before closing */
        bool discard_up;              /* the daemon stopped reading (it answered early and closed) */
        size_t lingered;              /* bytes read and thrown away while lingering */
        bool lingering;
        bool closed;
        char up[UP_BYTES];
        char down[DOWN_BYTES];
} gate_conn_t;

struct wire_gate {
        http_server_t *server;
        uv_poll_t listen_poll;
        int listen_fd;
        bool listen_open;             /* the listening poll handle has not closed */
        bool listening;               /* the poll is running */
        bool stopped;                 /* no more accepting, ever */
        bool closing;
        uv_timer_t grace;             /* while closing: ends the connections still passing on */
        bool grace_open;
        unsigned connections;         /* open, counted against the limit */
        unsigned live;                /* not yet freed: their handles may still be closing */
        list_node_t conns;
        gate_conn_t **by_daemon_fd;   /* the connection of each daemon-side fd */
        size_t by_daemon_fd_size;
};

static void update_polls(gate_conn_t *c);
static void flush_down(gate_conn_t *c);
static void grace_closed_cb(uv_handle_t *handle);
static void maybe_free_gate(wire_gate_t *g);
static void resume_listening(wire_gate_t *g);

static unsigned outstanding(const gate_conn_t *c)
{
        return c->frame.requests > c->completed ? c->frame.requests - c->completed : 0;
}

static gate_conn_t *by_daemon_fd(wire_gate_t *g, int fd)
{
        return fd >= 0 && (size_t)fd < g->by_daemon_fd_size ? g->by_daemon_fd[fd] : NULL;
}

static int remember_daemon_fd(wire_gate_t *g, int fd, gate_conn_t *c)
{
        if ((size_t)fd >= g->by_daemon_fd_size) {
                size_t size = g->by_daemon_fd_size ? g->by_daemon_fd_size : 64;
                while (size <= (size_t)fd)
                        size *= 2;
                gate_conn_t **grown = realloc(g->by_daemon_fd, size * sizeof(*grown));
                if (grown == NULL)
                        return -ENOMEM;
                memset(grown + g->by_daemon_fd_size, 0,
                       (size - g->by_daemon_fd_size) * sizeof(*grown));
                g->by_daemon_fd = grown;
                g->by_daemon_fd_size = size;
        }
        g->by_daemon_fd[fd] = c;
        return 0;
}

/* ---- closing ---- */

static void grace_closed_cb(uv_handle_t *handle)
{
        wire_gate_t *g = handle->data;

        g->grace_open = false;
        maybe_free_gate(g);
}

static void conn_closed_cb(uv_handle_t *handle)
{
        gate_conn_t *c = handle->data;
        wire_gate_t *g = c->gate;

        if (--c->open_handles > 0)
                return;
        free(c);
        g->live--;
        maybe_free_gate(g);
}

/* Ends both sides at once. The daemon sees its end close: a suspended
 * request's client watch fires, anything else ends. */
static void close_conn(gate_conn_t *c)
{
        wire_gate_t *g = c->gate;

        if (c->closed)
                return;
        c->closed = true;
        uv_close((uv_handle_t *)&c->client_poll, conn_closed_cb);
        uv_close((uv_handle_t *)&c->pair_poll, conn_closed_cb);
        if (c->lingering)
                uv_close((uv_handle_t *)&c->linger_timer, conn_closed_cb);
        close(c->client_fd);
        close(c->pair_fd);
        if (by_daemon_fd(g, c->daemon_fd) == c)
                g->by_daemon_fd[c->daemon_fd] = NULL;
        list_remove(&c->node);
        g->connections--;
        resume_listening(g);
        if (g->closing && g->grace_open && list_is_empty(&g->conns) &&
            !uv_is_closing((uv_handle_t *)&g->grace))
                uv_close((uv_handle_t *)&g->grace, grace_closed_cb);
}

/* ---- the gate's own answers ---- */

static void linger_cb(uv_timer_t *timer)
{
        close_conn(timer->data);
}

/*
 * A refused client may still be sending (a head too large to read): closing
 * with its bytes unread would reset the connection, and the client could
 * lose the answer before reading it. So the gate stops writing and reads
 * what comes, for a while, before it closes (as RFC 9112 section 9.6 asks).
 */
static void linger(gate_conn_t *c)
{
        shutdown(c->client_fd, SHUT_WR);
        c->lingering = true;
        uv_timer_init(c->gate->server->loop, &c->linger_timer);
        c->linger_timer.data = c;
        c->open_handles++;
        uv_timer_start(&c->linger_timer, linger_cb, LINGER_MS, 0);
}

static void linger_read(gate_conn_t *c)
{
        ssize_t n = recv(c->client_fd, c->up, UP_BYTES, 0);

        c->lingered += n > 0 ? (size_t)n : 0;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c->lingered > LINGER_BYTES)
                close_conn(c);
}

static const char *reason_of(unsigned status)
{
        switch (status) {
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 501: return "Not Implemented";
        case 505: return "HTTP Version Not Supported";
        default: return "Bad Request";
        }
}

static void log_refusal(gate_conn_t *c, const char *id, size_t bytes)
{
        const wire_refusal_t *r = &c->frame.refusal;
        char client[INET6_ADDRSTRLEN] = "";
        const struct sockaddr_storage *a = &c->client_addr;

        metrics_record_request(METRICS_UNMATCHED_ROUTE, r->status, 0, bytes);
        if (!c->gate->server->options.access_log)
                return;
        if (a->ss_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, client, sizeof(client));
        else if (a->ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, client,
                          sizeof(client));
        access_log_write(&(access_log_entry_t){
                .request_id = id,
                .method = r->method,
                .path = r->path,
                .client = client[0] ? client : NULL,
                .status = r->status,
                .bytes = bytes,
                .outcome = "completed",
        });
}

/* The refusal, after the last answer the daemon wrote. */
static void append_refusal(gate_conn_t *c)
{
        const wire_refusal_t *r = &c->frame.refusal;
        http_server_t *s = c->gate->server;
        char id[24];

        snprintf(id, sizeof(id), "%08x%08x", s->id_prefix, (unsigned)++s->id_counter);
        json_t *doc = problem_new(r->status, r->slug, r->detail, id);
        char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        size_t room = DOWN_BYTES - c->down_len;
        int n = body == NULL ? -1 :
                snprintf(c->down + c->down_len, room,
                         "HTTP/1.1 %u %s\r\nContent-Type: application/problem+json\r\n"
                         "Content-Length: %zu\r\nX-Request-Id: %s\r\nConnection: close\r\n\r\n%s",
                         r->status, reason_of(r->status), strlen(body), id, body);
        free(body);
        if (n > 0 && (size_t)n < room) {
                c->down_len += (size_t)n;
                c->refused = true;
                log_refusal(c, id, (size_t)n);
        }
}

/* ---- daemon to client ---- */

static void pair_ended(gate_conn_t *c)
{
        c->pair_eof = true;
        if (c->refusing)
                append_refusal(c);
        c->refusing = false;
        flush_down(c);
}

/* A half-closed client whose answer waits is asked whether it is still
 * there, once the daemon's earlier answers are out of the way. */
static void maybe_probe(gate_conn_t *c)
{
        int unread = 0;

        if (!c->client_eof || !c->waiting || c->probed || c->closed)
                return;
        if (c->frame.http10) { /* no interim answers in HTTP/1.0: take it as gone */
                close_conn(c);
                return;
        }
        if (c->down_len > 0 || ioctl(c->pair_fd, FIONREAD, &unread) < 0 || unread > 0)
                return; /* again once the down buffer is empty */
        memcpy(c->down, still_there, sizeof(still_there) - 1);
        c->down_len = sizeof(still_there) - 1;
        c->probed = true;
        flush_down(c);
}

static void flush_down(gate_conn_t *c)
{
        if (c->closed)
                return;
        if (c->down_sent < c->down_len) {
                ssize_t n = send(c->client_fd, c->down + c->down_sent, c->down_len - c->down_sent,
                                 MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        close_conn(c); /* the client is gone */
                        return;
                }
                c->down_sent += n > 0 ? (size_t)n : 0;
        }
        if (c->down_sent < c->down_len)
                return;
        c->down_len = c->down_sent = 0;
        if (c->pair_eof && c->refused && !c->client_eof && !c->lingering)
                linger(c);
        else if (c->pair_eof && !c->lingering)
                close_conn(c);
        else
                maybe_probe(c);
}

static void pair_read(gate_conn_t *c)
{
        ssize_t n = recv(c->pair_fd, c->down + c->down_len,
                         DOWN_BYTES - OWN_ANSWER_BYTES - c->down_len, 0);

        if (n > 0) {
                c->down_len += (size_t)n;
                c->waiting = false;
                flush_down(c);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                pair_ended(c);
        }
}

/* ---- client to daemon ---- */

/* Once nothing more will go up and every request sent up is answered, the
 * daemon is told: it closes its end between requests, which is how the gate
 * learns that the last answer is all in. */
static void maybe_wind_down(gate_conn_t *c)
{
        if (c->closed || c->pair_shut || !(c->refusing || c->client_eof) ||
            c->up_sent < c->up_ready || outstanding(c) > 0)
                return;
        c->pair_shut = true;
        shutdown(c->pair_fd, SHUT_WR);
}

static void flush_up(gate_conn_t *c)
{
        if (c->up_sent < c->up_ready) {
                ssize_t n = send(c->pair_fd, c->up + c->up_sent, c->up_ready - c->up_sent,
                                 MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        /* Its answer (a 413 at the head) may still be unread:
                         * the pair is read to its end all the same. */
                        c->discard_up = true;
                        c->up_len = c->up_ready = c->up_sent = 0;
                        return;
                }
                c->up_sent += n > 0 ? (size_t)n : 0;
        }
        if (c->up_sent < c->up_ready)
                return;
        /* What is left is the start of a head: it moves to the front. */
        memmove(c->up, c->up + c->up_ready, c->up_len - c->up_ready);
        c->up_len -= c->up_ready;
        c->up_ready = c->up_sent = 0;
        maybe_wind_down(c);
}

static void start_refusal(gate_conn_t *c)
{
        if (!wire_frame_between(&c->frame)) {
                close_conn(c); /* a body's framing broke half-way: no answer can follow */
                return;
        }
        c->refusing = true;
        c->up_len = c->up_ready; /* nothing after the refused head is read */
}

static void client_ended(gate_conn_t *c)
{
        if (c->up_len > 0 || !wire_frame_between(&c->frame)) {
                close_conn(c); /* it left half-way through a request */
                return;
        }
        c->client_eof = true;
        maybe_wind_down(c);
        maybe_probe(c);
}

static void client_read(gate_conn_t *c)
{
        ssize_t n = recv(c->client_fd, c->up + c->up_len, UP_BYTES - c->up_len, 0);

        if (n == 0) {
                client_ended(c);
                return;
        }
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        close_conn(c);
                return;
        }
        size_t len = c->up_len + (size_t)n, ready;
        int r = wire_frame_scan(&c->frame, c->up, &len, &ready);
        c->up_len = len;
        c->up_ready = ready;
        if (r < 0)
                start_refusal(c);
        if (c->closed)
                return;
        flush_up(c);
        if (ready == 0 || c->closed)
                return;
        /* The daemon takes the request now rather than on the next loop turn,
         * and an answer it gives at once goes out in this same turn. */
        http_run_daemon(c->gate->server);
        if (!c->closed && !c->pair_eof && c->down_len == 0)
                pair_read(c);
}

/* ---- polling ---- */

static void set_events(uv_poll_t *poll, int *current, int events, uv_poll_cb cb)
{
        if (events == *current)
                return;
        *current = events;
        if (events == 0)
                uv_poll_stop(poll);
        else
                uv_poll_start(poll, events, cb);
}

static void client_cb(uv_poll_t *poll, int status, int events)
{
        gate_conn_t *c = poll->data;

        /* After a half-close only an error or a hang-up is reported here. */
        if (status < 0 || (c->client_eof && (events & ~UV_WRITABLE))) {
                close_conn(c);
                return;
        }
        if (c->lingering) {
                linger_read(c);
                return;
        }
        if (events & UV_WRITABLE)
                flush_down(c);
        if ((events & UV_READABLE) && !c->closed)
                client_read(c);
        update_polls(c);
}

static void pair_cb(uv_poll_t *poll, int status, int events)
{
        gate_conn_t *c = poll->data;

        if (status < 0) {
                pair_ended(c);
        } else {
                if (events & UV_WRITABLE)
                        flush_up(c);
                if ((events & UV_READABLE) && !c->closed && !c->pair_eof)
                        pair_read(c);
        }
        update_polls(c);
}

static void update_polls(gate_conn_t *c)
{
        int client = 0, pair = 0;

        if (c->closed)
                return;
        if (c->lingering) {
                set_events(&c->client_poll, &c->client_events, UV_READABLE, client_cb);
                set_events(&c->pair_poll, &c->pair_events, 0, pair_cb);
                return;
        }
        if (c->down_sent < c->down_len)
                client |= UV_WRITABLE;
        if (c->client_eof)
                client |= UV_PRIORITIZED; /* nothing comes: errors and hang-ups still do */
        else if (!c->refusing && !c->discard_up && !c->pair_eof && c->up_ready == 0 &&
                 c->up_len < UP_BYTES)
                client |= UV_READABLE;
        if (!c->pair_eof && c->down_len == 0)
                pair |= UV_READABLE;
        if (!c->pair_eof && c->up_sent < c->up_ready)
                pair |= UV_WRITABLE;
        set_events(&c->client_poll, &c->client_events, client, client_cb);
        set_events(&c->pair_poll, &c->pair_events, pair, pair_cb);
}

/* ---- accepting ---- */

static void open_conn(wire_gate_t *g, int fd, const struct sockaddr_storage *addr, socklen_t len)
{
        int pair[2], one = 1;
        gate_conn_t *c = malloc(sizeof(*c));

        if (c == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
                free(c);
                close(fd);
                return;
        }
        memset(c, 0, offsetof(gate_conn_t, up));
        c->gate = g;
        c->client_fd = fd;
        c->pair_fd = pair[0];
        c->daemon_fd = pair[1];
        c->client_addr = *addr;
        wire_frame_init(&c->frame);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        uv_poll_init(g->server->loop, &c->client_poll, fd);
        uv_poll_init(g->server->loop, &c->pair_poll, pair[0]);
        c->client_poll.data = c->pair_poll.data = c;
        c->open_handles = 2;
        list_push_tail(&g->conns, &c->node);
        g->connections++;
        g->live++;
        if (remember_daemon_fd(g, pair[1], c) < 0) {
                close(pair[1]);
                close_conn(c);
                return;
        }
        /* The daemon owns its end from here, and closes it when it refuses
         * the connection (its per-address limit). */
        if (MHD_add_connection(g->server->daemon, pair[1], (const struct sockaddr *)addr, len) !=
            MHD_YES) {
                g->by_daemon_fd[pair[1]] = NULL;
                close_conn(c);
                return;
        }
        update_polls(c);
        http_kick(g->server);
}

static void listen_cb(uv_poll_t *poll, int status, int events)
{
        wire_gate_t *g = poll->data;

        (void)status;
        (void)events;
        while (g->connections < g->server->options.max_connections && !g->stopped) {
                struct sockaddr_storage addr;
                socklen_t len = sizeof(addr);
                int fd = accept4(g->listen_fd, (struct sockaddr *)&addr, &len,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                open_conn(g, fd, &addr, len);
        }
        /* At the limit, new clients wait in the backlog. */
        if (g->listening) {
                uv_poll_stop(&g->listen_poll);
                g->listening = false;
        }
}

static void resume_listening(wire_gate_t *g)
{
        if (g->listening || g->stopped || g->connections >= g->server->options.max_connections)
                return;
        g->listening = true;
        uv_poll_start(&g->listen_poll, UV_READABLE, listen_cb);
}

static int open_listener(const struct sockaddr *addr, socklen_t addrlen)
{
        int one = 1;
        int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
            (addr->sa_family == AF_INET6 &&
             setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
            bind(fd, addr, addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int wire_gate_new(wire_gate_t **ret_gate, http_server_t *server, const struct sockaddr *addr,
                  socklen_t addrlen)
{
        wire_gate_t *g = calloc(1, sizeof(*g));

        *ret_gate = NULL;
        if (g == NULL)
                return -ENOMEM;
        g->listen_fd = open_listener(addr, addrlen);
        if (g->listen_fd < 0) {
                int r = g->listen_fd;
                free(g);
                return r;
        }
        g->server = server;
        list_init(&g->conns);
        uv_poll_init(server->loop, &g->listen_poll, g->listen_fd);
        g->listen_poll.data = g;
        g->listen_open = true;
        resume_listening(g);
        *ret_gate = g;
        return 0;
}

/* ---- what the server tells the gate ---- */

void wire_gate_request_done(wire_gate_t *g, int daemon_fd)
{
        gate_conn_t *c = by_daemon_fd(g, daemon_fd);

        if (c == NULL)
                return;
        c->completed++;
        c->waiting = false;
        maybe_wind_down(c);
        update_polls(c);
}

void wire_gate_request_waiting(wire_gate_t *g, int daemon_fd)
{
        gate_conn_t *c = by_daemon_fd(g, daemon_fd);

        if (c == NULL)
                return;
        c->waiting = true;
        maybe_probe(c);
        update_polls(c);
}

static void listen_closed_cb(uv_handle_t *handle)
{
        wire_gate_t *g = handle->data;

        g->listen_open = false;
        maybe_free_gate(g);
}

void wire_gate_stop_listening(wire_gate_t *g)
{
        if (g->stopped)
                return;
        g->stopped = true;
        g->listening = false;
        uv_close((uv_handle_t *)&g->listen_poll, listen_closed_cb);
        close(g->listen_fd);
}

static void maybe_free_gate(wire_gate_t *g)
{
        if (!g->closing || g->listen_open || g->grace_open || g->live > 0)
                return;
        free(g->by_daemon_fd);
        free(g);
}

static void grace_cb(uv_timer_t *timer)
{
        wire_gate_t *g = timer->data;
        list_node_t *node;

        while ((node = list_first(&g->conns)) != NULL)
                close_conn(list_entry(node, gate_conn_t, node));
}

/* The daemon has closed its ends: each connection reads what is left, passes
 * it on and closes by itself, unless a slow client makes it wait too long. */
void wire_gate_close(wire_gate_t *g)
{
        wire_gate_stop_listening(g);
        g->closing = true;
        if (!list_is_empty(&g->conns)) {
                uv_timer_init(g->server->loop, &g->grace);
                g->grace.data = g;
                g->grace_open = true;
                uv_timer_start(&g->grace, grace_cb, CLOSE_GRACE_MS, 0);
        }
        maybe_free_gate(g);
}
