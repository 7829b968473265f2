/* Request values -> bound parameters. Every type is checked by hand before any
 * library conversion: strtoll, strtod and friends accept spaces, '+', hex,
 * "nan" and trailing junk, and a demanding client wants all of those refused.
 * Temporal values are bound as MYSQL_TIME, so what the server compares does
 * not depend on its sql_mode or on how it would read a string. */
#include "sql/typed_value.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_text.h"

enum {
        MAX_DECIMAL_DIGITS = 65,  /* DECIMAL(65) is the widest the server has */
        MAX_FRACTION_DIGITS = 6,  /* microseconds */
        MAX_TIME_HOURS = 838,     /* TIME is -838:59:59.999999 to 838:59:59.999999 */
};

/* One value being parsed, and where its result goes. */
typedef struct parse {
        const api_rule_t *rule;
        const char *text;
        size_t len;
        scope_t *scope;
        MYSQL_BIND *bind; /* NULL: check only */
        char *reason;
        size_t reason_size;
} parse_t;

__attribute__((format(printf, 2, 3))) static int fail(parse_t *p, const char *fmt, ...)
{
        va_list ap;

        if (p->reason != NULL && p->reason_size > 0) {
                va_start(ap, fmt);
                vsnprintf(p->reason, p->reason_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Binds a copy of size bytes. One byte more is allocated so that even an empty
 * value has a buffer: Connector/C sends a NULL buffer as SQL NULL. */
static int bind_bytes(parse_t *p, enum enum_field_types type, const void *bytes, size_t size)
{
        if (p->bind == NULL)
                return 0;
        unsigned long *length = scope_alloc(p->scope, sizeof(*length));
        char *copy = scope_strndup(p->scope, bytes, size);
        if (length == NULL || copy == NULL)
                return -ENOMEM;
        *length = size;
        p->bind->buffer_type = type;
        p->bind->buffer = copy;
        p->bind->buffer_length = size;
        p->bind->length = length;
        return 0;
}

/* Binds a fixed-size value (a number, a MYSQL_TIME), whose length the type implies. */
static int bind_fixed(parse_t *p, enum enum_field_types type, const void *value, size_t size)
{
        if (p->bind == NULL)
                return 0;
        void *copy = scope_alloc(p->scope, size);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, value, size);
        p->bind->buffer_type = type;
        p->bind->buffer = copy;
        p->bind->buffer_length = size;
        return 0;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* The number of ASCII digits at the start of s (at most n). */
static size_t count_digits(const char *s, size_t n)
{
        size_t i = 0;

        while (i < n && is_digit(s[i]))
                i++;
        return i;
}

/* ---- INT ---- */

/* n > 0 digits as an unsigned 64-bit number; false when they do not fit.
 * Leading zeros are harmless, however many. */
static bool digits_to_u64(const char *s, size_t n, uint64_t *ret)
{
        uint64_t value = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned digit = (unsigned)(s[i] - '0');
                if (value > (UINT64_MAX - digit) / 10)
                        return false;
                value = value * 10 + digit;
        }
        *ret = value;
        return true;
}

/*
 * Compares the integer -magnitude (negative) or +magnitude with a bound.
 * Sign and magnitude let signed and unsigned values share the comparison
 * without converting either to double, which would round above 2^53.
 */
static int compare_to_bound(bool negative, uint64_t magnitude, double bound)
{
        bool bound_negative = bound < 0;
        double bound_magnitude = fabs(bound);
        int c;

        if (magnitude == 0)
                negative = false;
        if (negative != bound_negative)
                return negative ? -1 : 1; /* zero is never negative, on either side */
        if (bound_magnitude >= 0x1p64) {
                c = -1;
        } else {
                uint64_t whole = (uint64_t)bound_magnitude;
                c = magnitude < whole ? -1 : magnitude > whole;
                if (c == 0 && bound_magnitude > (double)whole)
                        c = -1; /* a bound with a fraction: never equal */
        }
        return negative ? -c : c;
}

static int check_int_bounds(parse_t *p, bool negative, uint64_t magnitude)
{
        const api_rule_t *r = p->rule;

        if (r->has_min && compare_to_bound(negative, magnitude, r->min) < 0)
                return fail(p, "is below the minimum %.0f", r->min);
        if (r->has_max && compare_to_bound(negative, magnitude, r->max) > 0)
                return fail(p, "is above the maximum %.0f", r->max);
        return 0;
}

static int parse_int(parse_t *p)
{
        bool negative = p->len > 0 && p->text[0] == '-';
        const char *digits = p->text + negative;
        size_t n = p->len - negative;
        uint64_t magnitude;

        if (n == 0 || count_digits(digits, n) != n)
                return fail(p, "is not an integer");
        if (negative && p->rule->is_unsigned)
                return fail(p, "is not an unsigned integer");
        bool fits = digits_to_u64(digits, n, &magnitude);
        if (p->rule->is_unsigned && !fits)
                return fail(p, "is out of range for an unsigned 64-bit integer");
        if (!p->rule->is_unsigned &&
            (!fits || magnitude > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)))
                return fail(p, "is out of range for a 64-bit integer");
        int r = check_int_bounds(p, negative, magnitude);
        if (r < 0)
                return r;
        if (p->rule->is_unsigned) {
                r = bind_fixed(p, MYSQL_TYPE_LONGLONG, &magnitude, sizeof(magnitude));
                if (r == 0 && p->bind != NULL)
                        p->bind->is_unsigned = 1;
                return r;
        }
        /* -(2^63) has no positive twin: negate in unsigned arithmetic. */
        int64_t value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
        return bind_fixed(p, MYSQL_TYPE_LONGLONG, &value, sizeof(value));
}

/* ---- NUMBER ---- */

/* Whether s is -?digits[.digits][e[+-]digits] with at least one mantissa
 * digit (".5" and "5." included, as strtod takes them); no '+', no spaces,
 * no "nan"/"inf", no hex. */
static bool is_number_syntax(const char *s, size_t n)
{
        size_t i = n > 0 && s[0] == '-' ? 1 : 0;
        size_t mantissa = count_digits(s + i, n - i);

        i += mantissa;
        if (i < n && s[i] == '.') {
                i++;
                size_t fraction = count_digits(s + i, n - i);
                mantissa += fraction;
                i += fraction;
        }
        if (mantissa == 0)
                return false;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                size_t exponent = count_digits(s + i, n - i);
                if (exponent == 0)
                        return false;
                i += exponent;
        }
        return i == n;
}

