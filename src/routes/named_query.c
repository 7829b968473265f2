/*
 * GET <query path>: a named SQL statement of the configuration file, its
 * parameters taken from the path and the query string, typed and checked
 * before any database work, and bound to its placeholders.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "request/access.h"
#include "routes/named_query.h"
#include "request/query_call.h"
#include "routes/routes.h"
#include "sql/typed_value.h"

/* The text of parameter i: its path segment (path parameters come first,
 * in path order), its query argument or its default. */
static bool param_text(http_request_t *req, const route_match_t *match, const api_query_t *q,
                       size_t i, const char **ret_text, size_t *ret_len)
{
        const api_param_t *p = &q->params[i];

        if (p->in_path) {
                *ret_text = match->params[i];
                *ret_len = match->param_lengths[i];
                return true;
        }
        const char *text = query_args_get(req->args, req->arg_count, p->name);
        if (text == NULL)
                text = p->default_text;
        if (text == NULL)
                return false;
        *ret_text = text;
        *ret_len = strlen(text);
        return true;
}

bool named_query_bind_claim(env_t *env, http_request_t *req, const api_param_t *p,
                            MYSQL_BIND *value)
{
        char why[256];

        if (query_args_get(req->args, req->arg_count, p->name) != NULL) {
                http_fail_param(req, p->name, "the parameter '%s' comes from your credentials, "
                                "not from the request", p->name);
                return false;
        }
        int r = access_bind_claim(env, req, p->from_claim, &p->rule, value, why, sizeof(why));
        if (r == -EINVAL) {
                http_add_header(req, "WWW-Authenticate",
                                "Bearer realm=\"queryd\", error=\"invalid_token\"");
                http_fail(req, 401, "unauthorized", "%s", why);
        } else if (r < 0) {
                http_fail(req, 500, "internal", "out of memory");
        }
        return r == 0;
}

/* Binds every parameter once; false once the request is answered. */
static bool bind_params(env_t *env, http_request_t *req, const route_match_t *match,
                        const api_query_t *q, MYSQL_BIND *values)
{
        char reason[256];

        for (size_t i = 0; i < q->param_count; i++) {
                const api_param_t *p = &q->params[i];
                const char *text;
                size_t len;
                if (p->from_claim != NULL) {
                        if (!named_query_bind_claim(env, req, p, &values[i]))
                                return false;
                        continue;
                }
                if (!param_text(req, match, q, i, &text, &len)) {
                        http_fail_param(req, p->name, "the parameter '%s' is required", p->name);
                        return false;
                }
                int r = typed_value_parse(&p->rule, text, len, req->scope, &values[i], reason,
                                          sizeof(reason));
                if (r == -EINVAL) {
                        http_fail_param(req, p->name, "parameter '%s': '%.*s' %s", p->name,
                                        len > 64 ? 64 : (int)len, text, reason);
                        return false;
                }
                if (r < 0) {
                        http_fail(req, 500, "internal", "out of memory");
                        return false;
                }
        }
        return true;
}

query_call_t *named_query_call(env_t *env, http_request_t *req, const api_query_t *q,
                               const MYSQL_BIND *values, MYSQL_BIND *binds, row_format_t format)
{
        for (size_t i = 0; i < q->bind_count; i++)
                binds[i] = values[q->bind_params[i]];
        query_call_t *call = query_call_new(env, req, q->bound_sql, binds);
        if (call == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return NULL;
        }
        if (q->timeout_ms != 0)
                call->query.timeout_ms = q->timeout_ms;
        call->query.row_options.outputs = q->outputs;
        call->query.row_options.output_count = (unsigned)q->column_count;
        call->max_rows = q->max_rows;
        call->data = (void *)q;
        call->format = format;
        if (format == ROW_FORMAT_JSON)
                strbuf_append_str(&call->rows_json, "{\"data\":[");
        return call;
}

bool named_query_within_max_rows(query_call_t *call)
{
        const api_query_t *q = call->data;

        if (call->row_count <= q->max_rows)
                return true;
        query_call_fail(call, 500, "too-many-rows",
                        "the query returned more than the %u rows its entry allows (max_rows)",
                        q->max_rows);
        return false;
}

static void query_done(query_call_t *call, int status)
{
        if (status < 0 || !named_query_within_max_rows(call))
                return;
        /* The envelope's head went in before the rows (named_query_get). */
        if (call->format == ROW_FORMAT_JSON)
                strbuf_append_str(&call->rows_json, "],\"next\":null}");
        query_call_respond(call);
}

void named_query_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        const api_query_t *q = match->target;
        MYSQL_BIND *values = scope_alloc(req->scope, (q->param_count + 1) * sizeof(*values));
        MYSQL_BIND *binds = scope_alloc(req->scope, (q->bind_count + 1) * sizeof(*binds));

        if (values == NULL || binds == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        row_format_t format;
        if (!http_check_query_args(req, q->query_arg_names) ||
            !bind_params(env, req, match, q, values) || !routes_row_format(req, &format))
                return;
        query_call_t *call = named_query_call(env, req, q, values, binds, format);
        if (call == NULL)
                return;
        call->streamable = true;
        query_call_start(call, query_done);
}
