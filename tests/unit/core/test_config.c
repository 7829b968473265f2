/*
 * Unit tests for configuration: the database URL parser and the environment
 * reader, including that the password shows up in no message and no log line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "test.h"

#define PASSWORD "Pw0rdXyzzy"
#define GOOD_URL "mysql://app:" PASSWORD "@db.example.com:3307/shop"

static const char *const variables[] = {
        "QUERYD_DATABASE_URL", "QUERYD_LISTEN",      "QUERYD_WORKERS",
        "QUERYD_POOL_SIZE",    "QUERYD_QUEUE_LIMIT", "QUERYD_ACQUIRE_TIMEOUT_MS",
        "QUERYD_QUERY_TIMEOUT_MS", "QUERYD_DRAIN_TIMEOUT_MS", "QUERYD_IDLE_TIMEOUT_MS",
        "QUERYD_HEADER_TIMEOUT_MS", "QUERYD_MAX_CONNECTIONS", "QUERYD_MAX_CONNECTIONS_PER_IP",
        "QUERYD_ACCESS_LOG", "QUERYD_TIME_ZONE", "QUERYD_START_TIMEOUT_MS", "QUERYD_CORS_ORIGINS",
        "QUERYD_ADMIN_LISTEN", "QUERYD_COMPRESSION", "QUERYD_REPLICA_URLS",
        "QUERYD_REPLICA_POOL_SIZE", "QUERYD_REPLICA_MAX_LAG_MS", "QUERYD_POSITION_COOKIE",
};

#define CONFIG_FILE "/etc/queryd/queryd.json"

/* Every numeric variable's default, as --help documents it. */
static void assert_numeric_defaults(const config_t *c)
{
        ASSERT_EQ_UINT(c->pool_size, 8);
        ASSERT_EQ_UINT(c->queue_limit, 1024);
        ASSERT_EQ_UINT(c->acquire_timeout_ms, 1000);
        ASSERT_EQ_UINT(c->query_timeout_ms, 5000);
        ASSERT_EQ_UINT(c->drain_timeout_ms, 10000);
        ASSERT_EQ_UINT(c->idle_timeout_ms, 30000);
        ASSERT_EQ_UINT(c->header_timeout_ms, 10000);
        ASSERT_EQ_UINT(c->max_connections, 10000);
        ASSERT_EQ_UINT(c->max_connections_per_ip, 1000);
        ASSERT_EQ_UINT(c->access_log, 1);
        ASSERT_EQ_UINT(c->start_timeout_ms, 30000);
}

/* Every variable unset but QUERYD_CONFIG, a file the tests name. */
static void clear_environment(void)
{
        for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
                unsetenv(variables[i]);
        setenv("QUERYD_CONFIG", CONFIG_FILE, 1);
}

static int target_is_empty(const db_target_t *t)
{
        return t->user == NULL && t->password == NULL && t->host_count == 0 && t->database == NULL &&
               t->socket == NULL;
}

/* ---- config_parse_database_url: accepted forms ---- */

