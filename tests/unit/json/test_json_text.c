/*
 * Unit tests for the JSON text writers: string escaping and UTF-8 repair,
 * shortest round-tripping numbers, base64, and the validity check.
 */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"
#include "json/json_text.h"
#include "test.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* What one writer call produced, as a malloc'd NUL-terminated string. */
typedef struct rendered {
        char *text;
        size_t len;
} rendered_t;

static rendered_t render_string(const char *bytes, size_t len)
{
        strbuf_t b = { 0 };
        rendered_t r;

        json_text_string(&b, bytes, len);
        r.text = strbuf_take(&b, &r.len);
        return r;
}

static rendered_t render_double(double value)
{
        strbuf_t b = { 0 };
        rendered_t r;

        json_text_double(&b, value);
        r.text = strbuf_take(&b, &r.len);
        return r;
}

static rendered_t render_float(float value)
{
        strbuf_t b = { 0 };
        rendered_t r;

        json_text_float(&b, value);
        r.text = strbuf_take(&b, &r.len);
        return r;
}

static rendered_t render_base64(const void *bytes, size_t len)
{
        strbuf_t b = { 0 };
        rendered_t r;

        json_text_base64(&b, bytes, len);
        r.text = strbuf_take(&b, &r.len);
        return r;
}

/* An independent strict UTF-8 check (RFC 3629, table 3-7 of Unicode). */
static bool is_valid_utf8(const unsigned char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                size_t n;
                unsigned char lo = 0x80, hi = 0xBF;

                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xC2 && c <= 0xDF) {
                        n = 2;
                } else if (c >= 0xE0 && c <= 0xEF) {
                        n = 3;
                        if (c == 0xE0)
                                lo = 0xA0;
                        if (c == 0xED)
                                hi = 0x9F;
                } else if (c >= 0xF0 && c <= 0xF4) {
                        n = 4;
                        if (c == 0xF0)
                                lo = 0x90;
                        if (c == 0xF4)
                                hi = 0x8F;
                } else {
                        return false;
                }
                if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
                        return false;
                for (size_t k = 2; k < n; k++)
                        if ((s[i + k] & 0xC0) != 0x80)
                                return false;
                i += n;
        }
        return true;
}

/* Decodes the writer's output with jansson; checks it is one JSON string
 * holding exactly expected. */
static void check_decodes_to(const rendered_t *r, const char *expected, size_t expected_len,
                             const char *file, int line)
{
        json_error_t error;
        json_t *value = json_loadb(r->text, r->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);

        if (value == NULL || !json_is_string(value)) {
                test_fail_header(file, line);
                fprintf(stderr, "output is not a JSON string (%s): ", value ? "other type" : error.text);
                test_print_bytes(r->text, r->len);
                fputc('\n', stderr);
        } else {
                test_check_mem(json_string_value(value), json_string_length(value), expected,
                               expected_len, file, line, "decoded output", "input");
        }
        json_decref(value);
}

#define ASSERT_DECODES_TO(r, expected, expected_len) \
        check_decodes_to((r), (expected), (expected_len), __FILE__, __LINE__)

/* ---- strings ---- */

/* The output for bytes must be exactly expected (both given with lengths). */
static void check_string(const char *bytes, size_t len, const char *expected, size_t expected_len,
                         const char *file, int line)
{
        rendered_t r = render_string(bytes, len);

        test_check_mem(r.text, r.len, expected, expected_len, file, line, "json_text_string",
                       "expected");
        free(r.text);
}

#define ASSERT_STRING(lit, expected) \
        check_string((lit), sizeof(lit) - 1, (expected), sizeof(expected) - 1, __FILE__, __LINE__)

static void test_string_plain_and_escapes(void)
{
        ASSERT_STRING("", "\"\"");
        ASSERT_STRING("hello", "\"hello\"");
        ASSERT_STRING("say \"hi\"", "\"say \\\"hi\\\"\"");
        ASSERT_STRING("a\\b", "\"a\\\\b\"");
        ASSERT_STRING("\\\"", "\"\\\\\\\"\"");
        ASSERT_STRING("/", "\"/\"");
        ASSERT_STRING("\x7f", "\"\x7f\"");
}

