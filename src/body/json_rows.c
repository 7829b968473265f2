/*
 * One JSON object, whole in memory, parsed into a row: keys and strings
 * decoded to UTF-8, numbers and nested values kept as the text written (a
 * double would lose digits a DECIMAL column holds), every part checked
 * against RFC 8259. Decoded text never outgrows the text it came from.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "body/body_private.h"
#include "json/json_text.h"

/* Bytes that end a run of string content copied as it is. */
#define STOP16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define PASS16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char STRING_STOPS[256] = {
        STOP16, STOP16,                                           /* control characters */
        0,      0,      1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
        PASS16, PASS16,
        0,      0,      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
        PASS16, PASS16,
        STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, STOP16, /* not ASCII */
};

static const char *skip_ws(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static int hex4(const unsigned char *p, uint32_t *ret)
{
        uint32_t v = 0;

        for (int i = 0; i < 4; i++) {
                unsigned char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t)(c - 'A' + 10);
                else
                        return -1;
        }
        *ret = v;
        return 0;
}

static char *put_utf8(char *d, uint32_t cp)
{
        if (cp < 0x80) {
                *d++ = (char)cp;
        } else if (cp < 0x800) {
                *d++ = (char)(0xC0 | (cp >> 6));
                *d++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
                *d++ = (char)(0xE0 | (cp >> 12));
                *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *d++ = (char)(0x80 | (cp & 0x3F));
        } else {
                *d++ = (char)(0xF0 | (cp >> 18));
                *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *d++ = (char)(0x80 | (cp & 0x3F));
        }
        return d;
}

/* A \u escape at p (and its low surrogate after it): the code point and its length. */
static int unicode_escape(body_reader_t *r, const unsigned char *p, const unsigned char *end,
                          uint32_t *ret_cp, size_t *ret_used)
{
        uint32_t hi, lo;

        if (end - p < 6 || hex4(p + 2, &hi) < 0)
                return body_fail(r, -EINVAL, "an invalid \\u escape in a string");
        if (hi >= 0xDC00 && hi <= 0xDFFF)
                return body_fail(r, -EINVAL, "a lone surrogate in a \\u escape");
        if (hi < 0xD800 || hi > 0xDBFF) {
                *ret_cp = hi;
                *ret_used = 6;
                return 0;
        }
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) < 0 || lo < 0xDC00 ||
            lo > 0xDFFF)
                return body_fail(r, -EINVAL, "a lone surrogate in a \\u escape");
        *ret_cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        *ret_used = 12;
        return 0;
}

/* The escape at *pp (a backslash), decoded at *dp; both move past it. */
static int unescape(body_reader_t *r, const unsigned char **pp, const unsigned char *end,
                    char **dp, bool allow_nul)
{
        static const char simple_from[] = "\"\\/bfnrt", simple_to[] = "\"\\/\b\f\n\r\t";
        const unsigned char *p = *pp;
        const char *hit;
        uint32_t cp = 0;
        size_t used;
        int rc;

        if (end - p < 2)
                return body_fail(r, -EINVAL, "a string is not closed");
        if (p[1] != 'u') {
                hit = p[1] != '\0' ? strchr(simple_from, p[1]) : NULL;
                if (hit == NULL)
                        return body_fail(r, -EINVAL, "an invalid escape in a string");
                *(*dp)++ = simple_to[hit - simple_from];
                *pp = p + 2;
                return 0;
        }
        rc = unicode_escape(r, p, end, &cp, &used);
        if (rc < 0)
                return rc;
        if (cp == 0 && !allow_nul)
                return body_fail(r, -EINVAL, "\\u0000 is not allowed in a string");
        *dp = put_utf8(*dp, cp);
        *pp = p + used;
        return 0;
}

/*
 * The string whose opening quote is at *pp, decoded and NUL-terminated at
 * the end of r->out; *ret_at and *ret_len say where. Moves *pp past it.
 */