static void test_url_several_hosts(void)
{
        db_target_t t;
        char err[256] = "";
        config_t c;

        ASSERT_EQ_INT(config_parse_database_url("mysql://app:" PASSWORD
                                                "@db1:3306,db2,[::1]:3307,[fe80::2]/shop",
                                                &t, err, sizeof(err)),
                      0);
        ASSERT_EQ_UINT(t.host_count, 4);
        ASSERT_EQ_STR(t.hosts[0].name, "db1");
        ASSERT_EQ_UINT(t.hosts[0].port, 3306);
        ASSERT_EQ_STR(t.hosts[1].name, "db2");
        ASSERT_EQ_UINT(t.hosts[1].port, 0);
        ASSERT_EQ_STR(t.hosts[2].name, "::1");
        ASSERT_EQ_UINT(t.hosts[2].port, 3307);
        ASSERT_EQ_STR(t.hosts[3].name, "fe80::2");
        ASSERT_EQ_UINT(t.hosts[3].port, 0);
        ASSERT_EQ_STR(t.database, "shop");
        db_target_done(&t);
        ASSERT_TRUE(target_is_empty(&t));

        clear_environment();
        setenv("QUERYD_DATABASE_URL", "mysql://app:" PASSWORD "@db1:3306,db2,[::1]:3307/shop", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_STR(c.database_url_redacted, "mysql://app:***@db1:3306,db2:3306,[::1]:3307/shop");
        config_done(&c);
        unsetenv("QUERYD_DATABASE_URL");
}

static void test_url_tcp_with_port(void)
{
        db_target_t t;
        char err[256] = "";

        ASSERT_EQ_INT(config_parse_database_url(GOOD_URL, &t, err, sizeof(err)), 0);
        ASSERT_EQ_STR(t.user, "app");
        ASSERT_EQ_STR(t.password, PASSWORD);
        ASSERT_EQ_STR(t.hosts[0].name, "db.example.com");
        ASSERT_EQ_UINT(t.hosts[0].port, 3307);
        ASSERT_EQ_STR(t.database, "shop");
        ASSERT_NULL(t.socket);
        db_target_done(&t);
        ASSERT_TRUE(target_is_empty(&t));
}

static void test_url_tcp_without_port(void)
{
        db_target_t t;
        char err[256] = "";

        ASSERT_EQ_INT(config_parse_database_url("mysql://app:secret@127.0.0.1/shop", &t, err,
                                                sizeof(err)),
                      0);
        ASSERT_EQ_STR(t.user, "app");
        ASSERT_EQ_STR(t.password, "secret");
        ASSERT_EQ_STR(t.hosts[0].name, "127.0.0.1");
        ASSERT_EQ_UINT(t.hosts[0].port, 0);
        ASSERT_EQ_STR(t.database, "shop");
        ASSERT_NULL(t.socket);
        db_target_done(&t);
}

static void test_url_port_bounds(void)
{
        db_target_t t;
        char err[256] = "";

        ASSERT_EQ_INT(config_parse_database_url("mysql://u:p@h:1/d", &t, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(t.hosts[0].port, 1);
        db_target_done(&t);
        ASSERT_EQ_INT(config_parse_database_url("mysql://u:p@h:65535/d", &t, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(t.hosts[0].port, 65535);
        db_target_done(&t);
}

static void test_url_socket(void)
{
        db_target_t t;
        char err[256] = "";

        ASSERT_EQ_INT(config_parse_database_url(
                              "mysql://app:secret@localhost/shop?socket=/run/mysqld/mysqld.sock", &t,
                              err, sizeof(err)),
                      0);
        ASSERT_EQ_STR(t.user, "app");
        ASSERT_EQ_STR(t.password, "secret");
        ASSERT_EQ_STR(t.hosts[0].name, "localhost");
        ASSERT_EQ_STR(t.database, "shop");
        ASSERT_EQ_STR(t.socket, "/run/mysqld/mysqld.sock");
        ASSERT_EQ_UINT(t.hosts[0].port, 0);
        db_target_done(&t);
}

static void test_url_percent_encoded_credentials(void)
{
        db_target_t t;
        char err[256] = "";

        /* The password holds '@', ':' and '/', which the URL must encode. */
        ASSERT_EQ_INT(config_parse_database_url("mysql://us%40er%3a1:p%40ss%3Aw%2Frd%25@h:3306/db",
                                                &t, err, sizeof(err)),
                      0);
        ASSERT_EQ_STR(t.user, "us@er:1");
        ASSERT_EQ_STR(t.password, "p@ss:w/rd%");
        ASSERT_EQ_STR(t.hosts[0].name, "h");
        ASSERT_EQ_UINT(t.hosts[0].port, 3306);
        ASSERT_EQ_STR(t.database, "db");
        db_target_done(&t);
}

static void test_url_raw_at_sign_in_password(void)
{
        db_target_t t;
        char err[256] = "";

        /* The last '@' ends the credentials, so an unencoded '@' still works. */
        ASSERT_EQ_INT(config_parse_database_url("mysql://app:p@ss@h/db", &t, err, sizeof(err)), 0);
        ASSERT_EQ_STR(t.user, "app");
        ASSERT_EQ_STR(t.password, "p@ss");
        ASSERT_EQ_STR(t.hosts[0].name, "h");
        db_target_done(&t);
}

static void test_url_without_password(void)
{
        db_target_t t;
        char err[256] = "";

        ASSERT_EQ_INT(config_parse_database_url("mysql://app@h/db", &t, err, sizeof(err)), 0);
        ASSERT_EQ_STR(t.user, "app");
        ASSERT_EQ_STR(t.password, "");
        db_target_done(&t);
}

/* ---- config_parse_database_url: refused forms ---- */

static void check_refused(const char *url, const char *file, int line)
{
        db_target_t t;
        char err[256] = "";
        int r = config_parse_database_url(url, &t, err, sizeof(err));

        if (r != -EINVAL || err[0] == '\0' || !test_contains(err, "QUERYD_DATABASE_URL") ||
            test_contains(err, PASSWORD) || !target_is_empty(&t)) {
                test_fail_header(file, line);
                fprintf(stderr, "URL %s: got %d (expected %d), message \"%s\"%s\n",
                        url ? url : "NULL", r, -EINVAL, err,
                        target_is_empty(&t) ? "" : ", target not emptied");
        } else {
                test_pass();
        }
        if (r == 0)
                db_target_done(&t);
}

#define ASSERT_URL_REFUSED(url) check_refused((url), __FILE__, __LINE__)

static void test_url_refused(void)
{
        ASSERT_URL_REFUSED(NULL);
        ASSERT_URL_REFUSED("");
        ASSERT_URL_REFUSED("http://app:" PASSWORD "@h/db");
        ASSERT_URL_REFUSED("mysql:/app:" PASSWORD "@h/db");
        ASSERT_URL_REFUSED("MYSQL://app:" PASSWORD "@h/db");
        /* missing user */
        ASSERT_URL_REFUSED("mysql://h/db");
        ASSERT_URL_REFUSED("mysql://:" PASSWORD "@h/db");
        ASSERT_URL_REFUSED("mysql://@h/db");
        /* missing database */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h/");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:3306");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h/?socket=/tmp/s");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h/db/extra");
        /* empty host */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@:3306/db");
        /* bad ports */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:0/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:65536/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:abc/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:-1/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:+80/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:80x/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h:99999999999/db");
        /* a socket needs localhost */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@127.0.0.1/db?socket=/tmp/mysql.sock");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@db.example.com/db?socket=/tmp/mysql.sock");
        /* unknown or malformed options */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h/db?ssl=1");
        /* host lists */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h1,,h2/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h1,/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@,h1/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h1:3306,h2:0/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@a,b,c,d,e,f,g,h,i/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@[::1/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@[::1]x/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@[]/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@localhost,h2/db?socket=/tmp/s");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@localhost/db?socket=/tmp/s&ssl=1");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@localhost/db?socket=relative.sock");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@localhost/db?socket=");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@localhost/db?socket=/tmp/%zz");
        /* malformed percent escapes */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "%zz@h/db");
        ASSERT_URL_REFUSED("mysql://a%zzpp:" PASSWORD "@h/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "%4@h/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "%@h/db");
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "@h/d%zzb");
        /* an encoded NUL would silently cut the value */
        ASSERT_URL_REFUSED("mysql://app:" PASSWORD "%00@h/db");
        ASSERT_URL_REFUSED("mysql://a%00pp:" PASSWORD "@h/db");
}

