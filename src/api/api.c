/* The api's lifetime: a reference count shared by every worker, and a free
 * that also copes with an api its builder abandoned half way, so every step
 * of the build can bail out with api_free alone. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

static void rule_done(api_rule_t *rule)
{
        for (size_t i = 0; i < rule->value_count; i++)
                free(rule->values[i]);
        free(rule->values);
}

static void columns_free(api_column_t *columns, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(columns[i].name);
                free(columns[i].quoted);
                rule_done(&columns[i].rule);
        }
        free(columns);
}

static void resource_done(api_resource_t *res)
{
        free(res->path);
        free(res->item_path);
        free(res->table);
        free(res->quoted_table);
        columns_free(res->columns, res->column_count);
        free(res->key);
        free(res->item_sql);
        free(res->outputs);
        for (size_t i = 0; i < API_LOOKUP_SIZES; i++)
                free(res->lookup_sql[i]);
}

static void query_done(api_query_t *q)
{
        free(q->path);
        free(q->sql);
        free(q->bound_sql);
        free(q->bind_params);
        for (size_t i = 0; i < q->param_count; i++) {
                free(q->params[i].name);
                rule_done(&q->params[i].rule);
                free(q->params[i].default_text);
        }
        free(q->params);
        free(q->query_arg_names);
        free(q->outputs);
        for (size_t i = 0; i < q->type_count; i++)
                free(q->types[i].column);
        free(q->types);
        columns_free(q->columns, q->column_count);
}

void api_free(api_t *api)
{
        if (api == NULL)
                return;
        free(api->source);
        for (size_t i = 0; i < api->resource_count; i++)
                resource_done(&api->resources[i]);
        free(api->resources);
        for (size_t i = 0; i < api->query_count; i++)
                query_done(&api->queries[i]);
        free(api->queries);
        /* Every template, the built-ins' too, is a copy the api owns. */
        for (size_t i = 0; i < api->route_count; i++)
                free((char *)api->routes[i].template);
        free(api->routes);
        free(api->openapi_json);
        free(api);
}

const route_t *api_route(const api_t *api, const char *template)
{
        for (size_t i = 0; i < api->route_count; i++)
                if (strcmp(api->routes[i].template, template) == 0)
                        return &api->routes[i];
        return NULL;
}

void api_ref(api_t *api)
{
        if (api != NULL)
                atomic_fetch_add_explicit(&api->refs, 1, memory_order_relaxed);
}

void api_unref(api_t *api)
{
        if (api == NULL)
                return;
        /* acq_rel: every thread's reads of the api happen before the free. */
        if (atomic_fetch_sub_explicit(&api->refs, 1, memory_order_acq_rel) == 1)
                api_free(api);
}
