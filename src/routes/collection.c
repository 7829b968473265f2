/*
 * GET /<resource> (a page of rows, filtered, sorted, with a "next" link)
 * and GET /<resource>/<key> (one row), for every resource of the
 * configuration file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "request/item_batch.h"
#include "request/answer.h"
#include "request/query_call.h"
#include "routes/collection_embed.h"
#include "routes/page_links.h"
#include "routes/routes.h"
#include "sql/collection_plan.h"
#include "sql/count_estimate.h"
#include "sql/typed_value.h"

typedef struct page {
        collection_plan_t plan;
        row_format_t format;
        strbuf_t cursor;     /* the last row's sort values, when a next page follows */
        char *count;         /* digits of count=exact or count=estimated */
} page_t;

static void refuse(http_request_t *req, int r, const collection_error_t *err)
{
        if (r == -EINVAL)
                http_fail_param(req, err->parameter, "%s", err->detail);
        else
                http_fail(req, 500, "internal", "out of memory");
}

static void free_cursor(void *arg)
{
        strbuf_done(arg);
}

static query_call_t *new_call(env_t *env, http_request_t *req, const char *sql,
                              MYSQL_BIND *binds, const collection_plan_t *plan)
{
        query_call_t *call = query_call_new(env, req, sql, binds);

        if (call == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return NULL;
        }
        if (plan->res->timeout_ms != 0)
                call->query.timeout_ms = plan->res->timeout_ms;
        call->query.row_options.outputs = plan->outputs;
        call->query.row_options.output_count = (unsigned)plan->field_count;
        call->query.row_options.visible = (unsigned)plan->visible;
        return call;
}

/* Keeps the sort values of the page's last row, which a next page starts after. */
static void remember_last_row(query_call_t *call, const rowjson_t *rows)
{
        page_t *page = call->data;

        page_links_write_cursor(&page->plan, rows, &page->cursor);
}

/* ---- the page ---- */

/* The rows were written after the envelope's head (start_page): the body is
 * completed in place rather than copied. NDJSON and CSV carry the rows alone. */
static void page_done(query_call_t *call, int status)
{
        page_t *page = call->data;
        strbuf_t *body = &call->rows_json;

        if (status < 0)
                return;
        if (page->format != ROW_FORMAT_JSON) {
                query_call_respond(call);
                return;
        }
        strbuf_append_str(body, "],\"next\":");
        if (call->row_count > (unsigned long long)page->plan.limit)
                page_links_append_next(body, call->req, &page->plan, &page->cursor);
        else
                strbuf_append_str(body, "null");
        if (page->count != NULL)
                strbuf_appendf(body, ",\"count\":%s%s", page->count,
                               page->plan.count_estimated ? ",\"count_estimated\":true" : "");
        strbuf_append_char(body, '}');
        if (page->cursor.failed) {
                query_call_fail(call, 500, "internal", "out of memory while writing the cursor");
                return;
        }
        query_call_respond(call);
}

static void start_page(env_t *env, http_request_t *req, page_t *page)
{
        query_call_t *call = new_call(env, req, page->plan.sql, page->plan.binds, &page->plan);

        if (call == NULL)
                return;
        call->max_rows = (unsigned long long)page->plan.limit;
        if (!page->plan.by_offset) /* an offset link needs no values of the last row */
                call->on_last_row = remember_last_row;
        call->data = page;
        call->format = page->format;
        call->streamable = true;
        if (page->format == ROW_FORMAT_JSON)
                strbuf_append_str(&call->rows_json, "{\"data\":[");
        query_call_start(call, page_done);
}

static void keep_count(query_call_t *call, const rowjson_t *rows)
{
        page_t *page = call->data;
        strbuf_t digits = { 0 };

        rowjson_append_plain(rows, 0, &digits); /* "123", quoted */
        if (!digits.failed && digits.len >= 2)
                page->count = scope_strndup(call->req->scope, digits.data + 1, digits.len - 2);
        strbuf_done(&digits);
}

/* The EXPLAIN's rows were written as JSON objects: they hold the estimate. */
static void keep_estimate(query_call_t *call)
{
        page_t *page = call->data;
        long long estimate;
        char digits[24];

        if (call->rows_json.failed ||
            count_estimate_read(call->rows_json.data, call->rows_json.len, &estimate) < 0)
                return;
        snprintf(digits, sizeof(digits), "%lld", estimate);
        page->count = scope_strndup(call->req->scope, digits, strlen(digits));
}

static void count_done(query_call_t *call, int status)
{
        page_t *page = call->data;

        if (status < 0)
                return;
        if (page->plan.count_estimated)
                keep_estimate(call);
        if (page->count == NULL) {
                http_fail(call->req, 500, "internal", "the count could not be read");
                return;
        }
        start_page(call->env, call->req, page);
}

