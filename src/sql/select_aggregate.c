/*
 * Aggregates of a grouped collection read: the grammar of "[alias:]column.fn()"
 * and "count()", their checks against a role's view, and their SQL. Nothing
 * a request writes reaches the SQL but the names of checked columns (quoted
 * by the configuration) and aliases of letters, digits and '_'.
 */
#include "sql/select_aggregate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = { "", "count", "sum", "avg", "min", "max" };
static const char *const sql_names[] = { "", "COUNT", "SUM", "AVG", "MIN", "MAX" };

static int say(char *reason, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int say(char *reason, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static aggregate_fn_t fn_named(const char *name, size_t len)
{
        for (size_t i = AGGREGATE_COUNT; i <= AGGREGATE_MAX; i++)
                if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
                        return (aggregate_fn_t)i;
        return AGGREGATE_NONE;
}

const char *select_aggregate_name(aggregate_fn_t fn)
{
        return names[fn];
}

static bool is_word_byte(char c, bool first)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               (!first && c >= '0' && c <= '9');
}

/* The length of an "alias:" prefix (colon included), or 0 when there is none. */
static size_t alias_prefix(const char *term, size_t len)
{
        size_t stop = strcspn(term, ":.(");

        return stop < len && term[stop] == ':' ? stop + 1 : 0;
}

bool select_aggregate_shaped(const char *term, size_t len)
{
        size_t skip = alias_prefix(term, len);
        const char *body = term + skip;
        const char *paren = memchr(body, '(', len - skip);

        if (paren == NULL)
                return false;
        return memchr(body, '.', (size_t)(paren - body)) != NULL ||
               fn_named(body, (size_t)(paren - body)) != AGGREGATE_NONE;
}

static int split_alias(const char *alias, size_t len, aggregate_term_t *ret, char *reason,
                       size_t size)
{
        bool word = len > 0 && len <= SELECT_MAX_ALIAS;

        for (size_t i = 0; word && i < len; i++)
                word = is_word_byte(alias[i], i == 0);
        if (!word)
                return say(reason, size,
                           "the alias '%.*s' must be 1 to %d letters, digits or '_', not "
                           "starting with a digit",
                           len > 80 ? 80 : (int)len, alias, SELECT_MAX_ALIAS);
        ret->alias = alias;
        ret->alias_len = len;
        return 0;
}

/* The direction after an order term's parentheses: nothing, ".asc" or ".desc". */
static int split_direction(const char *rest, size_t len, aggregate_term_t *ret, char *reason,
                           size_t size)
{
        if (len == 0 || (len == 4 && memcmp(rest, ".asc", 4) == 0))
                return 0;
        if (len == 5 && memcmp(rest, ".desc", 5) == 0) {
                ret->descending = true;
                return 0;
        }
        return say(reason, size, "the direction must be asc or desc");
}

/* "column.fn" or "fn" before the parentheses. */
static int split_call(const char *call, size_t len, aggregate_term_t *ret, char *reason,
                      size_t size)
{
        const char *dot = NULL;

        for (const char *s = call; s < call + len; s++) /* the last dot: columns may hold one */
                if (*s == '.')
                        dot = s;
        const char *fn = dot ? dot + 1 : call;
        size_t fn_len = len - (size_t)(fn - call);
        ret->fn = fn_named(fn, fn_len);
        if (ret->fn == AGGREGATE_NONE)
                return say(reason, size, "unknown aggregate '%.*s' (count, sum, avg, min, max)",
                           fn_len > 64 ? 64 : (int)fn_len, fn);
        if (dot == NULL && ret->fn != AGGREGATE_COUNT)
                return say(reason, size, "%s() needs a column, as in balance.%s()", names[ret->fn],
                           names[ret->fn]);
        if (dot == call)
                return say(reason, size, "%s() names no column", names[ret->fn]);
        ret->column = dot ? call : NULL;
        ret->column_len = dot ? (size_t)(dot - call) : 0;
        return 0;
}

int select_aggregate_split(const char *term, size_t len, bool in_order, aggregate_term_t *ret,
                           char *reason, size_t size)
{
        size_t skip = alias_prefix(term, len);
        int r = 0;

        *ret = (aggregate_term_t){ 0 };
        if (skip > 0 && in_order)
                return say(reason, size, "an order term takes no alias");
        if (skip > 0)
                r = split_alias(term, skip - 1, ret, reason, size);
        const char *body = term + skip;
        size_t body_len = len - skip;
        const char *paren = memchr(body, '(', body_len);
        if (r < 0 || paren == NULL)
                return r < 0 ? r : say(reason, size, "not an aggregate");
        size_t after = body_len - (size_t)(paren - body);
        if (after < 2 || paren[1] != ')')
                return say(reason, size,
                           "aggregates take no argument: write column.sum() or count()");
        if (!in_order && after != 2)
                return say(reason, size, "nothing may follow an aggregate's '()'");
        if (in_order && (r = split_direction(paren + 2, after - 2, ret, reason, size)) < 0)
                return r;
        return split_call(body, (size_t)(paren - body), ret, reason, size);
}

void select_aggregate_append_sql(strbuf_t *sql, aggregate_fn_t fn, const api_column_t *column)
{
        strbuf_appendf(sql, "%s(%s)", sql_names[fn], column ? column->quoted : "*");
}

/* ---- in a collection plan ---- */

/* Terms quoted in details are cut short: the detail has room for a sentence. */
static int clip(size_t len)
{
        return len > 80 ? 80 : (int)len;
}

static int column_index(const api_resource_t *res, const char *name, size_t len)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strlen(res->columns[i].name) == len &&
                    memcmp(res->columns[i].name, name, len) == 0)
                        return (int)i;
        return -1;
}

