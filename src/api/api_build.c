/*
 * The last step of loading a configuration: the fixed statements, the route
 * table and the OpenAPI document, built once so that requests only read them.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi_gen.h"
#include "core/metrics.h"
#include "core/strbuf.h"

/* SELECT <columns> FROM <table> WHERE */
static void append_item_select(strbuf_t *sql, const api_resource_t *r)
{
        strbuf_append_str(sql, "SELECT ");
        for (size_t i = 0; i < r->column_count; i++) {
                if (i > 0)
                        strbuf_append_char(sql, ',');
                strbuf_append_str(sql, r->columns[i].quoted);
        }
        strbuf_appendf(sql, " FROM %s WHERE ", r->quoted_table);
}

/* A view's row condition, whose claims are bound after the keys. */
static void append_row_condition(strbuf_t *sql, const api_resource_t *r)
{
        if (r->row_sql != NULL)
                strbuf_appendf(sql, " AND (%s)", r->row_sql);
}

/* SELECT <columns> FROM <table> WHERE k1 = ? AND k2 = ? */
static char *item_sql(const api_resource_t *r)
{
        strbuf_t sql = { 0 };

        append_item_select(&sql, r);
        for (size_t k = 0; k < r->key_count; k++)
                strbuf_appendf(&sql, "%s%s = ?", k > 0 ? " AND " : "",
                               r->columns[r->key[k]].quoted);
        append_row_condition(&sql, r);
        return strbuf_take(&sql, NULL);
}

/* SELECT <columns> FROM <table> WHERE k IN (?, ...), count placeholders. */
static char *lookup_sql(const api_resource_t *r, unsigned count)
{
        strbuf_t sql = { 0 };

        append_item_select(&sql, r);
        strbuf_appendf(&sql, "%s IN (?", r->columns[r->key[0]].quoted);
        for (unsigned i = 1; i < count; i++)
                strbuf_append_str(&sql, ",?");
        strbuf_append_char(&sql, ')');
        append_row_condition(&sql, r);
        return strbuf_take(&sql, NULL);
}

/*
 * Whether lookups may share an IN (...) statement: the key is one integer
 * column, which the server compares exactly as item_batch.c does when it
 * hands each row back. Strings compare by collation, YEAR by its own rules.
 */
static bool has_integer_key(const api_resource_t *r)
{
        if (r->key_count != 1)
                return false;
        const api_column_t *key = &r->columns[r->key[0]];
        switch (key->meta.type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
                return key->rule.type == API_TYPE_INT;
        default:
                return false;
        }
}

/* The item statements of a resource and its outputs; false when out of memory. */
static bool build_items(api_resource_t *r)
{
        r->item_sql = r->key_count > 0 ? item_sql(r) : NULL; /* no key: no items */
        r->outputs = calloc(r->column_count + 1, sizeof(*r->outputs));
        if ((r->key_count > 0 && r->item_sql == NULL) || r->outputs == NULL)
                return false;
        for (size_t i = 0; i < r->column_count; i++)
                r->outputs[i] = r->columns[i].output;
        for (unsigned i = 0; has_integer_key(r) && i < API_LOOKUP_SIZES; i++) {
                r->lookup_sql[i] = lookup_sql(r, 1u << i);
                if (r->lookup_sql[i] == NULL)
                        return false;
        }
        return true;
}

/* The item statements of a resource and of each of its roles' views. */
static int build_resource_items(api_resource_t *res)
{
        if (!build_items(res))
                return -ENOMEM;
        for (size_t i = 0; i < res->access_count; i++)
                if (res->access[i].view != NULL && !build_items(res->access[i].view))
                        return -ENOMEM;
        return 0;
}

/* What every request of a named query needs and the entry already says.
 * Parameters "from" the claims are among the names a request may use only
 * so that one that tries is told why it may not (named_query.c). */
