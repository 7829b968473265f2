/* The parts every write handler shares; see write_common.h. */
#include "routes/write_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/problem.h"
#include "request/answer.h"
#include "request/read_cache.h"

static void free_rows(void *arg)
{
        strbuf_done(arg);
}

bool write_request_init(write_request_t *w, env_t *env, http_request_t *req,
                        const api_resource_t *res)
{
        char why[128];

        *w = (write_request_t){ .env = env, .req = req, .res = res };
        if (prefer_parse(http_header(req, "Prefer"), &w->prefer, why, sizeof(why)) < 0) {
                http_fail_param(req, "Prefer", "%s", why);
                return false;
        }
        w->tx = write_tx_new(env, req);
        if (w->tx == NULL || scope_defer(req->scope, free_rows, &w->rows, NULL) < 0) {
                http_fail(req, 500, "internal", "out of memory");
                return false;
        }
        if (w->prefer.timeout_ms != 0) { /* lowers each statement's deadline, never raises it */
                unsigned entry_ms = env->config->query_timeout_ms;
                w->prefer.applied_timeout_ms =
                        w->prefer.timeout_ms < entry_ms ? w->prefer.timeout_ms : entry_ms;
                write_tx_set_deadline(w->tx, w->prefer.applied_timeout_ms);
        }
        return true;
}

/* Whether the media type at s (up to ';') is name, ignoring case and spaces. */
static bool media_type_is(const char *s, const char *name)
{
        size_t n = strlen(name);

        while (*s == ' ')
                s++;
        if (strncasecmp(s, name, n) != 0)
                return false;
        s += n;
        while (*s == ' ')
                s++;
        return *s == '\0' || *s == ';';
}

/* A charset parameter other than UTF-8 would need converting, which queryd does not do. */
static bool charset_is_utf8(const char *content_type)
{
        const char *p = strcasestr(content_type, "charset=");

        if (p == NULL)
                return true;
        p += 8;
        if (*p == '"')
                p++;
        return strncasecmp(p, "utf-8", 5) == 0 || strncasecmp(p, "utf8", 4) == 0;
}

/* A path segment, percent-encoded but for RFC 3986's unreserved bytes. */
static void append_segment(strbuf_t *out, const unsigned char *bytes, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";

        for (size_t i = 0; i < len; i++) {
                unsigned char c = bytes[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~", c) != NULL) {
                        strbuf_append_char(out, (char)c);
                } else {
                        strbuf_append_char(out, '%');
                        strbuf_append_char(out, hex[c >> 4]);
                        strbuf_append_char(out, hex[c & 15]);
                }
        }
}

bool write_body_format(http_request_t *req, bool allow_bulk, body_format_t *ret_format)
{
        const char *type = http_header(req, "Content-Type");

        if (type == NULL || media_type_is(type, "application/json"))
                *ret_format = BODY_FORMAT_JSON;
        else if (allow_bulk && media_type_is(type, "application/x-ndjson"))
                *ret_format = BODY_FORMAT_NDJSON;
        else if (allow_bulk && media_type_is(type, "text/csv"))
                *ret_format = BODY_FORMAT_CSV;
        else
                type = NULL;
        if (type != NULL && charset_is_utf8(type))
                return true;
        http_fail(req, 415, "unsupported-media-type",
                  allow_bulk ? "the body is application/json, application/x-ndjson or text/csv, "
                               "in UTF-8"
                             : "the body is application/json, in UTF-8");
        return false;
}

void write_fail_body(write_request_t *w, const body_reader_t *reader, int status)
{
        const char *why = body_reader_error(reader);
        unsigned long long row = body_reader_error_row(reader);

        if (status == -ENOMEM)
                write_abort(w, 500, "internal", "out of memory");
        else if (status == -E2BIG)
                write_abort(w, 413, "body-too-large", "row %llu: %s", row, why);
        else if (w->single || body_reader_single(reader))
                write_abort(w, 400, "invalid-body", "the body: %s", why);
        else
                write_abort(w, 400, "invalid-body", "row %llu: %s", row, why);
}

const char *write_location(const write_request_t *w, const MYSQL_BIND *key)
{
        const api_resource_t *res = w->res;
        strbuf_t out = { 0 };

        if (res->item_path == NULL)
                return NULL;
        strbuf_append_str(&out, res->path);
        for (size_t k = 0; k < res->key_count; k++) {
                const MYSQL_BIND *b = &key[k];
                strbuf_append_char(&out, '/');
                if (b->buffer_type == MYSQL_TYPE_LONGLONG && b->is_unsigned)
                        strbuf_appendf(&out, "%llu", *(const unsigned long long *)b->buffer);
                else if (b->buffer_type == MYSQL_TYPE_LONGLONG)
                        strbuf_appendf(&out, "%lld", *(const long long *)b->buffer);
                else if (b->buffer_type == MYSQL_TYPE_STRING || b->buffer_type == MYSQL_TYPE_VAR_STRING)
                        append_segment(&out, b->buffer, b->length ? *b->length : b->buffer_length);
                else
                        out.failed = true; /* dates, binary: no Location rather than a wrong one */
        }
        const char *text = out.failed ? NULL : scope_strndup(w->req->scope, out.data, out.len);
        strbuf_done(&out);
        return text;
}