static bool numeric(const api_column_t *c)
{
        api_type_t type = c->rule.type;

        return type == API_TYPE_INT || type == API_TYPE_NUMBER || type == API_TYPE_DECIMAL ||
               type == API_TYPE_BOOLEAN;
}

/* The column of an aggregate term, checked: the role's view has it and fn applies. */
static int resolve(const collection_plan_t *p, const aggregate_term_t *t, const char *parameter,
                   const char *term, size_t len, int *ret_column, collection_error_t *err)
{
        const api_column_t *c;

        *ret_column = -1;
        if (t->column == NULL)
                return 0;
        *ret_column = column_index(p->res, t->column, t->column_len);
        if (*ret_column < 0)
                return collection_refuse(err, parameter, "'%.*s': '%.*s' is not a column of %s",
                                         clip(len), term, clip(t->column_len), t->column,
                                         p->res->path);
        c = &p->res->columns[*ret_column];
        if (!c->orderable)
                return collection_refuse(err, parameter,
                                         "'%.*s': %s() does not apply to TEXT, BLOB or JSON "
                                         "columns",
                                         clip(len), term, names[t->fn]);
        if ((t->fn == AGGREGATE_SUM || t->fn == AGGREGATE_AVG) && !numeric(c))
                return collection_refuse(err, parameter,
                                         "'%.*s': %s() applies to numeric columns only", clip(len),
                                         term, names[t->fn]);
        return 0;
}

int select_aggregate_add(collection_plan_t *p, const char *term, size_t len, scope_t *scope,
                         collection_error_t *err)
{
        char reason[192];
        aggregate_term_t t;
        int column;

        if (!select_aggregate_shaped(term, len))
                return 0;
        if (select_aggregate_split(term, len, false, &t, reason, sizeof(reason)) < 0)
                return collection_refuse(err, "select", "'%.*s': %s", clip(len), term, reason);
        int r = resolve(p, &t, "select", term, len, &column, err);
        if (r < 0)
                return r;
        if (p->aggregate_count == SELECT_MAX_AGGREGATES)
                return collection_refuse(err, "select", "at most %d aggregates",
                                         SELECT_MAX_AGGREGATES);
        if (t.alias != NULL && column_index(p->res, t.alias, t.alias_len) >= 0)
                return collection_refuse(err, "select",
                                         "'%.*s': the alias '%.*s' is the name of a column",
                                         clip(len), term, (int)t.alias_len, t.alias);
        const char *key = t.alias ? scope_strndup(scope, t.alias, t.alias_len) : names[t.fn];
        if (key == NULL)
                return -ENOMEM;
        size_t i = p->field_count++;
        p->fields[i] = SELECT_AGGREGATE_FIELD;
        p->aggregates[i] = (collection_aggregate_t){
                .fn = t.fn, .column = column < 0 ? NULL : &p->res->columns[column], .key = key
        };
        p->aggregate_count++;
        return 1;
}

static const char *key_of(const collection_plan_t *p, size_t i)
{
        return p->aggregates[i].fn != AGGREGATE_NONE ? p->aggregates[i].key
                                                     : p->res->columns[p->fields[i]].name;
}

