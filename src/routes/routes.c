/* The route table: the paths queryd always answers, and the methods each
 * kind of configuration entry answers (api.h builds their routes). */
#include "routes/routes.h"

#include <errno.h>

#include "http/http.h"

/* The admin routes first: without them the rest is the public table's part. */
static const route_t builtin_routes[] = {
        { .template = "/healthz", .methods = { { "GET", health_live } } },
        { .template = "/readyz", .methods = { { "GET", health_ready } } },
        { .template = "/metrics", .methods = { { "GET", metrics_get } } },
        { .template = "/openapi.json", .methods = { { "GET", openapi_get } } },
        { .template = "/", .methods = { { "GET", explorer_get } } },
        { .template = "/explorer.js", .methods = { { "GET", explorer_file } } },
        { .template = "/explorer.css", .methods = { { "GET", explorer_file } } },
        { .template = "/favicon.ico", .methods = { { "GET", explorer_file } } },
};

const route_t *const routes_admin = builtin_routes;

/* Every method an entry's kind may answer; api_build_routes keeps those the
 * entry declares. Writes read their own bodies. */
#define ENTRY_METHODS                                                                  \
        .collection = { { "GET", collection_get },                                     \
                        { "POST", collection_post, true },                             \
                        { "PATCH", collection_patch, true },                           \
                        { "DELETE", collection_delete } },                             \
        .item = { { "GET", item_get },                                                 \
                  { "PUT", item_put, true },                                           \
                  { "PATCH", item_patch, true },                                       \
                  { "DELETE", item_delete } },                                         \
        .query = { { "GET", named_query_get },                                         \
                   { "POST", named_query_write, true },                                \
                   { "PUT", named_query_write, true },                                 \
                   { "PATCH", named_query_write, true },                               \
                   { "DELETE", named_query_write, true } }

const api_handlers_t routes_handlers = {
        .builtins = builtin_routes,
        .builtin_count = sizeof(builtin_routes) / sizeof(builtin_routes[0]),
        ENTRY_METHODS,
};

const api_handlers_t routes_public_handlers = {
        .builtins = builtin_routes + ROUTES_ADMIN_COUNT,
        .builtin_count = sizeof(builtin_routes) / sizeof(builtin_routes[0]) - ROUTES_ADMIN_COUNT,
        ENTRY_METHODS,
};

bool routes_row_format(http_request_t *req, row_format_t *ret_format)
{
        req->vary_accept = true;
        int r = row_format_negotiate(http_header(req, "Accept"), ret_format);

        if (r == 0)
                return true;
        if (r == -EINVAL) {
                http_fail(req, 400, "invalid-parameter",
                          "the Accept header is malformed: a weight is q= followed by 0 to 1 "
                          "with at most three decimals");
                return false;
        }
        http_fail(req, 406, "not-acceptable",
                  "rows are written as application/json, application/x-ndjson or text/csv; "
                  "the Accept header allows none of them");
        return false;
}
