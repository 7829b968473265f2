/* Prefer: a comma-separated list of name[=value] tokens, each with
 * optional ;parameters, which no preference here uses. */
#include "http/prefer.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

/* Whether the token [s, s+len) is word, ignoring case (RFC 7240 names are). */
static bool token_is(const char *s, size_t len, const char *word)
{
        return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int refuse(char *why, size_t why_size, const char *name, const char *value, size_t len)
{
        snprintf(why, why_size, "Prefer: %s=%.*s is not a value queryd knows", name,
                 len > 32 ? 32 : (int)len, value);
        return -EINVAL;
}

static int read_max_affected(const char *v, size_t len, prefer_t *ret)
{
        long long n = 0;

        if (len == 0 || len > 18)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EINVAL;
                n = n * 10 + (v[i] - '0');
        }
        ret->max_affected = n;
        return 0;
}

/* Seconds as digits with an optional decimal point, in ms rounded up (a
 * deadline never comes earlier than asked); 0 when not such a number. Past
 * UINT_MAX ms it saturates: whoever applies it caps it far lower. */
static unsigned read_seconds(const char *v, size_t len)
{
        unsigned long long ms = 0;
        size_t i = 0, digits = 0;

        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++, digits++)
                if (ms <= UINT_MAX)
                        ms = ms * 10 + (unsigned)(v[i] - '0');
        ms *= 1000;
        if (i < len && v[i] == '.') {
                unsigned long long scale = 100;
                bool rest = false;
                for (i++; i < len && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
                        if (scale > 0)
                                ms += scale * (unsigned)(v[i] - '0');
                        else if (v[i] != '0')
                                rest = true;
                        scale /= 10;
                }
                if (rest)
                        ms++;
        }
        if (i != len || digits == 0)
                return 0;
        return ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

/* One preference: name and value (without quotes) as written. */
static int apply(const char *name, size_t name_len, const char *v, size_t len, prefer_t *ret,
                 char *why, size_t why_size)
{
        if (token_is(name, name_len, "return")) {
                if (!token_is(v, len, "representation") && !token_is(v, len, "minimal"))
                        return refuse(why, why_size, "return", v, len);
                ret->representation = token_is(v, len, "representation");
                ret->saw_return = true;
        } else if (token_is(name, name_len, "resolution")) {
                if (token_is(v, len, "merge-duplicates"))
                        ret->resolution = PREFER_MERGE_DUPLICATES;
                else if (token_is(v, len, "ignore-duplicates"))
                        ret->resolution = PREFER_IGNORE_DUPLICATES;
                else
                        return refuse(why, why_size, "resolution", v, len);
        } else if (token_is(name, name_len, "tx")) {
                if (!token_is(v, len, "rollback") && !token_is(v, len, "commit"))
                        return refuse(why, why_size, "tx", v, len);
                ret->rollback = token_is(v, len, "rollback");
                ret->saw_tx = true;
        } else if (token_is(name, name_len, "max-affected")) {
                if (read_max_affected(v, len, ret) < 0)
                        return refuse(why, why_size, "max-affected", v, len);
        } else if (token_is(name, name_len, "consistency")) {
                if (!token_is(v, len, "strong") && !token_is(v, len, "eventual"))
                        return refuse(why, why_size, "consistency", v, len);
                ret->strong = token_is(v, len, "strong");
        } else if (token_is(name, name_len, "timeout")) {
                ret->timeout_ms = read_seconds(v, len);
                if (ret->timeout_ms == 0)
                        return refuse(why, why_size, "timeout", v, len);
        }
        return 0;
}

/* Reads one element [s, end): name, optional =value, ;parameters ignored. */
static int read_element(const char *s, const char *end, prefer_t *ret, char *why, size_t why_size)
{
        const char *semi = memchr(s, ';', (size_t)(end - s));
        if (semi != NULL)
                end = semi;
        while (s < end && is_space(*s))
                s++;
        while (end > s && is_space(end[-1]))
                end--;
        const char *eq = memchr(s, '=', (size_t)(end - s));
        const char *name_end = eq ? eq : end;
        const char *v = eq ? eq + 1 : end;
        while (name_end > s && is_space(name_end[-1]))
                name_end--;
        while (v < end && is_space(*v))
                v++;
        if (end - v >= 2 && *v == '"' && end[-1] == '"') {
                v++;
                end--;
        }
        if (name_end == s)
                return 0;
        return apply(s, (size_t)(name_end - s), v, (size_t)(end - v), ret, why, why_size);
}

int prefer_parse(const char *header, prefer_t *ret, char *why, size_t why_size)
{
        *ret = (prefer_t){ .max_affected = -1 };
        if (header == NULL)
                return 0;
        const char *s = header;
        for (;;) {
                const char *comma = strchr(s, ',');
                const char *end = comma ? comma : s + strlen(s);
                int r = read_element(s, end, ret, why, why_size);
                if (r < 0 || comma == NULL)
                        return r;
                s = comma + 1;
        }
}

/* Appends "name=value" to the list in out. */
static void add(char *out, size_t size, const char *name, const char *value)
{
        size_t n = strlen(out);

        if (n < size)
                snprintf(out + n, size - n, "%s%s=%s", n ? ", " : "", name, value);
}

void prefer_applied(const prefer_t *prefer, char *out, size_t size)
{
        static const char *const resolutions[] = { "", "merge-duplicates", "ignore-duplicates" };
        char count[24];

        if (size == 0)
                return;
        out[0] = '\0';
        if (prefer->saw_return)
                add(out, size, "return", prefer->representation ? "representation" : "minimal");
        if (prefer->resolution != PREFER_RESOLUTION_NONE)
                add(out, size, "resolution", resolutions[prefer->resolution]);
        if (prefer->saw_tx)
                add(out, size, "tx", prefer->rollback ? "rollback" : "commit");
        if (prefer->max_affected >= 0) {
                snprintf(count, sizeof(count), "%lld", prefer->max_affected);
                add(out, size, "max-affected", count);
        }
        if (prefer->applied_timeout_ms > 0) {
                unsigned ms = prefer->applied_timeout_ms;
                int n = snprintf(count, sizeof(count), "%u.%03u", ms / 1000, ms % 1000);
                while (n > 0 && count[n - 1] == '0') /* 0.500 -> 0.5, 2.000 -> 2 */
                        count[--n] = '\0';
                if (n > 0 && count[n - 1] == '.')
                        count[--n] = '\0';
                add(out, size, "timeout", count);
        }
}