static void test_string_control_characters(void)
{
        static const char hex[] = "0123456789abcdef";
        int exact = 1;

        for (unsigned c = 0; c < 0x20; c++) {
                char in = (char)c;
                char expected[9] = { '"', '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '"', 0 };
                rendered_t r = render_string(&in, 1);
                /* \u00XX with either hex case is fine; nothing else is. */
                bool ok = r.len == 8 && strncasecmp(r.text, expected, 8) == 0;
                if (!ok) {
                        test_fail_header(__FILE__, __LINE__);
                        fprintf(stderr, "control character 0x%02x: ", c);
                        test_print_bytes(r.text, r.len);
                        fputc('\n', stderr);
                }
                exact &= ok;
                free(r.text);
        }
        ASSERT_TRUE(exact);

        rendered_t r = render_string("a\nb\tc\r", 6);
        ASSERT_DECODES_TO(&r, "a\nb\tc\r", 6);
        ASSERT_TRUE(memchr(r.text, '\n', r.len) == NULL);
        free(r.text);
}

static void test_string_embedded_nul(void)
{
        rendered_t r = render_string("a\0b", 3);

        ASSERT_EQ_MEM(r.text, r.len, "\"a\\u0000b\"", 10);
        ASSERT_DECODES_TO(&r, "a\0b", 3);
        free(r.text);
}

static void test_string_valid_utf8_passes_through(void)
{
        static const char *const samples[] = {
                "caf\xC3\xA9",                   /* U+00E9 */
                "\xE2\x82\xAC 5",                /* U+20AC */
                "\xF0\x9F\x98\x80",              /* U+1F600, an emoji */
                "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB", /* ZWJ sequence */
                "\xC2\x80",                      /* U+0080, the lowest 2-byte */
                "\xE0\xA0\x80",                  /* U+0800, the lowest 3-byte */
                "\xED\x9F\xBF",                  /* U+D7FF, just below the surrogates */
                "\xEE\x80\x80",                  /* U+E000, just above them */
                "\xEF\xBF\xBF",                  /* U+FFFF */
                "\xF0\x90\x80\x80",              /* U+10000 */
                "\xF4\x8F\xBF\xBF",              /* U+10FFFF, the highest */
                "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
        };

        for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
                size_t len = strlen(samples[i]);
                rendered_t r = render_string(samples[i], len);
                ASSERT_EQ_UINT(r.len, len + 2);
                if (r.len == len + 2)
                        ASSERT_EQ_MEM(r.text + 1, len, samples[i], len);
                ASSERT_DECODES_TO(&r, samples[i], len);
                free(r.text);
        }
}

static void test_string_single_invalid_bytes(void)
{
        /* A byte that can start nothing becomes exactly one U+FFFD. */
        ASSERT_STRING("a\x80z", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xBFz", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xC0z", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xC1z", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xF5z", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xF8z", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xFEz", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("a\xFFz", "\"a" REPLACEMENT "z\"");
        ASSERT_STRING("\x80", "\"" REPLACEMENT "\"");
        for (unsigned c = 0xF5; c <= 0xFF; c++) {
                char in[3] = { 'x', (char)c, 'y' };
                rendered_t r = render_string(in, 3);
                ASSERT_EQ_MEM(r.text, r.len, "\"x" REPLACEMENT "y\"", 7);
                free(r.text);
        }
}

/*
 * For longer invalid sequences the number of U+FFFD may follow either of the
 * policies Unicode allows, so the check is: the output is valid UTF-8, the
 * text around the bad bytes is intact, and in between there are only (one or
 * more) U+FFFD.
 */
static void check_repaired(const char *bytes, size_t len, const char *prefix, const char *suffix,
                           const char *file, int line)
{
        rendered_t r = render_string(bytes, len);
        size_t pre = strlen(prefix), suf = strlen(suffix);
        bool ok = r.len >= pre + suf + 2 + 3 && r.text[0] == '"' && r.text[r.len - 1] == '"' &&
                  is_valid_utf8((const unsigned char *)r.text, r.len) &&
                  memcmp(r.text + 1, prefix, pre) == 0 &&
                  memcmp(r.text + r.len - 1 - suf, suffix, suf) == 0;

        if (ok) {
                size_t middle = r.len - 2 - pre - suf;
                ok = middle % 3 == 0;
                for (size_t i = 0; ok && i < middle; i += 3)
                        ok = memcmp(r.text + 1 + pre + i, REPLACEMENT, 3) == 0;
        }
        if (ok) {
                test_pass();
        } else {
                test_fail_header(file, line);
                fputs("invalid UTF-8 not repaired: in ", stderr);
                test_print_bytes(bytes, len);
                fputs(", out ", stderr);
                test_print_bytes(r.text, r.len);
                fputc('\n', stderr);
        }
        free(r.text);
}

#define ASSERT_REPAIRED(lit, prefix, suffix) \
        check_repaired((lit), sizeof(lit) - 1, (prefix), (suffix), __FILE__, __LINE__)

static void test_string_invalid_sequences(void)
{
        /* overlong encodings */
        ASSERT_REPAIRED("a\xC0\x80z", "a", "z");
        ASSERT_REPAIRED("a\xC1\xBFz", "a", "z");
        ASSERT_REPAIRED("a\xE0\x80\xAFz", "a", "z");
        ASSERT_REPAIRED("a\xF0\x80\x80\xAFz", "a", "z");
        /* UTF-16 surrogates encoded in UTF-8 */
        ASSERT_REPAIRED("a\xED\xA0\x80z", "a", "z");
        ASSERT_REPAIRED("a\xED\xBF\xBFz", "a", "z");
        ASSERT_REPAIRED("\xED\xA0\xBD\xED\xB8\x80", "", "");
        /* past U+10FFFF */
        ASSERT_REPAIRED("a\xF4\x90\x80\x80z", "a", "z");
        /* truncated sequences, at the end and before other text */
        ASSERT_REPAIRED("a\xF0\x9F\x98", "a", "");
        ASSERT_REPAIRED("a\xF0\x9F", "a", "");
        ASSERT_REPAIRED("a\xE2\x82", "a", "");
        ASSERT_REPAIRED("a\xC3", "a", "");
        ASSERT_REPAIRED("a\xE2\x82z", "a", "z");
        ASSERT_REPAIRED("a\xF0\x9F\x98z", "a", "z");
        /* a lead byte followed by another lead byte keeps the second's character */
        ASSERT_REPAIRED("a\xC3\xC3\xA9", "a", "\xC3\xA9");
        /* valid text after the damage survives */
        ASSERT_REPAIRED("\xFF\xF0\x9F\x98\x80", "", "\xF0\x9F\x98\x80");
        /* a bad byte never swallows a quote or backslash after it */
        ASSERT_REPAIRED("\xE2\x82\"", "", "\\\"");
        ASSERT_REPAIRED("\xF0\x9F\\", "", "\\\\");
}

static void test_string_appends_to_existing_content(void)
{
        strbuf_t b = { 0 };
        size_t len;

        strbuf_append_str(&b, "{\"k\":");
        json_text_string(&b, "v\xFF", 2);
        strbuf_append_char(&b, '}');
        char *text = strbuf_take(&b, &len);
        ASSERT_EQ_MEM(text, len, "{\"k\":\"v" REPLACEMENT "\"}", 12);
        ASSERT_TRUE(json_text_is_valid(text, len));
        free(text);
}

static void test_string_long_and_random_bytes_stay_valid(void)
{
        enum { LEN = 5000 };
        static char bytes[LEN];
        uint32_t state = 12345;
        int all_valid = 1, all_quoted = 1;

        for (int round = 0; round < 50; round++) {
                for (size_t i = 0; i < LEN; i++) {
                        state = state * 1103515245u + 12345u;
                        bytes[i] = (char)(state >> 16);
                }
                rendered_t r = render_string(bytes, LEN);
                all_valid &= is_valid_utf8((const unsigned char *)r.text, r.len);
                /* Not json_text_is_valid(): jansson refuses \u0000 by default. */
                json_t *value = json_loadb(r.text, r.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                all_quoted &= json_is_string(value);
                json_decref(value);
                free(r.text);
        }
        ASSERT_TRUE(all_valid);
        ASSERT_TRUE(all_quoted);
}

/*
 * The output a byte-by-byte writer gives: what json_text_string must still
 * produce now that it skips plain runs a word at a time.
 */
static size_t model_string(const unsigned char *s, size_t len, char *out)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        out[o++] = '"';
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)c;
                } else if (c < 0x20) {
                        memcpy(out + o, "\\u00", 4);
                        out[o + 4] = hex[c >> 4];
                        out[o + 5] = hex[c & 15];
                        o += 6;
                } else if (n <= len - i && is_valid_utf8(s + i, n)) {
                        memcpy(out + o, s + i, n);
                        o += n;
                        i += n;
                        continue;
                } else {
                        memcpy(out + o, REPLACEMENT, 3);
                        o += 3;
                }
                i++;
        }
        out[o++] = '"';
        return o;
}

