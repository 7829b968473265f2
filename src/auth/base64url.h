/*
 * Strict base64url (RFC 4648 section 5) decoding for JOSE: the alphabet
 * A-Z a-z 0-9 - _ only, no padding, no whitespace, and the unused low bits
 * of the last character zero, so every byte string has exactly one encoding.
 * Pure byte work; no allocation.
 */
#ifndef QUERYD_BASE64URL_H
#define QUERYD_BASE64URL_H

#include <stddef.h>

/** The number of bytes that len characters decode to (also valid for a bad length). */
static inline size_t base64url_decoded_size(size_t len)
{
        return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

/**
 * Decodes the len characters of in (not NUL-terminated) into out, which has
 * room for out_size bytes, and sets *ret_len to the number written.
 * Returns 0, -EINVAL when in is not strict base64url (a character outside
 * the alphabet, '=' padding, a length of 1 modulo 4, or non-zero trailing
 * bits), or -ENOBUFS when out is smaller than base64url_decoded_size(len).
 * Nothing is read past in + len nor written past out + out_size.
 */
int base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_size,
                     size_t *ret_len);

#endif
