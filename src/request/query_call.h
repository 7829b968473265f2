/*
 * One prepared statement run for an HTTP request: borrow a connection, run
 * the statement, write the rows in the request's format, give the
 * connection back, and report. A result that outgrows a small buffer is
 * streamed: the answer starts while rows still arrive, and fetching pauses
 * while the client has not taken what was written. Deadlines answer 503
 * past the acquire timeout and 504 at the query timeout (or the request's
 * lower Prefer: timeout=), whether the database answers or not; the
 * database enforces the query timeout as well, and a statement still
 * running at the deadline is stopped (db_pool.h). A stream past its
 * deadline is cut short.
 */
#ifndef QUERYD_QUERY_CALL_H
#define QUERYD_QUERY_CALL_H

#include <stdbool.h>

#include "core/strbuf.h"
#include "db/db_query.h"
#include "http/http.h"
#include "json/row_format.h"
#include "request/env.h"

typedef struct query_call query_call_t;

/** status 0: rows are in call->rows_json; otherwise the request was already answered. */
typedef void (*query_call_done_fn)(query_call_t *call, int status);

/** Called for the last of the max_rows rows written, while its values can be read. */
typedef void (*query_call_last_row_fn)(query_call_t *call, const rowjson_t *rows);

/** Answers a call at its deadline instead of the default 503 or 504. */
typedef void (*query_call_timeout_fn)(query_call_t *call);

struct query_call {
        env_t *env;
        http_request_t *req;
        strbuf_t rows_json;          /* the rows written and not yet sent, after whatever
                                        the caller put there before starting */
        unsigned long long row_count; /* every row fetched, written or not */
        unsigned long long max_rows;
        row_format_t format;         /* JSON: objects separated by commas */
        bool streamable;             /* a large result may be sent while it is read */
        query_call_last_row_fn on_last_row; /* optional */
        void *data;
        db_intent_t intent;          /* DB_READ unless set */
        unsigned deadline_ms;        /* 0: the acquire, then the statement's deadline */
        query_call_timeout_fn on_timeout; /* answers at the deadline; NULL: 503 or 504 */
        /* private */
        query_call_done_fn done;
        db_query_t query;
        db_lease_t *lease;
        bool running;
        bool retried;                /* read again on the primary after losing a replica */
        bool streaming;              /* the answer has started: errors can only cut it */
        bool finished;               /* the body is complete in rows_json */
        unsigned statement_ms;       /* query.timeout_ms, or less by Prefer: timeout= */
        size_t sent;                 /* bytes of rows_json handed to the client */
        uv_timer_t *refill;          /* resumes a paused fetch from the loop */
};

/**
 * Allocates a call in the request's scope. The caller may then set max_rows,
 * format, streamable, on_last_row, intent, query.timeout_ms (default
 * QUERYD_QUERY_TIMEOUT_MS) and query.row_options, then starts it. sql and
 * params must outlive the call.
 */
query_call_t *query_call_new(env_t *env, http_request_t *req, const char *sql,
                             MYSQL_BIND *params);

/**
 * Starts the call; done runs exactly once unless the request was answered
 * here (a Prefer header queryd cannot read: 400; no connection could be
 * borrowed), in which case it never runs.
 */
void query_call_start(query_call_t *call, query_call_done_fn done);

/**
 * The deadline of a statement of req whose entry allows entry_ms: lowered
 * by the request's Prefer: timeout=<seconds>, never raised. When the
 * request names a timeout, Preference-Applied reports the value used (the
 * entry's when it asked for more) on whatever answer req gets. Returns 0
 * with *ret_ms set, or -EINVAL after answering 400 for a Prefer header
 * queryd cannot read.
 */
int query_call_deadline(http_request_t *req, unsigned entry_ms, unsigned *ret_ms);

/**
 * Answers 200 with rows_json in the call's format, after done has added
 * the envelope's tail; for a stream, this ends the body.
 */
void query_call_respond(query_call_t *call);

/**
 * Answers with a problem from done (detail is printf-formatted); for a
 * stream that has started, the body is cut short instead, so no client
 * takes it for a whole one.
 */
void query_call_fail(query_call_t *call, unsigned status, const char *slug, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
