/* Growable byte buffer: amortised doubling, and a sticky failure flag so callers
 * can append freely and check for out-of-memory once at the end. */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool strbuf_grow(strbuf_t *b, size_t n)
{
        if (b->failed)
                return false;
        if (b->cap - b->len > n)
                return true;
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n) {
                if (cap > ((size_t)-1) / 2) {
                        b->failed = true;
                        return false;
                }
                cap *= 2;
        }
        char *data = realloc(b->data, cap);
        if (data == NULL) {
                b->failed = true;
                return false;
        }
        b->data = data;
        b->cap = cap;
        return true;
}

void strbuf_appendf(strbuf_t *b, const char *fmt, ...)
{
        va_list ap;

        if (!strbuf_reserve(b, 64))
                return;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->failed = true;
                return;
        }
        if ((size_t)n >= b->cap - b->len) {
                if (!strbuf_reserve(b, (size_t)n))
                        return;
                va_start(ap, fmt);
                vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
                va_end(ap);
        }
        b->len += (size_t)n;
}

char *strbuf_take(strbuf_t *b, size_t *ret_len)
{
        char *data = b->data;

        if (data == NULL)
                data = calloc(1, 1);
        if (ret_len != NULL)
                *ret_len = b->len;
        b->data = NULL;
        b->len = b->cap = 0;
        return data;
}

void strbuf_done(strbuf_t *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
