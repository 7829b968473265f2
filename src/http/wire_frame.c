/*
 * HTTP/1.x request framing (RFC 9112) for the wire gate: a head is checked
 * whole once its empty line is in, a body is followed byte by byte only as
 * far as its framing needs. libmicrohttpd 0.9.75 reads C strings (a NUL
 * truncates), answers its own errors in HTML and keeps serving after a
 * request it cannot frame safely, so everything it would get wrong is
 * refused here first.
 */
#include "http/wire_frame.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
        HEAD,           /* waiting for (the rest of) a request head */
        BODY,           /* Content-Length bytes */
        CHUNK_SIZE,     /* hex digits of a chunk size */
        CHUNK_EXT,      /* a chunk extension, up to the end of its line */
        CHUNK_SIZE_LF,  /* the LF after a chunk size line's CR */
        CHUNK_DATA,
        CHUNK_DATA_CR,  /* the CRLF after a chunk's data */
        CHUNK_DATA_LF,
        TRAILER_START,  /* a trailer line, or the empty line that ends the body */
        TRAILER_LINE,
        TRAILER_END_LF,
};

/* What one head says about its body and its Host, gathered line by line. */
typedef struct head_facts {
        unsigned hosts;
        unsigned lengths;
        uint64_t length;
        bool has_te;
        bool chunked;
        size_t expect_at, expect_end; /* the Expect: 100-continue line, if any */
} head_facts_t;

void wire_frame_init(wire_frame_t *f)
{
        memset(f, 0, sizeof(*f));
        f->state = HEAD;
}

bool wire_frame_between(const wire_frame_t *f)
{
        return f->state == HEAD;
}

static int refuse(wire_frame_t *f, unsigned status, const char *slug, const char *detail)
{
        f->refusal.status = status;
        f->refusal.slug = slug;
        f->refusal.detail = detail;
        return -EPROTO;
}

static int bad(wire_frame_t *f, const char *detail)
{
        return refuse(f, 400, "bad-request", detail);
}

/* Copies request text for the log: printable ASCII only, so the log stays
 * valid JSON whatever the client sent. */
static void copy_printable(char *dst, size_t size, const char *src, size_t len)
{
        size_t n = len < size - 1 ? len : size - 1;

        for (size_t i = 0; i < n; i++)
                dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
        dst[n] = '\0';
}

