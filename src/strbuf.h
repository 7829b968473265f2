/*
 * A growable byte buffer for building response bodies. Its storage is a plain
 * malloc block so a finished body can be handed to libmicrohttpd, which frees it.
 */
#ifndef QUERYD_STRBUF_H
#define QUERYD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
        char *data;
        size_t len;
        size_t cap;
        bool failed; /* an allocation failed: the content is incomplete */
} strbuf_t;

/** Makes room for n more bytes; false (and failed set) when out of memory. */
bool strbuf_reserve(strbuf_t *b, size_t n);

void strbuf_append(strbuf_t *b, const void *bytes, size_t n);
void strbuf_append_str(strbuf_t *b, const char *text);
void strbuf_append_char(strbuf_t *b, char c);
void strbuf_appendf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Hands the storage to the caller (free() it) and empties the buffer. */
char *strbuf_take(strbuf_t *b, size_t *ret_len);

/** Frees the storage; safe to call twice. */
void strbuf_done(strbuf_t *b);

#endif
