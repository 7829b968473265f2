/* Environment configuration: every variable is validated up front so a bad
 * value stops the service with a message instead of surfacing at run time. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/strbuf.h"

/* Chosen from bench/run's compression cases: see README, Compression. */
#define COMPRESSION_DEFAULT "zstd:1,gzip:1"

const char config_help[] =
        "queryd: serves MySQL/MariaDB query results as JSON over HTTP.\n"
        "\n"
        "Configuration (environment variables):\n"
        "  QUERYD_CONFIG                  the JSON file declaring the endpoints (SIGHUP\n"
        "                                 reloads it); unset: every table and view of the\n"
        "                                 database that its user may SELECT is served, read-only\n"
        "                                 (SIGHUP reads the schema again)\n"
        "  QUERYD_DATABASE_URL            required: mysql://user:pass@host:port/db\n"
        "                                 or mysql://user:pass@host1:port,host2:port/db (failover)\n"
        "                                 or mysql://user:pass@localhost/db?socket=/path/to.sock\n"
        "  QUERYD_LISTEN                  address to listen on (default 127.0.0.1:8080)\n"
        "  QUERYD_ADMIN_LISTEN            address serving /metrics, /healthz and /readyz\n"
        "                                 instead of QUERYD_LISTEN, e.g. 127.0.0.1:9090\n"
        "                                 (default: unset, they share QUERYD_LISTEN)\n"
        "  QUERYD_WORKERS                 worker threads (default: one per core)\n"
        "  QUERYD_POOL_SIZE               database connections in total (default 8)\n"
        "  QUERYD_QUEUE_LIMIT             requests that may wait for a connection (default 1024)\n"
        "  QUERYD_BATCH_LOOKUPS           point lookups of one resource that may share one\n"
        "                                 statement while they wait for a connection;\n"
        "                                 1 turns coalescing off (default 64, at most 64)\n"
        "  QUERYD_ACQUIRE_TIMEOUT_MS      longest wait for a connection, then 503 (default 1000)\n"
        "  QUERYD_QUERY_TIMEOUT_MS        longest run of a statement, then 504 (default 5000)\n"
        "  QUERYD_DRAIN_TIMEOUT_MS        at shutdown, time left to requests in flight (default 10000)\n"
        "  QUERYD_IDLE_TIMEOUT_MS         a silent client connection is closed (default 30000)\n"
        "  QUERYD_HEADER_TIMEOUT_MS       a request's headers must arrive within (default 10000)\n"
        "  QUERYD_MAX_CONNECTIONS         client connections in total (default 10000)\n"
        "  QUERYD_MAX_CONNECTIONS_PER_IP  client connections from one address, 0 for no limit\n"
        "                                 (default 1000)\n"
        "  QUERYD_ACCESS_LOG              1: one JSON line per request on stdout, 0: none (default 1)\n"
        "  QUERYD_TIME_ZONE               session time zone as +HH:MM (default +00:00)\n"
        "  QUERYD_START_TIMEOUT_MS        at start, how long to wait for the database to check\n"
        "                                 the configuration against (default 30000)\n"
        "  QUERYD_CORS_ORIGINS            origins allowed to read responses from a browser:\n"
        "                                 * or a comma-separated list (default: none)\n"
        "  QUERYD_REPLICA_URLS            replicas of QUERYD_DATABASE_URL taking reads: mysql://\n"
        "                                 URLs separated by commas, each like QUERYD_DATABASE_URL\n"
        "                                 (default: none, every statement goes to the primary)\n"
        "  QUERYD_REPLICA_POOL_SIZE       connections to each replica in total (default 8)\n"
        "  QUERYD_REPLICA_MAX_LAG_MS      a replica further behind takes no reads (default 1000)\n"
        "  QUERYD_POSITION_COOKIE         1: writes also set the Queryd-Position cookie and\n"
        "                                 reads take it (default 0)\n"
        "  QUERYD_MAX_BODY_BYTES          longest request body, then 413; 0 for no limit\n"
        "                                 (default 67108864, 64 MiB)\n"
        "  QUERYD_CACHE_BYTES             memory for answers kept by entries with cache_ms;\n"
        "                                 0 turns the cache off (default 67108864, 64 MiB)\n"
        "  QUERYD_COMPRESSION             content codings for answers over 1 KiB, in order of\n"
        "                                 preference, with levels: e.g. zstd:3,gzip:6, or off\n"
        "                                 (default " COMPRESSION_DEFAULT ")\n"
        "\n"
        "Endpoints: those of QUERYD_CONFIG (or the database's tables without it), and\n"
        "GET /healthz, /readyz, /metrics, /openapi.json.\n";

