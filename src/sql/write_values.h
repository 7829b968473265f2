/*
 * A row of a request body (body/body_reader.h) turned into the bound values
 * of a write statement. Each value is checked against its column's rule as
 * a filter value is (sql/typed_value.h), and by its JSON kind: numbers keep
 * the digits they were written with, a JSON column takes any JSON value as
 * written, null only goes where the column is nullable.
 */
#ifndef QUERYD_WRITE_VALUES_H
#define QUERYD_WRITE_VALUES_H

#include <mysql.h>
#include <stddef.h>

#include "api/api.h"
#include "body/body_reader.h"
#include "core/scope.h"

/**
 * The columns row sets, in its order, as indexes into res->columns
 * (ret_columns has room for res->column_count). Every key must name a
 * writable column of res, once. Returns the count, or -EINVAL with a
 * sentence in detail.
 */
int write_values_columns(const api_resource_t *res, const body_row_t *row, size_t *ret_columns,
                         char *detail, size_t detail_size);

/**
 * Binds the values row gives for columns (count of them: the statement's
 * list), into binds[0..count), copies in scope. The row must give exactly
 * those columns, in any order. Returns 0; -EINVAL with a sentence naming
 * the column in detail; -ENOMEM.
 */
int write_values_bind(const api_resource_t *res, const size_t *columns, size_t count,
                      const body_row_t *row, scope_t *scope, MYSQL_BIND *binds, char *detail,
                      size_t detail_size);

#endif
