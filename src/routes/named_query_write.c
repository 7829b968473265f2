/*
 * POST, PUT, PATCH or DELETE <query path>: a named statement that writes.
 * Its parameters come from the path, the query string and a JSON body that
 * is an object of parameter name -> value; every value is checked by its
 * parameter's rule as the text a query string would carry, then bound.
 *
 * The body is read by a small scanner of its own rather than by jansson
 * alone, because jansson turns numbers into long long or double and so
 * loses digits of big integers and long decimals: here a number keeps the
 * exact text it was sent as, and only strings are decoded by jansson.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request/query_call.h"
#include "request/read_cache.h"
#include "routes/named_query.h"
#include "routes/routes.h"
#include "sql/typed_value.h"

enum { BODY_MAX_BYTES = 1024 * 1024 };

/* A body member's value, as the text a query string would carry. */
typedef struct body_value {
        const char *text;       /* NULL: not in the body */
        size_t len;
        bool is_null;           /* JSON null: the parameter binds SQL NULL */
} body_value_t;

typedef struct write_call {
        env_t *env;
        const route_match_t *match;
        const api_query_t *q;
        strbuf_t body;
        body_value_t *values;   /* by parameter index */
        row_format_t format;
} write_call_t;

/* ---- the body: a flat JSON object ---- */

