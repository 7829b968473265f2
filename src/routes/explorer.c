/*
 * GET /: the explorer page for a browser, a JSON index of the entries for
 * any other client; GET /explorer.js, /explorer.css and /favicon.ico: the
 * page's files, compiled in from web/ (web_assets.h). The page loads
 * nothing else, and its answers say so to the browser (CSP).
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "request/env.h"
#include "routes/routes.h"
#include "routes/web_assets.h"

/* Only the page's own files and its own API: no inline script or style. */
static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

/* Each route's file and its type. */
static const struct {
        const char *path, *file, *content_type;
} FILES[] = {
        { "/", "explorer.html", "text/html; charset=utf-8" },
        { "/explorer.js", "explorer.js", "text/javascript; charset=utf-8" },
        { "/explorer.css", "explorer.css", "text/css; charset=utf-8" },
        { "/favicon.ico", "favicon.svg", "image/svg+xml" },
};

bool explorer_wants_html(const char *accept)
{
        return row_format_quality(accept, "text", "html") >
               row_format_quality(accept, "application", "json");
}

static json_t *entry(const char *path, const char *kind, const char *item)
{
        json_t *e = json_pack("{s:s, s:s}", "path", path, "kind", kind);

        if (e != NULL && item != NULL && json_object_set_new(e, "item", json_string(item)) < 0) {
                json_decref(e);
                return NULL;
        }
        return e;
}

json_t *explorer_index(const api_t *api, const char *role)
{
        json_t *entries = json_array();

        for (size_t i = 0; entries != NULL && i < api->resource_count; i++) {
                const api_resource_t *res = &api->resources[i];
                if (api_role_may_use(api, res->access, res->access_count, role) &&
                    json_array_append_new(entries, entry(res->path, "resource", res->item_path)) < 0)
                        json_decref(entries), entries = NULL;
        }
        for (size_t i = 0; entries != NULL && i < api->query_count; i++) {
                const api_query_t *q = &api->queries[i];
                if (api_role_may_use(api, q->access, q->access_count, role) &&
                    json_array_append_new(entries, entry(q->path, "query", NULL)) < 0)
                        json_decref(entries), entries = NULL;
        }
        return entries ? json_pack("{s:o, s:s}", "entries", entries, "openapi", "/openapi.json")
                       : NULL;
}

static void add_page_headers(http_request_t *req)
{
        http_add_header(req, "Content-Security-Policy", CSP);
        http_add_header(req, "X-Content-Type-Options", "nosniff");
        http_add_header(req, "Cache-Control", "no-cache");
}

static const web_asset_t *asset(const char *name)
{
        for (size_t i = 0; i < web_asset_count; i++)
                if (strcmp(web_assets[i].name, name) == 0)
                        return &web_assets[i];
        return NULL;
}

static void respond_file(http_request_t *req, const char *path)
{
        for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
                if (strcmp(FILES[i].path, path) != 0)
                        continue;
                const web_asset_t *a = asset(FILES[i].file);
                char *body = a ? malloc(a->len + 1) : NULL;
                if (body == NULL)
                        break;
                memcpy(body, a->data, a->len);
                http_respond(req, 200, FILES[i].content_type, body, a->len);
                return;
        }
        http_fail(req, 500, "internal", "the page's file for %s is missing", path);
}

void explorer_get(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)match;
        add_page_headers(req);
        req->vary_accept = true;
        if (explorer_wants_html(http_header(req, "Accept"))) {
                respond_file(req, "/");
                return;
        }
        /* Without "auth" there is no identity, and every entry is listed. */
        json_t *index = explorer_index(env->api, env->identity ? env->identity->role : NULL);
        if (index == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        http_respond_json(req, 200, index);
}

void explorer_file(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        add_page_headers(req);
        respond_file(req, match->route->template);
}
