/*
 * Zero configuration: the base tables and views of the connected database
 * become read-only resources, each declared as a file entry without
 * "columns" would be, so that api_schema_check and api_finish build them
 * exactly as they build the file's. The connected user's privileges decide
 * what is served: a table it cannot SELECT is left out.
 */
#include "api/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/strbuf.h"

enum {
        KEY_MAX_COLUMNS = 4,     /* as a file's "key" */
        DEFAULT_LIMIT = 100,     /* as a file entry's defaults */
        MAX_LIMIT = 1000,
        MAX_AFFECTED = 1000,
        NOTE_SIZE = 512,
};

typedef struct introspect {
        api_t *api;
        MYSQL *mysql;
        const api_handlers_t *handlers;
        api_note_fn note;
        void *note_arg;
        size_t file_resources;  /* the entries api held before: they win path conflicts */
} introspect_t;

/* A table's key as chosen from its unique indexes; names malloc'ed. */
typedef struct key_choice {
        char *names[KEY_MAX_COLUMNS];
        size_t count;
} key_choice_t;

static void key_choice_done(key_choice_t *k)
{
        for (size_t i = 0; i < k->count; i++)
                free(k->names[i]);
        k->count = 0;
}

static void tell(const introspect_t *in, bool skipped, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void tell(const introspect_t *in, bool skipped, const char *fmt, ...)
{
        char message[NOTE_SIZE];
        va_list ap;

        if (in->note == NULL)
                return;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        in->note(in->note_arg, skipped, message);
}

api_t *api_new(const char *source)
{
        api_t *api = calloc(1, sizeof(*api));

        if (api == NULL || (api->source = strdup(source)) == NULL) {
                free(api);
                return NULL;
        }
        atomic_init(&api->refs, 1);
        return api;
}

/* ---- names ---- */

/*
 * Why name cannot be a path segment, or NULL when it can. libmicrohttpd
 * decodes %XX before routing, so the router sees the name itself whatever
 * the client escaped; but a '/' would split it, '?' and '#' end the path
 * before decoding, '{' '}' make a template capture, and "." and ".." are
 * folded away by clients.
 */
static const char *segment_problem(const char *name)
{
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return "\".\" and \"..\" are not path segments a client keeps";
        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        return "its name holds a control character";
                if (strchr("/?#{}", *p) != NULL)
                        return "its name holds '/', '?', '#', '{' or '}', which a path "
                               "segment cannot";
        }
        return NULL;
}

/* The path as a client types it: bytes other than RFC 3986 unreserved ones as %XX. */
static void append_encoded(strbuf_t *out, const char *path)
{
        static const char hex[] = "0123456789ABCDEF";

        for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~/{}", *p) != NULL) {
                        strbuf_append_char(out, (char)*p);
                } else {
                        strbuf_append_char(out, '%');
                        strbuf_append_char(out, hex[*p >> 4]);
                        strbuf_append_char(out, hex[*p & 15]);
                }
        }
}

static char *quote_identifier(const char *name)
{
        strbuf_t q = { 0 };

        strbuf_append_char(&q, '`');
        for (const char *p = name; *p != '\0'; p++) {
                if (*p == '`')
                        strbuf_append_char(&q, '`');
                strbuf_append_char(&q, *p);
        }
        strbuf_append_char(&q, '`');
        return strbuf_take(&q, NULL);
}

/* name as a string literal's content, for information_schema queries; malloc'ed. */
static char *escaped(MYSQL *mysql, const char *name)
{
        char *text = malloc(2 * strlen(name) + 1);

        if (text != NULL)
                mysql_real_escape_string(mysql, text, name, strlen(name));
        return text;
}

/* ---- paths already taken ---- */

/* Whether two templates match the same requests: same literals, captures anywhere alike. */
static bool same_route(const char *a, const char *b)
{
        while (*a == '/' && *b == '/') {
                size_t alen = strcspn(++a, "/"), blen = strcspn(++b, "/");
                bool acap = alen > 2 && a[0] == '{' && a[alen - 1] == '}';
                bool bcap = blen > 2 && b[0] == '{' && b[blen - 1] == '}';
                if (acap != bcap || (!acap && (alen != blen || memcmp(a, b, alen) != 0)))
                        return false;
                a += alen;
                b += blen;
        }
        return *a == '\0' && *b == '\0';
}

