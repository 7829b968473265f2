/*
 * Answers for requests whose database work failed: the statement's error,
 * mapped by db_errors.c, or the reason no connection could be borrowed.
 */
#ifndef QUERYD_ANSWER_H
#define QUERYD_ANSWER_H

#include "db/db_query.h"
#include "http/http.h"

/** Answers for a failed statement, mapped by db_errors; adds errno and sqlstate. */
void answer_db_error(http_request_t *req, const db_error_t *error);

/**
 * Answers for a SET ROLE that failed (db_role.h): a lost link as any
 * statement's, anything else 500 and logged, since the role comes from the
 * configuration and a database account that cannot take it is a deployment
 * fault, not the client's.
 */
void answer_role_failure(http_request_t *req, const db_error_t *error);

/** Answers for a failed acquire (db_pool_acquire's or its callback's error). */
void answer_acquire_failure(http_request_t *req, int status);

#endif