static int fail(char *err, size_t err_size, const char *fmt, const char *what)
{
        snprintf(err, err_size, fmt, what);
        return -EINVAL;
}

/* Decodes %XX escapes of a URL part into a new string; NULL when malformed. */
static char *percent_decode(const char *text, size_t len)
{
        char *out = malloc(len + 1);
        size_t n = 0;

        if (out == NULL)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (text[i] != '%') {
                        out[n++] = text[i];
                        continue;
                }
                if (i + 2 >= len || !isxdigit((unsigned char)text[i + 1]) ||
                    !isxdigit((unsigned char)text[i + 2])) {
                        free(out);
                        return NULL;
                }
                char hex[3] = { text[i + 1], text[i + 2], '\0' };
                out[n++] = (char)strtol(hex, NULL, 16);
                i += 2;
        }
        out[n] = '\0';
        if (strlen(out) != n) { /* an encoded NUL cannot be passed on */
                free(out);
                return NULL;
        }
        return out;
}

static int parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *ret)
{
        char *end;

        if (text == NULL || !isdigit((unsigned char)text[0]))
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(text, &end, 10);
        if (errno != 0 || *end != '\0' || v < min || v > max)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

/* One "host", "host:port", "[v6]" or "[v6]:port" of the host list. */
static int parse_host(const char *text, size_t len, db_host_t *h, char *err, size_t n)
{
        const char *name = text;
        size_t name_len = len;
        const char *port = NULL;

        if (len > 0 && text[0] == '[') {
                const char *close = memchr(text, ']', len);
                if (close == NULL)
                        return fail(err, n, "%s: unclosed [ in a host", "QUERYD_DATABASE_URL");
                name = text + 1;
                name_len = (size_t)(close - name);
                if (close + 1 < text + len) {
                        if (close[1] != ':')
                                return fail(err, n, "%s: junk after ] in a host",
                                            "QUERYD_DATABASE_URL");
                        port = close + 1;
                }
        } else if ((port = memchr(text, ':', len)) != NULL) {
                name_len = (size_t)(port - text);
        }
        if (port != NULL) {
                char digits[8] = "";
                size_t digits_len = len - (size_t)(port + 1 - text);
                if (digits_len == 0 || digits_len >= sizeof(digits))
                        return fail(err, n, "%s: bad port", "QUERYD_DATABASE_URL");
                memcpy(digits, port + 1, digits_len);
                if (parse_unsigned(digits, 1, 65535, &h->port) < 0)
                        return fail(err, n, "%s: port must be 1..65535", "QUERYD_DATABASE_URL");
        }
        if (name_len == 0)
                return fail(err, n, "%s: host missing", "QUERYD_DATABASE_URL");
        h->name = strndup(name, name_len);
        return h->name ? 0 : -ENOMEM;
}

static int parse_hosts(const char *text, size_t len, db_target_t *t, char *err, size_t n)
{
        const char *end = text + len;

        for (const char *p = text;; ) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *stop = comma ? comma : end;
                if (t->host_count == DB_MAX_HOSTS)
                        return fail(err, n, "%s: at most 8 hosts", "QUERYD_DATABASE_URL");
                int r = parse_host(p, (size_t)(stop - p), &t->hosts[t->host_count], err, n);
                if (r < 0)
                        return r;
                t->host_count++;
                if (comma == NULL)
                        return 0;
                p = comma + 1;
        }
}

