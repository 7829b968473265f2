/*
 * libFuzzer harness for configuration parsing: config_parse_database_url on
 * the whole input, and config_from_env with variables taken from its lines.
 * Besides the shape of a successful result, it checks that the password is
 * never echoed: every outcome must stay the same when the password is
 * swapped for a twin that differs in every byte it can.
 *
 * Input: the whole input is a database URL; for config_from_env, line 1 is
 * QUERYD_DATABASE_URL (unset when empty) and the lines after it the other
 * variables in env_names (missing lines leave a variable unset).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "fuzz_check.h"

enum { ERR_SIZE = 512, ENV_VALUE_MAX = 4096 };

static const char *const env_names[] = {
        "QUERYD_DATABASE_URL", "QUERYD_LISTEN",     "QUERYD_WORKERS",
        "QUERYD_POOL_SIZE",    "QUERYD_QUEUE_LIMIT", "QUERYD_TIME_ZONE",
};
enum { ENV_COUNT = sizeof(env_names) / sizeof(env_names[0]) };

/* putenv, not setenv: glibc keeps every string setenv was ever given, which
 * over millions of runs would look like a leak. These buffers are the
 * environment entries themselves and are rewritten for each input. */
static char env_entries[ENV_COUNT][ENV_VALUE_MAX + 64];

extern char **environ;

/* Starts from an environment without any QUERYD_ variable of the caller. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        for (;;) {
                char name[256];
                bool found = false;
                for (char **e = environ; *e != NULL && !found; e++) {
                        const char *eq = strchr(*e, '=');
                        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
                        if (strncmp(*e, "QUERYD_", 7) == 0 && len < sizeof(name)) {
                                memcpy(name, *e, len);
                                name[len] = '\0';
                                found = true;
                        }
                }
                if (!found)
                        break;
                unsetenv(name);
        }
        return 0;
}

/* ---- the password and its twin ---- */

/*
 * The password part of a URL, by the documented grammar
 * mysql://user[:password]@host[:port][,host[:port]...]/db[?socket=path]: after "mysql://" the
 * authority runs to the first '/', the user info is the authority up to its
 * last '@', and the password is the user info after its first ':'. Returns
 * false when the URL has no password part.
 */
static bool find_password(const char *url, size_t *ret_start, size_t *ret_len)
{
        static const char scheme[] = "mysql://";
        size_t skip = sizeof(scheme) - 1;

        if (strncmp(url, scheme, skip) != 0)
                return false;
        const char *auth = url + skip;
        size_t auth_len = strcspn(auth, "/");
        const char *at = NULL;
        for (size_t i = 0; i < auth_len; i++)
                if (auth[i] == '@')
                        at = auth + i;
        if (at == NULL)
                return false;
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon == NULL)
                return false;
        *ret_start = (size_t)(colon + 1 - url);
        *ret_len = (size_t)(at - colon - 1);
        return true;
}

/*
 * A byte of the twin password. Whether a password decodes depends only on
 * where '%' and hex digits are and on "%00" (an encoded NUL is refused), so
 * '%' and '0' stay, other hex digits move to another non-zero hex digit, and
 * any other byte becomes another byte that is no hex digit and no delimiter.
 */
static char twin_byte(char c)
{
        static const char nonzero_hex[] = "123456789abcdefABCDEF";

        if (c == '%' || c == '0')
                return c;
        if (isxdigit((unsigned char)c)) {
                const char *p = strchr(nonzero_hex, c);
                size_t group_start = c >= '1' && c <= '9' ? 0 : islower((unsigned char)c) ? 9 : 15;
                size_t group_len = group_start == 0 ? 9 : 6;
                size_t i = (size_t)(p - nonzero_hex) - group_start;
                return nonzero_hex[group_start + (i + 1) % group_len];
        }
        return c == 'x' ? 'y' : 'x';
}

/* A copy of url with its password part replaced by the twin, or NULL. */
static char *twin_url(const char *url)
{
        size_t start, len;

        if (!find_password(url, &start, &len))
                return NULL;
        char *twin = strdup(url);
        if (twin == NULL)
                abort();
        for (size_t i = start; i < start + len; i++)
                twin[i] = twin_byte(twin[i]);
        return twin;
}

