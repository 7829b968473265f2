/*
 * libFuzzer harness for the request text that reaches SQL as bound values:
 * filter expressions (filter_expr.h), the LIKE patterns made from them, and
 * typed values (typed_value.h) of every type. Each result is checked against
 * the headers' contracts: an in.(...) list quoted back parses to the same
 * values, a LIKE pattern unescapes back to its text, an accepted value binds
 * as its type with the value a small reference computes. A broken invariant
 * aborts so libFuzzer saves the input.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"
#include "fuzz_check.h"
#include "sql/filter_expr.h"
#include "sql/typed_value.h"

static const char *const op_names[] = { "eq", "neq", "gt", "gte", "lt", "lte", "like", "in",
                                        "is" };

/* ---- filter expressions ---- */

/* "in.(" + every value double-quoted with " and \ escaped + ")". */
static char *quote_list(const filter_expr_t *e)
{
        size_t size = 8;

        for (size_t i = 0; i < e->value_count; i++)
                size += 2 * e->lengths[i] + 3;
        char *text = malloc(size);
        if (text == NULL)
                abort();
        size_t n = 0;
        n += (size_t)sprintf(text, "in.(");
        for (size_t i = 0; i < e->value_count; i++) {
                if (i > 0)
                        text[n++] = ',';
                text[n++] = '"';
                for (size_t k = 0; k < e->lengths[i]; k++) {
                        char c = e->values[i][k];
                        if (c == '"' || c == '\\')
                                text[n++] = '\\';
                        text[n++] = c;
                }
                text[n++] = '"';
        }
        text[n++] = ')';
        text[n] = '\0';
        return text;
}

static void check_requoted(const filter_expr_t *e, scope_t *scope)
{
        char *text = quote_list(e);
        filter_expr_t again;
        char reason[256];

        int r = filter_expr_parse(text, scope, &again, reason, sizeof(reason));
        CHECK(r == 0, "the list quoted back, %s, is refused: %s", text, reason);
        CHECK(again.op == FILTER_IN && again.value_count == e->value_count,
              "%s: %zu values, first parse %zu", text, again.value_count, e->value_count);
        for (size_t i = 0; i < e->value_count; i++)
                CHECK(again.lengths[i] == e->lengths[i] &&
                              memcmp(again.values[i], e->values[i], e->lengths[i]) == 0,
                      "%s: value %zu differs once quoted back", text, i);
        free(text);
}

/* Undoes filter_like_pattern: "\x" is x, an unescaped '%' was '*', and no
 * unescaped '_' may remain (it would match any character). */
static void check_like_pattern(const char *value, size_t len, scope_t *scope)
{
        size_t n;
        char *pattern = filter_like_pattern(value, len, scope, &n);
        size_t k = 0;

        CHECK(pattern != NULL, "no pattern");
        CHECK(pattern[n] == '\0', "the pattern is not terminated at its length");
        for (size_t i = 0; i < n; i++, k++) {
                char c = pattern[i];
                if (c == '\\') {
                        CHECK(i + 1 < n && strchr("%_\\", pattern[i + 1]) != NULL,
                              "a stray escape at %zu in \"%s\"", i, pattern);
                        c = pattern[++i];
                } else if (c == '%') {
                        c = '*';
                } else {
                        CHECK(c != '_', "an unescaped '_' in \"%s\"", pattern);
                }
                CHECK(k < len && value[k] == c, "pattern \"%s\" does not undo to its value",
                      pattern);
        }
        CHECK(k == len, "pattern \"%s\" undoes to %zu bytes, not %zu", pattern, k, len);
}