static int parse_authority(const char *auth, size_t len, db_target_t *t, char *err, size_t n)
{
        const char *at = memrchr(auth, '@', len);

        if (at == NULL)
                return fail(err, n, "%s: user missing (expected mysql://user:pass@host/db)",
                            "QUERYD_DATABASE_URL");
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        size_t user_len = colon ? (size_t)(colon - auth) : (size_t)(at - auth);
        t->user = percent_decode(auth, user_len);
        t->password = colon ? percent_decode(colon + 1, (size_t)(at - colon - 1)) : strdup("");
        if (t->user == NULL || t->password == NULL || t->user[0] == '\0')
                return fail(err, n, "%s: bad user or password encoding", "QUERYD_DATABASE_URL");

        return parse_hosts(at + 1, len - (size_t)(at + 1 - auth), t, err, n);
}

static int parse_query(const char *query, db_target_t *t, char *err, size_t n)
{
        if (query == NULL)
                return 0;
        if (strncmp(query, "socket=", 7) != 0 || query[7] != '/' || strchr(query, '&'))
                return fail(err, n, "%s: the only option is ?socket=/absolute/path",
                            "QUERYD_DATABASE_URL");
        t->socket = percent_decode(query + 7, strlen(query + 7));
        if (t->socket == NULL)
                return fail(err, n, "%s: bad socket path encoding", "QUERYD_DATABASE_URL");
        if (t->host_count != 1 || strcmp(t->hosts[0].name, "localhost") != 0)
                return fail(err, n, "%s: a socket needs the one host localhost",
                            "QUERYD_DATABASE_URL");
        return 0;
}

int config_parse_database_url(const char *url, db_target_t *t, char *err, size_t n)
{
        static const char scheme[] = "mysql://";

        memset(t, 0, sizeof(*t));
        if (url == NULL || url[0] == '\0')
                return fail(err, n, "%s is required (mysql://user:pass@host:port/db)",
                            "QUERYD_DATABASE_URL");
        if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
                return fail(err, n, "%s must start with mysql://", "QUERYD_DATABASE_URL");
        const char *auth = url + sizeof(scheme) - 1;
        const char *slash = strchr(auth, '/');
        if (slash == NULL)
                return fail(err, n, "%s: database name missing", "QUERYD_DATABASE_URL");
        int r = parse_authority(auth, (size_t)(slash - auth), t, err, n);
        if (r == 0) {
                const char *query = strchr(slash + 1, '?');
                size_t db_len = query ? (size_t)(query - slash - 1) : strlen(slash + 1);
                t->database = percent_decode(slash + 1, db_len);
                if (t->database == NULL || t->database[0] == '\0' || strchr(t->database, '/'))
                        r = fail(err, n, "%s: database name missing or malformed",
                                 "QUERYD_DATABASE_URL");
                else
                        r = parse_query(query ? query + 1 : NULL, t, err, n);
        }
        if (r < 0)
                db_target_done(t);
        return r;
}

static char *redact_url(const db_target_t *t)
{
        strbuf_t url = { 0 };

        strbuf_appendf(&url, "mysql://%s:***@", t->user);
        for (unsigned i = 0; i < t->host_count; i++) {
                const db_host_t *h = &t->hosts[i];
                bool v6 = strchr(h->name, ':') != NULL;
                strbuf_appendf(&url, "%s%s%s%s", i ? "," : "", v6 ? "[" : "", h->name, v6 ? "]" : "");
                if (t->socket == NULL)
                        strbuf_appendf(&url, ":%u", h->port ? h->port : 3306);
        }
        strbuf_appendf(&url, "/%s", t->database);
        if (t->socket != NULL)
                strbuf_appendf(&url, "?socket=%s", t->socket);
        if (url.failed) {
                strbuf_done(&url);
                return NULL;
        }
        return strbuf_take(&url, NULL);
}

/* HOST:PORT into host (sizeof listen_host) and port; name is the variable, for the message. */
static int parse_address(const char *name, const char *text, char *host, uint16_t *ret_port,
                         char *err, size_t n)
{
        const char *colon = text ? strrchr(text, ':') : NULL;
        unsigned port;

        if (colon == NULL || colon == text ||
            (size_t)(colon - text) >= sizeof(((config_t *)0)->listen_host) ||
            parse_unsigned(colon + 1, 1, 65535, &port) < 0)
                return fail(err, n, "%s must be HOST:PORT, e.g. 127.0.0.1:8080", name);
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        *ret_port = (uint16_t)port;
        return 0;
}

