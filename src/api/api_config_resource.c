/* A "resources" entry of the configuration file: a table as a collection and
 * its items, with the exposed columns, the key and how values are written. */
#include "api/api_config_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

enum {
        KEY_MAX_COLUMNS = 4,
        TABLE_MAX_COLUMNS = 4096,       /* MariaDB's limit too */
};

static size_t find_column(const api_resource_t *res, const char *name)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strcmp(res->columns[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

/* Appends a column; the caller sized res->columns for it. */
static int add_column(const cfg_ctx_t *c, api_resource_t *res, const char *name)
{
        api_column_t *col = &res->columns[res->column_count++];

        col->name = strdup(name);
        col->quoted = cfg_quote_identifier(name);
        return col->name && col->quoted ? 0 : cfg_nomem(c);
}

static int check_column_name(const cfg_ctx_t *c, const char *what, json_t *v)
{
        char b[CFG_SHOW_SIZE];

        if (!json_is_string(v))
                return cfg_fail(c, "%s: a column name must be a string", what);
        if (!cfg_is_db_name(json_string_value(v)))
                return cfg_fail(c, "%s: column name %s must be 1 to %d characters", what,
                                cfg_show(b, json_string_value(v)), CFG_NAME_MAX_CHARS);
        return 0;
}

static int key_name(const cfg_ctx_t *c, json_t *v, const char **names, size_t count)
{
        char b[CFG_SHOW_SIZE];
        int r = check_column_name(c, "\"key\"", v);

        if (r < 0)
                return r;
        const char *name = json_string_value(v);
        /* The key names the item path's {segments}, which cannot hold '/', '{' or '}'. */
        if (strpbrk(name, "/{}") != NULL)
                return cfg_fail(c, "\"key\": column %s cannot name a path segment (it has a '/', "
                               "'{' or '}')",
                                cfg_show(b, name));
        for (size_t i = 0; i < count; i++)
                if (strcmp(names[i], name) == 0)
                        return cfg_fail(c, "\"key\": column %s appears twice", cfg_show(b, name));
        names[count] = name;
        return 0;
}

/* "key": a column name or 1 to 4 distinct ones; names borrowed from the JSON. */
static int parse_key(const cfg_ctx_t *c, json_t *entry, const char **names, size_t *ret_count)
{
        json_t *v = json_object_get(entry, "key");

        if (v == NULL)
                return cfg_fail(c, "\"key\" is required");
        if (json_is_string(v)) {
                *ret_count = 1;
                return key_name(c, v, names, 0);
        }
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > KEY_MAX_COLUMNS)
                return cfg_fail(c, "\"key\" must be a column name or an array of 1 to %d of them",
                                KEY_MAX_COLUMNS);
        for (size_t i = 0; i < json_array_size(v); i++) {
                int r = key_name(c, json_array_get(v, i), names, i);
                if (r < 0)
                        return r;
        }
        *ret_count = json_array_size(v);
        return 0;
}

static int listed_columns(const cfg_ctx_t *c, json_t *columns, api_resource_t *res)
{
        char b[CFG_SHOW_SIZE];
        size_t count = json_array_size(columns);

        if (!json_is_array(columns) || count == 0 || count > TABLE_MAX_COLUMNS)
                return cfg_fail(c, "\"columns\" must be an array of 1 to %d column names",
                                TABLE_MAX_COLUMNS);
        res->columns = calloc(count, sizeof(*res->columns));
        if (res->columns == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < count; i++) {
                json_t *v = json_array_get(columns, i);
                int r = check_column_name(c, "\"columns\"", v);
                if (r < 0)
                        return r;
                if (find_column(res, json_string_value(v)) != SIZE_MAX)
                        return cfg_fail(c, "\"columns\": %s appears twice",
                                        cfg_show(b, json_string_value(v)));
                r = add_column(c, res, json_string_value(v));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_columns(const cfg_ctx_t *c, const char **names, size_t count, api_resource_t *res)
{
        char b[CFG_SHOW_SIZE];

        res->key = calloc(count, sizeof(*res->key));
        if (res->key == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < count; i++) {
                size_t index = find_column(res, names[i]);
                if (index == SIZE_MAX && !res->all_columns)
                        return cfg_fail(c, "key column %s is not in \"columns\"",
                                        cfg_show(b, names[i]));
                if (index == SIZE_MAX) {
                        index = res->column_count;
                        int r = add_column(c, res, names[i]);
                        if (r < 0)
                                return r;
                }
                res->key[res->key_count++] = index;
        }
        return 0;
}

static int resource_types(const cfg_ctx_t *c, json_t *types, api_resource_t *res)
{
        const char *column;
        json_t *v;
        char b[CFG_SHOW_SIZE];

        json_object_foreach(types, column, v) {
                api_output_t output = API_OUTPUT_DEFAULT;
                int r = cfg_type_override(c, column, v, &output);
                if (r < 0)
                        return r;
                size_t index = find_column(res, column);
                if (index == SIZE_MAX && !res->all_columns)
                        return cfg_fail(c, "\"types\": column %s is not in \"columns\"",
                                        cfg_show(b, column));
                if (index == SIZE_MAX) {
                        index = res->column_count;
                        r = add_column(c, res, column);
                        if (r < 0)
                                return r;
                }
                res->columns[index].output = output;
        }
        return 0;
}

/*
 * The exposed columns, the key and the output overrides. Without "columns"
 * the table's own list is only known to api_schema_check: until then
 * res->columns holds just the names "key" and "types" mention (key first),
 * and api_schema_check replaces them with the table's columns, carrying each
 * output override over and recomputing res->key.
 */
static int parse_columns(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        const char *key[KEY_MAX_COLUMNS];
        size_t key_count = 0;
        json_t *columns = json_object_get(entry, "columns");
        json_t *types = json_object_get(entry, "types");
        int r = parse_key(c, entry, key, &key_count);

        if (r < 0)
                return r;
        if (types != NULL && !json_is_object(types))
                return cfg_fail(c, "\"types\" must be an object");
        if (columns != NULL) {
                r = listed_columns(c, columns, res);
        } else {
                res->all_columns = true;
                res->columns = calloc(key_count + json_object_size(types),
                                      sizeof(*res->columns));
                if (res->columns == NULL)
                        r = cfg_nomem(c);
        }
        if (r == 0)
                r = key_columns(c, key, key_count, res);
        if (r == 0)
                r = resource_types(c, types, res);
        return r;
}

static int parse_table(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        json_t *v = json_object_get(entry, "table");

        if (v == NULL)
                return cfg_fail(c, "\"table\" is required");
        if (!json_is_string(v) || !cfg_is_db_name(json_string_value(v)))
                return cfg_fail(c, "\"table\" must be a name of 1 to %d characters",
                                CFG_NAME_MAX_CHARS);
        res->table = strdup(json_string_value(v));
        res->quoted_table = cfg_quote_identifier(json_string_value(v));
        return res->table && res->quoted_table ? 0 : cfg_nomem(c);
}

static int parse_limits(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        int r = cfg_get_unsigned(c, entry, "max_limit", 1, CFG_ROWS_MAX, 1000, &res->max_limit);

        if (r == 0)
                r = cfg_get_unsigned(c, entry, "default_limit", 1, res->max_limit,
                                     res->max_limit < 100 ? res->max_limit : 100,
                                     &res->default_limit);
        if (r == 0)
                r = cfg_get_unsigned(c, entry, "timeout_ms", 1, CFG_TIMEOUT_MAX_MS, 0,
                                     &res->timeout_ms);
        return r;
}

/* "methods" (default GET) and "max_affected" (default 1000). */
static int parse_methods(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        json_t *v = json_object_get(entry, "methods");
        int r = v == NULL ? 0 : cfg_parse_methods(c, v, "", &res->methods);

        if (v == NULL)
                res->methods = API_METHOD_GET;
        if (r == 0)
                r = cfg_get_unsigned(c, entry, "max_affected", 1, CFG_ROWS_MAX, 1000,
                                     &res->max_affected);
        return r;
}

/*
 * "writable": the columns a request may set. Absent, every served column
 * that is not generated (api_schema_check knows which). Its names are
 * served columns: without "columns" they join the placeholders until
 * api_schema_check takes the table's list, as "types" names do.
 */
static int parse_writable(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        json_t *v = json_object_get(entry, "writable");
        char b[CFG_SHOW_SIZE];

        res->all_writable = v == NULL;
        if (v == NULL)
                return 0;
        if (!json_is_array(v))
                return cfg_fail(c, "\"writable\" must be an array of column names");
        if (json_array_size(v) > 0 && res->all_columns) {
                api_column_t *more = realloc(res->columns, (res->column_count +
                                                            json_array_size(v)) * sizeof(*more));
                if (more == NULL)
                        return cfg_nomem(c);
                res->columns = more;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *name = json_array_get(v, i);
                int r = check_column_name(c, "\"writable\"", name);
                if (r < 0)
                        return r;
                size_t index = find_column(res, json_string_value(name));
                if (index == SIZE_MAX && !res->all_columns)
                        return cfg_fail(c, "\"writable\": column %s is not in \"columns\"",
                                        cfg_show(b, json_string_value(name)));
                if (index == SIZE_MAX) {
                        index = res->column_count;
                        res->columns[index] = (api_column_t){ 0 };
                        if ((r = add_column(c, res, json_string_value(name))) < 0)
                                return r;
                }
                if (res->columns[index].writable)
                        return cfg_fail(c, "\"writable\": %s appears twice",
                                        cfg_show(b, json_string_value(name)));
                res->columns[index].writable = true;
        }
        return 0;
}

/* An array of 1 to KEY_MAX_COLUMNS column names, copied. */
static int relation_columns(const cfg_ctx_t *c, json_t *v, const char *what, char ***ret,
                            size_t *ret_count)
{
        size_t count = json_array_size(v);

        if (!json_is_array(v) || count == 0 || count > KEY_MAX_COLUMNS)
                return cfg_fail(c, "\"relations\": \"%s\" must be an array of 1 to %d column "
                                "names", what, KEY_MAX_COLUMNS);
        *ret = calloc(count, sizeof(**ret));
        if (*ret == NULL)
                return cfg_nomem(c);
        *ret_count = count;
        for (size_t i = 0; i < count; i++) {
                int r = check_column_name(c, "\"relations\"", json_array_get(v, i));
                if (r < 0)
                        return r;
                if (((*ret)[i] = strdup(json_string_value(json_array_get(v, i)))) == NULL)
                        return cfg_nomem(c);
        }
        return 0;
}

/* A relation's name is written in select=name(...): none of the grammar's marks. */
static bool is_relation_name(const char *name)
{
        return cfg_is_db_name(name) && strpbrk(name, "(),!.*&=") == NULL;
}

/* One of "relations": {"name", "from", "to", "to_columns"}, a many-to-one. */
static int parse_relation(const cfg_ctx_t *c, json_t *v, api_relation_t *rel)
{
        static const char *const keys[] = { "name", "from", "to", "to_columns", NULL };
        json_t *name = json_object_get(v, "name"), *to = json_object_get(v, "to");
        char b[CFG_SHOW_SIZE];
        size_t to_count = 0;
        int r;

        if (!json_is_object(v))
                return cfg_fail(c, "\"relations\" must be an array of objects");
        if ((r = cfg_check_keys(c, v, keys)) < 0)
                return r;
        if (!json_is_string(name) || !is_relation_name(json_string_value(name)))
                return cfg_fail(c, "\"relations\": \"name\" must be 1 to %d characters, none "
                                "of ( ) , ! . * & =", CFG_NAME_MAX_CHARS);
        if (!json_is_string(to))
                return cfg_fail(c, "\"relations\" %s: \"to\" must be a resource's path",
                                cfg_show(b, json_string_value(name)));
        rel->to_one = true;
        rel->name = strdup(json_string_value(name));
        rel->target_path = strdup(json_string_value(to));
        if (rel->name == NULL || rel->target_path == NULL)
                return cfg_nomem(c);
        if (json_array_size(json_object_get(v, "from")) !=
            json_array_size(json_object_get(v, "to_columns")))
                return cfg_fail(c, "\"relations\" %s: \"from\" and \"to_columns\" must name "
                                "as many columns", cfg_show(b, rel->name));
        r = relation_columns(c, json_object_get(v, "from"), "from", &rel->columns,
                             &rel->column_count);
        if (r == 0) /* as many as "from": column_count frees both */
                r = relation_columns(c, json_object_get(v, "to_columns"), "to_columns",
                                     &rel->target_columns, &to_count);
        return r;
}

/* "relations": more than the foreign keys say (api_relations_build resolves them). */
static int parse_relations(const cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        json_t *v = json_object_get(entry, "relations");

        if (v == NULL)
                return 0;
        if (!json_is_array(v) || json_array_size(v) > 64)
                return cfg_fail(c, "\"relations\" must be an array of at most 64 objects");
        res->relations = calloc(json_array_size(v) + 1, sizeof(*res->relations));
        if (res->relations == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < json_array_size(v); i++) {
                int r = parse_relation(c, json_array_get(v, i), &res->relations[i]);
                res->relation_count++; /* freed with the entry, whole or not */
                if (r < 0)
                        return r;
        }
        return 0;
}

/* path + "/{k1}/{k2}...": the key columns in key order. */
static int build_item_path(const cfg_ctx_t *c, api_resource_t *res)
{
        strbuf_t b = { 0 };

        strbuf_append_str(&b, res->path);
        for (size_t i = 0; i < res->key_count; i++)
                strbuf_appendf(&b, "/{%s}", res->columns[res->key[i]].name);
        if (b.failed) {
                strbuf_done(&b);
                return cfg_nomem(c);
        }
        res->item_path = strbuf_take(&b, NULL);
        return res->item_path ? 0 : cfg_nomem(c);
}

int cfg_parse_resource(cfg_ctx_t *c, json_t *entry, api_resource_t *res)
{
        static const char *const keys[] = { "path",  "table",     "key",           "columns",
                                            "types", "max_limit", "default_limit", "timeout_ms",
                                            "roles", "methods",   "writable",      "max_affected",
                                            "relations", "cache_ms", "cache_control", NULL };
        int r = cfg_entry_path(c, entry, false, &res->path);

        if (r == 0)
                r = cfg_check_keys(c, entry, keys);
        if (r == 0)
                r = parse_table(c, entry, res);
        if (r == 0)
                r = parse_columns(c, entry, res);
        if (r == 0)
                r = parse_limits(c, entry, res);
        if (r == 0)
                r = parse_methods(c, entry, res);
        if (r == 0)
                r = parse_writable(c, entry, res);
        if (r == 0)
                r = parse_relations(c, entry, res);
        if (r == 0)
                r = cfg_parse_caching(c, entry, &res->cache_ms, &res->cache_control);
        if (r == 0)
                r = build_item_path(c, res);
        if (r == 0)
                r = cfg_parse_access(c, entry, true, res->methods, &res->access,
                                     &res->access_count);
        return r;
}
