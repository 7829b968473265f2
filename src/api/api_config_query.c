/* A "queries" entry of the configuration file: a named SQL statement, its
 * parameters (from the path and declared) and how its columns are written. */
#include "api/api_config_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/named_sql.h"
#include "sql/typed_value.h"

enum {
        LIMIT_MAX = 1000000,
        STRING_MAX_LENGTH = 1000,       /* a string parameter's default max_length */
};

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

static int param_type(const cfg_ctx_t *c, json_t *decl, api_rule_t *rule)
{
        json_t *v = json_object_get(decl, "type");

        if (v == NULL)
                return cfg_fail(c, "\"type\" is required");
        for (size_t i = 0; json_is_string(v) && i < sizeof(param_types) / sizeof(param_types[0]);
             i++) {
                if (strcmp(json_string_value(v), param_types[i].name) == 0) {
                        rule->type = param_types[i].type;
                        return 0;
                }
        }
        return cfg_fail(c, "\"type\" must be one of int, number, decimal, string, boolean, date, "
                       "datetime, time, enum");
}

/* "min" or "max": any number for a number parameter, a whole one within
 * +-2^53 for an int parameter, where a double still holds it exactly. */
static int param_bound(const cfg_ctx_t *c, json_t *decl, const char *key, api_rule_t *rule,
                       bool *ret_has, double *ret)
{
        const double exact = 9007199254740992.0; /* 2^53 */
        json_t *v = json_object_get(decl, key);

        if (v == NULL)
                return 0;
        if (rule->type != API_TYPE_INT && rule->type != API_TYPE_NUMBER)
                return cfg_fail(c, "\"%s\" is only for int and number parameters", key);
        if (!json_is_number(v))
                return cfg_fail(c, "\"%s\" must be a number", key);
        if (rule->type == API_TYPE_INT) {
                bool whole = json_is_integer(v)
                                     ? json_integer_value(v) >= -(json_int_t)exact &&
                                               json_integer_value(v) <= (json_int_t)exact
                                     : floor(json_real_value(v)) == json_real_value(v) &&
                                               fabs(json_real_value(v)) <= exact;
                if (!whole)
                        return cfg_fail(c, "\"%s\" must be a whole number from -%.0f to %.0f",
                                        key, exact, exact);
        }
        *ret_has = true;
        *ret = json_number_value(v);
        return 0;
}

static int param_max_length(const cfg_ctx_t *c, json_t *decl, api_rule_t *rule)
{
        unsigned max_length = 0; /* read below even when get_unsigned fails */

        if (rule->type != API_TYPE_STRING) {
                if (json_object_get(decl, "max_length") != NULL)
                        return cfg_fail(c, "\"max_length\" is only for string parameters");
                return 0;
        }
        int r = cfg_get_unsigned(c, decl, "max_length", 1, LIMIT_MAX, STRING_MAX_LENGTH,
                                 &max_length);
        rule->max_length = max_length;
        return r;
}