static int parse_listen(const char *text, config_t *c, char *err, size_t n)
{
        return parse_address("QUERYD_LISTEN", text && text[0] ? text : "127.0.0.1:8080",
                             c->listen_host, &c->listen_port, err, n);
}

/* Servers share their port (SO_REUSEPORT, so that workers can): an admin
 * address on the public port would take some of the public connections. */
static int parse_admin_listen(const char *text, config_t *c, char *err, size_t n)
{
        if (text == NULL || text[0] == '\0')
                return 0;
        int r = parse_address("QUERYD_ADMIN_LISTEN", text, c->admin_host, &c->admin_port, err, n);
        if (r == 0 && c->admin_port == c->listen_port)
                return fail(err, n, "%s must use a port other than QUERYD_LISTEN's",
                            "QUERYD_ADMIN_LISTEN");
        return r;
}

static int env_unsigned(const char *name, unsigned def, unsigned min, unsigned max,
                        unsigned *ret, char *err, size_t n)
{
        const char *text = getenv(name);

        if (text == NULL || text[0] == '\0') {
                *ret = def;
                return 0;
        }
        if (parse_unsigned(text, min, max, ret) == 0)
                return 0;
        snprintf(err, n, "%s must be an integer from %u to %u", name, min, max);
        return -EINVAL;
}

static int parse_time_zone(const char *text, config_t *c, char *err, size_t n)
{
        if (text == NULL || text[0] == '\0')
                text = "+00:00";
        if (strlen(text) != 6 || (text[0] != '+' && text[0] != '-') ||
            strspn(text + 1, "0123456789") != 2 || text[3] != ':' ||
            strspn(text + 4, "0123456789") != 2 || text[4] > '5' ||
            (text[1] - '0') * 10 + (text[2] - '0') > 14)
                return fail(err, n, "%s must be an offset like +00:00 or -05:30",
                            "QUERYD_TIME_ZONE");
        memcpy(c->time_zone, text, 7);
        return 0;
}

/* The numeric variables: name, default, bounds, and where the value goes. */
typedef struct numeric_var {
        const char *name;
        unsigned def, min, max;
        size_t offset;
} numeric_var_t;

#define NUMERIC(name, def, min, max, field) { name, def, min, max, offsetof(config_t, field) }

static const numeric_var_t numeric_vars[] = {
        NUMERIC("QUERYD_POOL_SIZE", 8, 1, 4096, pool_size),
        NUMERIC("QUERYD_QUEUE_LIMIT", 1024, 0, 1000000, queue_limit),
        NUMERIC("QUERYD_BATCH_LOOKUPS", 64, 1, CONFIG_MAX_BATCH_LOOKUPS, batch_lookups),
        NUMERIC("QUERYD_ACQUIRE_TIMEOUT_MS", 1000, 1, 600000, acquire_timeout_ms),
        NUMERIC("QUERYD_QUERY_TIMEOUT_MS", 5000, 10, 3600000, query_timeout_ms),
        NUMERIC("QUERYD_DRAIN_TIMEOUT_MS", 10000, 0, 600000, drain_timeout_ms),
        NUMERIC("QUERYD_IDLE_TIMEOUT_MS", 30000, 1000, 3600000, idle_timeout_ms),
        NUMERIC("QUERYD_HEADER_TIMEOUT_MS", 10000, 100, 600000, header_timeout_ms),
        NUMERIC("QUERYD_MAX_CONNECTIONS", 10000, 1, 1000000, max_connections),
        NUMERIC("QUERYD_MAX_CONNECTIONS_PER_IP", 1000, 0, 1000000, max_connections_per_ip),
        NUMERIC("QUERYD_ACCESS_LOG", 1, 0, 1, access_log),
        NUMERIC("QUERYD_START_TIMEOUT_MS", 30000, 0, 3600000, start_timeout_ms),
        NUMERIC("QUERYD_MAX_BODY_BYTES", 64 * 1024 * 1024, 0, UINT_MAX, max_body_bytes),
        NUMERIC("QUERYD_CACHE_BYTES", 64 * 1024 * 1024, 0, UINT_MAX, cache_bytes),
        NUMERIC("QUERYD_REPLICA_POOL_SIZE", 8, 1, 4096, replica_pool_size),
        NUMERIC("QUERYD_REPLICA_MAX_LAG_MS", 1000, 1, 3600000, replica_max_lag_ms),
        NUMERIC("QUERYD_POSITION_COOKIE", 0, 0, 1, position_cookie),
};

