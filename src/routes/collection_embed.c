/*
 * Reads with embedded relations. A connection cannot start a statement
 * while another's rows are still arriving, so the parents are read in
 * batches, each a keyset page of the request's own order (the next batch
 * starts after the last row of the one before): a batch's parent rows are
 * kept, then each embedded level is read with one statement for the whole
 * batch (WHERE <join columns> IN (<the parents' keys>)), and the batch is
 * written out with each parent's related rows inside its object. Memory
 * holds one batch of every level, whatever the answer's size; the answer
 * streams once it outgrows a small buffer, and the next batch waits while
 * the client has not taken what was written.
 */
#include "routes/collection_embed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/db_role.h"
#include "request/access.h"
#include "request/answer.h"
#include "request/query_call.h"
#include "request/read_cache.h"
#include "routes/embed_rows.h"
#include "routes/page_links.h"
#include "routes/routes.h"
#include "sql/embed_plan.h"

enum {
        FIRST_BATCH_ROWS = 100,          /* a page of the default limit in one batch */
        MAX_BATCH_ROWS = 1000,
        MIN_BATCH_ROWS = 10,
        SMALL_BATCH_BYTES = 2 << 20,     /* below this a batch may double... */
        LARGE_BATCH_BYTES = 8 << 20,     /* ...above it, halve */
        MAX_BATCH_BYTES = 32 << 20,      /* one batch's rows of every level, at most, and
                                            its written answer (a related row shared by
                                            many parents is written once for each) */
        STREAM_START_BYTES = 64 * 1024,  /* as query_call.c */
        HIGH_WATER_BYTES = 128 * 1024,
        LOW_WATER_BYTES = 32 * 1024,
};

typedef struct embed_read {
        env_t *env;
        http_request_t *req;
        const api_resource_t *res;
        embed_plan_t plan;
        row_format_t format;
        MYSQL_BIND *item_key;          /* an item request's key binds, or NULL */
        collection_plan_t *first;      /* the request as given: count, paging, next link */
        collection_plan_t *batch_plan; /* the batch's page (in the batch's scope) */
        char *count;                   /* digits of count=exact */
        long long emitted;             /* parents written */
        unsigned deadline_ms;          /* each statement's, Prefer: timeout applied */
        long long batch_rows;          /* parents a batch asks for */
        long long batch_limit;         /* this batch's */
        bool more;                     /* a parent followed the batch */
        strbuf_t cursor;               /* the batch's last parent's, for the next */
        embed_rows_t rows;             /* the batch's, level by level */
        size_t node;                   /* the level being read */
        const char **key_values;       /* its parents' distinct keys, plain texts */
        size_t *key_lengths;
        size_t key_count, key_next;
        scope_t *batch;                /* what one batch allocates */
        db_lease_t *lease;
        db_query_t query;
        bool running;                  /* a statement runs */
        bool waiting;                  /* the next batch waits for the client */
        bool streaming;
        bool finished;                 /* the body is complete in out */
        bool too_large;                /* the batch passed MAX_BATCH_BYTES */
        strbuf_t out;
        size_t sent;
        uv_timer_t *kick;              /* starts the next batch from the loop */
} embed_read_t;

static void next_batch(embed_read_t *run);
static void kick_cb(uv_timer_t *timer);

bool collection_embeds(const http_request_t *req)
{
        return embed_plan_wanted(query_args_get(req->args, req->arg_count, "select"));
}

/* ---- the caller's views ---- */

static int view_of(void *ctx, const api_resource_t *entry, const api_resource_t **ret_view,
                   const MYSQL_BIND **ret_binds)
{
        embed_read_t *run = ctx;
        const api_t *api = run->env->api;
        const char *role = run->env->identity ? run->env->identity->role : NULL;
        const api_access_t *rule = NULL;
        char why[256];

        if (!(entry->methods & API_METHOD_GET) ||
            !api_role_may_use(api, entry->access, entry->access_count, role))
                return -ENOENT;
        if (api->auth != NULL && role != NULL && entry->access != NULL)
                rule = api_access_for(entry->access, entry->access_count, role);
        if (rule != NULL && !(rule->methods & API_METHOD_GET))
                return -ENOENT;
        *ret_view = rule && rule->view ? rule->view : entry;
        *ret_binds = NULL;
        if (rule == NULL || rule->view == NULL || rule->view->row_claim_count == 0)
                return 0;
        MYSQL_BIND *binds = scope_alloc(run->req->scope,
                                        rule->view->row_claim_count * sizeof(*binds));
        if (binds == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < rule->view->row_claim_count; i++) {
                int r = access_bind_claim(run->env, run->req, rule->view->row_claims[i], NULL,
                                          &binds[i], why, sizeof(why));
                if (r < 0) /* a caller whose claims cannot bind its rule reads none of it */
                        return r == -ENOMEM ? r : -ENOENT;
        }
        *ret_binds = binds;
        return 0;
}

