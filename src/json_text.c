/* JSON text writers. The number formatting exists because jansson 2.14 prints
 * every real with 17 significant digits (0.1 becomes 0.10000000000000001). */
#include "json_text.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_sequence_length(const unsigned char *s, size_t avail)
{
        unsigned char c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF) {
                n = 2;
                cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        if (avail < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return n;
}

void json_text_string(strbuf_t *out, const char *bytes, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *)bytes;
        size_t plain = 0; /* start of the run of bytes copied as they are */

        if (!strbuf_reserve(out, len + 2))
                return;
        strbuf_append_char(out, '"');
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                size_t n = c >= 0x20 && c != '"' && c != '\\' ? utf8_sequence_length(s + i, len - i)
                                                              : 0;
                if (n > 0) {
                        i += n;
                        continue;
                }
                strbuf_append(out, s + plain, i - plain);
                if (c == '"' || c == '\\') {
                        char esc[2] = { '\\', (char)c };
                        strbuf_append(out, esc, 2);
                } else if (c < 0x20) {
                        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                        strbuf_append(out, esc, 6);
                } else {
                        strbuf_append(out, "\xEF\xBF\xBD", 3); /* U+FFFD */
                }
                plain = ++i;
        }
        strbuf_append(out, s + plain, len - plain);
        strbuf_append_char(out, '"');
}

/*
 * The fewest significant digits (at most max_digits) whose decimal reads back
 * as the same value. Reading back is monotonic in the digit count, so a
 * binary search needs about four formatting rounds.
 */
static void shortest_decimal(char *text, size_t size, double value, int max_digits,
                             bool (*reads_back)(const char *text, double value))
{
        int lo = 1, hi = max_digits;

        while (lo < hi) {
                int mid = (lo + hi) / 2;
                snprintf(text, size, "%.*g", mid, value);
                if (reads_back(text, value))
                        hi = mid;
                else
                        lo = mid + 1;
        }
        snprintf(text, size, "%.*g", lo, value);
}

static bool reads_back_as_double(const char *text, double value)
{
        return strtod(text, NULL) == value;
}

static bool reads_back_as_float(const char *text, double value)
{
        return strtof(text, NULL) == (float)value;
}

void json_text_double(strbuf_t *out, double value)
{
        char text[40];

        if (!isfinite(value)) {
                strbuf_append(out, "null", 4);
                return;
        }
        shortest_decimal(text, sizeof(text), value, 17, reads_back_as_double);
        strbuf_append_str(out, text);
}

void json_text_float(strbuf_t *out, float value)
{
        char text[40];

        if (!isfinite(value)) {
                strbuf_append(out, "null", 4);
                return;
        }
        shortest_decimal(text, sizeof(text), value, 9, reads_back_as_float);
        strbuf_append_str(out, text);
}

void json_text_base64(strbuf_t *out, const unsigned char *s, size_t len)
{
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        if (!strbuf_reserve(out, (len + 2) / 3 * 4 + 2))
                return;
        char *p = out->data + out->len;
        *p++ = '"';
        size_t i = 0;
        for (; i + 2 < len; i += 3) {
                uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
                *p++ = alphabet[v >> 18];
                *p++ = alphabet[(v >> 12) & 63];
                *p++ = alphabet[(v >> 6) & 63];
                *p++ = alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
                *p++ = alphabet[v >> 18];
                *p++ = alphabet[(v >> 12) & 63];
                *p++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
                *p++ = '=';
        }
        *p++ = '"';
        out->len = (size_t)(p - out->data);
        out->data[out->len] = '\0';
}

int json_text_is_valid(const char *bytes, size_t len)
{
        json_error_t error;
        json_t *value = json_loadb(bytes, len, JSON_DECODE_ANY, &error);

        if (value == NULL)
                return 0;
        json_decref(value);
        return 1;
}
