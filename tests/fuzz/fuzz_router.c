/*
 * libFuzzer harness for the route matcher: the real route table, and a local
 * one that reaches ROUTER_MAX_PARAMS, against a method and a path taken from
 * the input. Each result is checked against the template it names and a
 * segment-by-segment reference matcher; a broken invariant aborts.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/query_args.h"
#include "http/router.h"

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS",
                                       "PATCH", "get", "GETS", "" };
enum { METHOD_COUNT = sizeof(methods) / sizeof(methods[0]) };

/* Never called: the matcher only compares the templates. */
static void no_handler(env_t *env, http_request_t *req, const route_match_t *match)
{
        (void)env;
        (void)req;
        (void)match;
        abort();
}

/* Shapes the real table lacks: the root, four captures, and "{}", which is
 * too short to be a capture and so is a literal segment. */
/* The table queryd builds for the demo configuration (docker/queryd.json). */
static const route_t demo_routes[] = {
        { .template = "/healthz", .methods = { { "GET", no_handler } } },
        { .template = "/readyz", .methods = { { "GET", no_handler } } },
        { .template = "/metrics", .methods = { { "GET", no_handler } } },
        { .template = "/openapi.json", .methods = { { "GET", no_handler } } },
        { .template = "/users", .methods = { { "GET", no_handler } } },
        { .template = "/users/{id}", .methods = { { "GET", no_handler } } },
        { .template = "/users/{id}/peers", .methods = { { "GET", no_handler } } },
};

static const route_t local_routes[] = {
        { .template = "/", .methods = { { "GET", no_handler } } },
        { .template = "/{a}/{b}/{c}/{d}", .methods = { { "GET", no_handler } } },
        { .template = "/static/{name}/raw", .methods = { { "GET", no_handler } } },
        { .template = "/{}/literal", .methods = { { "GET", no_handler } } },
};

static bool is_param(const char *segment, size_t len)
{
        return len > 2 && segment[0] == '{' && segment[len - 1] == '}';
}

/* Reference decoding of n bytes: "%XX" (two hex digits) is one byte, "%00"
 * the two bytes C0 80, anything else itself. */
static size_t reference_decode(const char *in, size_t n, char *out)
{
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                if (in[i] == '%' && n - i >= 3 && isxdigit((unsigned char)in[i + 1]) &&
                    isxdigit((unsigned char)in[i + 2])) {
                        char hex[3] = { in[i + 1], in[i + 2], '\0' };
                        long byte = strtol(hex, NULL, 16);
                        if (byte == 0) {
                                out[len++] = (char)0xC0;
                                out[len++] = (char)0x80;
                        } else {
                                out[len++] = (char)byte;
                        }
                        i += 2;
                } else {
                        out[len++] = in[i];
                }
        }
        out[len] = '\0';
        return len;
}

/* Whether the plen bytes of path decode to the tlen bytes of template. */
static bool reference_equal(const char *template, size_t tlen, const char *path, size_t plen)
{
        char *decoded = malloc(plen + 1);

        if (decoded == NULL)
                abort();
        size_t len = reference_decode(path, plen, decoded);
        bool equal = len == tlen && memcmp(decoded, template, tlen) == 0;
        free(decoded);
        return equal;
}

/* Reference matcher: both start with '/', have as many '/'-separated
 * segments (split before decoding), literal segments are what the path's
 * segments decode to, and captures are not empty. */
static bool reference_match(const char *template, const char *path)
{
        if (template[0] != '/' || path[0] != '/')
                return false;
        for (;;) {
                template++;
                path++;
                size_t tlen = strcspn(template, "/");
                size_t plen = strcspn(path, "/");
                if (is_param(template, tlen) ? plen == 0
                                             : !reference_equal(template, tlen, path, plen))
                        return false;
                template += tlen;
                path += plen;
                if (*template == '\0' || *path == '\0')
                        return *template == '\0' && *path == '\0';
        }
}

static unsigned count_params(const char *template)
{
        unsigned n = 0;

        while (*template == '/') {
                template++;
                size_t len = strcspn(template, "/");
                n += is_param(template, len);
                template += len;
        }
        return n;
}

