/*
 * PUT /<resource>/<key>, PATCH and DELETE on an item or on a filtered
 * collection. The rows a change means are found and locked first (SELECT
 * ... FOR UPDATE), which gives their count before anything changes and
 * their keys, by which they are checked against the caller's row rule and
 * read back afterwards, all in one transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "routes/routes.h"
#include "routes/write_common.h"
#include "sql/collection_plan.h"
#include "sql/typed_value.h"
#include "sql/write_values.h"

typedef enum change_kind { CHANGE_PATCH, CHANGE_PUT, CHANGE_DELETE } change_kind_t;

typedef struct change {
        write_request_t w;
        change_kind_t kind;
        const route_match_t *match;
        bool item;                 /* the rows are one item's, else a collection's by filters */
        MYSQL_BIND *key;           /* an item's key values, from the path */
        body_reader_t *reader;
        size_t *columns;           /* what the body sets */
        size_t column_count;
        MYSQL_BIND *values;        /* column_count */
        bool have_row;
        unsigned long long max_affected;
        unsigned long long matched; /* rows the change means */
        row_keys_t keys;           /* their keys, when a later step needs them */
        unsigned long long unkept; /* keys that could not be kept (out of memory) */
} change_t;

/* ---- statements ---- */

/* head + the rows meant + tail, with head's lead binds first. NULL once answered. */
static char *statement(change_t *c, const char *head, const MYSQL_BIND *lead, size_t lead_count,
                       const char *tail, MYSQL_BIND **ret_binds)
{
        const api_resource_t *res = c->w.res;
        http_request_t *req = c->w.req;
        char *sql = NULL;
        size_t bound, filters;
        collection_error_t err;
        strbuf_t text = { 0 };

        *ret_binds = NULL;
        if (c->item) {
                *ret_binds = scope_alloc(req->scope, (lead_count + res->key_count +
                                                      res->row_claim_count) * sizeof(MYSQL_BIND));
                strbuf_append_str(&text, head);
                write_sql_where_keys(&text, res, 1, true);
                if (*ret_binds != NULL) {
                        write_copy_binds(&(*ret_binds)[lead_count], c->key, res->key_count);
                        write_copy_binds(&(*ret_binds)[lead_count + res->key_count],
                                         c->w.env->row_binds, res->row_claim_count);
                }
        } else {
                int r = collection_plan_where(res, c->w.env->row_binds, req->args, req->arg_count,
                                              head, lead_count, req->scope, &sql, ret_binds,
                                              &bound, &filters, &err);
                if (r == -EINVAL) {
                        write_abort_param(&c->w, err.parameter, "%s", err.detail);
                        return NULL;
                }
                strbuf_append_str(&text, r == 0 ? sql : "");
                if (r == 0 && filters == 0) {
                        strbuf_done(&text);
                        write_abort(&c->w, 400, "invalid-parameter",
                                    "a change to a collection names its rows with at least one "
                                    "filter; a change to every row is not taken");
                        return NULL;
                }
                if (r < 0)
                        text.failed = true;
        }
        strbuf_append_str(&text, tail);
        sql = text.failed || *ret_binds == NULL ? NULL
                                                : scope_strndup(req->scope, text.data, text.len);
        strbuf_done(&text);
        if (sql == NULL) {
                write_abort(&c->w, 500, "internal", "out of memory");
                return NULL;
        }
        write_copy_binds(*ret_binds, lead, lead_count);
        return sql;
}

/* head + WHERE keys IN (<the kept keys>): the rows checked, by their keys alone. */
static char *by_keys(change_t *c, const char *head, MYSQL_BIND **ret_binds)
{
        const api_resource_t *res = c->w.res;
        size_t n = c->keys.rows * res->key_count;
        strbuf_t text = { 0 };

        *ret_binds = scope_alloc(c->w.req->scope, (n + 1) * sizeof(MYSQL_BIND));
        strbuf_append_str(&text, head);
        write_sql_where_keys(&text, res, c->keys.rows, false);
        char *sql = text.failed || *ret_binds == NULL
                            ? NULL
                            : scope_strndup(c->w.req->scope, text.data, text.len);
        strbuf_done(&text);
        if (sql == NULL) {
                write_abort(&c->w, 500, "internal", "out of memory");
                return NULL;
        }
        write_copy_binds(*ret_binds, c->keys.binds, n);
        return sql;
}

static void run(change_t *c, const char *sql, MYSQL_BIND *binds, db_query_row_cb row_cb,
                write_tx_done_fn done)
{
        write_read_back_options(&c->w);
        write_tx_run(c->w.tx, sql, binds, row_cb, c, done, c);
}

/* ---- the end ---- */

static unsigned success_status(const change_t *c)
{
        return c->kind == CHANGE_PUT && c->matched == 0 ? 201 : 200;
}

