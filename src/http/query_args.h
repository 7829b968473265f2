/*
 * Strict parsing of request parameters: integers without sign tricks or
 * trailing junk, and query strings without unknown or repeated names.
 */
#ifndef QUERYD_QUERY_ARGS_H
#define QUERYD_QUERY_ARGS_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Percent-decodes len bytes of in into out (room for len + 1 bytes; out may
 * be in) and returns the decoded length; out is NUL-terminated. Malformed
 * escapes are copied as they are (query_args_escapes_valid() tells them).
 * "%00" becomes the bytes C0 80, the overlong form of NUL: a decoded NUL can
 * never cut "/users/1%00junk" down to "/users/1", and since no valid UTF-8
 * holds those bytes, every check of a value refuses it rather than reading
 * it as some other text (such as "%00", which is what "%2500" means).
 */
size_t query_args_decode(const char *in, size_t len, char *out);

/** query_args_decode() of a NUL-terminated text in place. */
size_t query_args_unescape(char *text);

/** Whether every '%' in the len bytes of text starts an escape: '%' and two hex digits. */
bool query_args_escapes_valid(const char *text, size_t len);

/**
 * Whether the len bytes of text are what the raw_len bytes of raw decode to
 * (a path segment against a route's literal segment), without a copy.
 */
bool query_args_decoded_equals(const char *raw, size_t raw_len, const char *text, size_t len);

/** Parses text as a signed 64-bit decimal: optional '-', digits, nothing else. */
bool query_args_parse_int64(const char *text, size_t len, long long *ret_value);

/** The query string's arguments as name/value pairs (values may be NULL). */
typedef struct query_arg {
        const char *name;
        const char *value;
} query_arg_t;

/**
 * Checks every argument's name is in allowed (NULL-terminated) and appears
 * once. Returns NULL when all is well, else the offending name; *ret_repeated
 * tells a repeated name from an unknown one.
 */
const char *query_args_check(const query_arg_t *args, size_t count, const char *const *allowed,
                             bool *ret_repeated);

/** The value of name, or NULL when absent. */
const char *query_args_get(const query_arg_t *args, size_t count, const char *name);

#endif
