/* Route matching by path segments. An empty segment never matches a {param},
 * so "/users/" is not "/users/{id}" with an empty id. When several templates
 * match, the one with the most literal segments wins: "/users/count" over
 * "/users/{id}", whatever their order in the table. The path is split at its
 * slashes before anything is decoded, so "%2F" stays inside its segment. */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "http/query_args.h"

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
                } else if (!query_args_decoded_equals(path, plen, template, tlen)) {
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
        m->target = NULL;
        for (size_t i = 0; i < count; i++) {
                if (!match_template(routes[i].template, path, &candidate, &literals) ||
                    (m->route != NULL && literals <= best))
                        continue;
                *m = candidate;
                m->route = &routes[i];
                m->target = routes[i].target;
                best = literals;
        }
        if (m->route == NULL)
                return ROUTE_NOT_FOUND;
        m->method = router_method(m->route, method);
        return m->method != NULL ? ROUTE_FOUND : ROUTE_METHOD_NOT_ALLOWED;
}

const route_method_t *router_method(const route_t *route, const char *method)
{
        const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;

        for (size_t i = 0; i < ROUTER_MAX_METHODS && route->methods[i].name != NULL; i++)
                if (strcmp(route->methods[i].name, wanted) == 0)
                        return &route->methods[i];
        return NULL;
}

void router_allow(const route_t *route, char *out, size_t size)
{
        size_t n = 0;

        out[0] = '\0';
        for (size_t i = 0; i < ROUTER_MAX_METHODS && route->methods[i].name != NULL; i++) {
                const char *name = route->methods[i].name;
                bool get = strcmp(name, "GET") == 0;
                int w = snprintf(out + n, size - n, "%s%s%s", n ? ", " : "", name,
                                 get ? ", HEAD" : "");
                if (w < 0 || (size_t)w >= size - n) {
                        out[n] = '\0'; /* whole names only */
                        return;
                }
                n += (size_t)w;
        }
}