void collection_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        const api_resource_t *res = match->target;
        page_t *page = scope_alloc(req->scope, sizeof(*page));
        collection_error_t err;

        if (page == NULL || scope_defer(req->scope, free_cursor, &page->cursor, NULL) < 0) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (req->too_many_args) {
                http_fail_param(req, NULL, "too many query parameters (at most %d)",
                                HTTP_MAX_QUERY_ARGS);
                return;
        }
        if (collection_embeds(req)) {
                collection_embed_get(env, req, res, NULL);
                return;
        }
        int r = collection_plan_build(&page->plan, res, env->row_binds, req->args, req->arg_count, req->scope,
                                      &err);
        if (r < 0) {
                refuse(req, r, &err);
                return;
        }
        if (!routes_row_format(req, &page->format))
                return;
        bool counted = page->plan.count_exact || page->plan.count_estimated;
        if (counted && page->format != ROW_FORMAT_JSON) {
                http_fail_param(req, "count",
                                "count is given in the JSON envelope only; "
                                "NDJSON and CSV answers carry the rows alone");
                return;
        }
        if (!counted) {
                start_page(env, req, page);
                return;
        }
        query_call_t *call = new_call(env, req, page->plan.count_sql, page->plan.count_binds,
                                      &page->plan);
        if (call == NULL)
                return;
        call->query.row_options.outputs = NULL;
        call->query.row_options.output_count = 0;
        call->query.row_options.visible = 0;
        if (!page->plan.count_estimated) { /* an EXPLAIN's rows are all kept, as JSON */
                call->max_rows = 1;
                call->on_last_row = keep_count;
        }
        call->data = page;
        query_call_start(call, count_done);
}

/* ---- one item ---- */

static void item_done(query_call_t *call, int status)
{
        if (status < 0)
                return;
        if (call->row_count == 0) {
                http_fail(call->req, 404, "not-found", "no row with this key");
                return;
        }
        query_call_respond(call);
}

bool routes_bind_key(http_request_t *req, const api_resource_t *res, const route_match_t *match,
                     MYSQL_BIND *binds)
{
        char reason[256];

        for (size_t k = 0; k < res->key_count; k++) {
                const api_column_t *c = &res->columns[res->key[k]];
                int r = typed_value_parse(&c->rule, match->params[k], match->param_lengths[k],
                                          req->scope, &binds[k], reason, sizeof(reason));
                if (r == -EINVAL) {
                        http_fail_param(req, c->name, "key '%s': '%.*s' %s", c->name,
                                        match->param_lengths[k] > 64 ? 64
                                                                     : (int)match->param_lengths[k],
                                        match->params[k], reason);
                        return false;
                }
                if (r < 0) {
                        http_fail(req, 500, "internal", "out of memory");
                        return false;
                }
        }
        return true;
}

/* A lookup of the whole row by a single integer key shares its statement
 * with the lookups of the same resource waiting alongside it. */
static bool coalesces(const env_t *env, const api_resource_t *res, const char *select)
{
        return select == NULL && env->config->batch_lookups > 1 && item_batch_eligible(res);
}

static void lookup_coalesced(env_t *env, http_request_t *req, const api_resource_t *res,
                             const MYSQL_BIND *key, row_format_t format)
{
        int r = item_batch_lookup(env, req, res, *(const long long *)key->buffer, format);

        if (r < 0)
                answer_acquire_failure(req, r);
}

/* A lookup on a statement of its own: with select, or a key coalescing cannot match. */
static void lookup_alone(env_t *env, http_request_t *req, const api_resource_t *res,
                         MYSQL_BIND *binds, const char *select, row_format_t format)
{
        collection_plan_t *plan = scope_alloc(req->scope, sizeof(*plan));
        collection_error_t err;

        if (plan == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        int r = collection_plan_select(plan, res, select, req->scope, &err);
        if (r < 0) {
                refuse(req, r, &err);
                return;
        }
        const char *sql = select ? collection_plan_item_sql(plan, req->scope) : res->item_sql;
        query_call_t *call = sql ? new_call(env, req, sql, binds, plan) : NULL;
        if (call == NULL) {
                if (sql == NULL)
                        http_fail(req, 500, "internal", "out of memory");
                return;
        }
        call->max_rows = 1;
        call->format = format;
        query_call_start(call, item_done);
}

void item_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        static const char *const allowed[] = { "select", NULL };
        const api_resource_t *res = match->target;
        MYSQL_BIND *binds = scope_alloc(req->scope,
                                        (res->key_count + res->row_claim_count) * sizeof(*binds));
        row_format_t format;

        if (binds == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (res->row_claim_count > 0) /* the view's row condition follows the key */
                memcpy(&binds[res->key_count], env->row_binds,
                       res->row_claim_count * sizeof(*binds));
        bool embeds = collection_embeds(req); /* its own parameters: checked there */
        if (!(embeds || http_check_query_args(req, allowed)) ||
            !routes_bind_key(req, res, match, binds) || !routes_row_format(req, &format))
                return;
        if (embeds) {
                collection_embed_get(env, req, res, binds);
                return;
        }
        const char *select = query_args_get(req->args, req->arg_count, "select");
        if (coalesces(env, res, select))
                lookup_coalesced(env, req, res, &binds[0], format);
        else
                lookup_alone(env, req, res, binds, select, format);
}
