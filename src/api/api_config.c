/* The configuration file's shape: every key, type and bound is checked before
 * anything touches the database, and each message names the entry, since an
 * operator told only "bad config" cannot find a typo among forty entries. */
#include "api/api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "sql/named_sql.h"
#include "sql/typed_value.h"

enum {
        CONFIG_MAX_BYTES = 16 << 20,
        NAME_MAX_CHARS = 64,            /* MariaDB's limit for table and column names */
        KEY_MAX_COLUMNS = 4,
        TABLE_MAX_COLUMNS = 4096,       /* MariaDB's limit too */
        LIMIT_MAX = 1000000,
        ROWS_MAX = 1000000000,          /* results stream: rows cost no memory */
        TIMEOUT_MAX_MS = 3600000,
        STRING_MAX_LENGTH = 1000,       /* a string parameter's default max_length */
        SHOW_SIZE = 96,
};

/* Where the parse is, for messages: "<file>: queries[1] "/peers": ...". */
typedef struct ctx {
        const char *source;
        const char *section;    /* "resources" or "queries"; NULL at the top level */
        size_t index;
        const char *path;       /* the entry's path once it is known to be valid */
        const char *param;      /* the parameter being read, once its name is valid */
        char *err;
        size_t err_size;
} ctx_t;

static int fail(const ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const ctx_t *c, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        if (c->err_size == 0)
                return -EINVAL;
        if (c->section == NULL)
                snprintf(c->err, c->err_size, "%s: %s", c->source, message);
        else if (c->path == NULL)
                snprintf(c->err, c->err_size, "%s: %s[%zu]: %s", c->source, c->section,
                         c->index, message);
        else if (c->param == NULL)
                snprintf(c->err, c->err_size, "%s: %s[%zu] \"%s\": %s", c->source, c->section,
                         c->index, c->path, message);
        else
                snprintf(c->err, c->err_size, "%s: %s[%zu] \"%s\": parameter \"%s\": %s",
                         c->source, c->section, c->index, c->path, c->param, message);
        return -EINVAL;
}

static int nomem(const ctx_t *c)
{
        if (c->err_size > 0)
                snprintf(c->err, c->err_size, "%s: out of memory", c->source);
        return -ENOMEM;
}

/*
 * A name from the file, quoted for a message: quotes, backslashes and control
 * characters escaped and long text cut (never inside a UTF-8 sequence), so
 * the message stays one readable line whatever the file holds.
 */
