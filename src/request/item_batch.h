/*
 * Point lookups coalesced: GET /<resource>/<key> requests of one resource
 * that wait for a database connection at the same time share one
 * SELECT ... WHERE key IN (?, ...), and each gets its own row back. Under
 * light load a batch holds one lookup and adds nothing; the busier the pool,
 * the more lookups one statement serves, which is where the database spends
 * less per row than per statement.
 */
#ifndef QUERYD_ITEM_BATCH_H
#define QUERYD_ITEM_BATCH_H

#include <stdbool.h>

#include "api/api.h"
#include "http/http.h"
#include "json/row_format.h"
#include "request/env.h"

typedef struct item_batch item_batch_t;

/**
 * Whether lookups of res may share a statement: its key is one integer
 * column (api_finish wrote its lookup statements).
 */
static inline bool item_batch_eligible(const api_resource_t *res)
{
        return res->lookup_sql[0] != NULL;
}

/**
 * Looks up the row of res (eligible) whose key is key for req, to answer it
 * in format: 200 with the row, 404 when there is none, or the error. The
 * lookup joins the batch of res still waiting for a connection of the pool
 * env reads from, or opens one. res may be a role's view: then only lookups
 * binding the same claims (env->row_binds) share a batch. A Prefer:
 * timeout= lowers the lookup's own deadline (query_call_deadline); one
 * queryd cannot read is answered 400 here. Returns 0 (req will be answered), or an
 * error of db_pool_acquire() for the caller to answer
 * (answer_acquire_failure).
 */
int item_batch_lookup(env_t *env, http_request_t *req, const api_resource_t *res, long long key,
                      row_format_t format);

#endif
