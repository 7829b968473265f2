/*
 * Accept-Encoding negotiation: the header is read once, element by element,
 * and each offered coding gets the weight of the element naming it (or of
 * "*"); the best weight wins.
 */
#include "http/accept_encoding.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* A weight in thousandths (q=0.5 is 500); UNSET: the header does not say. */
enum { UNSET = -1, MAX_OFFERED = 8 };

/* RFC 9110 tchar: what a coding name is made of. */
static bool is_tchar(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); -1 when malformed. */
static int parse_qvalue(const char *p, size_t len)
{
        int value, digits = 0;

        if (len == 0 || (p[0] != '0' && p[0] != '1'))
                return -1;
        value = (p[0] - '0') * 1000;
        if (len == 1)
                return value;
        if (p[1] != '.' || len > 5)
                return -1;
        for (size_t i = 2; i < len; i++) {
                if (p[i] < '0' || p[i] > '9' || (value == 1000 && p[i] != '0'))
                        return -1;
                value += (p[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
                digits++;
        }
        return value;
}

/*
 * The parameters after a coding's name, up to the element's end: the
 * weight (1000 without q), or -1 when they are malformed.
 */
static int parse_weight(const char *p, const char *end)
{
        int weight = 1000;

        while (p < end) {
                p = skip_ows(p);
                if (p == end)
                        break;
                if (*p != ';')
                        return -1;
                p = skip_ows(p + 1);
                const char *name = p;
                while (p < end && is_tchar(*p))
                        p++;
                size_t name_len = (size_t)(p - name);
                if (name_len == 0 || p == end || *p != '=')
                        return -1;
                const char *value = ++p;
                while (p < end && *p != ';' && *p != ' ' && *p != '\t')
                        p++;
                if (name_len == 1 && (name[0] == 'q' || name[0] == 'Q')) {
                        weight = parse_qvalue(value, (size_t)(p - value));
                        if (weight < 0)
                                return -1;
                }
        }
        return weight;
}

static bool names(const char *name, size_t len, const char *coding)
{
        return strlen(coding) == len && strncasecmp(name, coding, len) == 0;
}

/* Weights the header gives: offered codings, identity and "*". */
typedef struct weights {
        int offered[MAX_OFFERED];
        int identity;
        int any;
} weights_t;

static void take_element(const char *name, size_t len, int weight, const char *const *offered,
                         unsigned count, weights_t *w)
{
        if (len == 1 && name[0] == '*')
                w->any = weight;
        else if (names(name, len, "identity"))
                w->identity = weight;
        for (unsigned i = 0; i < count; i++)
                if (names(name, len, offered[i]) ||
                    (strcmp(offered[i], "gzip") == 0 && names(name, len, "x-gzip")))
                        w->offered[i] = weight;
}

static void read_header(const char *header, const char *const *offered, unsigned count,
                        weights_t *w)
{
        for (const char *p = header; *p != '\0';) {
                const char *end = strchr(p, ',');
                if (end == NULL)
                        end = p + strlen(p);
                const char *name = skip_ows(p);
                const char *q = name;
                while (q < end && is_tchar(*q))
                        q++;
                int weight = parse_weight(q, end);
                if (q > name && weight >= 0)
                        take_element(name, (size_t)(q - name), weight, offered, count, w);
                p = *end == ',' ? end + 1 : end;
        }
}

int accept_encoding_choose(const char *header, const char *const *offered, unsigned count)
{
        weights_t w = { .identity = UNSET, .any = UNSET };
        int best = ACCEPT_ENCODING_IDENTITY, best_weight = 0;

        if (header == NULL || count == 0)
                return ACCEPT_ENCODING_IDENTITY;
        if (count > MAX_OFFERED)
                count = MAX_OFFERED;
        for (unsigned i = 0; i < count; i++)
                w.offered[i] = UNSET;
        read_header(header, offered, count, &w);
        for (unsigned i = 0; i < count; i++) {
                int weight = w.offered[i] != UNSET ? w.offered[i] : w.any;
                if (weight > best_weight) {
                        best = (int)i;
                        best_weight = weight;
                }
        }
        /* Identity named (or "*") with a higher weight than every coding wins;
         * unnamed, it is the fallback and never beats a coding the client lists. */
        int identity = w.identity != UNSET ? w.identity : w.any;
        if (identity != UNSET && identity > best_weight)
                return ACCEPT_ENCODING_IDENTITY;
        return best;
}
