/* The configuration file's shape: every key, type and bound is checked before
 * anything touches the database, and each message names the entry, since an
 * operator told only "bad config" cannot find a typo among forty entries.
 * This file reads the file and its top level; api_config_resource.c and
 * api_config_query.c read the entries, with api_config_parse.c's helpers. */
#include "api/api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_config_parse.h"
#include "core/strbuf.h"

enum {
        CONFIG_MAX_BYTES = 16 << 20,
};

/* A route an entry asks for, to find two entries asking for the same one. */
typedef struct claim {
        const char *template;
        const char *section;
        size_t index;
        const char *entry_path;
        bool item;
} claim_t;

/* Whether two templates match the same requests: same literals, captures anywhere alike. */
static bool same_route(const char *a, const char *b)
{
        while (*a == '/' && *b == '/') {
                a++;
                b++;
                size_t alen = strcspn(a, "/");
                size_t blen = strcspn(b, "/");
                bool capture = cfg_is_capture(a, alen);
                if (capture != cfg_is_capture(b, blen) ||
                    (!capture && (alen != blen || memcmp(a, b, alen) != 0)))
                        return false;
                a += alen;
                b += blen;
        }
        return *a == '\0' && *b == '\0';
}

static int check_claim(cfg_ctx_t *c, const claim_t *claims, size_t n)
{
        const claim_t *late = &claims[n];
        char owner[256];

        for (size_t i = 0; i < n; i++) {
                const claim_t *early = &claims[i];
                if (!same_route(early->template, late->template))
                        continue;
                snprintf(owner, sizeof(owner), "%s[%zu] \"%s\"%s%s%s", early->section,
                         early->index, early->entry_path, early->item ? " (item path \"" : "",
                         early->item ? early->template : "", early->item ? "\")" : "");
                c->section = late->section;
                c->index = late->index;
                c->path = late->entry_path;
                if (late->item)
                        return cfg_fail(c, "item path \"%s\" is already used by %s", late->template,
                                        owner);
                return cfg_fail(c, "path is already used by %s", owner);
        }
        return 0;
}

/* Two entries for one path: the router would serve only the first, silently. */
static int check_routes(cfg_ctx_t *c, const api_t *api)
{
        size_t n = 0;
        claim_t *claims = calloc(2 * api->resource_count + api->query_count, sizeof(*claims));
        int r = 0;

        if (claims == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < api->resource_count; i++) {
                const api_resource_t *res = &api->resources[i];
                claims[n++] = (claim_t){ res->path, "resources", i, res->path, false };
                claims[n++] = (claim_t){ res->item_path, "resources", i, res->path, true };
        }
        for (size_t i = 0; i < api->query_count; i++) {
                const api_query_t *q = &api->queries[i];
                claims[n++] = (claim_t){ q->path, "queries", i, q->path, false };
        }
        for (size_t i = 1; r == 0 && i < n; i++)
                r = check_claim(c, claims, i);
        free(claims);
        return r;
}

/* How the entries of one top-level array are read. */
typedef struct section {
        const char *name;       /* "resources" or "queries", for messages */
        size_t item_size;       /* of one element of the api_t's array */
        int (*parse_entry)(cfg_ctx_t *c, json_t *entry, void *item);
} section_t;

static int resource_entry(cfg_ctx_t *c, json_t *entry, void *item)
{
        return cfg_parse_resource(c, entry, item);
}

static int query_entry(cfg_ctx_t *c, json_t *entry, void *item)
{
        return cfg_parse_query(c, entry, item);
}

static const section_t resources_section = { "resources", sizeof(api_resource_t),
                                             resource_entry };
static const section_t queries_section = { "queries", sizeof(api_query_t), query_entry };

/* Reads the entries into a new zeroed array, given to *ret_items and
 * *ret_count before any entry is read so that api_free() releases the
 * entries read when one fails. */
