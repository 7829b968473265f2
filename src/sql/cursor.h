/*
 * Keyset cursors: the values of the sort columns in the last row of a page,
 * handed to the client in "next" and read back from its "after". The text is
 * opaque to clients: base64url of the JSON array [order, v1, v2, ...], where
 * order is the page's normalized order ("age.desc,id.asc") and each value is
 * a string in request form (typed_value.h) or null. For the default order
 * of a one-column key the cursor is simply that key's value, so that
 * "?after=42" reads naturally.
 */
#ifndef QUERYD_CURSOR_H
#define QUERYD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/scope.h"
#include "core/strbuf.h"

typedef struct cursor_value {
        const char *text; /* NULL: SQL NULL */
        size_t len;
} cursor_value_t;

/**
 * Encodes values (a JSON array of strings and nulls, as written by
 * rowjson_append_plain) with the order into out.
 */
void cursor_encode(strbuf_t *out, const char *order, const char *values_json, size_t len);

/**
 * Decodes text into count values in scope memory, checking it was made for
 * order. Returns 0, or -EINVAL with a phrase for the error detail in reason.
 */
int cursor_decode(const char *text, const char *order, size_t count, scope_t *scope,
                  cursor_value_t *ret_values, char *reason, size_t reason_size);

#endif
