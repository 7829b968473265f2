/*
 * A resource in the OpenAPI document: its collection path (filters, order,
 * paging, select, count) and item path, its row schema and its page schema.
 */
#include "api/openapi_parts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Query parameters of a collection that are never filters. */
static const char *const RESERVED_PARAMS[] = { "select", "order",  "limit",
                                               "after",  "offset", "count" };

static bool is_reserved(const char *name)
{
        for (size_t i = 0; i < sizeof(RESERVED_PARAMS) / sizeof(RESERVED_PARAMS[0]); i++)
                if (strcmp(name, RESERVED_PARAMS[i]) == 0)
                        return true;
        return false;
}

/* How a term list admits aggregates (select_aggregate.h). */
enum { NO_AGGREGATES, AGGREGATES, ALIASED_AGGREGATES };

/* |[alias:](?:(?:a|b)\.(?:count|sum|avg|min|max)\(\)|count\(\)) over the orderable columns. */
static void append_aggregate_alternative(strbuf_t *alt, const api_resource_t *res, int aggregates)
{
        size_t start;

        strbuf_append_str(alt, aggregates == ALIASED_AGGREGATES ? "|(?:[A-Za-z_][A-Za-z0-9_]*:)?(?:"
                                                                : "|(?:");
        start = alt->len;
        for (size_t i = 0; i < res->column_count; i++) {
                if (!res->columns[i].orderable)
                        continue;
                strbuf_append_str(alt, alt->len > start ? "|" : "(?:");
                oa_append_regex_literal(alt, res->columns[i].name);
        }
        if (alt->len > start)
                strbuf_append_str(alt, ")\\.(?:count|sum|avg|min|max)\\(\\)|");
        strbuf_append_str(alt, "count\\(\\))");
}

/* ^(?:a|b|c)<suffix>(?:,(?:a|b|c)<suffix>)*$ over the columns (all, or the orderable ones),
 * and the aggregates when they are admitted. */
static json_t *column_list_pattern(const api_resource_t *res, bool orderable, int aggregates,
                                   const char *suffix)
{
        strbuf_t alt = { 0 }, b = { 0 };

        for (size_t i = 0; i < res->column_count; i++) {
                if (orderable && !res->columns[i].orderable)
                        continue;
                if (alt.len > 0)
                        strbuf_append_char(&alt, '|');
                oa_append_regex_literal(&alt, res->columns[i].name);
        }
        if (aggregates != NO_AGGREGATES)
                append_aggregate_alternative(&alt, res, aggregates);
        strbuf_appendf(&b, "^(?:%.*s)%s(?:,(?:%.*s)%s)*$", (int)alt.len, alt.data ? alt.data : "",
                       suffix, (int)alt.len, alt.data ? alt.data : "", suffix);
        b.failed |= alt.failed;
        strbuf_done(&alt);
        return oa_take_string(&b);
}

/* "`a`, `b`" for the columns (all, or the orderable ones; keys: the key columns). */
static json_t *column_names(const api_resource_t *res, bool orderable, bool keys,
                            const char *prefix, const char *suffix)
{
        strbuf_t b = { 0 };
        size_t count = keys ? res->key_count : res->column_count;

        strbuf_append_str(&b, prefix);
        for (size_t i = 0, n = 0; i < count; i++) {
                const api_column_t *c = &res->columns[keys ? res->key[i] : i];
                if (orderable && !c->orderable)
                        continue;
                strbuf_appendf(&b, "%s`%s`", n++ > 0 ? ", " : "", c->name);
        }
        strbuf_append_str(&b, suffix);
        return oa_take_string(&b);
}

static bool has_orderable(const api_resource_t *res)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (res->columns[i].orderable)
                        return true;
        return false;
}

/* What select takes: columns, and related rows when the resource has relations. */
static json_t *select_columns(const api_resource_t *res, bool embeds)
{
        return column_names(res, false, false,
                            embeds ? "Comma-separated columns to return, each at most once, "
                                     "and related rows to embed: `relation(columns)`, "
                                     "`alias:relation!foreign_key(columns)`, nested up to 3 "
                                     "levels; a relation is named after the related "
                                     "resource's table. Their parameters are prefixed: "
                                     "`relation.limit=5`, `relation.order=...`, "
                                     "`relation.column=eq.1`. Columns: "
                                   : "Comma-separated columns to return, each at most once: "
                                     "rows then hold exactly these keys, in this order "
                                     "(default: every column). Columns: ",
                            ".");
}

