/*
 * Content codings for answers, inside src/http/: which one a request gets
 * (Accept-Encoding against QUERYD_COMPRESSION), whole bodies compressed
 * before they are sent, and stream sources wrapped so that their bytes are
 * compressed as libmicrohttpd asks for them.
 */
#ifndef QUERYD_HTTP_ENCODING_H
#define QUERYD_HTTP_ENCODING_H

#include "http/http.h"

/** Whole bodies shorter than this are sent as they are: the saving would not pay. */
enum { HTTP_ENCODING_MIN_BYTES = 1024 };

/**
 * Compresses a whole body answered with status when the request accepts a
 * coding and the body is long enough: *body and *len are replaced (the old
 * body is freed) and req->content_encoding names the coding. Sets
 * req->vary_encoding for every answer that could have been compressed. On
 * any failure the body is left as it was.
 */
void http_encoding_body(http_request_t *req, unsigned status, char **body, size_t *len);

/**
 * For a streamed answer with status: when the request accepts a coding,
 * *read and *data are replaced by a source that compresses what they
 * produce, flushing whenever they wait, and req->content_encoding names the
 * coding. Its state lives in the request's scope. On failure the stream goes
 * out as it is.
 */
void http_encoding_stream(http_request_t *req, unsigned status, http_stream_fn *read,
                          void **data);

#endif