/* ---- config_from_env ---- */

static void test_env_defaults(void)
{
        config_t c;
        char err[256] = "";
        long cores = sysconf(_SC_NPROCESSORS_ONLN);

        clear_environment();
        setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_STR(err, "");
        ASSERT_EQ_STR(c.listen_host, "127.0.0.1");
        ASSERT_EQ_UINT(c.listen_port, 8080);
        ASSERT_EQ_UINT(c.admin_port, 0);
        assert_numeric_defaults(&c);
        ASSERT_EQ_STR(c.time_zone, "+00:00");
        ASSERT_TRUE(c.workers >= 1);
        if (cores > 0 && cores <= 256)
                ASSERT_EQ_UINT(c.workers, (unsigned long)cores);
        ASSERT_EQ_STR(c.db.user, "app");
        ASSERT_EQ_STR(c.db.password, PASSWORD);
        ASSERT_EQ_STR(c.db.hosts[0].name, "db.example.com");
        ASSERT_EQ_UINT(c.db.hosts[0].port, 3307);
        ASSERT_EQ_STR(c.db.database, "shop");
        ASSERT_EQ_STR(c.database_url_redacted, "mysql://app:***@db.example.com:3307/shop");
        ASSERT_NOT_CONTAINS(c.database_url_redacted, PASSWORD);
        ASSERT_EQ_STR(c.config_path, CONFIG_FILE);
        ASSERT_NULL(c.cors_origins);
        config_done(&c);
        ASSERT_NULL(c.database_url_redacted);
        ASSERT_NULL(c.config_path);
        ASSERT_NULL(c.db.password);
        config_done(&c); /* twice is safe */
        ASSERT_NULL(c.db.user);
}

