/*
 * Result rows -> JSON objects, NDJSON lines or CSV lines, generically from
 * the result's column metadata, following the one documented type mapping
 * (json_types.h). The rows themselves are decoded by db_row.h.
 */
#ifndef QUERYD_ROWJSON_H
#define QUERYD_ROWJSON_H

#include <mysql.h>
#include <stdbool.h>

#include "api/api.h"
#include "core/scope.h"
#include "core/strbuf.h"
#include "db/db_row.h"
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
        rowjson_column_t *columns;     /* how each column is written */
        const db_row_column_t *fields; /* the row's: metadata, values of the row fetched last */
        const char *time_zone;
} rowjson_t;

/**
 * Prepares rj to write the rows of row (bound, db_row_bind) as options say,
 * its columns allocated in scope. row's columns must stay where they are
 * while rj writes; each append writes the row fetched last. Returns 0 or
 * -ENOMEM.
 */
int rowjson_prepare(rowjson_t *rj, scope_t *scope, const db_row_t *row,
                    const rowjson_options_t *options);

/**
 * Appends the row fetched last as a JSON object of its visible columns.
 * Out of memory shows as out->failed.
 */
void rowjson_append_row(const rowjson_t *rj, strbuf_t *out);

/**
 * Appends the visible columns' names as a CSV header line (RFC 4180, CRLF).
 * The result must have been prepared.
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
