/*
 * Collection requests -> SQL. The page statement reads
 *   SELECT <fields> FROM <table> WHERE <filters> AND <after cursor>
 *   ORDER BY <order, then the key> LIMIT ? [OFFSET ?]
 * The cursor condition is the lexicographic "comes after" of the sort
 * values, written out term by term so that it holds for any mix of
 * directions and for NULLs, which MariaDB sorts first ascending and last
 * descending.
 */
#include "sql/collection_plan.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "sql/cursor.h"
#include "sql/filter_expr.h"
#include "sql/select_aggregate.h"
#include "sql/typed_value.h"

enum { MAX_FILTERS = 32 };

static const char *const reserved[] = { "select", "order", "limit", "after", "offset", "count" };

typedef struct filter {
        const char *name;
        size_t column;
        filter_expr_t expr;
} filter_t;

/* Everything read from the request before any SQL is written. */
typedef struct request_terms {
        filter_t filters[MAX_FILTERS];
        size_t filter_count;
        const char *after;
        cursor_value_t *after_values;
} request_terms_t;

int collection_refuse(collection_error_t *err, const char *parameter, const char *fmt, ...)
{
        va_list ap;

        err->parameter = parameter;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int column_named(const api_resource_t *res, const char *name, size_t len)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strlen(res->columns[i].name) == len &&
                    memcmp(res->columns[i].name, name, len) == 0)
                        return (int)i;
        return -1;
}

static bool is_reserved(const char *name)
{
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strcmp(reserved[i], name) == 0)
                        return true;
        return false;
}

/* ---- select ---- */

static int add_field(collection_plan_t *p, size_t column)
{
        for (size_t i = 0; i < p->field_count; i++)
                if (p->fields[i] == column)
                        return (int)i;
        p->fields[p->field_count] = column;
        return (int)p->field_count++;
}

static int select_column(collection_plan_t *p, const char *s, size_t len, collection_error_t *err)
{
        int column = column_named(p->res, s, len);

        if (column < 0)
                return collection_refuse(err, "select", "'%.*s' is not a column of %s", (int)len, s,
                                         p->res->path);
        size_t before = p->field_count;
        if (add_field(p, (size_t)column) < (int)before)
                return collection_refuse(err, "select", "'%.*s' is selected twice", (int)len, s);
        return 0;
}

static int parse_select(collection_plan_t *p, const char *select, scope_t *scope,
                        collection_error_t *err)
{
        const api_resource_t *res = p->res;

        if (select == NULL) {
                for (size_t i = 0; i < res->column_count; i++)
                        add_field(p, i);
                p->visible = p->field_count;
                return 0;
        }
        for (const char *s = select;;) {
                size_t len = strcspn(s, ",");
                int r = select_aggregate_add(p, s, len, scope, err); /* 1: taken */
                if (r == 0)
                        r = select_column(p, s, len, err);
                if (r < 0)
                        return r;
                s += len;
                if (*s++ == '\0')
                        break;
        }
        p->visible = p->field_count;
        return p->aggregate_count > 0 ? select_aggregate_check_select(p, err) : 0;
}

static int prepare_fields(collection_plan_t *p, const api_resource_t *res, scope_t *scope)
{
        p->res = res;
        /* Hidden sort columns may follow the visible ones: at most every column twice,
         * or every column and the aggregates. */
        size_t room = 2 * res->column_count + SELECT_MAX_AGGREGATES;
        p->fields = scope_alloc(scope, room * sizeof(*p->fields));
        p->outputs = scope_alloc(scope, room * sizeof(*p->outputs));
        p->aggregates = scope_alloc(scope, room * sizeof(*p->aggregates));
        return p->fields && p->outputs && p->aggregates ? 0 : -ENOMEM;
}

/* The caller's hidden columns (plan->links): after the select list and the order. */
static void add_links(collection_plan_t *p)
{
        for (size_t i = 0; i < p->link_count; i++)
                add_field(p, p->links[i]);
}