/* Without QUERYD_CONFIG (unset or empty) the database's tables are served. */
static void test_env_config_optional(void)
{
        const char *values[] = { NULL, "" };
        config_t c;
        char err[256];

        for (size_t i = 0; i < 2; i++) {
                clear_environment();
                setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
                if (values[i] == NULL)
                        unsetenv("QUERYD_CONFIG");
                else
                        setenv("QUERYD_CONFIG", values[i], 1);
                ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
                ASSERT_NULL(c.config_path);
                config_done(&c);
        }
}

static void test_env_empty_values_mean_defaults(void)
{
        config_t c;
        char err[256] = "";

        clear_environment();
        setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
        for (size_t i = 1; i < sizeof(variables) / sizeof(variables[0]); i++)
                setenv(variables[i], "", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_STR(c.listen_host, "127.0.0.1");
        ASSERT_EQ_UINT(c.listen_port, 8080);
        ASSERT_EQ_UINT(c.admin_port, 0);
        assert_numeric_defaults(&c);
        ASSERT_EQ_STR(c.time_zone, "+00:00");
        config_done(&c);
}

static void test_env_every_variable_set(void)
{
        config_t c;
        char err[256] = "";

        clear_environment();
        setenv("QUERYD_DATABASE_URL",
               "mysql://app:" PASSWORD "@localhost/shop?socket=/run/mysqld/mysqld.sock", 1);
        setenv("QUERYD_LISTEN", "0.0.0.0:9090", 1);
        setenv("QUERYD_WORKERS", "3", 1);
        setenv("QUERYD_POOL_SIZE", "16", 1);
        setenv("QUERYD_QUEUE_LIMIT", "0", 1);
        setenv("QUERYD_ACQUIRE_TIMEOUT_MS", "250", 1);
        setenv("QUERYD_QUERY_TIMEOUT_MS", "750", 1);
        setenv("QUERYD_DRAIN_TIMEOUT_MS", "0", 1);
        setenv("QUERYD_IDLE_TIMEOUT_MS", "2000", 1);
        setenv("QUERYD_HEADER_TIMEOUT_MS", "300", 1);
        setenv("QUERYD_MAX_CONNECTIONS", "64", 1);
        setenv("QUERYD_MAX_CONNECTIONS_PER_IP", "0", 1);
        setenv("QUERYD_ACCESS_LOG", "0", 1);
        setenv("QUERYD_TIME_ZONE", "-05:30", 1);
        setenv("QUERYD_START_TIMEOUT_MS", "0", 1);
        setenv("QUERYD_CORS_ORIGINS", "https://app.example.com,http://localhost:3000", 1);
        setenv("QUERYD_ADMIN_LISTEN", "localhost:9091", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_STR(c.admin_host, "localhost");
        ASSERT_EQ_UINT(c.admin_port, 9091);
        ASSERT_EQ_UINT(c.start_timeout_ms, 0);
        ASSERT_EQ_STR(c.cors_origins, "https://app.example.com,http://localhost:3000");
        ASSERT_EQ_STR(err, "");
        ASSERT_EQ_STR(c.listen_host, "0.0.0.0");
        ASSERT_EQ_UINT(c.listen_port, 9090);
        ASSERT_EQ_UINT(c.workers, 3);
        ASSERT_EQ_UINT(c.pool_size, 16);
        ASSERT_EQ_UINT(c.queue_limit, 0);
        ASSERT_EQ_UINT(c.acquire_timeout_ms, 250);
        ASSERT_EQ_UINT(c.query_timeout_ms, 750);
        ASSERT_EQ_UINT(c.drain_timeout_ms, 0);
        ASSERT_EQ_UINT(c.idle_timeout_ms, 2000);
        ASSERT_EQ_UINT(c.header_timeout_ms, 300);
        ASSERT_EQ_UINT(c.max_connections, 64);
        ASSERT_EQ_UINT(c.max_connections_per_ip, 0);
        ASSERT_EQ_UINT(c.access_log, 0);
        ASSERT_EQ_STR(c.time_zone, "-05:30");
        ASSERT_EQ_STR(c.db.socket, "/run/mysqld/mysqld.sock");
        ASSERT_EQ_STR(c.database_url_redacted,
                      "mysql://app:***@localhost/shop?socket=/run/mysqld/mysqld.sock");
        ASSERT_NOT_CONTAINS(c.database_url_redacted, PASSWORD);
        config_done(&c);
        config_done(&c);
        clear_environment();
}

static void test_env_limits_accepted(void)
{
        config_t c;
        char err[256] = "";

        clear_environment();
        setenv("QUERYD_DATABASE_URL", "mysql://app:" PASSWORD "@h/shop", 1);
        setenv("QUERYD_LISTEN", "localhost:65535", 1);
        setenv("QUERYD_WORKERS", "256", 1);
        setenv("QUERYD_POOL_SIZE", "4096", 1);
        setenv("QUERYD_QUEUE_LIMIT", "1000000", 1);
        setenv("QUERYD_QUERY_TIMEOUT_MS", "10", 1);
        setenv("QUERYD_TIME_ZONE", "+14:00", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_STR(c.listen_host, "localhost");
        ASSERT_EQ_UINT(c.listen_port, 65535);
        ASSERT_EQ_UINT(c.workers, 256);
        ASSERT_EQ_UINT(c.pool_size, 4096);
        ASSERT_EQ_UINT(c.queue_limit, 1000000);
        ASSERT_EQ_UINT(c.query_timeout_ms, 10);
        ASSERT_EQ_STR(c.time_zone, "+14:00");
        /* No port in the URL: the redacted form shows the client's default. */
        ASSERT_EQ_STR(c.database_url_redacted, "mysql://app:***@h:3306/shop");
        config_done(&c);
        clear_environment();
}

/* Sets one variable to a bad value on top of a good environment and expects
 * -EINVAL, a message naming that variable and no trace of the password. */
static void check_env_refused(const char *name, const char *value, const char *file, int line)
{
        config_t c;
        char err[256] = "";

        clear_environment();
        setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
        if (value != NULL)
                setenv(name, value, 1);
        else
                unsetenv(name);
        int r = config_from_env(&c, err, sizeof(err));
        bool emptied = c.database_url_redacted == NULL && target_is_empty(&c.db);
        if (r != -EINVAL || !test_contains(err, name) || test_contains(err, PASSWORD) || !emptied) {
                test_fail_header(file, line);
                fprintf(stderr, "%s=%s: got %d (expected %d), message \"%s\"%s\n", name,
                        value ? value : "(unset)", r, -EINVAL, err,
                        emptied ? "" : ", config not emptied");
        } else {
                test_pass();
        }
        config_done(&c); /* holds nothing, and must not mind */
        clear_environment();
}

#define ASSERT_ENV_REFUSED(name, value) check_env_refused((name), (value), __FILE__, __LINE__)

static void test_env_invalid_values(void)
{
        ASSERT_ENV_REFUSED("QUERYD_DATABASE_URL", NULL);
        ASSERT_ENV_REFUSED("QUERYD_DATABASE_URL", "");
        ASSERT_ENV_REFUSED("QUERYD_DATABASE_URL", "http://app:" PASSWORD "@h/db");
        ASSERT_ENV_REFUSED("QUERYD_DATABASE_URL", "mysql://app:" PASSWORD "@h:0/db");
        ASSERT_ENV_REFUSED("QUERYD_DATABASE_URL", "mysql://app:" PASSWORD "%zz@h/db");

        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "8080");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", ":8080");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "127.0.0.1:");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "127.0.0.1:0");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "127.0.0.1:65536");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "127.0.0.1:http");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN", "127.0.0.1:80 ");
        ASSERT_ENV_REFUSED("QUERYD_LISTEN",
                           "a-host-name-that-is-far-too-long-to-fit-in-sixty-four-bytes.example:80");
        ASSERT_ENV_REFUSED("QUERYD_ADMIN_LISTEN", "9090");
        ASSERT_ENV_REFUSED("QUERYD_ADMIN_LISTEN", ":9090");
        ASSERT_ENV_REFUSED("QUERYD_ADMIN_LISTEN", "127.0.0.1:0");
        ASSERT_ENV_REFUSED("QUERYD_ADMIN_LISTEN", "127.0.0.1:metrics");
        /* The default QUERYD_LISTEN's port: the two would share its connections. */
        ASSERT_ENV_REFUSED("QUERYD_ADMIN_LISTEN", "0.0.0.0:8080");

        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "0");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "257");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "-1");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "+2");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", " 2");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "2 ");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "two");
        ASSERT_ENV_REFUSED("QUERYD_WORKERS", "4294967297");

        ASSERT_ENV_REFUSED("QUERYD_POOL_SIZE", "0");
        ASSERT_ENV_REFUSED("QUERYD_POOL_SIZE", "4097");
        ASSERT_ENV_REFUSED("QUERYD_POOL_SIZE", "8x");
        ASSERT_ENV_REFUSED("QUERYD_POOL_SIZE", "99999999999999999999999");

        ASSERT_ENV_REFUSED("QUERYD_QUEUE_LIMIT", "-1");
        ASSERT_ENV_REFUSED("QUERYD_QUEUE_LIMIT", "1000001");
        ASSERT_ENV_REFUSED("QUERYD_QUEUE_LIMIT", "lots");

        ASSERT_ENV_REFUSED("QUERYD_QUERY_TIMEOUT_MS", "9");
        ASSERT_ENV_REFUSED("QUERYD_QUERY_TIMEOUT_MS", "3600001");
        ASSERT_ENV_REFUSED("QUERYD_QUERY_TIMEOUT_MS", "1.5");
        ASSERT_ENV_REFUSED("QUERYD_ACQUIRE_TIMEOUT_MS", "0");
        ASSERT_ENV_REFUSED("QUERYD_IDLE_TIMEOUT_MS", "999");
        ASSERT_ENV_REFUSED("QUERYD_HEADER_TIMEOUT_MS", "99");
        ASSERT_ENV_REFUSED("QUERYD_MAX_CONNECTIONS", "0");
        ASSERT_ENV_REFUSED("QUERYD_ACCESS_LOG", "2");
        ASSERT_ENV_REFUSED("QUERYD_ACCESS_LOG", "yes");

        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "UTC");
        ASSERT_ENV_REFUSED("QUERYD_START_TIMEOUT_MS", "-1");
        ASSERT_ENV_REFUSED("QUERYD_CORS_ORIGINS", "example.com");
        ASSERT_ENV_REFUSED("QUERYD_CORS_ORIGINS", "https://a.example,");
        ASSERT_ENV_REFUSED("QUERYD_CORS_ORIGINS", "https://a.example/path");
        ASSERT_ENV_REFUSED("QUERYD_CORS_ORIGINS", "https://a.example, https://b.example");
        ASSERT_ENV_REFUSED("QUERYD_CORS_ORIGINS", "*,https://a.example");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+5:00");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "05:00");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+0500");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+15:00");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+05:60");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+05:00x");
        ASSERT_ENV_REFUSED("QUERYD_TIME_ZONE", "+a5:00");
}