void write_read_back_options(write_request_t *w)
{
        db_query_t *q = write_tx_query(w->tx);

        q->row_options = (rowjson_options_t){
                .time_zone = w->env->config->time_zone,
                .outputs = w->res->outputs,
                .output_count = (unsigned)w->res->column_count,
        };
}

bool write_keep_row(db_query_t *q, void *data)
{
        write_request_t *w = data;

        if (w->row_count < WRITE_MAX_REPRESENTATION_ROWS)
                rowjson_append_listed(&q->rows, ROW_FORMAT_JSON, w->row_count, &w->rows);
        w->row_count++;
        return true;
}

/* ---- the end: one answer ---- */

typedef struct abort_answer {
        write_request_t *w;
        json_t *problem;          /* a problem of our own, or NULL: */
        db_error_t error;         /* the database's refusal */
} abort_answer_t;

static void answer_abort(abort_answer_t *a)
{
        if (a->problem != NULL)
                http_fail_problem(a->w->req, a->problem);
        else
                answer_write_error(a->w->req, &a->error);
}

static void rolled_back(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        abort_answer_t *a = data;

        (void)tx;
        (void)error;
        if (status < 0 && status != -EIO) { /* answered already: nothing else goes out */
                json_decref(a->problem);
                return;
        }
        answer_abort(a);
}

static void abort_with(write_request_t *w, abort_answer_t *a)
{
        w->failed = true;
        if (write_tx_is_open(w->tx)) {
                write_tx_finish(w->tx, false, rolled_back, a);
                return;
        }
        answer_abort(a);
}

/* Rolls back, then answers problem (NULL: out of memory). */
static void abort_problem(write_request_t *w, json_t *problem)
{
        abort_answer_t *a = scope_alloc(w->req->scope, sizeof(*a));

        if (w->failed) {
                json_decref(problem);
                return;
        }
        if (a == NULL || problem == NULL) {
                json_decref(problem);
                w->failed = true;
                http_fail(w->req, 500, "internal", "out of memory");
                return;
        }
        a->w = w;
        a->problem = problem;
        abort_with(w, a);
}

void write_abort(write_request_t *w, unsigned status, const char *slug, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        abort_problem(w, problem_new(status, slug, detail, w->req->id));
}

void write_abort_param(write_request_t *w, const char *parameter, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        json_t *problem = problem_new(400, "invalid-parameter", detail, w->req->id);
        if (problem != NULL)
                json_object_set_new(problem, "parameter", json_string(parameter));
        abort_problem(w, problem);
}

void write_abort_db(write_request_t *w, const db_error_t *error)
{
        abort_answer_t *a = scope_alloc(w->req->scope, sizeof(*a));

        if (w->failed)
                return;
        if (a == NULL) {
                w->failed = true;
                http_fail(w->req, 500, "internal", "out of memory");
                return;
        }
        a->w = w;
        a->error = *error;
        abort_with(w, a);
}

bool write_step_ok(write_request_t *w, int status, const db_error_t *error)
{
        if (status == -EIO)
                write_abort_db(w, error);
        else if (status < 0)
                w->failed = true; /* answered by write_tx */
        return status == 0 && !w->failed;
}

/* ---- the row rule ---- */

enum { CHECK_KEYS = 1024 };

typedef struct row_check {
        write_request_t *w;
        const row_keys_t *keys;
        scope_t *scope;
        size_t checked;                /* keys counted so far */
        unsigned long long inside;     /* of them, rows the condition admits */
        write_checked_fn then;
        void *data;
} row_check_t;

static void check_piece(row_check_t *check);

static bool count_inside(db_query_t *q, void *data)
{
        row_check_t *check = data;

        check->inside += (unsigned long long)q->row.columns[0].value.as.i;
        return true;
}

static void counted(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        row_check_t *check = data;

        (void)tx;
        if (!write_step_ok(check->w, status, error))
                return;
        if (check->inside != check->checked)
                write_abort(check->w, 403, "forbidden",
                            "this write would leave rows outside the rows this role's rule "
                            "gives it; nothing was written");
        else if (check->checked < check->keys->rows)
                check_piece(check);
        else
                check->then(check->data);
}

/* Counts the next piece: a power of two of keys, so that few shapes of
 * the statement are prepared. */