static bool same_string(const char *a, const char *b)
{
        return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Everything of a target but its password. */
static bool same_but_password(const db_target_t *a, const db_target_t *b)
{
        if (!same_string(a->user, b->user) || !same_string(a->database, b->database) ||
            !same_string(a->socket, b->socket) || a->host_count != b->host_count)
                return false;
        for (unsigned i = 0; i < a->host_count; i++)
                if (!same_string(a->hosts[i].name, b->hosts[i].name) ||
                    a->hosts[i].port != b->hosts[i].port)
                        return false;
        return true;
}

static bool target_is_empty(const db_target_t *t)
{
        return t->user == NULL && t->password == NULL && t->host_count == 0 &&
               t->database == NULL && t->socket == NULL;
}

/* ---- config_parse_database_url ---- */

static void check_target(const char *url, const db_target_t *t)
{
        CHECK(t->user != NULL && t->user[0] != '\0', "\"%s\": empty user", url);
        CHECK(t->password != NULL, "\"%s\": no password string", url);
        CHECK(t->database != NULL && t->database[0] != '\0' && strchr(t->database, '/') == NULL,
              "\"%s\": database \"%s\"", url, t->database ? t->database : "(null)");
        CHECK(t->host_count >= 1 && t->host_count <= DB_MAX_HOSTS, "\"%s\": %u hosts", url,
              t->host_count);
        for (unsigned i = 0; i < t->host_count; i++) {
                CHECK(t->hosts[i].port <= 65535, "\"%s\": port %u", url, t->hosts[i].port);
                CHECK(t->hosts[i].name != NULL && t->hosts[i].name[0] != '\0',
                      "\"%s\": empty host %u", url, i);
        }
        if (t->socket != NULL) {
                CHECK(t->host_count == 1 && strcmp(t->hosts[0].name, "localhost") == 0,
                      "\"%s\": socket with host \"%s\"", url, t->hosts[0].name);
                CHECK(t->socket[0] == '/', "\"%s\": socket path \"%s\"", url, t->socket);
        }
}

static int parse_url(const char *url, db_target_t *t, char *err)
{
        memset(err, '\x7f', ERR_SIZE);
        memset(t, 0xa5, sizeof(*t));
        int r = config_parse_database_url(url, t, err, ERR_SIZE);
        if (r == 0) {
                check_target(url, t);
        } else {
                CHECK(r < 0, "\"%s\": returned %d", url, r);
                CHECK(memchr(err, '\0', ERR_SIZE) != NULL, "\"%s\": error not terminated", url);
                CHECK(err[0] != '\0', "\"%s\": failed without a message", url);
                CHECK(target_is_empty(t), "\"%s\": failed but the target holds something", url);
        }
        return r;
}

static void check_database_url(const char *url, size_t small_err_size)
{
        db_target_t target, twin_target;
        char err[ERR_SIZE], twin_err[ERR_SIZE];

        int r = parse_url(url, &target, err);

        /* A short buffer gets a cut message, still terminated inside it. */
        char small[ERR_SIZE];
        db_target_t small_target;
        memset(small, '\x7f', sizeof(small));
        if (config_parse_database_url(url, &small_target, small, small_err_size) == 0) {
                CHECK(r == 0, "\"%s\": result depends on the error buffer", url);
                db_target_done(&small_target);
        } else {
                CHECK(r != 0, "\"%s\": result depends on the error buffer", url);
                CHECK(memchr(small, '\0', small_err_size) != NULL &&
                              small[small_err_size] == '\x7f',
                      "\"%s\": message not cut to %zu bytes", url, small_err_size);
        }

        char *twin = twin_url(url);
        if (twin != NULL) {
                int twin_r = parse_url(twin, &twin_target, twin_err);
                CHECK(twin_r == r, "\"%s\" gives %d, with another password %d", url, r, twin_r);
                if (r == 0)
                        CHECK(same_but_password(&target, &twin_target),
                              "\"%s\": the password changes other fields", url);
                else
                        CHECK(strcmp(err, twin_err) == 0,
                              "the error names the password: \"%s\" for \"%s\", \"%s\" for \"%s\"",
                              err, url, twin_err, twin);
                if (twin_r == 0)
                        db_target_done(&twin_target);
                free(twin);
        }

        if (r == 0) {
                db_target_done(&target);
                CHECK(target_is_empty(&target), "db_target_done left something behind");
                db_target_done(&target); /* twice is harmless */
        }
}

/* ---- config_from_env ---- */

static void set_env(size_t i, const char *value, size_t len)
{
        if (value == NULL) {
                unsetenv(env_names[i]);
                return;
        }
        if (len > ENV_VALUE_MAX)
                len = ENV_VALUE_MAX;
        snprintf(env_entries[i], sizeof(env_entries[i]), "%s=%.*s", env_names[i], (int)len, value);
        putenv(env_entries[i]);
}

static int load_config(config_t *c, char *err)
{
        memset(err, '\x7f', ERR_SIZE);
        memset(c, 0xa5, sizeof(*c));
        int r = config_from_env(c, err, ERR_SIZE);
        if (r != 0) {
                CHECK(r < 0, "config_from_env returned %d", r);
                CHECK(memchr(err, '\0', ERR_SIZE) != NULL, "config error not terminated");
                CHECK(err[0] != '\0', "config_from_env failed without a message");
                CHECK(target_is_empty(&c->db) && c->database_url_redacted == NULL,
                      "config_from_env failed but the config holds something");
                return r;
        }
        const char *url = getenv("QUERYD_DATABASE_URL");
        check_target(url, &c->db);
        CHECK(c->database_url_redacted != NULL, "no redacted URL");
        CHECK(memchr(c->listen_host, '\0', sizeof(c->listen_host)) != NULL &&
                      c->listen_host[0] != '\0',
              "listen host empty or not terminated");
        CHECK(c->listen_port >= 1, "listen port 0");
        CHECK(c->workers >= 1 && c->workers <= 256, "workers %u", c->workers);
        CHECK(c->pool_size >= 1, "pool size %u", c->pool_size);
        const char *tz = c->time_zone;
        CHECK(strlen(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && isdigit((unsigned char)tz[1]) &&
                      isdigit((unsigned char)tz[2]) && tz[3] == ':' && tz[4] >= '0' &&
                      tz[4] <= '5' && isdigit((unsigned char)tz[5]) &&
                      (tz[1] - '0') * 10 + (tz[2] - '0') <= 14,
              "time zone \"%s\"", tz);
        return 0;
}

static void check_from_env(const char *text)
{
        const char *values[ENV_COUNT] = { NULL };
        size_t lens[ENV_COUNT] = { 0 };
        const char *line = text;

        for (size_t i = 0; i < ENV_COUNT && line != NULL; i++) {
                const char *nl = strchr(line, '\n');
                values[i] = line;
                lens[i] = nl ? (size_t)(nl - line) : strlen(line);
                line = nl ? nl + 1 : NULL;
        }
        if (lens[0] == 0)
                values[0] = NULL; /* the empty string is tried by check_database_url */
        for (size_t i = 0; i < ENV_COUNT; i++)
                set_env(i, values[i], lens[i]);

        config_t config, twin_config;
        char err[ERR_SIZE], twin_err[ERR_SIZE];
        int r = load_config(&config, err);

        const char *url = getenv("QUERYD_DATABASE_URL");
        char *twin = url ? twin_url(url) : NULL;
        if (twin != NULL) {
                set_env(0, twin, strlen(twin));
                int twin_r = load_config(&twin_config, twin_err);
                CHECK(twin_r == r, "config gives %d, with another password %d", r, twin_r);
                if (r == 0) {
                        CHECK(same_but_password(&config.db, &twin_config.db),
                              "the password changes other fields");
                        CHECK(strcmp(config.database_url_redacted,
                                     twin_config.database_url_redacted) == 0,
                              "the redacted URL shows the password: \"%s\", \"%s\"",
                              config.database_url_redacted, twin_config.database_url_redacted);
                        config_done(&twin_config);
                } else {
                        CHECK(strcmp(err, twin_err) == 0,
                              "the config error names the password: \"%s\", \"%s\"", err,
                              twin_err);
                }
                free(twin);
        }
        if (r == 0) {
                config_done(&config);
                CHECK(target_is_empty(&config.db) && config.database_url_redacted == NULL,
                      "config_done left something behind");
                config_done(&config); /* twice is harmless */
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_copy_text(data, size);
        check_database_url(text, 1 + size % 48);
        check_from_env(text);
        free(text);
        return 0;
}
