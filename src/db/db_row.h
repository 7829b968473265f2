/*
 * Result rows of a prepared statement, decoded from the binary protocol
 * where Connector/C received them: each column's metadata, and its value in
 * the row fetched last (numbers and times decoded, strings left in place).
 */
#ifndef QUERYD_DB_ROW_H
#define QUERYD_DB_ROW_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/scope.h"

/** One value of the row fetched last. */
typedef struct db_row_value {
        union {
                long long i;   /* integer types: the bits of an unsigned one */
                double d;      /* DOUBLE */
                float f;       /* FLOAT */
                MYSQL_TIME t;  /* DATE, DATETIME, TIMESTAMP, TIME */
        } as;
        const char *bytes;     /* every other type (strings, DECIMAL, BIT, BLOB, JSON): */
        unsigned long length;  /* the value's bytes in the row as received */
        bool is_null;
} db_row_value_t;

/** A result column: what its metadata says, and its value in the row fetched last. */
typedef struct db_row_column {
        enum enum_field_types type; /* as sent: it decides the value's wire form */
        bool is_unsigned;
        bool is_json;               /* MYSQL_TYPE_JSON, or a format attribute saying json */
        unsigned decimals;
        unsigned charsetnr;         /* 63: binary */
        const char *name;           /* NUL-terminated, and name_len bytes */
        size_t name_len;
        db_row_value_t value;
} db_row_column_t;

typedef struct db_row {
        unsigned count;
        db_row_column_t *columns;
        const NET *net;             /* the receive buffer fetched rows lie in */
        bool malformed;             /* a fetched value ran past the bytes it could lie in */
} db_row_t;

/**
 * Reads the result metadata of stmt (after execute, before the first
 * fetch) into row, columns allocated in scope, and routes every fetched
 * value to db_row_column_cb: each column is bound as a placeholder
 * (MADB_BIND_DUMMY) and the statement's result callback is set. row must
 * stay where it is while rows are fetched. A statement without a result
 * leaves row->count 0. Returns 0, -ENOMEM, or -EIO when the library refuses.
 *
 * A value's bytes stay valid until the next fetch. Live rows are bounded by
 * the connection's receive buffer (see db_row_column_cb); a value that would
 * run past it sets row->malformed, which the fetching code must treat as a
 * failed fetch. A fetched row with malformed false is decoded in full.
 */
int db_row_bind(db_row_t *row, scope_t *scope, MYSQL_STMT *stmt);

/**
 * The result callback db_row_bind installs (ps_result_callback), exposed so
 * that tests drive it as Connector/C does: data is the db_row_t, value NULL
 * for SQL NULL, else it points at the value and is stepped past it. The
 * library passes no end: a value is read only within row->net's receive
 * buffer, where an unbuffered fetch leaves the row. That bound keeps a
 * corrupt length from leading the reader out of the library's memory; it
 * cannot tell a row cut short from stale bytes after it (db_row_decode,
 * which knows the packet's end, can).
 */
void db_row_column_cb(void *data, unsigned int column, unsigned char **value);

/**
 * Decodes one value of column's type at p, no byte at or past end read,
 * into column->value (is_null false); *ret_next gets the end of the value.
 * Returns 0, or -EBADMSG when the value does not fit before end (column's
 * value is then unspecified and *ret_next untouched).
 */
int db_row_decode_value(db_row_column_t *column, const unsigned char *p, const unsigned char *end,
                        const unsigned char **ret_next);

/**
 * Decodes a whole binary-protocol row packet of len bytes into row's
 * columns: the header byte, the NULL bitmap (column i at bit i + 2), then
 * the values of the columns that are not NULL. Bytes after the last value
 * are left alone, as Connector/C leaves them. Returns 0, or -EBADMSG when
 * the packet ends before a value or the bitmap does (no byte past len is
 * read either way).
 */
int db_row_decode(db_row_t *row, const unsigned char *packet, size_t len);

#endif