/* ---- the answer ---- */

static long read_out(http_request_t *req, char *buf, size_t max, void *data)
{
        embed_read_t *run = data;
        strbuf_t *out = &run->out;
        size_t pending = out->len - run->sent;

        (void)req;
        if (out->failed)
                return HTTP_STREAM_FAILED;
        if (pending == 0) {
                if (run->finished)
                        return HTTP_STREAM_END;
                if (run->waiting && !uv_is_active((uv_handle_t *)run->kick))
                        uv_timer_start(run->kick, kick_cb, 0, 0);
                return HTTP_STREAM_WAIT;
        }
        size_t n = pending < max ? pending : max;
        memcpy(buf, out->data + run->sent, n);
        run->sent += n;
        if (run->sent == out->len)
                out->len = run->sent = 0;
        if (run->waiting && pending - n < LOW_WATER_BYTES &&
            !uv_is_active((uv_handle_t *)run->kick))
                uv_timer_start(run->kick, kick_cb, 0, 0);
        return (long)n;
}

static void kick_closed_cb(uv_handle_t *handle)
{
        embed_read_t *run = handle->data;

        scope_unref(run->req->scope);
}

static void close_kick(void *arg)
{
        uv_close(arg, kick_closed_cb);
}

static void start_stream(embed_read_t *run)
{
        read_cache_let_go(run->env); /* a stream is never kept */
        read_cache_headers(run->env, run->req);
        http_respond_stream(run->req, 200, row_format_content_type(run->format), read_out, run);
        run->streaming = run->req->read_stream != NULL;
}

/* Gives the connection back, and the batch's memory. */
static void stop(embed_read_t *run)
{
        if (run->lease != NULL)
                db_pool_release(run->lease);
        run->lease = NULL;
        run->running = false;
}

static void fail(embed_read_t *run, unsigned status, const char *slug, const char *detail)
{
        stop(run);
        if (run->streaming) {
                log_error("request %s: answer cut short: %s", run->req->id, detail);
                http_stream_fail(run->req);
        } else {
                http_fail(run->req, status, slug, "%s", detail);
        }
}

static void respond_buffered(embed_read_t *run, strbuf_t *out)
{
        const char *type = row_format_content_type(run->format);

        read_cache_keep(run->env, type, out);
        read_cache_headers(run->env, run->req);
        http_respond_buffer(run->req, 200, type, out);
}

static void finish(embed_read_t *run)
{
        strbuf_t *out = &run->out;

        stop(run);
        if (run->item_key != NULL && run->emitted == 0) {
                http_fail(run->req, 404, "not-found", "no row with this key");
                return;
        }
        if (run->format == ROW_FORMAT_JSON && run->item_key == NULL) {
                strbuf_append_str(out, "],\"next\":");
                if (run->more)
                        page_links_append_next(out, run->req, run->first, &run->cursor);
                else
                        strbuf_append_str(out, "null");
                if (run->count != NULL)
                        strbuf_appendf(out, ",\"count\":%s", run->count);
                strbuf_append_char(out, '}');
        }
        if (out->failed || run->cursor.failed) {
                fail(run, 500, "internal", "out of memory while writing the rows");
                return;
        }
        run->finished = true;
        if (run->streaming)
                http_stream_ready(run->req);
        else
                respond_buffered(run, out);
}

/* ---- the batch's rows ---- */

/* The batch is written: its rows and its memory go. */
static void clear_levels(embed_read_t *run)
{
        embed_rows_clear(&run->rows);
        if (run->batch != NULL)
                scope_close(run->batch);
        run->batch = NULL;
}

static void free_level_memory(void *arg)
{
        embed_read_t *run = arg;

        embed_rows_done(&run->rows);
        strbuf_done(&run->out);
        strbuf_done(&run->cursor);
        if (run->batch != NULL)
                scope_close(run->batch);
        run->batch = NULL;
}