static int param_values(const cfg_ctx_t *c, json_t *decl, api_rule_t *rule)
{
        json_t *v = json_object_get(decl, "values");
        char b[CFG_SHOW_SIZE];

        if (rule->type != API_TYPE_ENUM)
                return v == NULL ? 0 : cfg_fail(c, "\"values\" is only for enum parameters");
        if (v == NULL)
                return cfg_fail(c, "\"values\" is required for an enum parameter");
        if (!json_is_array(v) || json_array_size(v) == 0)
                return cfg_fail(c, "\"values\" must be a non-empty array of strings");
        rule->values = calloc(json_array_size(v), sizeof(*rule->values));
        if (rule->values == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *value = json_array_get(v, i);
                if (!json_is_string(value))
                        return cfg_fail(c, "\"values\" must be a non-empty array of strings");
                for (size_t j = 0; j < rule->value_count; j++)
                        if (strcmp(rule->values[j], json_string_value(value)) == 0)
                                return cfg_fail(c, "\"values\": %s appears twice",
                                                cfg_show(b, json_string_value(value)));
                rule->values[rule->value_count] = strdup(json_string_value(value));
                if (rule->values[rule->value_count++] == NULL)
                        return cfg_nomem(c);
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

static int param_default(const cfg_ctx_t *c, json_t *decl, api_param_t *p)
{
        json_t *v = json_object_get(decl, "default");
        char reason[256] = "";
        char b[CFG_SHOW_SIZE];

        if (v == NULL)
                return 0;
        if (p->in_path)
                return cfg_fail(c, "a path parameter cannot have a \"default\"");
        if (!json_is_number(v) && !json_is_string(v) && !json_is_boolean(v))
                return cfg_fail(c, "\"default\" must be a number, a string or a boolean");
        p->default_text = default_text(v);
        if (p->default_text == NULL)
                return cfg_nomem(c);
        int r = typed_value_parse(&p->rule, p->default_text, strlen(p->default_text), NULL, NULL,
                                  reason, sizeof(reason));
        if (r == -ENOMEM)
                return cfg_nomem(c);
        if (r < 0)
                return cfg_fail(c, "the default %s %s", cfg_show(b, p->default_text), reason);
        return 0;
}

/* "from": "claims.<path>": the value is the caller's, never the request's. */
static int param_from(const cfg_ctx_t *c, json_t *decl, api_param_t *p)
{
        static const char prefix[] = "claims.";
        json_t *v = json_object_get(decl, "from");
        const char *text = json_string_value(v);

        if (v == NULL)
                return 0;
        if (text == NULL || strncmp(text, prefix, sizeof(prefix) - 1) != 0 ||
            !cfg_is_claim_path(text + sizeof(prefix) - 1))
                return cfg_fail(c, "\"from\" must be \"claims.<path>\", a dotted path of names");
        if (p->in_path)
                return cfg_fail(c, "a path parameter comes from the path, not \"from\"");
        if (p->default_text != NULL)
                return cfg_fail(c, "a parameter \"from\" the claims has no \"default\"");
        p->from_claim = strdup(text + sizeof(prefix) - 1);
        return p->from_claim ? 0 : cfg_nomem(c);
}

/* A parameter declaration: {"type": T, "default": V, "min", "max", "max_length", "values"}. */
static int parse_param(cfg_ctx_t *c, json_t *decl, api_param_t *p)
{
        static const char *const keys[] = { "type",   "default", "min",  "max", "max_length",
                                            "values", "from",    NULL };
        api_rule_t *rule = &p->rule;
        int r;

        c->param = p->name;
        if (!json_is_object(decl))
                r = cfg_fail(c, "a declaration must be an object");
        else
                r = cfg_check_keys(c, decl, keys);
        if (r == 0)
                r = param_type(c, decl, rule);
        if (r == 0)
                r = param_bound(c, decl, "min", rule, &rule->has_min, &rule->min);
        if (r == 0)
                r = param_bound(c, decl, "max", rule, &rule->has_max, &rule->max);
        if (r == 0 && rule->has_min && rule->has_max && rule->min > rule->max)
                r = cfg_fail(c, "\"min\" is greater than \"max\"");
        if (r == 0)
                r = param_max_length(c, decl, rule);
        if (r == 0)
                r = param_values(c, decl, rule);
        if (r == 0)
                r = param_default(c, decl, p);
        if (r == 0)
                r = param_from(c, decl, p);
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
static int parse_params(cfg_ctx_t *c, json_t *entry, api_query_t *q)
{
        json_t *declared = json_object_get(entry, "params");
        const char *names[ROUTER_MAX_PARAMS];
        size_t lens[ROUTER_MAX_PARAMS];
        size_t path_count = cfg_path_params(q->path, names, lens);
        const char *name;
        json_t *decl;
        char b[CFG_SHOW_SIZE];

        if (declared != NULL && !json_is_object(declared))
                return cfg_fail(c, "\"params\" must be an object");
        if (path_count + json_object_size(declared) == 0)
                return 0;
        q->params = calloc(path_count + json_object_size(declared), sizeof(*q->params));
        if (q->params == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < path_count; i++) {
                api_param_t *p = &q->params[q->param_count++];
                p->in_path = true;
                p->rule.type = API_TYPE_STRING;
                p->rule.max_length = STRING_MAX_LENGTH;
                if ((p->name = strndup(names[i], lens[i])) == NULL)
                        return cfg_nomem(c);
                decl = json_object_get(declared, p->name);
                int r = decl != NULL ? parse_param(c, decl, p) : 0;
                if (r < 0)
                        return r;
        }
        json_object_foreach(declared, name, decl) {
                if (find_param(q, name) != SIZE_MAX)
                        continue; /* a path parameter, done above */
                if (!cfg_is_param_name(name, strlen(name)))
                        return cfg_fail(c, "parameter %s: a name is letters, digits and _, not "
                                        "starting with a digit", cfg_show(b, name));
                api_param_t *p = &q->params[q->param_count++];
                if ((p->name = strdup(name)) == NULL)
                        return cfg_nomem(c);
                int r = parse_param(c, decl, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- queries ---- */

static int parse_sql(const cfg_ctx_t *c, json_t *entry, api_query_t *q, named_sql_t *named)
{
        json_t *v = json_object_get(entry, "sql");
        char reason[256];

        if (v == NULL)
                return cfg_fail(c, "\"sql\" is required");
        if (!json_is_string(v))
                return cfg_fail(c, "\"sql\" must be a string");
        if ((q->sql = strdup(json_string_value(v))) == NULL)
                return cfg_nomem(c);
        int r = named_sql_rewrite(q->sql, named, reason, sizeof(reason));
        if (r == -ENOMEM)
                return cfg_nomem(c);
        if (r < 0)
                return cfg_fail(c, "\"sql\": %s", reason);
        return 0;
}

/* Each "?" to its parameter; then every parameter must have been used. */
static int bind_params(const cfg_ctx_t *c, named_sql_t *named, api_query_t *q)
{
        if (named->name_count > 0) {
                q->bind_params = calloc(named->name_count, sizeof(*q->bind_params));
                if (q->bind_params == NULL)
                        return cfg_nomem(c);
        }
        for (size_t i = 0; i < named->name_count; i++) {
                size_t index = find_param(q, named->names[i]);
                if (index == SIZE_MAX)
                        return cfg_fail(c, "placeholder :%s is neither a declared parameter nor a "
                                        "path parameter", named->names[i]);
                q->bind_params[q->bind_count++] = index;
        }
        for (size_t i = 0; i < q->param_count; i++) {
                size_t j = 0;
                while (j < q->bind_count && q->bind_params[j] != i)
                        j++;
                if (j == q->bind_count)
                        return cfg_fail(c, "parameter \"%s\" is not used in the sql",
                                        q->params[i].name);
        }
        q->bound_sql = named->bound_sql;
        named->bound_sql = NULL;
        return 0;
}

static int query_types(const cfg_ctx_t *c, json_t *types, api_query_t *q)
{
        const char *column;
        json_t *v;

        if (types == NULL)
                return 0;
        if (!json_is_object(types))
                return cfg_fail(c, "\"types\" must be an object");
        if (json_object_size(types) == 0)
                return 0;
        q->types = calloc(json_object_size(types), sizeof(*q->types));
        if (q->types == NULL)
                return cfg_nomem(c);
        json_object_foreach(types, column, v) {
                api_type_override_t *t = &q->types[q->type_count];
                int r = cfg_type_override(c, column, v, &t->output);
                if (r < 0)
                        return r;
                if ((t->column = strdup(column)) == NULL)
                        return cfg_nomem(c);
                q->type_count++;
        }
        return 0;
}

/* Whether sql starts with a statement that writes: INSERT, REPLACE,
 * UPDATE, DELETE or CALL (a CALL may also only read: it is the operator's). */
static bool is_write_statement(const char *sql)
{
        static const char *const verbs[] = { "INSERT", "REPLACE", "UPDATE", "DELETE", "CALL" };

        while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
                sql++;
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
                size_t len = strlen(verbs[i]);
                if (strncasecmp(sql, verbs[i], len) == 0 &&
                    !isalnum((unsigned char)sql[len]) && sql[len] != '_')
                        return true;
        }
        return false;
}

/* "method": one of GET (the default), POST, PUT, PATCH and DELETE; a
 * write method for a statement that writes, and only for one. */
static int parse_method(const cfg_ctx_t *c, json_t *entry, api_query_t *q)
{
        json_t *v = json_object_get(entry, "method");
        const char *name = json_string_value(v);

        q->method = API_METHOD_GET;
        if (v != NULL) {
                q->method = name != NULL && strcmp(name, "HEAD") != 0 ? api_method_bit(name) : 0;
                if (q->method == 0)
                        return cfg_fail(c, "\"method\" must be one of GET, POST, PUT, PATCH, "
                                        "DELETE");
        }
        bool writes = is_write_statement(q->sql);
        if (writes && q->method == API_METHOD_GET)
                return cfg_fail(c, "an INSERT, REPLACE, UPDATE, DELETE or CALL statement needs a "
                                "\"method\": POST, PUT, PATCH or DELETE");
        if (!writes && q->method != API_METHOD_GET)
                return cfg_fail(c, "\"method\": %s is for an INSERT, REPLACE, UPDATE, DELETE or "
                                "CALL statement", name);
        return 0;
}

int cfg_parse_query(cfg_ctx_t *c, json_t *entry, api_query_t *q)
{
        static const char *const keys[] = { "path",     "sql",        "params", "types",
                                            "max_rows", "timeout_ms", "roles",  "method",
                                            "cache_ms", "cache_control", NULL };
        named_sql_t named = { 0 };
        int r = cfg_entry_path(c, entry, true, &q->path);

        if (r == 0)
                r = cfg_check_keys(c, entry, keys);
        if (r == 0)
                r = parse_sql(c, entry, q, &named);
        if (r == 0)
                r = parse_params(c, entry, q);
        if (r == 0)
                r = bind_params(c, &named, q);
        if (r == 0)
                r = query_types(c, json_object_get(entry, "types"), q);
        if (r == 0)
                r = cfg_get_unsigned(c, entry, "max_rows", 1, CFG_ROWS_MAX, 10000, &q->max_rows);
        if (r == 0)
                r = cfg_get_unsigned(c, entry, "timeout_ms", 1, CFG_TIMEOUT_MAX_MS, 0,
                                     &q->timeout_ms);
        if (r == 0)
                r = parse_method(c, entry, q);
        if (r == 0)
                r = cfg_parse_caching(c, entry, &q->cache_ms, &q->cache_control);
        if (r == 0 && q->method != API_METHOD_GET && (q->cache_ms != 0 || q->cache_control))
                r = cfg_fail(c, "\"cache_ms\" and \"cache_control\" are for GET queries: "
                                "a write's answer is never shared");
        if (r == 0)
                r = cfg_parse_access(c, entry, false, q->method, &q->access, &q->access_count);
        named_sql_done(&named);
        return r;
}
