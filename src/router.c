/* Route matching by path segments. An empty segment never matches a {param},
 * so "/users/" is not "/users/{id}" with an empty id. */
#include "router.h"

#include <stdbool.h>
#include <string.h>

const char router_allowed_methods[] = "GET, HEAD";

static size_t segment_length(const char *s)
{
        return strcspn(s, "/");
}

static bool match_template(const char *template, const char *path, route_match_t *m)
{
        m->param_count = 0;
        while (*template == '/' && *path == '/') {
                template++;
                path++;
                size_t tlen = segment_length(template);
                size_t plen = segment_length(path);
                if (tlen > 2 && template[0] == '{' && template[tlen - 1] == '}') {
                        if (plen == 0 || m->param_count == ROUTER_MAX_PARAMS)
                                return false;
                        m->params[m->param_count] = path;
                        m->param_lengths[m->param_count++] = plen;
                } else if (tlen != plen || memcmp(template, path, tlen) != 0) {
                        return false;
                }
                template += tlen;
                path += plen;
        }
        return *template == '\0' && *path == '\0';
}

router_result_t router_match(const route_t *routes, size_t count, const char *method,
                             const char *path, route_match_t *m)
{
        for (size_t i = 0; i < count; i++) {
                if (!match_template(routes[i].template, path, m))
                        continue;
                m->route = &routes[i];
                if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
                        return ROUTE_FOUND;
                return ROUTE_METHOD_NOT_ALLOWED;
        }
        m->route = NULL;
        return ROUTE_NOT_FOUND;
}
