/* The paths queryd always answers; the configuration file adds the rest (api.h). */
#include "routes/routes.h"

#include "http/http.h"

const route_t builtin_routes[] = {
        { .template = "/healthz", .handler = health_live },
        { .template = "/readyz", .handler = health_ready },
        { .template = "/metrics", .handler = metrics_get },
        { .template = "/openapi.json", .handler = openapi_get },
};

const size_t builtin_route_count = sizeof(builtin_routes) / sizeof(builtin_routes[0]);

bool routes_row_format(http_request_t *req, row_format_t *ret_format)
{
        req->vary_accept = true;
        if (row_format_negotiate(http_header(req, "Accept"), ret_format) == 0)
                return true;
        http_fail(req, 406, "not-acceptable",
                  "rows are written as application/json, application/x-ndjson or text/csv; "
                  "the Accept header allows none of them");
        return false;
}
