/* GTID lists: parsed strictly, since a client sends them back to us. */
#include "db/gtid.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* One decimal number at *p (no sign, at most max); advances *p. */
static int number(const char **p, const char *end, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        const char *start = *p;

        while (*p < end && is_digit(**p)) {
                unsigned d = (unsigned)(**p - '0');
                if (v > (max - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
                (*p)++;
        }
        if (*p == start || *p - start > 20)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int one_gtid(const char **p, const char *end, gtid_t *g)
{
        uint64_t domain, server, seq;

        if (number(p, end, UINT32_MAX, &domain) < 0 || *p == end || *(*p)++ != '-' ||
            number(p, end, UINT32_MAX, &server) < 0 || *p == end || *(*p)++ != '-' ||
            number(p, end, UINT64_MAX, &seq) < 0)
                return -EINVAL;
        *g = (gtid_t){ .domain = (uint32_t)domain, .server = (uint32_t)server, .seq = seq };
        return 0;
}

static const gtid_t *find(const gtid_set_t *set, uint32_t domain)
{
        for (unsigned i = 0; i < set->count; i++)
                if (set->gtids[i].domain == domain)
                        return &set->gtids[i];
        return NULL;
}

static void skip_spaces(const char **p, const char *end)
{
        while (*p < end && (**p == ' ' || **p == '\n'))
                (*p)++;
}

int gtid_parse(const char *text, size_t len, gtid_set_t *set)
{
        const char *p = text, *end = text + len;

        set->count = 0;
        skip_spaces(&p, end);
        if (p == end)
                return 0;
        for (;;) {
                gtid_t g;
                skip_spaces(&p, end);
                if (one_gtid(&p, end, &g) < 0 || find(set, g.domain) != NULL ||
                    set->count == GTID_MAX_DOMAINS)
                        return -EINVAL;
                set->gtids[set->count++] = g;
                skip_spaces(&p, end);
                if (p == end)
                        return 0;
                if (*p++ != ',')
                        return -EINVAL;
        }
}

bool gtid_covers(const gtid_set_t *have, const gtid_set_t *want)
{
        for (unsigned i = 0; i < want->count; i++) {
                const gtid_t *h = find(have, want->gtids[i].domain);
                if (h == NULL || h->seq < want->gtids[i].seq)
                        return false;
        }
        return true;
}

int gtid_merge(gtid_set_t *set, const gtid_t *gtid)
{
        for (unsigned i = 0; i < set->count; i++) {
                if (set->gtids[i].domain == gtid->domain) {
                        if (set->gtids[i].seq < gtid->seq)
                                set->gtids[i] = *gtid;
                        return 0;
                }
        }
        if (set->count == GTID_MAX_DOMAINS)
                return -ENOSPC;
        set->gtids[set->count++] = *gtid;
        return 0;
}

bool gtid_format(const gtid_set_t *set, char *out, size_t size)
{
        size_t n = 0;

        if (size == 0)
                return false;
        out[0] = '\0';
        for (unsigned i = 0; i < set->count; i++) {
                const gtid_t *g = &set->gtids[i];
                int w = snprintf(out + n, size - n, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64,
                                 i ? "," : "", g->domain, g->server, g->seq);
                if (w < 0 || (size_t)w >= size - n)
                        return false;
                n += (size_t)w;
        }
        return true;
}