static int derive_query_tables(api_query_t *q)
{
        size_t n = 0;

        q->query_arg_names = calloc(q->param_count + 1, sizeof(*q->query_arg_names));
        q->outputs = calloc(q->column_count + 1, sizeof(*q->outputs));
        if (q->query_arg_names == NULL || q->outputs == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < q->param_count; i++)
                if (!q->params[i].in_path)
                        q->query_arg_names[n++] = q->params[i].name;
        for (size_t i = 0; i < q->column_count; i++)
                q->outputs[i] = q->columns[i].output;
        return 0;
}

static int add_route(api_t *api, const char *template, const route_method_t *methods,
                     const void *target)
{
        char *copy = strdup(template);
        route_t *route = &api->routes[api->route_count];

        if (copy == NULL)
                return -ENOMEM;
        *route = (route_t){
                .template = copy,
                .target = target,
                .metrics_slot = metrics_route_slot(template),
        };
        memcpy(route->methods, methods, sizeof(route->methods));
        api->route_count++;
        return 0;
}

/* Two templates are the same route when they differ only in parameter names. */
static bool same_shape(const char *a, const char *b)
{
        while (*a != '\0' && *b != '\0') {
                if (*a == '{' && *b == '{') {
                        a = strchr(a, '}');
                        b = strchr(b, '}');
                        if (a == NULL || b == NULL)
                                return false;
                } else if (*a != *b) {
                        return false;
                }
                a++;
                b++;
        }
        return *a == *b;
}

static int check_clashes(const api_t *api, char *err, size_t n)
{
        for (size_t i = 0; i < api->route_count; i++) {
                for (size_t j = 0; j < i; j++) {
                        if (!same_shape(api->routes[i].template, api->routes[j].template))
                                continue;
                        snprintf(err, n, "%s: the path \"%s\" is declared twice (as \"%s\" too)%s",
                                 api->source, api->routes[i].template, api->routes[j].template,
                                 api->routes[j].target == NULL ? ": it is a built-in route" : "");
                        return -EINVAL;
                }
        }
        return 0;
}

unsigned api_method_bit(const char *method)
{
        static const struct {
                const char *name;
                unsigned bit;
        } methods[] = {
                { "GET", API_METHOD_GET },     { "HEAD", API_METHOD_GET },
                { "POST", API_METHOD_POST },   { "PUT", API_METHOD_PUT },
                { "PATCH", API_METHOD_PATCH }, { "DELETE", API_METHOD_DELETE },
        };

        for (size_t i = 0; method != NULL && i < sizeof(methods) / sizeof(methods[0]); i++)
                if (strcmp(method, methods[i].name) == 0)
                        return methods[i].bit;
        return 0;
}

/* The handlers of a kind that answer one of the entry's methods, in the
 * kind's order; the rest of ret stays empty, which ends the list. */
static void entry_methods(const route_method_t *kind, unsigned allowed,
                          route_method_t ret[ROUTER_MAX_METHODS])
{
        size_t n = 0;

        memset(ret, 0, ROUTER_MAX_METHODS * sizeof(*ret));
        if (allowed == 0) /* an entry built by hand, not by the configuration */
                allowed = API_METHOD_GET;
        for (size_t i = 0; i < ROUTER_MAX_METHODS && kind[i].name != NULL; i++)
                if (api_method_bit(kind[i].name) & allowed)
                        ret[n++] = kind[i];
}

static int add_entry_route(api_t *api, const char *template, const route_method_t *kind,
                           unsigned allowed, const void *target)
{
        route_method_t methods[ROUTER_MAX_METHODS];

        entry_methods(kind, allowed, methods);
        if (methods[0].name == NULL)
                return 0; /* an item path of an entry whose methods are all the collection's */
        return add_route(api, template, methods, target);
}

int api_build_routes(api_t *api, const api_handlers_t *h)
{
        size_t total = h->builtin_count + 2 * api->resource_count + api->query_count;
        int r = 0;

        api->routes = calloc(total, sizeof(*api->routes));
        if (api->routes == NULL)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < h->builtin_count; i++)
                r = add_route(api, h->builtins[i].template, h->builtins[i].methods, NULL);
        for (size_t i = 0; r == 0 && i < api->resource_count; i++) {
                api_resource_t *res = &api->resources[i];
                r = add_entry_route(api, res->path, h->collection, res->methods, res);
                if (r == 0 && res->item_path != NULL) /* NULL: a collection only */
                        r = add_entry_route(api, res->item_path, h->item, res->methods, res);
        }
        for (size_t i = 0; r == 0 && i < api->query_count; i++)
                r = add_entry_route(api, api->queries[i].path, h->query, api->queries[i].method,
                                    &api->queries[i]);
        return r;
}

