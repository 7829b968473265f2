/* What the two handlers of named queries (named_query.c for GET,
 * named_query_write.c for the write methods) share. */
#ifndef QUERYD_NAMED_QUERY_H
#define QUERYD_NAMED_QUERY_H

#include <mysql.h>
#include <stdbool.h>

#include "api/api.h"
#include "http/http.h"
#include "request/env.h"
#include "request/query_call.h"

/**
 * Binds a parameter "from" the claims to value: the caller's own value,
 * never the request's (a query argument of its name is refused with 400).
 * False once the request is answered (400, 401 or 500).
 */
bool named_query_bind_claim(env_t *env, http_request_t *req, const api_param_t *p,
                            MYSQL_BIND *value);

/**
 * A call of q's statement for req, its binds (q->bind_count) taken from the
 * parameters' values, with q's timeout, outputs and max_rows, and the JSON
 * envelope's head written; call->data is q. NULL once answered 500.
 */
query_call_t *named_query_call(env_t *env, http_request_t *req, const api_query_t *q,
                               const MYSQL_BIND *values, MYSQL_BIND *binds, row_format_t format);

/**
 * Whether the call's result kept within its query's max_rows (call->data
 * is the api_query_t); false once it is answered 500 too-many-rows.
 */
bool named_query_within_max_rows(query_call_t *call);

#endif