static bool on_row(db_query_t *q, void *data)
{
        embed_read_t *run = data;

        if (!run->running)
                return true;
        if (run->node == 0 && (long long)run->rows.levels[0].rows == run->batch_limit) {
                run->more = true; /* the row after the batch: one follows */
                return true;
        }
        if (embed_rows_bytes(&run->rows) > MAX_BATCH_BYTES) {
                run->too_large = true; /* read on, keep nothing: refused once read */
                return true;
        }
        if (!embed_rows_keep(&run->rows, run->node, &q->rows)) {
                run->rows.levels[run->node].text.failed = true;
                return true;
        }
        if (run->node == 0 && (long long)run->rows.levels[0].rows == run->batch_limit &&
            run->item_key == NULL)
                page_links_write_cursor(run->batch_plan, &q->rows, &run->cursor);
        return true;
}

/* ---- statements ---- */

static void on_deadline(http_request_t *req, void *data)
{
        embed_read_t *run = data;

        (void)req;
        if (run->finished || (run->streaming && !run->running))
                return; /* every row is read, or the client takes its time */
        if (run->running)
                fail(run, 504, "timeout", "the query did not complete within its timeout");
        else
                fail(run, 503, "overloaded", "no database connection became free in time");
}

/* The entry's statement timeout, which the server enforces too. */
static unsigned entry_timeout(const embed_read_t *run)
{
        return run->res->timeout_ms ? run->res->timeout_ms : run->env->config->query_timeout_ms;
}

static void run_statement(embed_read_t *run, const char *sql, MYSQL_BIND *binds,
                          const collection_plan_t *rows, db_query_row_cb row_cb,
                          db_query_done_cb done)
{
        db_query_t *q = &run->query;
        unsigned timeout = entry_timeout(run);
        /* A deadline the request lowered (Prefer: timeout) is met by the timer
         * alone; the entry's leaves the server's own error a moment to arrive. */
        unsigned wait = run->deadline_ms < timeout ? run->deadline_ms
                                                   : timeout + DB_QUERY_GRACE_MS;

        q->sql = sql;
        q->params = binds;
        q->row_options = (rowjson_options_t){ .time_zone = run->env->config->time_zone };
        if (rows != NULL) {
                q->row_options.outputs = rows->outputs;
                q->row_options.output_count = (unsigned)rows->field_count;
                q->row_options.visible = (unsigned)rows->visible;
        }
        q->timeout_ms = timeout;
        q->row_cb = row_cb;
        q->done_cb = done;
        q->data = run;
        run->running = true;
        http_set_deadline(run->req, wait, on_deadline, run);
        db_query_run(q, run->lease, run->batch);
}

/* false once the request is answered: the statement failed. */
static bool statement_ok(embed_read_t *run, db_query_t *q, int status)
{
        if (!run->running)
                return false; /* answered at the deadline */
        run->running = false;
        if (status >= 0)
                return true;
        metrics_count_db_error();
        if (run->streaming) {
                log_error("request %s: answer cut short by database error %u: %s", run->req->id,
                          q->error.code, q->error.message);
                http_stream_fail(run->req);
        } else {
                answer_db_error(run->req, &q->error);
        }
        stop(run);
        return false;
}

static void level_done(db_query_t *q, int status, void *data);

/* The next EMBED_MAX_KEYS keys of the current level: one statement. */
static void run_keys(embed_read_t *run)
{
        const embed_node_t *node = run->plan.nodes[run->node];
        size_t width = node->rel->column_count;
        size_t n = run->key_count - run->key_next;
        char *sql;
        MYSQL_BIND *binds;

        if (n > EMBED_MAX_KEYS)
                n = EMBED_MAX_KEYS;
        int r = embed_plan_statement(node, &run->key_values[run->key_next * width],
                                     &run->key_lengths[run->key_next * width], n, run->batch,
                                     &sql, &binds);
        if (r < 0) {
                fail(run, 500, "internal", "out of memory");
                return;
        }
        run->key_next += n;
        run->rows.levels[run->node].sorted = NULL;
        run_statement(run, sql, binds, &node->plan, on_row, level_done);
}

/* ---- writing a batch ---- */

/* The next batch asks for more parents when this one was small, fewer when large. */
/* written: the batch's answer, which may outgrow its rows many times. */
static void adapt_batch(embed_read_t *run, size_t written)
{
        size_t bytes = embed_rows_bytes(&run->rows);

        if (written > bytes)
                bytes = written;

        if (bytes < SMALL_BATCH_BYTES && run->batch_rows < MAX_BATCH_ROWS)
                run->batch_rows *= 2;
        else if (bytes > LARGE_BATCH_BYTES && run->batch_rows > MIN_BATCH_ROWS)
                run->batch_rows /= 2;
        if (run->batch_rows > MAX_BATCH_ROWS)
                run->batch_rows = MAX_BATCH_ROWS;
}