/* The bound as written in a configuration: the fewest digits that read back. */
static void format_bound(double bound, char *out, size_t size)
{
        for (int digits = 1; digits <= 17; digits++) {
                snprintf(out, size, "%.*g", digits, bound);
                if (strtod(out, NULL) == bound)
                        return;
        }
}

static int check_number_bounds(parse_t *p, double value)
{
        const api_rule_t *r = p->rule;
        char bound[32];

        if (r->has_min && value < r->min) {
                format_bound(r->min, bound, sizeof(bound));
                return fail(p, "is below the minimum %s", bound);
        }
        if (r->has_max && value > r->max) {
                format_bound(r->max, bound, sizeof(bound));
                return fail(p, "is above the maximum %s", bound);
        }
        return 0;
}

/* Converts a checked number; strtod and strtof need a terminated copy. A float
 * is read from the text itself, since rounding to double first and then to
 * float can round twice. The bounds are checked on the double, what the
 * client wrote, so that max 0.1 still admits 0.1 when 0.1f is a bit above. */
static int convert_number(parse_t *p, const char *copy)
{
        double value = strtod(copy, NULL);

        if (isinf(value))
                return fail(p, "is out of range");
        if (p->rule->is_float) {
                float f = strtof(copy, NULL);
                if (isinf(f))
                        return fail(p, "is out of range for a float");
                int r = check_number_bounds(p, value);
                return r < 0 ? r : bind_fixed(p, MYSQL_TYPE_FLOAT, &f, sizeof(f));
        }
        int r = check_number_bounds(p, value);
        return r < 0 ? r : bind_fixed(p, MYSQL_TYPE_DOUBLE, &value, sizeof(value));
}

static int parse_number(parse_t *p)
{
        if (!is_number_syntax(p->text, p->len))
                return fail(p, "is not a number");
        /* malloc, not the scope: a check-only call has no scope. */
        char *copy = malloc(p->len + 1);
        if (copy == NULL)
                return -ENOMEM;
        memcpy(copy, p->text, p->len);
        copy[p->len] = '\0';
        int r = convert_number(p, copy);
        free(copy);
        return r;
}

/* ---- DECIMAL ---- */

