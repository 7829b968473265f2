/*
 * Answers for requests whose database work failed: the statement's error,
 * mapped by db_errors.c (for writes, first by the refusals a client's data
 * can cause), or the reason no connection could be borrowed; and for
 * requests past their identity's rate limit (answer_limits.c).
 */
#ifndef QUERYD_ANSWER_H
#define QUERYD_ANSWER_H

#include "auth/rate_limit.h"
#include "db/db_query.h"
#include "http/http.h"

/** Answers for a failed statement, mapped by db_errors; adds errno and sqlstate. */
void answer_db_error(http_request_t *req, const db_error_t *error);

/**
 * Answers for a write the database refused: a duplicate key or a broken
 * foreign key 409 conflict, a failed CHECK constraint 422
 * constraint-violation, a lock wait timeout or deadlock 503 busy with
 * Retry-After: 1, a value its column cannot take 400 invalid-body naming
 * the column (never the value, nor another row's); anything else as
 * answer_db_error. Adds errno and sqlstate.
 */
void answer_write_error(http_request_t *req, const db_error_t *error);

/**
 * Answers for a SET ROLE that failed (db_role.h): a lost link as any
 * statement's, anything else 500 and logged, since the role comes from the
 * configuration and a database account that cannot take it is a deployment
 * fault, not the client's.
 */
void answer_role_failure(http_request_t *req, const db_error_t *error);

/** Answers for a failed acquire (db_pool_acquire's or its callback's error). */
void answer_acquire_failure(http_request_t *req, int status);

/**
 * Answers 429 too-many-requests for a refused take (v->allowed false), with
 * Retry-After, RateLimit and RateLimit-Policy.
 */
void answer_rate_limited(http_request_t *req, const rate_verdict_t *v);

/**
 * Adds RateLimit and RateLimit-Policy to the answer of an allowed request,
 * so that clients see what is left of their budget (out of memory, the
 * answer goes without them).
 */
void answer_rate_headers(http_request_t *req, const rate_verdict_t *v);

#endif
