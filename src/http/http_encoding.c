/*
 * The request's content coding, and the compressing stream source: it reads
 * from the real source only when libmicrohttpd asks for bytes, so a slow
 * client still holds the rows back, and it holds one input block and one
 * compressor per connection.
 */
#include "http/http_encoding.h"

#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "http/accept_encoding.h"
#include "http/compress.h"
#include "http/http_private.h"

/* The input taken from the source at a time; a compressor's output goes straight out. */
enum { ENCODE_BLOCK_BYTES = 32 * 1024 };

/* Only answers that carry a representation are compressed: not errors, not 204. */
static bool may_compress(const http_request_t *req, unsigned status)
{
        return req->server->options.coding_count > 0 && status >= 200 && status < 300 &&
               status != 204;
}

/* The configured coding the client prefers, or NULL for none. */
static const config_coding_t *choose(http_request_t *req, unsigned status)
{
        const http_options_t *o = &req->server->options;
        const char *names[CONFIG_MAX_CODINGS];

        if (!may_compress(req, status))
                return NULL;
        req->vary_encoding = true;
        for (unsigned i = 0; i < o->coding_count; i++)
                names[i] = o->codings[i].name;
        int i = accept_encoding_choose(http_header(req, "Accept-Encoding"), names,
                                       o->coding_count);
        return i == ACCEPT_ENCODING_IDENTITY ? NULL : &o->codings[i];
}

void http_encoding_body(http_request_t *req, unsigned status, char **body, size_t *len)
{
        const config_coding_t *coding = choose(req, status);
        compress_coding_t which;
        char *out;
        size_t out_len;

        if (coding == NULL || *len < HTTP_ENCODING_MIN_BYTES ||
            compress_coding_of(coding->name, &which) < 0 ||
            compress_buffer(which, coding->level, *body, *len, &out, &out_len) < 0)
                return;
        if (out_len >= *len) { /* incompressible: the body goes as it is */
                free(out);
                return;
        }
        metrics_count_compressed(coding->name, *len, out_len);
        free(*body);
        *body = out;
        *len = out_len;
        req->content_encoding = coding->name;
}

/* A compressing source in front of the real one. */
typedef struct encoder {
        const char *coding;        /* its name, for the metrics */
        http_stream_fn read;
        void *data;
        compress_stream_t *z;
        size_t in_start, in_end;   /* the input not yet compressed */
        bool dirty;                /* input went in since the last flush */
        bool flushing;             /* the source waits: emitting what was taken */
        bool source_ended;
        char in[ENCODE_BLOCK_BYTES];
} encoder_t;

static void free_encoder(void *arg)
{
        encoder_t *e = arg;

        compress_stream_free(e->z);
        e->z = NULL;
}

/* Tops the input up from the source; returns a HTTP_STREAM_* code to pass on, or 1. */
static long refill(http_request_t *req, encoder_t *e)
{
        if (e->in_start < e->in_end || e->source_ended || e->flushing)
                return 1;
        long n = e->read(req, e->in, sizeof(e->in), e->data);
        if (n > 0) {
                e->in_start = 0;
                e->in_end = (size_t)n;
                e->dirty = true;
        } else if (n == HTTP_STREAM_END) {
                e->source_ended = true;
        } else if (n == HTTP_STREAM_WAIT) {
                if (!e->dirty)
                        return HTTP_STREAM_WAIT; /* all sent already: nothing to flush */
                e->flushing = true;
        } else {
                return HTTP_STREAM_FAILED;
        }
        return 1;
}

static long encode_cb(http_request_t *req, char *buf, size_t max, void *data)
{
        encoder_t *e = data;

        for (;;) {
                long r = refill(req, e);
                if (r != 1)
                        return r;
                compress_mode_t mode = e->source_ended ? COMPRESS_END
                                       : e->flushing   ? COMPRESS_FLUSH
                                                       : COMPRESS_MORE;
                size_t used;
                bool done;
                long n = compress_stream_run(e->z, e->in + e->in_start, e->in_end - e->in_start,
                                             &used, buf, max, mode, &done);
                if (n < 0)
                        return HTTP_STREAM_FAILED;
                metrics_count_compressed(e->coding, used, (size_t)n);
                e->in_start += used;
                if (done && mode == COMPRESS_FLUSH)
                        e->flushing = e->dirty = false;
                if (n > 0)
                        return n;
                if (done && mode == COMPRESS_END)
                        return HTTP_STREAM_END;
                if (done && mode == COMPRESS_FLUSH)
                        return HTTP_STREAM_WAIT;
                if (!done && used == 0) /* no progress with room to write: a library fault */
                        return HTTP_STREAM_FAILED;
        }
}

void http_encoding_stream(http_request_t *req, unsigned status, http_stream_fn *read,
                          void **data)
{
        const config_coding_t *coding = choose(req, status);
        compress_coding_t which;
        encoder_t *e;

        if (coding == NULL || compress_coding_of(coding->name, &which) < 0 ||
            (e = scope_alloc(req->scope, sizeof(*e))) == NULL ||
            compress_stream_new(&e->z, which, coding->level) < 0)
                return;
        if (scope_defer(req->scope, free_encoder, e, NULL) < 0) {
                free_encoder(e);
                return;
        }
        e->coding = coding->name;
        e->read = *read;
        e->data = *data;
        *read = encode_cb;
        *data = e;
        req->content_encoding = coding->name;
}
