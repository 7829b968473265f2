/*
 * The endpoints an operator declares in the configuration file (QUERYD_CONFIG):
 * resources (a table as a collection and its items) and named queries (a
 * parameterized SQL statement). An api_t is built in three steps:
 *   api_config_load()   the file -> entries, checked for shape (api_config.c)
 *   api_schema_check()  entries checked against the live schema, column
 *                       metadata filled in, every statement prepared (api_schema.c)
 *   api_finish()        statements, route table and OpenAPI document built (api_build.c)
 * After that it is read-only and shared by every worker; requests hold a
 * reference, so a reload can replace it while they finish on the old one.
 */
#ifndef QUERYD_API_H
#define QUERYD_API_H

#include <jansson.h>
#include <mysql.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/router.h"

/* The kind of value a request may give for a column or a parameter. */
typedef enum api_type {
        API_TYPE_INT,      /* 64-bit integer (unsigned when rule.is_unsigned) */
        API_TYPE_NUMBER,   /* finite double (a FLOAT column when rule.is_float) */
        API_TYPE_DECIMAL,  /* exact decimal text: -?digits[.digits] */
        API_TYPE_STRING,   /* valid UTF-8, at most max_length characters */
        API_TYPE_BOOLEAN,  /* true/false (also 1/0) */
        API_TYPE_DATE,     /* YYYY-MM-DD */
        API_TYPE_DATETIME, /* YYYY-MM-DD[T ]hh:mm:ss[.ffffff] */
        API_TYPE_TIME,     /* [-]h..h:mm:ss[.ffffff] */
        API_TYPE_ENUM,     /* one of values[] */
        API_TYPE_BINARY,   /* base64, at most max_length bytes once decoded */
        API_TYPE_JSON,     /* a JSON column: only tested for null */
} api_type_t;

/** What a request value must be; also how it is bound. */
typedef struct api_rule {
        api_type_t type;
        bool is_unsigned;
        bool is_float;
        bool has_min, has_max;  /* INT and NUMBER bounds */
        double min, max;        /* for INT, whole numbers within +-2^53 */
        size_t max_length;      /* STRING: characters, BINARY: bytes; 0: no limit */
        char **values;          /* ENUM */
        size_t value_count;
} api_rule_t;

/** The "types" override: how a column's values are written. */
typedef enum api_output {
        API_OUTPUT_DEFAULT, /* the documented mapping (README, "JSON types") */
        API_OUTPUT_BOOLEAN, /* integers as true/false */
        API_OUTPUT_NUMBER,  /* DECIMAL and big BIGINT as JSON numbers, exact digits */
        API_OUTPUT_STRING,  /* numbers as strings */
} api_output_t;

/* The HTTP methods an entry or a role's rule allows: a bit each. */
enum { API_METHOD_GET = 1, API_METHOD_POST = 2, API_METHOD_PUT = 4, API_METHOD_PATCH = 8, API_METHOD_DELETE = 16 };

/** The bit of an HTTP method name ("GET", and HEAD as GET), or 0 for another. */
unsigned api_method_bit(const char *method);

/** A column as the live schema describes it (from the result metadata). */
typedef struct api_column_meta {
        enum enum_field_types type;
        unsigned flags;         /* NOT_NULL_FLAG, UNSIGNED_FLAG, ... */
        unsigned charsetnr;     /* 63: binary */
        unsigned long length;   /* display length in bytes */
        unsigned decimals;
        bool is_json;
} api_column_meta_t;

typedef struct api_column {
        char *name;
        char *quoted;           /* `name`, backticks doubled: ready for SQL */
        api_output_t output;
        api_column_meta_t meta; /* filled by api_schema_check */
        api_rule_t rule;        /* derived from meta: what a filter value must be */
        bool nullable;
        bool orderable;         /* not JSON, BLOB or TEXT */
        bool writable;          /* a request may set it ("writable") */
        bool generated;         /* computed by the database: never written */
        bool auto_increment;
        bool required;          /* NOT NULL without a default and not auto_increment: an insert must give it */
} api_column_t;

/**
 * One role's rule on an entry ("roles" of a resource or a named query). A
 * role the entry does not list may not use it.
 */
typedef struct api_access {
        char *role;
        char **columns;         /* the columns the role may see; NULL: every column */
        size_t column_count;
        char *rows;             /* the row condition as written; NULL: every row */
        unsigned methods;       /* what the role may do: a subset of the entry's */
        struct api_resource *view; /* the resource as the role sees it, when columns or
                                      rows narrow it (api_finish); NULL: as it is */
} api_access_t;

