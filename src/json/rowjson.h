/*
 * Result rows -> JSON objects, generically from the result's column metadata,
 * following the one documented type mapping (README, "JSON types").
 */
#ifndef QUERYD_ROWJSON_H
#define QUERYD_ROWJSON_H

#include <mysql.h>
#include <stdbool.h>

#include "api/api.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "json/row_format.h"

typedef struct rowjson_column rowjson_column_t;

/** How a result is written; the caller's memory, read while the result is. */
typedef struct rowjson_options {
        const char *time_zone;        /* offset appended to TIMESTAMP values */
        const api_output_t *outputs;  /* per result column, or NULL: all default */
        unsigned output_count;        /* columns past it (a table changed since) are default */
        unsigned visible;             /* columns written, the first ones; 0: all */
} rowjson_options_t;

typedef struct rowjson {
        unsigned count;
        unsigned visible;
        rowjson_column_t *columns;
        const char *time_zone;
} rowjson_t;

/**
 * Sets the statement up so that each fetched row is read into rj (its
 * columns allocated in scope). Call after execute and before the first
 * fetch; rj must stay where it is while rows are fetched. A row's strings
 * are read where the client library received them: they are valid until
 * the next fetch. Returns 0, -ENOMEM, or -EIO when the library refuses.
 */
int rowjson_bind(rowjson_t *rj, scope_t *scope, MYSQL_STMT *stmt, const rowjson_options_t *options);

/**
 * Appends the row fetched last as a JSON object of its visible columns.
 * Out of memory shows as out->failed.
 */
void rowjson_append_row(const rowjson_t *rj, strbuf_t *out);

/**
 * Appends the visible columns' names as a CSV header line (RFC 4180, CRLF).
 * The result must have been bound.
 */
void rowjson_append_csv_header(const rowjson_t *rj, strbuf_t *out);

/**
 * Appends the row fetched last as a CSV line: values as in JSON (strings
 * that need no escaping are quoted the same way in both), NULL as an empty
 * field, text and JSON columns as they are, quoted where RFC 4180 needs it.
 */
void rowjson_append_csv_row(const rowjson_t *rj, strbuf_t *out);

/**
 * Appends the row fetched last as row number index (from 0) of a list in
 * format: JSON objects separated by commas, NDJSON lines, or CSV lines with
 * the header line before the first.
 */
void rowjson_append_listed(const rowjson_t *rj, row_format_t format, unsigned long long index,
                           strbuf_t *out);

/**
 * The integer in column of the row fetched last (the bits of an unsigned
 * one): false when it is NULL or the column does not hold integers.
 */
bool rowjson_integer(const rowjson_t *rj, unsigned column, long long *ret_value);

/**
 * Appends one value of the row fetched last as a JSON string in the form a
 * request gives it (typed_value.h: integers as digits, times without zone),
 * or null: keyset cursors carry these.
 */
void rowjson_append_plain(const rowjson_t *rj, unsigned column, strbuf_t *out);

#endif
