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

size_t query_args_unescape(char *text)
{
        char *out = text;

        for (const char *in = text; *in != '\0'; in++) {
                int hi = in[0] == '%' ? hex_value(in[1]) : -1;
                int lo = hi >= 0 ? hex_value(in[2]) : -1;
                if (lo < 0) {
                        *out++ = *in;
                        continue;
                }
                if (hi == 0 && lo == 0) { /* NUL cannot live in a C string: overlong NUL */
                        *out++ = (char)0xC0;
                        *out++ = (char)0x80;
                } else {
                        *out++ = (char)(hi * 16 + lo);
                }
                in += 2;
        }
        *out = '\0';
        return (size_t)(out - text);
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
