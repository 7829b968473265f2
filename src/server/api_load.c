/* The database connection here is blocking and lives only while one
 * configuration is checked (and, without a file or with "schema": true,
 * the database's tables are read): the pool's connections are the workers'. */
#include "server/api_load.h"

#include <errno.h>
#include <mysql.h>
#include <stdio.h>
#include <time.h>

#include "auth/authenticate.h"
#include "core/log.h"
#include "routes/routes.h"

enum { CONNECT_TIMEOUT_S = 2, READ_TIMEOUT_S = 30, RETRY_MS = 250 };

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One attempt over every host in order; the connection, or NULL with why. */
static MYSQL *connect_once(const db_target_t *t, char *why, size_t why_size)
{
        unsigned connect_timeout = CONNECT_TIMEOUT_S, read_timeout = READ_TIMEOUT_S;

        for (unsigned i = 0; i < t->host_count; i++) {
                MYSQL *mysql = mysql_init(NULL);
                if (mysql == NULL) {
                        snprintf(why, why_size, "cannot initialise a client handle");
                        return NULL;
                }
                mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
                mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
                mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
                if (mysql_real_connect(mysql, t->socket ? NULL : t->hosts[i].name, t->user,
                                       t->password, t->database, t->hosts[i].port, t->socket, 0))
                        return mysql;
                snprintf(why, why_size, "%s", mysql_error(mysql));
                mysql_close(mysql);
        }
        return NULL;
}

static MYSQL *connect_within(const config_t *config, unsigned wait_ms, char *why, size_t n)
{
        uint64_t give_up = now_ms() + wait_ms;

        for (;;) {
                MYSQL *mysql = connect_once(&config->db, why, n);
                if (mysql != NULL || now_ms() >= give_up)
                        return mysql;
                nanosleep(&(struct timespec){ .tv_nsec = RETRY_MS * 1000000L }, NULL);
        }
}

/* The introspection's notes: one line per table served or left out. */
static void log_note(void *arg, bool skipped, const char *message)
{
        (void)arg;
        if (skipped)
                log_warn("%s", message);
        else
                log_info("%s", message);
}

/* The file's entries, or none without a file: the database's tables then. */
static api_t *read_entries(const config_t *config, char *err, size_t n)
{
        api_t *api;

        if (config->config_path != NULL)
                return api_config_load(config->config_path, err, n);
        /* The source names the api in messages, where a file's name would be. */
        char source[256];
        snprintf(source, sizeof(source), "database %s", config->db.database ? config->db.database
                                                                           : "(none)");
        api = api_new(source);
        if (api == NULL)
                snprintf(err, n, "out of memory");
        return api;
}

api_t *api_load(const config_t *config, unsigned wait_ms, char *err, size_t n,
                bool *ret_unreachable)
{
        const api_handlers_t *handlers =
                config->admin_port != 0 ? &routes_public_handlers : &routes_handlers;
        char why[256];
        api_t *api = read_entries(config, err, n);

        *ret_unreachable = false;
        if (api == NULL)
                return NULL;
        MYSQL *mysql = connect_within(config, wait_ms, why, sizeof(why));
        if (mysql == NULL) {
                if (config->config_path != NULL)
                        snprintf(err, n, "cannot reach the database to check %s against: %s",
                                 config->config_path, why);
                else
                        snprintf(err, n, "cannot reach the database to read its schema: %s", why);
                *ret_unreachable = true;
                api_free(api);
                return NULL;
        }
        int r = config->config_path == NULL || api->schema
                        ? api_introspect(api, mysql, handlers, log_note, NULL, err, n)
                        : 0;
        if (r == 0)
                r = api_schema_check(api, mysql, err, n);
        mysql_close(mysql);
        if (r == 0)
                r = auth_load_keys(api, err, n);
        if (r == 0)
                r = api_finish(api, handlers, err, n);
        if (r < 0) {
                api_free(api);
                return NULL;
        }
        if (config->config_path == NULL && api->resource_count == 0)
                log_warn("%s has no table or view its user may SELECT: only the built-in routes "
                         "answer", api->source);
        return api;
}