/**
 * A way to embed another resource's rows in this one's (select=name(...)):
 * a foreign key between their tables (information_schema), seen from
 * either side, or one the configuration declares ("relations"). Built by
 * api_relations_build() for the entries only: a role's view uses its
 * entry's (api_resource_t.base), with the columns joined by name.
 */
typedef struct api_relation {
        char *name;             /* the related entry's table, or the declared "name" */
        char *constraint;       /* the foreign key's name; NULL: declared */
        char *target_path;      /* the related entry's path */
        const struct api_resource *target; /* the related entry (api_relations_build) */
        bool to_one;            /* this side holds the foreign key: an object or null */
        char **columns;         /* this entry's columns... */
        char **target_columns;  /* ...equal to these of the target, pairwise */
        size_t column_count;
} api_relation_t;

/* Coalesced item lookups (item_batch.c) send 1, 2, 4 ... API_MAX_LOOKUP_KEYS keys. */
enum { API_MAX_LOOKUP_KEYS = 64, API_LOOKUP_SIZES = 7 };

typedef struct api_resource {
        char *path;             /* "/users" */
        char *item_path;        /* "/users/{id}"; composite keys: "/pairs/{a}/{b}";
                                   NULL when key_count is 0 (a collection only) */
        char *table;
        char *quoted_table;
        api_column_t *columns;  /* as listed, or the table's own order when not */
        size_t column_count;
        bool all_columns;       /* "columns" was absent */
        bool all_writable;      /* "writable" was absent: every column not generated is */
        size_t *key;            /* indexes into columns */
        size_t key_count;       /* 0 only for a table api_introspect found without a key,
                                   or a view: pages then link by offset */
        unsigned default_limit; /* 100, or max_limit when smaller */
        unsigned max_limit;     /* default 1000 */
        unsigned timeout_ms;    /* 0: QUERYD_QUERY_TIMEOUT_MS */
        unsigned methods;       /* API_METHOD_* bits; default GET */
        unsigned max_affected;  /* default 1000 */
        unsigned cache_ms;      /* identical reads within this share one answer; 0: none */
        char *cache_control;    /* Cache-Control of its successful reads; NULL: none */
        char *item_sql;         /* SELECT <columns> FROM <table> WHERE k1 = ? AND ... (api_finish) */
        api_output_t *outputs;  /* each column's output, in order: the item's (api_finish) */
        char *lookup_sql[API_LOOKUP_SIZES]; /* ... WHERE k IN (?, ...) with 2^i placeholders,
                                               for a key of one integer column; NULL for
                                               other keys (api_finish) */
        api_access_t *access;   /* "roles"; NULL when absent */
        size_t access_count;
        const struct api_resource *base; /* a view: the entry it narrows; NULL otherwise */
        api_relation_t *relations; /* the entry's; first the declared ones as the file
                                      gives them, then all (api_relations_build) */
        size_t relation_count;
        /* A role's view (api_access_t.view) only: its row condition, with a ?
         * for each :claims.<path>, ANDed into every statement of the view. */
        char *row_sql;
        char **row_claims;      /* the claim path each ? of row_sql is bound to */
        size_t row_claim_count;
} api_resource_t;

typedef struct api_param {
        char *name;
        api_rule_t rule;
        char *default_text;     /* parsed like a request value; NULL: required */
        bool in_path;           /* a {name} segment of the path */
        char *from_claim;       /* "from": "claims.<path>": filled from the caller's
                                   claims, never from the request; the path */
} api_param_t;

/** A named output override, for columns only known once the query prepares. */
typedef struct api_type_override {
        char *column;
        api_output_t output;
} api_type_override_t;

typedef struct api_query {
        char *path;             /* may hold {name} segments */
        char *sql;              /* as written, with :name placeholders */
        char *bound_sql;        /* placeholders replaced by ? */
        size_t *bind_params;    /* for each ?, the index of its parameter */
        size_t bind_count;
        api_param_t *params;    /* the path's parameters first, in path order */
        size_t param_count;
        const char **query_arg_names; /* the others' names, NULL-terminated (api_finish) */
        api_output_t *outputs;  /* each result column's output (api_finish) */
        api_type_override_t *types;
        size_t type_count;
        unsigned method;        /* one API_METHOD_* bit; GET unless declared */
        unsigned max_rows;      /* default 10000: more rows is an error, not a cut */
        unsigned timeout_ms;    /* 0: QUERYD_QUERY_TIMEOUT_MS */
        unsigned cache_ms;      /* a GET: identical reads within this share one answer */
        char *cache_control;    /* Cache-Control of its successful GETs; NULL: none */
        api_column_t *columns;  /* the result's columns (api_schema_check) */
        size_t column_count;
        api_access_t *access;   /* "roles" (no columns or rows); NULL when absent */
        size_t access_count;
} api_query_t;

