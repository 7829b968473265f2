/* GET /openapi.json: the document generated when the configuration loaded,
 * as the caller's role may see it. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "request/env.h"
#include "routes/routes.h"

void openapi_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        const char *json = env->api->openapi_json;
        size_t len = env->api->openapi_json_len;

        (void)match;
        if (env->identity != NULL) { /* each role sees the entries and columns it may use */
                const api_role_document_t *d = api_role_document(env->api, env->identity->role);
                json = d->json;
                len = d->len;
        }
        char *body = malloc(len + 1);
        if (body == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        memcpy(body, json, len);
        http_respond(req, 200, "application/json", body, len);
}
