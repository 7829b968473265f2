/*
 * A named query in the OpenAPI document: its path with the query's
 * parameters, its row schema (with the "types" overrides) and its result.
 */
#include "api/openapi_parts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The query's output override of c: its columns carry it once the query
 * prepared, and its "types" say it by name in case they do not. */
static api_output_t query_output(const api_query_t *q, const api_column_t *c)
{
        if (c->output != API_OUTPUT_DEFAULT)
                return c->output;
        for (size_t i = 0; i < q->type_count; i++)
                if (strcmp(q->types[i].column, c->name) == 0)
                        return q->types[i].output;
        return API_OUTPUT_DEFAULT;
}

static json_t *query_parameters(const api_query_t *q)
{
        json_t *params = json_array();

        for (size_t i = 0; i < q->param_count; i++) {
                const api_param_t *p = &q->params[i];
                char phrase[160];
                if (p->from_claim != NULL) /* the caller's own, never the request's */
                        continue;
                /* A write's parameters may come from its body instead. */
                bool required = p->in_path || (p->default_text == NULL &&
                                               q->method <= API_METHOD_GET);
                json_t *schema = oa_rule_schema(&p->rule);
                oa_rule_phrase(&p->rule, phrase, sizeof(phrase));
                json_t *description =
                        p->in_path
                                ? oa_strf("Path segment: %s.", phrase)
                                : oa_strf("%c%s.", toupper((unsigned char)phrase[0]), phrase + 1);
                if (p->default_text != NULL)
                        schema = oa_with(schema, "default",
                                         oa_default_value(&p->rule, p->default_text));
                params = oa_push(params, oa_parameter(p->name, p->in_path ? "path" : "query",
                                                      required, description, schema));
        }
        return params;
}

static json_t *query_row_schema(const api_query_t *q)
{
        api_column_t *columns = calloc(q->column_count ? q->column_count : 1, sizeof(*columns));
        json_t *schema;

        if (columns == NULL)
                return NULL;
        for (size_t i = 0; i < q->column_count; i++) {
                columns[i] = q->columns[i]; /* a shallow copy with the override filled in */
                columns[i].output = query_output(q, &q->columns[i]);
        }
        schema = oa_row_schema(oa_strf("A row of the result of `%s`.", q->path), columns,
                               q->column_count);
        free(columns);
        return schema;
}

static json_t *result_schema(const api_query_t *q, const char *row)
{
        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("data", "next", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of(
                        "data",
                        oa_object_of("type", oa_str("array"), "maxItems", json_integer(q->max_rows),
                                     "items", oa_ref("schemas", row), NULL),
                        "next",
                        oa_object_of("description", oa_str("Always null: every row comes at once."),
                                     "type", oa_str("null"), NULL),
                        NULL),
                NULL);
}

int oa_add_query(json_t *paths, json_t *schemas, const api_t *api, const api_query_t *q,
                 const char *name)
{
        char result[160], get_id[160], head_id[160];

        snprintf(result, sizeof(result), "%sResult", name);
        snprintf(get_id, sizeof(get_id), "query%s", name);
        snprintf(head_id, sizeof(head_id), "headQuery%s", name);
        oa_path_spec_t spec = {
                q->path,
                get_id,
                head_id,
                "Run a named query.",
                oa_strf("Runs a fixed, parameterized statement with the parameters below. Every "
                        "row comes in one answer (`next` is always null); more than %u rows is an "
                        "error (500 `too-many-rows`, or a connection closed before the body ends "
                        "once a large answer has started), never a list cut silently.",
                        q->max_rows),
                query_parameters(q),
                oa_with_cache_headers(oa_rows_response("The rows.", oa_ref("schemas", result),
                                                       oa_ref("schemas", name)),
                                      q->cache_ms, q->cache_control),
                OA_COLLECTION_ERRORS | (api->auth ? OA_AUTH_ERRORS : 0u),
        };
        int r = oa_put(schemas, name, query_row_schema(q));

        r |= oa_put(schemas, result, result_schema(q, name));
        r |= oa_add_path(paths, api, &spec);
        if (r == 0 && q->method > API_METHOD_GET)
                r = oa_add_query_write(paths, api, q, name, result);
        return r < 0 ? -ENOMEM : 0;
}