/* ---- each role's OpenAPI document ---- */

static bool has_document(const api_t *api, const char *role)
{
        for (size_t i = 0; i < api->role_document_count; i++) {
                const char *other = api->role_documents[i].role;
                if (other == role || (other && role && strcmp(other, role) == 0))
                        return true;
        }
        return false;
}

static int add_document(api_t *api, const char *role)
{
        const api_auth_t *auth = api->auth;
        api_role_document_t *d = &api->role_documents[api->role_document_count];
        openapi_audience_t audience = {
                role, role && auth->anonymous_role && strcmp(role, auth->anonymous_role) == 0
        };

        if (has_document(api, role))
                return 0;
        if (role != NULL && (d->role = strdup(role)) == NULL)
                return -ENOMEM;
        api->role_document_count++;
        d->json = openapi_gen_document(api, &audience, &d->len);
        return d->json ? 0 : -ENOMEM;
}

/* A document for every role the file names, for a role it does not ("")
 * and for a caller with no role (NULL). */
static int build_role_documents(api_t *api)
{
        const api_auth_t *auth = api->auth;
        size_t most = 3 + auth->role_count + auth->key_count;
        int r;

        for (size_t i = 0; i < api->resource_count; i++)
                most += api->resources[i].access_count;
        for (size_t i = 0; i < api->query_count; i++)
                most += api->queries[i].access_count;
        api->role_documents = calloc(most, sizeof(*api->role_documents));
        if (api->role_documents == NULL)
                return -ENOMEM;
        r = add_document(api, NULL);
        if (r == 0)
                r = add_document(api, "");
        if (r == 0 && auth->anonymous_role != NULL)
                r = add_document(api, auth->anonymous_role);
        for (size_t i = 0; r == 0 && i < auth->role_count; i++)
                r = add_document(api, auth->roles[i].name);
        for (size_t i = 0; r == 0 && i < auth->key_count; i++)
                r = add_document(api, auth->keys[i].role);
        for (size_t i = 0; r == 0 && i < api->resource_count; i++)
                for (size_t j = 0; r == 0 && j < api->resources[i].access_count; j++)
                        r = add_document(api, api->resources[i].access[j].role);
        for (size_t i = 0; r == 0 && i < api->query_count; i++)
                for (size_t j = 0; r == 0 && j < api->queries[i].access_count; j++)
                        r = add_document(api, api->queries[i].access[j].role);
        return r;
}

const api_role_document_t *api_role_document(const api_t *api, const char *role)
{
        const api_role_document_t *other = NULL;

        for (size_t i = 0; i < api->role_document_count; i++) {
                const api_role_document_t *d = &api->role_documents[i];
                if (d->role == NULL ? role == NULL : role != NULL && strcmp(d->role, role) == 0)
                        return d;
                if (d->role != NULL && d->role[0] == '\0')
                        other = d;
        }
        return other;
}

int api_finish(api_t *api, const api_handlers_t *handlers, char *err, size_t err_size)
{
        int r = api_build_routes(api, handlers);

        if (r == 0)
                r = check_clashes(api, err, err_size);
        for (size_t i = 0; r == 0 && i < api->resource_count; i++)
                r = build_resource_items(&api->resources[i]);
        for (size_t i = 0; r == 0 && i < api->query_count; i++)
                r = derive_query_tables(&api->queries[i]);
        if (r == 0) {
                api->openapi_json = openapi_gen_document(api, NULL, &api->openapi_json_len);
                if (api->openapi_json == NULL)
                        r = -ENOMEM;
        }
        if (r == 0 && api->auth != NULL)
                r = build_role_documents(api);
        if (r == -ENOMEM)
                snprintf(err, err_size, "%s: out of memory", api->source);
        return r;
}