static void check_piece(row_check_t *check)
{
        const api_resource_t *res = check->w->res;
        size_t left = check->keys->rows - check->checked, n = 1;
        strbuf_t sql = { 0 };

        while (n * 2 <= left && n * 2 <= CHECK_KEYS)
                n *= 2;
        size_t values = n * res->key_count;
        MYSQL_BIND *binds = scope_alloc(check->scope, (values + res->row_claim_count + 1) *
                                                              sizeof(*binds));
        strbuf_appendf(&sql, "SELECT COUNT(*) FROM %s", res->quoted_table);
        write_sql_where_keys(&sql, res, n, true);
        char *text = sql.failed ? NULL : scope_strndup(check->scope, sql.data, sql.len);
        strbuf_done(&sql);
        if (binds == NULL || text == NULL) {
                write_abort(check->w, 500, "internal", "out of memory");
                return;
        }
        write_copy_binds(binds, &check->keys->binds[check->checked * res->key_count], values);
        write_copy_binds(&binds[values], check->w->env->row_binds, res->row_claim_count);
        check->checked += n;
        write_tx_query(check->w->tx)->row_options = (rowjson_options_t){ 0 };
        write_tx_run(check->w->tx, text, binds, count_inside, check, counted, check);
}

void write_check_rows(write_request_t *w, const row_keys_t *keys, scope_t *scope,
                      write_checked_fn then, void *data)
{
        row_check_t *check = scope_alloc(scope, sizeof(*check));

        if (w->res->row_sql == NULL || keys->rows == 0) {
                then(data);
                return;
        }
        if (check == NULL || w->res->key_count == 0) { /* keyless: nothing to check by */
                write_abort(w, check ? 403 : 500, check ? "forbidden" : "internal",
                            check ? "rows without a key cannot be written under a row rule"
                                  : "out of memory");
                return;
        }
        *check = (row_check_t){ .w = w, .keys = keys, .scope = scope, .then = then,
                                .data = data };
        check_piece(check);
}

typedef struct finish {
        write_request_t *w;
        unsigned status;
        const char *location;
} finish_t;

static void respond(write_request_t *w, unsigned status)
{
        char applied[160];

        prefer_applied(&w->prefer, applied, sizeof(applied));
        if (applied[0] != '\0')
                http_add_header(w->req, "Preference-Applied", applied);
        if (!w->prefer.representation) {
                http_respond(w->req, status == 200 ? 204 : status, NULL, NULL, 0);
                return;
        }
        if (!w->single) {
                strbuf_t body = { 0 };
                strbuf_append_char(&body, '[');
                strbuf_append(&body, w->rows.data, w->rows.len);
                strbuf_append_str(&body, "]\n");
                http_respond_buffer(w->req, status, "application/json", &body);
                strbuf_done(&body);
                return;
        }
        if (w->row_count == 0) /* one row asked for, none written (a duplicate ignored) */
                strbuf_append_str(&w->rows, "null");
        strbuf_append_char(&w->rows, '\n');
        http_respond_buffer(w->req, status, "application/json", &w->rows);
}

static void finished(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        finish_t *f = data;
        write_request_t *w = f->w;

        (void)tx;
        /* Whatever the outcome, the table may have changed (a lost commit). */
        read_cache_written(w->env, w->res->table);
        if (status == -EIO && error->code >= 2000 && error->code < 3000) {
                http_fail(w->req, 503, "database-unavailable",
                          "the connection to the database was lost while committing: the write "
                          "may or may not have taken effect");
                return;
        }
        if (status == -EIO) {
                answer_write_error(w->req, error);
                return;
        }
        if (status < 0)
                return;
        if (f->location != NULL)
                http_add_header(w->req, "Location", f->location);
        respond(w, f->status);
}

void write_finish(write_request_t *w, unsigned status, const char *location)
{
        finish_t *f = scope_alloc(w->req->scope, sizeof(*f));

        if (f == NULL) {
                write_abort(w, 500, "internal", "out of memory");
                return;
        }
        if (w->rows.failed) {
                write_abort(w, 500, "internal", "out of memory while keeping the rows written");
                return;
        }
        if (w->prefer.representation && w->row_count > WRITE_MAX_REPRESENTATION_ROWS) {
                write_abort(w, 400, "max-affected",
                            "return=representation answers with at most %d rows; this write "
                            "touched %llu and was rolled back", WRITE_MAX_REPRESENTATION_ROWS,
                            w->row_count);
                return;
        }
        *f = (finish_t){ w, status, location };
        if (!write_tx_is_open(w->tx)) { /* nothing was written: an empty body */
                finished(w->tx, 0, NULL, f);
                return;
        }
        write_tx_finish(w->tx, !w->prefer.rollback, finished, f);
}