static void test_string_runs_match_byte_by_byte_model(void)
{
        static const char *const pieces[] = {
                "a", "plain ascii text", "0123456789abcdefghij", "\"", "\\", "\n", "\x01",
                "\x1f", "\x7f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x9A\x80", "\x80", "\xFF",
                "\xC3", "\xE2\x82", "\xF0\x9F\x9A", "\xED\xA0\x80", "\xC0\xAF", " ", "~",
        };
        enum { PIECES = sizeof(pieces) / sizeof(pieces[0]), MAX = 400 };
        unsigned char in[MAX];
        char expected[MAX * 6 + 2];
        uint32_t state = 2463534242u;
        int bad = 0;

        for (int round = 0; round < 20000; round++) {
                size_t len = 0;
                /* Padding first, so every piece lands at every offset in a word. */
                for (int pad = round % 16; pad > 0; pad--)
                        in[len++] = 'p';
                for (int k = 0; k < 12; k++) {
                        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
                        const char *piece = pieces[state % PIECES];
                        size_t n = strlen(piece);
                        memcpy(in + len, piece, n);
                        len += n;
                }
                rendered_t r = render_string((const char *)in, len);
                size_t expected_len = model_string(in, len, expected);
                if (r.len != expected_len || memcmp(r.text, expected, r.len) != 0) {
                        if (bad++ < 3) {
                                test_fail_header(__FILE__, __LINE__);
                                test_print_bytes(in, len);
                                fputs(" written as ", stderr);
                                test_print_bytes(r.text, r.len);
                                fputc('\n', stderr);
                        }
                }
                free(r.text);
        }
        ASSERT_EQ_INT(bad, 0);
}

/* ---- doubles ---- */

/* The fewest significant digits %.Ng needs to read back as value. */
static int shortest_precision(double value)
{
        char text[40];

        for (int p = 1; p <= 17; p++) {
                snprintf(text, sizeof(text), "%.*g", p, value);
                if (strtod(text, NULL) == value)
                        return p;
        }
        return 17;
}

/* Significant digits in a decimal such as -1.2300e+05 (leading zeros skipped). */
static int significant_digits(const char *text)
{
        int digits = 0, pending_zeros = 0;
        bool started = false;

        for (const char *p = text; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
                if (*p < '0' || *p > '9')
                        continue;
                if (*p == '0' && !started)
                        continue;
                started = true;
                if (*p == '0') {
                        pending_zeros++;
                } else {
                        digits += pending_zeros + 1;
                        pending_zeros = 0;
                }
        }
        return digits;
}