static void fill_outputs(collection_plan_t *p)
{
        add_links(p);
        for (size_t i = 0; i < p->field_count; i++)
                p->outputs[i] = p->aggregates[i].fn != AGGREGATE_NONE
                                        ? select_aggregate_output(p, i)
                                        : p->res->columns[p->fields[i]].output;
}

int collection_plan_select(collection_plan_t *p, const api_resource_t *res, const char *select,
                           scope_t *scope, collection_error_t *err)
{
        int r = prepare_fields(p, res, scope);

        if (r == 0)
                r = parse_select(p, select, scope, err);
        if (r == 0 && p->aggregate_count > 0)
                r = collection_refuse(err, "select",
                                      "aggregates apply to collections: an item is one row");
        if (r == 0)
                fill_outputs(p);
        return r;
}

/* ---- order ---- */

static bool in_order(const collection_plan_t *p, size_t column)
{
        for (size_t i = 0; i < p->order_count; i++)
                if (p->order[i].fn == AGGREGATE_NONE && p->order[i].column == column)
                        return true;
        return false;
}

static int parse_order_term(collection_plan_t *p, const char *term, size_t len,
                            collection_error_t *err)
{
        const char *dot = memchr(term, '.', len);
        size_t name_len = dot ? (size_t)(dot - term) : len;
        bool descending = false;

        if (memchr(term, '(', len) != NULL)
                return select_aggregate_order_term(p, term, len, err);

        if (dot != NULL) {
                size_t dir_len = len - name_len - 1;
                if (dir_len == 4 && memcmp(dot + 1, "desc", 4) == 0)
                        descending = true;
                else if (dir_len != 3 || memcmp(dot + 1, "asc", 3) != 0)
                        return collection_refuse(err, "order",
                                                 "'%.*s': the direction must be asc or desc",
                                                 (int)len, term);
        }
        int column = column_named(p->res, term, name_len);
        if (column < 0)
                return collection_refuse(err, "order", "'%.*s' is not a column of %s",
                                         (int)name_len, term, p->res->path);
        if (!p->res->columns[column].orderable)
                return collection_refuse(err, "order",
                                         "'%.*s' cannot be sorted (TEXT, BLOB or JSON)",
                                         (int)name_len, term);
        if (in_order(p, (size_t)column))
                return collection_refuse(err, "order", "'%.*s' appears twice", (int)name_len, term);
        if (p->order_count == COLLECTION_MAX_ORDER)
                return collection_refuse(err, "order", "at most %d terms", COLLECTION_MAX_ORDER);
        p->order[p->order_count++] = (collection_order_t){ .column = (size_t)column,
                                                           .descending = descending };
        return 0;
}

static int parse_order(collection_plan_t *p, const char *order, scope_t *scope,
                       collection_error_t *err)
{
        strbuf_t text = { 0 };
        int r = 0;

        for (const char *s = order; s != NULL && r == 0;) {
                size_t len = strcspn(s, ",");
                r = parse_order_term(p, s, len, err);
                s = s[len] == ',' ? s + len + 1 : NULL;
        }
        if (r == 0 && p->aggregate_count > 0) /* groups are paged by offset: no cursor */
                return select_aggregate_order_groups(p, err);
        for (size_t k = 0; r == 0 && k < p->res->key_count; k++)
                if (!in_order(p, p->res->key[k]))
                        p->order[p->order_count++] =
                                (collection_order_t){ .column = p->res->key[k] };
        for (size_t i = 0; r == 0 && i < p->order_count; i++) {
                p->order[i].field = (unsigned)add_field(p, p->order[i].column);
                strbuf_appendf(&text, "%s%s.%s", i ? "," : "",
                               p->res->columns[p->order[i].column].name,
                               p->order[i].descending ? "desc" : "asc");
        }
        const char *terms = text.data != NULL ? text.data : ""; /* none: no key, no order */
        if (r == 0 && (text.failed || !(p->order_text = scope_strndup(scope, terms, text.len))))
                r = -ENOMEM;
        strbuf_done(&text);
        p->plain_cursor = order == NULL && p->res->key_count == 1;
        return r;
}

