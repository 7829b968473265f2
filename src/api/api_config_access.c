/* An entry's "roles": which roles may use it, and for a resource the
 * columns and rows each may see. A rows condition is SQL from the operator
 * (trusted text); its only placeholders are :claims.<path>, bound from the
 * caller's claims, so nothing a request sends is ever spliced into it. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_config_parse.h"
#include "sql/named_sql.h"

enum { ROWS_MAX_BYTES = 4096 };

static const char claims_prefix[] = "claims.";

static int rule_columns(const cfg_ctx_t *c, json_t *v, api_access_t *a)
{
        char b[CFG_SHOW_SIZE];
        size_t count = json_array_size(v);

        if (!json_is_array(v) || count == 0)
                return cfg_fail(c, "roles \"%s\": \"columns\" must be a non-empty array of names",
                                a->role);
        a->columns = calloc(count, sizeof(*a->columns));
        if (a->columns == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < count; i++) {
                const char *name = json_string_value(json_array_get(v, i));
                if (name == NULL || !cfg_is_db_name(name))
                        return cfg_fail(c, "roles \"%s\": \"columns\" must hold column names",
                                        a->role);
                for (size_t j = 0; j < a->column_count; j++)
                        if (strcmp(a->columns[j], name) == 0)
                                return cfg_fail(c, "roles \"%s\": \"columns\": %s appears twice",
                                                a->role, cfg_show(b, name));
                if ((a->columns[a->column_count] = strdup(name)) == NULL)
                        return cfg_nomem(c);
                a->column_count++;
        }
        return 0;
}

int cfg_row_condition(const cfg_ctx_t *c, const char *role, const char *rows,
                      named_sql_t *ret)
{
        char reason[256];
        int r = named_sql_rewrite(rows, ret, reason, sizeof(reason));

        if (r == -ENOMEM)
                return cfg_nomem(c);
        if (r < 0)
                return cfg_fail(c, "roles \"%s\": \"rows\": %s", role, reason);
        if (strchr(ret->bound_sql, ';') != NULL) {
                named_sql_done(ret);
                return cfg_fail(c, "roles \"%s\": \"rows\" must be one condition", role);
        }
        for (size_t i = 0; i < ret->name_count; i++) {
                const char *name = ret->names[i];
                /* Names are letters, digits, _ and dots (named_sql): safe to show. */
                if (strncmp(name, claims_prefix, sizeof(claims_prefix) - 1) != 0) {
                        r = cfg_fail(c, "roles \"%s\": \"rows\": the placeholder :%.64s is not "
                                     ":claims.<path>", role, name);
                        named_sql_done(ret);
                        return r;
                }
        }
        return 0;
}

static int rule_rows(const cfg_ctx_t *c, json_t *v, api_access_t *a)
{
        named_sql_t checked = { 0 };
        int r;

        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > ROWS_MAX_BYTES ||
            strlen(json_string_value(v)) != json_string_length(v))
                return cfg_fail(c, "roles \"%s\": \"rows\" must be an SQL condition of 1 to %d "
                                "bytes", a->role, ROWS_MAX_BYTES);
        r = cfg_row_condition(c, a->role, json_string_value(v), &checked);
        named_sql_done(&checked);
        if (r == 0 && (a->rows = strdup(json_string_value(v))) == NULL)
                r = cfg_nomem(c);
        return r;
}

/* "methods": what the role may do, within what the entry answers. */
static int rule_methods(const cfg_ctx_t *c, json_t *v, unsigned entry_methods, api_access_t *a)
{
        static const char *const names[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
        char what[4 * CFG_NAME_MAX_CHARS + 16]; /* a role name is at most 64 characters */
        int r;

        snprintf(what, sizeof(what), "roles \"%s\": ", a->role);
        if ((r = cfg_parse_methods(c, v, what, &a->methods)) < 0)
                return r;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if ((a->methods & ~entry_methods) & 1u << i)
                        return cfg_fail(c, "roles \"%s\": \"methods\": %s is not among the "
                                        "entry's \"methods\"", a->role, names[i]);
        return 0;
}

static int parse_rule(const cfg_ctx_t *c, const char *role, json_t *v, bool narrows,
                      unsigned entry_methods, api_access_t *a)
{
        static const char *const resource_keys[] = { "columns", "rows", "methods", NULL };
        static const char *const query_keys[] = { NULL };
        char b[CFG_SHOW_SIZE];
        json_t *columns = json_object_get(v, "columns");
        json_t *rows = json_object_get(v, "rows");
        json_t *methods = json_object_get(v, "methods");
        int r;

        if (!cfg_is_role_name(role))
                return cfg_fail(c, "\"roles\": %s is not a role name", cfg_show(b, role));
        if ((a->role = strdup(role)) == NULL)
                return cfg_nomem(c);
        if (!json_is_object(v))
                return cfg_fail(c, "roles \"%s\": a rule must be an object", role);
        if (!narrows && json_object_size(v) > 0)
                return cfg_fail(c, "roles \"%s\": a named query's rule is {}: its SQL chooses "
                                "the columns, and parameters \"from\" the claims its rows",
                                role);
        if ((r = cfg_check_keys(c, v, narrows ? resource_keys : query_keys)) < 0)
                return r;
        if (columns != NULL && (r = rule_columns(c, columns, a)) < 0)
                return r;
        if (rows != NULL && (r = rule_rows(c, rows, a)) < 0)
                return r;
        a->methods = entry_methods;
        if (methods != NULL && (r = rule_methods(c, methods, entry_methods, a)) < 0)
                return r;
        return 0;
}

int cfg_parse_access(const cfg_ctx_t *c, json_t *entry, bool narrows, unsigned methods,
                     api_access_t **ret, size_t *ret_count)
{
        json_t *roles = json_object_get(entry, "roles");
        const char *role;
        json_t *rule;

        if (roles == NULL)
                return 0;
        if (!json_is_object(roles) || json_object_size(roles) == 0)
                return cfg_fail(c, "\"roles\" must be an object naming at least one role");
        *ret = calloc(json_object_size(roles), sizeof(**ret));
        if (*ret == NULL)
                return cfg_nomem(c);
        json_object_foreach(roles, role, rule) {
                int r = parse_rule(c, role, rule, narrows, methods, &(*ret)[(*ret_count)++]);
                if (r < 0)
                        return r;
        }
        return 0;
}