/** The "auth" section's "jwt": how bearer tokens are checked. */
typedef struct api_jwt {
        char *secret_env;       /* names the variable holding the HS* secret; NULL: none */
        char *jwks_file;        /* the public keys, RFC 7517; NULL: none */
        char *audience;         /* NULL: aud is not checked */
        char *issuer;           /* NULL: iss is not checked */
        char *role_claim;       /* a dotted path into the claims; default "role" */
        unsigned leeway_s;      /* default 30 */
} api_jwt_t;

typedef struct api_key {
        unsigned char sha256[32];
        char *role;
        json_t *claims;         /* an object ({} when absent), read only and shared by
                                   every request of the key (jansson counts atomically) */
} api_key_t;

/** What "auth"."roles" says of a role. */
typedef struct api_role {
        char *name;
        char *db_role;          /* the MariaDB role its statements run under; NULL: none */
        bool has_rate;
        double per_second;      /* requests per second per identity, with bursts of burst */
        double burst;
} api_role_t;

/** The "auth" section. Without it every caller may read every entry. */
typedef struct api_auth {
        api_jwt_t *jwt;         /* NULL: bearer tokens are refused */
        api_key_t *keys;
        size_t key_count;
        char *anonymous_role;   /* a caller without credentials; NULL: 401 */
        api_role_t *roles;
        size_t role_count;
        bool uses_db_roles;     /* some role names a db_role */
        void *verifier;         /* the loaded token keys (auth/), freed by verifier_free */
        void (*verifier_free)(void *verifier);
} api_auth_t;

/** The OpenAPI document as one role may see it. */
typedef struct api_role_document {
        char *role;             /* "": a role the file does not name; NULL: a caller with
                                   no role (no credentials and no anonymous role) */
        char *json;
        size_t len;
} api_role_document_t;

/** What a route of the api leads to. */
typedef enum api_target_kind {
        API_TARGET_BUILTIN,     /* /healthz, /readyz, /metrics, /openapi.json, the explorer */
        API_TARGET_COLLECTION,
        API_TARGET_ITEM,
        API_TARGET_QUERY,
} api_target_kind_t;

typedef struct api {
        atomic_long refs;
        char *source;           /* the file, for messages */
        api_resource_t *resources;
        size_t resource_count;
        api_query_t *queries;
        size_t query_count;
        route_t *routes;        /* built-in routes first, then the entries' (api_finish) */
        size_t route_count;
        char *openapi_json;     /* GET /openapi.json (api_finish); without "auth" */
        size_t openapi_json_len;
        api_auth_t *auth;       /* the "auth" section; NULL when absent */
        bool schema;            /* "schema": true, or no file: the database's own tables
                                   are served too (api_introspect) */
        api_role_document_t *role_documents; /* with "auth": one per role (api_finish) */
        size_t role_document_count;
} api_t;

/**
 * Reads and checks the file's shape (no database). Returns the new api with
 * one reference, or NULL with a message naming the file, the entry and the
 * problem in err.
 */
api_t *api_config_load(const char *path, char *err, size_t err_size);

/** As api_config_load, from text already in memory (tests, fuzzing); source names it. */
api_t *api_config_parse(const char *text, size_t len, const char *source, char *err,
                        size_t err_size);

/**
 * Checks every entry against the database mysql is connected to (blocking
 * calls: run at start and on reload, never on a worker loop): tables and
 * columns exist, every query prepares with its placeholders. Fills in the
 * column metadata, then builds the views (api_views_build) and the
 * relations (api_relations_build). Returns 0, or -EINVAL with the message
 * in err.
 */
int api_schema_check(api_t *api, MYSQL *mysql, char *err, size_t err_size);

/**
 * Builds each role's view of each resource (api_access_t.view): checks that
 * a rule's columns exist and include the key, and prepares its row
 * condition. The last step of api_schema_check. Returns 0, or -EINVAL with
 * a message naming the entry and the role in err, or -ENOMEM.
 */
