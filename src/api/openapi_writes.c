/*
 * Writes in the OpenAPI document: the POST, PUT, PATCH and DELETE
 * operations of a resource (what its "methods" and the audience's rule
 * allow), with their bodies of the writable columns, their Prefer header
 * and every status they answer; and a named query's write method.
 */
#include "api/openapi_parts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The statuses of writes that the read answers' table (oa_errors) lacks. */
static json_t *problem(const char *description)
{
        return oa_object_of(
                "description", oa_str(description), "headers", oa_x_request_id(), "content",
                oa_object_of("application/problem+json",
                             oa_object_of("schema", oa_ref("schemas", "Problem"), NULL), NULL),
                NULL);
}

/* A value a request may give a column: its rule's schema, or null where the column takes it. */
static json_t *value_schema(const api_column_t *c)
{
        json_t *schema = oa_rule_schema(&c->rule);

        if (!c->nullable)
                return schema;
        return oa_object_of("anyOf",
                            oa_push(oa_push(json_array(), schema),
                                    oa_object_of("type", oa_str("null"), NULL)),
                            NULL);
}

/* The writable columns as an object; required: those an insert must give. */
static json_t *write_object(const api_resource_t *res, bool with_required)
{
        json_t *properties = json_object(), *required = json_array();

        for (size_t i = 0; i < res->column_count; i++) {
                const api_column_t *c = &res->columns[i];
                if (!c->writable)
                        continue;
                properties = oa_with(properties, c->name, value_schema(c));
                if (with_required && c->required)
                        required = oa_push(required, oa_str(c->name));
        }
        json_t *o = oa_object_of("type", oa_str("object"), "additionalProperties", json_false(),
                                 "properties", properties, NULL);
        if (required != NULL && json_array_size(required) == 0) {
                json_decref(required);
                return o;
        }
        return oa_with(o, "required", required);
}

static json_t *json_body(json_t *schema, const char *description)
{
        return oa_object_of("required", json_true(), "description", oa_str(description),
                            "content",
                            oa_object_of("application/json", oa_object_of("schema", schema, NULL),
                                         NULL),
                            NULL);
}

/* POST takes one object or an array of them, NDJSON (one per line) or CSV. */
static json_t *post_body(const api_resource_t *res)
{
        json_t *one = write_object(res, true);
        json_t *many = oa_object_of("type", oa_str("array"), "minItems", json_integer(1),
                                    "items", json_deep_copy(one), NULL);
        json_t *line = json_deep_copy(one);

        return oa_object_of(
                "required", json_true(), "description",
                oa_str("The rows to insert: one object, an array of them, NDJSON (one object per "
                       "line) or CSV with a header row naming the columns. Only the writable "
                       "columns may be given."),
                "content",
                oa_object_of("application/json",
                             oa_object_of("schema",
                                          oa_object_of("oneOf", oa_push(oa_push(json_array(), one),
                                                                        many),
                                                       NULL),
                                          NULL),
                             "application/x-ndjson", oa_ndjson_media(line),
                             "text/csv",
                             oa_object_of("schema", oa_object_of("type", oa_str("string"), NULL),
                                          NULL),
                             NULL),
                NULL);
}

/* The Prefer header with the preferences that apply to method. */
static json_t *prefer_parameter(unsigned method, unsigned max_affected)
{
        json_t *tokens = oa_push(oa_push(json_array(), oa_str("return=representation")),
                                 oa_str("return=minimal"));
        char text[128] = "";

        if (method == API_METHOD_POST) {
                tokens = oa_push(tokens, oa_str("resolution=merge-duplicates"));
                tokens = oa_push(tokens, oa_str("resolution=ignore-duplicates"));
        }
        tokens = oa_push(tokens, oa_str("tx=rollback"));
        if (method == API_METHOD_PATCH || method == API_METHOD_DELETE) {
                tokens = oa_push(tokens, oa_str("max-affected=N"));
                snprintf(text, sizeof(text), " `max-affected=N` fails the request (nothing "
                         "changes) when more than N rows, at most %u, would change.",
                         max_affected);
        }
        json_t *list;
        strbuf_t b = { 0 };
        for (size_t i = 0; i < json_array_size(tokens); i++)
                strbuf_appendf(&b, "%s`%s`", i ? ", " : "",
                               json_string_value(json_array_get(tokens, i)));
        list = oa_take_string(&b);
        json_decref(tokens);
        json_t *description = list ? oa_strf("Comma-separated preferences (RFC 7240): %s. "
                                             "`tx=rollback` runs the write and rolls it back.%s",
                                             json_string_value(list), text)
                                   : NULL;
        json_decref(list);
        return oa_parameter("Prefer", "header", false, description,
                            oa_object_of("type", oa_str("string"), NULL));
}

