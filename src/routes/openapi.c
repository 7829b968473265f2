/* GET /openapi.json: the document generated when the configuration loaded. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "request/env.h"
#include "routes/routes.h"

void openapi_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        char *body = malloc(env->api->openapi_json_len + 1);

        (void)match;
        if (body == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        memcpy(body, env->api->openapi_json, env->api->openapi_json_len);
        http_respond(req, 200, "application/json", body, env->api->openapi_json_len);
}