/* ---- limit, offset, count ---- */

static int parse_count_arg(const char *name, const char *text, long long min, long long max,
                           long long *ret, collection_error_t *err)
{
        if (!query_args_parse_int64(text, strlen(text), ret) || *ret < min)
                return collection_refuse(err, name, "'%s' must be an integer of at least %lld",
                                         name, min);
        if (*ret > max)
                *ret = max;
        return 0;
}

/*
 * A resource without a key (a view, a table without a primary key or unique
 * NOT NULL index) has no cursor that tells every row apart: its pages link
 * by offset, in an order made total, as far as the rows differ, by every
 * orderable column (keyless_tie_breakers).
 */
static int keyless_paging(collection_plan_t *p, const request_terms_t *t, collection_error_t *err)
{
        if (p->res->key_count > 0)
                return 0;
        if (t->after != NULL)
                return collection_refuse(err, "after",
                                         "%s has no key, so its pages link by 'offset', "
                                         "not by cursor",
                                         p->res->path);
        p->by_offset = true;
        return 0;
}

/* Groups have no key to resume after: they are paged by offset, and counted exactly. */
static int group_paging(collection_plan_t *p, const request_terms_t *t, collection_error_t *err)
{
        if (t->after != NULL)
                return collection_refuse(err, "after",
                                         "a grouped answer (aggregates in select) is paged "
                                         "with offset");
        if (p->count_estimated)
                return collection_refuse(err, "count",
                                         "a grouped answer counts its groups with "
                                         "count=exact; count=estimated estimates rows");
        p->by_offset = true;
        return 0;
}

static int parse_paging(collection_plan_t *p, const query_arg_t *args, size_t n,
                        request_terms_t *t, collection_error_t *err)
{
        const char *limit = query_args_get(args, n, "limit");
        const char *offset = query_args_get(args, n, "offset");
        const char *count = query_args_get(args, n, "count");
        int r = 0;

        t->after = query_args_get(args, n, "after");
        p->limit = p->res->default_limit;
        if (limit != NULL)
                r = parse_count_arg("limit", limit, 1, p->res->max_limit, &p->limit, err);
        if (r == 0 && offset != NULL) {
                p->by_offset = true;
                r = parse_count_arg("offset", offset, 0, LLONG_MAX - 1000001, &p->offset, err);
        }
        if (r == 0 && offset != NULL && t->after != NULL)
                r = collection_refuse(err, "offset",
                                      "use either 'after' (keyset, fast) or 'offset', not both");
        if (r == 0 && count != NULL && strcmp(count, "exact") != 0 &&
            strcmp(count, "estimated") != 0)
                r = collection_refuse(err, "count", "count takes exact or estimated");
        p->count_exact = count != NULL && strcmp(count, "exact") == 0;
        p->count_estimated = count != NULL && !p->count_exact;
        /* The optimizer counts what an index range covers, whatever the row rule says. */
        if (r == 0 && p->count_estimated && p->res->row_sql != NULL)
                r = collection_refuse(err, "count",
                                      "count=estimated would count rows outside this role's "
                                      "rule: ask for count=exact");
        if (r == 0)
                r = keyless_paging(p, t, err);
        if (r == 0 && p->aggregate_count > 0)
                r = group_paging(p, t, err);
        return r;
}

/* ---- filters ---- */