static json_t *select_parameter(const api_resource_t *res, bool collection)
{
        bool embeds = (res->base ? res->base : res)->relation_count > 0;
        json_t *columns = select_columns(res, embeds);
        json_t *description =
                !collection || columns == NULL
                        ? json_incref(columns)
                        : oa_strf("%s Aggregates group the rows by the plain columns selected: "
                                  "`count()`, and `column.count()`, `.sum()`, `.avg()`, "
                                  "`.min()`, `.max()` on orderable columns (sum and avg on "
                                  "numeric ones), keyed `count`, `sum`, `avg`, `min`, `max` or "
                                  "by an alias (`total:balance.sum()`). Filters apply before "
                                  "grouping; groups are paged with `offset` and `count=exact` "
                                  "counts them. Sums and averages of DECIMAL and integer "
                                  "columns are exact strings (MariaDB gives DECIMAL).",
                                  json_string_value(columns));

        json_decref(columns);
        if (embeds) /* relation(columns) too: no pattern can say which */
                return oa_parameter("select", "query", false, description,
                                    oa_object_of("type", oa_str("string"), NULL));
        return oa_parameter("select", "query", false, description,
                            oa_object_of("type", oa_str("string"), "pattern",
                                         column_list_pattern(res, false,
                                                             collection ? ALIASED_AGGREGATES
                                                                        : NO_AGGREGATES,
                                                             ""),
                                         NULL));
}

static json_t *after_description(const api_resource_t *res)
{
        if (res->key_count == 1)
                return oa_strf("Cursor from the `next` link of the previous page: the rows after "
                               "that page, in the same order (it must come from the same `order`). "
                               "Opaque, except that with the default order it is the last `%s` "
                               "of the previous page. Cannot be combined with `offset`.",
                               res->columns[res->key[0]].name);
        return oa_str(
                "Opaque cursor from the `next` link of the previous page: the rows after that "
                "page, in the same order (it must come from the same `order`). Cannot be "
                "combined with `offset`.");
}

static json_t *paging_parameters(const api_resource_t *res)
{
        json_t *params = json_array();

        params = oa_push(
                params,
                oa_parameter("limit", "query", false,
                             oa_strf("Rows per page, at least 1 (default %u). Values above %u are "
                                     "capped to %u (and the `next` link carries the capped "
                                     "value).",
                                     res->default_limit, res->max_limit, res->max_limit),
                             oa_object_of("type", oa_str("integer"), "format", oa_str("int64"),
                                          "minimum", json_integer(1), "default",
                                          json_integer(res->default_limit), NULL)));
        if (res->key_count > 0) /* without a key, pages link by offset alone */
                params = oa_push(params,
                                 oa_parameter("after", "query", false, after_description(res),
                                              oa_object_of("type", oa_str("string"), NULL)));
        params = oa_push(
                params,
                oa_parameter("offset", "query", false,
                             oa_str("Rows to skip. Cannot be combined with `after`. Deep offsets "
                                    "are slow because the database still reads every skipped "
                                    "row; prefer the `next` link."),
                             oa_object_of("type", oa_str("integer"), "format", oa_str("int64"),
                                          "minimum", json_integer(0), NULL)));
        return params;
}

static json_t *order_parameter(const api_resource_t *res)
{
        /* "" when there is no key, which an empty buffer cannot give. */
        json_t *keys = res->key_count > 0 ? column_names(res, false, true, "", "") : oa_str("");
        json_t *description = keys == NULL ? NULL : column_names(res, true, false, "", "");
        json_t *text = NULL;

        if (description != NULL && res->key_count == 0)
                text = oa_strf("Sort order: comma-separated `column[.asc|.desc]` terms, each "
                               "column at most once. The table has no key: the orderable "
                               "columns left out follow as tie-breakers, ascending. NULL sorts "
                               "first ascending, last descending. Orderable columns: %s.",
                               json_string_value(description));
        else if (description != NULL)
                text = oa_strf("Sort order: comma-separated `column[.asc|.desc]` terms, each "
                               "column at most once (default: %s ascending). The key columns are "
                               "appended as tie-breakers when missing. NULL sorts first ascending, "
                               "last descending. Orderable columns: %s. With aggregates in "
                               "`select`, the terms are selected columns and aggregates "
                               "(`count().desc`, `balance.sum().desc`), and the selected "
                               "columns are the tie-breakers.",
                               json_string_value(keys), json_string_value(description));

        json_decref(keys);
        json_decref(description);
        return oa_parameter("order", "query", false, text,
                            oa_object_of("type", oa_str("string"), "pattern",
                                         column_list_pattern(res, true, AGGREGATES,
                                                             "(?:\\.(?:asc|desc))?"),
                                         NULL));
}

/* The operators a filter on c may use: like on text only, a JSON column only is.null. */
static const char *filter_ops(const api_column_t *c)
{
        if (c->rule.type == API_TYPE_STRING)
                return "eq, neq, gt, gte, lt, lte, like, in or is";
        return "eq, neq, gt, gte, lt, lte, in or is";
}