/* What already answers template, for the note; NULL when nothing does. */
static const char *taken_by(const introspect_t *in, const char *template)
{
        const api_t *api = in->api;

        for (size_t i = 0; i < in->handlers->builtin_count; i++)
                if (same_route(in->handlers->builtins[i].template, template))
                        return "a built-in route";
        for (size_t i = 0; i < in->file_resources; i++) {
                const api_resource_t *res = &api->resources[i];
                if (same_route(res->path, template) ||
                    (res->item_path != NULL && same_route(res->item_path, template)))
                        return "a resource of the configuration file";
        }
        for (size_t i = 0; i < api->query_count; i++)
                if (same_route(api->queries[i].path, template))
                        return "a query of the configuration file";
        return NULL;
}

/* ---- what the user may read, and the key ---- */

/* Whether the user may SELECT every column; the server's refusal in why when not. */
static bool can_select(MYSQL *mysql, const char *quoted, char *why, size_t why_size)
{
        strbuf_t sql = { 0 };
        MYSQL_STMT *stmt = mysql_stmt_init(mysql);
        bool ok = false;

        strbuf_appendf(&sql, "SELECT * FROM %s LIMIT 0", quoted);
        if (stmt == NULL || sql.failed)
                snprintf(why, why_size, "out of memory");
        else if (mysql_stmt_prepare(stmt, sql.data, sql.len) != 0)
                snprintf(why, why_size, "%s", mysql_stmt_error(stmt));
        else
                ok = true;
        if (stmt != NULL)
                mysql_stmt_close(stmt);
        strbuf_done(&sql);
        return ok;
}

/* Whether a column of this information_schema DATA_TYPE can be in a key:
 * api_schema_check refuses TEXT, BLOB, JSON (a LONGTEXT) and geometry. */
static bool comparable_type(const char *type)
{
        static const char *const refused[] = { "geometry",        "point",
                                               "linestring",      "polygon",
                                               "multipoint",      "multilinestring",
                                               "multipolygon",    "geometrycollection",
                                               NULL };
        size_t len = strlen(type);

        if ((len >= 4 && strcmp(type + len - 4, "text") == 0) ||
            (len >= 4 && strcmp(type + len - 4, "blob") == 0))
                return false;
        for (size_t i = 0; refused[i] != NULL; i++)
                if (strcmp(type, refused[i]) == 0)
                        return false;
        return true;
}

/* Row: INDEX_NAME, COLUMN_NAME, IS_NULLABLE, DATA_TYPE, EXTRA. Adds the
 * column to the index being read; false once the index cannot be the key.
 * An INVISIBLE column is not in SELECT *, so it cannot be served as a key. */
static bool take_key_column(key_choice_t *k, MYSQL_ROW row)
{
        if (row[1] == NULL || row[2] == NULL || row[3] == NULL ||
            strcmp(row[2], "NO") != 0 || !comparable_type(row[3]) ||
            (row[4] != NULL && strstr(row[4], "INVISIBLE") != NULL) ||
            strpbrk(row[1], "/{}") != NULL || k->count == KEY_MAX_COLUMNS)
                return false;
        k->names[k->count] = strdup(row[1]);
        return k->names[k->count] != NULL ? (k->count++, true) : false;
}

/*
 * The key: the PRIMARY KEY, else the first unique index by name, whose
 * columns are all NOT NULL, comparable and at most KEY_MAX_COLUMNS (an
 * index that is not so is passed over). Nothing found: k->count 0.
 */
static int choose_key(MYSQL *mysql, const char *table, key_choice_t *k, char *err, size_t n)
{
        char *name = escaped(mysql, table);
        strbuf_t sql = { 0 };

        k->count = 0;
        if (name == NULL)
                return -ENOMEM;
        strbuf_appendf(&sql,
                       "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE, c.DATA_TYPE, c.EXTRA "
                       "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c "
                       "ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME "
                       "AND c.COLUMN_NAME = s.COLUMN_NAME WHERE s.TABLE_SCHEMA = DATABASE() "
                       "AND s.TABLE_NAME = '%s' AND s.NON_UNIQUE = 0 "
                       "ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX",
                       name);
        free(name);
        if (sql.failed) {
                strbuf_done(&sql);
                return -ENOMEM;
        }
        int q = mysql_real_query(mysql, sql.data, sql.len);
        strbuf_done(&sql);
        MYSQL_RES *res = q == 0 ? mysql_store_result(mysql) : NULL;
        if (res == NULL) {
                snprintf(err, n, "cannot read the indexes of table \"%s\": %s", table,
                         mysql_error(mysql));
                return -EIO;
        }
        char index[512] = "";
        bool usable = false;
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL) {
                if (strcmp(index, row[0]) != 0) {
                        if (usable && k->count > 0)
                                break; /* the previous index is the key */
                        key_choice_done(k);
                        snprintf(index, sizeof(index), "%s", row[0]);
                        usable = true;
                }
                usable = usable && take_key_column(k, row);
        }
        mysql_free_result(res);
        if (!usable)
                key_choice_done(k);
        return 0;
}