int api_views_build(api_t *api, MYSQL *mysql, char *err, size_t err_size);

/**
 * The relations between served resources (api_resource_t.relations): the
 * foreign keys of information_schema.KEY_COLUMN_USAGE whose columns both
 * entries serve, in both directions, and the declared ones (with their
 * reverse) resolved to their entries. Run after api_schema_check, on
 * whatever resources the api holds then. Returns 0, or -EINVAL with a
 * message naming the entry in err (a declared relation to no entry or no
 * column), or -ENOMEM.
 */
int api_relations_build(api_t *api, MYSQL *mysql, char *err, size_t err_size);

/** Frees count relations and their array (api_relations_build's, the parser's). */
void api_relations_free(api_relation_t *relations, size_t count);

/** The rule of access (count of them) for role, or NULL when it names none. */
const api_access_t *api_access_for(const api_access_t *access, size_t count, const char *role);

/**
 * Whether a caller of role may use an entry with these rules (access, count
 * of them; NULL: the entry has no "roles"). Without "auth" every caller
 * may; role NULL (no credentials, no anonymous role) may use nothing; an
 * entry without "roles" admits every role but the anonymous one, one with
 * "roles" the roles it names.
 */
bool api_role_may_use(const api_t *api, const api_access_t *access, size_t count,
                      const char *role);

/**
 * What api_finish puts in the route table: the built-in routes as they are,
 * then a route for each entry with the methods of its kind that the entry
 * answers (api_resource_t.methods, api_query_t.method).
 */
typedef struct api_handlers {
        const route_t *builtins;
        size_t builtin_count;
        route_method_t collection[ROUTER_MAX_METHODS]; /* GET, POST, PATCH, DELETE /<resource> */
        route_method_t item[ROUTER_MAX_METHODS];       /* GET, PUT, PATCH, DELETE /<resource>/<key> */
        route_method_t query[ROUTER_MAX_METHODS];      /* a named query's path: one per method */
} api_handlers_t;

/**
 * Builds the route table alone: the builtins first, then a route for each
 * entry with the handlers of the methods it answers (api_finish's first
 * step; the OpenAPI document, 405's Allow and CORS preflights read it). An
 * entry built by hand with methods 0 answers GET. Returns 0 or -ENOMEM.
 */
int api_build_routes(api_t *api, const api_handlers_t *handlers);

/**
 * Builds the route table (api_build_routes), the statements and the
 * OpenAPI document. Returns 0, or -EINVAL when two entries claim the
 * same path (message in err), or -ENOMEM.
 */
int api_finish(api_t *api, const api_handlers_t *handlers, char *err, size_t err_size);

/**
 * The OpenAPI document of role (NULL: a caller with no role) under "auth":
 * its own, or that of roles the file does not name.
 */
const api_role_document_t *api_role_document(const api_t *api, const char *role);

/** The route of the api whose template is template, or NULL. */
const route_t *api_route(const api_t *api, const char *template);

/* ---- zero configuration: the database's own tables (api_introspect.c) ---- */

/** An api without entries, for api_introspect to fill; source names it in messages. */
api_t *api_new(const char *source);

/** Told of each table api_introspect serves or leaves out: one sentence. */
typedef void (*api_note_fn)(void *arg, bool skipped, const char *message);

/**
 * Appends a read-only resource (GET, every column) for each base table and
 * view of the database mysql is connected to (blocking calls: at start and
 * on reload) that the connected user may SELECT: at "/<name>", with items
 * by the primary key, else the first (by name) unique index of NOT NULL
 * comparable columns; views and tables without either are collections only
 * (key_count 0). A table is left out, with a note, when its name cannot be
 * a path segment or its paths are taken by an entry already in api or by a
 * route of handlers (those win). Run it before api_schema_check: it may
 * move api->resources. Returns 0, -EIO with the server's message in err
 * when the schema cannot be read, or -ENOMEM.
 */
int api_introspect(api_t *api, MYSQL *mysql, const api_handlers_t *handlers, api_note_fn note,
                   void *note_arg, char *err, size_t err_size);

void api_ref(api_t *api);

/** Drops a reference; the last one frees the api. Safe from any thread. */
void api_unref(api_t *api);

/** Frees an api that never left its builder (refs ignored). */
void api_free(api_t *api);

#endif