static void finish(change_t *c)
{
        const char *location =
                c->kind == CHANGE_PUT && c->matched == 0 ? write_location(&c->w, c->key) : NULL;

        write_finish(&c->w, success_status(c), location);
}

static bool keep_row(db_query_t *q, void *data)
{
        change_t *c = data;

        return write_keep_row(q, &c->w);
}

static void read_back_done(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        change_t *c = data;

        (void)tx;
        if (write_step_ok(&c->w, status, error))
                finish(c);
}

/* return=representation after an UPDATE: the rows as they now are. */
static void read_back(change_t *c)
{
        strbuf_t head = { 0 };
        MYSQL_BIND *binds;

        if (!c->w.prefer.representation || c->keys.rows == 0) {
                finish(c);
                return;
        }
        write_sql_select_head(&head, c->w.res, WRITE_RETURN_COLUMNS);
        char *sql = head.failed ? NULL : by_keys(c, head.data, &binds);
        strbuf_done(&head);
        if (sql != NULL)
                run(c, sql, binds, keep_row, read_back_done);
        else if (!c->w.failed)
                write_abort(&c->w, 500, "internal", "out of memory");
}

static void rule_checked(void *data)
{
        read_back(data);
}

/* A key column the body sets has its new value from now on. */
static void follow_new_keys(change_t *c)
{
        const api_resource_t *res = c->w.res;

        for (size_t k = 0; k < res->key_count; k++)
                for (size_t i = 0; i < c->column_count; i++)
                        if (c->columns[i] == res->key[k])
                                for (size_t r = 0; r < c->keys.rows; r++)
                                        c->keys.binds[r * res->key_count + k] = c->values[i];
}

static void changed(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        change_t *c = data;

        (void)tx;
        if (!write_step_ok(&c->w, status, error))
                return;
        if (c->kind == CHANGE_DELETE) {
                finish(c);
                return;
        }
        follow_new_keys(c);
        /* A role's view admits only rows its condition holds for, after the change too. */
        write_check_rows(&c->w, &c->keys, c->w.req->scope, rule_checked, c);
}

/* ---- the change itself ---- */

static void update(change_t *c)
{
        strbuf_t head = { 0 };
        MYSQL_BIND *binds;

        write_sql_update_head(&head, c->w.res, c->columns, c->column_count);
        char *sql = head.failed ? NULL
                                : statement(c, head.data, c->values, c->column_count, "", &binds);
        strbuf_done(&head);
        if (sql != NULL)
                run(c, sql, binds, NULL, changed);
        else if (!c->w.failed)
                write_abort(&c->w, 500, "internal", "out of memory");
}

/* PUT of a row that is not there: it is created, with the key of the path. */
static void insert(change_t *c)
{
        const api_resource_t *res = c->w.res;
        size_t n = c->column_count + res->key_count;
        size_t *columns = scope_alloc(c->w.req->scope, n * sizeof(*columns));
        MYSQL_BIND *binds = scope_alloc(c->w.req->scope, n * sizeof(*binds));
        size_t count = 0;

        if (columns == NULL || binds == NULL) {
                write_abort(&c->w, 500, "internal", "out of memory");
                return;
        }
        for (size_t k = 0; k < res->key_count; k++) {
                columns[count] = res->key[k];
                binds[count++] = c->key[k];
        }
        for (size_t i = 0; i < c->column_count; i++) {
                bool is_key = false;
                for (size_t k = 0; k < res->key_count; k++)
                        is_key = is_key || c->columns[i] == res->key[k];
                if (!is_key) {
                        columns[count] = c->columns[i];
                        binds[count++] = c->values[i];
                }
        }
        char *sql = write_sql_insert(res, columns, count, 1, PREFER_RESOLUTION_NONE,
                                     WRITE_RETURN_NOTHING, c->w.req->scope);
        /* The new row is checked against the rule, and read back, by its key. */
        c->keys.rows = 0;
        if (sql == NULL || row_keys_init(&c->keys, res->key_count, 1, c->w.req->scope) < 0) {
                write_abort(&c->w, 500, "internal", "out of memory");
                return;
        }
        write_copy_binds(c->keys.binds, c->key, res->key_count);
        c->keys.rows = 1;
        run(c, sql, binds, NULL, changed);
}

static void delete_rows(change_t *c)
{
        strbuf_t head = { 0 }, tail = { 0 };
        MYSQL_BIND *binds;

        write_sql_delete_head(&head, c->w.res);
        if (c->w.prefer.representation)
                write_sql_returning(&tail, c->w.res, WRITE_RETURN_COLUMNS);
        char *sql = head.failed || tail.failed
                            ? NULL
                            : statement(c, head.data, NULL, 0, tail.data ? tail.data : "", &binds);
        strbuf_done(&head);
        strbuf_done(&tail);
        if (sql != NULL)
                run(c, sql, binds, keep_row, changed);
        else if (!c->w.failed)
                write_abort(&c->w, 500, "internal", "out of memory");
}

