/* Every path queryd answers. */
#include "routes.h"

const route_t routes[] = {
        { "/users", users_list },
        { "/users/{id}", users_get },
        { "/healthz", health_live },
        { "/readyz", health_ready },
        { "/metrics", metrics_get },
};

const size_t route_count = sizeof(routes) / sizeof(routes[0]);