static const char *show_n(char buf[SHOW_SIZE], const char *text, size_t len)
{
        const unsigned char *end = (const unsigned char *)text + len;
        size_t n = 0;

        buf[n++] = '"';
        for (const unsigned char *p = (const unsigned char *)text; p < end; p++) {
                /* A character adds at most 4 bytes: cut before one while room stays for
                 * `..."`, and mid-way only in text that is not UTF-8. */
                if (n >= SHOW_SIZE - 12 && ((*p & 0xc0) != 0x80 || n >= SHOW_SIZE - 8)) {
                        memcpy(buf + n, "...", 3);
                        n += 3;
                        break;
                }
                if (*p == '"' || *p == '\\')
                        n += (size_t)snprintf(buf + n, SHOW_SIZE - n, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        n += (size_t)snprintf(buf + n, SHOW_SIZE - n, "\\x%02x", *p);
                else
                        buf[n++] = (char)*p;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

static const char *show(char buf[SHOW_SIZE], const char *text)
{
        return show_n(buf, text, strlen(text));
}

static bool in_list(const char *name, const char *const *list)
{
        for (; *list != NULL; list++)
                if (strcmp(name, *list) == 0)
                        return true;
        return false;
}

/* Unknown keys are errors: a misspelt "max_limt" must not silently mean the default. */
static int check_keys(const ctx_t *c, json_t *object, const char *const *allowed)
{
        const char *key;
        json_t *value;
        char b[SHOW_SIZE];

        json_object_foreach(object, key, value) {
                if (!in_list(key, allowed))
                        return fail(c, "unknown key %s", show(b, key));
        }
        return 0;
}

/* An optional integer member within [min, max]; def when absent. */
static int get_unsigned(const ctx_t *c, json_t *object, const char *key, unsigned min,
                        unsigned max, unsigned def, unsigned *ret)
{
        json_t *v = json_object_get(object, key);

        if (v == NULL) {
                *ret = def;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return fail(c, "\"%s\" must be an integer from %u to %u", key, min, max);
        *ret = (unsigned)json_integer_value(v);
        return 0;
}

static bool is_ascii_letter(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* The name grammar of placeholders, which path parameters and declared
 * parameters share so that every one of them can be bound. */
static bool is_param_name(const char *name, size_t len)
{
        if (len == 0 || !(is_ascii_letter(name[0]) || name[0] == '_'))
                return false;
        for (size_t i = 1; i < len; i++)
                if (!(is_ascii_letter(name[i]) || name[i] == '_' ||
                      (name[i] >= '0' && name[i] <= '9')))
                        return false;
        return true;
}

/* Table and column names: 1 to 64 characters, counted as MariaDB counts them. */
static bool is_db_name(const char *name)
{
        size_t chars = 0;

        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
                if ((*p & 0xc0) != 0x80)
                        chars++;
        return chars >= 1 && chars <= NAME_MAX_CHARS;
}

/* `name` with backticks doubled: an identifier the SQL can hold whatever it is. */
static char *quote_identifier(const char *name)
{
        strbuf_t b = { 0 };

        strbuf_append_char(&b, '`');
        for (const char *p = name; *p != '\0'; p++) {
                if (*p == '`')
                        strbuf_append_char(&b, '`');
                strbuf_append_char(&b, *p);
        }
        strbuf_append_char(&b, '`');
        if (b.failed) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_take(&b, NULL);
}

/* ---- paths ---- */

/* The router's rule for a capturing segment. */
static bool is_capture(const char *segment, size_t len)
{
        return len > 2 && segment[0] == '{' && segment[len - 1] == '}';
}

static bool is_literal(const char *segment, size_t len)
{
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_.~-";

        for (size_t i = 0; i < len; i++)
                if (strchr(allowed, segment[i]) == NULL)
                        return false;
        /* "." and ".." would read as a directory walk to any proxy in front. */
        return len > 0 && !(len <= 2 && strspn(segment, ".") >= len);
}

/* The {name} segments of a path already checked, in order. */
static size_t path_params(const char *path, const char **ret_names, size_t *ret_lens)
{
        size_t count = 0;

        for (const char *seg = path; *seg == '/' && count < ROUTER_MAX_PARAMS; ) {
                seg++;
                size_t len = strcspn(seg, "/");
                if (is_capture(seg, len)) {
                        ret_names[count] = seg + 1;
                        ret_lens[count++] = len - 2;
                }
                seg += len;
        }
        return count;
}

static int check_segment(const ctx_t *c, const char *path, const char *seg, size_t len,
                         bool allow_params)
{
        char b[SHOW_SIZE], s[SHOW_SIZE];

        if (len == 0)
                return fail(c, "path %s has an empty segment", show(b, path));
        if (is_literal(seg, len))
                return 0;
        if (!is_capture(seg, len))
                return fail(c, "path %s: segment %s must be made of A-Z a-z 0-9 _ . ~ -%s",
                            show(b, path), show_n(s, seg, len),
                            allow_params ? " or be a {name}" : "");
        if (!allow_params)
                return fail(c, "path %s: a resource path has no {parameters} (the item "
                            "path adds the key)", show(b, path));
        if (!is_param_name(seg + 1, len - 2))
                return fail(c, "path %s: in %s, a name is letters, digits and _, not "
                            "starting with a digit", show(b, path), show_n(s, seg, len));
        return 0;
}

/* "/" + literal segments, and for queries {name} segments, at most 8, distinct. */
static int check_path(const ctx_t *c, const char *path, bool allow_params)
{
        const char *names[ROUTER_MAX_PARAMS];
        size_t lens[ROUTER_MAX_PARAMS];
        size_t count = 0;
        char b[SHOW_SIZE];

        if (path[0] != '/' || path[1] == '\0')
                return fail(c, "path %s must be \"/\" followed by segments", show(b, path));
        for (const char *seg = path; *seg == '/'; ) {
                seg++;
                size_t len = strcspn(seg, "/");
                int r = check_segment(c, path, seg, len, allow_params);
                if (r < 0)
                        return r;
                if (is_capture(seg, len)) {
                        for (size_t i = 0; i < count; i++)
                                if (lens[i] == len - 2 && memcmp(names[i], seg + 1, len - 2) == 0)
                                        return fail(c, "path %s: parameter {%.*s} appears twice",
                                                    show(b, path), (int)len - 2, seg + 1);
                        if (count == ROUTER_MAX_PARAMS)
                                return fail(c, "path %s: more than %d path parameters",
                                            show(b, path), ROUTER_MAX_PARAMS);
                        names[count] = seg + 1;
                        lens[count++] = len - 2;
                }
                seg += len;
        }
        return 0;
}

/* Checks the entry is an object with a valid "path" and copies the path. */
static int entry_path(ctx_t *c, json_t *entry, bool allow_params, char **ret)
{
        if (!json_is_object(entry))
                return fail(c, "an entry must be an object");
        json_t *v = json_object_get(entry, "path");
        if (v == NULL)
                return fail(c, "\"path\" is required");
        if (!json_is_string(v))
                return fail(c, "\"path\" must be a string");
        int r = check_path(c, json_string_value(v), allow_params);
        if (r < 0)
                return r;
        *ret = strdup(json_string_value(v));
        if (*ret == NULL)
                return nomem(c);
        c->path = *ret;
        return 0;
}

/* ---- resources ---- */

static size_t find_column(const api_resource_t *res, const char *name)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strcmp(res->columns[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

/* Appends a column; the caller sized res->columns for it. */
static int add_column(const ctx_t *c, api_resource_t *res, const char *name)
{
        api_column_t *col = &res->columns[res->column_count++];

        col->name = strdup(name);
        col->quoted = quote_identifier(name);
        return col->name && col->quoted ? 0 : nomem(c);
}

static int check_column_name(const ctx_t *c, const char *what, json_t *v)
{
        char b[SHOW_SIZE];

        if (!json_is_string(v))
                return fail(c, "%s: a column name must be a string", what);
        if (!is_db_name(json_string_value(v)))
                return fail(c, "%s: column name %s must be 1 to %d characters", what,
                            show(b, json_string_value(v)), NAME_MAX_CHARS);
        return 0;
}

static int key_name(const ctx_t *c, json_t *v, const char **names, size_t count)
{
        char b[SHOW_SIZE];
        int r = check_column_name(c, "\"key\"", v);

        if (r < 0)
                return r;
        const char *name = json_string_value(v);
        /* The key names the item path's {segments}, which cannot hold '/', '{' or '}'. */
        if (strpbrk(name, "/{}") != NULL)
                return fail(c, "\"key\": column %s cannot name a path segment (it has a '/', "
                               "'{' or '}')",
                            show(b, name));
        for (size_t i = 0; i < count; i++)
                if (strcmp(names[i], name) == 0)
                        return fail(c, "\"key\": column %s appears twice", show(b, name));
        names[count] = name;
        return 0;
}

/* "key": a column name or 1 to 4 distinct ones; names borrowed from the JSON. */
static int parse_key(const ctx_t *c, json_t *entry, const char **names, size_t *ret_count)
{
        json_t *v = json_object_get(entry, "key");

        if (v == NULL)
                return fail(c, "\"key\" is required");
        if (json_is_string(v)) {
                *ret_count = 1;
                return key_name(c, v, names, 0);
        }
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > KEY_MAX_COLUMNS)
                return fail(c, "\"key\" must be a column name or an array of 1 to %d of them",
                            KEY_MAX_COLUMNS);
        for (size_t i = 0; i < json_array_size(v); i++) {
                int r = key_name(c, json_array_get(v, i), names, i);
                if (r < 0)
                        return r;
        }
        *ret_count = json_array_size(v);
        return 0;
}

static int listed_columns(const ctx_t *c, json_t *columns, api_resource_t *res)
{
        char b[SHOW_SIZE];
        size_t count = json_array_size(columns);

        if (!json_is_array(columns) || count == 0 || count > TABLE_MAX_COLUMNS)
                return fail(c, "\"columns\" must be an array of 1 to %d column names",
                            TABLE_MAX_COLUMNS);
        res->columns = calloc(count, sizeof(*res->columns));
        if (res->columns == NULL)
                return nomem(c);
        for (size_t i = 0; i < count; i++) {
                json_t *v = json_array_get(columns, i);
                int r = check_column_name(c, "\"columns\"", v);
                if (r < 0)
                        return r;
                if (find_column(res, json_string_value(v)) != SIZE_MAX)
                        return fail(c, "\"columns\": %s appears twice",
                                    show(b, json_string_value(v)));
                r = add_column(c, res, json_string_value(v));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_columns(const ctx_t *c, const char **names, size_t count, api_resource_t *res)
{
        char b[SHOW_SIZE];

        res->key = calloc(count, sizeof(*res->key));
        if (res->key == NULL)
                return nomem(c);
        for (size_t i = 0; i < count; i++) {
                size_t index = find_column(res, names[i]);
                if (index == SIZE_MAX && !res->all_columns)
                        return fail(c, "key column %s is not in \"columns\"", show(b, names[i]));
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

static int parse_output(const ctx_t *c, const char *column, json_t *v, api_output_t *ret)
{
        static const char *const names[] = { "boolean", "number", "string" };
        static const api_output_t outputs[] = { API_OUTPUT_BOOLEAN, API_OUTPUT_NUMBER,
                                                API_OUTPUT_STRING };
        char b[SHOW_SIZE];

        for (size_t i = 0; json_is_string(v) && i < 3; i++) {
                if (strcmp(json_string_value(v), names[i]) == 0) {
                        *ret = outputs[i];
                        return 0;
                }
        }
        return fail(c, "\"types\": column %s must be \"boolean\", \"number\" or \"string\"",
                    show(b, column));
}

/* A "types" member's name, checked like any column name. */
static int type_column(const ctx_t *c, const char *column)
{
        char b[SHOW_SIZE];

        if (!is_db_name(column))
                return fail(c, "\"types\": column name %s must be 1 to %d characters",
                            show(b, column), NAME_MAX_CHARS);
        return 0;
}

static int resource_types(const ctx_t *c, json_t *types, api_resource_t *res)
{
        const char *column;
        json_t *v;
        char b[SHOW_SIZE];

        json_object_foreach(types, column, v) {
                api_output_t output = API_OUTPUT_DEFAULT;
                int r = type_column(c, column);
                if (r == 0)
                        r = parse_output(c, column, v, &output);
                if (r < 0)
                        return r;
                size_t index = find_column(res, column);
                if (index == SIZE_MAX && !res->all_columns)
                        return fail(c, "\"types\": column %s is not in \"columns\"",
                                    show(b, column));
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
static int parse_columns(const ctx_t *c, json_t *entry, api_resource_t *res)
{
        const char *key[KEY_MAX_COLUMNS];
        size_t key_count = 0;
        json_t *columns = json_object_get(entry, "columns");
        json_t *types = json_object_get(entry, "types");
        int r = parse_key(c, entry, key, &key_count);

        if (r < 0)
                return r;
        if (types != NULL && !json_is_object(types))
                return fail(c, "\"types\" must be an object");
        if (columns != NULL) {
                r = listed_columns(c, columns, res);
        } else {
                res->all_columns = true;
                res->columns = calloc(key_count + json_object_size(types),
                                      sizeof(*res->columns));
                if (res->columns == NULL)
                        r = nomem(c);
        }
        if (r == 0)
                r = key_columns(c, key, key_count, res);
        if (r == 0)
                r = resource_types(c, types, res);
        return r;
}

static int parse_table(const ctx_t *c, json_t *entry, api_resource_t *res)
{
        json_t *v = json_object_get(entry, "table");

        if (v == NULL)
                return fail(c, "\"table\" is required");
        if (!json_is_string(v) || !is_db_name(json_string_value(v)))
                return fail(c, "\"table\" must be a name of 1 to %d characters", NAME_MAX_CHARS);
        res->table = strdup(json_string_value(v));
        res->quoted_table = quote_identifier(json_string_value(v));
        return res->table && res->quoted_table ? 0 : nomem(c);
}

static int parse_limits(const ctx_t *c, json_t *entry, api_resource_t *res)
{
        int r = get_unsigned(c, entry, "max_limit", 1, ROWS_MAX, 1000, &res->max_limit);

        if (r == 0)
                r = get_unsigned(c, entry, "default_limit", 1, res->max_limit,
                                 res->max_limit < 100 ? res->max_limit : 100,
                                 &res->default_limit);
        if (r == 0)
                r = get_unsigned(c, entry, "timeout_ms", 1, TIMEOUT_MAX_MS, 0, &res->timeout_ms);
        return r;
}

/* path + "/{k1}/{k2}...": the key columns in key order. */
static int build_item_path(const ctx_t *c, api_resource_t *res)
{
        strbuf_t b = { 0 };

        strbuf_append_str(&b, res->path);
        for (size_t i = 0; i < res->key_count; i++)
                strbuf_appendf(&b, "/{%s}", res->columns[res->key[i]].name);
        if (b.failed) {
                strbuf_done(&b);
                return nomem(c);
        }
        res->item_path = strbuf_take(&b, NULL);
        return res->item_path ? 0 : nomem(c);
}

static int parse_resource(ctx_t *c, json_t *entry, api_resource_t *res)
{
        static const char *const keys[] = { "path",  "table",     "key",           "columns",
                                            "types", "max_limit", "default_limit", "timeout_ms",
                                            NULL };
        int r = entry_path(c, entry, false, &res->path);

        if (r == 0)
                r = check_keys(c, entry, keys);
        if (r == 0)
                r = parse_table(c, entry, res);
        if (r == 0)
                r = parse_columns(c, entry, res);
        if (r == 0)
                r = parse_limits(c, entry, res);
        if (r == 0)
                r = build_item_path(c, res);
        return r;
}

/* ---- query parameters ---- */

static const struct {
        const char *name;
        api_type_t type;
} param_types[] = {
        { "int", API_TYPE_INT },         { "number", API_TYPE_NUMBER },
        { "decimal", API_TYPE_DECIMAL }, { "string", API_TYPE_STRING },
        { "boolean", API_TYPE_BOOLEAN }, { "date", API_TYPE_DATE },
        { "datetime", API_TYPE_DATETIME }, { "time", API_TYPE_TIME },
        { "enum", API_TYPE_ENUM },
};

static int param_type(const ctx_t *c, json_t *decl, api_rule_t *rule)
{
        json_t *v = json_object_get(decl, "type");

        if (v == NULL)
                return fail(c, "\"type\" is required");
        for (size_t i = 0; json_is_string(v) && i < sizeof(param_types) / sizeof(param_types[0]);
             i++) {
                if (strcmp(json_string_value(v), param_types[i].name) == 0) {
                        rule->type = param_types[i].type;
                        return 0;
                }
        }
        return fail(c, "\"type\" must be one of int, number, decimal, string, boolean, date, "
                       "datetime, time, enum");
}

/* "min" or "max": any number for a number parameter, a whole one within
 * +-2^53 for an int parameter, where a double still holds it exactly. */
static int param_bound(const ctx_t *c, json_t *decl, const char *key, api_rule_t *rule,
                       bool *ret_has, double *ret)
{
        const double exact = 9007199254740992.0; /* 2^53 */
        json_t *v = json_object_get(decl, key);

        if (v == NULL)
                return 0;
        if (rule->type != API_TYPE_INT && rule->type != API_TYPE_NUMBER)
                return fail(c, "\"%s\" is only for int and number parameters", key);
        if (!json_is_number(v))
                return fail(c, "\"%s\" must be a number", key);
        if (rule->type == API_TYPE_INT) {
                bool whole = json_is_integer(v)
                                     ? json_integer_value(v) >= -(json_int_t)exact &&
                                               json_integer_value(v) <= (json_int_t)exact
                                     : floor(json_real_value(v)) == json_real_value(v) &&
                                               fabs(json_real_value(v)) <= exact;
                if (!whole)
                        return fail(c, "\"%s\" must be a whole number from -%.0f to %.0f",
                                    key, exact, exact);
        }
        *ret_has = true;
        *ret = json_number_value(v);
        return 0;
}

static int param_max_length(const ctx_t *c, json_t *decl, api_rule_t *rule)
{
        unsigned max_length = 0; /* read below even when get_unsigned fails */

        if (rule->type != API_TYPE_STRING) {
                if (json_object_get(decl, "max_length") != NULL)
                        return fail(c, "\"max_length\" is only for string parameters");
                return 0;
        }
        int r = get_unsigned(c, decl, "max_length", 1, LIMIT_MAX, STRING_MAX_LENGTH,
                             &max_length);
        rule->max_length = max_length;
        return r;
}

static int param_values(const ctx_t *c, json_t *decl, api_rule_t *rule)
{
        json_t *v = json_object_get(decl, "values");
        char b[SHOW_SIZE];

        if (rule->type != API_TYPE_ENUM)
                return v == NULL ? 0 : fail(c, "\"values\" is only for enum parameters");
        if (v == NULL)
                return fail(c, "\"values\" is required for an enum parameter");
        if (!json_is_array(v) || json_array_size(v) == 0)
                return fail(c, "\"values\" must be a non-empty array of strings");
        rule->values = calloc(json_array_size(v), sizeof(*rule->values));
        if (rule->values == NULL)
                return nomem(c);
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *value = json_array_get(v, i);
                if (!json_is_string(value))
                        return fail(c, "\"values\" must be a non-empty array of strings");
                for (size_t j = 0; j < rule->value_count; j++)
                        if (strcmp(rule->values[j], json_string_value(value)) == 0)
                                return fail(c, "\"values\": %s appears twice",
                                            show(b, json_string_value(value)));
                rule->values[rule->value_count] = strdup(json_string_value(value));
                if (rule->values[rule->value_count++] == NULL)
                        return nomem(c);
        }
        return 0;
}

/* The default as the text a request would send, so it is checked (and later
 * bound) by the very code that handles request values. */
static char *default_text(json_t *v)
{
        char number[64];

        if (json_is_string(v))
                return strdup(json_string_value(v));
        if (json_is_boolean(v))
                return strdup(json_is_true(v) ? "true" : "false");
        if (json_is_integer(v))
                snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
                snprintf(number, sizeof(number), "%.17g", json_real_value(v));
        return strdup(number);
}

static int param_default(const ctx_t *c, json_t *decl, api_param_t *p)
{
        json_t *v = json_object_get(decl, "default");
        char reason[256] = "";
        char b[SHOW_SIZE];

        if (v == NULL)
                return 0;
        if (p->in_path)
                return fail(c, "a path parameter cannot have a \"default\"");
        if (!json_is_number(v) && !json_is_string(v) && !json_is_boolean(v))
                return fail(c, "\"default\" must be a number, a string or a boolean");
        p->default_text = default_text(v);
        if (p->default_text == NULL)
                return nomem(c);
        int r = typed_value_parse(&p->rule, p->default_text, strlen(p->default_text), NULL, NULL,
                                  reason, sizeof(reason));
        if (r == -ENOMEM)
                return nomem(c);
        if (r < 0)
                return fail(c, "the default %s %s", show(b, p->default_text), reason);
        return 0;
}

/* A parameter declaration: {"type": T, "default": V, "min", "max", "max_length", "values"}. */
static int parse_param(ctx_t *c, json_t *decl, api_param_t *p)
{
        static const char *const keys[] = { "type", "default", "min", "max", "max_length",
                                            "values", NULL };
        api_rule_t *rule = &p->rule;
        int r;

        c->param = p->name;
        if (!json_is_object(decl))
                r = fail(c, "a declaration must be an object");
        else
                r = check_keys(c, decl, keys);
        if (r == 0)
                r = param_type(c, decl, rule);
        if (r == 0)
                r = param_bound(c, decl, "min", rule, &rule->has_min, &rule->min);
        if (r == 0)
                r = param_bound(c, decl, "max", rule, &rule->has_max, &rule->max);
        if (r == 0 && rule->has_min && rule->has_max && rule->min > rule->max)
                r = fail(c, "\"min\" is greater than \"max\"");
        if (r == 0)
                r = param_max_length(c, decl, rule);
        if (r == 0)
                r = param_values(c, decl, rule);
        if (r == 0)
                r = param_default(c, decl, p);
        c->param = NULL;
        return r;
}

static size_t find_param(const api_query_t *q, const char *name)
{
        for (size_t i = 0; i < q->param_count; i++)
                if (strcmp(q->params[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

/* Path parameters first, in path order, then the other declared ones in file order. */
static int parse_params(ctx_t *c, json_t *entry, api_query_t *q)
{
        json_t *declared = json_object_get(entry, "params");
        const char *names[ROUTER_MAX_PARAMS];
        size_t lens[ROUTER_MAX_PARAMS];
        size_t path_count = path_params(q->path, names, lens);
        const char *name;
        json_t *decl;
        char b[SHOW_SIZE];

        if (declared != NULL && !json_is_object(declared))
                return fail(c, "\"params\" must be an object");
        if (path_count + json_object_size(declared) == 0)
                return 0;
        q->params = calloc(path_count + json_object_size(declared), sizeof(*q->params));
        if (q->params == NULL)
                return nomem(c);
        for (size_t i = 0; i < path_count; i++) {
                api_param_t *p = &q->params[q->param_count++];
                p->in_path = true;
                p->rule.type = API_TYPE_STRING;
                p->rule.max_length = STRING_MAX_LENGTH;
                if ((p->name = strndup(names[i], lens[i])) == NULL)
                        return nomem(c);
                decl = json_object_get(declared, p->name);
                int r = decl != NULL ? parse_param(c, decl, p) : 0;
                if (r < 0)
                        return r;
        }
        json_object_foreach(declared, name, decl) {
                if (find_param(q, name) != SIZE_MAX)
                        continue; /* a path parameter, done above */
                if (!is_param_name(name, strlen(name)))
                        return fail(c, "parameter %s: a name is letters, digits and _, not "
                                    "starting with a digit", show(b, name));
                api_param_t *p = &q->params[q->param_count++];
                if ((p->name = strdup(name)) == NULL)
                        return nomem(c);
                int r = parse_param(c, decl, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- queries ---- */

static int parse_sql(const ctx_t *c, json_t *entry, api_query_t *q, named_sql_t *named)
{
        json_t *v = json_object_get(entry, "sql");
        char reason[256];

        if (v == NULL)
                return fail(c, "\"sql\" is required");
        if (!json_is_string(v))
                return fail(c, "\"sql\" must be a string");
        if ((q->sql = strdup(json_string_value(v))) == NULL)
                return nomem(c);
        int r = named_sql_rewrite(q->sql, named, reason, sizeof(reason));
        if (r == -ENOMEM)
                return nomem(c);
        if (r < 0)
                return fail(c, "\"sql\": %s", reason);
        return 0;
}

/* Each "?" to its parameter; then every parameter must have been used. */
static int bind_params(const ctx_t *c, named_sql_t *named, api_query_t *q)
{
        if (named->name_count > 0) {
                q->bind_params = calloc(named->name_count, sizeof(*q->bind_params));
                if (q->bind_params == NULL)
                        return nomem(c);
        }
        for (size_t i = 0; i < named->name_count; i++) {
                size_t index = find_param(q, named->names[i]);
                if (index == SIZE_MAX)
                        return fail(c, "placeholder :%s is neither a declared parameter nor a "
                                    "path parameter", named->names[i]);
                q->bind_params[q->bind_count++] = index;
        }
        for (size_t i = 0; i < q->param_count; i++) {
                size_t j = 0;
                while (j < q->bind_count && q->bind_params[j] != i)
                        j++;
                if (j == q->bind_count)
                        return fail(c, "parameter \"%s\" is not used in the sql",
                                    q->params[i].name);
        }
        q->bound_sql = named->bound_sql;
        named->bound_sql = NULL;
        return 0;
}

static int query_types(const ctx_t *c, json_t *types, api_query_t *q)
{
        const char *column;
        json_t *v;

        if (types == NULL)
                return 0;
        if (!json_is_object(types))
                return fail(c, "\"types\" must be an object");
        if (json_object_size(types) == 0)
                return 0;
        q->types = calloc(json_object_size(types), sizeof(*q->types));
        if (q->types == NULL)
                return nomem(c);
        json_object_foreach(types, column, v) {
                api_type_override_t *t = &q->types[q->type_count];
                int r = type_column(c, column);
                if (r == 0)
                        r = parse_output(c, column, v, &t->output);
                if (r < 0)
                        return r;
                if ((t->column = strdup(column)) == NULL)
                        return nomem(c);
                q->type_count++;
        }
        return 0;
}

static int parse_query(ctx_t *c, json_t *entry, api_query_t *q)
{
        static const char *const keys[] = { "path",  "sql",      "params",     "types",
                                            "max_rows", "timeout_ms", NULL };
        named_sql_t named = { 0 };
        int r = entry_path(c, entry, true, &q->path);

        if (r == 0)
                r = check_keys(c, entry, keys);
        if (r == 0)
                r = parse_sql(c, entry, q, &named);
        if (r == 0)
                r = parse_params(c, entry, q);
        if (r == 0)
                r = bind_params(c, &named, q);
        if (r == 0)
                r = query_types(c, json_object_get(entry, "types"), q);
        if (r == 0)
                r = get_unsigned(c, entry, "max_rows", 1, ROWS_MAX, 10000, &q->max_rows);
        if (r == 0)
                r = get_unsigned(c, entry, "timeout_ms", 1, TIMEOUT_MAX_MS, 0, &q->timeout_ms);
        named_sql_done(&named);
        return r;
}

/* ---- the whole file ---- */

/* A route an entry asks for, to find two entries asking for the same one. */
typedef struct claim {
        const char *template;
        const char *section;
        size_t index;
        const char *entry_path;
        bool item;
} claim_t;

/* Whether two templates match the same requests: same literals, captures anywhere alike. */
static bool same_route(const char *a, const char *b)
{
        while (*a == '/' && *b == '/') {
                a++;
                b++;
                size_t alen = strcspn(a, "/");
                size_t blen = strcspn(b, "/");
                bool capture = is_capture(a, alen);
                if (capture != is_capture(b, blen) ||
                    (!capture && (alen != blen || memcmp(a, b, alen) != 0)))
                        return false;
                a += alen;
                b += blen;
        }
        return *a == '\0' && *b == '\0';
}

static int check_claim(ctx_t *c, const claim_t *claims, size_t n)
{
        const claim_t *late = &claims[n];
        char owner[256];

        for (size_t i = 0; i < n; i++) {
                const claim_t *early = &claims[i];
                if (!same_route(early->template, late->template))
                        continue;
                snprintf(owner, sizeof(owner), "%s[%zu] \"%s\"%s%s%s", early->section,
                         early->index, early->entry_path, early->item ? " (item path \"" : "",
                         early->item ? early->template : "", early->item ? "\")" : "");
                c->section = late->section;
                c->index = late->index;
                c->path = late->entry_path;
                if (late->item)
                        return fail(c, "item path \"%s\" is already used by %s", late->template,
                                    owner);
                return fail(c, "path is already used by %s", owner);
        }
        return 0;
}

/* Two entries for one path: the router would serve only the first, silently. */
static int check_routes(ctx_t *c, const api_t *api)
{
        size_t n = 0;
        claim_t *claims = calloc(2 * api->resource_count + api->query_count, sizeof(*claims));
        int r = 0;

        if (claims == NULL)
                return nomem(c);
        for (size_t i = 0; i < api->resource_count; i++) {
                const api_resource_t *res = &api->resources[i];
                claims[n++] = (claim_t){ res->path, "resources", i, res->path, false };
                claims[n++] = (claim_t){ res->item_path, "resources", i, res->path, true };
        }
        for (size_t i = 0; i < api->query_count; i++) {
                const api_query_t *q = &api->queries[i];
                claims[n++] = (claim_t){ q->path, "queries", i, q->path, false };
        }
        for (size_t i = 1; r == 0 && i < n; i++)
                r = check_claim(c, claims, i);
        free(claims);
        return r;
}

static int parse_resources(ctx_t *c, api_t *api, json_t *resources)
{
        size_t count = json_array_size(resources);

        if (count == 0)
                return 0;
        api->resources = calloc(count, sizeof(*api->resources));
        if (api->resources == NULL)
                return nomem(c);
        api->resource_count = count;
        c->section = "resources";
        for (size_t i = 0; i < count; i++) {
                c->index = i;
                c->path = NULL;
                int r = parse_resource(c, json_array_get(resources, i), &api->resources[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_queries(ctx_t *c, api_t *api, json_t *queries)
{
        size_t count = json_array_size(queries);

        if (count == 0)
                return 0;
        api->queries = calloc(count, sizeof(*api->queries));
        if (api->queries == NULL)
                return nomem(c);
        api->query_count = count;
        c->section = "queries";
        for (size_t i = 0; i < count; i++) {
                c->index = i;
                c->path = NULL;
                int r = parse_query(c, json_array_get(queries, i), &api->queries[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_root(ctx_t *c, api_t *api, json_t *root)
{
        static const char *const keys[] = { "resources", "queries", NULL };
        json_t *resources = json_object_get(root, "resources");
        json_t *queries = json_object_get(root, "queries");
        int r;

        if (!json_is_object(root))
                return fail(c, "the configuration must be a JSON object");
        if ((r = check_keys(c, root, keys)) < 0)
                return r;
        if (resources != NULL && !json_is_array(resources))
                return fail(c, "\"resources\" must be an array");
        if (queries != NULL && !json_is_array(queries))
                return fail(c, "\"queries\" must be an array");
        if (json_array_size(resources) + json_array_size(queries) == 0)
                return fail(c, "no entries: \"resources\" and \"queries\" are absent or empty");
        r = parse_resources(c, api, resources);
        if (r == 0)
                r = parse_queries(c, api, queries);
        if (r == 0)
                r = check_routes(c, api);
        return r;
}

/* jansson's message quotes the text near the error as it is, newlines and
 * all: those become \xNN so the message stays one line. */
static void json_message(const ctx_t *c, const json_error_t *jerr)
{
        char text[4 * sizeof(jerr->text)];
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)jerr->text; *p != '\0'; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        n += (size_t)snprintf(text + n, sizeof(text) - n, "\\x%02x", *p);
                else
                        text[n++] = (char)*p;
        }
        text[n] = '\0';
        if (c->err_size > 0 && jerr->line >= 1)
                snprintf(c->err, c->err_size, "%s: line %d column %d: %s", c->source, jerr->line,
                         jerr->column, text);
        else if (c->err_size > 0)
                snprintf(c->err, c->err_size, "%s: %s", c->source, text);
}

api_t *api_config_parse(const char *text, size_t len, const char *source, char *err,
                        size_t err_size)
{
        ctx_t c = { .source = source, .err = err, .err_size = err_size };
        json_error_t jerr;
        /* Duplicate keys are refused: which of two "path"s would win is no one's guess. */
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

        if (root == NULL) {
                json_message(&c, &jerr);
                return NULL;
        }
        api_t *api = calloc(1, sizeof(*api));
        int r = api != NULL && (api->source = strdup(source)) != NULL ? 0 : nomem(&c);
        if (r == 0) {
                atomic_init(&api->refs, 1);
                r = parse_root(&c, api, root);
        }
        json_decref(root);
        if (r < 0) {
                api_free(api);
                return NULL;
        }
        return api;
}

/* The whole file in memory, at most CONFIG_MAX_BYTES of it. */
static int read_file(const char *path, strbuf_t *text)
{
        enum { CHUNK = 65536 };
        FILE *f = fopen(path, "rb");
        int r = 0;

        if (f == NULL)
                return -errno;
        for (;;) {
                if (!strbuf_reserve(text, CHUNK)) {
                        r = -ENOMEM;
                        break;
                }
                errno = 0;
                size_t n = fread(text->data + text->len, 1, CHUNK, f);
                text->len += n;
                if (n < CHUNK) {
                        if (ferror(f))
                                r = errno != 0 ? -errno : -EIO;
                        break;
                }
                if (text->len > CONFIG_MAX_BYTES) {
                        r = -EFBIG;
                        break;
                }
        }
        fclose(f);
        return r;
}

api_t *api_config_load(const char *path, char *err, size_t err_size)
{
        strbuf_t text = { 0 };
        int r = read_file(path, &text);
        api_t *api = NULL;

        if (r == -EFBIG && err_size > 0)
                snprintf(err, err_size, "%s: larger than %d MiB", path, CONFIG_MAX_BYTES >> 20);
        else if (r < 0 && err_size > 0)
                snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-r));
        else if (r == 0)
                api = api_config_parse(text.data ? text.data : "", text.len, path, err, err_size);
        strbuf_done(&text);
        return api;
}
