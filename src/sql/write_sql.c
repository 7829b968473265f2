/* Statement text for writes; see write_sql.h. */
#include "sql/write_sql.h"

#include <stdbool.h>
#include <string.h>

static bool is_key(const api_resource_t *res, size_t column)
{
        for (size_t k = 0; k < res->key_count; k++)
                if (res->key[k] == column)
                        return true;
        return false;
}

static void append_list(strbuf_t *out, const api_resource_t *res, const size_t *columns,
                        size_t count)
{
        for (size_t i = 0; i < count; i++)
                strbuf_appendf(out, "%s%s", i ? ", " : "", res->columns[columns[i]].quoted);
}

static void append_keys(strbuf_t *out, const api_resource_t *res)
{
        append_list(out, res, res->key, res->key_count);
}

static void append_all(strbuf_t *out, const api_resource_t *res)
{
        for (size_t i = 0; i < res->column_count; i++)
                strbuf_appendf(out, "%s%s", i ? ", " : "", res->columns[i].quoted);
}

/* The tuple of n placeholders, "(?, ?, ?)". */
static void append_tuple(strbuf_t *out, size_t n)
{
        strbuf_append_char(out, '(');
        for (size_t i = 0; i < n; i++)
                strbuf_append_str(out, i ? ", ?" : "?");
        strbuf_append_char(out, ')');
}

/* ON DUPLICATE KEY UPDATE: merge replaces the given columns but the key;
 * ignore, and a merge that gives only key columns, changes nothing. A
 * no-op assignment rather than INSERT IGNORE, which would also turn other
 * errors (a NULL, a bad value) into warnings and silently drop the row. */
static void append_resolution(strbuf_t *out, const api_resource_t *res, const size_t *columns,
                              size_t count, prefer_resolution_t resolution)
{
        size_t merged = 0;

        if (resolution == PREFER_RESOLUTION_NONE || res->key_count == 0)
                return;
        strbuf_append_str(out, " ON DUPLICATE KEY UPDATE ");
        for (size_t i = 0; resolution == PREFER_MERGE_DUPLICATES && i < count; i++) {
                if (is_key(res, columns[i]))
                        continue;
                const char *c = res->columns[columns[i]].quoted;
                strbuf_appendf(out, "%s%s = VALUES(%s)", merged++ ? ", " : "", c, c);
        }
        if (merged == 0) {
                const char *k = res->columns[res->key[0]].quoted;
                strbuf_appendf(out, "%s = %s", k, k);
        }
}

void write_sql_returning(strbuf_t *out, const api_resource_t *res, write_returning_t what)
{
        if (what == WRITE_RETURN_NOTHING)
                return;
        strbuf_append_str(out, " RETURNING ");
        if (what == WRITE_RETURN_KEYS)
                append_keys(out, res);
        else
                append_all(out, res);
}

char *write_sql_insert(const api_resource_t *res, const size_t *columns, size_t count, size_t rows,
                       prefer_resolution_t resolution, write_returning_t returning,
                       scope_t *scope)
{
        strbuf_t sql = { 0 };

        strbuf_appendf(&sql, "INSERT INTO %s (", res->quoted_table);
        append_list(&sql, res, columns, count);
        strbuf_append_str(&sql, ") VALUES ");
        for (size_t r = 0; r < rows; r++) {
                if (r > 0)
                        strbuf_append_str(&sql, ", ");
                append_tuple(&sql, count);
        }
        append_resolution(&sql, res, columns, count, resolution);
        write_sql_returning(&sql, res, returning);
        char *text = sql.failed ? NULL : scope_strndup(scope, sql.data, sql.len);
        strbuf_done(&sql);
        return text;
}

void write_sql_update_head(strbuf_t *out, const api_resource_t *res, const size_t *columns,
                           size_t count)
{
        strbuf_appendf(out, "UPDATE %s SET ", res->quoted_table);
        for (size_t i = 0; i < count; i++)
                strbuf_appendf(out, "%s%s = ?", i ? ", " : "", res->columns[columns[i]].quoted);
}

void write_sql_delete_head(strbuf_t *out, const api_resource_t *res)
{
        strbuf_appendf(out, "DELETE FROM %s", res->quoted_table);
}

void write_sql_select_head(strbuf_t *out, const api_resource_t *res, write_returning_t what)
{
        strbuf_append_str(out, "SELECT ");
        if (what == WRITE_RETURN_KEYS && res->key_count == 0)
                strbuf_append_char(out, '1'); /* rows without a key are only counted */
        else if (what == WRITE_RETURN_KEYS)
                append_keys(out, res);
        else
                append_all(out, res);
        strbuf_appendf(out, " FROM %s", res->quoted_table);
}

void write_sql_where_keys(strbuf_t *out, const api_resource_t *res, size_t rows, bool visible)
{
        strbuf_append_str(out, " WHERE ");
        if (res->key_count > 1)
                strbuf_append_char(out, '(');
        append_keys(out, res);
        strbuf_append_str(out, res->key_count > 1 ? ") IN (" : " IN (");
        for (size_t r = 0; r < rows; r++) {
                if (r > 0)
                        strbuf_append_str(out, ", ");
                if (res->key_count > 1)
                        append_tuple(out, res->key_count);
                else
                        strbuf_append_char(out, '?');
        }
        strbuf_append_char(out, ')');
        if (visible && res->row_sql != NULL)
                strbuf_appendf(out, " AND (%s)", res->row_sql);
}
