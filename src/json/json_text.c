/* JSON text writers. The number formatting exists because jansson 2.14 prints
 * every real with 17 significant digits (0.1 becomes 0.10000000000000001), and
 * the validator because jansson refuses valid JSON it cannot hold in a json_t
 * (integers past 64 bits, 1e400), which must still be embedded as it is. */
#include "json/json_text.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t json_text_utf8_sequence_length(const unsigned char *s, size_t avail)
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

/*
 * Bytes that end a run copied as it is: control characters and the two
 * that need a backslash, and every non-ASCII byte, which must be checked
 * as UTF-8. Everything else is copied without a look at its neighbours.
 */
#define STOP16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define PASS16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char STRING_STOPS[256] = {
        STOP16, STOP16,                                 /* 0x00-0x1F: controls */
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20-0x2F: '"' */
        PASS16, PASS16,                                 /* 0x30-0x4F */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50-0x5F: '\\' */
        PASS16, PASS16,                                 /* 0x60-0x7F */
        STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, /* non-ASCII */
};
#undef STOP16
#undef PASS16

/* Eight bytes with this value in each. */
#define BYTES8(x) (0x0101010101010101ull * (x))

/*
 * The stop bytes among the eight in w, as the top bit of each. Each test is
 * the classic "some byte is below n" trick ((w - n) & ~w & 0x80..), exact
 * for n <= 0x80; '"' and '\\' are found as zero bytes of w XOR them. A
 * borrow can mark a byte above a stop byte too, but never one below the
 * first: the lowest mark is exact.
 */
static inline uint64_t stop_bytes(uint64_t w)
{
        uint64_t quote = w ^ BYTES8('"');
        uint64_t backslash = w ^ BYTES8('\\');
        uint64_t found = w | ((w - BYTES8(0x20)) & ~w) | ((quote - BYTES8(1)) & ~quote) |
                         ((backslash - BYTES8(1)) & ~backslash);
        return found & BYTES8(0x80);
}

/*
 * How many plain bytes come before the first stop in a word whose stop_bytes
 * are not 0. Where the byte order is unknown, 0: the caller then goes on
 * byte by byte from the word's start, which finds the same stop.
 */
static inline size_t plain_before_stop(uint64_t stops)
{
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return (size_t)__builtin_ctzll(stops) / 8; /* the first in memory */
#else
        (void)stops;
        return 0;
#endif
}

/* The index of the first stop byte in s[i..len), or len. */
static inline size_t skip_plain(const unsigned char *s, size_t i, size_t len)
{
        for (; i + 8 <= len; i += 8) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                uint64_t stops = stop_bytes(w);
                if (stops != 0) {
                        i += plain_before_stop(stops);
                        break;
                }
        }
        while (i < len && !STRING_STOPS[s[i]])
                i++;
        return i;
}

/* Writes the escape for byte c, a control character or '"' or '\\', at d; returns the end. */
static char *put_escape(char *d, unsigned char c)
{
        static const char hex[] = "0123456789abcdef";

        *d++ = '\\';
        if (c == '"' || c == '\\') {
                *d++ = (char)c;
                return d;
        }
        memcpy(d, "u00", 3);
        d[3] = hex[c >> 4];
        d[4] = hex[c & 15];
        return d + 5;
}

/* Slack kept past what a string needs unescaped: a whole word may be stored
 * at the end, and one escape or replacement (6 bytes) fits before regrowing. */
enum { STRING_SLACK = 16 };

/*
 * Written in place: runs of bytes that need nothing done are found and
 * stored a word at a time; valid UTF-8 sequences are copied as they are.
 * Room for the unescaped text is reserved once and regrown only for escapes.
 */
