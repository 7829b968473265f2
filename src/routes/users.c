/*
 * GET /users (keyset or offset pages) and GET /users/{id}. The statements
 * select every column, so any users table with an integer key id is served.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../query_call.h"
#include "routes.h"

enum { DEFAULT_LIMIT = 100, MAX_LIMIT = 10000 };

static const char SQL_BY_ID[] = "SELECT * FROM users WHERE id = ?";
static const char SQL_PAGE_AFTER[] = "SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_PAGE_OFFSET[] = "SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?";

typedef struct page_request {
        long long limit;
        long long after;
        long long offset;
        bool by_offset;
        MYSQL_BIND params[2];
        long long values[2];
} page_request_t;

static void bind_int64(MYSQL_BIND *bind, long long *value)
{
        memset(bind, 0, sizeof(*bind));
        bind->buffer_type = MYSQL_TYPE_LONGLONG;
        bind->buffer = value;
}

/* Reads an optional integer parameter; false once the request is answered. */
static bool int_arg(http_request_t *req, const char *name, long long min, long long def,
                    long long *ret_value, bool *ret_present)
{
        const char *text = query_args_get(req->args, req->arg_count, name);

        if (ret_present != NULL)
                *ret_present = text != NULL;
        if (text == NULL) {
                *ret_value = def;
                return true;
        }
        if (!query_args_parse_int64(text, strlen(text), ret_value) || *ret_value < min) {
                http_fail(req, 400, "invalid-parameter",
                          "query parameter '%s' must be an integer of at least %lld", name, min);
                return false;
        }
        return true;
}

static bool parse_page(http_request_t *req, page_request_t *p)
{
        static const char *const allowed[] = { "limit", "after", "offset", NULL };
        bool has_after;

        if (!http_check_query_args(req, allowed) ||
            !int_arg(req, "limit", 1, DEFAULT_LIMIT, &p->limit, NULL) ||
            !int_arg(req, "after", LLONG_MIN, LLONG_MIN, &p->after, &has_after) ||
            !int_arg(req, "offset", 0, 0, &p->offset, &p->by_offset))
                return false;
        if (has_after && p->by_offset) {
                http_fail(req, 400, "invalid-parameter",
                          "use either 'after' (keyset, fast) or 'offset', not both");
                return false;
        }
        if (p->limit > MAX_LIMIT)
                p->limit = MAX_LIMIT;
        if (p->offset > LLONG_MAX - MAX_LIMIT) {
                http_fail(req, 400, "invalid-parameter", "query parameter 'offset' is too large");
                return false;
        }
        return true;
}

static char *next_link(const query_call_t *call, const page_request_t *p)
{
        char *link = NULL;

        if (call->row_count <= (unsigned long long)p->limit)
                return NULL;
        if (p->by_offset)
                return asprintf(&link, "/users?limit=%lld&offset=%lld", p->limit,
                                p->offset + p->limit) < 0 ? NULL : link;
        return asprintf(&link, "/users?limit=%lld&after=%lld", p->limit, call->last_key) < 0
                       ? NULL
                       : link;
}

static void page_done(query_call_t *call, int status)
{
        const page_request_t *p = call->data;
        strbuf_t body = { 0 };

        if (status < 0)
                return;
        char *next = next_link(call, p);
        strbuf_append_str(&body, "{\"data\":[");
        strbuf_append(&body, call->rows_json.data, call->rows_json.len);
        strbuf_append_str(&body, "],\"next\":");
        if (next != NULL)
                strbuf_appendf(&body, "\"%s\"}", next);
        else
                strbuf_append_str(&body, "null}");
        free(next);
        if (body.failed) {
                strbuf_done(&body);
                http_fail(call->req, 500, "internal", "out of memory while writing the page");
                return;
        }
        size_t len;
        char *data = strbuf_take(&body, &len);
        http_respond(call->req, 200, "application/json", data, len);
}

void users_list(http_request_t *req, const route_match_t *match)
{
        page_request_t *p = scope_alloc(req->scope, sizeof(*p));

        (void)match;
        if (p == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (!parse_page(req, p))
                return;
        /* One row past the page tells whether another page follows. */
        p->values[0] = p->by_offset ? p->limit + 1 : p->after;
        p->values[1] = p->by_offset ? p->offset : p->limit + 1;
        bind_int64(&p->params[0], &p->values[0]);
        bind_int64(&p->params[1], &p->values[1]);
        query_call_t *call = query_call_new(req, p->by_offset ? SQL_PAGE_OFFSET : SQL_PAGE_AFTER,
                                            p->params);
        if (call == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        call->max_rows = (unsigned long long)p->limit;
        call->key_column = "id";
        call->data = p;
        query_call_start(call, page_done);
}

static void item_done(query_call_t *call, int status)
{
        if (status < 0)
                return;
        if (call->row_count == 0) {
                http_fail(call->req, 404, "not-found", "no user with this id");
                return;
        }
        size_t len;
        char *data = strbuf_take(&call->rows_json, &len);
        http_respond(call->req, 200, "application/json", data, len);
}

void users_get(http_request_t *req, const route_match_t *match)
{
        static const char *const allowed[] = { NULL };
        long long *id = scope_alloc(req->scope, sizeof(*id));
        MYSQL_BIND *param = scope_alloc(req->scope, sizeof(*param));

        if (id == NULL || param == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (!http_check_query_args(req, allowed))
                return;
        if (!query_args_parse_int64(match->params[0], match->param_lengths[0], id)) {
                http_fail(req, 400, "invalid-parameter",
                          "the id must be a 64-bit integer (digits, optionally a leading '-')");
                return;
        }
        bind_int64(param, id);
        query_call_t *call = query_call_new(req, SQL_BY_ID, param);
        if (call == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        call->max_rows = 1;
        query_call_start(call, item_done);
}
