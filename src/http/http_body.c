/*
 * Request bodies: counted against QUERYD_MAX_BODY_BYTES, and either handed
 * to the handler that reads them, piece by piece as they arrive, or read and
 * thrown away before a handler that takes none runs.
 *
 * libmicrohttpd 0.9.75 queues an answer only before the body is read or
 * after all of it is, never in between. A body whose Content-Length is past
 * the limit is refused before it is read; a chunked one found past the limit
 * mid-way has its 413 sent once the rest is read, provided the rest is short
 * (LINGER_BYTES): a client that goes on sending has its connection closed.
 */
#include "http/http_private.h"

#include <errno.h>
#include <stdlib.h>

enum { LINGER_BYTES = 1024 * 1024 };

static void answer_too_large(http_request_t *req)
{
        http_fail(req, 413, "body-too-large", "the request body is larger than %u bytes",
                  req->server->options.max_body_bytes);
}

static bool is_past_limit(const http_request_t *req, uint64_t bytes)
{
        unsigned max = req->server->options.max_body_bytes;

        return max != 0 && bytes > max;
}

void http_body_check_length(http_request_t *req)
{
        const char *length = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

        if (length == NULL)
                return;
        /* libmicrohttpd has refused a Content-Length that is not a number. */
        errno = 0;
        unsigned long long declared = strtoull(length, NULL, 10);
        if (errno == ERANGE || is_past_limit(req, declared))
                answer_too_large(req);
}

/* The end of the body: the reader hears of it, or the handler that waited runs. */
static void end_body(http_request_t *req)
{
        if (req->body_ended)
                return;
        req->body_ended = true;
        if (req->answered)
                return;
        if (req->on_body != NULL)
                req->on_body(req, NULL, 0, req->body_data);
        else if (req->after_body != NULL)
                req->after_body(req, req->body_data);
}

static void deliver(http_request_t *req, const char *chunk, size_t len)
{
        req->body_delivering = true;
        req->body_resumed_early = false;
        int r = req->on_body(req, chunk, len, req->body_data);
        req->body_delivering = false;

        if (r == HTTP_BODY_STOP) {
                req->on_body = NULL; /* it has answered: the rest is thrown away */
        } else if (r == HTTP_BODY_PAUSE && !req->answered && !req->body_resumed_early) {
                /* A reader that answered meanwhile, or whose work finished
                 * before it returned, has nothing to wait for. */
                req->body_paused = true;
                http_request_suspend(req);
        }
}

bool http_body_take(http_request_t *req, const char *chunk, size_t len)
{
        if (len == 0) {
                end_body(req);
                return true;
        }
        req->body_bytes += len;
        if (is_past_limit(req, req->body_bytes)) {
                answer_too_large(req); /* dropped if it has answered before */
                return req->body_bytes - req->server->options.max_body_bytes <= LINGER_BYTES;
        }
        if (req->on_body != NULL && !req->answered)
                deliver(req, chunk, len);
        return true;
}

void http_after_body(http_request_t *req, http_continue_fn fn, void *data)
{
        req->on_body = NULL;
        req->after_body = fn;
        req->body_data = data;
}

void http_receive_body(http_request_t *req, http_body_fn on_body, void *data)
{
        req->after_body = NULL;
        req->on_body = on_body;
        req->body_data = data;
}

void http_body_resume(http_request_t *req)
{
        if (req->body_delivering)
                req->body_resumed_early = true; /* the pause it returns is void */
        if (!req->body_paused)
                return;
        req->body_paused = false;
        http_request_resume(req);
}