void json_text_string(strbuf_t *out, const char *bytes, size_t len)
{
        const unsigned char *s = (const unsigned char *)bytes;
        size_t i = 0;

        if (!strbuf_reserve(out, len + 2 + STRING_SLACK))
                return;
        char *d = out->data + out->len;
        *d++ = '"';
        for (;;) {
                for (; i + 8 <= len; i += 8, d += 8) {
                        uint64_t w;
                        memcpy(&w, s + i, 8);
                        memcpy(d, &w, 8); /* stored whole; only the plain bytes count */
                        uint64_t stops = stop_bytes(w);
                        if (stops != 0) {
                                size_t plain = plain_before_stop(stops);
                                i += plain;
                                d += plain;
                                break;
                        }
                }
                while (i < len && !STRING_STOPS[s[i]])
                        *d++ = (char)s[i++];
                if (i == len)
                        break;
                unsigned char c = s[i];
                size_t n = c >= 0x80 ? json_text_utf8_sequence_length(s + i, len - i) : 0;
                if (n > 0) {
                        for (size_t k = 0; k < n; k++) /* 2 to 4 bytes: no call */
                                *d++ = (char)s[i++];
                        continue;
                }
                /* An escape grows the text: make room for it and the rest. */
                out->len = (size_t)(d - out->data);
                if (!strbuf_reserve(out, len - i + 2 + STRING_SLACK))
                        return;
                d = out->data + out->len;
                if (c >= 0x80) {
                        memcpy(d, "\xEF\xBF\xBD", 3); /* U+FFFD */
                        d += 3;
                } else {
                        d = put_escape(d, c);
                }
                i++;
        }
        *d++ = '"';
        out->len = (size_t)(d - out->data);
        out->data[out->len] = '\0';
}

/*
 * A number as its significant digits, held as an integer, and a decimal
 * exponent: d.ddd x 10^exponent, where m holds the count digits d..d (the
 * first one nonzero unless the value is zero). An integer, not text: the
 * shortest form is searched by rounding and reading back many times, and
 * each of those is a division or a multiplication this way.
 */
typedef struct decimal {
        uint64_t m;
        int count;
        int exponent;
        bool negative;
} decimal_t;

const char json_text_digit_pairs[200] = "00010203040506070809101112131415161718192021222324"
                                        "25262728293031323334353637383940414243444546474849"
                                        "50515253545556575859606162636465666768697071727374"
                                        "75767778798081828384858687888990919293949596979899";

static const uint64_t POW10_U64[] = {
        1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
        100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
        10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
        100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
};