/* ---- one resource ---- */

/*
 * The name of key column i's {capture}: the router matches by position, but
 * OpenAPI tools take only letters, digits and '_' there, so other bytes
 * become '_', and a name so changed ends with the key position, "_<i>",
 * which keeps "a b" and "a-b" apart.
 */
static void append_capture(strbuf_t *b, const api_resource_t *res, size_t i)
{
        const char *name = res->columns[res->key[i]].name;
        bool renamed = false;

        strbuf_append_char(b, '{');
        for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
                bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9') || *p == '_';
                strbuf_append_char(b, plain ? (char)*p : '_');
                renamed |= !plain;
        }
        if (renamed)
                strbuf_appendf(b, "_%zu", i + 1);
        strbuf_append_char(b, '}');
}

static int item_path_of(api_resource_t *res)
{
        strbuf_t b = { 0 };

        strbuf_append_str(&b, res->path);
        for (size_t i = 0; i < res->key_count; i++) {
                strbuf_append_char(&b, '/');
                append_capture(&b, res, i);
        }
        res->item_path = strbuf_take(&b, NULL);
        return res->item_path ? 0 : -ENOMEM;
}

/*
 * The entry a file would declare as {"path": "/<table>", "table": <table>,
 * "key": <key>} with no "columns": the key columns stand in for the
 * table's until api_schema_check reads them all.
 */
static int fill_resource(api_resource_t *res, const char *table, key_choice_t *key)
{
        strbuf_t path = { 0 };

        strbuf_appendf(&path, "/%s", table);
        res->path = strbuf_take(&path, NULL);
        res->table = strdup(table);
        res->quoted_table = quote_identifier(table);
        res->columns = calloc(key->count + 1, sizeof(*res->columns));
        res->key = calloc(key->count + 1, sizeof(*res->key));
        if (!res->path || !res->table || !res->quoted_table || !res->columns || !res->key)
                return -ENOMEM;
        res->all_columns = true;
        res->all_writable = true;
        res->default_limit = DEFAULT_LIMIT;
        res->max_limit = MAX_LIMIT;
        res->max_affected = MAX_AFFECTED;
        res->methods = API_METHOD_GET;
        for (size_t i = 0; i < key->count; i++) {
                api_column_t *c = &res->columns[res->column_count];
                c->name = key->names[i];
                key->names[i] = NULL;
                c->quoted = quote_identifier(c->name);
                res->key[res->key_count++] = res->column_count++;
                if (c->quoted == NULL)
                        return -ENOMEM;
        }
        key->count = 0;
        return res->key_count > 0 ? item_path_of(res) : 0;
}

/* Tells how the entry is served, with its paths as a client types them. */
static void tell_served(const introspect_t *in, const api_resource_t *res, bool view)
{
        strbuf_t paths = { 0 };

        append_encoded(&paths, res->path);
        if (res->item_path != NULL) {
                strbuf_append_str(&paths, ", items at ");
                append_encoded(&paths, res->item_path);
        } else {
                strbuf_append_str(&paths, view ? " (a view: no items)"
                                               : " (no primary key or unique NOT NULL index: "
                                                 "no items)");
        }
        strbuf_append_char(&paths, '\0');
        if (!paths.failed)
                tell(in, false, "serving %s \"%s\" at %s", view ? "view" : "table", res->table,
                     paths.data);
        strbuf_done(&paths);
}

/* Whether the collection path, or with key_count captures the item path,
 * is taken; the sentence in why. Captures match alike whatever their names. */