/* Whether op can apply to the column at all; NULL when it can. */
static const char *op_mismatch(const api_column_t *c, const filter_expr_t *e)
{
        api_type_t type = c->rule.type;
        bool numeric = type == API_TYPE_INT || type == API_TYPE_BOOLEAN ||
                       type == API_TYPE_NUMBER || type == API_TYPE_DECIMAL;

        if (type == API_TYPE_JSON && !(e->op == FILTER_IS && e->is == FILTER_IS_NULL))
                return "takes only is.null and not.is.null";
        if (e->op == FILTER_LIKE && type != API_TYPE_STRING)
                return "like applies to text columns only";
        if (e->op == FILTER_IS && e->is != FILTER_IS_NULL && !numeric)
                return "is.true and is.false apply to numeric and boolean columns only";
        return NULL;
}

static int read_filter(const api_resource_t *res, const query_arg_t *arg, scope_t *scope,
                       filter_t *f, collection_error_t *err)
{
        char reason[256];
        int column = column_named(res, arg->name, strlen(arg->name));

        if (column < 0)
                return collection_refuse(err, arg->name,
                                         "unknown query parameter '%s': not a column of %s",
                                         arg->name, res->path);
        f->name = arg->name;
        f->column = (size_t)column;
        int r = filter_expr_parse(arg->value ? arg->value : "", scope, &f->expr, reason,
                                  sizeof(reason));
        if (r == -EINVAL)
                return collection_refuse(err, arg->name, "filter '%s': %s", arg->name, reason);
        const char *mismatch = r == 0 ? op_mismatch(&res->columns[column], &f->expr) : NULL;
        if (mismatch != NULL)
                return collection_refuse(err, arg->name, "filter '%s': %s", arg->name, mismatch);
        return r;
}

static int read_args(collection_plan_t *p, const query_arg_t *args, size_t n, scope_t *scope,
                     request_terms_t *t, collection_error_t *err)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++) {
                if (is_reserved(args[i].name)) {
                        if (args[i].value == NULL) /* "?count" is no answer to "count what" */
                                return collection_refuse(err, args[i].name,
                                                         "query parameter '%s' needs a value "
                                                         "('%s=...')",
                                                         args[i].name, args[i].name);
                        for (size_t j = 0; j < i; j++)
                                if (strcmp(args[j].name, args[i].name) == 0)
                                        return collection_refuse(
                                                err, args[i].name,
                                                "query parameter '%s' is given more than once",
                                                args[i].name);
                        continue;
                }
                if (t->filter_count == MAX_FILTERS)
                        return collection_refuse(err, args[i].name, "at most %d filters",
                                                 MAX_FILTERS);
                r = read_filter(p->res, &args[i], scope, &t->filters[t->filter_count++], err);
        }
        return r;
}

/* ---- statement writing ---- */

typedef struct writer {
        strbuf_t sql;
        MYSQL_BIND *binds;
        size_t bind_count;
        scope_t *scope;
        bool in_where;          /* a condition was written: the next one is ANDed */
} writer_t;

/* Opens the next condition of the WHERE clause. */
static void conjunct(writer_t *w)
{
        strbuf_append_str(&w->sql, w->in_where ? " AND " : " WHERE ");
        w->in_where = true;
}

/* The view's row condition comes first, bound to the caller's claims. */
static void write_rows(writer_t *w, const collection_plan_t *p)
{
        const api_resource_t *res = p->res;

        if (res->row_sql == NULL)
                return;
        conjunct(w);
        strbuf_appendf(&w->sql, "(%s)", res->row_sql);
        if (res->row_claim_count > 0)
                memcpy(&w->binds[w->bind_count], p->row_binds,
                       res->row_claim_count * sizeof(MYSQL_BIND));
        w->bind_count += res->row_claim_count;
}

/* Binds one request value for column c; refusals name the parameter. */
static int bind_value(writer_t *w, const api_column_t *c, const api_rule_t *rule,
                      const char *text, size_t len, const char *parameter, collection_error_t *err)
{
        char reason[256];
        int r = typed_value_parse(rule, text, len, w->scope, &w->binds[w->bind_count], reason,
                                  sizeof(reason));

        if (r == -EINVAL)
                return collection_refuse(err, parameter, "%s '%s': '%.*s' %s",
                                         strcmp(parameter, "after") ? "filter" : "cursor value of",
                                         c->name, len > 64 ? 64 : (int)len, text, reason);
        if (r == 0)
                w->bind_count++;
        return r;
}