/* Whether text is a JSON number token, by the RFC 8259 grammar. */
static bool is_json_number(const char *t)
{
        if (*t == '-')
                t++;
        if (*t == '0')
                t++;
        else if (*t >= '1' && *t <= '9')
                while (*t >= '0' && *t <= '9')
                        t++;
        else
                return false;
        if (*t == '.') {
                t++;
                if (*t < '0' || *t > '9')
                        return false;
                while (*t >= '0' && *t <= '9')
                        t++;
        }
        if (*t == 'e' || *t == 'E') {
                t++;
                if (*t == '+' || *t == '-')
                        t++;
                if (*t < '0' || *t > '9')
                        return false;
                while (*t >= '0' && *t <= '9')
                        t++;
        }
        return *t == '\0';
}

static void check_double(double value, const char *expected, const char *file, int line)
{
        rendered_t r = render_double(value);
        bool round_trips = strtod(r.text, NULL) == value && !!signbit(strtod(r.text, NULL)) == !!signbit(value);
        bool shortest = significant_digits(r.text) == shortest_precision(value) ||
                        (value == 0 && significant_digits(r.text) == 0);

        if (expected != NULL)
                test_check_str(r.text, expected, file, line, "json_text_double", expected);
        if (round_trips && shortest && is_json_number(r.text)) {
                test_pass();
        } else {
                test_fail_header(file, line);
                fprintf(stderr, "%.17g written as \"%s\":%s%s%s\n", value, r.text,
                        round_trips ? "" : " does not read back",
                        shortest ? "" : " not the shortest form",
                        is_json_number(r.text) ? "" : " not a JSON number");
        }
        free(r.text);
}

#define ASSERT_DOUBLE(value, expected) check_double((value), (expected), __FILE__, __LINE__)

static void test_double_short_forms(void)
{
        ASSERT_DOUBLE(0.1, "0.1");
        ASSERT_DOUBLE(0.0, "0");
        ASSERT_DOUBLE(-0.0, "-0");
        ASSERT_DOUBLE(1.0, "1");
        ASSERT_DOUBLE(-1.5, "-1.5");
        /* Whatever the notation, 100 needs one significant digit. */
        ASSERT_DOUBLE(100.0, NULL);
        ASSERT_DOUBLE(1500.0, NULL);
        ASSERT_DOUBLE(0.30000000000000004, "0.30000000000000004");
        ASSERT_DOUBLE(0.1 + 0.2, "0.30000000000000004");
        ASSERT_DOUBLE(9007199254740992.0, "9007199254740992");
        ASSERT_DOUBLE(123.456, "123.456");
}

static void test_double_exponents_and_extremes(void)
{
        rendered_t r = render_double(1e300);
        ASSERT_TRUE(strcmp(r.text, "1e+300") == 0 || strcmp(r.text, "1e300") == 0);
        free(r.text);
        ASSERT_DOUBLE(1e300, NULL);
        ASSERT_DOUBLE(-1e-300, NULL);
        ASSERT_DOUBLE(123456789012345680.0, NULL);
        r = render_double(123456789012345680.0);
        ASSERT_EQ_INT(significant_digits(r.text), 17);
        free(r.text);
        ASSERT_DOUBLE(DBL_MAX, NULL);
        ASSERT_DOUBLE(-DBL_MAX, NULL);
        ASSERT_DOUBLE(DBL_MIN, NULL);
        ASSERT_DOUBLE(DBL_EPSILON, NULL);
        ASSERT_DOUBLE(1.0 / 3.0, NULL);
        ASSERT_DOUBLE(2.0 / 3.0, NULL);
        ASSERT_DOUBLE(5e-300, NULL);
}

static void test_double_not_finite_is_null(void)
{
        rendered_t r = render_double(NAN);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
        r = render_double(INFINITY);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
        r = render_double(-INFINITY);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
}

static uint64_t next_random(uint64_t *state)
{
        /* xorshift64*: deterministic, so a failure can be replayed. */
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * 2685821657736338717ull;
}

static void test_double_random_values_round_trip_shortest(void)
{
        uint64_t state = 88172645463325252ull;
        int bad = 0, tried = 0;

        for (int i = 0; i < 20000; i++) {
                uint64_t bits = next_random(&state);
                double value;
                memcpy(&value, &bits, sizeof(value));
                if (!isfinite(value) || value == 0)
                        continue;
                tried++;
                rendered_t r = render_double(value);
                if (strtod(r.text, NULL) != value ||
                    significant_digits(r.text) != shortest_precision(value) ||
                    !is_json_number(r.text)) {
                        if (bad++ < 5)
                                fprintf(stderr, "  %.17g written as \"%s\"\n", value, r.text);
                }
                free(r.text);
        }
        ASSERT_TRUE(tried > 15000);
        ASSERT_EQ_INT(bad, 0);

        /* Decimals as a database holds them: at most 15 significant digits. */
        bad = 0;
        for (int i = 0; i < 20000; i++) {
                char text[40];
                long long mantissa = (long long)(next_random(&state) % 1000000000000000ull);
                int exponent = (int)(next_random(&state) % 41) - 20;
                snprintf(text, sizeof(text), "%llde%d", mantissa, exponent);
                double value = strtod(text, NULL);
                rendered_t r = render_double(value);
                if (strtod(r.text, NULL) != value ||
                    significant_digits(r.text) > significant_digits(text))
                        if (bad++ < 5)
                                fprintf(stderr, "  %s written as \"%s\"\n", text, r.text);
                free(r.text);
        }
        ASSERT_EQ_INT(bad, 0);
}