int select_aggregate_check_select(const collection_plan_t *p, collection_error_t *err)
{
        size_t groups = 0;

        for (size_t i = 0; i < p->field_count; i++) {
                if (p->aggregates[i].fn == AGGREGATE_NONE) {
                        const api_column_t *c = &p->res->columns[p->fields[i]];
                        if (!c->orderable)
                                return collection_refuse(
                                        err, "select",
                                        "'%s' cannot be grouped by (TEXT, "
                                        "BLOB or JSON): select it without aggregates",
                                        c->name);
                        if (++groups > COLLECTION_MAX_ORDER)
                                return collection_refuse(err, "select",
                                                         "at most %d columns beside "
                                                         "aggregates",
                                                         COLLECTION_MAX_ORDER);
                }
                for (size_t j = 0; j < i; j++)
                        if (strcmp(key_of(p, i), key_of(p, j)) == 0)
                                return collection_refuse(err, "select",
                                                         "two outputs are named '%s': give "
                                                         "one an alias, as in total:balance.sum()",
                                                         key_of(p, i));
        }
        return 0;
}

static bool same_order(const collection_order_t *a, const collection_order_t *b)
{
        return a->fn == b->fn && a->no_column == b->no_column &&
               (a->no_column || a->column == b->column);
}

int select_aggregate_order_term(collection_plan_t *p, const char *term, size_t len,
                                collection_error_t *err)
{
        char reason[192];
        aggregate_term_t t;
        int column;

        if (!select_aggregate_shaped(term, len))
                return collection_refuse(err, "order", "'%.*s' is not a column or an aggregate",
                                         clip(len), term);
        if (select_aggregate_split(term, len, true, &t, reason, sizeof(reason)) < 0)
                return collection_refuse(err, "order", "'%.*s': %s", clip(len), term, reason);
        int r = resolve(p, &t, "order", term, len, &column, err);
        if (r < 0)
                return r;
        if (p->aggregate_count == 0)
                return collection_refuse(err, "order",
                                         "'%.*s': ordering by an aggregate needs aggregates "
                                         "in select",
                                         clip(len), term);
        collection_order_t o = { .column = column < 0 ? 0 : (size_t)column,
                                 .descending = t.descending, .fn = t.fn, .no_column = column < 0 };
        for (size_t i = 0; i < p->order_count; i++)
                if (same_order(&p->order[i], &o))
                        return collection_refuse(err, "order", "'%.*s' appears twice", clip(len),
                                                 term);
        if (p->order_count == COLLECTION_MAX_ORDER)
                return collection_refuse(err, "order", "at most %d terms", COLLECTION_MAX_ORDER);
        p->order[p->order_count++] = o;
        return 0;
}

static bool is_group(const collection_plan_t *p, size_t column)
{
        for (size_t i = 0; i < p->visible; i++)
                if (p->aggregates[i].fn == AGGREGATE_NONE && p->fields[i] == column)
                        return true;
        return false;
}

static bool in_plain_order(const collection_plan_t *p, size_t column)
{
        for (size_t i = 0; i < p->order_count; i++)
                if (p->order[i].fn == AGGREGATE_NONE && p->order[i].column == column)
                        return true;
        return false;
}

int select_aggregate_order_groups(collection_plan_t *p, collection_error_t *err)
{
        for (size_t i = 0; i < p->order_count; i++)
                if (p->order[i].fn == AGGREGATE_NONE && !is_group(p, p->order[i].column))
                        return collection_refuse(err, "order",
                                                 "'%s' is neither a selected column nor an "
                                                 "aggregate: a grouped answer sorts by those",
                                                 p->res->columns[p->order[i].column].name);
        for (size_t i = 0; i < p->visible; i++)
                if (p->aggregates[i].fn == AGGREGATE_NONE && !in_plain_order(p, p->fields[i]))
                        p->order[p->order_count++] =
                                (collection_order_t){ .column = p->fields[i] };
        return 0;
}

void select_aggregate_append_group_by(strbuf_t *sql, const collection_plan_t *p)
{
        bool first = true;

        for (size_t i = 0; i < p->visible; i++) {
                if (p->aggregates[i].fn != AGGREGATE_NONE)
                        continue;
                strbuf_append_str(sql, first ? " GROUP BY " : ",");
                strbuf_append_str(sql, p->res->columns[p->fields[i]].quoted);
                first = false;
        }
}

void select_aggregate_append_field(strbuf_t *sql, const collection_plan_t *p, size_t i)
{
        const collection_aggregate_t *a = &p->aggregates[i];

        select_aggregate_append_sql(sql, a->fn, a->column);
        /* Keys are function names or checked aliases: nothing to escape. */
        strbuf_appendf(sql, " AS `%s`", a->key);
}

api_output_t select_aggregate_output(const collection_plan_t *p, size_t i)
{
        const collection_aggregate_t *a = &p->aggregates[i];

        if (a->fn == AGGREGATE_MIN || a->fn == AGGREGATE_MAX)
                return a->column->output;
        if ((a->fn == AGGREGATE_SUM || a->fn == AGGREGATE_AVG) &&
            a->column->output != API_OUTPUT_BOOLEAN)
                return a->column->output;
        return API_OUTPUT_DEFAULT;
}