static json_t *no_content(const char *description)
{
        return oa_object_of("description", oa_str(description), "headers", oa_x_request_id(),
                            NULL);
}

/* The rows a write changed, with Prefer: return=representation: an item's
 * row, a collection's rows, or for a POST either (an object body or an array). */
static json_t *rows_schema(const char *name, bool item, unsigned method)
{
        json_t *array = oa_object_of("type", oa_str("array"), "items", oa_ref("schemas", name),
                                     NULL);

        if (method == API_METHOD_POST)
                return oa_object_of("oneOf", oa_push(oa_push(json_array(),
                                                             oa_ref("schemas", name)),
                                                     array),
                                    NULL);
        if (item) {
                json_decref(array);
                return oa_ref("schemas", name);
        }
        return array;
}

static json_t *representation(const char *name, bool item, unsigned method)
{
        return oa_ok_response(oa_str("The rows as they are after the write "
                                     "(`Prefer: return=representation`)."),
                              "application/json", rows_schema(name, item, method));
}

/* 201: no body, or the rows with Prefer: return=representation (the
 * extension says the body may be empty). */
static json_t *created(const char *name, bool item, unsigned method)
{
        json_t *r = representation(name, item, method);

        json_object_set_new(r, "description",
                            oa_str("Created. Without `Prefer: return=representation` the body "
                                   "is empty; `Location` is the new row's path when one row "
                                   "was written."));
        json_object_set_new(r, "x-body-optional", json_true());
        json_object_set_new(json_object_get(r, "headers"), "Location",
                            oa_object_of("description", oa_str("The path of the row created."),
                                         "schema", oa_object_of("type", oa_str("string"), NULL),
                                         NULL));
        return r;
}

static json_t *write_responses(const api_t *api, unsigned method, bool item, const char *name)
{
        json_t *r = json_object();

        if (method == API_METHOD_POST || method == API_METHOD_PUT)
                r = oa_with(r, "201", oa_with_position(created(name, item, method)));
        if (method != API_METHOD_POST)
                r = oa_with(r, "200", oa_with_position(representation(name, item, method)));
        r = oa_with(r, "204", oa_with_position(no_content("Done (`Prefer: return=minimal`).")));
        r = oa_with(r, "400", problem("The body, a value or a parameter is malformed, or names "
                                      "a column that may not be written."));
        if (api->auth != NULL) {
                r = oa_with(r, "401", oa_ref("responses", "Unauthorized"));
                r = oa_with(r, "403", oa_ref("responses", "Forbidden"));
                r = oa_with(r, "429", oa_ref("responses", "TooManyRequests"));
        }
        if (item)
                r = oa_with(r, "404", oa_ref("responses", "NotFound"));
        r = oa_with(r, "409", problem("The write conflicts with a row: a duplicate key, or a "
                                      "foreign key."));
        if (method != API_METHOD_DELETE) {
                r = oa_with(r, "413", problem("The body is larger than the server takes."));
                r = oa_with(r, "415", problem("The body's Content-Type is not one this method "
                                              "takes."));
        }
        r = oa_with(r, "422", problem("A row breaks a CHECK constraint."));
        r = oa_with(r, "500", oa_ref("responses", "InternalError"));
        r = oa_with(r, "503", oa_ref("responses", "ServiceUnavailable"));
        return oa_with(r, "504", oa_ref("responses", "Timeout"));
}

