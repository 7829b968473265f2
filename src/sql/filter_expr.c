/* Filter text, "[not.]<op>.<value>", split into operator and values. The value
 * is everything after the operator's dot, dots included, so a value never
 * needs escaping; only in.(...) lists have syntax, and quoting there exists
 * for values holding a comma or a parenthesis. */
#include "sql/filter_expr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[] = {
        [FILTER_EQ] = "eq",   [FILTER_NEQ] = "neq",   [FILTER_GT] = "gt",
        [FILTER_GTE] = "gte", [FILTER_LT] = "lt",     [FILTER_LTE] = "lte",
        [FILTER_LIKE] = "like", [FILTER_IN] = "in",   [FILTER_IS] = "is",
};

static const char *const op_sql[] = {
        [FILTER_EQ] = "=",   [FILTER_NEQ] = "<>",    [FILTER_GT] = ">",
        [FILTER_GTE] = ">=", [FILTER_LT] = "<",      [FILTER_LTE] = "<=",
        [FILTER_LIKE] = "LIKE", [FILTER_IN] = "IN",  [FILTER_IS] = "IS",
};

enum { OP_COUNT = sizeof(op_names) / sizeof(op_names[0]) };

/* Longer operator text is echoed cut to this, so a hostile one cannot fill the detail. */
enum { MAX_ECHOED_OP = 16 };