/* Powers of ten a double holds exactly (5^22 < 2^53). */
static const double POW10_D[] = {
        1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#if LDBL_MANT_DIG >= 64
/* Powers of ten a 64-bit mantissa holds exactly (5^27 < 2^64). */
static const long double POW10_LD[] = {
        1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
        1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
        1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};

/*
 * floor(log10(magnitude)) or one less, from the binary exponent: that is
 * cheaper than log10, and a guess one too low costs decimal_fast one more
 * attempt. 78913 / 2^18 is log10(2) close enough for every double's
 * exponent (it is the estimate Ryu uses).
 */
static int decimal_exponent_estimate(double magnitude)
{
        uint64_t bits;

        if (magnitude < DBL_MIN) /* zero and subnormals: rare, log10 is fine */
                return magnitude > 0 ? (int)floor(log10(magnitude)) : 0;
        memcpy(&bits, &magnitude, sizeof(bits));
        int e2 = (int)(bits >> 52) - 1023; /* magnitude is in [2^e2, 2^(e2+1)) */
        if (e2 >= 0)
                return (int)(((unsigned)e2 * 78913u) >> 18);
        return -(int)(((unsigned)-e2 * 78913u + (1u << 18) - 1) >> 18);
}
#endif

/*
 * value with max_digits significant digits, correctly rounded, without
 * printf where a long double can tell. value times a power of ten that a
 * 64-bit mantissa holds exactly (up to 10^27) is rounded once, so below
 * 10^17 it is off by at most 1/256: rounding it to an integer is right
 * unless it lies within 1/100 of a half. False: printf must do it.
 */
static bool decimal_fast(double value, int max_digits, decimal_t *d)
{
#if LDBL_MANT_DIG >= 64
        double magnitude = fabs(value);
        int exponent = decimal_exponent_estimate(magnitude);

        /* The estimate may be one too low: the range check corrects it. */
        for (int attempt = 0; magnitude > 0 && attempt < 3; attempt++) {
                int shift = max_digits - 1 - exponent;
                if (shift > 27 || shift < -27)
                        return false;
                long double scaled = shift >= 0 ? (long double)magnitude * POW10_LD[shift]
                                                : (long double)magnitude / POW10_LD[-shift];
                if (fabsl(scaled - floorl(scaled) - 0.5L) < 0.01L)
                        return false;
                uint64_t m = (uint64_t)floorl(scaled + 0.5L);
                if (m >= POW10_U64[max_digits] || m < POW10_U64[max_digits - 1]) {
                        exponent += m >= POW10_U64[max_digits] ? 1 : -1;
                        continue;
                }
                d->m = m;
                d->count = max_digits;
                d->exponent = exponent;
                d->negative = value < 0;
                return true;
        }
#else
        (void)value, (void)max_digits, (void)d;
#endif
        return false;
}

/* value with max_digits significant digits, correctly rounded by printf. */
static void decimal_printed(double value, int max_digits, decimal_t *d)
{
        char text[48];

        snprintf(text, sizeof(text), "%.*e", max_digits - 1, value);
        char *e = strchr(text, 'e');
        d->exponent = atoi(e + 1);
        d->negative = value < 0 || (value == 0 && signbit(value));
        d->count = 0;
        d->m = 0;
        for (const char *c = text; c < e; c++) {
                if (*c >= '0' && *c <= '9') {
                        d->m = d->m * 10 + (uint64_t)(*c - '0');
                        d->count++;
                }
        }
}

/* value with max_digits significant digits, correctly rounded. */
static void decimal_of(double value, int max_digits, decimal_t *d)
{
        if (!decimal_fast(value, max_digits, d))
                decimal_printed(value, max_digits, d);
}

/* d cut to count digits, rounded up when up is true. */
static decimal_t rounded(const decimal_t *d, int count, bool up)
{
        decimal_t r = *d;

        r.count = count;
        r.m = d->m / POW10_U64[d->count - count];
        if (up && ++r.m == POW10_U64[count]) { /* 9.99 -> 10.0: one more power of ten */
                r.m = POW10_U64[count - 1];
                r.exponent++;
        }
        return r;
}

/* Writes the count digits of d at p (zero-padded, as printf writes zero),
 * two at a time; returns the end. */
static char *put_mantissa(char *p, const decimal_t *d)
{
        uint64_t m = d->m;
        int i = d->count;

        for (; i >= 2; i -= 2, m /= 100)
                memcpy(p + i - 2, json_text_digit_pairs + 2 * (m % 100), 2);
        if (i == 1)
                p[0] = (char)('0' + m % 10);
        return p + d->count;
}

/* "-d.ddde+XX", as printf's %e writes it ("de+XX" for one digit). */
static void scientific(const decimal_t *d, char *text, size_t size)
{
        char digits[24] = { 0 };

        put_mantissa(digits, d);
        snprintf(text, size, "%s%c%s%.*se%+03d", d->negative ? "-" : "", digits[0],
                 d->count > 1 ? "." : "", d->count - 1, digits + 1, d->exponent);
}

/*
 * Whether some count-digit decimal near value reads back as value; if so, it
 * goes to *ret, the nearest one when two do. The digits are rounded from the
 * longest form, which is itself rounded: where what it cuts off is a 5 and
 * nothing more, the exact value may lie on either side of the half, so
 * printf, which rounds from the exact value, says which neighbour is nearer
 * (ties to even), and the other is tried after it.
 */
static bool fits(const decimal_t *longest, int count, double value,
                 bool (*reads_back)(const decimal_t *, double), decimal_t *ret)
{
        int cut = longest->count - count;
        uint64_t rest = cut > 0 ? longest->m % POW10_U64[cut] : 0;
        uint64_t half = cut > 0 ? 5 * POW10_U64[cut - 1] : 1;

        if (cut == 0 || rest != half) {
                *ret = rounded(longest, count, cut > 0 && rest > half);
                return reads_back(ret, value);
        }
        decimal_printed(value, count, ret);
        if (reads_back(ret, value))
                return true;
        for (int up = 0; up < 2; up++) {
                *ret = rounded(longest, count, up);
                if (reads_back(ret, value))
                        return true;
        }
        return false;
}

/*
 * The fewest significant digits (at most max_digits) whose decimal reads back
 * as the same value. The longest form is computed once; shorter ones are
 * rounded from its digits and checked by reading them back. Reading back is
 * monotonic in the digit count for all but rare values, where the search may
 * settle a digit long; the longest form always reads back, so the result
 * always does.
 */
static decimal_t searched_decimal(const decimal_t *longest, double value, int max_digits,
                                  bool (*reads_back)(const decimal_t *, double))
{
        decimal_t found;
        int lo = 1, hi = max_digits;

        while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (fits(longest, mid, value, reads_back, &found))
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (lo == max_digits || !fits(longest, lo, value, reads_back, &found))
                found = *longest;
        return found;
}

/*
 * As searched_decimal, with fewer read-backs for a normal number (not zero,
 * not subnormal), whose precision is finer than half a unit of its
 * sure_digits-th digit (DBL_DIG, FLT_DIG): every decimal of that many digits
 * or fewer that reads back is then the value rounded to sure_digits, bar
 * trailing zeros (which append_number drops). So one read-back settles all
 * the short lengths, and the longer ones are tried in turn. The search takes
 * the same path through these lengths, so both give the same digits.
 */
static decimal_t shortest_decimal(double value, bool normal, int sure_digits, int max_digits,
                                  bool (*reads_back)(const decimal_t *, double))
{
        decimal_t longest, found;

        decimal_of(value, max_digits, &longest);
        if (!normal)
                return searched_decimal(&longest, value, max_digits, reads_back);
        for (int count = sure_digits; count < max_digits; count++)
                if (fits(&longest, count, value, reads_back, &found))
                        return found;
        return longest;
}

/* Digits are staged and moved in blocks of this size: fixed-size copies inline. */
enum { DIGIT_BLOCK = 24, PLAIN_NUMBER_ROOM = 64 };

/* Writes d: plain notation for magnitudes from 1e-7 to 1e21 (as JavaScript
 * prints numbers), else exponent. The plain form is written in place. */
static void append_number(strbuf_t *out, const decimal_t *d)
{
        char mantissa[2 * DIGIT_BLOCK] = { 0 }; /* room for a block from any digit */
        size_t n = (size_t)(put_mantissa(mantissa, d) - mantissa);
        int exponent = d->exponent;

        while (n > 1 && mantissa[n - 1] == '0') /* rounding up can leave trailing zeros */
                n--;
        if (exponent < -7 || exponent >= 21) {
                char text[48];
                decimal_t trimmed = *d;
                trimmed.count = (int)n;
                trimmed.m = d->m / POW10_U64[d->count - (int)n];
                scientific(&trimmed, text, sizeof(text));
                strbuf_append_str(out, text);
                return;
        }
        /* At most a sign, "0.", 6 zeros and a block, or 21 digits, or a block, '.' and a block. */
        if (!strbuf_reserve(out, PLAIN_NUMBER_ROOM))
                return;
        char *p = out->data + out->len;
        if (d->negative)
                *p++ = '-';
        if (exponent < 0) {
                *p++ = '0';
                *p++ = '.';
                for (int i = -1; i > exponent; i--)
                        *p++ = '0';
                memcpy(p, mantissa, DIGIT_BLOCK);
                p += n;
        } else if ((size_t)exponent + 1 >= n) {
                memcpy(p, mantissa, DIGIT_BLOCK);
                for (size_t i = n; i < (size_t)exponent + 1; i++)
                        p[i] = '0';
                p += exponent + 1;
        } else {
                size_t whole = (size_t)exponent + 1;
                memcpy(p, mantissa, DIGIT_BLOCK);
                p[whole] = '.';
                memcpy(p + whole + 1, mantissa + whole, DIGIT_BLOCK);
                p += n + 1;
        }
        out->len = (size_t)(p - out->data);
        out->data[out->len] = '\0';
}

/* The power of ten of d's last digit: d is m times 10^q. */
static int last_digit_exponent(const decimal_t *d)
{
        return d->exponent - (d->count - 1);
}

/*
 * m times 10^q as the double strtod would give, where a long double can
 * tell: false when it cannot. m and 10^q (|q| at most 27) are exact in a
 * 64-bit mantissa, so the product or quotient is rounded once, and
 * rounding that to a double is exactly rounding the true value unless the
 * long double lies on a midpoint between two doubles: no other midpoint
 * can sit between it and the true value, or it would be nearer. A midpoint
 * x is one whose reflection 2x - (double)x is another double.
 */
static bool long_double_read(uint64_t m, int q, double *ret)
{
#if LDBL_MANT_DIG >= 64
        if (q < -27 || q > 27)
                return false;
        long double x = q >= 0 ? (long double)m * POW10_LD[q] : (long double)m / POW10_LD[-q];
        double y = (double)x;
        long double reflected = x + (x - (long double)y);
        if (isinf(y) || (reflected != (long double)y && (long double)(double)reflected == reflected))
                return false;
        *ret = y;
        return true;
#else
        (void)m, (void)q, (void)ret;
        return false;
#endif
}

/*
 * Whether d reads back as value. Where m and 10^q are both exact doubles
 * (m below 2^53, |q| at most 22), one correctly rounded multiplication or
 * division is exactly what strtod computes (Clinger's fast path); most
 * others a long double settles; the rest go through strtod itself.
 */
static bool reads_back_as_double(const decimal_t *d, double value)
{
        uint64_t m = d->m;
        int q = last_digit_exponent(d);
        double x;
        char text[48];

        if (m < (1ull << 53) && q >= -22 && q <= 22) {
                x = q >= 0 ? (double)m * POW10_D[q] : (double)m / POW10_D[-q];
                return (d->negative ? -x : x) == value;
        }
        if (long_double_read(m, q, &x))
                return (d->negative ? -x : x) == value;
        scientific(d, text, sizeof(text));
        return strtod(text, NULL) == value;
}

/* The same for floats: m below 2^24, |q| at most 10, float arithmetic. */
static bool reads_back_as_float(const decimal_t *d, double value)
{
        char text[48];

#if FLT_EVAL_METHOD == 0
        uint64_t m = d->m;
        int q = last_digit_exponent(d);
        if (m < (1ull << 24) && q >= -10 && q <= 10) {
                float p = (float)POW10_D[q >= 0 ? q : -q];
                float x = q >= 0 ? (float)m * p : (float)m / p;
                return (d->negative ? -x : x) == (float)value;
        }
#endif
        scientific(d, text, sizeof(text));
        return strtof(text, NULL) == (float)value;
}

void json_text_double(strbuf_t *out, double value)
{
        if (!isfinite(value)) {
                strbuf_append(out, "null", 4);
                return;
        }
        decimal_t d = shortest_decimal(value, isnormal(value), DBL_DIG, 17, reads_back_as_double);
        append_number(out, &d);
}

void json_text_float(strbuf_t *out, float value)
{
        if (!isfinite(value)) {
                strbuf_append(out, "null", 4);
                return;
        }
        decimal_t d = shortest_decimal(value, isnormal(value), FLT_DIG, 9, reads_back_as_float);
        append_number(out, &d);
}

/* Digits in value: 1 to 20. */
static unsigned decimal_length(unsigned long long value)
{
        unsigned n = 1;

        while (n < 20 && value >= POW10_U64[n])
                n++;
        return n;
}

/* Written in place: no staging copy, no call to memcpy for a few bytes. */
void json_text_unsigned(strbuf_t *out, unsigned long long value)
{
        unsigned n = decimal_length(value);

        if (!strbuf_reserve(out, n))
                return;
        json_text_put_digits(out->data + out->len, value, n);
        out->len += n;
        out->data[out->len] = '\0';
}

void json_text_signed(strbuf_t *out, long long value)
{
        if (value < 0) {
                strbuf_append_char(out, '-');
                json_text_unsigned(out, 0 - (unsigned long long)value); /* LLONG_MIN too */
                return;
        }
        json_text_unsigned(out, (unsigned long long)value);
}

void json_text_digits(strbuf_t *out, unsigned long value, unsigned width)
{
        char digits[20];

        if (width > sizeof(digits))
                width = sizeof(digits);
        strbuf_append(out, digits, (size_t)(json_text_put_digits(digits, value, width) - digits));
}

/* Appends bytes in base64 with this alphabet, padded with '=' or not. */
static void append_base64(strbuf_t *out, const unsigned char *s, size_t len,
                          const char *alphabet, bool pad)
{
        if (!strbuf_reserve(out, (len + 2) / 3 * 4))
                return;
        char *p = out->data + out->len;
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
                if (i + 1 < len)
                        *p++ = alphabet[(v >> 6) & 63];
                else if (pad)
                        *p++ = '=';
                if (pad)
                        *p++ = '=';
        }
        out->len = (size_t)(p - out->data);
        out->data[out->len] = '\0';
}

