/*
 * Reads that embed related rows (select=id,members(id,name)), and what
 * they share with the plain reads of collection.c.
 */
#ifndef QUERYD_COLLECTION_EMBED_H
#define QUERYD_COLLECTION_EMBED_H

#include <stdbool.h>

#include "http/http.h"
#include "json/rowjson.h"
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

/** Writes the cursor a next page starts after: the sort values of rows' row fetched last. */
void collection_cursor_write(const collection_plan_t *plan, const rowjson_t *rows,
                             strbuf_t *cursor);

/** Appends the JSON string of the next page's link: the request with its position replaced. */
void collection_append_next(strbuf_t *out, http_request_t *req, const collection_plan_t *plan,
                            strbuf_t *cursor);

/** SELECT <plan's fields> FROM <table> WHERE <key> = ?... [AND (<row condition>)]; NULL: -ENOMEM. */
char *collection_item_sql(const collection_plan_t *plan, scope_t *scope);

#endif