static void check_filter(const char *text, scope_t *scope)
{
        filter_expr_t e;
        char reason[256] = "";
        int r = filter_expr_parse(text, scope, &e, reason, sizeof(reason));

        CHECK(r == 0 || r == -EINVAL, "filter_expr_parse returned %d", r);
        if (r < 0) {
                CHECK(reason[0] != '\0', "refused \"%s\" without a reason", text);
                return;
        }
        bool negated = strncmp(text, "not.", 4) == 0;
        const char *rest = text + (negated ? 4 : 0);
        CHECK(e.negated == negated, "\"%s\": negated %d", text, e.negated);
        CHECK((unsigned)e.op <= FILTER_IS, "\"%s\": op %d", text, (int)e.op);
        size_t op_len = strlen(op_names[e.op]);
        CHECK(strncmp(rest, op_names[e.op], op_len) == 0 && rest[op_len] == '.',
              "\"%s\" parsed as operator %s", text, op_names[e.op]);
        const char *value = rest + op_len + 1;
        CHECK(*filter_op_sql(e.op) != '\0', "no SQL for op %d", (int)e.op);

        if (e.op == FILTER_IS) {
                static const char *const keywords[] = { "null", "true", "false" };
                CHECK(e.value_count == 0, "is. with %zu values", e.value_count);
                CHECK((unsigned)e.is <= FILTER_IS_FALSE && strcmp(value, keywords[e.is]) == 0,
                      "\"%s\" parsed as is %d", text, (int)e.is);
                return;
        }
        if (e.op == FILTER_IN) {
                size_t len = strlen(value);
                CHECK(e.value_count >= 1 && e.value_count <= FILTER_MAX_VALUES,
                      "in. with %zu values", e.value_count);
                CHECK(value[0] == '(' && value[len - 1] == ')', "\"%s\": a list without parens",
                      text);
                for (size_t i = 0; i < e.value_count; i++)
                        CHECK(e.lengths[i] < len && e.values[i][e.lengths[i]] == '\0' &&
                                      strlen(e.values[i]) == e.lengths[i],
                              "\"%s\": value %zu is not a terminated substring", text, i);
                check_requoted(&e, scope);
        } else {
                CHECK(e.value_count == 1, "\"%s\": %zu values", text, e.value_count);
                CHECK(strcmp(e.values[0], value) == 0 && e.lengths[0] == strlen(value),
                      "\"%s\": the value is not the rest of the text", text);
        }
        for (size_t i = 0; i < e.value_count; i++)
                check_like_pattern(e.values[i], e.lengths[i], scope);
}

/* ---- typed values ---- */

static char *colors[] = { "red", "green", "", "a,b" };

static const api_rule_t rules[] = {
        { .type = API_TYPE_INT },
        { .type = API_TYPE_INT, .has_min = true, .min = -5, .has_max = true,
          .max = 9007199254740992.0 },
        { .type = API_TYPE_INT, .is_unsigned = true },
        { .type = API_TYPE_NUMBER },
        { .type = API_TYPE_NUMBER, .is_float = true, .has_min = true, .min = -0.5,
          .has_max = true, .max = 1e30 },
        { .type = API_TYPE_DECIMAL },
        { .type = API_TYPE_STRING },
        { .type = API_TYPE_STRING, .max_length = 4 },
        { .type = API_TYPE_BOOLEAN },
        { .type = API_TYPE_DATE },
        { .type = API_TYPE_DATETIME },
        { .type = API_TYPE_TIME },
        { .type = API_TYPE_ENUM, .values = colors, .value_count = 4 },
        { .type = API_TYPE_BINARY },
        { .type = API_TYPE_BINARY, .max_length = 3 },
        { .type = API_TYPE_JSON },
};

static bool all_digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return n > 0;
}

