/*
 * The configuration checked against the live schema: every table, column and
 * query is prepared once (blocking calls, at start or reload), and the
 * result metadata says what each column is, so that request values can be
 * typed and the OpenAPI document can give each column its real JSON type.
 */
#include "api/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"

enum { BINARY_CHARSET = 63 };

static int entry_fail(char *err, size_t n, const api_t *api, const char *kind, size_t index,
                      const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int entry_fail(char *err, size_t n, const api_t *api, const char *kind, size_t index,
                      const char *path, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        snprintf(err, n, "%s: %s[%zu] \"%s\": %s", api->source, kind, index, path, detail);
        return -EINVAL;
}

/* Prepares sql; the statement, or NULL with the server's refusal in err. */
static MYSQL_STMT *prepare(MYSQL *mysql, const char *sql, char *why, size_t why_size)
{
        MYSQL_STMT *stmt = mysql_stmt_init(mysql);

        if (stmt == NULL) {
                snprintf(why, why_size, "out of memory");
                return NULL;
        }
        if (mysql_stmt_prepare(stmt, sql, strlen(sql)) == 0)
                return stmt;
        snprintf(why, why_size, "the database refuses it: %s", mysql_stmt_error(stmt));
        mysql_stmt_close(stmt);
        return NULL;
}

static bool is_json_field(const MYSQL_FIELD *f)
{
        MARIADB_CONST_STRING format;

        return f->type == MYSQL_TYPE_JSON ||
               (mariadb_field_attr(&format, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
                format.length == 4 && memcmp(format.str, "json", 4) == 0);
}

static bool is_integer_type(enum enum_field_types t)
{
        return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_INT24 ||
               t == MYSQL_TYPE_LONG || t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR ||
               t == MYSQL_TYPE_BIT;
}

static bool is_long_type(enum enum_field_types t)
{
        return t == MYSQL_TYPE_TINY_BLOB || t == MYSQL_TYPE_BLOB || t == MYSQL_TYPE_MEDIUM_BLOB ||
               t == MYSQL_TYPE_LONG_BLOB || t == MYSQL_TYPE_GEOMETRY;
}

/* Characters a text column holds: its byte length over its charset's widest character. */
static size_t char_length(const MYSQL_FIELD *f)
{
        MARIADB_CHARSET_INFO *cs = mariadb_get_charset_by_nr(f->charsetnr);
        unsigned width = cs != NULL && cs->char_maxlen > 0 ? cs->char_maxlen : 1;

        return f->length / width;
}

/* What a filter value must be for this column. */
static api_rule_t rule_of(const api_column_meta_t *m, const MYSQL_FIELD *f, api_output_t output)
{
        api_rule_t rule = { .type = API_TYPE_STRING };

        if (is_integer_type(m->type)) {
                rule.type = output == API_OUTPUT_BOOLEAN ? API_TYPE_BOOLEAN : API_TYPE_INT;
                rule.is_unsigned = (m->flags & UNSIGNED_FLAG) != 0 || m->type == MYSQL_TYPE_BIT;
                return rule;
        }
        switch (m->type) {
        case MYSQL_TYPE_FLOAT:
                rule.type = API_TYPE_NUMBER;
                rule.is_float = true;
                break;
        case MYSQL_TYPE_DOUBLE:
                rule.type = API_TYPE_NUMBER;
                break;
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
                rule.type = API_TYPE_DECIMAL;
                break;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
                rule.type = API_TYPE_DATE;
                break;
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_DATETIME2:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIMESTAMP2:
                rule.type = API_TYPE_DATETIME;
                break;
        case MYSQL_TYPE_TIME:
        case MYSQL_TYPE_TIME2:
                rule.type = API_TYPE_TIME;
                break;
        case MYSQL_TYPE_GEOMETRY:
                rule.type = API_TYPE_JSON; /* compared with nothing but null */
                break;
        default:
                if (m->is_json) {
                        rule.type = API_TYPE_JSON;
                } else if (m->charsetnr == BINARY_CHARSET) {
                        rule.type = API_TYPE_BINARY;
                        rule.max_length = f->length;
                } else {
                        rule.max_length = char_length(f);
                }
                break;
        }
        return rule;
}

/* Why output cannot apply to this column, or NULL when it can. */
static const char *output_mismatch(const api_column_meta_t *m, api_output_t output)
{
        bool integer = is_integer_type(m->type);
        bool decimal = m->type == MYSQL_TYPE_DECIMAL || m->type == MYSQL_TYPE_NEWDECIMAL;
        bool real = m->type == MYSQL_TYPE_FLOAT || m->type == MYSQL_TYPE_DOUBLE;

        if (output == API_OUTPUT_BOOLEAN && !integer)
                return "\"boolean\" applies to integer columns only";
        if (output == API_OUTPUT_NUMBER && !integer && !decimal)
                return "\"number\" applies to integer and DECIMAL columns only";
        if (output == API_OUTPUT_STRING && !integer && !decimal && !real)
                return "\"string\" applies to numeric columns only";
        return NULL;
}

/* Fills c from the field; NULL, or why its "types" entry cannot apply. */
static const char *describe_column(api_column_t *c, const MYSQL_FIELD *f)
{
        c->meta = (api_column_meta_t){
                .type = f->type,
                .flags = f->flags,
                .charsetnr = f->charsetnr,
                .length = f->length,
                .decimals = f->decimals,
                .is_json = is_json_field(f),
        };
        c->rule = rule_of(&c->meta, f, c->output);
        c->nullable = (f->flags & NOT_NULL_FLAG) == 0;
        c->orderable = c->rule.type != API_TYPE_JSON && !is_long_type(f->type);
        return output_mismatch(&c->meta, c->output);
}

static char *quote_identifier(const char *name, size_t len)
{
        strbuf_t q = { 0 };

        strbuf_append_char(&q, '`');
        for (size_t i = 0; i < len; i++) {
                if (name[i] == '`')
                        strbuf_append_char(&q, '`');
                strbuf_append_char(&q, name[i]);
        }
        strbuf_append_char(&q, '`');
        return strbuf_take(&q, NULL);
}

static int find_column(const api_column_t *columns, size_t count, const char *name)
{
        for (size_t i = 0; i < count; i++)
                if (strcmp(columns[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/* Swaps the named columns the file gave (keys and "types") for every
 * column of the table, in its order, keeping their outputs and the key. */
static const char *take_all_columns(api_resource_t *r, MYSQL_FIELD *fields, unsigned count)
{
        api_column_t *all = calloc(count, sizeof(*all));
        size_t key[8];

        if (all == NULL)
                return "out of memory";
        bool out_of_memory = false;
        for (unsigned i = 0; i < count; i++) {
                all[i].name = strndup(fields[i].name, fields[i].name_length);
                all[i].quoted = quote_identifier(fields[i].name, fields[i].name_length);
                out_of_memory |= all[i].name == NULL || all[i].quoted == NULL;
        }
        for (size_t i = 0; i < r->column_count; i++) {
                int at = out_of_memory ? -1 : find_column(all, count, r->columns[i].name);
                if (at < 0) {
                        for (unsigned j = 0; j < count; j++) {
                                free(all[j].name);
                                free(all[j].quoted);
                        }
                        free(all);
                        return out_of_memory ? "(out of memory)" : r->columns[i].name;
                }
                all[at].output = r->columns[i].output;
                all[at].writable = r->columns[i].writable;
        }
        for (size_t k = 0; k < r->key_count && k < 8; k++)
                key[k] = (size_t)find_column(all, count, r->columns[r->key[k]].name);
        memcpy(r->key, key, r->key_count * sizeof(*key));
        for (size_t i = 0; i < r->column_count; i++) {
                free(r->columns[i].name);
                free(r->columns[i].quoted);
        }
        free(r->columns);
        r->columns = all;
        r->column_count = count;
        return NULL;
}

static char *column_list_sql(const api_resource_t *r)
{
        strbuf_t sql = { 0 };

        strbuf_append_str(&sql, "SELECT ");
        if (r->all_columns)
                strbuf_append_char(&sql, '*');
        for (size_t i = 0; !r->all_columns && i < r->column_count; i++) {
                if (i > 0)
                        strbuf_append_char(&sql, ',');
                strbuf_append_str(&sql, r->columns[i].quoted);
        }
        strbuf_appendf(&sql, " FROM %s LIMIT 0", r->quoted_table);
        return strbuf_take(&sql, NULL);
}

/* Whether some unique index of the table lies within the key columns, so
 * the key tells rows apart (views have no indexes: they are trusted). */
static bool key_is_unique(MYSQL *mysql, const api_resource_t *r, char *why, size_t why_size)
{
        char *table = malloc(2 * strlen(r->table) + 1);
        char sql[1024];
        bool unique = false;

        if (table == NULL) {
                snprintf(why, why_size, "out of memory");
                return false;
        }
        mysql_real_escape_string(mysql, table, r->table, strlen(r->table));
        snprintf(sql, sizeof(sql),
                 "SELECT t.TABLE_TYPE, s.INDEX_NAME, s.COLUMN_NAME FROM information_schema.TABLES t "
                 "LEFT JOIN information_schema.STATISTICS s ON s.TABLE_SCHEMA = t.TABLE_SCHEMA "
                 "AND s.TABLE_NAME = t.TABLE_NAME AND s.NON_UNIQUE = 0 "
                 "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = '%s' ORDER BY s.INDEX_NAME",
                 table);
        free(table);
        if (mysql_query(mysql, sql) != 0) {
                snprintf(why, why_size, "cannot read the table's indexes: %s", mysql_error(mysql));
                return false;
        }
        MYSQL_RES *res = mysql_store_result(mysql);
        MYSQL_ROW row;
        char index[65] = "";
        bool within = false;
        while (res != NULL && (row = mysql_fetch_row(res)) != NULL && !unique) {
                if (row[0] != NULL && strcmp(row[0], "BASE TABLE") != 0)
                        unique = true; /* a view */
                if (row[1] == NULL || row[2] == NULL)
                        continue;
                if (strcmp(index, row[1]) != 0) {
                        if (index[0] != '\0' && within)
                                unique = true;
                        snprintf(index, sizeof(index), "%s", row[1]);
                        within = true;
                }
                if (find_column(r->columns, r->column_count, row[2]) < 0)
                        within = false;
                else {
                        bool in_key = false;
                        for (size_t k = 0; k < r->key_count; k++)
                                in_key |= strcmp(r->columns[r->key[k]].name, row[2]) == 0;
                        within &= in_key;
                }
        }
        if (index[0] != '\0' && within)
                unique = true;
        mysql_free_result(res);
        if (!unique)
                snprintf(why, why_size, "no primary key or unique index of table \"%s\" lies "
                                        "within the key, so it cannot tell rows apart",
                         r->table);
        return unique;
}

static api_column_t *column_named(api_resource_t *r, const char *name)
{
        for (size_t i = 0; i < r->column_count; i++)
                if (strcasecmp(r->columns[i].name, name) == 0) /* as MariaDB compares them */
                        return &r->columns[i];
        return NULL;
}

/*
 * What writes need to know of each served column, from
 * information_schema.COLUMNS: whether the database computes it (a generated
 * column: EXTRA says GENERATED, not DEFAULT_GENERATED, or it has a
 * GENERATION_EXPRESSION), numbers it (AUTO_INCREMENT) or needs it from an
 * insert (NOT NULL, no default, neither of those).
 */
static bool read_write_flags(MYSQL *mysql, api_resource_t *r, char *why, size_t why_size)
{
        char *table = malloc(2 * strlen(r->table) + 1);
        char sql[1024];

        if (table == NULL) {
                snprintf(why, why_size, "out of memory");
                return false;
        }
        mysql_real_escape_string(mysql, table, r->table, strlen(r->table));
        snprintf(sql, sizeof(sql),
                 "SELECT COLUMN_NAME, (EXTRA LIKE '%%GENERATED%%' AND EXTRA NOT LIKE "
                 "'%%DEFAULT_GENERATED%%') OR COALESCE(GENERATION_EXPRESSION, '') <> '', "
                 "EXTRA LIKE '%%auto_increment%%', IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL "
                 "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                 "TABLE_NAME = '%s'",
                 table);
        free(table);
        if (mysql_query(mysql, sql) != 0) {
                snprintf(why, why_size, "cannot read the table's columns: %s", mysql_error(mysql));
                return false;
        }
        MYSQL_RES *res = mysql_store_result(mysql);
        MYSQL_ROW row;
        while (res != NULL && (row = mysql_fetch_row(res)) != NULL) {
                api_column_t *c = row[0] ? column_named(r, row[0]) : NULL;
                if (c == NULL)
                        continue; /* not served */
                c->generated = row[1] != NULL && strcmp(row[1], "1") == 0;
                c->auto_increment = row[2] != NULL && strcmp(row[2], "1") == 0;
                c->required = row[3] != NULL && strcmp(row[3], "1") == 0 && !c->generated &&
                              !c->auto_increment;
        }
        mysql_free_result(res);
        return true;
}

/* "writable" against what the table says: absent, every column the
 * database does not compute; listed, none it computes. */
static bool check_writable(MYSQL *mysql, api_resource_t *r, char *why, size_t why_size)
{
        if (!read_write_flags(mysql, r, why, why_size))
                return false;
        for (size_t i = 0; i < r->column_count; i++) {
                api_column_t *c = &r->columns[i];
                if (r->all_writable) {
                        c->writable = !c->generated;
                } else if (c->writable && c->generated) {
                        snprintf(why, why_size, "\"writable\": column \"%s\" is generated by "
                                                "the database and cannot be written", c->name);
                        return false;
                }
        }
        return true;
}

static int check_resource(api_t *api, size_t index, MYSQL *mysql, char *err, size_t n)
{
        api_resource_t *r = &api->resources[index];
        char why[512];
        char *sql = column_list_sql(r);

        if (sql == NULL)
                return -ENOMEM;
        MYSQL_STMT *stmt = prepare(mysql, sql, why, sizeof(why));
        free(sql);
        if (stmt == NULL)
                return entry_fail(err, n, api, "resources", index, r->path, "%s", why);
        MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
        MYSQL_FIELD *fields = meta ? mysql_fetch_fields(meta) : NULL;
        unsigned count = meta ? mysql_num_fields(meta) : 0;
        const char *problem = NULL, *missing = NULL;
        if (r->all_columns && meta != NULL)
                missing = take_all_columns(r, fields, count);
        for (size_t i = 0; missing == NULL && problem == NULL && i < r->column_count; i++) {
                problem = describe_column(&r->columns[i], &fields[i]);
                if (problem != NULL)
                        snprintf(why, sizeof(why), "types: column \"%s\": %s", r->columns[i].name,
                                 problem);
        }
        for (size_t k = 0; missing == NULL && problem == NULL && k < r->key_count; k++) {
                const api_column_t *c = &r->columns[r->key[k]];
                if (c->nullable || !c->orderable) {
                        snprintf(why, sizeof(why), "key column \"%s\" must be NOT NULL and "
                                                   "comparable (not TEXT, BLOB or JSON)", c->name);
                        problem = why;
                }
        }
        if (missing != NULL)
                snprintf(why, sizeof(why), "column \"%s\" is not in table \"%s\"", missing,
                         r->table);
        mysql_free_result(meta);
        mysql_stmt_close(stmt);
        /* Without a key (a keyless table or a view api_introspect found) there
         * are no items to tell apart. */
        if (missing != NULL || problem != NULL ||
            (meta != NULL && r->key_count > 0 && !key_is_unique(mysql, r, why, sizeof(why))) ||
            (meta != NULL && !check_writable(mysql, r, why, sizeof(why))))
                return entry_fail(err, n, api, "resources", index, r->path, "%s", why);
        return 0;
}

static int take_result_columns(api_query_t *q, MYSQL_FIELD *fields, unsigned count, char *why,
                               size_t why_size)
{
        q->columns = calloc(count, sizeof(*q->columns));
        if (q->columns == NULL)
                return -ENOMEM;
        q->column_count = count;
        for (unsigned i = 0; i < count; i++) {
                api_column_t *c = &q->columns[i];
                c->name = strndup(fields[i].name, fields[i].name_length);
                c->quoted = quote_identifier(fields[i].name, fields[i].name_length);
                if (c->name == NULL || c->quoted == NULL)
                        return -ENOMEM;
                if (find_column(q->columns, i, c->name) >= 0) {
                        snprintf(why, why_size, "the result has two columns named \"%s\": "
                                                "name them apart with AS", c->name);
                        return -EINVAL;
                }
                for (size_t t = 0; t < q->type_count; t++)
                        if (strcmp(q->types[t].column, c->name) == 0)
                                c->output = q->types[t].output;
                const char *problem = describe_column(c, &fields[i]);
                if (problem != NULL) {
                        snprintf(why, why_size, "types: column \"%s\": %s", c->name, problem);
                        return -EINVAL;
                }
        }
        for (size_t t = 0; t < q->type_count; t++) {
                if (find_column(q->columns, count, q->types[t].column) < 0) {
                        snprintf(why, why_size, "types: the result has no column \"%s\"",
                                 q->types[t].column);
                        return -EINVAL;
                }
        }
        return 0;
}

static int check_query(api_t *api, size_t index, MYSQL *mysql, char *err, size_t n)
{
        api_query_t *q = &api->queries[index];
        char why[512];
        MYSQL_STMT *stmt = prepare(mysql, q->bound_sql, why, sizeof(why));
        int r = -EINVAL;

        if (stmt == NULL)
                return entry_fail(err, n, api, "queries", index, q->path, "%s", why);
        MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
        if (mysql_stmt_param_count(stmt) != q->bind_count)
                snprintf(why, sizeof(why), "the statement has %lu placeholders, not %zu",
                         mysql_stmt_param_count(stmt), q->bind_count);
        else if (meta == NULL && q->method == API_METHOD_GET)
                snprintf(why, sizeof(why), "the statement returns no rows");
        else if (meta == NULL) /* a write answers {"affected_rows": N} */
                r = 0;
        else
                r = take_result_columns(q, mysql_fetch_fields(meta), mysql_num_fields(meta), why,
                                        sizeof(why));
        mysql_free_result(meta);
        mysql_stmt_close(stmt);
        if (r == -EINVAL)
                return entry_fail(err, n, api, "queries", index, q->path, "%s", why);
        return r;
}

int api_schema_check(api_t *api, MYSQL *mysql, char *err, size_t err_size)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < api->resource_count; i++)
                r = check_resource(api, i, mysql, err, err_size);
        for (size_t i = 0; r == 0 && i < api->query_count; i++)
                r = check_query(api, i, mysql, err, err_size);
        if (r == 0)
                r = api_views_build(api, mysql, err, err_size);
        if (r == 0)
                r = api_relations_build(api, mysql, err, err_size);
        if (r == -ENOMEM)
                snprintf(err, err_size, "%s: out of memory", api->source);
        return r;
}
