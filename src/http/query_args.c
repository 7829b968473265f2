/* Parameter parsing. strtoll alone accepts spaces, '+' and trailing junk;
 * a demanding client wants "12abc" refused, so digits are checked first. */
#include "http/query_args.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool query_args_parse_int64(const char *text, size_t len, long long *ret_value)
{
        char digits[24];
        size_t start = len > 0 && text[0] == '-' ? 1 : 0;

        if (len == start || len >= sizeof(digits))
                return false;
        for (size_t i = start; i < len; i++)
                if (!isdigit((unsigned char)text[i]))
                        return false;
        memcpy(digits, text, len);
        digits[len] = '\0';
        errno = 0;
        long long value = strtoll(digits, NULL, 10);
        if (errno == ERANGE)
                return false;
        *ret_value = value;
        return true;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

bool query_args_escapes_valid(const char *text, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (text[i] != '%')
                        continue;
                if (len - i < 3 || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0)
                        return false;
                i += 2;
        }
        return true;
}

/* The byte the escape at in stands for, or -1 when in holds no valid escape
 * (fewer than three bytes left count as none). */
static int escaped_byte(const char *in, size_t left)
{
        int hi = left >= 3 && in[0] == '%' ? hex_value(in[1]) : -1;
        int lo = hi >= 0 ? hex_value(in[2]) : -1;

        return lo < 0 ? -1 : hi * 16 + lo;
}

size_t query_args_decode(const char *in, size_t len, char *out)
{
        char *start = out;

        for (size_t i = 0; i < len; i++) {
                int byte = escaped_byte(in + i, len - i);
                if (byte < 0) {
                        *out++ = in[i];
                        continue;
                }
                if (byte == 0) { /* NUL cannot live in a C string: overlong NUL */
                        *out++ = (char)0xC0;
                        *out++ = (char)0x80;
                } else {
                        *out++ = (char)byte;
                }
                i += 2;
        }
        *out = '\0';
        return (size_t)(out - start);
}

size_t query_args_unescape(char *text)
{
        /* In place is safe: an escape's three bytes become at most two. */
        return query_args_decode(text, strlen(text), text);
}

bool query_args_decoded_equals(const char *raw, size_t raw_len, const char *text, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < raw_len; i++, n++) {
                int byte = escaped_byte(raw + i, raw_len - i);
                if (byte == 0) /* the overlong NUL of query_args_decode: two bytes */
                        return false; /* never in a name the router compares against */
                if (byte > 0)
                        i += 2;
                else
                        byte = (unsigned char)raw[i];
                if (n == len || (unsigned char)text[n] != byte)
                        return false;
        }
        return n == len;
}

static bool is_allowed(const char *name, const char *const *allowed)
{
        for (; *allowed != NULL; allowed++)
                if (strcmp(name, *allowed) == 0)
                        return true;
        return false;
}

const char *query_args_check(const query_arg_t *args, size_t count, const char *const *allowed,
                             bool *ret_repeated)
{
        *ret_repeated = false;
        for (size_t i = 0; i < count; i++) {
                if (!is_allowed(args[i].name, allowed))
                        return args[i].name;
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(args[i].name, args[j].name) == 0) {
                                *ret_repeated = true;
                                return args[i].name;
                        }
                }
        }
        return NULL;
}

const char *query_args_get(const query_arg_t *args, size_t count, const char *name)
{
        for (size_t i = 0; i < count; i++)
                if (strcmp(args[i].name, name) == 0)
                        return args[i].value;
        return NULL;
}