/* The parameters of a write on a path: its path segments, then, for a
 * collection's PATCH and DELETE, its filters; and Prefer. */
static json_t *write_parameters(json_t *read_params, unsigned method, bool item,
                                unsigned max_affected)
{
        static const char *const reads_only[] = { "select", "order", "limit", "after", "offset",
                                                  "count" };
        json_t *params = json_array();
        size_t i;
        json_t *p;

        json_array_foreach (read_params, i, p) {
                const char *name = json_string_value(json_object_get(p, "name"));
                const char *in = json_string_value(json_object_get(p, "in"));
                bool keep = in != NULL && strcmp(in, "path") == 0;
                if (!item && method != API_METHOD_POST && in != NULL && strcmp(in, "query") == 0) {
                        keep = true;
                        for (size_t k = 0; k < sizeof(reads_only) / sizeof(reads_only[0]); k++)
                                keep &= name != NULL && strcmp(name, reads_only[k]) != 0;
                }
                if (keep)
                        params = oa_push(params, json_deep_copy(p));
        }
        return oa_push(params, prefer_parameter(method, max_affected));
}

static const struct {
        unsigned bit;
        const char *key, *verb;
} WRITE_METHODS[] = {
        { API_METHOD_POST, "post", "create" },    { API_METHOD_PUT, "put", "replace" },
        { API_METHOD_PATCH, "patch", "update" },  { API_METHOD_DELETE, "delete", "delete" },
};

static json_t *summary_of(unsigned method, bool item)
{
        switch (method) {
        case API_METHOD_POST:
                return oa_str("Insert rows.");
        case API_METHOD_PUT:
                return oa_str("Insert or replace the row with this key.");
        case API_METHOD_PATCH:
                return oa_str(item ? "Change columns of the row with this key."
                                   : "Change columns of every row the filters match.");
        default:
                return oa_str(item ? "Delete the row with this key."
                                   : "Delete every row the filters match.");
        }
}

static json_t *request_body(const api_resource_t *res, unsigned method)
{
        if (method == API_METHOD_POST)
                return post_body(res);
        if (method == API_METHOD_PUT)
                return json_body(write_object(res, true), "The whole row: its writable columns.");
        return json_body(write_object(res, false), "The columns to change.");
}

/* Moves a path item's parameters into its get and head, so writes do not inherit them. */
static json_t *take_read_parameters(json_t *path_item)
{
        json_t *params = json_incref(json_object_get(path_item, "parameters"));
        const char *ops[] = { "get", "head" };

        if (params == NULL)
                return json_array();
        json_object_del(path_item, "parameters");
        for (size_t i = 0; i < 2; i++) {
                json_t *op = json_object_get(path_item, ops[i]);
                if (op != NULL)
                        json_object_set_new(op, "parameters", json_deep_copy(params));
        }
        return params;
}

/* The write operations of one path item; 0 or -ENOMEM. */
static int add_writes(json_t *path_item, const api_t *api, const api_resource_t *res,
                      const char *name, unsigned methods, bool item)
{
        json_t *read_params = take_read_parameters(path_item);
        int r = 0;

        for (size_t i = 0; r == 0 && i < sizeof(WRITE_METHODS) / sizeof(WRITE_METHODS[0]); i++) {
                unsigned m = WRITE_METHODS[i].bit;
                if (!(methods & m) || (item && m == API_METHOD_POST) ||
                    (!item && m == API_METHOD_PUT))
                        continue;
                json_t *op = oa_object_of(
                        "operationId",
                        oa_strf("%s%s%s", WRITE_METHODS[i].verb, name, item ? "Item" : "Rows"),
                        "summary", summary_of(m, item), "parameters",
                        write_parameters(read_params, m, item, res->max_affected), NULL);
                if (m != API_METHOD_DELETE)
                        op = oa_with(op, "requestBody", request_body(res, m));
                op = oa_with(op, "responses", write_responses(api, m, item, name));
                r = oa_put(path_item, WRITE_METHODS[i].key, op);
        }
        json_decref(read_params);
        return r;
}

