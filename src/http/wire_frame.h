/*
 * Framing of HTTP/1.x requests as they arrive on a client connection, before
 * libmicrohttpd sees them: where each request head ends, whether it is
 * well-formed, and where its body ends (Content-Length or chunked), so that
 * pipelined requests are found. It knows nothing of sockets: it is given
 * bytes and says how many of them may be passed on.
 */
#ifndef QUERYD_WIRE_FRAME_H
#define QUERYD_WIRE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What passes must fit in libmicrohttpd's connection memory (64 KiB, see
 * http_server.c) with a record for every header line and query parameter
 * and the answer's own head: a head's cost is its bytes plus
 * WIRE_RECORD_COST per line and parameter, at most WIRE_HEAD_MAX.
 */
enum {
        WIRE_HEAD_MAX = 61 * 1024,   /* request line and headers, with their records; more: 431 */
        WIRE_TARGET_MAX = 60 * 1024 + 512, /* request target; longer: 414 */
        WIRE_HEADERS_MAX = 100,      /* header lines; more: 431 */
        WIRE_ARGS_MAX = 64,          /* query parameters; more: 400 (handlers take 32) */
        WIRE_RECORD_COST = 64,
        WIRE_TRAILER_MAX = 8 * 1024,
};

/** Why a request is refused; the connection closes after the answer. */
typedef struct wire_refusal {
        unsigned status;     /* 400, 414, 431, 501 or 505 */
        const char *slug;    /* problem type (problem.h) */
        const char *detail;  /* static text */
        char method[24];     /* what could be read of the request, printable ASCII, for the log */
        char path[256];
} wire_refusal_t;

typedef struct wire_frame {
        int state;
        size_t head_scanned;  /* bytes of an incomplete head already searched for its end */
        uint64_t remaining;   /* body bytes (Content-Length) or chunk bytes still to come */
        unsigned chunk_digits;
        size_t trailer_bytes;
        unsigned requests;    /* request heads framed so far */
        bool http10;          /* the last head said HTTP/1.0 */
        wire_refusal_t refusal;
} wire_frame_t;

/** A framer at the start of a connection. */
void wire_frame_init(wire_frame_t *f);

/**
 * Frames buf[0..*len). buf starts where the previous call's ready bytes
 * ended (the start of a head that was incomplete then, or anything after
 * the bytes it passed), and holds at most WIRE_HEAD_MAX bytes of an
 * incomplete head. Heads may be rewritten in place, shorter (the absolute
 * form's scheme and authority go, a needless Expect goes): *len then shrinks.
 * Sets *ret_ready to the count of leading bytes that may be passed on.
 * Returns 0, or -EPROTO when a request is refused (f->refusal says why; the
 * bytes before it are still ready, nothing after it is).
 */
int wire_frame_scan(wire_frame_t *f, char *buf, size_t *len, size_t *ret_ready);

/** Whether the framer is between bodies: no request body is half-way through. */
bool wire_frame_between(const wire_frame_t *f);

#endif