/* The significant digits of a number's text, without leading or trailing zeros. */
static void digits_of(const char *text, char *out)
{
        char *o = out;

        for (const char *p = text; *p != '\0' && *p != 'e' && *p != 'E'; p++)
                if (*p >= '0' && *p <= '9' && (o > out || *p != '0'))
                        *o++ = *p;
        while (o > out && o[-1] == '0')
                o--;
        *o = '\0';
}

/*
 * Whether value is written with printf's own correctly rounded digits at the
 * shortest precision, not merely some digits that read back; prints the
 * first few that are not.
 */
static bool matches_printf(double value, int *bad)
{
        rendered_t r = render_double(value);
        int p = shortest_precision(value);
        char expected[40], got[40], printed[40];
        snprintf(printed, sizeof(printed), "%.*e", p - 1, value);
        digits_of(printed, expected);
        digits_of(r.text, got);
        bool ok = strtod(r.text, NULL) == value && strcmp(got, expected) == 0 &&
                  is_json_number(r.text);
        if (!ok && (*bad)++ < 5)
                fprintf(stderr, "  %.17g written as \"%s\", printf: %s\n", value, r.text, printed);
        free(r.text);
        return ok;
}

/* Values of everyday magnitudes, which queryd writes without printf. */
static void test_double_everyday_magnitudes_match_printf(void)
{
        uint64_t state = 0x2545F4914F6CDD1Dull;
        int bad = 0;

        for (int i = 0; i < 50000; i++) {
                uint64_t bits = next_random(&state);
                double value = ldexp((double)(bits >> 11), (int)(bits % 181) - 90 - 53);
                if (bits & 1024)
                        value = -value;
                if (value == 0)
                        continue;
                matches_printf(value, &bad);
        }
        ASSERT_EQ_INT(bad, 0);
}

/*
 * Values that need 16 or 17 digits, whose candidates are too long for a
 * double's exact arithmetic and are read back with a long double: ratios
 * such as a database computes, and large integers next to the midpoints
 * between doubles, where that shortcut must hand over to strtod.
 */
static void test_double_long_forms_match_printf(void)
{
        uint64_t state = 0x9E3779B97F4A7C15ull;
        int bad = 0;

        for (int i = 0; i < 20000; i++) {
                long long num = (long long)(next_random(&state) % 2000001) - 1000000;
                double den = (double)(next_random(&state) % 997 + 1);
                matches_printf((double)num / den, &bad);
                /* A double of 2^54..2^64, its neighbours, and the ones beside its midpoints. */
                double big = ldexp((double)(next_random(&state) >> 11), 1 + (int)(i % 11));
                matches_printf(big, &bad);
                matches_printf(nextafter(big, 0), &bad);
                matches_printf(nextafter(big, INFINITY), &bad);
                matches_printf(big * 10, &bad);
                matches_printf(big / 1e4, &bad);
        }
        ASSERT_EQ_INT(bad, 0);

        /* Candidates a long double rounds onto a midpoint between two doubles. */
        ASSERT_DOUBLE(3.2085731396499857e-11, "3.208573139649986e-11");
        ASSERT_DOUBLE(4.4419490414683674e-12, "4.4419490414683674e-12");
        ASSERT_DOUBLE(3.3732310052460597e-13, "3.3732310052460597e-13");
        ASSERT_DOUBLE(1.8485381013352931e-10, "1.848538101335293e-10");
        ASSERT_DOUBLE(3.9697067196114267e-10, "3.9697067196114267e-10");
        ASSERT_DOUBLE(-3.5336924176068567e+39, "-3.5336924176068567e+39");
        ASSERT_DOUBLE(-5.7911465142747976e+38, "-5.791146514274798e+38");
}

/* Up to DBL_DIG digits one read-back decides (json_text.c, shortest_decimal);
 * these sit on either side of that line. */
static void test_double_around_fifteen_digits(void)
{
        ASSERT_DOUBLE(123456789012345.0, "123456789012345");
        ASSERT_DOUBLE(0.123456789012345, "0.123456789012345");
        ASSERT_DOUBLE(999999999999999.0, "999999999999999");
        ASSERT_DOUBLE(9999999999999998.0, "9999999999999998");
        ASSERT_DOUBLE(1.0 / 3.0, "0.3333333333333333");
        ASSERT_DOUBLE(2.0 / 3.0, "0.6666666666666666");
        ASSERT_DOUBLE(1.0 / 7.0, "0.14285714285714285");
        ASSERT_DOUBLE(0.1 + 0.7, "0.7999999999999999");
        ASSERT_DOUBLE(1e15 + 0.3, "1000000000000000.2");
}

static void test_double_subnormal_shortest(void)
{
        ASSERT_DOUBLE(5e-324, "5e-324");
        ASSERT_DOUBLE(1e-320, "1e-320");
        ASSERT_DOUBLE(-2.225073858507201e-308, "-2.225073858507201e-308");
}

/* ---- floats ---- */

static void check_float(float value, const char *expected, const char *file, int line)
{
        rendered_t r = render_float(value);
        int shortest = 9;
        char text[32];

        for (int p = 1; p <= 9; p++) {
                snprintf(text, sizeof(text), "%.*g", p, (double)value);
                if (strtof(text, NULL) == value) {
                        shortest = p;
                        break;
                }
        }
        if (expected != NULL)
                test_check_str(r.text, expected, file, line, "json_text_float", expected);
        bool ok = strtof(r.text, NULL) == value && is_json_number(r.text) &&
                  (significant_digits(r.text) == shortest || value == 0);
        if (ok) {
                test_pass();
        } else {
                test_fail_header(file, line);
                fprintf(stderr, "%.9g written as \"%s\" (shortest has %d digits)\n",
                        (double)value, r.text, shortest);
        }
        free(r.text);
}

