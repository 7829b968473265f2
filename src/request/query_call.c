/* A statement run on behalf of a request, from acquire to release. */
#include "request/query_call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db/db_role.h"
#include "http/prefer.h"
#include "request/answer.h"
#include "request/read_cache.h"
#include "request/read_position.h"

/*
 * A result is buffered whole, and answered with a Content-Length and the
 * right status whatever happens, until it outgrows STREAM_START_BYTES.
 * From then on it streams: fetching pauses while more than HIGH_WATER_BYTES
 * wait for the client and resumes below LOW_WATER_BYTES, so a request holds
 * about HIGH_WATER_BYTES plus one row, whatever the result's size.
 */
enum {
        STREAM_START_BYTES = 64 * 1024,
        HIGH_WATER_BYTES = 128 * 1024,
        LOW_WATER_BYTES = 32 * 1024,
};

static void free_rows_json(void *arg)
{
        strbuf_done(arg);
}

query_call_t *query_call_new(env_t *env, http_request_t *req, const char *sql,
                             MYSQL_BIND *params)
{
        query_call_t *call = scope_alloc(req->scope, sizeof(*call));

        if (call == NULL || scope_defer(req->scope, free_rows_json, &call->rows_json, NULL) < 0)
                return NULL;
        call->env = env;
        call->req = req;
        call->intent = DB_READ;
        call->query.sql = sql;
        call->query.params = params;
        call->query.row_options.time_zone = env->config->time_zone;
        call->query.timeout_ms = env->config->query_timeout_ms;
        call->max_rows = (unsigned long long)-1;
        return call;
}

/* ---- streaming ---- */

static void refill_closed_cb(uv_handle_t *handle)
{
        query_call_t *call = handle->data;

        scope_unref(call->req->scope);
}

static void close_refill(void *arg)
{
        uv_close(arg, refill_closed_cb);
}

/* Moves what the client has not taken yet to the front, and fetches on. */
static void refill_cb(uv_timer_t *timer)
{
        query_call_t *call = timer->data;
        strbuf_t *out = &call->rows_json;

        if (!call->running || !call->query.paused)
                return;
        memmove(out->data, out->data + call->sent, out->len - call->sent);
        out->len -= call->sent;
        call->sent = 0;
        db_query_resume(&call->query);
}

/* Resumes a paused fetch on the next loop turn, not from inside libmicrohttpd. */
static void refill_soon(query_call_t *call)
{
        if (call->running && call->query.paused && !uv_is_active((uv_handle_t *)call->refill))
                uv_timer_start(call->refill, refill_cb, 0, 0);
}

/* The stream's source: libmicrohttpd asks when the client's socket has room. */
static long read_rows(http_request_t *req, char *buf, size_t max, void *data)
{
        query_call_t *call = data;
        strbuf_t *out = &call->rows_json;

        (void)req;
        size_t pending = out->len - call->sent;

        if (out->failed)
                return HTTP_STREAM_FAILED; /* a row is missing: never send what follows */
        if (pending == 0) {
                if (call->finished)
                        return HTTP_STREAM_END;
                refill_soon(call);
                return HTTP_STREAM_WAIT;
        }
        size_t n = pending < max ? pending : max;
        memcpy(buf, out->data + call->sent, n);
        call->sent += n;
        if (call->sent == out->len)
                out->len = call->sent = 0;
        if (pending - n < LOW_WATER_BYTES)
                refill_soon(call);
        return (long)n;
}

/* Starts the answer; false when it could not be, and the rows stay buffered. */
static bool start_stream(query_call_t *call)
{
        http_request_t *req = call->req;

        call->refill = scope_alloc(req->scope, sizeof(*call->refill));
        if (call->refill == NULL)
                return false;
        uv_timer_init(call->env->loop, call->refill);
        call->refill->data = call;
        scope_ref(req->scope);
        if (scope_defer(req->scope, close_refill, call->refill, NULL) < 0) {
                close_refill(call->refill);
                return false;
        }
        read_cache_let_go(call->env); /* a stream is never kept */
        read_cache_headers(call->env, req);
        http_respond_stream(req, 200, row_format_content_type(call->format), read_rows, call);
        call->streaming = req->read_stream != NULL;
        return call->streaming;
}

/* After each row: whether to fetch the next one now. */
static bool keep_fetching(query_call_t *call)
{
        size_t pending = call->rows_json.len - call->sent;

        if (!call->streaming &&
            (!call->streamable || pending < STREAM_START_BYTES || !start_stream(call)))
                return true;
        http_stream_ready(call->req);
        return pending < HIGH_WATER_BYTES;
}