static void test_config_done_twice_after_failure(void)
{
        config_t c;
        char err[64] = "";

        clear_environment();
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), -EINVAL);
        ASSERT_CONTAINS(err, "QUERYD_DATABASE_URL");
        config_done(&c);
        config_done(&c);
        ASSERT_NULL(c.database_url_redacted);
}

static void test_small_error_buffer_is_terminated(void)
{
        db_target_t t;
        char err[8];

        memset(err, 'x', sizeof(err));
        ASSERT_EQ_INT(config_parse_database_url("http://nope", &t, err, sizeof(err)), -EINVAL);
        ASSERT_EQ_UINT(strnlen(err, sizeof(err)), sizeof(err) - 1);
}

static void test_help_names_every_variable(void)
{
        for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++)
                ASSERT_CONTAINS(config_help, variables[i]);
}

static void test_env_replicas(void)
{
        config_t c;
        char err[256];

        clear_environment();
        setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(c.replica_count, 0);
        ASSERT_EQ_UINT(c.replica_max_lag_ms, 1000);
        ASSERT_EQ_UINT(c.replica_pool_size, 8);
        ASSERT_EQ_UINT(c.position_cookie, 0);
        config_done(&c);

        /* The second URL is a failover list: its commas are its own. */
        setenv("QUERYD_REPLICA_URLS", "mysql://r:" PASSWORD "@r1:3307/shop,"
               "mysql://r:" PASSWORD "@r2a:3308,r2b:3309/shop", 1);
        setenv("QUERYD_REPLICA_MAX_LAG_MS", "250", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(c.replica_count, 2);
        ASSERT_EQ_STR(c.replicas[0].hosts[0].name, "r1");
        ASSERT_EQ_UINT(c.replicas[1].host_count, 2);
        ASSERT_EQ_STR(c.replicas[1].hosts[1].name, "r2b");
        ASSERT_EQ_UINT(c.replicas[1].hosts[1].port, 3309);
        ASSERT_EQ_UINT(c.replica_max_lag_ms, 250);
        config_done(&c);
        config_done(&c);

        setenv("QUERYD_REPLICA_URLS", GOOD_URL ",mysql://r:" PASSWORD "@r2:99999/shop", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), -EINVAL);
        ASSERT_CONTAINS(err, "QUERYD_REPLICA_URLS: replica 2");
        ASSERT_NOT_CONTAINS(err, PASSWORD);
        setenv("QUERYD_REPLICA_URLS", "postgres://x@y/z", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), -EINVAL);
        ASSERT_CONTAINS(err, "QUERYD_REPLICA_URLS");
        clear_environment();
}