static int parse_decimal(parse_t *p)
{
        size_t i = p->len > 0 && p->text[0] == '-' ? 1 : 0;
        size_t whole = count_digits(p->text + i, p->len - i);
        size_t fraction = 0;

        i += whole;
        if (i < p->len && p->text[i] == '.') {
                i++;
                fraction = count_digits(p->text + i, p->len - i);
                if (fraction == 0)
                        return fail(p, "is not a decimal number");
                i += fraction;
        }
        if (whole == 0 || i != p->len)
                return fail(p, "is not a decimal number");
        if (whole + fraction > MAX_DECIMAL_DIGITS)
                return fail(p, "has more than %d digits", MAX_DECIMAL_DIGITS);
        /* Connector/C sends NEWDECIMAL as a length-encoded string, and the
         * server reads it as an exact decimal, never through a double. */
        return bind_bytes(p, MYSQL_TYPE_NEWDECIMAL, p->text, p->len);
}

/* ---- STRING ---- */

static int parse_string(parse_t *p)
{
        const unsigned char *s = (const unsigned char *)p->text;
        size_t characters = 0;

        for (size_t i = 0; i < p->len; characters++) {
                /* A NUL is valid UTF-8, but no column holds one on purpose and
                 * C code downstream would cut the value there. */
                if (s[i] == '\0')
                        return fail(p, "contains a NUL byte");
                size_t n = json_text_utf8_sequence_length(s + i, p->len - i);
                if (n == 0)
                        return fail(p, "is not valid UTF-8");
                i += n;
        }
        if (p->rule->max_length > 0 && characters > p->rule->max_length)
                return fail(p, "is longer than %zu characters", p->rule->max_length);
        return bind_bytes(p, MYSQL_TYPE_STRING, p->text, p->len);
}

/* ---- BOOLEAN ---- */

static bool text_is(const parse_t *p, const char *word)
{
        return p->len == strlen(word) && memcmp(p->text, word, p->len) == 0;
}

static int parse_boolean(parse_t *p)
{
        signed char value;

        if (text_is(p, "true") || text_is(p, "1"))
                value = 1;
        else if (text_is(p, "false") || text_is(p, "0"))
                value = 0;
        else
                return fail(p, "is not a boolean (true or false)");
        return bind_fixed(p, MYSQL_TYPE_TINY, &value, sizeof(value));
}

/* ---- DATE, DATETIME, TIME ---- */

/* Exactly n digits at s as a number. */
static bool fixed_digits(const char *s, size_t n, unsigned *ret)
{
        unsigned value = 0;

        for (size_t i = 0; i < n; i++) {
                if (!is_digit(s[i]))
                        return false;
                value = value * 10 + (unsigned)(s[i] - '0');
        }
        *ret = value;
        return true;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
        static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        return month == 2 && leap ? 29 : days[month - 1];
}

/* "YYYY-MM-DD" (the first 10 bytes of s, which has at least 10) as a real calendar date. */
static bool scan_date(const char *s, MYSQL_TIME *t)
{
        if (s[4] != '-' || s[7] != '-' || !fixed_digits(s, 4, &t->year) ||
            !fixed_digits(s + 5, 2, &t->month) || !fixed_digits(s + 8, 2, &t->day))
                return false;
        /* Years below 1000 and the zero date are outside MariaDB's documented
         * range, yet its default sql_mode stores them: rows can hold them,
         * and keyset cursors carry them back. */
        if (t->year == 0 && t->month == 0 && t->day == 0)
                return true;
        return t->month >= 1 && t->month <= 12 && t->day >= 1 &&
               t->day <= days_in_month(t->year, t->month);
}

/* "mm:ss" (5 bytes) after the hours. */
static bool scan_minutes_seconds(const char *s, MYSQL_TIME *t)
{
        return s[2] == ':' && fixed_digits(s, 2, &t->minute) &&
               fixed_digits(s + 3, 2, &t->second) && t->minute <= 59 && t->second <= 59;
}

/* Nothing, or '.' and 1..6 digits, as microseconds: ".5" is 500000. */
static bool scan_fraction(const char *s, size_t n, MYSQL_TIME *t)
{
        unsigned digits;

        t->second_part = 0;
        if (n == 0)
                return true;
        if (s[0] != '.' || n - 1 < 1 || n - 1 > MAX_FRACTION_DIGITS ||
            !fixed_digits(s + 1, n - 1, &digits))
                return false;
        for (size_t i = n - 1; i < MAX_FRACTION_DIGITS; i++)
                digits *= 10;
        t->second_part = digits;
        return true;
}