#define ASSERT_FLOAT(value, expected) check_float((value), (expected), __FILE__, __LINE__)

static void test_float_values(void)
{
        ASSERT_FLOAT(1.1f, "1.1");
        ASSERT_FLOAT(0.1f, "0.1");
        ASSERT_FLOAT(-2.5f, "-2.5");
        ASSERT_FLOAT(16777216.0f, "16777216");
        ASSERT_FLOAT(100.0f, NULL);
        ASSERT_FLOAT(0.0f, "0");
        ASSERT_FLOAT(3.4028235e38f, NULL);
        ASSERT_FLOAT(FLT_MAX, NULL);
        ASSERT_FLOAT(FLT_MIN, NULL);
        ASSERT_FLOAT(1.0f / 3.0f, NULL);
        ASSERT_FLOAT(123456.789f, NULL);
        ASSERT_FLOAT(1e-45f, "1e-45"); /* the smallest subnormal */

        rendered_t r = render_float(3.4028235e38f);
        ASSERT_TRUE(strcmp(r.text, "3.4028235e+38") == 0 || strcmp(r.text, "3.4028235e38") == 0);
        free(r.text);
        r = render_float(-0.0f);
        ASSERT_EQ_STR(r.text, "-0");
        free(r.text);
}

static void test_float_not_finite_is_null(void)
{
        rendered_t r = render_float(NAN);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
        r = render_float(INFINITY);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
        r = render_float(-INFINITY);
        ASSERT_EQ_STR(r.text, "null");
        free(r.text);
}

static void test_float_random_values(void)
{
        uint64_t state = 2463534242ull;
        int bad = 0;

        for (int i = 0; i < 20000; i++) {
                uint32_t bits = (uint32_t)next_random(&state);
                float value;
                memcpy(&value, &bits, sizeof(value));
                if (!isfinite(value) || value == 0)
                        continue;
                rendered_t r = render_float(value);
                int shortest = 9;
                char text[32];
                for (int p = 1; p <= 9; p++) {
                        snprintf(text, sizeof(text), "%.*g", p, (double)value);
                        if (strtof(text, NULL) == value) {
                                shortest = p;
                                break;
                        }
                }
                if (strtof(r.text, NULL) != value || significant_digits(r.text) != shortest ||
                    !is_json_number(r.text))
                        if (bad++ < 5)
                                fprintf(stderr, "  %.9g written as \"%s\"\n", (double)value, r.text);
                free(r.text);
        }
        ASSERT_EQ_INT(bad, 0);
}

/* ---- base64 ---- */

static void check_base64(const void *bytes, size_t len, const char *expected, const char *file,
                         int line)
{
        rendered_t r = render_base64(bytes, len);

        test_check_str(r.text, expected, file, line, "json_text_base64", expected);
        free(r.text);
}

#define ASSERT_BASE64(lit, expected) \
        check_base64((lit), sizeof(lit) - 1, (expected), __FILE__, __LINE__)

static void test_base64_rfc4648_vectors(void)
{
        ASSERT_BASE64("", "\"\"");
        ASSERT_BASE64("f", "\"Zg==\"");
        ASSERT_BASE64("fo", "\"Zm8=\"");
        ASSERT_BASE64("foo", "\"Zm9v\"");
        ASSERT_BASE64("foob", "\"Zm9vYg==\"");
        ASSERT_BASE64("fooba", "\"Zm9vYmE=\"");
        ASSERT_BASE64("foobar", "\"Zm9vYmFy\"");
        ASSERT_BASE64("\xDE\xAD\xBE\xEF", "\"3q2+7w==\"");
        ASSERT_BASE64("\xFF\xFF\xFF", "\"////\"");
        ASSERT_BASE64("\xFB\xFF", "\"+/8=\"");
        ASSERT_BASE64("\0", "\"AA==\"");
        ASSERT_BASE64("\0\0\0", "\"AAAA\"");
}

static int base64_value(char c)
{
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(alphabet, c) : NULL;

        return p ? (int)(p - alphabet) : -1;
}

/* Decodes quoted, padded base64; the decoded length or -1 when malformed. */
static long decode_base64(const char *text, size_t len, unsigned char *out)
{
        long n = 0;

        if (len < 2 || text[0] != '"' || text[len - 1] != '"' || (len - 2) % 4 != 0)
                return -1;
        for (size_t i = 1; i + 1 < len; i += 4) {
                int v[4];
                for (int k = 0; k < 4; k++)
                        v[k] = text[i + k] == '=' ? 0 : base64_value(text[i + k]);
                if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
                        return -1;
                uint32_t group = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                                 (uint32_t)v[2] << 6 | (uint32_t)v[3];
                out[n++] = (unsigned char)(group >> 16);
                if (text[i + 2] != '=')
                        out[n++] = (unsigned char)(group >> 8);
                if (text[i + 3] != '=')
                        out[n++] = (unsigned char)group;
        }
        return n;
}

