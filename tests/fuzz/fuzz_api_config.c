/*
 * libFuzzer harness for the endpoint configuration: api_config_parse on the
 * whole input as a file's text, and named_sql_rewrite on it as one SQL
 * statement. A configuration that loads must be internally consistent
 * (indexes in range, every parameter bound, no two entries on one route);
 * one that fails must say so in one terminated line naming the file, the
 * same whatever the size of the error buffer. Everything is freed, so
 * LeakSanitizer checks the half-built api's cleanup on every failure path.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "fuzz_check.h"
#include "sql/named_sql.h"

#define SOURCE "fuzz.json"

enum { ERR_SIZE = 512 };

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
}

static bool is_name(const char *name)
{
        if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
                return false;
        for (const char *p = name; *p != '\0'; p++)
                if (!is_name_char(*p))
                        return false;
        return true;
}

/* A placeholder's name: names joined by dots (":claims.org.id"), of any length. */
static bool is_placeholder_name(const char *name)
{
        bool part_start = true;

        for (const char *p = name;; p++) {
                if (part_start && (!is_name_char(*p) || (*p >= '0' && *p <= '9')))
                        return false;
                part_start = false;
                if (*p == '\0')
                        return true;
                if (*p == '.')
                        part_start = true;
                else if (!is_name_char(*p))
                        return false;
        }
}

/* Whether a placeholder's name could go on at p: a name character, or a dot and a name. */
static bool name_goes_on(const char *p)
{
        return is_name_char(p[0]) ||
               (p[0] == '.' && is_name_char(p[1]) && !(p[1] >= '0' && p[1] <= '9'));
}

/* ---- named_sql ---- */

/*
 * bound must be sql with each placeholder, in order, replaced by "?", and
 * cut at most at a final ';'. The walk is unambiguous: where the two differ,
 * bound has a "?" and sql a ':' (a '?' in sql is either text copied as is
 * or refused).
 */
static void check_bound(const char *sql, const char *bound, char *const *names, size_t count)
{
        size_t i = 0, j = 0, k = 0;

        while (bound[j] != '\0') {
                if (sql[i] == bound[j]) {
                        i++;
                        j++;
                        continue;
                }
                CHECK(bound[j] == '?' && sql[i] == ':' && k < count,
                      "\"%s\": bound \"%s\" differs at %zu", sql, bound, j);
                size_t len = strlen(names[k]);
                CHECK(strncmp(sql + i + 1, names[k], len) == 0 &&
                              !name_goes_on(sql + i + 1 + len),
                      "\"%s\": placeholder %zu is not \"%s\"", sql, k, names[k]);
                i += 1 + len;
                j++;
                k++;
        }
        CHECK(k == count, "\"%s\": %zu names, %zu placeholders", sql, count, k);
        CHECK(sql[i] == '\0' || sql[i] == ';', "\"%s\": bound \"%s\" cut at %zu", sql, bound, i);
}

static void check_named_sql(const char *sql)
{
        named_sql_t n;
        char err[ERR_SIZE];

        memset(err, '\x7f', sizeof(err));
        int r = named_sql_rewrite(sql, &n, err, sizeof(err));
        if (r != 0) {
                CHECK(r < 0, "named_sql_rewrite returned %d", r);
                CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
                      "no message for \"%s\"", sql);
                CHECK(n.bound_sql == NULL && n.names == NULL && n.name_count == 0,
                      "\"%s\": failed but filled the result", sql);
                return;
        }
        for (size_t i = 0; i < n.name_count; i++)
                CHECK(is_placeholder_name(n.names[i]), "\"%s\": name \"%s\"", sql, n.names[i]);
        check_bound(sql, n.bound_sql, n.names, n.name_count);
        named_sql_done(&n);
        CHECK(n.bound_sql == NULL && n.names == NULL, "named_sql_done left something");
}

/* ---- api_config_parse ---- */

/* The router's view: two templates match the same requests. */
static bool same_route(const char *a, const char *b)
{
        while (*a == '/' && *b == '/') {
                size_t alen = strcspn(++a, "/");
                size_t blen = strcspn(++b, "/");
                bool acap = alen > 2 && a[0] == '{' && a[alen - 1] == '}';
                bool bcap = blen > 2 && b[0] == '{' && b[blen - 1] == '}';
                if (acap != bcap || (!acap && (alen != blen || memcmp(a, b, alen) != 0)))
                        return false;
                a += alen;
                b += blen;
        }
        return *a == '\0' && *b == '\0';
}

