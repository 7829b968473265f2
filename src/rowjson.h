/*
 * Result rows -> JSON objects, generically from the result's column metadata,
 * following the one documented type mapping (README, "JSON types").
 */
#ifndef QUERYD_ROWJSON_H
#define QUERYD_ROWJSON_H

#include <mysql.h>
#include <stdbool.h>

#include "scope.h"
#include "strbuf.h"

typedef struct rowjson_column rowjson_column_t;

typedef struct rowjson {
        unsigned count;
        rowjson_column_t *columns;
        MYSQL_BIND *binds;
        const char *time_zone; /* offset appended to TIMESTAMP values */
} rowjson_t;

/**
 * Binds result buffers for the statement's columns, allocated in scope.
 * Call after execute and before the first fetch. Returns 0, -ENOMEM, or -EIO
 * when the client library refuses the binding.
 */
int rowjson_bind(rowjson_t *rj, scope_t *scope, MYSQL_STMT *stmt, const char *time_zone);

/**
 * Appends the row fetched last as a JSON object. Values longer than their
 * buffer are read whole with mysql_stmt_fetch_column (no I/O: the row is in
 * client memory). Out of memory shows as out->failed.
 */
void rowjson_append_row(rowjson_t *rj, MYSQL_STMT *stmt, strbuf_t *out);

/** Index of the column with this name, or -1. */
int rowjson_find_column(const rowjson_t *rj, const char *name);

/** The fetched row's value of an integer column; false when NULL or not an integer. */
bool rowjson_get_int(const rowjson_t *rj, int column, long long *ret_value);

#endif
