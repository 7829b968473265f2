/* Body values -> statement parameters; see write_values.h. */
#include "sql/write_values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "json/json_text.h"
#include "sql/typed_value.h"

static int refuse(char *detail, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int refuse(char *detail, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, size, fmt, ap);
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

int write_values_columns(const api_resource_t *res, const body_row_t *row, size_t *ret_columns,
                         char *detail, size_t detail_size)
{
        size_t count = 0;

        for (size_t i = 0; i < row->field_count; i++) {
                const body_field_t *f = &row->fields[i];
                int c = column_named(res, f->name, f->name_len);
                if (c < 0)
                        return refuse(detail, detail_size, "'%.64s' is not a column of %s",
                                      f->name, res->path);
                if (!res->columns[c].writable)
                        return refuse(detail, detail_size, "column '%s' is not writable",
                                      res->columns[c].name);
                for (size_t j = 0; j < count; j++)
                        if (ret_columns[j] == (size_t)c)
                                return refuse(detail, detail_size, "column '%s' is given twice",
                                              res->columns[c].name);
                ret_columns[count++] = (size_t)c;
        }
        return (int)count;
}

/* ---- one value ---- */

/* Text bound as it is: a JSON column's value, which the server checks again. */
static int bind_text(const char *text, size_t len, scope_t *scope, MYSQL_BIND *b)
{
        char *copy = scope_strndup(scope, text, len);
        unsigned long *length = scope_alloc(scope, sizeof(*length));

        if (copy == NULL || length == NULL)
                return -ENOMEM;
        *length = len;
        *b = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_STRING, .buffer = copy,
                           .buffer_length = len, .length = length };
        return 0;
}

/* A JSON column takes any JSON value as written; a string is written again,
 * as the reader decoded its escapes. */
static int bind_json(const body_field_t *f, scope_t *scope, MYSQL_BIND *b)
{
        strbuf_t quoted = { 0 };
        int r;

        switch (f->kind) {
        case BODY_TRUE:
                return bind_text("true", 4, scope, b);
        case BODY_FALSE:
                return bind_text("false", 5, scope, b);
        case BODY_STRING:
                json_text_string(&quoted, f->text, f->len);
                r = quoted.failed ? -ENOMEM : bind_text(quoted.data, quoted.len, scope, b);
                strbuf_done(&quoted);
                return r;
        case BODY_TEXT:
                if (!json_text_is_valid(f->text, f->len))
                        return -EINVAL;
                return bind_text(f->text, f->len, scope, b);
        default:
                return bind_text(f->text, f->len, scope, b);
        }
}

static const char *kind_name(body_value_kind_t kind)
{
        switch (kind) {
        case BODY_TRUE:
        case BODY_FALSE:
                return "a boolean";
        case BODY_NUMBER:
                return "a number";
        case BODY_JSON:
                return "an object or array";
        default:
                return "a string";
        }
}

/* Whether a value of this kind may be read by the column's rule at all. */
static bool kind_fits(const api_rule_t *rule, body_value_kind_t kind)
{
        switch (kind) {
        case BODY_TRUE:
        case BODY_FALSE:
                return rule->type == API_TYPE_BOOLEAN;
        case BODY_NUMBER:
                return rule->type == API_TYPE_INT || rule->type == API_TYPE_NUMBER ||
                       rule->type == API_TYPE_DECIMAL || rule->type == API_TYPE_BOOLEAN;
        case BODY_JSON:
                return false;
        default:
                return true;
        }
}

static int bind_field(const api_column_t *c, const body_field_t *f, scope_t *scope,
                      MYSQL_BIND *b, char *detail, size_t size)
{
        char reason[256];

        if (f->kind == BODY_NULL) {
                if (!c->nullable)
                        return refuse(detail, size, "column '%s' cannot be null", c->name);
                *b = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_NULL };
                return 0;
        }
        if (c->rule.type == API_TYPE_JSON) {
                int r = bind_json(f, scope, b);
                if (r == -EINVAL)
                        return refuse(detail, size, "column '%s' takes JSON, and this is not",
                                      c->name);
                return r;
        }
        if (!kind_fits(&c->rule, f->kind))
                return refuse(detail, size, "column '%s' does not take %s", c->name,
                              kind_name(f->kind));
        const char *text = f->kind == BODY_TRUE ? "1" : f->kind == BODY_FALSE ? "0" : f->text;
        size_t len = f->kind == BODY_TRUE || f->kind == BODY_FALSE ? 1 : f->len;
        int r = typed_value_parse(&c->rule, text, len, scope, b, reason, sizeof(reason));
        if (r == -EINVAL)
                return refuse(detail, size, "column '%s': '%.*s' %s", c->name,
                              len > 64 ? 64 : (int)len, text, reason);
        return r;
}

/* The field of row for column name, looked for where it was in the first
 * row first: bodies tend to keep one order. */
static const body_field_t *field_for(const body_row_t *row, const char *name, size_t at)
{
        if (at < row->field_count && strcmp(row->fields[at].name, name) == 0)
                return &row->fields[at];
        for (size_t i = 0; i < row->field_count; i++)
                if (strcmp(row->fields[i].name, name) == 0)
                        return &row->fields[i];
        return NULL;
}

int write_values_bind(const api_resource_t *res, const size_t *columns, size_t count,
                      const body_row_t *row, scope_t *scope, MYSQL_BIND *binds, char *detail,
                      size_t detail_size)
{
        if (row->field_count != count) {
                for (size_t i = 0; i < row->field_count; i++)
                        if (column_named(res, row->fields[i].name, row->fields[i].name_len) < 0)
                                return refuse(detail, detail_size, "'%.64s' is not a column of %s",
                                              row->fields[i].name, res->path);
                return refuse(detail, detail_size, "its keys differ from the first row's: every "
                                                   "row of a body sets the same columns");
        }
        for (size_t i = 0; i < count; i++) {
                const api_column_t *c = &res->columns[columns[i]];
                const body_field_t *f = field_for(row, c->name, i);
                if (f == NULL)
                        return refuse(detail, detail_size,
                                      "it does not set column '%s': every row of a body sets "
                                      "the same columns", c->name);
                int r = bind_field(c, f, scope, &binds[i], detail, detail_size);
                if (r < 0)
                        return r;
        }
        return 0;
}
