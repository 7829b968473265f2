/*
 * Each role's view of a resource: the resource as that role may see it.
 * A rule that narrows the columns or the rows gets a resource of its own,
 * with only those columns and with its row condition, so that everything
 * downstream (collection plans, items, coalesced lookups, the OpenAPI
 * document) serves the view exactly as it would serve a resource, and a
 * column the role may not see is one that does not exist.
 */
#include <errno.h>
#include <mysql.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_config_parse.h"
#include "core/strbuf.h"

static size_t column_index(const api_resource_t *res, const char *name)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strcmp(res->columns[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

static bool listed(const api_access_t *a, const char *name)
{
        for (size_t i = 0; i < a->column_count; i++)
                if (strcmp(a->columns[i], name) == 0)
                        return true;
        return false;
}

/* The role's columns, in the resource's order; the key must be among them. */
static int view_columns(const cfg_ctx_t *c, const api_access_t *a, api_resource_t *v)
{
        const api_resource_t *base = v->base;

        for (size_t i = 0; a->columns != NULL && i < a->column_count; i++)
                if (column_index(base, a->columns[i]) == SIZE_MAX)
                        return cfg_fail(c, "roles \"%s\": \"columns\": \"%s\" is not a column of "
                                        "this resource", a->role, a->columns[i]);
        v->columns = calloc(base->column_count, sizeof(*v->columns));
        v->key = calloc(base->key_count, sizeof(*v->key));
        if (v->columns == NULL || v->key == NULL)
                return cfg_nomem(c);
        v->column_count = 0;
        for (size_t i = 0; i < base->column_count; i++)
                if (a->columns == NULL || listed(a, base->columns[i].name))
                        v->columns[v->column_count++] = base->columns[i];
        for (size_t k = 0; k < base->key_count; k++) {
                const char *name = base->columns[base->key[k]].name;
                v->key[k] = column_index(v, name);
                if (v->key[k] == SIZE_MAX)
                        return cfg_fail(c, "roles \"%s\": \"columns\" must include the key "
                                        "column \"%s\"", a->role, name);
        }
        return 0;
}

/* The condition with ? for its claims, prepared once so a typo stops the start. */
static int view_rows(const cfg_ctx_t *c, const api_access_t *a, api_resource_t *v,
                     MYSQL *mysql)
{
        named_sql_t cond = { 0 };
        int r = cfg_row_condition(c, a->role, a->rows, &cond);

        if (r < 0)
                return r;
        v->row_sql = cond.bound_sql;
        v->row_claims = cond.names;
        v->row_claim_count = cond.name_count;
        for (size_t i = 0; i < v->row_claim_count; i++) /* "claims.sub" -> "sub" */
                memmove(v->row_claims[i], v->row_claims[i] + 7, strlen(v->row_claims[i] + 7) + 1);
        strbuf_t sql = { 0 };
        strbuf_appendf(&sql, "SELECT 1 FROM %s WHERE (%s) LIMIT 0", v->quoted_table, v->row_sql);
        if (sql.failed)
                return cfg_nomem(c);
        MYSQL_STMT *stmt = mysql_stmt_init(mysql);
        if (stmt == NULL) {
                strbuf_done(&sql);
                return cfg_nomem(c);
        }
        if (mysql_stmt_prepare(stmt, sql.data, sql.len) != 0)
                r = cfg_fail(c, "roles \"%s\": \"rows\": the database refuses it: %s", a->role,
                             mysql_stmt_error(stmt));
        mysql_stmt_close(stmt);
        strbuf_done(&sql);
        return r;
}

static int build_view(const cfg_ctx_t *c, api_resource_t *base, api_access_t *a, MYSQL *mysql)
{
        api_resource_t *v;
        int r;

        if (a->columns == NULL && a->rows == NULL)
                return 0; /* {}: the resource as it is */
        v = a->view = malloc(sizeof(*v));
        if (v == NULL)
                return cfg_nomem(c);
        *v = *base; /* names, limits, max_affected and column rules are the entry's */
        v->base = base;
        v->methods = a->methods; /* writable: of the columns the role sees, by their copies */
        v->access = NULL;
        v->access_count = 0;
        v->all_columns = false;
        v->columns = NULL;
        v->key = NULL;
        v->item_sql = NULL;
        v->outputs = NULL;
        memset(v->lookup_sql, 0, sizeof(v->lookup_sql));
        v->row_sql = NULL;
        v->row_claims = NULL;
        v->row_claim_count = 0;
        r = view_columns(c, a, v);
        if (r == 0 && a->rows != NULL)
                r = view_rows(c, a, v, mysql);
        return r;
}

int api_views_build(api_t *api, MYSQL *mysql, char *err, size_t err_size)
{
        cfg_ctx_t c = { .source = api->source, .section = "resources", .err = err,
                        .err_size = err_size };
        int r = 0;

        for (size_t i = 0; r == 0 && i < api->resource_count; i++) {
                api_resource_t *res = &api->resources[i];
                c.index = i;
                c.path = res->path;
                for (size_t j = 0; r == 0 && j < res->access_count; j++)
                        r = build_view(&c, res, &res->access[j], mysql);
        }
        return r;
}

const api_access_t *api_access_for(const api_access_t *access, size_t count, const char *role)
{
        for (size_t i = 0; i < count; i++)
                if (strcmp(access[i].role, role) == 0)
                        return &access[i];
        return NULL;
}

bool api_role_may_use(const api_t *api, const api_access_t *access, size_t count,
                      const char *role)
{
        const char *anonymous = api->auth ? api->auth->anonymous_role : NULL;

        if (api->auth == NULL)
                return true;
        if (role == NULL)
                return false;
        if (access == NULL) /* no "roles": every role a caller proved */
                return anonymous == NULL || strcmp(role, anonymous) != 0;
        return api_access_for(access, count, role) != NULL;
}
