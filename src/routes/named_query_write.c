/* A named query declared with a write method. */
#include "routes/routes.h"

#include "http/http.h"

void named_query_write(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        http_fail(req, 501, "not-implemented", "%s is not implemented yet", req->method);
}