static int parse_date(parse_t *p)
{
        MYSQL_TIME t = { .time_type = MYSQL_TIMESTAMP_DATE };

        if (p->len != 10 || !scan_date(p->text, &t))
                return fail(p, "is not a valid date (YYYY-MM-DD)");
        return bind_fixed(p, MYSQL_TYPE_DATE, &t, sizeof(t));
}

static int parse_datetime(parse_t *p)
{
        MYSQL_TIME t = { .time_type = MYSQL_TIMESTAMP_DATETIME };
        const char *s = p->text;

        /* YYYY-MM-DDThh:mm:ss is 19 bytes. */
        if (p->len < 19 || !scan_date(s, &t) || (s[10] != 'T' && s[10] != ' ') ||
            !fixed_digits(s + 11, 2, &t.hour) || t.hour > 23 || s[13] != ':' ||
            !scan_minutes_seconds(s + 14, &t) || !scan_fraction(s + 19, p->len - 19, &t))
                return fail(p, "is not a valid datetime (YYYY-MM-DD hh:mm:ss[.ffffff])");
        return bind_fixed(p, MYSQL_TYPE_DATETIME, &t, sizeof(t));
}

static int parse_time(parse_t *p)
{
        MYSQL_TIME t = { .time_type = MYSQL_TIMESTAMP_TIME };
        size_t i = p->len > 0 && p->text[0] == '-' ? 1 : 0;
        size_t hour_digits = count_digits(p->text + i, p->len - i);
        unsigned hours;

        if (hour_digits < 1 || hour_digits > 3 || p->len - i - hour_digits < 6 ||
            p->text[i + hour_digits] != ':' || !fixed_digits(p->text + i, hour_digits, &hours) ||
            hours > MAX_TIME_HOURS)
                return fail(p, "is not a valid time ([-]hh:mm:ss[.ffffff])");
        i += hour_digits + 1;
        if (!scan_minutes_seconds(p->text + i, &t) ||
            !scan_fraction(p->text + i + 5, p->len - i - 5, &t))
                return fail(p, "is not a valid time ([-]hh:mm:ss[.ffffff])");
        /* The binary protocol carries hours in one byte beside a day count
         * (the server adds them up): 100:00:00 goes as 4 days and 4 hours. */
        t.day = hours / 24;
        t.hour = hours % 24;
        t.neg = p->text[0] == '-' && (hours || t.minute || t.second || t.second_part);
        return bind_fixed(p, MYSQL_TYPE_TIME, &t, sizeof(t));
}

/* ---- ENUM ---- */

static int fail_enum(parse_t *p)
{
        const api_rule_t *r = p->rule;
        size_t used;

        fail(p, "is not one of: ");
        if (p->reason == NULL || p->reason_size == 0)
                return -EINVAL;
        for (size_t i = 0; i < r->value_count; i++) {
                used = strlen(p->reason);
                snprintf(p->reason + used, p->reason_size - used, "%s", i > 0 ? ", " : "");
                /* A reason is one line: control characters in a value are shown escaped. */
                for (const unsigned char *c = (const unsigned char *)r->values[i]; *c; c++) {
                        used = strlen(p->reason);
                        snprintf(p->reason + used, p->reason_size - used,
                                 *c < 0x20 || *c == 0x7f ? "\\x%02x" : "%c", *c);
                }
        }
        return -EINVAL;
}

static int parse_enum(parse_t *p)
{
        for (size_t i = 0; i < p->rule->value_count; i++) {
                const char *value = p->rule->values[i];
                if (strlen(value) == p->len && memcmp(value, p->text, p->len) == 0)
                        return bind_bytes(p, MYSQL_TYPE_STRING, p->text, p->len);
        }
        return fail_enum(p);
}

/* ---- BINARY ---- */