static int write_filter(writer_t *w, const api_column_t *c, const filter_t *f,
                        collection_error_t *err)
{
        const filter_expr_t *e = &f->expr;
        static const char *const is_sql[] = { "NULL", "TRUE", "FALSE" };
        api_rule_t rule = c->rule;
        int r = 0;

        strbuf_append_str(&w->sql, e->negated ? "NOT (" : "(");
        strbuf_appendf(&w->sql, "%s %s ", c->quoted, filter_op_sql(e->op));
        if (e->op == FILTER_IS) {
                strbuf_append_str(&w->sql, is_sql[e->is]);
        } else if (e->op == FILTER_LIKE) {
                size_t len;
                char *pattern = filter_like_pattern(e->values[0], e->lengths[0], w->scope, &len);
                rule.max_length = 0; /* escapes and wildcards make patterns longer than values */
                r = pattern ? bind_value(w, c, &rule, pattern, len, f->name, err) : -ENOMEM;
                /* The pattern escapes with '\', whatever the server's sql_mode says. */
                strbuf_append_str(&w->sql, "? ESCAPE CHAR(92)");
        } else if (e->op == FILTER_IN) {
                strbuf_append_char(&w->sql, '(');
                for (size_t i = 0; r == 0 && i < e->value_count; i++) {
                        r = bind_value(w, c, &rule, e->values[i], e->lengths[i], f->name, err);
                        strbuf_append_str(&w->sql, i ? ",?" : "?");
                }
                strbuf_append_char(&w->sql, ')');
        } else {
                r = bind_value(w, c, &rule, e->values[0], e->lengths[0], f->name, err);
                strbuf_append_char(&w->sql, '?');
        }
        strbuf_append_char(&w->sql, ')');
        return r;
}

static int write_filters(writer_t *w, const collection_plan_t *p, const request_terms_t *t,
                         collection_error_t *err)
{
        int r = 0;

        write_rows(w, p);
        for (size_t i = 0; r == 0 && i < t->filter_count; i++) {
                conjunct(w);
                r = write_filter(w, &p->res->columns[t->filters[i].column], &t->filters[i], err);
        }
        return r;
}

/* Binds the cursor's value of sort term i (never NULL here). */
static int bind_after(writer_t *w, const collection_plan_t *p, const request_terms_t *t, size_t i,
                      collection_error_t *err)
{
        const api_column_t *c = &p->res->columns[p->order[i].column];
        api_rule_t rule = c->rule;

        if (rule.type == API_TYPE_BOOLEAN) /* the cursor holds the stored integer, maybe 2 */
                rule.type = API_TYPE_INT;
        return bind_value(w, c, &rule, t->after_values[i].text, t->after_values[i].len,
                          "after", err);
}

/* "term i equals the cursor's value" */
static int write_equal(writer_t *w, const collection_plan_t *p, const request_terms_t *t,
                       size_t i, collection_error_t *err)
{
        const api_column_t *c = &p->res->columns[p->order[i].column];

        if (t->after_values[i].text == NULL) {
                strbuf_appendf(&w->sql, "%s IS NULL", c->quoted);
                return 0;
        }
        strbuf_appendf(&w->sql, "%s = ?", c->quoted);
        return bind_after(w, p, t, i, err);
}

/* "term i sorts after the cursor's value"; false when nothing can. */
static bool can_follow(const collection_plan_t *p, const request_terms_t *t, size_t i)
{
        return !(p->order[i].descending && t->after_values[i].text == NULL);
}

