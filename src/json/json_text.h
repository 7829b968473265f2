/*
 * Writers of JSON text fragments into a strbuf: strings (always valid UTF-8),
 * numbers in their shortest exact form, base64. Rows are written with these
 * rather than through json_t trees; see rowjson.c for why.
 */
#ifndef QUERYD_JSON_TEXT_H
#define QUERYD_JSON_TEXT_H

#include <stddef.h>
#include <string.h>

#include "core/strbuf.h"

/** Appends a quoted JSON string; invalid UTF-8 sequences become U+FFFD. */
void json_text_string(strbuf_t *out, const char *bytes, size_t len);

/** Appends the shortest decimal that reads back as the same double; null if not finite. */
void json_text_double(strbuf_t *out, double value);

/** Appends the shortest decimal that reads back as the same float; null if not finite. */
void json_text_float(strbuf_t *out, float value);

/** Appends value in decimal (what "%llu" prints, without printf's cost). */
void json_text_unsigned(strbuf_t *out, unsigned long long value);

/** Appends value in decimal (what "%lld" prints). */
void json_text_signed(strbuf_t *out, long long value);

/** Appends value as exactly width digits, zero-padded (what "%0*u" prints for values that fit). */
void json_text_digits(strbuf_t *out, unsigned long value, unsigned width);

/** "00" "01" ... "99": digits are written two at a time, half the divisions. */
extern const char json_text_digit_pairs[200];

/**
 * The same written at dst, which has room for width bytes (at most 20);
 * returns the end. Inline, for writers that compose a value on the stack.
 */
static inline char *json_text_put_digits(char *dst, unsigned long value, unsigned width)
{
        unsigned i = width;

        for (; i >= 2; i -= 2, value /= 100)
                memcpy(dst + i - 2, json_text_digit_pairs + 2 * (value % 100), 2);
        if (i == 1)
                dst[0] = (char)('0' + value % 10);
        return dst + width;
}

/**
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one
 * (or avail is too short). Overlong forms, surrogates and code points past
 * U+10FFFF are invalid.
 */
size_t json_text_utf8_sequence_length(const unsigned char *s, size_t avail);

/** Appends bytes as a quoted base64 string (RFC 4648 alphabet, padded). */
void json_text_base64(strbuf_t *out, const unsigned char *bytes, size_t len);

/** Appends bytes in base64url (RFC 4648 section 5), unpadded and unquoted: safe in a URL. */
void json_text_base64url(strbuf_t *out, const unsigned char *bytes, size_t len);

/**
 * Whether bytes are exactly one JSON value (RFC 8259 syntax, valid UTF-8,
 * nesting at most 512 deep); numbers of any size are accepted.
 */
int json_text_is_valid(const char *bytes, size_t len);

#endif