/* What the client has not taken yet goes to the front, so that the
 * buffer holds that and one batch, not everything ever sent. */
static void compact_out(embed_read_t *run)
{
        strbuf_t *out = &run->out;

        if (run->sent == 0)
                return;
        memmove(out->data, out->data + run->sent, out->len - run->sent);
        out->len -= run->sent;
        run->sent = 0;
}

static void refuse_too_large(embed_read_t *run)
{
        stop(run);
        if (run->streaming)
                http_stream_fail(run->req);
        else
                http_fail_param(run->req, "select", "the embedded rows of one batch of parents "
                                "pass %d MiB: limit the embedding (<relation>.limit=)",
                                MAX_BATCH_BYTES >> 20);
}

static void write_batch(embed_read_t *run)
{
        const embed_level_t *top = &run->rows.levels[0];
        bool listed = run->item_key == NULL;

        compact_out(run);
        size_t start = run->out.len;
        for (size_t r = 0; r < top->rows; r++, run->emitted++) {
                if (listed && run->format == ROW_FORMAT_JSON && run->emitted > 0)
                        strbuf_append_char(&run->out, ',');
                embed_rows_write(&run->rows, r, &run->out);
                if (run->format == ROW_FORMAT_NDJSON)
                        strbuf_append_char(&run->out, '\n');
                if (run->out.len - start > MAX_BATCH_BYTES) {
                        refuse_too_large(run);
                        return;
                }
        }
        adapt_batch(run, run->out.len - start);
        clear_levels(run);
        if (!listed || !run->more || run->emitted >= run->first->limit) {
                finish(run);
                return;
        }
        if (!run->streaming && run->out.len >= STREAM_START_BYTES)
                start_stream(run);
        if (run->streaming) {
                http_stream_ready(run->req);
                if (run->out.len - run->sent >= HIGH_WATER_BYTES) {
                        run->waiting = true; /* read_out starts the next batch */
                        return;
                }
        }
        next_batch(run);
}

/* Reads the current level, or writes the batch once every level is read. */
static void read_level(embed_read_t *run)
{
        for (; run->node < run->plan.node_count; run->node++) {
                int r = embed_rows_parent_keys(&run->rows, run->node, run->batch,
                                               &run->key_values, &run->key_lengths,
                                               &run->key_count);
                run->key_next = 0;
                if (r < 0) {
                        fail(run, 500, "internal", "out of memory");
                        return;
                }
                if (run->key_count > 0) {
                        run_keys(run);
                        return;
                }
        }
        write_batch(run);
}

static void level_done(db_query_t *q, int status, void *data)
{
        embed_read_t *run = data;
        embed_level_t *level = &run->rows.levels[run->node];

        if (!statement_ok(run, q, status))
                return;
        if (level->text.failed) {
                fail(run, 500, "internal", "out of memory while reading the rows");
                return;
        }
        if (run->too_large) {
                refuse_too_large(run);
                return;
        }
        if (run->node > 0 && run->key_next < run->key_count) {
                run_keys(run); /* more keys than one statement takes */
                return;
        }
        if (run->node > 0) {
                if (embed_rows_index(&run->rows, run->node, run->batch) < 0) {
                        fail(run, 500, "internal", "out of memory");
                        return;
                }
        }
        run->node++;
        read_level(run);
}

/* ---- batches ---- */

/* The request's arguments with this batch's limit and position. */
static query_arg_t *batch_args(embed_read_t *run, size_t *ret_count)
{
        const embed_plan_t *plan = &run->plan;
        query_arg_t *args = scope_alloc(run->batch, (plan->arg_count + 2) * sizeof(*args));
        char *limit = scope_alloc(run->batch, 24);
        size_t n = 0;

        if (args == NULL || limit == NULL)
                return NULL;
        for (size_t i = 0; i < plan->arg_count; i++) {
                const char *name = plan->args[i].name;
                bool position = strcmp(name, "after") == 0 || strcmp(name, "offset") == 0;
                if (strcmp(name, "limit") != 0 && strcmp(name, "count") != 0 &&
                    !(position && run->emitted > 0))
                        args[n++] = plan->args[i];
        }
        snprintf(limit, 24, "%lld", run->batch_limit);
        args[n++] = (query_arg_t){ "limit", limit };
        if (run->emitted > 0 && run->res->key_count == 0) {
                /* without a key there is no cursor: the next batch starts at an offset */
                char *offset = scope_alloc(run->batch, 24);
                if (offset == NULL)
                        return NULL;
                snprintf(offset, 24, "%lld", run->first->offset + run->emitted);
                args[n++] = (query_arg_t){ "offset", offset };
        } else if (run->emitted > 0) {
                char *after = scope_strndup(run->batch, run->cursor.data, run->cursor.len);
                if (after == NULL)
                        return NULL;
                args[n++] = (query_arg_t){ "after", after };
        }
        *ret_count = n;
        return args;
}