static int parse_string(body_reader_t *r, const char **pp, const char *end, bool allow_nul,
                        size_t *ret_at, size_t *ret_len)
{
        const unsigned char *p = (const unsigned char *)*pp + 1;
        const unsigned char *e = (const unsigned char *)end;
        char *d, *start;
        size_t n;
        int rc;

        /* The decoded text is never longer than what is left of the row. */
        rc = body_out_reserve(r, (size_t)(e - p) + 1);
        if (rc < 0)
                return rc;
        start = d = r->out + r->out_len;
        for (;;) {
                const unsigned char *run = p;
                while (p < e && !STRING_STOPS[*p])
                        p++;
                memcpy(d, run, (size_t)(p - run));
                d += p - run;
                if (p == e)
                        return body_fail(r, -EINVAL, "a string is not closed");
                if (*p == '"')
                        break;
                if (*p == '\\') {
                        rc = unescape(r, &p, e, &d, allow_nul);
                        if (rc < 0)
                                return rc;
                        continue;
                }
                if (*p < 0x80)
                        return body_fail(r, -EINVAL, "a control character in a string");
                n = json_text_utf8_sequence_length(p, (size_t)(e - p));
                if (n == 0)
                        return body_fail(r, -EINVAL, "invalid UTF-8 in a string");
                memcpy(d, p, n);
                d += n;
                p += n;
        }
        *d = '\0';
        *ret_at = r->out_len;
        *ret_len = (size_t)(d - start);
        r->out_len += *ret_len + 1;
        *pp = (const char *)p + 1;
        return 0;
}

/* Moves *pp past a number that follows RFC 8259's grammar. */
static int scan_number(body_reader_t *r, const char **pp, const char *end)
{
        const char *p = *pp;

        if (p == end || (*p != '-' && !is_digit(*p)))
                return body_fail(r, -EINVAL, "expected a value");
        if (*p == '-')
                p++;
        if (p == end || !is_digit(*p))
                return body_fail(r, -EINVAL, "an invalid number");
        if (*p == '0')
                p++;
        else
                while (p < end && is_digit(*p))
                        p++;
        if (p < end && *p == '.') {
                if (++p == end || !is_digit(*p))
                        return body_fail(r, -EINVAL, "an invalid number");
                while (p < end && is_digit(*p))
                        p++;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                if (++p < end && (*p == '+' || *p == '-'))
                        p++;
                if (p == end || !is_digit(*p))
                        return body_fail(r, -EINVAL, "an invalid number");
                while (p < end && is_digit(*p))
                        p++;
        }
        if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
                        *p == '-'))
                return body_fail(r, -EINVAL, "an invalid number");
        *pp = p;
        return 0;
}

/* Moves *pp past the literal word (true, false, null) it must start with. */
static int scan_word(body_reader_t *r, const char **pp, const char *end, const char *word)
{
        size_t n = strlen(word);

        if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
                return body_fail(r, -EINVAL, "expected a value");
        *pp += n;
        return 0;
}

/* Moves *pp past any scalar value, checked; strings are decoded and dropped. */
static int skip_scalar(body_reader_t *r, const char **pp, const char *end)
{
        size_t at, len, mark = r->out_len;
        int rc;

        switch (**pp) {
        case '"':
                rc = parse_string(r, pp, end, true, &at, &len);
                r->out_len = mark;
                return rc;
        case 't':
                return scan_word(r, pp, end, "true");
        case 'f':
                return scan_word(r, pp, end, "false");
        case 'n':
                return scan_word(r, pp, end, "null");
        default:
                return scan_number(r, pp, end);
        }
}

/*
 * Moves *pp past the object or array it starts with, checking it all. The
 * stack holds each open container's closing bracket; want_key says a key
 * must come next (after '{' or a ',' inside an object).
 */
static int skip_nested(body_reader_t *r, const char **pp, const char *end)
{
        char closers[BODY_MAX_DEPTH];
        size_t depth = 0;
        const char *p = *pp;
        int rc;

        for (;;) {
                /* A value is at p. */
                if (p < end && (*p == '{' || *p == '[')) {
                        if (depth == BODY_MAX_DEPTH)
                                return body_fail(r, -EINVAL, "values nest deeper than %d levels",
                                                 BODY_MAX_DEPTH);
                        closers[depth++] = *p == '{' ? '}' : ']';
                        p = skip_ws(p + 1, end);
                        if (p < end && *p == closers[depth - 1]) {
                                p++;
                                depth--;
                                goto closed;
                        }
                        if (closers[depth - 1] == ']')
                                continue;
                        goto key;
                }
                if (p == end)
                        return body_fail(r, -EINVAL, "expected a value");
                rc = skip_scalar(r, &p, end);
                if (rc < 0)
                        return rc;
closed:
                /* A value ended; close every container that ends here. */
                for (;;) {
                        if (depth == 0) {
                                *pp = p;
                                return 0;
                        }
                        p = skip_ws(p, end);
                        if (p < end && *p == closers[depth - 1]) {
                                p++;
                                depth--;
                                continue;
                        }
                        if (p < end && *p == ',')
                                break;
                        return body_fail(r, -EINVAL, "expected ',' or '%c' in a nested value",
                                         closers[depth - 1]);
                }
                p = skip_ws(p + 1, end);
                if (closers[depth - 1] == ']')
                        continue;
key:
                if (p == end || *p != '"')
                        return body_fail(r, -EINVAL, "expected a key in a nested object");
                rc = skip_scalar(r, &p, end);
                if (rc < 0)
                        return rc;
                p = skip_ws(p, end);
                if (p == end || *p != ':')
                        return body_fail(r, -EINVAL, "expected ':' after a key");
                p = skip_ws(p + 1, end);
        }
}