/* ---- finding the rows meant ---- */

static bool keep_key(db_query_t *q, void *data)
{
        static const size_t in_order[ROUTER_MAX_PARAMS] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        change_t *c = data;

        c->matched++;
        if (c->keys.rows < c->keys.capacity &&
            row_keys_add(&c->keys, &q->row, in_order, c->w.req->scope) < 0)
                c->unkept++; /* a key not kept cannot be checked: the change is refused */
        return true;
}

static void found(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        change_t *c = data;

        (void)tx;
        if (!write_step_ok(&c->w, status, error))
                return;
        if (c->unkept > 0) {
                write_abort(&c->w, 500, "internal", "out of memory while keeping keys");
        } else if (c->matched > c->keys.capacity && c->w.res->row_sql != NULL) {
                write_abort(&c->w, 400, "max-affected",
                            "under a row rule a change touches at most %zu rows, and this one "
                            "would touch %llu; nothing was changed", c->keys.capacity,
                            c->matched);
        } else if (c->matched > c->max_affected) {
                write_abort(&c->w, 400, "max-affected",
                            "this change would touch %llu rows, more than the %llu allowed "
                            "(max_affected, or Prefer: max-affected); nothing was changed",
                            c->matched, c->max_affected);
        } else if (c->matched == 0 && c->kind == CHANGE_PUT) {
                insert(c);
        } else if (c->matched == 0 && c->item) {
                write_abort(&c->w, 404, "not-found", "no row with this key");
        } else if (c->matched == 0) {
                finish(c);
        } else if (c->kind == CHANGE_DELETE) {
                delete_rows(c);
        } else {
                update(c);
        }
}

/* Locks the rows meant, counts them and keeps their keys. */
static void find_rows(change_t *c)
{
        strbuf_t head = { 0 };
        MYSQL_BIND *binds;
        size_t capacity = c->max_affected < WRITE_MAX_REPRESENTATION_ROWS
                                  ? (size_t)c->max_affected + 1
                                  : WRITE_MAX_REPRESENTATION_ROWS + 1;

        if (c->w.res->key_count == 0) /* nothing to keep: the rows are only counted */
                capacity = 0;
        if (row_keys_init(&c->keys, c->w.res->key_count, capacity, c->w.req->scope) < 0) {
                write_abort(&c->w, 500, "internal", "out of memory");
                return;
        }
        write_sql_select_head(&head, c->w.res, WRITE_RETURN_KEYS);
        char *sql = head.failed ? NULL : statement(c, head.data, NULL, 0, " FOR UPDATE", &binds);
        strbuf_done(&head);
        if (sql != NULL)
                run(c, sql, binds, keep_key, found);
        else if (!c->w.failed)
                write_abort(&c->w, 500, "internal", "out of memory");
}

static void began(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        change_t *c = data;

        (void)tx;
        if (write_step_ok(&c->w, status, error))
                find_rows(c);
}

static void start(change_t *c)
{
        write_tx_begin(c->w.tx, began, c);
}

/* ---- the body: one object ---- */

/* PUT replaces the whole row: it sets every writable column but the key,
 * which the path gives (and the body may repeat, equal). */
static int check_put(change_t *c, char *detail, size_t size)
{
        const api_resource_t *res = c->w.res;

        for (size_t i = 0; i < res->column_count; i++) {
                bool given = false, is_key = false;
                for (size_t j = 0; j < c->column_count; j++)
                        given = given || c->columns[j] == i;
                for (size_t k = 0; k < res->key_count; k++) {
                        is_key = is_key || res->key[k] == i;
                        for (size_t j = 0; given && j < c->column_count; j++)
                                if (c->columns[j] == i && res->key[k] == i &&
                                    !typed_value_equal(&c->values[j], &c->key[k])) {
                                        snprintf(detail, size, "key column '%s' differs from the "
                                                               "path's", res->columns[i].name);
                                        return -EINVAL;
                                }
                }
                if (!given && !is_key && res->columns[i].writable &&
                    !res->columns[i].auto_increment) {
                        snprintf(detail, size, "a PUT sets every writable column, and '%s' is "
                                               "missing", res->columns[i].name);
                        return -EINVAL;
                }
        }
        return 0;
}

