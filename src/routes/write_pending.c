/* Placeholders for the write handlers until their implementations arrive:
 * each answers 501 so that the route table, access and OpenAPI can be
 * built and tested against them. */
#include "routes/routes.h"

#include "http/http.h"

static void not_implemented(http_request_t *req)
{
        http_fail(req, 501, "not-implemented", "%s is not implemented yet", req->method);
}

void collection_post(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}

void collection_patch(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}

void collection_delete(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}

void item_put(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}

void item_patch(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}

void item_delete(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)match;
        not_implemented(req);
}