/* ---- the statement ---- */

static bool on_row(db_query_t *q, void *data)
{
        query_call_t *call = data;

        if (call->row_count < call->max_rows) {
                rowjson_append_listed(&q->rows, call->format, call->row_count, &call->rows_json);
                if (call->row_count + 1 == call->max_rows && call->on_last_row != NULL)
                        call->on_last_row(call, &q->rows);
        }
        call->row_count++;
        return keep_fetching(call);
}

static void on_lease(db_lease_t *lease, int status, void *data);

enum { MAX_READ_RETRIES = 2, CR_OUT_OF_MEMORY = 2008, ER_NODE_NOT_READY = 1047 };

/*
 * A read that lost its server before any row came runs again on the
 * primary: it changes nothing, a replica's crash so costs its clients
 * nothing, and with a host list (a Galera cluster) the primary's pool has
 * moved on to the next host. Writes are never run again (write_tx.c).
 */
static bool read_on_primary(query_call_t *call, const db_pool_t *lost)
{
        if (call->intent != DB_READ || call->streaming || call->row_count > 0 ||
            call->retries >= MAX_READ_RETRIES)
                return false;
        call->retries++;
        if (lost != call->env->shared->pools[0])
                env_count_error(call->env, lost);
        /* env_db_for's primary: the intent of a write is "the primary". */
        return db_pool_acquire(env_db_for(call->env, DB_WRITE), call->req->scope, on_lease, call,
                               &call->lease) == 0;
}

/* A statement whose connection failed (the server went away, or a Galera
 * node left the cluster). */
static bool retry_read(query_call_t *call, const db_pool_t *pool, const db_error_t *error)
{
        bool link_failed = (error->code >= 2000 && error->code < 3000 &&
                            error->code != CR_OUT_OF_MEMORY) ||
                           error->code == ER_NODE_NOT_READY;

        if (!link_failed || !read_on_primary(call, pool))
                return false;
        log_info("request %s: database error %u: %s; running the read again", call->req->id,
                 error->code, error->message);
        return true;
}

static void on_done(db_query_t *q, int status, void *data)
{
        query_call_t *call = data;
        db_pool_t *pool = call->lease->pool;

        db_pool_release(call->lease); /* the rows are read: the connection is free */
        call->running = false;
        if (status < 0 && retry_read(call, pool, &q->error))
                return;
        if (status == 0 && q->last_gtid[0] != '\0')
                env_wrote_at(call->env, call->req, q->last_gtid);
        if (status < 0) {
                metrics_count_db_error();
                env_count_error(call->env, pool);
                if (call->streaming) {
                        log_error("request %s: answer cut short by database error %u: %s",
                                  call->req->id, q->error.code, q->error.message);
                        http_stream_fail(call->req);
                } else {
                        answer_db_error(call->req, &q->error);
                }
        } else if (call->rows_json.failed) {
                query_call_fail(call, 500, "internal", "out of memory while writing the rows");
                status = -1;
        } else if (call->format == ROW_FORMAT_CSV && call->row_count == 0) {
                rowjson_append_csv_header(&q->rows, &call->rows_json);
        }
        call->done(call, status);
}

static void on_deadline(http_request_t *req, void *data);

/* The connection runs under the request's role: the statement may start. */
static void on_role(db_lease_t *lease, int status, const db_error_t *error, void *data)
{
        query_call_t *call = data;

        if (status < 0) {
                db_pool_release(lease);
                call->running = false;
                metrics_count_db_error();
                answer_role_failure(call->req, error);
                call->done(call, status);
                return;
        }
        /* A position, from the header or its cookie (env.c), or strong
         * consistency: on a Galera node the read waits for the cluster. */
        if (call->intent == DB_READ && (call->env->positioned || call->env->strong) &&
            read_position_wait(&call->query, lease->conn, call->req->scope) < 0) {
                db_pool_release(lease);
                call->running = false;
                http_fail(call->req, 500, "internal", "out of memory");
                call->done(call, -ENOMEM);
                return;
        }
        db_query_run(&call->query, lease, call->req->scope);
}

/* When to answer 504: at the statement's deadline, or a little after
 * when it is the database's own, for the database to report it first. */
static unsigned answer_ms(const query_call_t *call)
{
        if (call->statement_ms == 0) /* the database's timeout is off, and no Prefer's */
                return call->env->config->query_timeout_ms + DB_QUERY_GRACE_MS;
        if (call->statement_ms < call->query.timeout_ms || call->query.timeout_ms == 0)
                return call->statement_ms;
        return call->statement_ms + DB_QUERY_GRACE_MS;
}

