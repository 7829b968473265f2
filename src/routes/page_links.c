/*
 * How a page of a collection points to the next one: the cursor made of
 * its last row's sort values, and the "next" link (the request itself with
 * its position replaced), for the plain reads and the embedding ones alike.
 */
#include "routes/page_links.h"

#include <jansson.h>
#include <string.h>

#include "sql/cursor.h"

/* Percent-encodes text but for letters, digits and the bytes in keep. */
static void append_escaped(strbuf_t *out, const char *text, const char *keep)
{
        static const char hex[] = "0123456789ABCDEF";

        for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                    (*s >= '0' && *s <= '9') || strchr(keep, *s) != NULL) {
                        strbuf_append_char(out, (char)*s);
                } else {
                        strbuf_append_char(out, '%');
                        strbuf_append_char(out, hex[*s >> 4]);
                        strbuf_append_char(out, hex[*s & 15]);
                }
        }
}

/* Bytes that mean nothing special in a query argument (RFC 3986 unreserved,
 * and the punctuation of filters): kept so that links stay readable. */
#define ARG_KEEP "-._~,()*"

void page_links_append_next(strbuf_t *out, http_request_t *req, const collection_plan_t *plan,
                            strbuf_t *cursor)
{
        strbuf_append_char(out, '"');
        append_escaped(out, plan->res->path, "-._~/");
        strbuf_append_char(out, '?');
        for (size_t i = 0; i < req->arg_count; i++) {
                const query_arg_t *a = &req->args[i];
                if (strcmp(a->name, "after") == 0 || strcmp(a->name, "offset") == 0)
                        continue;
                append_escaped(out, a->name, ARG_KEEP);
                if (a->value != NULL) { /* "?count" stays "count", not "count=" */
                        strbuf_append_char(out, '=');
                        append_escaped(out, a->value, ARG_KEEP);
                }
                strbuf_append_char(out, '&');
        }
        if (plan->by_offset) {
                strbuf_appendf(out, "offset=%lld", plan->offset + plan->limit);
        } else {
                strbuf_append_str(out, "after=");
                strbuf_append_char(cursor, '\0');
                if (cursor->data == NULL) /* out of memory: the caller refuses the page */
                        return;
                append_escaped(out, cursor->data, ARG_KEEP);
        }
        strbuf_append_char(out, '"');
}

/* Appends the text a JSON string stands for: a key like a"b must come back
 * as those three bytes, not as its escaped form. */
static void append_json_string_value(strbuf_t *out, const strbuf_t *json)
{
        json_t *value = json->failed ? NULL
                                     : json_loadb(json->data, json->len,
                                                  JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

        if (json_is_string(value))
                strbuf_append(out, json_string_value(value), json_string_length(value));
        else
                out->failed = true;
        json_decref(value);
}

void page_links_write_cursor(const collection_plan_t *plan, const rowjson_t *rows,
                             strbuf_t *cursor)
{
        strbuf_t values = { 0 };

        cursor->len = 0;
        if (plan->res->key_count == 0) /* its pages link by offset: no cursor */
                return;
        if (plan->plain_cursor) {
                rowjson_append_plain(rows, plan->order[0].field, &values);
                append_json_string_value(cursor, &values);
        } else {
                for (size_t i = 0; i < plan->order_count; i++) {
                        strbuf_append_char(&values, i ? ',' : '[');
                        rowjson_append_plain(rows, plan->order[i].field, &values);
                }
                if (!values.failed)
                        cursor_encode(cursor, plan->order_text, values.data + 1, values.len - 1);
        }
        if (values.failed)
                cursor->failed = true;
        strbuf_done(&values);
}