/* Reference: strtoll/strtoull over text that is only digits after an optional '-'. */
static void check_int(const api_rule_t *rule, const char *text, size_t len, const MYSQL_BIND *b)
{
        bool negative = len > 0 && text[0] == '-';

        CHECK(b->buffer_type == MYSQL_TYPE_LONGLONG && b->is_unsigned == rule->is_unsigned,
              "an int bound as type %d", (int)b->buffer_type);
        CHECK(all_digits(text + negative, len - negative) && !(negative && rule->is_unsigned),
              "accepted a malformed int");
        char *copy = fuzz_copy_text(text, len);
        errno = 0;
        if (rule->is_unsigned) {
                unsigned long long expected = strtoull(copy, NULL, 10);
                CHECK(errno == 0 && *(unsigned long long *)b->buffer == expected,
                      "\"%s\" bound as %llu", copy, *(unsigned long long *)b->buffer);
        } else {
                long long expected = strtoll(copy, NULL, 10);
                long long value = *(long long *)b->buffer;
                CHECK(errno == 0 && value == expected, "\"%s\" bound as %lld", copy, value);
                CHECK(!rule->has_min || (double)value >= rule->min, "%lld is below the minimum",
                      value);
                CHECK(!rule->has_max || (double)value <= rule->max, "%lld is above the maximum",
                      value);
        }
        free(copy);
}

static void check_number(const api_rule_t *rule, const char *text, size_t len,
                         const MYSQL_BIND *b)
{
        char *copy = fuzz_copy_text(text, len);
        char *end;
        double expected = strtod(copy, &end);

        CHECK(*end == '\0' && len > 0 && strspn(copy, "0123456789.eE+-") == len,
              "accepted \"%s\" as a number", copy);
        CHECK(isfinite(expected), "accepted \"%s\", which is not finite", copy);
        CHECK(!rule->has_min || expected >= rule->min, "%s is below the minimum", copy);
        CHECK(!rule->has_max || expected <= rule->max, "%s is above the maximum", copy);
        if (rule->is_float) {
                float f = strtof(copy, NULL);
                CHECK(b->buffer_type == MYSQL_TYPE_FLOAT && isfinite(f) &&
                              memcmp(b->buffer, &f, sizeof(f)) == 0,
                      "\"%s\" bound as the wrong float", copy);
        } else {
                CHECK(b->buffer_type == MYSQL_TYPE_DOUBLE &&
                              memcmp(b->buffer, &expected, sizeof(expected)) == 0,
                      "\"%s\" bound as the wrong double", copy);
        }
        free(copy);
}

/* The decoded bytes, encoded again (standard alphabet, no padding), must be
 * the text with '-' '_' read as '+' '/' and its padding removed. */
static void check_binary(const char *text, size_t len, const MYSQL_BIND *b)
{
        static const char alphabet[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *bytes = b->buffer;
        size_t n = *b->length, k = 0;
        char *encoded = malloc(n / 3 * 4 + 8);

        CHECK(encoded != NULL && b->buffer_type == MYSQL_TYPE_BLOB, "binary bound as %d",
              (int)b->buffer_type);
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)bytes[i] << 16 |
                             (i + 1 < n ? (uint32_t)bytes[i + 1] << 8 : 0) |
                             (i + 2 < n ? bytes[i + 2] : 0);
                encoded[k++] = alphabet[v >> 18];
                encoded[k++] = alphabet[(v >> 12) & 63];
                if (i + 1 < n)
                        encoded[k++] = alphabet[(v >> 6) & 63];
                if (i + 2 < n)
                        encoded[k++] = alphabet[v & 63];
        }
        while (len > 0 && text[len - 1] == '=')
                len--;
        CHECK(k == len, "%zu bytes encode to %zu digits, the text has %zu", n, k, len);
        for (size_t i = 0; i < len; i++) {
                char c = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
                CHECK(encoded[i] == c, "decoded bytes encode differently at %zu", i);
        }
        free(encoded);
}