static int parse_section(cfg_ctx_t *c, const section_t *section, json_t *entries,
                         void **ret_items, size_t *ret_count)
{
        size_t count = json_array_size(entries);
        char *items;

        if (count == 0)
                return 0;
        items = calloc(count, section->item_size);
        if (items == NULL)
                return cfg_nomem(c);
        *ret_items = items;
        *ret_count = count;
        c->section = section->name;
        for (size_t i = 0; i < count; i++) {
                c->index = i;
                c->path = NULL;
                int r = section->parse_entry(c, json_array_get(entries, i),
                                             items + i * section->item_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The resources, then the queries; what was read stays in api on failure. */
static int parse_sections(cfg_ctx_t *c, api_t *api, json_t *resources, json_t *queries)
{
        void *items = NULL;
        int r = parse_section(c, &resources_section, resources, &items, &api->resource_count);

        api->resources = items;
        if (r < 0)
                return r;
        items = NULL;
        r = parse_section(c, &queries_section, queries, &items, &api->query_count);
        api->queries = items;
        return r;
}

/* Rules without identities would be rules nobody could meet. */
static int check_rules_need_auth(cfg_ctx_t *c, const api_t *api)
{
        const char *what = NULL;

        for (size_t i = 0; what == NULL && i < api->resource_count; i++) {
                if (api->resources[i].access != NULL)
                        what = api->resources[i].path;
        }
        for (size_t i = 0; what == NULL && i < api->query_count; i++) {
                const api_query_t *q = &api->queries[i];
                if (q->access != NULL)
                        what = q->path;
                for (size_t j = 0; what == NULL && j < q->param_count; j++)
                        if (q->params[j].from_claim != NULL)
                                what = q->path;
        }
        if (what == NULL)
                return 0;
        c->section = NULL;
        return cfg_fail(c, "\"%s\" has \"roles\" or parameters \"from\" the claims, which "
                        "need an \"auth\" section", what);
}

static int parse_root(cfg_ctx_t *c, api_t *api, json_t *root)
{
        static const char *const keys[] = { "resources", "queries", "auth", "schema", NULL };
        json_t *auth = json_object_get(root, "auth");
        json_t *schema = json_object_get(root, "schema");
        json_t *resources = json_object_get(root, "resources");
        json_t *queries = json_object_get(root, "queries");
        int r;

        if (!json_is_object(root))
                return cfg_fail(c, "the configuration must be a JSON object");
        if ((r = cfg_check_keys(c, root, keys)) < 0)
                return r;
        if (resources != NULL && !json_is_array(resources))
                return cfg_fail(c, "\"resources\" must be an array");
        if (queries != NULL && !json_is_array(queries))
                return cfg_fail(c, "\"queries\" must be an array");
        if (schema != NULL && !json_is_boolean(schema))
                return cfg_fail(c, "\"schema\" must be true or false");
        /* "schema": true serves the database's tables beside the entries (api_introspect). */
        api->schema = json_is_true(schema);
        if (json_array_size(resources) + json_array_size(queries) == 0 && !api->schema)
                return cfg_fail(c, "no entries: \"resources\" and \"queries\" are absent or empty");
        r = parse_sections(c, api, resources, queries);
        if (r == 0)
                r = check_routes(c, api);
        if (r == 0 && auth != NULL)
                r = (api->auth = calloc(1, sizeof(*api->auth))) ? cfg_parse_auth(c, auth, api->auth)
                                                               : cfg_nomem(c);
        if (r == 0 && auth == NULL)
                r = check_rules_need_auth(c, api);
        return r;
}

/* jansson's message quotes the text near the error as it is, newlines and
 * all: those become \xNN so the message stays one line. */
static void json_message(const cfg_ctx_t *c, const json_error_t *jerr)
{
        char text[4 * sizeof(jerr->text)];
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)jerr->text; *p != '\0'; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        n += (size_t)snprintf(text + n, sizeof(text) - n, "\\x%02x", *p);
                else
                        text[n++] = (char)*p;
        }
        text[n] = '\0';
        if (c->err_size > 0 && jerr->line >= 1)
                snprintf(c->err, c->err_size, "%s: line %d column %d: %s", c->source, jerr->line,
                         jerr->column, text);
        else if (c->err_size > 0)
                snprintf(c->err, c->err_size, "%s: %s", c->source, text);
}

api_t *api_config_parse(const char *text, size_t len, const char *source, char *err,
                        size_t err_size)
{
        cfg_ctx_t c = { .source = source, .err = err, .err_size = err_size };
        json_error_t jerr;
        /* Duplicate keys are refused: which of two "path"s would win is no one's guess. */
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);

        if (root == NULL) {
                json_message(&c, &jerr);
                return NULL;
        }
        api_t *api = calloc(1, sizeof(*api));
        int r = api != NULL && (api->source = strdup(source)) != NULL ? 0 : cfg_nomem(&c);
        if (r == 0) {
                atomic_init(&api->refs, 1);
                r = parse_root(&c, api, root);
        }
        json_decref(root);
        if (r < 0) {
                api_free(api);
                return NULL;
        }
        return api;
}

/* The whole file in memory, at most CONFIG_MAX_BYTES of it. */
static int read_file(const char *path, strbuf_t *text)
{
        enum { CHUNK = 65536 };
        FILE *f = fopen(path, "rb");
        int r = 0;

        if (f == NULL)
                return -errno;
        for (;;) {
                if (!strbuf_reserve(text, CHUNK)) {
                        r = -ENOMEM;
                        break;
                }
                errno = 0;
                size_t n = fread(text->data + text->len, 1, CHUNK, f);
                text->len += n;
                if (n < CHUNK) {
                        if (ferror(f))
                                r = errno != 0 ? -errno : -EIO;
                        break;
                }
                if (text->len > CONFIG_MAX_BYTES) {
                        r = -EFBIG;
                        break;
                }
        }
        fclose(f);
        return r;
}

api_t *api_config_load(const char *path, char *err, size_t err_size)
{
        strbuf_t text = { 0 };
        int r = read_file(path, &text);
        api_t *api = NULL;

        if (r == -EFBIG && err_size > 0)
                snprintf(err, err_size, "%s: larger than %d MiB", path, CONFIG_MAX_BYTES >> 20);
        else if (r < 0 && err_size > 0)
                snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-r));
        else if (r == 0)
                api = api_config_parse(text.data ? text.data : "", text.len, path, err, err_size);
        strbuf_done(&text);
        return api;
}