static void test_base64_round_trips_every_length(void)
{
        unsigned char bytes[300], decoded[300];
        int bad = 0;

        for (size_t i = 0; i < sizeof(bytes); i++)
                bytes[i] = (unsigned char)(i * 7 + 3);
        for (size_t len = 0; len < sizeof(bytes); len++) {
                rendered_t r = render_base64(bytes, len);
                long n = decode_base64(r.text, r.len, decoded);
                if (n != (long)len || memcmp(decoded, bytes, len) != 0 ||
                    r.len != (len + 2) / 3 * 4 + 2 || strlen(r.text) != r.len)
                        bad++;
                free(r.text);
        }
        ASSERT_EQ_INT(bad, 0);
}

static void test_base64_appends_after_content(void)
{
        strbuf_t b = { 0 };
        size_t len;

        /* Fill most of the first allocation so the reservation has to grow it. */
        for (int i = 0; i < 250; i++)
                strbuf_append_char(&b, 'x');
        json_text_base64(&b, (const unsigned char *)"foobar", 6);
        char *text = strbuf_take(&b, &len);
        ASSERT_EQ_UINT(len, 260);
        ASSERT_EQ_UINT(strlen(text), 260);
        ASSERT_EQ_MEM(text + 250, 10, "\"Zm9vYmFy\"", 10);
        free(text);
}

/* ---- json_text_is_valid ---- */

#define VALID(lit) json_text_is_valid((lit), sizeof(lit) - 1)

static void test_is_valid_accepts_json(void)
{
        ASSERT_TRUE(VALID("{}"));
        ASSERT_TRUE(VALID("[]"));
        ASSERT_TRUE(VALID("{\"a\":[1,2.5,-3e2,true,false,null],\"b\":{\"c\":\"d\"}}"));
        ASSERT_TRUE(VALID("\"text\""));
        ASSERT_TRUE(VALID("\"caf\xC3\xA9 \\u00e9 \\ud83d\\ude00\""));
        ASSERT_TRUE(VALID("0"));
        ASSERT_TRUE(VALID("-12.5e-3"));
        ASSERT_TRUE(VALID("true"));
        ASSERT_TRUE(VALID("null"));
        ASSERT_TRUE(VALID(" \t\r\n{ \"a\" : 1 }\n "));
        /* The length bounds the text: what follows it is not looked at. */
        ASSERT_TRUE(json_text_is_valid("{}garbage", 2));
}

static void test_is_valid_refuses_non_json(void)
{
        ASSERT_FALSE(VALID(""));
        ASSERT_FALSE(VALID("   "));
        ASSERT_FALSE(VALID("{"));
        ASSERT_FALSE(VALID("[1,]"));
        ASSERT_FALSE(VALID("{\"a\":1,}"));
        ASSERT_FALSE(VALID("{'a':1}"));
        ASSERT_FALSE(VALID("{a:1}"));
        ASSERT_FALSE(VALID("{\"a\" 1}"));
        ASSERT_FALSE(VALID("{\"a\":1}x"));
        ASSERT_FALSE(VALID("{}}"));
        ASSERT_FALSE(VALID("1 2"));
        ASSERT_FALSE(VALID("01"));
        ASSERT_FALSE(VALID("+1"));
        ASSERT_FALSE(VALID(".5"));
        ASSERT_FALSE(VALID("1."));
        ASSERT_FALSE(VALID("NaN"));
        ASSERT_FALSE(VALID("Infinity"));
        ASSERT_FALSE(VALID("tru"));
        ASSERT_FALSE(VALID("\"unterminated"));
        ASSERT_FALSE(VALID("\"a\nb\""));
        ASSERT_FALSE(VALID("\"\\x41\""));
        ASSERT_FALSE(VALID("\"\xFF\""));
        ASSERT_FALSE(VALID("\"\xC0\x80\""));
        ASSERT_FALSE(VALID("\xEF\xBB\xBF{}"));
        ASSERT_FALSE(json_text_is_valid("{\"a\":1}", 6));
        /* A NUL after a complete value is not whitespace. */
        ASSERT_FALSE(VALID("{}\0"));
        ASSERT_FALSE(VALID("[1]\0"));
        ASSERT_FALSE(VALID("\"x\"\0"));
}

/*
 * String contents are skipped a word at a time: whatever makes a string
 * valid or not must be seen wherever in a word it falls.
 */
static void test_is_valid_strings_at_every_offset(void)
{
        static const struct {
                const char *piece;
                bool valid;
        } cases[] = {
                { "plain", true },        { "\\\"", true },        { "\\\\", true },
                { "\\/\\b\\f\\n\\r\\t", true }, { "\\u00e9", true }, { "\\uABCD", true },
                { "\xC3\xA9", true },     { "\xF0\x9F\x9A\x80", true }, { "\x7f", true },
                { "\\u00g9", false },     { "\\u12", false },      { "\\x", false },
                { "\x01", false },        { "\x1f", false },       { "\n", false },
                { "\x80", false },        { "\xC3", false },       { "\xED\xA0\x80", false },
                { "\xFF", false },        { "\"", false },         { "\\ ", false },
        };
        char text[64];
        int bad = 0;

        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                for (size_t pad = 0; pad < 17; pad++) {
                        size_t len = 0, n = strlen(cases[k].piece);
                        text[len++] = '"';
                        memset(text + len, 'p', pad);
                        len += pad;
                        memcpy(text + len, cases[k].piece, n);
                        len += n;
                        memcpy(text + len, "tail text\"", 10);
                        len += 10;
                        if (json_text_is_valid(text, len) != cases[k].valid && bad++ < 5)
                                fprintf(stderr, "  piece %zu after %zu bytes: wrong verdict\n", k, pad);
                }
        }
        ASSERT_EQ_INT(bad, 0);
}