/* The batch's page: the request's plan with its limit and position. */
static int plan_batch(embed_read_t *run, const char **ret_sql, MYSQL_BIND **ret_binds)
{
        embed_node_t *top = run->plan.nodes[0];
        collection_plan_t *p = scope_alloc(run->batch, sizeof(*p));
        collection_error_t err;
        size_t n;
        int r;

        if (p == NULL)
                return -ENOMEM;
        p->links = top->links;
        p->link_count = top->link_count;
        if (run->item_key != NULL) {
                r = collection_plan_select(p, run->res, top->select, run->batch, &err);
                *ret_sql = r == 0 ? collection_plan_item_sql(p, run->batch) : NULL;
                *ret_binds = run->item_key;
        } else {
                query_arg_t *args = batch_args(run, &n);
                r = args ? collection_plan_build(p, run->res, run->env->row_binds, args, n,
                                                 run->batch, &err)
                         : -ENOMEM;
                *ret_sql = r == 0 ? p->sql : NULL;
                *ret_binds = r == 0 ? p->binds : NULL;
        }
        if (r == 0 && *ret_sql == NULL)
                r = -ENOMEM;
        if (r == 0)
                r = embed_plan_locate(top, p, run->batch);
        run->batch_plan = p;
        return r;
}

static void top_done(db_query_t *q, int status, void *data)
{
        embed_read_t *run = data;

        if (run->rows.levels[0].text.failed && status >= 0 && run->running) {
                run->running = false;
                fail(run, 500, "internal", "out of memory while reading the rows");
                return;
        }
        level_done(q, status, data);
}

static void next_batch(embed_read_t *run)
{
        const char *sql;
        MYSQL_BIND *binds;
        long long remaining = run->item_key ? 1 : run->first->limit - run->emitted;

        run->waiting = false;
        if (run->lease == NULL || run->batch != NULL)
                return;
        run->batch = scope_new();
        run->node = 0;
        run->more = false;
        run->batch_limit = run->batch_rows < remaining ? run->batch_rows : remaining;
        int r = run->batch ? plan_batch(run, &sql, &binds) : -ENOMEM;
        if (r < 0) {
                fail(run, 500, "internal", "the batch could not be planned");
                return;
        }
        run_statement(run, sql, binds, run->batch_plan, on_row, top_done);
}

static void kick_cb(uv_timer_t *timer)
{
        next_batch(timer->data);
}

/* ---- count=exact ---- */

static bool count_row(db_query_t *q, void *data)
{
        embed_read_t *run = data;
        strbuf_t digits = { 0 };

        rowjson_append_plain(&q->rows, 0, &digits); /* "123", quoted */
        if (!digits.failed && digits.len >= 2)
                run->count = scope_strndup(run->req->scope, digits.data + 1, digits.len - 2);
        strbuf_done(&digits);
        return true;
}

static void count_done(db_query_t *q, int status, void *data)
{
        embed_read_t *run = data;

        if (!statement_ok(run, q, status))
                return;
        clear_levels(run);
        if (run->count == NULL) {
                fail(run, 500, "internal", "the count could not be read");
                return;
        }
        next_batch(run);
}

/* ---- the connection ---- */

static void on_role(db_lease_t *lease, int status, const db_error_t *error, void *data)
{
        embed_read_t *run = data;

        (void)lease;
        if (status < 0) {
                stop(run);
                metrics_count_db_error();
                answer_role_failure(run->req, error);
                return;
        }
        if (!run->first->count_exact) {
                next_batch(run);
                return;
        }
        run->batch = scope_new();
        if (run->batch == NULL) {
                fail(run, 500, "internal", "out of memory");
                return;
        }
        run_statement(run, run->first->count_sql, run->first->count_binds, NULL, count_row,
                      count_done);
}

