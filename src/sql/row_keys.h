/*
 * The keys of rows a write touched, read back from the database (RETURNING,
 * or a locking SELECT) and kept as statement parameters, so that later
 * statements of the same transaction can name exactly those rows.
 */
#ifndef QUERYD_ROW_KEYS_H
#define QUERYD_ROW_KEYS_H

#include <mysql.h>
#include <stddef.h>

#include "core/scope.h"
#include "db/db_row.h"

typedef struct row_keys {
        size_t key_count;   /* values per row */
        size_t rows;        /* rows kept */
        size_t capacity;    /* rows it has room for */
        MYSQL_BIND *binds;  /* rows * key_count, row after row */
} row_keys_t;

/** Room for capacity rows of key_count values, in scope. 0 or -ENOMEM. */
int row_keys_init(row_keys_t *keys, size_t key_count, size_t capacity, scope_t *scope);

/**
 * Keeps the values of row (the row fetched last) at the result positions
 * columns[0..key_count), copied into scope. 0, -ENOSPC when full, -ENOMEM.
 */
int row_keys_add(row_keys_t *keys, const db_row_t *row, const size_t *columns, scope_t *scope);

/** Forgets every row (the memory stays in its scope). */
static inline void row_keys_clear(row_keys_t *keys)
{
        keys->rows = 0;
}

#endif