static int take_row(const body_row_t *row, void *data)
{
        change_t *c = data;
        char detail[384];
        int n = write_values_columns(c->w.res, row, c->columns, detail, sizeof(detail));

        if (n == 0) {
                snprintf(detail, sizeof(detail), "it sets no column");
                n = -EINVAL;
        }
        if (n > 0) {
                c->column_count = (size_t)n;
                c->values = scope_alloc(c->w.req->scope, (size_t)n * sizeof(*c->values));
                n = c->values == NULL
                            ? -ENOMEM
                            : write_values_bind(c->w.res, c->columns, c->column_count, row,
                                                c->w.req->scope, c->values, detail,
                                                sizeof(detail));
        }
        if (n >= 0 && c->kind == CHANGE_PUT)
                n = check_put(c, detail, sizeof(detail));
        if (n == -EINVAL)
                write_abort(&c->w, 400, "invalid-body", "the body: %s", detail);
        else if (n == -ENOMEM)
                write_abort(&c->w, 500, "internal", "out of memory");
        c->have_row = n >= 0;
        return n < 0 ? n : 0;
}

static int on_body(http_request_t *req, const char *chunk, size_t len, void *data)
{
        change_t *c = data;
        int r;

        (void)req;
        if (c->w.failed)
                return HTTP_BODY_STOP;
        r = len == 0 ? body_reader_finish(c->reader, take_row, c)
                     : body_reader_feed(c->reader, chunk, len, take_row, c);
        if (r == 0 && body_reader_rows(c->reader) > 0 && !body_reader_single(c->reader)) {
                write_abort(&c->w, 400, "invalid-body", "the body is one JSON object");
                return HTTP_BODY_STOP;
        }
        if (r < 0) {
                if (!c->w.failed)
                        write_fail_body(&c->w, c->reader, r);
                return HTTP_BODY_STOP;
        }
        if (len > 0)
                return HTTP_BODY_MORE;
        if (!c->have_row) {
                write_abort(&c->w, 400, "invalid-body", "the body is one JSON object");
                return HTTP_BODY_STOP;
        }
        start(c);
        return HTTP_BODY_STOP;
}

static void free_reader(void *arg)
{
        body_reader_free(arg);
}

/* ---- the handlers ---- */

static change_t *new_change(env_t *env, http_request_t *req, const route_match_t *match,
                            change_kind_t kind, bool item)
{
        const api_resource_t *res = match->target;
        change_t *c = scope_alloc(req->scope, sizeof(*c));

        if (c == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return NULL;
        }
        if (!write_request_init(&c->w, env, req, res))
                return NULL;
        c->kind = kind;
        c->match = match;
        c->item = item;
        c->w.single = item;
        c->max_affected = res->max_affected;
        if (c->w.prefer.max_affected >= 0 &&
            (unsigned long long)c->w.prefer.max_affected < c->max_affected)
                c->max_affected = (unsigned long long)c->w.prefer.max_affected;
        if (item) {
                static const char *const no_args[] = { NULL };
                c->key = scope_alloc(req->scope, res->key_count * sizeof(*c->key));
                if (c->key == NULL) {
                        http_fail(req, 500, "internal", "out of memory");
                        return NULL;
                }
                if (!http_check_query_args(req, no_args) || !routes_bind_key(req, res, match, c->key))
                        return NULL;
        }
        return c;
}

/* PATCH and PUT read their object, then change. */
static void read_body(change_t *c)
{
        http_request_t *req = c->w.req;
        body_format_t format;

        if (!write_body_format(req, false, &format))
                return;
        c->reader = body_reader_new(format, WRITE_MAX_ROW_BYTES, c->w.res->column_count);
        if (c->reader != NULL && scope_defer(req->scope, free_reader, c->reader, NULL) < 0) {
                body_reader_free(c->reader);
                c->reader = NULL;
        }
        c->columns = scope_alloc(req->scope, c->w.res->column_count * sizeof(*c->columns));
        if (c->reader == NULL || c->columns == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        http_receive_body(req, on_body, c);
}

void collection_patch(env_t *env, http_request_t *req, const route_match_t *match)
{
        change_t *c = new_change(env, req, match, CHANGE_PATCH, false);

        if (c != NULL)
                read_body(c);
}

void item_patch(env_t *env, http_request_t *req, const route_match_t *match)
{
        change_t *c = new_change(env, req, match, CHANGE_PATCH, true);

        if (c != NULL)
                read_body(c);
}

void item_put(env_t *env, http_request_t *req, const route_match_t *match)
{
        change_t *c = new_change(env, req, match, CHANGE_PUT, true);

        if (c != NULL)
                read_body(c);
}

void collection_delete(env_t *env, http_request_t *req, const route_match_t *match)
{
        change_t *c = new_change(env, req, match, CHANGE_DELETE, false);

        if (c != NULL)
                start(c);
}

void item_delete(env_t *env, http_request_t *req, const route_match_t *match)
{
        change_t *c = new_change(env, req, match, CHANGE_DELETE, true);

        if (c != NULL)
                start(c);
}
