/*
 * What the readers of the configuration file (api_config*.c, nothing else)
 * share: where the parse is, for messages, the checks every section makes,
 * and the reader of each kind of entry. The cfg_ prefix marks this private
 * interface; api.h holds the public one.
 */
#ifndef QUERYD_API_CONFIG_PARSE_H
#define QUERYD_API_CONFIG_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "sql/named_sql.h"

enum {
        CFG_NAME_MAX_CHARS = 64,        /* MariaDB's limit for table and column names */
        CFG_ROWS_MAX = 1000000000,      /* results stream: rows cost no memory */
        CFG_TIMEOUT_MAX_MS = 3600000,
        CFG_SHOW_SIZE = 96,             /* what cfg_show() writes, NUL included */
        CFG_CACHE_MAX_MS = 86400000,    /* a day: longer belongs to an HTTP cache */
        CFG_CACHE_CONTROL_MAX = 256,
};

/* Where the parse is, for messages: "<file>: queries[1] "/peers": ...". */
typedef struct cfg_ctx {
        const char *source;
        const char *section;    /* "resources" or "queries"; NULL at the top level */
        size_t index;
        const char *path;       /* the entry's path once it is known to be valid */
        const char *param;      /* the parameter being read, once its name is valid */
        char *err;
        size_t err_size;
} cfg_ctx_t;

/** Writes the message, prefixed with where the parse is, to c->err; returns -EINVAL. */
int cfg_fail(const cfg_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Writes "<source>: out of memory" to c->err; returns -ENOMEM. */
int cfg_nomem(const cfg_ctx_t *c);

/**
 * len bytes of text from the file, quoted for a message in buf: quotes,
 * backslashes and control characters escaped and long text cut. Returns buf.
 */
const char *cfg_show_n(char buf[CFG_SHOW_SIZE], const char *text, size_t len);

/** cfg_show_n() of a NUL-terminated text. */
const char *cfg_show(char buf[CFG_SHOW_SIZE], const char *text);

/** Fails on a key of object that is not in allowed (NULL-terminated). */
int cfg_check_keys(const cfg_ctx_t *c, json_t *object, const char *const *allowed);

/** The optional integer member key of object, within [min, max]; def when absent. */
int cfg_get_unsigned(const cfg_ctx_t *c, json_t *object, const char *key, unsigned min,
                     unsigned max, unsigned def, unsigned *ret);

/**
 * An entry's "cache_ms" (0 to CFG_CACHE_MAX_MS, default 0: no caching) and
 * "cache_control" (1 to CFG_CACHE_CONTROL_MAX visible ASCII characters and
 * spaces, no control characters; NULL when absent, else malloc'ed).
 */
int cfg_parse_caching(const cfg_ctx_t *c, json_t *entry, unsigned *ret_ms, char **ret_control);

/**
 * A "methods" array: a non-empty set of GET, POST, PUT, PATCH and DELETE,
 * none twice, as API_METHOD_* bits in *ret. what prefixes the messages
 * ("" for an entry's, "roles \"r\": " for a role's).
 */
int cfg_parse_methods(const cfg_ctx_t *c, json_t *v, const char *what, unsigned *ret);

/** Whether name (len bytes) is a placeholder name: letters, digits and _, no digit first. */
bool cfg_is_param_name(const char *name, size_t len);

/** Whether text is a claim path: names (cfg_is_param_name) joined by dots. */
bool cfg_is_claim_path(const char *text);

/** Whether name is a table or column name: 1 to CFG_NAME_MAX_CHARS characters. */
bool cfg_is_db_name(const char *name);

/** `name` with backticks doubled, malloc'ed (NULL when out of memory). */
char *cfg_quote_identifier(const char *name);

/** Whether a path segment of len bytes is a {capture}, as the router reads it. */
bool cfg_is_capture(const char *segment, size_t len);

/**
 * The {name} segments of a path cfg_entry_path() accepted, in order: each
 * name points into path, without its braces. Returns how many.
 */
size_t cfg_path_params(const char *path, const char **ret_names, size_t *ret_lens);

/**
 * Checks entry is an object whose "path" is valid (with {parameters} only
 * when allow_params) and copies the path to *ret, which the caller frees;
 * from then on messages name the entry by it.
 */
int cfg_entry_path(cfg_ctx_t *c, json_t *entry, bool allow_params, char **ret);

/** One member of a "types" object: the column name checked, its output read into *ret. */
int cfg_type_override(const cfg_ctx_t *c, const char *column, json_t *v, api_output_t *ret);

/**
 * Reads one "resources" entry into res, which starts zeroed. On failure res
 * may hold part of the entry: api_free() releases it with the rest.
 */
int cfg_parse_resource(cfg_ctx_t *c, json_t *entry, api_resource_t *res);

/** Reads one "queries" entry into q, as cfg_parse_resource() does a resource. */
int cfg_parse_query(cfg_ctx_t *c, json_t *entry, api_query_t *q);

/** Whether name may name a role: 1 to CFG_NAME_MAX_CHARS characters, none a control. */
bool cfg_is_role_name(const char *name);

/** Reads the "auth" section into auth, which starts zeroed (api_free releases it). */
int cfg_parse_auth(cfg_ctx_t *c, json_t *v, api_auth_t *auth);

/**
 * Reads an entry's "roles", when present, into a new array (*ret, *ret_count
 * counting the rules read, also on failure). narrows: "columns", "rows" and
 * "methods" are allowed (resources); otherwise every rule must be {}.
 * methods: the entry's, which a rule's "methods" must lie within and
 * which a rule without "methods" gets.
 */
int cfg_parse_access(const cfg_ctx_t *c, json_t *entry, bool narrows, unsigned methods,
                     api_access_t **ret, size_t *ret_count);

/**
 * A role's "rows" condition rewritten for the server: each :claims.<path>
 * becomes "?" and its name is kept in ret (named_sql_done frees it).
 * Refuses other placeholders and more than one statement.
 */
int cfg_row_condition(const cfg_ctx_t *c, const char *role, const char *rows,
                      named_sql_t *ret);

#endif