__attribute__((format(printf, 3, 4))) static int fail(char *reason, size_t reason_size,
                                                      const char *fmt, ...)
{
        va_list ap;

        if (reason != NULL && reason_size > 0) {
                va_start(ap, fmt);
                vsnprintf(reason, reason_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static bool is_letters(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
                        return false;
        return n > 0;
}

/* The operator named by the n bytes at s; -1 when none is. */
static int find_op(const char *s, size_t n)
{
        for (int op = 0; op < OP_COUNT; op++)
                if (strlen(op_names[op]) == n && memcmp(op_names[op], s, n) == 0)
                        return op;
        return -1;
}

/* Why the text before the first dot is no operator. Letters read as a
 * mistyped operator; anything else ("30", "12.5") as a forgotten one. */
static int fail_op(const char *s, size_t n, bool negated, char *reason, size_t reason_size)
{
        if (negated && n == 3 && memcmp(s, "not", 3) == 0)
                return fail(reason, reason_size, "'not.' may appear only once");
        if (!is_letters(s, n))
                return fail(reason, reason_size, "expected <op>.<value>, e.g. eq.30");
        return fail(reason, reason_size,
                    "unknown operator '%.*s%s' "
                    "(expected eq, neq, gt, gte, lt, lte, like, in or is)",
                    (int)(n > MAX_ECHOED_OP ? MAX_ECHOED_OP : n), s,
                    n > MAX_ECHOED_OP ? "..." : "");
}

/* Room for count values in ret, in scope memory. */
static int alloc_values(filter_expr_t *ret, size_t count, scope_t *scope)
{
        ret->values = scope_alloc(scope, count * sizeof(*ret->values));
        ret->lengths = scope_alloc(scope, count * sizeof(*ret->lengths));
        return ret->values == NULL || ret->lengths == NULL ? -ENOMEM : 0;
}

static int parse_single(const char *value, scope_t *scope, filter_expr_t *ret)
{
        size_t len = strlen(value);

        if (alloc_values(ret, 1, scope) < 0)
                return -ENOMEM;
        ret->values[0] = scope_strndup(scope, value, len);
        if (ret->values[0] == NULL)
                return -ENOMEM;
        ret->lengths[0] = len;
        ret->value_count = 1;
        return 0;
}

static int parse_is(const char *value, filter_expr_t *ret, char *reason, size_t reason_size)
{
        if (strcmp(value, "null") == 0)
                ret->is = FILTER_IS_NULL;
        else if (strcmp(value, "true") == 0)
                ret->is = FILTER_IS_TRUE;
        else if (strcmp(value, "false") == 0)
                ret->is = FILTER_IS_FALSE;
        else
                return fail(reason, reason_size, "is. takes null, true or false");
        return 0;
}

/* ---- in.(...) ---- */

/* One list being read: the bytes between the parentheses. */
typedef struct list_scan {
        const char *p;
        const char *end;
        char *reason;
        size_t reason_size;
} list_scan_t;

/*
 * Reads a quoted value after its opening quote into out (which has room for
 * the rest of the list), removing the escapes. Stops after the closing quote.
 */
static int scan_quoted(list_scan_t *s, char *out, size_t *ret_len)
{
        size_t n = 0;

        while (s->p < s->end && *s->p != '"') {
                if (*s->p == '\\') {
                        if (s->p + 1 == s->end || (s->p[1] != '"' && s->p[1] != '\\'))
                                return fail(s->reason, s->reason_size,
                                            "in.(...): only \\\" and \\\\ are escapes in a "
                                            "quoted value");
                        s->p++;
                }
                out[n++] = *s->p++;
        }
        if (s->p == s->end)
                return fail(s->reason, s->reason_size, "in.(...): a quoted value is not closed");
        s->p++;
        if (s->p < s->end && *s->p != ',')
                return fail(s->reason, s->reason_size,
                            "in.(...): a quoted value must be followed by ',' or ')'");
        out[n] = '\0';
        *ret_len = n;
        return 0;
}

/* Reads the next value of the list, quoted or taken as it is up to the next comma. */
static int scan_value(list_scan_t *s, scope_t *scope, const char **ret_value, size_t *ret_len)
{
        if (s->p < s->end && *s->p == '"') {
                s->p++;
                char *out = scope_alloc(scope, (size_t)(s->end - s->p) + 1);
                if (out == NULL)
                        return -ENOMEM;
                *ret_value = out;
                return scan_quoted(s, out, ret_len);
        }
        const char *comma = memchr(s->p, ',', (size_t)(s->end - s->p));
        size_t len = (size_t)((comma != NULL ? comma : s->end) - s->p);
        *ret_value = scope_strndup(scope, s->p, len);
        if (*ret_value == NULL)
                return -ENOMEM;
        *ret_len = len;
        s->p += len;
        return 0;
}

static int fail_count(char *reason, size_t reason_size)
{
        return fail(reason, reason_size, "in.(...) takes 1 to %d values", FILTER_MAX_VALUES);
}

static int parse_in(const char *value, scope_t *scope, filter_expr_t *ret, char *reason,
                    size_t reason_size)
{
        size_t len = strlen(value);

        if (len < 2 || value[0] != '(' || value[len - 1] != ')')
                return fail(reason, reason_size,
                            "in. takes a list in parentheses, e.g. in.(1,2,3)");
        if (len == 2)
                return fail_count(reason, reason_size);
        /* There are at most one more values than commas (fewer when quoted ones hold some). */
        size_t room = 1;
        for (size_t i = 1; i < len - 1 && room <= FILTER_MAX_VALUES; i++)
                room += value[i] == ',';
        if (alloc_values(ret, room < FILTER_MAX_VALUES ? room : FILTER_MAX_VALUES, scope) < 0)
                return -ENOMEM;
        list_scan_t s = { value + 1, value + len - 1, reason, reason_size };
        for (;;) {
                if (ret->value_count == FILTER_MAX_VALUES)
                        return fail_count(reason, reason_size);
                size_t i = ret->value_count;
                int r = scan_value(&s, scope, &ret->values[i], &ret->lengths[i]);
                if (r < 0)
                        return r;
                ret->value_count++;
                if (s.p == s.end)
                        return 0;
                s.p++; /* the comma */
        }
}

int filter_expr_parse(const char *text, scope_t *scope, filter_expr_t *ret, char *reason,
                      size_t reason_size)
{
        memset(ret, 0, sizeof(*ret));
        if (strncmp(text, "not.", 4) == 0) {
                ret->negated = true;
                text += 4;
        }
        const char *dot = strchr(text, '.');
        size_t op_len = dot != NULL ? (size_t)(dot - text) : strlen(text);
        int op = dot != NULL ? find_op(text, op_len) : -1;
        if (op < 0)
                return dot != NULL ? fail_op(text, op_len, ret->negated, reason, reason_size)
                                   : fail(reason, reason_size, "expected <op>.<value>, e.g. eq.30");
        ret->op = (filter_op_t)op;
        const char *value = dot + 1;
        switch (ret->op) {
        case FILTER_IS:
                return parse_is(value, ret, reason, reason_size);
        case FILTER_IN:
                return parse_in(value, scope, ret, reason, reason_size);
        default:
                return parse_single(value, scope, ret);
        }
}

const char *filter_op_sql(filter_op_t op)
{
        return (unsigned)op < OP_COUNT ? op_sql[op] : "?";
}

char *filter_like_pattern(const char *text, size_t len, scope_t *scope, size_t *ret_len)
{
        /* At worst every byte gains an escape. */
        char *out = len < ((size_t)-1) / 2 ? scope_alloc(scope, 2 * len + 1) : NULL;
        size_t n = 0;

        if (out == NULL)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (c == '*') {
                        out[n++] = '%';
                        continue;
                }
                if (c == '%' || c == '_' || c == '\\')
                        out[n++] = '\\';
                out[n++] = c;
        }
        out[n] = '\0';
        if (ret_len != NULL)
                *ret_len = n;
        return out;
}