void json_text_base64(strbuf_t *out, const unsigned char *s, size_t len)
{
        strbuf_append_char(out, '"');
        append_base64(out, s, len,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
        strbuf_append_char(out, '"');
}

void json_text_base64url(strbuf_t *out, const unsigned char *s, size_t len)
{
        append_base64(out, s, len,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false);
}

/* ---- validation: RFC 8259 syntax, without building any value ---- */

/*
 * Each step takes the position where it starts and returns the one after
 * what it read, or NULL where the text stops being JSON. Positions passed
 * by value stay in registers, which a shared cursor struct would not.
 */

enum { MAX_JSON_DEPTH = 512 };

static const unsigned char *scan_value(const unsigned char *p, const unsigned char *end,
                                       int depth);

static inline const unsigned char *skip_space(const unsigned char *p, const unsigned char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

static const unsigned char *scan_literal(const unsigned char *p, const unsigned char *end,
                                         const char *word, size_t n)
{
        if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
                return NULL;
        return p + n;
}

static inline const unsigned char *skip_digits(const unsigned char *p, const unsigned char *end)
{
        while (p < end && *p >= '0' && *p <= '9')
                p++;
        return p;
}

/* One or more digits, or NULL. */
static inline const unsigned char *scan_digits(const unsigned char *p, const unsigned char *end)
{
        const unsigned char *after = skip_digits(p, end);

        return after == p ? NULL : after;
}

static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end)
{
        if (p < end && *p == '-')
                p++;
        if (p < end && *p == '0')
                p++;
        else if ((p = scan_digits(p, end)) == NULL)
                return NULL;
        if (p < end && *p == '.' && (p = scan_digits(p + 1, end)) == NULL)
                return NULL;
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                p = scan_digits(p, end);
        }
        return p;
}