static json_t *filter_pattern(const api_column_t *c)
{
        if (c->rule.type == API_TYPE_JSON)
                return oa_str("^(?:not\\.)?is\\.null$");
        if (c->rule.type == API_TYPE_STRING)
                return oa_str("^(?:not\\.)?(?:eq|neq|gt|gte|lt|lte|like|in|is)\\.");
        return oa_str("^(?:not\\.)?(?:eq|neq|gt|gte|lt|lte|in|is)\\.");
}

/* The grammar common to every filter is in the collection's description. */
static json_t *filter_description(const api_column_t *c)
{
        char type[64], phrase[160];
        bool truth = c->rule.type == API_TYPE_INT || c->rule.type == API_TYPE_NUMBER ||
                     c->rule.type == API_TYPE_DECIMAL || c->rule.type == API_TYPE_BOOLEAN;

        oa_sql_type(c, type, sizeof(type));
        if (c->rule.type == API_TYPE_JSON)
                return oa_strf("Filter on `%s` (%s): only `is.null` or `not.is.null`.", c->name,
                               type);
        oa_rule_phrase(&c->rule, phrase, sizeof(phrase));
        return oa_strf("Filter on `%s` (%s): `[not.]<op>.<value>` with op %s; a value is %s%s.",
                       c->name, type, filter_ops(c), phrase,
                       truth ? "; also `is.true` and `is.false`" : "");
}

static json_t *collection_parameters(const api_resource_t *res)
{
        json_t *params = paging_parameters(res);

        if (has_orderable(res))
                params = oa_push(params, order_parameter(res));
        params = oa_push(params, select_parameter(res, true));
        params = oa_push(
                params,
                oa_parameter("count", "query", false,
                             oa_str("`exact` adds `count`, the number of rows matching the "
                                    "filters (of groups, with aggregates), to the answer. "
                                    "`estimated` adds the optimizer's estimate instead (the "
                                    "table's statistics without filters), marked "
                                    "`count_estimated`: cheap on large tables, not exact."),
                             oa_object_of("type", oa_str("string"), "enum",
                                          oa_strings_of("exact", "estimated", NULL), NULL)));
        for (size_t i = 0; i < res->column_count; i++) {
                const api_column_t *c = &res->columns[i];
                if (is_reserved(c->name)) /* the reserved meaning wins */
                        continue;
                /* A column may be filtered several times (age=gte.30&age=lt.40):
                 * form style, exploded, is the array of its filters. */
                json_t *filters = oa_object_of(
                        "type", oa_str("array"), "items",
                        oa_object_of("type", oa_str("string"), "pattern", filter_pattern(c),
                                     NULL),
                        NULL);
                params = oa_push(params,
                                 oa_with(oa_with(oa_parameter(c->name, "query", false,
                                                              filter_description(c), filters),
                                                 "style", oa_str("form")),
                                         "explode", json_true()));
        }
        return oa_push_read_headers(params);
}

static json_t *page_schema(const api_resource_t *res, const char *row, const char *group)
{
        strbuf_t next = { 0 };

        strbuf_append_char(&next, '^');
        oa_append_regex_literal(&next, res->path);
        strbuf_append_str(&next, "\\?");
        return oa_object_of(
                "type", oa_str("object"), "required", oa_strings_of("data", "next", NULL),
                "additionalProperties", json_false(), "properties",
                oa_object_of(
                        "data",
                        oa_object_of("type", oa_str("array"), "maxItems",
                                     json_integer(res->max_limit), "items",
                                     oa_object_of("anyOf",
                                                  oa_push(oa_push(json_array(),
                                                                  oa_ref("schemas", row)),
                                                          oa_ref("schemas", group)),
                                                  NULL),
                                     NULL),
                        "next",
                        oa_object_of("description",
                                     oa_str("Path and query of the next page, or null on the last "
                                            "page."),
                                     "type", oa_type_of("string", NULL, true), "pattern",
                                     oa_take_string(&next), NULL),
                        "count",
                        oa_object_of("description",
                                     oa_str("Rows matching the filters (with `count=exact`; "
                                            "groups, with aggregates), or the optimizer's "
                                            "estimate of them (with `count=estimated`)."),
                                     "type", oa_str("integer"), "minimum", json_integer(0), NULL),
                        "count_estimated",
                        oa_object_of("description",
                                     oa_str("Present, and true, when `count` is an estimate "
                                            "(`count=estimated`)."),
                                     "type", oa_str("boolean"), "const", json_true(), NULL),
                        NULL),
                NULL);
}

/* The name in the item path's capture i: the key column's, unless
 * api_introspect had to make it one OpenAPI tools accept. */
static void capture_name(const api_resource_t *res, size_t i, char *out, size_t size)
{
        const char *p = res->item_path;

        for (size_t n = 0; p != NULL && (p = strchr(p, '{')) != NULL; n++, p++) {
                if (n == i) {
                        snprintf(out, size, "%.*s", (int)strcspn(p + 1, "}"), p + 1);
                        return;
                }
        }
        snprintf(out, size, "%s", res->columns[res->key[i]].name);
}