static const char *skip_space(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

/* The end of the string token at p (at its opening quote), or NULL. */
static const char *string_end(const char *p, const char *end)
{
        for (p++; p < end; p++) {
                if (*p == '\\')
                        p++;
                else if (*p == '"')
                        return p + 1;
        }
        return NULL;
}

/* The end of a JSON number at p (RFC 8259 grammar), or NULL. */
static const char *number_end(const char *p, const char *end)
{
        const char *digits;

        if (p < end && *p == '-')
                p++;
        if (p < end && *p == '0')
                p++;
        else if (p < end && *p >= '1' && *p <= '9')
                while (p < end && *p >= '0' && *p <= '9')
                        p++;
        else
                return NULL;
        if (p < end && *p == '.') {
                for (digits = ++p; p < end && *p >= '0' && *p <= '9';)
                        p++;
                if (p == digits)
                        return NULL;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                for (digits = p; p < end && *p >= '0' && *p <= '9';)
                        p++;
                if (p == digits)
                        return NULL;
        }
        return p;
}

/* A string token decoded by jansson into scope memory; NULL when invalid. */
static const char *decode_string(scope_t *scope, const char *p, size_t len, size_t *ret_len)
{
        json_t *v = json_loadb(p, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        const char *copy = NULL;

        if (json_is_string(v)) {
                *ret_len = json_string_length(v);
                copy = scope_strndup(scope, json_string_value(v), *ret_len);
        }
        json_decref(v);
        return copy;
}

static bool literal(const char *p, const char *end, const char *word)
{
        size_t n = strlen(word);

        return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* The value at p into v; the end of its token, or NULL when it is not a scalar. */
static const char *scan_value(scope_t *scope, const char *p, const char *end, body_value_t *v)
{
        const char *after = NULL;

        if (p < end && *p == '"') {
                after = string_end(p, end);
                if (after != NULL && (v->text = decode_string(scope, p, (size_t)(after - p),
                                                              &v->len)) == NULL)
                        after = NULL;
                return after;
        }
        if (literal(p, end, "true") || literal(p, end, "false")) {
                v->text = *p == 't' ? "true" : "false";
                v->len = strlen(v->text);
                return p + v->len;
        }
        if (literal(p, end, "null")) {
                v->text = "";
                v->is_null = true;
                return p + 4;
        }
        after = number_end(p, end);
        if (after != NULL) {
                v->text = p; /* every digit as it was sent */
                v->len = (size_t)(after - p);
        }
        return after;
}

static size_t param_index(const api_query_t *q, const char *name)
{
        for (size_t i = 0; i < q->param_count; i++)
                if (strcmp(q->params[i].name, name) == 0)
                        return i;
        return (size_t)-1;
}

/* Files one member under its parameter; false once the request is answered. */
static bool take_member(write_call_t *w, http_request_t *req, const char *name,
                        const body_value_t *v)
{
        const api_query_t *q = w->q;
        size_t i = param_index(q, name);

        if (i == (size_t)-1) {
                http_fail_param(req, name, "the body member '%.64s' is not a parameter of this "
                                "query", name);
                return false;
        }
        if (q->params[i].in_path || q->params[i].from_claim != NULL) {
                http_fail_param(req, name, "the parameter '%s' comes from %s, not from the body",
                                name, q->params[i].in_path ? "the path" : "your credentials");
                return false;
        }
        if (w->values[i].text != NULL) {
                http_fail_param(req, name, "the parameter '%s' appears twice in the body", name);
                return false;
        }
        w->values[i] = *v;
        return true;
}

static void fail_body(http_request_t *req, const char *why)
{
        http_fail(req, 400, "invalid-body", "the body must be a JSON object of parameter names "
                  "and values (strings, numbers, booleans or null): %s", why);
}

/* One "name": value pair at p; its end, or NULL once the request is answered. */
static const char *scan_member(write_call_t *w, http_request_t *req, const char *p,
                               const char *end)
{
        const char *after = p < end && *p == '"' ? string_end(p, end) : NULL;
        size_t name_len = 0;
        const char *name = after ? decode_string(req->scope, p, (size_t)(after - p), &name_len)
                                 : NULL;
        body_value_t v = { 0 };

        if (name == NULL || strlen(name) != name_len) {
                fail_body(req, "a member name is missing or malformed");
                return NULL;
        }
        p = skip_space(after, end);
        if (p == end || *p != ':') {
                fail_body(req, "a ':' is missing");
                return NULL;
        }
        p = skip_space(p + 1, end);
        after = scan_value(req->scope, p, end, &v);
        if (after == NULL) {
                http_fail_param(req, name, "the parameter '%.64s' must be a string, a number, "
                                "a boolean or null", name);
                return NULL;
        }
        return take_member(w, req, name, &v) ? after : NULL;
}

/* Reads the whole body into w->values; false once the request is answered. */
static bool scan_body(write_call_t *w, http_request_t *req)
{
        const char *p = w->body.data, *end = p + w->body.len;

        p = skip_space(p, end);
        if (p == end)
                return true; /* no body: every parameter from the path and query string */
        if (*p != '{') {
                fail_body(req, "it does not start with '{'");
                return false;
        }
        p = skip_space(p + 1, end);
        if (p < end && *p == '}')
                p++;
        else
                for (;;) {
                        if ((p = scan_member(w, req, p, end)) == NULL)
                                return false;
                        p = skip_space(p, end);
                        if (p < end && *p == ',') {
                                p = skip_space(p + 1, end);
                                continue;
                        }
                        if (p < end && *p == '}') {
                                p++;
                                break;
                        }
                        fail_body(req, "a ',' or '}' is missing");
                        return false;
                }
        if (skip_space(p, end) != end) {
                fail_body(req, "something follows the object");
                return false;
        }
        return true;
}

/* ---- binding and running ---- */

/* The text of parameter i: its path segment, its body member or query argument, its default. */
static bool param_text(write_call_t *w, http_request_t *req, size_t i, body_value_t *ret)
{
        const api_param_t *p = &w->q->params[i];
        const char *arg = p->in_path ? NULL : query_args_get(req->args, req->arg_count, p->name);

        if (p->in_path) {
                *ret = (body_value_t){ w->match->params[i], w->match->param_lengths[i], false };
                return true;
        }
        if (w->values[i].text != NULL && arg != NULL) {
                http_fail_param(req, p->name, "the parameter '%s' is given twice: in the body "
                                "and in the query string", p->name);
                return false;
        }
        if (w->values[i].text != NULL) {
                *ret = w->values[i];
                return true;
        }
        if (arg == NULL)
                arg = p->default_text;
        if (arg == NULL) {
                http_fail_param(req, p->name, "the parameter '%s' is required", p->name);
                return false;
        }
        *ret = (body_value_t){ arg, strlen(arg), false };
        return true;
}

static bool bind_param(write_call_t *w, http_request_t *req, size_t i, MYSQL_BIND *value)
{
        const api_param_t *p = &w->q->params[i];
        body_value_t v;
        char reason[256];

        if (p->from_claim != NULL)
                return named_query_bind_claim(w->env, req, p, value);
        if (!param_text(w, req, i, &v))
                return false;
        if (v.is_null) {
                *value = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_NULL };
                return true;
        }
        int r = typed_value_parse(&p->rule, v.text, v.len, req->scope, value, reason,
                                  sizeof(reason));
        if (r == -EINVAL)
                http_fail_param(req, p->name, "parameter '%s': '%.*s' %s", p->name,
                                v.len > 64 ? 64 : (int)v.len, v.text, reason);
        else if (r < 0)
                http_fail(req, 500, "internal", "out of memory");
        return r == 0;
}

static void write_done(query_call_t *call, int status)
{
        /* A named query does not say which tables it writes: every answer goes. */
        read_cache_written(call->env, NULL);
        if (status < 0 || !named_query_within_max_rows(call))
                return;
        if (call->query.row.count == 0) { /* no result set: what it changed */
                call->rows_json.len = 0;
                call->format = ROW_FORMAT_JSON;
                strbuf_appendf(&call->rows_json, "{\"affected_rows\":%llu}",
                               call->query.affected_rows);
        } else if (call->format == ROW_FORMAT_JSON) {
                strbuf_append_str(&call->rows_json, "],\"next\":null}");
        }
        query_call_respond(call);
}

static void run(write_call_t *w, http_request_t *req)
{
        const api_query_t *q = w->q;
        MYSQL_BIND *values = scope_alloc(req->scope, (q->param_count + 1) * sizeof(*values));
        MYSQL_BIND *binds = scope_alloc(req->scope, (q->bind_count + 1) * sizeof(*binds));

        if (values == NULL || binds == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        for (size_t i = 0; i < q->param_count; i++)
                if (!bind_param(w, req, i, &values[i]))
                        return;
        query_call_t *call = named_query_call(w->env, req, q, values, binds, w->format);
        if (call == NULL)
                return;
        call->intent = DB_WRITE;
        call->streamable = false; /* the answer's shape is known only at the end */
        query_call_start(call, write_done);
}

static int on_body(http_request_t *req, const char *chunk, size_t len, void *data)
{
        write_call_t *w = data;

        if (len == 0) {
                if (w->body.failed)
                        http_fail(req, 500, "internal", "out of memory");
                else if (scan_body(w, req))
                        run(w, req);
                return HTTP_BODY_STOP;
        }
        if (w->body.len + len > BODY_MAX_BYTES) {
                http_fail(req, 413, "body-too-large", "the body of a named query is larger than "
                          "%u bytes", (unsigned)BODY_MAX_BYTES);
                return HTTP_BODY_STOP;
        }
        strbuf_append(&w->body, chunk, len);
        return HTTP_BODY_MORE;
}

static void free_body(void *arg)
{
        strbuf_done(arg);
}

/* Whether the request says it has a body: a Content-Length above 0, or chunks. */
static bool has_body(http_request_t *req)
{
        const char *length = http_header(req, "Content-Length");

        if (length != NULL)
                return strspn(length, "0") != strlen(length);
        return http_header(req, "Transfer-Encoding") != NULL;
}

/* application/json, with parameters (charset) or not. */
static bool is_json_type(const char *type)
{
        static const char json[] = "application/json";
        size_t n = sizeof(json) - 1;

        return type != NULL && strncasecmp(type, json, n) == 0 &&
               (type[n] == '\0' || type[n] == ';' || type[n] == ' ' || type[n] == '\t');
}

void named_query_write(env_t *env, http_request_t *req, const route_match_t *match)
{
        write_call_t *w = scope_alloc(req->scope, sizeof(*w));

        if (w == NULL || scope_defer(req->scope, free_body, &w->body, NULL) < 0 ||
            (w->values = scope_alloc(req->scope,
                                     (((const api_query_t *)match->target)->param_count + 1) *
                                             sizeof(*w->values))) == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        w->env = env;
        w->match = match;
        w->q = match->target;
        if (!http_check_query_args(req, w->q->query_arg_names) ||
            !routes_row_format(req, &w->format))
                return;
        if (has_body(req) && !is_json_type(http_header(req, "Content-Type"))) {
                http_fail(req, 415, "unsupported-media-type",
                          "the body of %s %s must be application/json", req->method,
                          w->q->path);
                return;
        }
        http_receive_body(req, on_body, w);
}