static void test_is_valid_nesting_limit(void)
{
        char text[2 * 513 + 1];

        for (size_t depth = 511; depth <= 513; depth++) {
                memset(text, '[', depth);
                memset(text + depth, ']', depth);
                if (depth <= 512)
                        ASSERT_TRUE(json_text_is_valid(text, 2 * depth));
                else
                        ASSERT_FALSE(json_text_is_valid(text, 2 * depth));
        }
}

/* "1e+02" has as few digits as "100" but is longer and surprising. */
static void test_integers_keep_plain_notation(void)
{
        ASSERT_DOUBLE(100.0, "100");
        ASSERT_DOUBLE(10.0, "10");
        ASSERT_DOUBLE(1500.0, "1500");
        ASSERT_DOUBLE(-120.0, "-120");
        ASSERT_FLOAT(100.0f, "100");
        ASSERT_FLOAT(2500.0f, "2500");
}

static void test_is_valid_nul_and_big_numbers(void)
{
        /* A scalar followed by a NUL byte is not one JSON value: embedding it
         * would put the NUL into the response body. */
        ASSERT_FALSE(VALID("1\0"));
        ASSERT_FALSE(VALID("null\0"));
        /* Valid JSON that a json_t could not hold. */
        ASSERT_TRUE(VALID("\"\\u0000\""));
        ASSERT_TRUE(VALID("99999999999999999999"));
}

/* ---- integers and fixed-width digits ---- */

static void check_integer_text(void (*write)(strbuf_t *, long long), long long value,
                               const char *printf_format, int line)
{
        strbuf_t out = { 0 };
        char expected[32];

        write(&out, value);
        snprintf(expected, sizeof(expected), printf_format, value);
        test_check_mem(out.data, out.len, expected, strlen(expected), __FILE__, line, "written",
                       "printf");
        strbuf_done(&out);
}

static void write_signed(strbuf_t *out, long long value)
{
        json_text_signed(out, value);
}

static void write_unsigned(strbuf_t *out, long long value)
{
        json_text_unsigned(out, (unsigned long long)value);
}

static void test_integers_match_printf(void)
{
        static const long long values[] = { 0, 1, -1, 9, 10, -10, 42, 9007199254740993LL,
                                            LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                check_integer_text(write_signed, values[i], "%lld", __LINE__);
                check_integer_text(write_unsigned, values[i], "%llu", __LINE__);
        }
}

static void test_digits_fixed_width(void)
{
        strbuf_t out = { 0 };

        json_text_digits(&out, 7, 2);
        json_text_digits(&out, 2024, 4);
        json_text_digits(&out, 5, 4);
        json_text_digits(&out, 123, 6);
        json_text_digits(&out, 0, 1);
        ASSERT_EQ_MEM(out.data, out.len, "07202400050001230", 17);
        strbuf_done(&out);

        /* The stack form writes the same digits and says where they end. */
        char text[8] = "xxxxxxx";
        char *end = json_text_put_digits(text, 59, 2);
        ASSERT_TRUE(end == text + 2);
        end = json_text_put_digits(end, 12345, 4); /* too wide: the high digit is cut */
        ASSERT_TRUE(end == text + 6);
        ASSERT_EQ_STR(text, "592345x");
}

int main(void)
{
        RUN_TEST(test_integers_match_printf);
        RUN_TEST(test_digits_fixed_width);
        RUN_TEST(test_string_plain_and_escapes);
        RUN_TEST(test_string_control_characters);
        RUN_TEST(test_string_embedded_nul);
        RUN_TEST(test_string_valid_utf8_passes_through);
        RUN_TEST(test_string_single_invalid_bytes);
        RUN_TEST(test_string_invalid_sequences);
        RUN_TEST(test_string_appends_to_existing_content);
        RUN_TEST(test_string_long_and_random_bytes_stay_valid);
        RUN_TEST(test_string_runs_match_byte_by_byte_model);
        RUN_TEST(test_double_short_forms);
        RUN_TEST(test_double_exponents_and_extremes);
        RUN_TEST(test_double_not_finite_is_null);
        RUN_TEST(test_double_everyday_magnitudes_match_printf);
        RUN_TEST(test_double_long_forms_match_printf);
        RUN_TEST(test_double_around_fifteen_digits);
        RUN_TEST(test_double_subnormal_shortest);
        RUN_TEST(test_double_random_values_round_trip_shortest);
        RUN_TEST(test_float_values);
        RUN_TEST(test_float_not_finite_is_null);
        RUN_TEST(test_float_random_values);
        RUN_TEST(test_base64_rfc4648_vectors);
        RUN_TEST(test_base64_round_trips_every_length);
        RUN_TEST(test_base64_appends_after_content);
        RUN_TEST(test_is_valid_accepts_json);
        RUN_TEST(test_is_valid_strings_at_every_offset);
        RUN_TEST(test_is_valid_nesting_limit);
        RUN_TEST(test_is_valid_refuses_non_json);
        RUN_TEST(test_integers_keep_plain_notation);
        RUN_TEST(test_is_valid_nul_and_big_numbers);
        return test_report();
}
