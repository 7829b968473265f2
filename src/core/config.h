/*
 * Service configuration, read from the environment once at start and
 * read-only afterwards (worker threads share it without locks).
 */
#ifndef QUERYD_CONFIG_H
#define QUERYD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum {
        DB_MAX_HOSTS = 8,
        CONFIG_MAX_BATCH_LOOKUPS = 64,
        CONFIG_MAX_CODINGS = 2,
        CONFIG_MAX_REPLICAS = 8,
};

/** A content coding answers may be compressed with (QUERYD_COMPRESSION), and its level. */
typedef struct config_coding {
        char name[8]; /* "zstd" or "gzip", as Content-Encoding names it */
        int level;
} config_coding_t;

/** One database server: a host name or address, and a port (0: the default, 3306). */
typedef struct db_host {
        char *name;
        unsigned port;
} db_host_t;

/** Where and as whom to connect; every string is owned by the config. */
typedef struct db_target {
        char *user;
        char *password;
        char *database;
        char *socket;   /* NULL for TCP; then hosts[0] is "localhost" */
        db_host_t hosts[DB_MAX_HOSTS]; /* tried in order: a failed connect moves on */
        unsigned host_count;
} db_target_t;

typedef struct config {
        db_target_t db;
        char *database_url_redacted; /* the URL with its password masked, for logs */
        char listen_host[64];
        uint16_t listen_port;
        char admin_host[64];            /* QUERYD_ADMIN_LISTEN: /metrics, /healthz, /readyz */
        uint16_t admin_port;            /* 0: unset, they are served on the listen address */
        unsigned workers;
        unsigned pool_size;
        unsigned queue_limit;
        unsigned batch_lookups;         /* point lookups one statement may serve; 1: no coalescing */
        unsigned acquire_timeout_ms;    /* waiting for a connection: then 503 */
        unsigned query_timeout_ms;      /* a statement's run time: then 504 */
        unsigned drain_timeout_ms;      /* at shutdown, for requests in flight */
        unsigned idle_timeout_ms;       /* a silent client connection is closed */
        unsigned header_timeout_ms;     /* a request's headers must arrive within this */
        unsigned max_connections;       /* client connections, all workers together */
        unsigned max_connections_per_ip;
        unsigned access_log;            /* 1: one JSON line per request on stdout */
        unsigned start_timeout_ms;      /* waiting for the database at start */
        unsigned max_body_bytes;        /* a longer request body is refused with 413; 0: no limit */
        unsigned cache_bytes;           /* answers kept for entries with cache_ms; 0: none */
        char time_zone[8]; /* "+HH:MM" or "-HH:MM" */
        char *config_path;              /* QUERYD_CONFIG; NULL: serve the database's tables */
        char *cors_origins;             /* "*", "a,b" (checked), or NULL: no CORS */
        config_coding_t codings[CONFIG_MAX_CODINGS]; /* in the server's preference order */
        unsigned coding_count;          /* 0: answers are never compressed */
        /* Replicas of db (QUERYD_REPLICA_URLS), named replica1.. in that order. */
        db_target_t replicas[CONFIG_MAX_REPLICAS];
        unsigned replica_count;
        unsigned replica_pool_size;     /* connections to each replica in total */
        unsigned replica_max_lag_ms;    /* a replica further behind takes no reads */
        unsigned position_cookie;       /* 1: writes set, and reads take, a position cookie */
} config_t;

/** The help text listing every variable, for `queryd --help`. */
extern const char config_help[];

/**
 * Fills config from the environment. On failure returns -EINVAL and writes a
 * message naming the variable into err; the config then holds nothing to free.
 */
int config_from_env(config_t *config, char *err, size_t err_size);

/**
 * Parses mysql://user:pass@host:port/db, mysql://user:pass@host1:port,host2:port/db
 * (up to DB_MAX_HOSTS, IPv6 addresses in brackets) or
 * mysql://user:pass@localhost/db?socket=/path. User and password may be
 * percent-encoded. Returns 0 or -EINVAL with a message in err.
 */
int config_parse_database_url(const char *url, db_target_t *target, char *err, size_t err_size);

/** Frees what the config owns; safe to call twice. */
void config_done(config_t *config);
void db_target_done(db_target_t *target);

#endif
