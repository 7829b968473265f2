/*
 * What the write handlers share (write_insert.c, write_change.c): reading
 * the body's format and the Prefer header, writing rows read back, and
 * ending a transaction with one answer, whatever happened before.
 */
#ifndef QUERYD_WRITE_COMMON_H
#define QUERYD_WRITE_COMMON_H

#include <stdbool.h>
#include <string.h>

#include "body/body_reader.h"
#include "core/strbuf.h"
#include "http/prefer.h"
#include "request/env.h"
#include "request/write_tx.h"
#include "sql/row_keys.h"
#include "sql/write_sql.h"

/* A row of a body is at most this long; a whole body is bounded only by
 * QUERYD_MAX_BODY_BYTES, since rows are written as they arrive. */
enum { WRITE_MAX_ROW_BYTES = 16 * 1024 * 1024 };

/* return=representation answers with at most this many rows: they are held
 * until the transaction commits, so that an answer never shows a row a
 * rollback took back. */
enum { WRITE_MAX_REPRESENTATION_ROWS = 10000 };

/** One write request's state common to every method. */
typedef struct write_request {
        env_t *env;
        http_request_t *req;
        const api_resource_t *res;   /* as the caller sees it: a role's view, or the entry */
        prefer_t prefer;
        write_tx_t *tx;
        strbuf_t rows;               /* return=representation: the rows read back, as JSON */
        unsigned long long row_count; /* rows read back */
        bool single;                 /* the answer is one object, not an array */
        bool failed;                 /* answered, or rolling back to answer */
} write_request_t;

/** Copies n binds; none at all from a NULL array (a view without claims). */
static inline void write_copy_binds(MYSQL_BIND *to, const MYSQL_BIND *from, size_t n)
{
        if (n > 0)
                memcpy(to, from, n * sizeof(*to));
}

/**
 * Sets up w for req on res: reads Prefer (a bad one is answered 400) and
 * makes the transaction. false once the request is answered.
 */
bool write_request_init(write_request_t *w, env_t *env, http_request_t *req,
                        const api_resource_t *res);

/**
 * The body format Content-Type names: application/json, application/x-ndjson
 * or text/csv (csv only when allow_bulk). false once answered 415.
 */
bool write_body_format(http_request_t *req, bool allow_bulk, body_format_t *ret_format);

/** Answers the reader's error: 400 naming the row of a bulk body, 413 for a long row. */
void write_fail_body(write_request_t *w, const body_reader_t *reader, int status);

/**
 * The item path of the row with key values key (res->key_count binds made
 * by typed_value_parse or row_keys), percent-encoded, in the request's
 * scope; NULL for a key of dates or bytes, or out of memory.
 */
const char *write_location(const write_request_t *w, const MYSQL_BIND *key);

/** Sets the query's row options for rows of w->res read back (RETURNING, re-reads). */
void write_read_back_options(write_request_t *w);

/** A write_tx row callback: appends the row fetched to w->rows (data is w). */
bool write_keep_row(db_query_t *q, void *data);

/**
 * A write_tx step's outcome: true to go on. Otherwise the request is
 * answered, or being answered: a database refusal (-EIO) after a rollback.
 */
bool write_step_ok(write_request_t *w, int status, const db_error_t *error);

/** What runs once the rows a write touched are found inside the caller's rows. */
typedef void (*write_checked_fn)(void *data);

/**
 * Under a view's row condition: checks that every row of keys (keys that
 * were read back, distinct) is one the caller may see, by counting those
 * the condition admits, in pieces of at most 1024 keys. A row outside it,
 * or one its key no longer finds (a NULL, a key changed since), refuses
 * the write with 403 and rolls back; otherwise then(data) runs. scope holds
 * the statements (it must outlive the check).
 */
void write_check_rows(write_request_t *w, const row_keys_t *keys, scope_t *scope,
                      write_checked_fn then, void *data);

/**
 * Rolls the transaction back (when it is open) and then answers with the
 * problem status/slug/detail. For a failure found once statements ran.
 */
void write_abort(write_request_t *w, unsigned status, const char *slug, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** As write_abort, a 400 invalid-parameter naming the request parameter at fault. */
void write_abort_param(write_request_t *w, const char *parameter, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/** Rolls back, then answers the database's refusal of a write (answer_write_error). */
void write_abort_db(write_request_t *w, const db_error_t *error);

/**
 * Commits (or, under Prefer: tx=rollback, rolls back) and answers status:
 * with the rows read back under return=representation, else with no body
 * (201 stays 201; 200 becomes 204). location, when non-NULL, goes out as
 * the Location header.
 */
void write_finish(write_request_t *w, unsigned status, const char *location);

#endif
