/*
 * The text of write statements: INSERT (many rows, upserts, RETURNING),
 * UPDATE and DELETE heads, and key lists. Identifiers come from the
 * checked configuration, already quoted; every value is a placeholder.
 * No I/O, no request values: callers bind those.
 */
#ifndef QUERYD_WRITE_SQL_H
#define QUERYD_WRITE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "http/prefer.h"

/** What an INSERT or DELETE hands back (MariaDB's RETURNING). */
typedef enum write_returning {
        WRITE_RETURN_NOTHING,
        WRITE_RETURN_KEYS,    /* the key columns, in key order */
        WRITE_RETURN_COLUMNS, /* every column of the resource, in its order */
} write_returning_t;

/**
 * INSERT INTO t (columns...) VALUES (?, ...) repeated rows times, with
 * resolution's ON DUPLICATE KEY UPDATE and the RETURNING list. columns are
 * indexes into res->columns. A string in scope, or NULL (out of memory).
 */
char *write_sql_insert(const api_resource_t *res, const size_t *columns, size_t count, size_t rows,
                       prefer_resolution_t resolution, write_returning_t returning,
                       scope_t *scope);

/** UPDATE t SET c1 = ?, c2 = ?: the conditions follow. Into out. */
void write_sql_update_head(strbuf_t *out, const api_resource_t *res, const size_t *columns,
                           size_t count);

/** DELETE FROM t: the conditions follow. Into out. */
void write_sql_delete_head(strbuf_t *out, const api_resource_t *res);

/** SELECT <what> FROM t: the conditions follow. Into out. */
void write_sql_select_head(strbuf_t *out, const api_resource_t *res, write_returning_t what);

/** " RETURNING ..." for what (nothing for WRITE_RETURN_NOTHING). */
void write_sql_returning(strbuf_t *out, const api_resource_t *res, write_returning_t what);

/**
 * " WHERE (k1, k2) IN ((?, ?), ...)" for rows keys (k IN (?, ...) for a
 * single key), then, when visible and res has one, " AND (<the view's row
 * condition>)": its claims are bound after the keys.
 */
void write_sql_where_keys(strbuf_t *out, const api_resource_t *res, size_t rows, bool visible);

#endif
