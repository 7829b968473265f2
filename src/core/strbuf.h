/*
 * A growable byte buffer for building response bodies. Its storage is a plain
 * malloc block so a finished body can be handed to libmicrohttpd, which frees it.
 */
#ifndef QUERYD_STRBUF_H
#define QUERYD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct strbuf {
        char *data;
        size_t len;
        size_t cap;
        bool failed; /* an allocation failed: the content is incomplete */
} strbuf_t;

/** The slow half of strbuf_reserve: allocates; false (and failed set) when out of memory. */
bool strbuf_grow(strbuf_t *b, size_t n);

/*
 * The appends are inline because rows are written a few bytes at a time:
 * a call per field costs more than the copy. Only growth is out of line.
 */

/**
 * Makes room for n more bytes and the terminating NUL; false (and failed
 * set) when out of memory, and always false once an append has failed.
 */
static inline bool strbuf_reserve(strbuf_t *b, size_t n)
{
        if (!b->failed && b->cap - b->len > n)
                return true;
        return strbuf_grow(b, n);
}

static inline void strbuf_append(strbuf_t *b, const void *bytes, size_t n)
{
        if (n == 0 || !strbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, bytes, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static inline void strbuf_append_str(strbuf_t *b, const char *text)
{
        strbuf_append(b, text, strlen(text));
}

static inline void strbuf_append_char(strbuf_t *b, char c)
{
        if (!strbuf_reserve(b, 1))
                return;
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
}

void strbuf_appendf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Hands the storage to the caller (free() it) and empties the buffer. */
char *strbuf_take(strbuf_t *b, size_t *ret_len);

/** Frees the storage; safe to call twice. */
void strbuf_done(strbuf_t *b);

#endif