int oa_add_resource_writes(json_t *paths, const api_t *api, const api_resource_t *res,
                           const char *name, unsigned methods)
{
        const char *templates[] = { res->path, res->item_path };
        int r = 0;

        for (size_t i = 0; r == 0 && i < 2; i++) {
                json_t *path_item = templates[i] ? json_object_get(paths, templates[i]) : NULL;
                if (path_item == NULL)
                        continue; /* no route: nothing answers there */
                if (!(methods & API_METHOD_GET)) { /* the audience may not read */
                        json_object_del(path_item, "get");
                        json_object_del(path_item, "head");
                }
                if (methods & ~(unsigned)API_METHOD_GET)
                        r = add_writes(path_item, api, res, name, methods, i == 1);
        }
        return r;
}

/* ---- a named query that writes ---- */

static json_t *query_body(const api_query_t *q)
{
        json_t *properties = json_object();

        for (size_t i = 0; i < q->param_count; i++) {
                const api_param_t *p = &q->params[i];
                if (p->in_path || p->from_claim != NULL)
                        continue;
                properties = oa_with(properties, p->name,
                                     oa_object_of("anyOf",
                                                  oa_push(oa_push(json_array(),
                                                                  oa_rule_schema(&p->rule)),
                                                          oa_object_of("type", oa_str("null"),
                                                                       NULL)),
                                                  NULL));
        }
        return oa_object_of(
                "required", json_false(), "description",
                oa_str("The parameters as an object of name -> value (numbers keep every digit; "
                       "null binds SQL NULL). A parameter may come from the body or the query "
                       "string, not both."),
                "content",
                oa_object_of("application/json",
                             oa_object_of("schema",
                                          oa_object_of("type", oa_str("object"),
                                                       "additionalProperties", json_false(),
                                                       "properties", properties, NULL),
                                          NULL),
                             NULL),
                NULL);
}

static json_t *affected_rows(void)
{
        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("affected_rows", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of("affected_rows",
                             oa_object_of("type", oa_str("integer"), "minimum", json_integer(0),
                                          NULL),
                             NULL),
                NULL);
}

int oa_add_query_write(json_t *paths, const api_t *api, const api_query_t *q, const char *name,
                       const char *result)
{
        json_t *path_item = json_object_get(paths, q->path);

        if (path_item == NULL)
                return 0;
        for (size_t i = 0; i < sizeof(WRITE_METHODS) / sizeof(WRITE_METHODS[0]); i++) {
                if (WRITE_METHODS[i].bit != q->method)
                        continue;
                json_t *responses = oa_object_of(
                        "200",
                        q->column_count > 0
                                ? oa_rows_response("The rows the statement returned.",
                                                   oa_ref("schemas", result),
                                                   oa_ref("schemas", name))
                                : oa_ok_response(oa_str("How many rows the statement changed."),
                                                 "application/json", affected_rows()),
                        "400",
                        problem("A parameter is malformed, unknown, missing or given twice "
                                "(`parameter` names it), or the body is not a JSON object."),
                        "413",
                        problem("The body is larger than 1 MiB."), "415",
                        problem("A body was sent that is not `application/json`."), "500",
                        oa_ref("responses", "InternalError"), "503",
                        oa_ref("responses", "ServiceUnavailable"), "504",
                        oa_ref("responses", "Timeout"), NULL);
                if (api->auth != NULL) {
                        responses = oa_with(responses, "401", oa_ref("responses", "Unauthorized"));
                        responses = oa_with(responses, "403", oa_ref("responses", "Forbidden"));
                        responses = oa_with(responses, "429",
                                            oa_ref("responses", "TooManyRequests"));
                }
                json_t *op = oa_object_of("operationId", oa_strf("write%s", name), "summary",
                                          oa_str("Run a named statement that writes."),
                                          "requestBody", query_body(q), "responses", responses,
                                          NULL);
                return oa_put(path_item, WRITE_METHODS[i].key, op);
        }
        return 0;
}