static void on_lease(db_lease_t *lease, int status, void *data)
{
        embed_read_t *run = data;

        if (status < 0) {
                run->lease = NULL;
                answer_acquire_failure(run->req, status);
                return;
        }
        db_lease_use_role(lease, run->req->scope, run->env->db_role, on_role, run);
}

/* ---- the request ---- */

static bool refuse(http_request_t *req, int r, const collection_error_t *err)
{
        if (r == -EINVAL)
                http_fail_param(req, err->parameter, "%s", err->detail);
        else
                http_fail(req, 500, "internal", "out of memory");
        return false;
}

/* The request as given: its parameters checked before any database work. */
static bool plan_request(embed_read_t *run)
{
        http_request_t *req = run->req;
        collection_error_t err;
        int r = embed_plan_parse(&run->plan, run->res, run->env->row_binds, req->args,
                                 req->arg_count, view_of, run, req->scope, &err);

        if (r < 0)
                return refuse(req, r, &err);
        if (query_call_deadline(req, entry_timeout(run), &run->deadline_ms) < 0)
                return false; /* answered: a Prefer header queryd cannot read */
        if (run->item_key != NULL) {
                for (size_t i = 0; i < run->plan.arg_count; i++)
                        if (strcmp(run->plan.args[i].name, "select") != 0) {
                                http_fail_param(req, run->plan.args[i].name,
                                                "unknown query parameter '%s'",
                                                run->plan.args[i].name);
                                return false;
                        }
        }
        run->first = scope_alloc(req->scope, sizeof(*run->first));
        if (run->first == NULL)
                return refuse(req, -ENOMEM, &err);
        run->first->links = run->plan.nodes[0]->links;
        run->first->link_count = run->plan.nodes[0]->link_count;
        r = run->item_key ? collection_plan_select(run->first, run->res,
                                                   run->plan.nodes[0]->select, req->scope, &err)
                          : collection_plan_build(run->first, run->res, run->env->row_binds,
                                                  run->plan.args, run->plan.arg_count,
                                                  req->scope, &err);
        if (r < 0)
                return refuse(req, r, &err);
        if (run->first->aggregate_count > 0 || run->first->count_estimated) {
                http_fail_param(req, run->first->aggregate_count > 0 ? "select" : "count",
                                "embedded relations cannot be combined with %s",
                                run->first->aggregate_count > 0 ? "aggregates"
                                                                : "count=estimated");
                return false;
        }
        if (run->first->count_exact && run->format != ROW_FORMAT_JSON) {
                http_fail_param(req, "count", "count=exact is given in the JSON envelope only; "
                                "NDJSON and CSV answers carry the rows alone");
                return false;
        }
        return true;
}

static bool start_kick(embed_read_t *run)
{
        scope_t *scope = run->req->scope;

        run->kick = scope_alloc(scope, sizeof(*run->kick));
        if (run->kick == NULL)
                return false;
        uv_timer_init(run->env->loop, run->kick);
        run->kick->data = run;
        scope_ref(scope);
        if (scope_defer(scope, close_kick, run->kick, NULL) < 0) {
                close_kick(run->kick);
                return false;
        }
        return true;
}

void collection_embed_get(env_t *env, http_request_t *req, const api_resource_t *res,
                          MYSQL_BIND *item_key)
{
        embed_read_t *run = scope_alloc(req->scope, sizeof(*run));

        /* Registered before the lease: released after it, with no statement left reading. */
        if (run == NULL || scope_defer(req->scope, free_level_memory, run, NULL) < 0) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        *run = (embed_read_t){ .env = env, .req = req, .res = res, .item_key = item_key,
                               .batch_rows = FIRST_BATCH_ROWS };
        run->rows.plan = &run->plan;
        if (!routes_row_format(req, &run->format))
                return;
        if (run->format == ROW_FORMAT_CSV) {
                http_fail_param(req, "select", "a CSV answer cannot hold embedded rows: ask for "
                                "JSON or NDJSON");
                return;
        }
        if (!plan_request(run))
                return;
        if (!start_kick(run)) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (item_key == NULL && run->format == ROW_FORMAT_JSON)
                strbuf_append_str(&run->out, "{\"data\":[");
        http_set_deadline(req, env->config->acquire_timeout_ms, on_deadline, run);
        int r = db_pool_acquire(env_db_for(env, DB_READ), req->scope, on_lease, run, &run->lease);
        if (r < 0) {
                run->lease = NULL;
                answer_acquire_failure(req, r);
        }
}