static int write_follows(writer_t *w, const collection_plan_t *p, const request_terms_t *t,
                         size_t i, collection_error_t *err)
{
        const api_column_t *c = &p->res->columns[p->order[i].column];

        if (t->after_values[i].text == NULL) { /* ascending: NULLs came first */
                strbuf_appendf(&w->sql, "%s IS NOT NULL", c->quoted);
                return 0;
        }
        if (!p->order[i].descending) {
                strbuf_appendf(&w->sql, "%s > ?", c->quoted);
        } else if (c->nullable) { /* descending: NULLs come last */
                strbuf_appendf(&w->sql, "(%s < ? OR %s IS NULL)", c->quoted, c->quoted);
        } else {
                strbuf_appendf(&w->sql, "%s < ?", c->quoted);
        }
        return bind_after(w, p, t, i, err);
}

static int write_after(writer_t *w, const collection_plan_t *p, const request_terms_t *t,
                       collection_error_t *err)
{
        bool first = true;
        int r = 0;

        conjunct(w);
        strbuf_append_char(&w->sql, '(');
        for (size_t i = 0; r == 0 && i < p->order_count; i++) {
                if (!can_follow(p, t, i))
                        continue;
                strbuf_append_str(&w->sql, first ? "(" : " OR (");
                first = false;
                for (size_t j = 0; r == 0 && j < i; j++) {
                        r = write_equal(w, p, t, j, err);
                        strbuf_append_str(&w->sql, " AND ");
                }
                if (r == 0)
                        r = write_follows(w, p, t, i, err);
                strbuf_append_char(&w->sql, ')');
        }
        strbuf_append_str(&w->sql, first ? "FALSE)" : ")");
        return r;
}

static void write_select(writer_t *w, const collection_plan_t *p)
{
        strbuf_append_str(&w->sql, "SELECT ");
        for (size_t i = 0; i < p->field_count; i++) {
                if (i > 0)
                        strbuf_append_char(&w->sql, ',');
                if (p->aggregates[i].fn != AGGREGATE_NONE)
                        select_aggregate_append_field(&w->sql, p, i);
                else
                        strbuf_append_str(&w->sql, p->res->columns[p->fields[i]].quoted);
        }
        strbuf_appendf(&w->sql, " FROM %s", p->res->quoted_table);
}

static int bind_int64(writer_t *w, long long value)
{
        long long *copy = scope_alloc(w->scope, sizeof(*copy));
        MYSQL_BIND *b = &w->binds[w->bind_count++];

        if (copy == NULL)
                return -ENOMEM;
        *copy = value;
        memset(b, 0, sizeof(*b));
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = copy;
        return 0;
}

/* Without a key, every orderable column the request's order leaves out
 * follows it, so that offsets see the rows in one order from page to page;
 * count: the terms already written. */
static void keyless_tie_breakers(writer_t *w, const collection_plan_t *p, size_t count)
{
        for (size_t i = 0; p->res->key_count == 0 && i < p->res->column_count; i++) {
                if (!p->res->columns[i].orderable || in_order(p, i))
                        continue;
                strbuf_appendf(&w->sql, "%s%s ASC", count++ ? "," : " ORDER BY ",
                               p->res->columns[i].quoted);
        }
}

static void write_order_limit(writer_t *w, const collection_plan_t *p)
{
        for (size_t i = 0; i < p->order_count; i++) {
                const collection_order_t *o = &p->order[i];
                const api_column_t *c = &p->res->columns[o->column];
                strbuf_append_str(&w->sql, i ? "," : " ORDER BY ");
                if (o->fn != AGGREGATE_NONE)
                        select_aggregate_append_sql(&w->sql, o->fn, o->no_column ? NULL : c);
                else
                        strbuf_append_str(&w->sql, c->quoted);
                strbuf_append_str(&w->sql, o->descending ? " DESC" : " ASC");
        }
        if (p->aggregate_count == 0) /* groups are ordered by their own columns */
                keyless_tie_breakers(w, p, p->order_count);
        strbuf_append_str(&w->sql, p->by_offset ? " LIMIT ? OFFSET ?" : " LIMIT ?");
}

