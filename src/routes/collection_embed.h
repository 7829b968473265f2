/*
 * Reads that embed related rows (select=id,members(id,name)).
 */
#ifndef QUERYD_COLLECTION_EMBED_H
#define QUERYD_COLLECTION_EMBED_H

#include <stdbool.h>

#include "http/http.h"
#include "request/env.h"
#include "sql/collection_plan.h"

/** Whether the request's select embeds a relation (embed_plan_wanted). */
bool collection_embeds(const http_request_t *req);

/**
 * Answers GET /<resource> (item_key NULL) or GET /<resource>/<key> (the
 * key's binds, then the view's claims, as item_get binds them) whose
 * select embeds relations: parents read in batches on one connection, one
 * statement per embedded relation per batch, the answer streamed.
 */
void collection_embed_get(env_t *env, http_request_t *req, const api_resource_t *res,
                          MYSQL_BIND *item_key);

#endif