static void check_time_fields(const api_rule_t *rule, const MYSQL_BIND *b)
{
        const MYSQL_TIME *t = b->buffer;

        CHECK(b->buffer_length == sizeof(MYSQL_TIME), "a temporal bind of %lu bytes",
              b->buffer_length);
        CHECK(t->minute < 60 && t->second < 60 && t->second_part < 1000000,
              "minute %u second %u part %lu", t->minute, t->second, t->second_part);
        if (rule->type == API_TYPE_TIME) {
                CHECK(b->buffer_type == MYSQL_TYPE_TIME && t->hour < 24 &&
                              t->day * 24 + t->hour <= 838 && t->year == 0 && t->month == 0,
                      "time %u days %u hours", t->day, t->hour);
                return;
        }
        bool zero_date = t->year == 0 && t->month == 0 && t->day == 0; /* MariaDB stores it */
        CHECK(t->year <= 9999 && (zero_date || (t->month >= 1 && t->month <= 12 &&
                                               t->day >= 1 && t->day <= 31)) &&
                      t->hour < 24 && !t->neg,
              "date %u-%u-%u %u", t->year, t->month, t->day, t->hour);
        CHECK(b->buffer_type ==
                      (rule->type == API_TYPE_DATE ? MYSQL_TYPE_DATE : MYSQL_TYPE_DATETIME),
              "a date bound as %d", (int)b->buffer_type);
}

static void check_accepted(const api_rule_t *rule, const char *text, size_t len,
                           const MYSQL_BIND *b)
{
        CHECK(b->buffer != NULL && b->is_null == NULL, "an accepted value binds as NULL");
        switch (rule->type) {
        case API_TYPE_INT:
                check_int(rule, text, len, b);
                break;
        case API_TYPE_NUMBER:
                check_number(rule, text, len, b);
                break;
        case API_TYPE_DECIMAL:
        case API_TYPE_STRING:
        case API_TYPE_ENUM:
                CHECK(b->buffer_type == (rule->type == API_TYPE_DECIMAL ? MYSQL_TYPE_NEWDECIMAL
                                                                        : MYSQL_TYPE_STRING),
                      "a text value bound as %d", (int)b->buffer_type);
                CHECK(*b->length == len && memcmp(b->buffer, text, len) == 0,
                      "a text value bound as other bytes");
                CHECK(memchr(text, '\0', len) == NULL, "accepted a NUL byte");
                break;
        case API_TYPE_BOOLEAN:
                CHECK(b->buffer_type == MYSQL_TYPE_TINY && *(signed char *)b->buffer ==
                              (len == 4 || (len == 1 && text[0] == '1')),
                      "a boolean bound as %d", *(signed char *)b->buffer);
                break;
        case API_TYPE_DATE:
        case API_TYPE_DATETIME:
        case API_TYPE_TIME:
                check_time_fields(rule, b);
                break;
        case API_TYPE_BINARY:
                check_binary(text, len, b);
                CHECK(rule->max_length == 0 || *b->length <= rule->max_length,
                      "%lu bytes, more than %zu", *b->length, rule->max_length);
                break;
        case API_TYPE_JSON:
                CHECK(false, "a JSON value was accepted");
        }
}

static void check_typed(const char *text, size_t len, scope_t *scope)
{
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                MYSQL_BIND b;
                char reason[256] = "";
                int r = typed_value_parse(&rules[i], text, len, scope, &b, reason, sizeof(reason));
                int check_only = typed_value_parse(&rules[i], text, len, NULL, NULL, NULL, 0);
                CHECK(r == 0 || r == -EINVAL, "rule %zu: typed_value_parse returned %d", i, r);
                CHECK(r == check_only, "rule %zu: %d with a bind, %d checking only", i, r,
                      check_only);
                if (r == 0)
                        check_accepted(&rules[i], text, len, &b);
                else
                        CHECK(reason[0] != '\0', "rule %zu: refused without a reason", i);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        scope_t *scope = scope_new();

        if (scope == NULL)
                abort();
        /* The raw bytes, NULs and all, not terminated: reads past size are caught. */
        check_typed((const char *)data, size, scope);

        /* A filter arrives as a C string: the input up to its first NUL. */
        char *text = fuzz_copy_text(data, size);
        check_filter(text, scope);
        free(text);
        scope_close(scope);
        return 0;
}