static bool path_taken(const introspect_t *in, const char *table, size_t key_count, char *why,
                       size_t n)
{
        strbuf_t path = { 0 };

        strbuf_appendf(&path, "/%s", table);
        for (size_t i = 0; i < key_count; i++)
                strbuf_append_str(&path, "/{k}");
        const char *owner = path.failed ? NULL : taken_by(in, path.data);
        if (owner != NULL)
                snprintf(why, n, "its %spath /%s%s is taken by %s", key_count ? "item " : "",
                         table, key_count ? "/{...}" : "", owner);
        strbuf_done(&path);
        return owner != NULL;
}

/* The file's entry that serves table, or NULL. Its rules (columns, rows,
 * roles) are the table's: a second, unruled path to it would bypass them.
 * Names compare without case, as they do on servers that fold them. */
static const api_resource_t *served_by_file(const introspect_t *in, const char *table)
{
        for (size_t i = 0; i < in->file_resources; i++)
                if (strcasecmp(in->api->resources[i].table, table) == 0)
                        return &in->api->resources[i];
        return NULL;
}

/* Why table is left out (a sentence in why), or NULL when it may be served. */
static const char *leave_out(const introspect_t *in, const char *table, char *why, size_t n)
{
        const char *problem = segment_problem(table);
        const api_resource_t *entry = served_by_file(in, table);

        if (problem != NULL)
                return problem;
        if (entry != NULL) {
                snprintf(why, n, "the configuration file serves it at %s", entry->path);
                return why;
        }
        if (path_taken(in, table, 0, why, n))
                return why;
        char *quoted = quote_identifier(table);
        bool readable = quoted != NULL && can_select(in->mysql, quoted, why, n);
        free(quoted);
        return readable ? NULL : why;
}

/* Row: TABLE_NAME, TABLE_TYPE. Appends the table's resource unless it is left out. */
static int add_table(introspect_t *in, MYSQL_ROW row, char *err, size_t n)
{
        char why[NOTE_SIZE - 128];
        const char *table = row[0];
        bool view = row[1] != NULL && strcmp(row[1], "VIEW") == 0;
        key_choice_t key = { 0 };

        if (table == NULL)
                return 0;
        const char *problem = leave_out(in, table, why, sizeof(why));
        if (problem != NULL) {
                tell(in, true, "not serving %s \"%s\": %s", view ? "view" : "table", table,
                     problem);
                return 0;
        }
        int r = view ? 0 : choose_key(in->mysql, table, &key, err, n);
        if (r == 0 && key.count > 0 && path_taken(in, table, key.count, why, sizeof(why))) {
                tell(in, true, "not serving table \"%s\": %s", table, why);
                key_choice_done(&key);
                return 0;
        }
        api_resource_t *res = &in->api->resources[in->api->resource_count];
        if (r == 0) {
                in->api->resource_count++; /* from here api_free releases what it holds */
                r = fill_resource(res, table, &key);
        }
        key_choice_done(&key);
        if (r == 0)
                tell_served(in, res, view);
        return r;
}

/* Room for count more resources, zeroed. */
static int grow_resources(api_t *api, size_t count)
{
        api_resource_t *more = realloc(api->resources,
                                       (api->resource_count + count + 1) * sizeof(*more));

        if (more == NULL)
                return -ENOMEM;
        memset(&more[api->resource_count], 0, (count + 1) * sizeof(*more));
        api->resources = more;
        return 0;
}

int api_introspect(api_t *api, MYSQL *mysql, const api_handlers_t *handlers, api_note_fn note,
                   void *note_arg, char *err, size_t err_size)
{
        /* Sequences are tables too in MariaDB, but not rows anyone browses. */
        static const char sql[] = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                                  "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN "
                                  "('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW') ORDER BY TABLE_NAME";
        introspect_t in = { api, mysql, handlers, note, note_arg, api->resource_count };
        MYSQL_RES *tables = mysql_query(mysql, sql) == 0 ? mysql_store_result(mysql) : NULL;
        int r = 0;

        api->schema = true;
        if (tables == NULL) {
                snprintf(err, err_size, "%s: cannot list the tables of the database: %s",
                         api->source, mysql_error(mysql));
                return -EIO;
        }
        r = grow_resources(api, (size_t)mysql_num_rows(tables));
        MYSQL_ROW row;
        while (r == 0 && (row = mysql_fetch_row(tables)) != NULL)
                r = add_table(&in, row, err, err_size);
        mysql_free_result(tables);
        if (r == -ENOMEM)
                snprintf(err, err_size, "%s: out of memory", api->source);
        return r;
}
