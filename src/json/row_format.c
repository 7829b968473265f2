/*
 * Accept negotiation for row lists. The header is a comma-separated list of
 * media ranges (type/subtype, where either may be the wildcard "*"), each
 * with optional parameters, of which only q matters here, for example
 * "text/csv;q=0.9, application/json;q=0.5".
 */
#include "json/row_format.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
        const char *type;
        const char *subtype;
        const char *content_type;
} formats[] = {
        [ROW_FORMAT_JSON] = { "application", "json", "application/json" },
        [ROW_FORMAT_NDJSON] = { "application", "x-ndjson", "application/x-ndjson" },
        [ROW_FORMAT_CSV] = { "text", "csv", "text/csv; charset=utf-8; header=present" },
};

enum { FORMAT_COUNT = sizeof(formats) / sizeof(formats[0]) };

/* How specifically a range matches: any type, any subtype of the type, exactly. */
enum { NO_MATCH = -1, ANY_TYPE = 0, ANY_SUBTYPE = 1, EXACT = 2 };

static const char *skip_space(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* The end of [s, end) without its trailing spaces and tabs. */
static const char *trim_end(const char *s, const char *end)
{
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        return end;
}

/* Compares the token at s (up to its end) with word, ignoring case. */
static bool token_is(const char *s, size_t len, const char *word)
{
        return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* How the range type/sub matches the media type want_type/want_sub. */
static int match(const char *type, size_t type_len, const char *sub, size_t sub_len,
                 const char *want_type, const char *want_sub)
{
        if (token_is(type, type_len, "*"))
                return token_is(sub, sub_len, "*") ? ANY_TYPE : NO_MATCH;
        if (!token_is(type, type_len, want_type))
                return NO_MATCH;
        if (token_is(sub, sub_len, "*"))
                return ANY_SUBTYPE;
        return token_is(sub, sub_len, want_sub) ? EXACT : NO_MATCH;
}

/* q=0..1 with at most three decimals, as thousandths; -1 if malformed. */
static int parse_quality(const char *s, size_t len)
{
        int q = 0, digits = 0;

        if (len == 0 || (s[0] != '0' && s[0] != '1'))
                return -1;
        q = (s[0] - '0') * 1000;
        if (len == 1)
                return q;
        if (s[1] != '.' || len > 5)
                return -1;
        for (size_t i = 2; i < len; i++) {
                if (s[i] < '0' || s[i] > '9' || (q == 1000 && s[i] != '0'))
                        return -1;
                q += (s[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
                digits++;
        }
        return q;
}

/* The q parameter of a range's parameters (";a=b;q=0.5"), 1000 when absent. */
static int range_quality(const char *params, const char *end)
{
        int q = 1000;

        while (params < end && *params == ';') {
                const char *name = skip_space(params + 1);
                const char *next = memchr(name, ';', (size_t)(end - name));
                const char *stop = next ? next : end;
                const char *eq = memchr(name, '=', (size_t)(stop - name));
                if (eq != NULL && eq - name == 1 && (*name == 'q' || *name == 'Q')) {
                        const char *value = skip_space(eq + 1);
                        q = parse_quality(value, (size_t)(trim_end(value, stop) - value));
                }
                params = stop;
        }
        return q;
}

/* Reads one media range [s, end) and updates the best match of each of the
 * count media types want (type, subtype pairs). Returns false when its
 * weight is malformed. */
static bool weigh_range(const char *s, const char *end, const char *const want[][2], int count,
                        int specificity[], int quality[])
{
        s = skip_space(s);
        const char *params = memchr(s, ';', (size_t)(end - s));
        const char *range_end = params ? params : end;
        const char *slash = memchr(s, '/', (size_t)(range_end - s));
        if (slash == NULL)
                return true; /* not a media range: ignored */
        const char *sub = slash + 1;
        const char *sub_end = trim_end(sub, range_end);
        int q = range_quality(params ? params : end, end);
        if (q < 0)
                return false;
        for (int f = 0; f < count; f++) {
                int m = match(s, (size_t)(slash - s), sub, (size_t)(sub_end - sub), want[f][0],
                              want[f][1]);
                if (m > specificity[f]) {
                        specificity[f] = m;
                        quality[f] = q;
                }
        }
        return true;
}

/* Each of the count media types' quality in the header: that of its most
 * specific range, 0 when none matches. Returns false when a range's weight
 * is malformed (what the header asks for is then unknown). */
static bool weigh(const char *accept, const char *const want[][2], int count, int quality[])
{
        int specificity[FORMAT_COUNT];

        for (int f = 0; f < count; f++) {
                specificity[f] = NO_MATCH;
                quality[f] = 0;
        }
        for (const char *s = accept; *s != '\0';) {
                const char *comma = strchr(s, ',');
                const char *end = comma ? comma : s + strlen(s);
                if (!weigh_range(s, end, want, count, specificity, quality))
                        return false;
                s = comma ? comma + 1 : end;
        }
        return true;
}

int row_format_negotiate(const char *accept, row_format_t *ret_format)
{
        const char *want[FORMAT_COUNT][2];
        int quality[FORMAT_COUNT];
        int best = -1;

        if (accept == NULL || *skip_space(accept) == '\0') {
                *ret_format = ROW_FORMAT_JSON;
                return 0;
        }
        for (int f = 0; f < FORMAT_COUNT; f++) {
                want[f][0] = formats[f].type;
                want[f][1] = formats[f].subtype;
        }
        if (!weigh(accept, want, FORMAT_COUNT, quality))
                return -EINVAL;
        for (int f = 0; f < FORMAT_COUNT; f++)
                if (quality[f] > 0 && (best < 0 || quality[f] > quality[best]))
                        best = f;
        if (best < 0)
                return -1;
        *ret_format = (row_format_t)best;
        return 0;
}

int row_format_quality(const char *accept, const char *type, const char *subtype)
{
        const char *want[1][2] = { { type, subtype } };
        int quality[1];

        if (accept == NULL || *skip_space(accept) == '\0')
                return 1000;
        if (!weigh(accept, want, 1, quality))
                return 0;
        return quality[0];
}

const char *row_format_content_type(row_format_t format)
{
        return formats[format].content_type;
}
