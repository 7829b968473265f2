/* A statement run on behalf of a request, from acquire to release. */
#include "query_call.h"

#include "metrics.h"
#include "worker.h"

static void free_rows_json(void *arg)
{
        strbuf_done(arg);
}

query_call_t *query_call_new(http_request_t *req, const char *sql, MYSQL_BIND *params)
{
        query_call_t *call = scope_alloc(req->scope, sizeof(*call));

        if (call == NULL || scope_defer(req->scope, free_rows_json, &call->rows_json, NULL) < 0)
                return NULL;
        call->req = req;
        call->query.sql = sql;
        call->query.params = params;
        call->query.row_options.time_zone = req->worker->config->time_zone;
        call->query.timeout_ms = req->worker->config->query_timeout_ms;
        call->max_rows = (unsigned long long)-1;
        return call;
}

static void on_row(db_query_t *q, void *data)
{
        query_call_t *call = data;

        if (call->row_count < call->max_rows) {
                if (call->row_count > 0)
                        strbuf_append_char(&call->rows_json, ',');
                rowjson_append_row(&q->rows, q->stmt, &call->rows_json);
                if (call->row_count + 1 == call->max_rows && call->on_last_row != NULL)
                        call->on_last_row(call, &q->rows, q->stmt);
        }
        call->row_count++;
}

static void on_done(db_query_t *q, int status, void *data)
{
        query_call_t *call = data;

        db_pool_release(call->lease); /* the rows are read: the connection is free */
        if (status < 0) {
                metrics_count_db_error();
                http_fail_db(call->req, &q->error);
        } else if (call->rows_json.failed) {
                http_fail(call->req, 500, "internal", "out of memory while writing the rows");
                status = -1;
        }
        call->done(call, status);
}

/* The database stops the statement at query_timeout_ms; queryd waits a
 * little longer for that answer before it gives up on the connection. */
enum { QUERY_GRACE_MS = 1000 };

static void on_deadline(http_request_t *req);

static void on_lease(db_lease_t *lease, int status, void *data)
{
        query_call_t *call = data;
        http_request_t *req = call->req;

        if (status < 0) {
                http_fail_acquire(req, status);
                call->done(call, status);
                return;
        }
        call->running = true;
        call->query.row_cb = on_row;
        call->query.done_cb = on_done;
        call->query.data = call;
        if (call->deadline_ms == 0)
                http_set_deadline(req, call->query.timeout_ms + QUERY_GRACE_MS, on_deadline);
        db_query_run(&call->query, lease, req->scope);
}

static void on_deadline(http_request_t *req)
{
        query_call_t *call = req->route_state;
        const config_t *config = req->worker->config;

        if (call->on_timeout != NULL)
                call->on_timeout(req);
        else if (call->running)
                http_fail(req, 504, "timeout", "the query did not complete within %u ms",
                          call->query.timeout_ms);
        else
                http_fail(req, 503, "overloaded",
                          "no database connection became free within %u ms",
                          config->acquire_timeout_ms);
        /* Leave the queue, or drop the connection with its statement still
         * running: nothing will read its rows now. */
        if (call->lease != NULL)
                db_pool_release(call->lease);
}

void query_call_start(query_call_t *call, query_call_done_fn done)
{
        http_request_t *req = call->req;

        call->done = done;
        req->route_state = call;
        http_set_deadline(req, call->deadline_ms ? call->deadline_ms
                                                 : req->worker->config->acquire_timeout_ms,
                          on_deadline);
        int r = db_pool_acquire(req->worker->pool, req->scope, on_lease, call, &call->lease);
        if (r < 0)
                http_fail_acquire(req, r);
}