static void on_lease(db_lease_t *lease, int status, void *data)
{
        query_call_t *call = data;
        http_request_t *req = call->req;

        if (status < 0) {
                /* A replica that cannot be reached: the primary serves the read. */
                if (status == -ENOTCONN && lease != NULL &&
                    lease->pool != call->env->shared->pools[0] && read_on_primary(call, lease->pool))
                        return;
                if (lease != NULL)
                        env_count_error(call->env, lease->pool);
                answer_acquire_failure(req, status);
                call->done(call, status);
                return;
        }
        call->running = true;
        call->query.row_cb = on_row;
        call->query.done_cb = on_done;
        call->query.data = call;
        /* At the deadline the client hears 504 whatever the database does;
         * the statement, if it still runs, is stopped when the lease goes. */
        if (call->deadline_ms == 0)
                http_set_deadline(req, answer_ms(call), on_deadline, call);
        db_lease_use_role(lease, req->scope, call->env->db_role, on_role, call);
}

static void on_deadline(http_request_t *req, void *data)
{
        query_call_t *call = data;
        const config_t *config = call->env->config;

        if (call->streaming) {
                if (!call->running)
                        return; /* every row is read: the client takes its time */
                log_error("request %s: answer cut short: the query did not complete within %u ms",
                          req->id, call->statement_ms);
                http_stream_fail(req);
        } else if (call->on_timeout != NULL) {
                call->on_timeout(call);
        } else if (call->running) {
                http_fail(req, 504, "timeout", "the query did not complete within %u ms",
                          call->statement_ms);
        } else {
                http_fail(req, 503, "overloaded",
                          "no database connection became free within %u ms",
                          config->acquire_timeout_ms);
        }
        /* Leave the queue, or hand the connection back with its statement
         * still running: the pool stops it, and nothing reads its rows now. */
        call->running = false;
        if (call->lease != NULL)
                db_pool_release(call->lease);
}

void query_call_start(query_call_t *call, query_call_done_fn done)
{
        http_request_t *req = call->req;

        call->done = done;
        call->statement_ms = call->query.timeout_ms;
        if (call->deadline_ms == 0 &&
            query_call_deadline(req, call->query.timeout_ms, &call->statement_ms) < 0)
                return;
        if (call->intent == DB_READ && read_position_check(req) < 0)
                return; /* answered 400 */
        http_set_deadline(req, call->deadline_ms ? call->deadline_ms
                                                 : call->env->config->acquire_timeout_ms,
                          on_deadline, call);
        int r;
        if (call->intent == DB_READ)
                /* Waiting for a server that has the request's position is
                 * part of getting a connection: a replica may take half the
                 * acquire deadline, the primary still has the other half. */
                r = env_acquire_read(call->env, req->scope,
                                     (call->deadline_ms ? call->deadline_ms
                                                        : call->env->config->acquire_timeout_ms) / 2,
                                     on_lease, call, &call->lease);
        else
                r = db_pool_acquire(env_db_for(call->env, call->intent), req->scope, on_lease,
                                    call, &call->lease);
        if (r < 0)
                answer_acquire_failure(req, r);
}

int query_call_deadline(http_request_t *req, unsigned entry_ms, unsigned *ret_ms)
{
        prefer_t prefer;
        char text[160];

        *ret_ms = entry_ms;
        if (prefer_parse(http_header(req, "Prefer"), &prefer, text, sizeof(text)) < 0) {
                http_fail_param(req, "Prefer", "%s", text);
                return -EINVAL;
        }
        if (prefer.timeout_ms == 0)
                return 0;
        if (entry_ms == 0 || prefer.timeout_ms < entry_ms)
                *ret_ms = prefer.timeout_ms;
        prefer_t applied = { .max_affected = -1, .applied_timeout_ms = *ret_ms };
        prefer_applied(&applied, text, sizeof(text));
        http_add_header(req, "Preference-Applied", text);
        return 0;
}

void query_call_respond(query_call_t *call)
{
        if (call->streaming) {
                call->finished = true;
                http_stream_ready(call->req);
                return;
        }
        const char *type = row_format_content_type(call->format);

        read_cache_keep(call->env, type, &call->rows_json);
        read_cache_headers(call->env, call->req);
        http_respond_buffer(call->req, 200, type, &call->rows_json);
}

void query_call_fail(query_call_t *call, unsigned status, const char *slug, const char *fmt, ...)
{
        char detail[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        if (call->streaming) {
                log_error("request %s: answer cut short: %s", call->req->id, detail);
                http_stream_fail(call->req);
                return;
        }
        http_fail(call->req, status, slug, "%s", detail);
}