static bool is_tchar(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool all_tchars(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (!is_tchar((unsigned char)s[i]))
                        return false;
        return len > 0;
}

/* The end of line content starting at p before limit (a CR before the LF is
 * not content); *ret_next is the byte after the LF. */
static size_t line_end(const char *buf, size_t p, size_t limit, size_t *ret_next)
{
        const char *nl = memchr(buf + p, '\n', limit - p);
        size_t q = (size_t)(nl - buf);

        *ret_next = q + 1;
        return (q > p && buf[q - 1] == '\r') ? q - 1 : q;
}

static void drop(char *buf, size_t *len, size_t from, size_t to)
{
        memmove(buf + from, buf + to, *len - to);
        *len -= to - from;
}

static unsigned count_args(const char *target, size_t len)
{
        const char *q = memchr(target, '?', len);
        unsigned n = 0;

        if (q == NULL || q + 1 == target + len)
                return 0;
        for (const char *p = q + 1; p < target + len; p++)
                n += *p == '&';
        return n + 1;
}

/*
 * The absolute form (http://host/path?q) is served as its origin form: the
 * scheme and authority go, in place. Returns the bytes removed.
 */
static size_t to_origin_form(char *buf, size_t *len, size_t t, size_t target_end)
{
        size_t scheme = strncasecmp(buf + t, "https://", 8) == 0 ? 8 : 7;
        size_t a = t + scheme;

        while (a < target_end && buf[a] != '/' && buf[a] != '?')
                a++;
        size_t start = a;
        if (a == target_end || buf[a] == '?') {
                start = a - 1; /* the authority is not empty: room for the path "/" */
                buf[start] = '/';
        }
        drop(buf, len, t, start);
        return start - t;
}

/* The request line [0, q): method, target, version. *ret_shift is how many
 * bytes a rewrite to the origin form took out of it. */
static int check_request_line(wire_frame_t *f, char *buf, size_t *len, size_t q, size_t *ret_shift)
{
        const char *sp1 = memchr(buf, ' ', q);

        *ret_shift = 0;
        copy_printable(f->refusal.method, sizeof(f->refusal.method), buf, sp1 ? (size_t)(sp1 - buf) : q);
        if (sp1 == NULL || !all_tchars(buf, (size_t)(sp1 - buf)))
                return bad(f, "the request line is malformed");
        size_t t = (size_t)(sp1 - buf) + 1;
        const char *sp2 = memchr(buf + t, ' ', q - t);
        size_t target_end = sp2 ? (size_t)(sp2 - buf) : q;
        copy_printable(f->refusal.path, sizeof(f->refusal.path), buf + t, target_end - t);
        if (sp2 == NULL || target_end == t)
                return bad(f, "the request line is malformed");
        if (target_end - t > WIRE_TARGET_MAX)
                return refuse(f, 414, "uri-too-long", "the request target is too long");
        for (size_t i = t; i < target_end; i++)
                if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] >= 0x7f)
                        return bad(f, "the request target holds a control byte, a space or a "
                                      "byte outside ASCII");
        const char *v = sp2 + 1;
        size_t vlen = q - (target_end + 1);
        if (vlen == 8 && (memcmp(v, "HTTP/1.1", 8) == 0 || memcmp(v, "HTTP/1.0", 8) == 0))
                f->http10 = v[7] == '0';
        else if (vlen == 8 && memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' &&
                 v[6] == '.' && v[7] >= '0' && v[7] <= '9')
                return refuse(f, 505, "http-version", "only HTTP/1.0 and HTTP/1.1 are served here");
        else
                return bad(f, "the request line is malformed");
        if (count_args(buf + t, target_end - t) > WIRE_ARGS_MAX)
                return refuse(f, 400, "invalid-parameter", "too many query parameters");
        if (buf[t] == '/')
                return 0;
        if (strncasecmp(buf + t, "http://", 7) != 0 && strncasecmp(buf + t, "https://", 8) != 0)
                return bad(f, "the request target must be a path or an absolute http URL");
        size_t scheme = buf[t + 4] == 's' || buf[t + 4] == 'S' ? 8 : 7;
        if (t + scheme == target_end || buf[t + scheme] == '/' || buf[t + scheme] == '?')
                return bad(f, "the request target's authority is empty");
        *ret_shift = to_origin_form(buf, len, t, target_end);
        return 0;
}

static bool value_is(const char *v, size_t len, const char *word)
{
        return len == strlen(word) && strncasecmp(v, word, len) == 0;
}

