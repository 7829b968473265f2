/*
 * How a page of a collection points to the next one (page_links.c).
 */
#ifndef QUERYD_PAGE_LINKS_H
#define QUERYD_PAGE_LINKS_H

#include "core/strbuf.h"
#include "http/http.h"
#include "json/rowjson.h"
#include "sql/collection_plan.h"

/**
 * Writes into cursor what a next page starts after: the sort values of the
 * row rows fetched last (nothing for a resource without a key, whose pages
 * link by offset). cursor->failed tells a failure.
 */
void page_links_write_cursor(const collection_plan_t *plan, const rowjson_t *rows,
                             strbuf_t *cursor);

/** Appends the JSON string of the next page's link: the request with its position replaced. */
void page_links_append_next(strbuf_t *out, http_request_t *req, const collection_plan_t *plan,
                            strbuf_t *cursor);

#endif