/* The value at *pp, as the kind and text of slot s. */
static int parse_value(body_reader_t *r, const char **pp, const char *end, body_slot_t *s)
{
        const char *start = *pp;
        int rc;

        s->text_at = SIZE_MAX;
        s->len = 0;
        if (start == end)
                return body_fail(r, -EINVAL, "expected a value");
        switch (*start) {
        case '"':
                s->kind = BODY_STRING;
                return parse_string(r, pp, end, false, &s->text_at, &s->len);
        case 'n':
                s->kind = BODY_NULL;
                return scan_word(r, pp, end, "null");
        case 't':
                s->kind = BODY_TRUE;
                return scan_word(r, pp, end, "true");
        case 'f':
                s->kind = BODY_FALSE;
                return scan_word(r, pp, end, "false");
        case '{':
        case '[':
                s->kind = BODY_JSON;
                rc = skip_nested(r, pp, end);
                break;
        default:
                s->kind = BODY_NUMBER;
                rc = scan_number(r, pp, end);
                break;
        }
        if (rc < 0)
                return rc;
        s->len = (size_t)(*pp - start);
        rc = body_out_reserve(r, s->len + 1);
        if (rc < 0)
                return rc;
        s->text_at = r->out_len;
        memcpy(r->out + r->out_len, start, s->len);
        r->out[r->out_len + s->len] = '\0';
        r->out_len += s->len + 1;
        return 0;
}

static int duplicate_key(body_reader_t *r, const body_slot_t *s)
{
        const char *name = r->out + s->name_at;
        size_t shown = body_name_shown(name, s->name_len);

        return body_fail(r, -EINVAL, "duplicate key \"%.*s%s\"", (int)shown, name,
                         shown < s->name_len ? "..." : "");
}

/* One member "key": value at *pp, as a new slot. */
static int parse_member(body_reader_t *r, const char **pp, const char *end)
{
        body_slot_t *s;
        bool repeated;
        int rc = 0;

        if (*pp == end || **pp != '"')
                return body_fail(r, -EINVAL, "expected a key string");
        s = body_slot_add(r, &rc);
        if (s == NULL)
                return rc;
        rc = parse_string(r, pp, end, false, &s->name_at, &s->name_len);
        if (rc < 0)
                return rc;
        rc = body_name_repeated(r, r->slot_count - 1, &repeated);
        if (rc < 0)
                return rc;
        if (repeated)
                return duplicate_key(r, s);
        *pp = skip_ws(*pp, end);
        if (*pp == end || **pp != ':')
                return body_fail(r, -EINVAL, "expected ':' after a key");
        *pp = skip_ws(*pp + 1, end);
        return parse_value(r, pp, end, s);
}

int body_json_object(body_reader_t *r, const char *text, size_t len, bool line)
{
        const char *p = text, *end = text + len;
        int rc;

        body_row_clear(r);
        if (line) {
                p = skip_ws(p, end);
                if (p == end)
                        return 1;
                if (*p != '{')
                        return body_fail(r, -EINVAL, "a line is not a JSON object");
        }
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}') {
                p++;
        } else {
                for (;;) {
                        rc = parse_member(r, &p, end);
                        if (rc < 0)
                                return rc;
                        p = skip_ws(p, end);
                        if (p < end && *p == ',') {
                                p = skip_ws(p + 1, end);
                                continue;
                        }
                        if (p < end && *p == '}')
                                break;
                        return body_fail(r, -EINVAL, "expected ',' or '}' after a value");
                }
                p++;
        }
        if (line)
                p = skip_ws(p, end);
        if (p != end)
                return body_fail(r, -EINVAL, "text after the object on its line");
        return 0;
}