/* One header line [p, q): its bytes, and what it says about framing. */
static int check_header(wire_frame_t *f, const char *buf, size_t p, size_t q, head_facts_t *h)
{
        if (buf[p] == ' ' || buf[p] == '\t')
                return bad(f, "obsolete header line folding is not accepted");
        const char *colon = memchr(buf + p, ':', q - p);
        if (colon == NULL || !all_tchars(buf + p, (size_t)(colon - (buf + p))))
                return bad(f, "a header line is malformed");
        size_t name_len = (size_t)(colon - (buf + p));
        size_t v = (size_t)(colon - buf) + 1, e = q;
        for (size_t i = v; i < e; i++) {
                unsigned char c = (unsigned char)buf[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return bad(f, "a header value holds a control byte");
        }
        while (v < e && (buf[v] == ' ' || buf[v] == '\t'))
                v++;
        while (e > v && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
                e--;
        const char *name = buf + p, *value = buf + v;
        size_t vlen = e - v;
        if (value_is(name, name_len, "host")) {
                h->hosts++;
        } else if (value_is(name, name_len, "content-length")) {
                if (++h->lengths > 1)
                        return bad(f, "more than one Content-Length header");
                if (vlen == 0 || vlen > 18 || strspn(value, "0123456789") < vlen)
                        return bad(f, "the Content-Length header is not a number");
                for (size_t i = 0; i < vlen; i++)
                        h->length = h->length * 10 + (uint64_t)(value[i] - '0');
        } else if (value_is(name, name_len, "transfer-encoding")) {
                if (h->has_te)
                        return bad(f, "more than one Transfer-Encoding header");
                h->has_te = true;
                if (!value_is(value, vlen, "chunked"))
                        return refuse(f, 501, "not-implemented",
                                      "only the chunked transfer coding is accepted");
                h->chunked = true;
        } else if (value_is(name, name_len, "expect") && value_is(value, vlen, "100-continue") &&
                   h->expect_end == 0) {
                h->expect_at = p;
        }
        return 0;
}

/* The head's framing as a whole (RFC 9112 sections 3.2 and 6). */
static int check_framing(wire_frame_t *f, const head_facts_t *h)
{
        if (h->has_te && h->lengths > 0)
                return bad(f, "Content-Length together with Transfer-Encoding");
        if (h->has_te && f->http10)
                return bad(f, "Transfer-Encoding in an HTTP/1.0 request");
        if (!f->http10 && h->hosts != 1)
                return bad(f, "an HTTP/1.1 request needs exactly one Host header");
        if (h->hosts > 1)
                return bad(f, "more than one Host header");
        return 0;
}

/* No body follows: libmicrohttpd would still say 100 Continue, so every
 * Expect line from the first at on goes. */
static void drop_expect(char *buf, size_t *len, size_t *end, size_t from)
{
        size_t next;

        for (size_t p = from; p < *end; p = next) {
                size_t q = line_end(buf, p, *end, &next);
                if (q - p > 7 && strncasecmp(buf + p, "expect:", 7) == 0) {
                        drop(buf, len, p, next);
                        *end -= next - p;
                        next = p;
                }
        }
}

/*
 * A complete head buf[0..*end): checked, perhaps rewritten (both *end and
 * *len shrink then), and the framer set up for its body.
 */
static int check_head(wire_frame_t *f, char *buf, size_t *len, size_t *end)
{
        head_facts_t h = { 0 };
        size_t next, shift;
        size_t q = line_end(buf, 0, *end, &next);
        int r = check_request_line(f, buf, len, q, &shift);

        if (r < 0)
                return r;
        next -= shift;
        *end -= shift;
        unsigned lines = 0;
        for (size_t p = next; p < *end; p = next) {
                q = line_end(buf, p, *end, &next);
                if (q == p)
                        break; /* the empty line */
                if (++lines > WIRE_HEADERS_MAX)
                        return refuse(f, 431, "headers-too-large", "too many header lines");
                if ((r = check_header(f, buf, p, q, &h)) < 0)
                        return r;
                if (h.expect_at == p && h.expect_end == 0 && lines > 0)
                        h.expect_end = next;
        }
        if ((r = check_framing(f, &h)) < 0)
                return r;
        size_t target_end = (size_t)((const char *)memchr(buf, '\n', *end) - buf);
        size_t records = lines + count_args(buf, target_end);
        if (*end + WIRE_RECORD_COST * records > WIRE_HEAD_MAX)
                return refuse(f, 431, "headers-too-large", "the request head is too large");
        if (h.expect_end > 0 && !h.chunked && h.length == 0)
                drop_expect(buf, len, end, h.expect_at);
        f->requests++;
        f->head_scanned = 0;
        f->state = h.chunked ? CHUNK_SIZE : h.length > 0 ? BODY : HEAD;
        f->remaining = h.length;
        f->chunk_digits = 0;
        f->trailer_bytes = 0;
        return 0;
}

/* Where the head starting at buf ends (the byte after its empty line), or 0
 * while it is incomplete. */
static size_t find_head_end(wire_frame_t *f, const char *buf, size_t n)
{
        for (size_t i = f->head_scanned; i < n; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i + 1 < n && buf[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                        return i + 3;
        }
        f->head_scanned = n > 2 ? n - 2 : 0; /* a line end may be split across reads */
        return 0;
}

/* An incomplete head that can already be refused: too long to ever fit. */
static int check_incomplete(wire_frame_t *f, const char *buf, size_t n)
{
        const char *nl = memchr(buf, '\n', n);
        const char *sp = memchr(buf, ' ', n < 24 ? n : 24);

        if (nl == NULL && (n > WIRE_TARGET_MAX + 64 || n >= WIRE_HEAD_MAX)) {
                copy_printable(f->refusal.method, sizeof(f->refusal.method), buf,
                               sp ? (size_t)(sp - buf) : 0);
                return refuse(f, 414, "uri-too-long", "the request target is too long");
        }
        if (n >= WIRE_HEAD_MAX)
                return refuse(f, 431, "headers-too-large", "the request headers are too large");
        return 0;
}

/* One byte of chunked framing outside chunk data. */
static int chunk_byte(wire_frame_t *f, unsigned char c)
{
        switch (f->state) {
        case CHUNK_SIZE:
                if (strchr("0123456789abcdefABCDEF", c) != NULL && c != 0) {
                        if (++f->chunk_digits > 15)
                                return bad(f, "a chunk size is too large");
                        f->remaining = f->remaining * 16 +
                                       (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                        return 0;
                }
                if (f->chunk_digits == 0)
                        return bad(f, "a chunk size is malformed");
                /* No whitespace before an extension: libmicrohttpd would refuse
                 * it, and the two must agree on every byte of framing. */
                if (c == ';')
                        f->state = CHUNK_EXT;
                else if (c == '\r')
                        f->state = CHUNK_SIZE_LF;
                else if (c == '\n')
                        break;
                else
                        return bad(f, "a chunk size is malformed");
                return 0;
        case CHUNK_EXT:
                if (c == '\r')
                        f->state = CHUNK_SIZE_LF;
                else if (c == '\n')
                        break;
                else if ((c < 0x20 && c != '\t') || c >= 0x7f)
                        return bad(f, "a chunk extension holds a control or non-ASCII byte");
                return 0;
        case CHUNK_SIZE_LF:
                if (c != '\n')
                        return bad(f, "a chunk size line is malformed");
                break;
        case CHUNK_DATA_CR:
                f->state = c == '\r' ? CHUNK_DATA_LF : c == '\n' ? CHUNK_SIZE : -1;
                f->remaining = 0;
                f->chunk_digits = 0;
                return f->state < 0 ? bad(f, "chunk data is longer than its size") : 0;
        case CHUNK_DATA_LF:
                f->state = CHUNK_SIZE;
                return c == '\n' ? 0 : bad(f, "chunk data is longer than its size");
        case TRAILER_START:
                f->state = c == '\r' ? TRAILER_END_LF : c == '\n' ? HEAD : TRAILER_LINE;
                return 0;
        case TRAILER_LINE:
                if (++f->trailer_bytes > WIRE_TRAILER_MAX)
                        return refuse(f, 431, "headers-too-large", "the trailers are too large");
                if (c == '\n')
                        f->state = TRAILER_START;
                else if (c < 0x20 && c != '\t' && c != '\r')
                        return bad(f, "a trailer holds a control byte");
                return 0;
        case TRAILER_END_LF:
                f->state = HEAD;
                return c == '\n' ? 0 : bad(f, "the chunked body's end is malformed");
        }
        /* The chunk size line is complete. */
        f->state = f->remaining == 0 ? TRAILER_START : CHUNK_DATA;
        return 0;
}

/* A head that is complete at buf[pos..]: checked. Returns 0 when it is
 * incomplete (*ret_done false), or checked, or -EPROTO. */
static int scan_head(wire_frame_t *f, char *buf, size_t *len, size_t *pos, bool *ret_done)
{
        /* Empty lines between requests are ignored (RFC 9112 section 2.2). */
        size_t skip = 0;
        while (f->head_scanned == 0 && *pos + skip < *len &&
               (buf[*pos + skip] == '\r' || buf[*pos + skip] == '\n'))
                skip++;
        if (skip > 0)
                drop(buf, len, *pos, *pos + skip);
        size_t avail = *len - *pos;
        size_t end = avail > 0 ? find_head_end(f, buf + *pos, avail) : 0;
        *ret_done = end > 0;
        if (end == 0)
                return check_incomplete(f, buf + *pos, avail);
        if (end > WIRE_HEAD_MAX)
                return refuse(f, 431, "headers-too-large", "the request headers are too large");
        avail = *len - *pos;
        int r = check_head(f, buf + *pos, &avail, &end);
        *len = *pos + avail;
        *pos += end;
        return r;
}

int wire_frame_scan(wire_frame_t *f, char *buf, size_t *len, size_t *ret_ready)
{
        size_t pos = 0;
        int r = 0;

        while (pos < *len && r == 0) {
                *ret_ready = pos;
                if (f->state == HEAD) {
                        bool done;
                        r = scan_head(f, buf, len, &pos, &done);
                        if (!done || r < 0)
                                return r;
                } else if (f->state == BODY || f->state == CHUNK_DATA) {
                        uint64_t take = *len - pos < f->remaining ? *len - pos : f->remaining;
                        pos += take;
                        f->remaining -= take;
                        if (f->remaining == 0)
                                f->state = f->state == BODY ? HEAD : CHUNK_DATA_CR;
                } else {
                        r = chunk_byte(f, (unsigned char)buf[pos]);
                        pos += r == 0;
                }
        }
        *ret_ready = pos;
        return r;
}