static void check_resource(const api_resource_t *r)
{
        CHECK(r->path[0] == '/' && strchr(r->path, '{') == NULL, "path \"%s\"", r->path);
        CHECK(r->column_count >= 1 && r->key_count >= 1 && r->key_count <= 4,
              "\"%s\": %zu columns, %zu key columns", r->path, r->column_count, r->key_count);
        size_t len = strlen(r->table);
        CHECK(len >= 1 && r->quoted_table[0] == '`' &&
                      r->quoted_table[strlen(r->quoted_table) - 1] == '`',
              "\"%s\": table %s", r->path, r->quoted_table);
        CHECK(r->default_limit >= 1 && r->default_limit <= r->max_limit &&
                      r->max_limit <= 1000000 && r->timeout_ms <= 3600000,
              "\"%s\": limits %u/%u", r->path, r->default_limit, r->max_limit);
        for (size_t i = 0; i < r->column_count; i++) {
                CHECK(r->columns[i].name != NULL && r->columns[i].quoted != NULL,
                      "\"%s\": column %zu empty", r->path, i);
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(r->columns[i].name, r->columns[j].name) != 0,
                              "\"%s\": column \"%s\" twice", r->path, r->columns[i].name);
        }
        /* item_path is path + "/{k}" for each key column, in key order. */
        const char *p = r->item_path;
        CHECK(strncmp(p, r->path, strlen(r->path)) == 0, "item path \"%s\"", p);
        p += strlen(r->path);
        for (size_t k = 0; k < r->key_count; k++) {
                CHECK(r->key[k] < r->column_count, "\"%s\": key %zu out of range", r->path, k);
                const char *name = r->columns[r->key[k]].name;
                CHECK(strncmp(p, "/{", 2) == 0 && strncmp(p + 2, name, strlen(name)) == 0 &&
                              p[2 + strlen(name)] == '}',
                      "item path \"%s\" at key \"%s\"", r->item_path, name);
                p += 3 + strlen(name);
        }
        CHECK(*p == '\0', "item path \"%s\" too long", r->item_path);
}

static void check_query(const api_query_t *q)
{
        CHECK(q->path[0] == '/' && q->max_rows >= 1 && q->max_rows <= 1000000 &&
                      q->timeout_ms <= 3600000,
              "query \"%s\"", q->path);
        CHECK(q->bound_sql != NULL && q->sql != NULL, "query \"%s\": no sql", q->path);
        for (size_t i = 0; i < q->bind_count; i++)
                CHECK(q->bind_params[i] < q->param_count, "query \"%s\": bind %zu", q->path, i);
        for (size_t i = 0; i < q->param_count; i++) {
                const api_param_t *p = &q->params[i];
                char segment[256];
                snprintf(segment, sizeof(segment), "/{%s}", p->name);
                bool in_path = strstr(q->path, segment) != NULL;
                CHECK(is_name(p->name) && p->in_path == in_path,
                      "query \"%s\": parameter \"%s\"", q->path, p->name);
                CHECK(!p->in_path || p->default_text == NULL,
                      "query \"%s\": path parameter \"%s\" with a default", q->path, p->name);
                CHECK(p->rule.type != API_TYPE_ENUM || p->rule.value_count > 0,
                      "query \"%s\": enum \"%s\" without values", q->path, p->name);
                size_t uses = 0;
                for (size_t j = 0; j < q->bind_count; j++)
                        uses += q->bind_params[j] == i;
                CHECK(uses > 0, "query \"%s\": parameter \"%s\" unused", q->path, p->name);
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(p->name, q->params[j].name) != 0,
                              "query \"%s\": parameter \"%s\" twice", q->path, p->name);
        }
}

static void check_api(const api_t *api)
{
        const char *templates[512];
        size_t n = 0;

        /* "schema": true serves the database's tables: the file needs no entry then. */
        CHECK(api->schema || api->resource_count + api->query_count >= 1,
              "an api without entries");
        CHECK(strcmp(api->source, SOURCE) == 0 && atomic_load(&api->refs) == 1,
              "source or refs");
        for (size_t i = 0; i < api->resource_count; i++) {
                check_resource(&api->resources[i]);
                if (n + 2 <= sizeof(templates) / sizeof(templates[0])) {
                        templates[n++] = api->resources[i].path;
                        templates[n++] = api->resources[i].item_path;
                }
        }
        for (size_t i = 0; i < api->query_count; i++) {
                check_query(&api->queries[i]);
                if (n < sizeof(templates) / sizeof(templates[0]))
                        templates[n++] = api->queries[i].path;
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < i; j++)
                        CHECK(!same_route(templates[i], templates[j]),
                              "\"%s\" and \"%s\" both loaded", templates[i], templates[j]);
}

static void check_config(const uint8_t *data, size_t size, size_t small_err_size)
{
        char err[ERR_SIZE];
        char small[ERR_SIZE];

        memset(err, '\x7f', sizeof(err));
        api_t *api = api_config_parse((const char *)data, size, SOURCE, err, sizeof(err));
        if (api != NULL) {
                check_api(api);
                api_ref(api);
                api_unref(api);
                api_unref(api);
        } else {
                CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error not terminated");
                CHECK(strncmp(err, SOURCE ": ", strlen(SOURCE) + 2) == 0 &&
                              err[strlen(SOURCE) + 2] != '\0',
                      "error \"%s\" does not name the file", err);
                CHECK(strchr(err, '\n') == NULL, "error \"%s\" is not one line", err);
        }

        /* A short buffer gets the same outcome and a cut, terminated message. */
        memset(small, '\x7f', sizeof(small));
        api_t *again = api_config_parse((const char *)data, size, SOURCE, small, small_err_size);
        CHECK((again != NULL) == (api != NULL), "the outcome depends on the error buffer");
        if (again == NULL)
                CHECK(memchr(small, '\0', small_err_size) != NULL &&
                              small[small_err_size] == '\x7f' &&
                              strncmp(small, err, small_err_size - 1) == 0,
                      "message not cut to %zu bytes", small_err_size);
        api_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_copy_text(data, size);
        check_named_sql(text);
        check_config(data, size, 1 + size % 64);
        free(text);
        return 0;
}
