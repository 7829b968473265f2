/* The paths queryd always answers; the configuration file adds the rest (api.h). */
#include "routes.h"

const route_t builtin_routes[] = {
        { .template = "/healthz", .handler = health_live },
        { .template = "/readyz", .handler = health_ready },
        { .template = "/metrics", .handler = metrics_get },
        { .template = "/openapi.json", .handler = openapi_get },
};

const size_t builtin_route_count = sizeof(builtin_routes) / sizeof(builtin_routes[0]);