/* Rebuilds the path from the matched template with each capture put back. */
static char *rebuild_path(const char *template, const route_match_t *m, size_t path_len)
{
        char *out = malloc(strlen(template) + path_len + 1);
        size_t n = 0;
        unsigned k = 0;

        if (out == NULL)
                abort();
        while (*template != '\0') {
                size_t len = strcspn(template + 1, "/") + 1; /* with its leading '/' */
                if (template[0] == '/' && is_param(template + 1, len - 1) && k < m->param_count) {
                        out[n++] = '/';
                        memcpy(out + n, m->params[k], m->param_lengths[k]);
                        n += m->param_lengths[k++];
                } else {
                        memcpy(out + n, template, len);
                        n += len;
                }
                template += len;
        }
        out[n] = '\0';
        return out;
}

/* Segments of a template that are not a {param} (as the router reads them). */
static unsigned count_literals(const char *template)
{
        unsigned n = 0;

        while (*template == '/') {
                template++;
                size_t len = strcspn(template, "/");
                if (!(len > 2 && template[0] == '{' && template[len - 1] == '}'))
                        n++;
                template += len;
        }
        return n;
}

static void check_match(const route_t *table, size_t count, const char *method, const char *path)
{
        size_t path_len = strlen(path);
        bool read_method = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
        route_match_t m;
        const route_t *first = NULL; /* the fitting template with most literal segments */
        unsigned best = 0;

        memset(&m, 0x5a, sizeof(m));
        for (size_t i = 0; i < count; i++) {
                unsigned literals = count_literals(table[i].template);
                if (reference_match(table[i].template, path) && (first == NULL || literals > best)) {
                        first = &table[i];
                        best = literals;
                }
        }

        router_result_t r = router_match(table, count, method, path, &m);
        if (first == NULL) {
                CHECK(r == ROUTE_NOT_FOUND, "\"%s\" matched, yet no template fits it", path);
                return;
        }
        CHECK(r != ROUTE_NOT_FOUND, "\"%s\" not found, yet \"%s\" fits it", path, first->template);
        CHECK(r == (read_method ? ROUTE_FOUND : ROUTE_METHOD_NOT_ALLOWED),
              "%s \"%s\" gave result %d", method, path, (int)r);
        CHECK(m.route == first, "\"%s\" matched the wrong route", path);

        const char *template = m.route->template;
        CHECK(m.param_count == count_params(template) && m.param_count <= ROUTER_MAX_PARAMS,
              "\"%s\" against \"%s\": %u captures", path, template, m.param_count);
        const char *after_previous = path;
        for (unsigned k = 0; k < m.param_count; k++) {
                const char *p = m.params[k];
                size_t len = m.param_lengths[k];
                CHECK(p > path && p <= path + path_len && len <= path_len - (size_t)(p - path),
                      "capture %u of \"%s\" points outside the path", k, path);
                CHECK(p >= after_previous, "capture %u of \"%s\" overlaps the one before", k, path);
                CHECK(len > 0 && len == strcspn(p, "/") && p[-1] == '/',
                      "capture %u of \"%s\" is not one whole segment", k, path);
                after_previous = p + len;
        }
        /* Literal segments match decoded: compare the two decoded. */
        char *rebuilt = rebuild_path(template, &m, path_len);
        char *decoded_rebuilt = malloc(strlen(rebuilt) + 1);
        char *decoded_path = malloc(path_len + 1);
        if (decoded_rebuilt == NULL || decoded_path == NULL)
                abort();
        reference_decode(rebuilt, strlen(rebuilt), decoded_rebuilt);
        reference_decode(path, path_len, decoded_path);
        CHECK(strcmp(decoded_rebuilt, decoded_path) == 0, "\"%s\" rebuilt from \"%s\" is \"%s\"",
              path, template, rebuilt);
        free(decoded_path);
        free(decoded_rebuilt);
        free(rebuilt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        const char *method = methods[data[0] % METHOD_COUNT];
        char *path = malloc(size);
        if (path == NULL)
                abort();
        memcpy(path, data + 1, size - 1);
        path[size - 1] = '\0';

        check_match(demo_routes, sizeof(demo_routes) / sizeof(demo_routes[0]), method, path);
        check_match(local_routes, sizeof(local_routes) / sizeof(local_routes[0]), method, path);
        /* The server matches the path as sent; a decoded one is a path too. */
        query_args_unescape(path);
        check_match(demo_routes, sizeof(demo_routes) / sizeof(demo_routes[0]), method, path);
        check_match(local_routes, sizeof(local_routes) / sizeof(local_routes[0]), method, path);
        free(path);
        return 0;
}