/* A base64 digit's value in the standard or the URL-safe alphabet, or -1. */
static int base64_digit(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

/*
 * The number of base64 digits in s without its padding; false when the
 * padding is wrong. Padding is optional, but when present it must complete
 * the last group of four: "QQ==" and "QQ" are fine, "QQ=" and "QQ===" not.
 */
static bool base64_unpadded_length(const char *s, size_t n, size_t *ret_digits)
{
        size_t pad = 0;

        while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
                pad++;
        size_t digits = n - pad;
        if (digits % 4 == 1 || (pad > 0 && (n % 4 != 0 || digits % 4 + pad != 4)))
                return false;
        *ret_digits = digits;
        return true;
}

/*
 * Decodes n base64 digits (no padding) into out, or only checks them when out
 * is NULL. The unused low bits of a last partial group must be zero, so every
 * byte string has exactly one accepted spelling per alphabet.
 */
static bool base64_decode(const char *s, size_t n, unsigned char *out)
{
        uint32_t bits = 0;
        size_t held = 0, o = 0;

        for (size_t i = 0; i < n; i++) {
                int d = base64_digit((unsigned char)s[i]);
                if (d < 0)
                        return false;
                bits = bits << 6 | (uint32_t)d;
                held += 6;
                if (held >= 8) {
                        held -= 8;
                        if (out != NULL)
                                out[o] = (unsigned char)(bits >> held);
                        o++;
                        bits &= (1u << held) - 1;
                }
        }
        return bits == 0;
}

static int parse_binary(parse_t *p)
{
        size_t digits;

        if (!base64_unpadded_length(p->text, p->len, &digits) ||
            !base64_decode(p->text, digits, NULL))
                return fail(p, "is not valid base64");
        /* Four digits make three bytes; a last group of 2 or 3 digits makes 1 or 2. */
        size_t size = digits / 4 * 3 + (digits % 4 > 0 ? digits % 4 - 1 : 0);
        if (p->rule->max_length > 0 && size > p->rule->max_length)
                return fail(p, "is longer than %zu bytes", p->rule->max_length);
        if (p->bind == NULL)
                return 0;
        unsigned char *bytes = scope_alloc(p->scope, size + 1);
        unsigned long *length = scope_alloc(p->scope, sizeof(*length));
        if (bytes == NULL || length == NULL)
                return -ENOMEM;
        base64_decode(p->text, digits, bytes);
        *length = size;
        p->bind->buffer_type = MYSQL_TYPE_BLOB;
        p->bind->buffer = bytes;
        p->bind->buffer_length = size;
        p->bind->length = length;
        return 0;
}

/* ---- dispatch ---- */

int typed_value_parse(const api_rule_t *rule, const char *text, size_t len, scope_t *scope,
                      MYSQL_BIND *ret_bind, char *reason, size_t reason_size)
{
        parse_t p = { rule, text, len, scope, ret_bind, reason, reason_size };

        if (ret_bind != NULL)
                memset(ret_bind, 0, sizeof(*ret_bind));
        switch (rule->type) {
        case API_TYPE_INT:
                return parse_int(&p);
        case API_TYPE_NUMBER:
                return parse_number(&p);
        case API_TYPE_DECIMAL:
                return parse_decimal(&p);
        case API_TYPE_STRING:
                return parse_string(&p);
        case API_TYPE_BOOLEAN:
                return parse_boolean(&p);
        case API_TYPE_DATE:
                return parse_date(&p);
        case API_TYPE_DATETIME:
                return parse_datetime(&p);
        case API_TYPE_TIME:
                return parse_time(&p);
        case API_TYPE_ENUM:
                return parse_enum(&p);
        case API_TYPE_BINARY:
                return parse_binary(&p);
        case API_TYPE_JSON:
                return fail(&p, "cannot be compared");
        }
        return fail(&p, "has a type that cannot be compared");
}

int typed_value_copy(const MYSQL_BIND *from, scope_t *scope, MYSQL_BIND *ret_bind)
{
        *ret_bind = *from;
        /* One byte more, as bind_bytes() has it: an empty value still has a buffer. */
        ret_bind->buffer = scope_strndup(scope, from->buffer, from->buffer_length);
        if (ret_bind->buffer == NULL)
                return -ENOMEM;
        if (from->length != NULL) {
                unsigned long *length = scope_alloc(scope, sizeof(*length));
                if (length == NULL)
                        return -ENOMEM;
                *length = *from->length;
                ret_bind->length = length;
        }
        return 0;
}

bool typed_value_equal(const MYSQL_BIND *a, const MYSQL_BIND *b)
{
        return a->buffer_type == b->buffer_type && a->is_unsigned == b->is_unsigned &&
               a->buffer_length == b->buffer_length &&
               memcmp(a->buffer, b->buffer, a->buffer_length) == 0;
}