static char *take_sql(writer_t *w)
{
        const char *text = w->sql.data ? w->sql.data : ""; /* nothing written: an empty head */
        char *sql = w->sql.failed ? NULL : scope_strndup(w->scope, text, w->sql.len);

        strbuf_done(&w->sql);
        return sql;
}

static size_t binds_needed(const collection_plan_t *p, const request_terms_t *t)
{
        size_t n = 2 + p->order_count * (p->order_count + 1) / 2 + p->res->row_claim_count;

        for (size_t i = 0; i < t->filter_count; i++)
                n += t->filters[i].expr.value_count;
        return n;
}

/* A writer with room for every bind the request can need. */
static int start_writer(writer_t *w, const collection_plan_t *p, const request_terms_t *t,
                        scope_t *scope)
{
        *w = (writer_t){ .scope = scope };
        w->binds = scope_alloc(scope, binds_needed(p, t) * sizeof(*w->binds));
        return w->binds ? 0 : -ENOMEM;
}

static int write_count(collection_plan_t *p, const request_terms_t *t, scope_t *scope,
                       collection_error_t *err)
{
        writer_t w;
        int r = start_writer(&w, p, t, scope);

        if (r < 0)
                return r;
        if (p->count_estimated) { /* the optimizer's estimate of the rows (count_estimate.h) */
                strbuf_appendf(&w.sql, "EXPLAIN EXTENDED SELECT 1 FROM %s", p->res->quoted_table);
                r = write_filters(&w, p, t, err);
        } else if (p->aggregate_count > 0) { /* the groups */
                strbuf_append_str(&w.sql, "SELECT COUNT(*) FROM (");
                write_select(&w, p);
                r = write_filters(&w, p, t, err);
                select_aggregate_append_group_by(&w.sql, p);
                strbuf_append_str(&w.sql, ") AS `groups`");
        } else {
                strbuf_appendf(&w.sql, "SELECT COUNT(*) FROM %s", p->res->quoted_table);
                r = write_filters(&w, p, t, err);
        }
        p->count_sql = take_sql(&w);
        p->count_binds = w.binds;
        return r < 0 ? r : p->count_sql ? 0 : -ENOMEM;
}

static int write_page(collection_plan_t *p, const request_terms_t *t, scope_t *scope,
                      collection_error_t *err)
{
        writer_t w;
        int r = start_writer(&w, p, t, scope);

        if (r < 0)
                return r;
        write_select(&w, p);
        r = write_filters(&w, p, t, err);
        if (r == 0 && t->after != NULL)
                r = write_after(&w, p, t, err);
        if (p->aggregate_count > 0)
                select_aggregate_append_group_by(&w.sql, p);
        write_order_limit(&w, p);
        if (r == 0)
                r = bind_int64(&w, p->limit + 1);
        if (r == 0 && p->by_offset)
                r = bind_int64(&w, p->offset);
        p->sql = take_sql(&w);
        p->binds = w.binds;
        if (r == 0 && p->sql == NULL)
                r = -ENOMEM;
        return r;
}

/* ---- the cursor ---- */

static int read_after(collection_plan_t *p, request_terms_t *t, scope_t *scope,
                      collection_error_t *err)
{
        char reason[256];

        t->after_values = scope_alloc(scope, p->order_count * sizeof(*t->after_values));
        if (t->after_values == NULL)
                return -ENOMEM;
        if (p->plain_cursor) {
                t->after_values[0] = (cursor_value_t){ t->after, strlen(t->after) };
                return 0;
        }
        int r = cursor_decode(t->after, p->order_text, p->order_count, scope, t->after_values,
                              reason, sizeof(reason));
        if (r == -EINVAL)
                return collection_refuse(err, "after", "the cursor %s", reason);
        for (size_t i = 0; r == 0 && i < p->order_count; i++)
                if (t->after_values[i].text == NULL &&
                    !p->res->columns[p->order[i].column].nullable)
                        return collection_refuse(err, "after",
                                                 "the cursor is not one of this collection");
        return r;
}

