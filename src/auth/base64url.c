/*
 * Base64url is an encoding, not cryptography: a table-driven decoder that
 * refuses every input it would not produce itself.
 */
#include "auth/base64url.h"

#include <errno.h>
#include <stdint.h>

/* The value of a base64url character, or -1 for any other byte. */
static int char_value(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '-')
                return 62;
        if (c == '_')
                return 63;
        return -1;
}

/* The 6-bit values of n characters (n <= 4) packed high-first into *ret_bits. */
static int gather(const char *in, size_t n, uint32_t *ret_bits)
{
        uint32_t bits = 0;

        for (size_t i = 0; i < 4; i++) {
                int v = i < n ? char_value((unsigned char)in[i]) : 0;
                if (v < 0)
                        return -EINVAL;
                bits = bits << 6 | (uint32_t)v;
        }
        *ret_bits = bits;
        return 0;
}

int base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_size,
                     size_t *ret_len)
{
        size_t tail = len % 4;
        size_t need = base64url_decoded_size(len);
        size_t o = 0;

        *ret_len = 0;
        if (tail == 1)
                return -EINVAL;
        if (out_size < need)
                return -ENOBUFS;
        for (size_t i = 0; i < len; i += 4) {
                size_t n = len - i < 4 ? len - i : 4;
                uint32_t bits;
                if (gather(in + i, n, &bits) < 0)
                        return -EINVAL;
                unsigned char bytes[3] = { bits >> 16 & 0xff, bits >> 8 & 0xff, bits & 0xff };
                size_t produced = n - 1;
                /* The bits after the last whole byte must be zero: one encoding per input. */
                if (n < 4 && (produced == 1 ? bytes[1] | bytes[2] : bytes[2]) != 0)
                        return -EINVAL;
                for (size_t k = 0; k < produced; k++)
                        out[o++] = bytes[k];
        }
        *ret_len = o;
        return 0;
}