/* QUERYD_COMPRESSION: codings with levels in order, the defaults, off, and refusals. */
static void test_env_compression(void)
{
        static const char *const refused[] = {
                "zstd:0", "zstd:20", "gzip:10", "gzip:", "br", "zstd,zstd", "gzip:6,gzip:1",
                "zstd,", ",gzip", "zstd:3;gzip", "ZSTD", "zstd:-1", "zstd:3,gzip:6,zstd:1", "none",
        };
        char err[256];
        config_t c;

        clear_environment();
        setenv("QUERYD_DATABASE_URL", GOOD_URL, 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(c.coding_count, 2);
        ASSERT_EQ_STR(c.codings[0].name, "zstd");
        ASSERT_EQ_INT(c.codings[0].level, 1);
        ASSERT_EQ_STR(c.codings[1].name, "gzip");
        ASSERT_EQ_INT(c.codings[1].level, 1);
        config_done(&c);
        setenv("QUERYD_COMPRESSION", "gzip:9,zstd", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(c.coding_count, 2);
        ASSERT_EQ_STR(c.codings[0].name, "gzip");
        ASSERT_EQ_INT(c.codings[0].level, 9);
        ASSERT_EQ_STR(c.codings[1].name, "zstd");
        ASSERT_EQ_INT(c.codings[1].level, 1);
        config_done(&c);
        setenv("QUERYD_COMPRESSION", "off", 1);
        ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), 0);
        ASSERT_EQ_UINT(c.coding_count, 0);
        config_done(&c);
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                setenv("QUERYD_COMPRESSION", refused[i], 1);
                ASSERT_EQ_INT(config_from_env(&c, err, sizeof(err)), -EINVAL);
                ASSERT_CONTAINS(err, "QUERYD_COMPRESSION");
        }
        unsetenv("QUERYD_COMPRESSION");
}

int main(void)
{
        RUN_TEST(test_url_tcp_with_port);
        RUN_TEST(test_url_several_hosts);
        RUN_TEST(test_url_tcp_without_port);
        RUN_TEST(test_url_port_bounds);
        RUN_TEST(test_url_socket);
        RUN_TEST(test_url_percent_encoded_credentials);
        RUN_TEST(test_url_raw_at_sign_in_password);
        RUN_TEST(test_url_without_password);
        RUN_TEST(test_url_refused);
        RUN_TEST(test_env_defaults);
        RUN_TEST(test_env_config_optional);
        RUN_TEST(test_env_empty_values_mean_defaults);
        RUN_TEST(test_env_every_variable_set);
        RUN_TEST(test_env_limits_accepted);
        RUN_TEST(test_env_invalid_values);
        RUN_TEST(test_config_done_twice_after_failure);
        RUN_TEST(test_small_error_buffer_is_terminated);
        RUN_TEST(test_help_names_every_variable);
        RUN_TEST(test_env_compression);
        RUN_TEST(test_env_replicas);
        clear_environment();
        return test_report();
}