int collection_plan_build(collection_plan_t *p, const api_resource_t *res,
                          const MYSQL_BIND *row_binds, const query_arg_t *args, size_t arg_count,
                          scope_t *scope, collection_error_t *err)
{
        request_terms_t *t = scope_alloc(scope, sizeof(*t));
        int r = t ? prepare_fields(p, res, scope) : -ENOMEM;

        p->row_binds = row_binds;
        if (r == 0)
                r = read_args(p, args, arg_count, scope, t, err);
        if (r == 0)
                r = parse_select(p, query_args_get(args, arg_count, "select"), scope, err);
        if (r == 0)
                r = parse_order(p, query_args_get(args, arg_count, "order"), scope, err);
        if (r == 0)
                r = parse_paging(p, args, arg_count, t, err);
        if (r == 0 && t->after != NULL)
                r = read_after(p, t, scope, err);
        if (r == 0)
                fill_outputs(p);
        if (r == 0)
                r = write_page(p, t, scope, err);
        if (r == 0 && (p->count_exact || p->count_estimated))
                r = write_count(p, t, scope, err);
        return r;
}

/* ---- the conditions of a write ---- */

int collection_plan_where(const api_resource_t *res, const MYSQL_BIND *row_binds,
                          const query_arg_t *args, size_t arg_count, const char *head,
                          size_t lead, scope_t *scope, char **ret_sql, MYSQL_BIND **ret_binds,
                          size_t *ret_bind_count, size_t *ret_filter_count,
                          collection_error_t *err)
{
        collection_plan_t p = { .res = res, .row_binds = row_binds };
        request_terms_t *t = scope_alloc(scope, sizeof(*t));
        writer_t w;

        if (t == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < arg_count; i++)
                if (is_reserved(args[i].name))
                        return collection_refuse(err, args[i].name,
                                                 "query parameter '%s' does not apply to a write",
                                                 args[i].name);
        int r = read_args(&p, args, arg_count, scope, t, err);
        if (r < 0)
                return r;
        w = (writer_t){ .scope = scope, .bind_count = lead };
        w.binds = scope_alloc(scope, (binds_needed(&p, t) + lead) * sizeof(*w.binds));
        if (w.binds == NULL)
                return -ENOMEM;
        strbuf_append_str(&w.sql, head);
        r = write_filters(&w, &p, t, err);
        *ret_sql = take_sql(&w);
        *ret_binds = w.binds;
        *ret_bind_count = w.bind_count;
        *ret_filter_count = t->filter_count;
        return r < 0 ? r : *ret_sql ? 0 : -ENOMEM;
}

char *collection_plan_item_sql(const collection_plan_t *plan, scope_t *scope)
{
        const api_resource_t *res = plan->res;
        strbuf_t sql = { 0 };

        strbuf_append_str(&sql, "SELECT ");
        for (size_t i = 0; i < plan->field_count; i++)
                strbuf_appendf(&sql, "%s%s", i ? "," : "", res->columns[plan->fields[i]].quoted);
        strbuf_appendf(&sql, " FROM %s WHERE ", res->quoted_table);
        for (size_t k = 0; k < res->key_count; k++)
                strbuf_appendf(&sql, "%s%s = ?", k ? " AND " : "", res->columns[res->key[k]].quoted);
        if (res->row_sql != NULL) /* as in the view's item_sql: its claims follow the key */
                strbuf_appendf(&sql, " AND (%s)", res->row_sql);
        char *text = sql.failed ? NULL : scope_strndup(scope, sql.data, sql.len);
        strbuf_done(&sql);
        return text;
}
