/*
 * One prepared statement run for an HTTP request: borrow a connection, run
 * the statement, write the rows as comma-separated JSON objects, give the
 * connection back, and report. Deadlines answer 503 past the acquire timeout
 * and 504 past the query timeout, which the database enforces as well.
 */
#ifndef QUERYD_QUERY_CALL_H
#define QUERYD_QUERY_CALL_H

#include <stdbool.h>

#include "db_query.h"
#include "http.h"
#include "strbuf.h"

typedef struct query_call query_call_t;

/** status 0: rows are in call->rows_json; otherwise the request was already answered. */
typedef void (*query_call_done_fn)(query_call_t *call, int status);

/** Called for the last of the max_rows rows written, while its values can be read. */
typedef void (*query_call_last_row_fn)(query_call_t *call, rowjson_t *rows, MYSQL_STMT *stmt);

struct query_call {
        http_request_t *req;
        strbuf_t rows_json;          /* "{...},{...}": the first max_rows rows, after
                                        whatever the caller put there before starting */
        unsigned long long row_count; /* every row fetched, written or not */
        unsigned long long max_rows;
        query_call_last_row_fn on_last_row; /* optional */
        void *data;
        unsigned deadline_ms;        /* 0: the acquire, then the query timeout */
        http_deadline_fn on_timeout; /* answers at the deadline; NULL: 503 or 504 */
        /* private */
        query_call_done_fn done;
        db_query_t query;
        db_lease_t *lease;
        bool running;
};

/**
 * Allocates a call in the request's scope. The caller may then set max_rows,
 * on_last_row, query.timeout_ms (default QUERYD_QUERY_TIMEOUT_MS) and
 * query.row_options, then starts it. sql and params must outlive the call.
 */
query_call_t *query_call_new(http_request_t *req, const char *sql, MYSQL_BIND *params);

/**
 * Starts the call; done runs exactly once unless the request was answered
 * here (no connection could be borrowed), in which case it never runs.
 */
void query_call_start(query_call_t *call, query_call_done_fn done);

#endif
