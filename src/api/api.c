/* The api's lifetime: a reference count shared by every worker, and a free
 * that also copes with an api its builder abandoned half way, so every step
 * of the build can bail out with api_free alone. */
#include "api/api.h"

#include <jansson.h>
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

static void strings_free(char **strings, size_t count)
{
        for (size_t i = 0; i < count; i++)
                free(strings[i]);
        free(strings);
}

static void resource_done(api_resource_t *res);

void api_relations_free(api_relation_t *relations, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(relations[i].name);
                free(relations[i].constraint);
                free(relations[i].target_path);
                if (relations[i].columns != NULL)
                        strings_free(relations[i].columns, relations[i].column_count);
                if (relations[i].target_columns != NULL) /* a half-parsed one may lack them */
                        strings_free(relations[i].target_columns, relations[i].column_count);
        }
        free(relations);
}

static void access_free(api_access_t *access, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(access[i].role);
                strings_free(access[i].columns, access[i].column_count);
                free(access[i].rows);
                if (access[i].view != NULL)
                        resource_done(access[i].view);
                free(access[i].view);
        }
        free(access);
}

/* What api_finish writes, for the entry and for each of its views. */
static void statements_free(api_resource_t *res)
{
        free(res->key);
        free(res->item_sql);
        free(res->outputs);
        for (size_t i = 0; i < API_LOOKUP_SIZES; i++)
                free(res->lookup_sql[i]);
        free(res->row_sql);
        strings_free(res->row_claims, res->row_claim_count);
}

static void resource_done(api_resource_t *res)
{
        statements_free(res);
        if (res->base != NULL) { /* a view: its names and columns are its entry's */
                free(res->columns);
                return;
        }
        free(res->path);
        free(res->item_path);
        free(res->table);
        free(res->quoted_table);
        free(res->cache_control);
        columns_free(res->columns, res->column_count);
        access_free(res->access, res->access_count);
        api_relations_free(res->relations, res->relation_count);
}

static void query_done(api_query_t *q)
{
        free(q->path);
        free(q->sql);
        free(q->bound_sql);
        free(q->bind_params);
        free(q->cache_control);
        for (size_t i = 0; i < q->param_count; i++) {
                free(q->params[i].name);
                rule_done(&q->params[i].rule);
                free(q->params[i].default_text);
                free(q->params[i].from_claim);
        }
        free(q->params);
        free(q->query_arg_names);
        free(q->outputs);
        for (size_t i = 0; i < q->type_count; i++)
                free(q->types[i].column);
        free(q->types);
        columns_free(q->columns, q->column_count);
        access_free(q->access, q->access_count);
}

static void auth_free(api_auth_t *auth)
{
        if (auth == NULL)
                return;
        if (auth->jwt != NULL) {
                free(auth->jwt->secret_env);
                free(auth->jwt->jwks_file);
                free(auth->jwt->audience);
                free(auth->jwt->issuer);
                free(auth->jwt->role_claim);
                free(auth->jwt);
        }
        for (size_t i = 0; i < auth->key_count; i++) {
                free(auth->keys[i].role);
                json_decref(auth->keys[i].claims);
        }
        free(auth->keys);
        free(auth->anonymous_role);
        for (size_t i = 0; i < auth->role_count; i++) {
                free(auth->roles[i].name);
                free(auth->roles[i].db_role);
        }
        free(auth->roles);
        if (auth->verifier != NULL)
                auth->verifier_free(auth->verifier);
        free(auth);
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
        for (size_t i = 0; i < api->role_document_count; i++) {
                free(api->role_documents[i].role);
                free(api->role_documents[i].json);
        }
        free(api->role_documents);
        auth_free(api->auth);
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