/* Whether c may follow a backslash in a JSON string ('u' aside). */
static bool is_simple_escape(unsigned char c)
{
        switch (c) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                return true;
        default:
                return false;
        }
}

static bool is_hex_digit(unsigned char c)
{
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * A string, from its opening quote. Plain runs are skipped a word at a
 * time, as json_text_string does: the bytes that stop a run there
 * (controls, '"', '\\', non-ASCII) are exactly the ones to look at.
 */
static const unsigned char *scan_string(const unsigned char *p, const unsigned char *end)
{
        p++;
        for (;;) {
                p += skip_plain(p, 0, (size_t)(end - p));
                if (p == end || *p < 0x20)
                        return NULL;
                if (*p == '"')
                        return p + 1;
                if (*p >= 0x80) {
                        size_t n = json_text_utf8_sequence_length(p, (size_t)(end - p));
                        if (n == 0)
                                return NULL;
                        p += n;
                        continue;
                }
                if (++p == end) /* after the backslash */
                        return NULL;
                if (*p == 'u') {
                        if (end - p < 5 || !is_hex_digit(p[1]) || !is_hex_digit(p[2]) ||
                            !is_hex_digit(p[3]) || !is_hex_digit(p[4]))
                                return NULL;
                        p += 5;
                } else if (is_simple_escape(*p)) {
                        p++;
                } else {
                        return NULL;
                }
        }
}

/* Members of an array (close ']') or object (close '}'), from the opener. */
static const unsigned char *scan_members(const unsigned char *p, const unsigned char *end,
                                         char close, int depth)
{
        if (depth > MAX_JSON_DEPTH)
                return NULL;
        p = skip_space(p + 1, end);
        if (p < end && *p == close)
                return p + 1;
        for (;;) {
                if (close == '}') {
                        p = skip_space(p, end);
                        if (p == end || *p != '"' || (p = scan_string(p, end)) == NULL)
                                return NULL;
                        p = skip_space(p, end);
                        if (p == end || *p++ != ':')
                                return NULL;
                }
                if ((p = scan_value(p, end, depth)) == NULL)
                        return NULL;
                p = skip_space(p, end);
                if (p == end)
                        return NULL;
                if (*p == close)
                        return p + 1;
                if (*p++ != ',')
                        return NULL;
        }
}

/* depth: the arrays and objects around this value. */
static const unsigned char *scan_value(const unsigned char *p, const unsigned char *end,
                                       int depth)
{
        p = skip_space(p, end);
        if (p == end)
                return NULL;
        switch (*p) {
        case '{':
                return scan_members(p, end, '}', depth + 1);
        case '[':
                return scan_members(p, end, ']', depth + 1);
        case '"':
                return scan_string(p, end);
        case 't':
                return scan_literal(p, end, "true", 4);
        case 'f':
                return scan_literal(p, end, "false", 5);
        case 'n':
                return scan_literal(p, end, "null", 4);
        default:
                return scan_number(p, end);
        }
}

int json_text_is_valid(const char *bytes, size_t len)
{
        const unsigned char *end = (const unsigned char *)bytes + len;
        const unsigned char *p = scan_value((const unsigned char *)bytes, end, 0);

        return p != NULL && skip_space(p, end) == end;
}