/* Unset (or empty): no file, the database's own tables are served. */
static int parse_config_path(const char *text, config_t *c)
{
        if (text == NULL || text[0] == '\0')
                return 0;
        c->config_path = strdup(text);
        return c->config_path ? 0 : -ENOMEM;
}

/* "scheme://host[:port]": what a browser sends as Origin. */
static bool is_origin(const char *text, size_t len)
{
        const char *sep = memmem(text, len, "://", 3);

        if (sep == NULL || sep == text || (size_t)(sep - text) + 3 == len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (text[i] <= ' ' || text[i] == ',' || text[i] == 0x7f ||
                    (text[i] == '/' && text + i > sep + 2))
                        return false;
        return true;
}

static int parse_cors_origins(const char *text, config_t *c, char *err, size_t n)
{
        if (text == NULL || text[0] == '\0')
                return 0;
        if (strcmp(text, "*") != 0) {
                for (const char *p = text;; p++) {
                        size_t len = strcspn(p, ",");
                        if (!is_origin(p, len))
                                return fail(err, n, "%s must be * or a comma-separated list of "
                                            "origins like https://app.example.com:8443",
                                            "QUERYD_CORS_ORIGINS");
                        p += len;
                        if (*p == '\0')
                                break;
                }
        }
        c->cors_origins = strdup(text);
        return c->cors_origins ? 0 : -ENOMEM;
}

/* The codings queryd can send, their level when none is given (the default's), the highest. */
static const struct { const char *name; int def, max; } known_codings[] = {
        { "zstd", 1, 19 },
        { "gzip", 1, 9 },
};

/* One "name" or "name:level" of QUERYD_COMPRESSION. */
static int parse_coding(const char *text, size_t len, config_coding_t *ret)
{
        size_t name_len = strcspn(text, ":,");

        if (name_len > len)
                name_len = len;
        for (size_t i = 0; i < sizeof(known_codings) / sizeof(known_codings[0]); i++) {
                if (strlen(known_codings[i].name) != name_len ||
                    strncmp(text, known_codings[i].name, name_len) != 0)
                        continue;
                unsigned level = (unsigned)known_codings[i].def;
                if (name_len < len) {
                        char digits[8];
                        size_t n = len - name_len - 1;
                        if (n == 0 || n >= sizeof(digits))
                                return -EINVAL;
                        memcpy(digits, text + name_len + 1, n);
                        digits[n] = '\0';
                        if (parse_unsigned(digits, 1, (unsigned)known_codings[i].max, &level) < 0)
                                return -EINVAL;
                }
                snprintf(ret->name, sizeof(ret->name), "%s", known_codings[i].name);
                ret->level = (int)level;
                return 0;
        }
        return -EINVAL;
}

static int parse_compression(const char *text, config_t *c, char *err, size_t n)
{
        if (text == NULL || text[0] == '\0')
                text = COMPRESSION_DEFAULT;
        if (strcmp(text, "off") == 0)
                return 0;
        for (const char *p = text;; p++) {
                size_t len = strcspn(p, ",");
                config_coding_t coding;
                bool again = false;
                if (parse_coding(p, len, &coding) < 0 || c->coding_count == CONFIG_MAX_CODINGS)
                        goto bad;
                for (unsigned i = 0; i < c->coding_count; i++)
                        again |= strcmp(c->codings[i].name, coding.name) == 0;
                if (again)
                        goto bad;
                c->codings[c->coding_count++] = coding;
                p += len;
                if (*p == '\0')
                        return 0;
        }
bad:
        c->coding_count = 0;
        return fail(err, n, "%s must be off or a list like zstd:3,gzip:6 (zstd levels 1-19, "
                    "gzip 1-9, each coding once)", "QUERYD_COMPRESSION");
}

/* URLs are separated by the commas before "mysql://": a URL's own host
 * list has commas too. */
static int parse_replica_urls(const char *text, config_t *c, char *err, size_t n)
{
        const char *prefix = "QUERYD_DATABASE_URL";

        if (text == NULL || text[0] == '\0')
                return 0;
        for (const char *p = text; *p != '\0'; ) {
                const char *next = strstr(p + 1, "," "mysql://");
                size_t len = next ? (size_t)(next - p) : strlen(p);
                if (c->replica_count == CONFIG_MAX_REPLICAS)
                        return fail(err, n, "%s: at most 8 replicas", "QUERYD_REPLICA_URLS");
                char *url = strndup(p, len);
                if (url == NULL)
                        return -ENOMEM;
                char message[256];
                int r = config_parse_database_url(url, &c->replicas[c->replica_count], message,
                                                  sizeof(message));
                free(url);
                if (r < 0) {
                        const char *rest = strncmp(message, prefix, strlen(prefix)) == 0
                                                   ? message + strlen(prefix) : message;
                        snprintf(err, n, "QUERYD_REPLICA_URLS: replica %u%s",
                                 c->replica_count + 1, rest);
                        return r;
                }
                c->replica_count++;
                p = next ? next + 1 : p + len;
        }
        return 0;
}

int config_from_env(config_t *c, char *err, size_t n)
{
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int r;

        memset(c, 0, sizeof(*c));
        r = config_parse_database_url(getenv("QUERYD_DATABASE_URL"), &c->db, err, n);
        if (r == 0)
                r = parse_listen(getenv("QUERYD_LISTEN"), c, err, n);
        if (r == 0)
                r = parse_admin_listen(getenv("QUERYD_ADMIN_LISTEN"), c, err, n);
        if (r == 0)
                r = env_unsigned("QUERYD_WORKERS", cores > 0 ? (unsigned)cores : 1, 1, 256,
                                 &c->workers, err, n);
        for (size_t i = 0; r == 0 && i < sizeof(numeric_vars) / sizeof(numeric_vars[0]); i++) {
                const numeric_var_t *v = &numeric_vars[i];
                r = env_unsigned(v->name, v->def, v->min, v->max,
                                 (unsigned *)((char *)c + v->offset), err, n);
        }
        if (r == 0)
                r = parse_time_zone(getenv("QUERYD_TIME_ZONE"), c, err, n);
        if (r == 0)
                r = parse_config_path(getenv("QUERYD_CONFIG"), c);
        if (r == 0)
                r = parse_cors_origins(getenv("QUERYD_CORS_ORIGINS"), c, err, n);
        if (r == 0)
                r = parse_compression(getenv("QUERYD_COMPRESSION"), c, err, n);
        if (r == 0)
                r = parse_replica_urls(getenv("QUERYD_REPLICA_URLS"), c, err, n);
        if (r == 0 && (c->database_url_redacted = redact_url(&c->db)) == NULL)
                r = -ENOMEM;
        if (r < 0)
                config_done(c);
        return r;
}

void db_target_done(db_target_t *t)
{
        free(t->user);
        free(t->password);
        for (unsigned i = 0; i < t->host_count; i++)
                free(t->hosts[i].name);
        free(t->database);
        free(t->socket);
        memset(t, 0, sizeof(*t));
}

void config_done(config_t *c)
{
        db_target_done(&c->db);
        for (unsigned i = 0; i < c->replica_count; i++)
                db_target_done(&c->replicas[i]);
        c->replica_count = 0;
        free(c->database_url_redacted);
        free(c->config_path);
        free(c->cors_origins);
        c->database_url_redacted = c->config_path = c->cors_origins = NULL;
}
