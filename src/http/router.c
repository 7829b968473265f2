/* Route matching by path segments. An empty segment never matches a {param},
 * so "/users/" is not "/users/{id}" with an empty id. When several templates
 * match, the one with the most literal segments wins: "/users/count" over
 * "/users/{id}", whatever their order in the table. */
#include "http/router.h"

#include <stdbool.h>
#include <string.h>

const char router_allowed_methods[] = "GET, HEAD";

static size_t segment_length(const char *s)
{
        return strcspn(s, "/");
}

/* Whether template matches path; the literal segments it matched, in *ret_literals. */
static bool match_template(const char *template, const char *path, route_match_t *m,
                           unsigned *ret_literals)
{
        *ret_literals = 0;
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
                } else {
                        (*ret_literals)++;
                }
                template += tlen;
                path += plen;
        }
        return *template == '\0' && *path == '\0';
}

router_result_t router_match(const route_t *routes, size_t count, const char *method,
                             const char *path, route_match_t *m)
{
        route_match_t candidate;
        unsigned literals, best = 0;

        m->route = NULL;
        for (size_t i = 0; i < count; i++) {
                if (!match_template(routes[i].template, path, &candidate, &literals) ||
                    (m->route != NULL && literals <= best))
                        continue;
                *m = candidate;
                m->route = &routes[i];
                best = literals;
        }
        if (m->route == NULL)
                return ROUTE_NOT_FOUND;
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
                return ROUTE_FOUND;
        return ROUTE_METHOD_NOT_ALLOWED;
}