static json_t *key_parameters(const api_resource_t *res)
{
        json_t *params = json_array();

        for (size_t i = 0; i < res->key_count; i++) {
                const api_column_t *c = &res->columns[res->key[i]];
                char type[64], phrase[160], name[256];
                oa_sql_type(c, type, sizeof(type));
                oa_rule_phrase(&c->rule, phrase, sizeof(phrase));
                capture_name(res, i, name, sizeof(name));
                params = oa_push(params, oa_parameter(name, "path", true,
                                                      oa_strf("Key column `%s` (%s): %s.", c->name,
                                                              type, phrase),
                                                      oa_rule_schema(&c->rule)));
        }
        return oa_push_read_headers(oa_push(params, select_parameter(res, false)));
}

int oa_add_resource(json_t *paths, json_t *schemas, const api_t *api, const api_resource_t *res,
                    const char *name)
{
        char page[160], group[160], list_id[160], head_list_id[160], get_id[160],
                head_get_id[160];

        bool embeds = (res->base ? res->base : res)->relation_count > 0;

        snprintf(page, sizeof(page), "%sPage", name);
        snprintf(group, sizeof(group), "%sGroup", name);
        snprintf(list_id, sizeof(list_id), "list%s", name);
        snprintf(head_list_id, sizeof(head_list_id), "headList%s", name);
        snprintf(get_id, sizeof(get_id), "get%sItem", name);
        snprintf(head_get_id, sizeof(head_get_id), "headGet%sItem", name);
        oa_path_spec_t collection = {
                res->path,
                list_id,
                head_list_id,
                "List rows, filtered, ordered and paged.",
                oa_strf("One page of rows of table `%s`, sorted by `order`; page forward with the "
                        "`next` link (or `offset`).\n\n"
                        "**Filters** are parameters named after a column: "
                        "`<column>=[not.]<op>.<value>`. "
                        "`eq`, `neq`, `gt`, `gte`, `lt`, `lte` compare with one value typed like "
                        "the column; `like` (text columns) takes `*` for any run of characters, "
                        "every other character (`%%` and `_` too) matching itself; "
                        "`in.(v1,v2,...)` takes 1 to 100 values, double-quoted when they hold a "
                        "comma (with `\\\"` and `\\\\` escapes); `is.null`, and `is.true` or "
                        "`is.false` on numeric and boolean columns. `not.` negates, so NULL "
                        "never matches a negated comparison. A column may be filtered several "
                        "times: the conditions are ANDed. Unknown parameters and repeated "
                        "reserved ones are refused (400).",
                        res->table),
                collection_parameters(res),
                oa_with_cache_headers(
                        oa_rows_response("A page of rows.", oa_ref("schemas", page),
                                         oa_object_of("anyOf",
                                                      oa_push(oa_push(json_array(),
                                                                      oa_ref("schemas", name)),
                                                              oa_ref("schemas", group)),
                                                      NULL)),
                        res->cache_ms, res->cache_control),
                OA_COLLECTION_ERRORS | (api->auth ? OA_AUTH_ERRORS : 0u),
        };
        oa_path_spec_t item = {
                res->item_path,
                get_id,
                head_get_id,
                "One row by its key.",
                oa_str("The row with this key, or 404. Only `select` may be given as a query "
                       "parameter."),
                key_parameters(res),
                oa_with_cache_headers(oa_rows_response("The row.", oa_ref("schemas", name),
                                                       oa_ref("schemas", name)),
                                      res->cache_ms, res->cache_control),
                OA_ITEM_ERRORS | (api->auth ? OA_AUTH_ERRORS : 0u),
        };
        int r = oa_put(
                schemas, name,
                oa_resource_row_schema(
                        oa_strf("A row of table `%s`, as `%s`%s%s%s answer%s it: every column, "
                                "or with `select` only the selected ones%s.",
                                res->table, res->path, res->item_path ? " and `" : "",
                                res->item_path ? res->item_path : "", res->item_path ? "`" : "",
                                res->item_path ? "" : "s",
                                embeds ? ", and the relations it embeds" : ""),
                        res->columns, res->column_count, embeds));

        r |= oa_put(schemas, group,
                    oa_group_schema(oa_strf("A row of a grouped answer of `%s` (aggregates in "
                                            "`select`): the selected columns, typed as in a row, "
                                            "and the aggregates under their keys.",
                                            res->path),
                                    res->columns, res->column_count));
        r |= oa_put(schemas, page, page_schema(res, name, group));
        r |= oa_add_path(paths, api, &collection);
        r |= oa_add_path(paths, api, &item); /* none without a key */
        return r < 0 ? -ENOMEM : 0;
}
