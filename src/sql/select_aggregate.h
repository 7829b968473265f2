/*
 * Aggregates in a collection's select and order: "count()", "balance.sum()",
 * "total:balance.sum()", "age.avg()", ... A select holding one makes the
 * answer grouped: GROUP BY the plain columns selected. The first half of this
 * header is pure text work (unit-tested); the second half fills and writes a
 * collection plan, and is what collection_plan.c calls.
 */
#ifndef QUERYD_SELECT_AGGREGATE_H
#define QUERYD_SELECT_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/strbuf.h"
#include "sql/collection_plan.h"

/* At most this many aggregates in one select. */
enum { SELECT_MAX_AGGREGATES = 16, SELECT_MAX_ALIAS = 64 };

/* The field index (plan->fields) an aggregate holds: no column of its own. */
#define SELECT_AGGREGATE_FIELD SIZE_MAX

/** One aggregate term split into its parts; pointers into the term's text. */
typedef struct aggregate_term {
        aggregate_fn_t fn;
        const char *alias;      /* or NULL */
        size_t alias_len;
        const char *column;     /* NULL for count() */
        size_t column_len;
        bool descending;        /* order terms: ".desc" followed */
} aggregate_term_t;

/**
 * Whether a select or order term is meant as an aggregate: after an optional
 * "alias:", a '(' with either a '.' before it ("balance.sum(") or one of the
 * function names alone ("count(", "sum("). Anything else with a '(' is an
 * embedded relation ("members(id,name)"), not an aggregate.
 */
bool select_aggregate_shaped(const char *term, size_t len);

/**
 * Splits an aggregate-shaped term, "[alias:]column.fn()" or "[alias:]count()";
 * with in_order, no alias but an optional ".asc" or ".desc" after the
 * parentheses. Returns 0, or -EINVAL with a phrase for the detail in reason
 * ("unknown aggregate 'drop' ...", "aggregates take no argument ...").
 */
int select_aggregate_split(const char *term, size_t len, bool in_order, aggregate_term_t *ret,
                           char *reason, size_t reason_size);

/** The function's name, which is also its default output key: "count", "sum", ... */
const char *select_aggregate_name(aggregate_fn_t fn);

/** Appends the SQL of fn over column ("SUM(`balance`)"; column NULL: "COUNT(*)"). */
void select_aggregate_append_sql(strbuf_t *sql, aggregate_fn_t fn, const api_column_t *column);

/* ---- in a collection plan ---- */

/**
 * Takes one select term when it is aggregate-shaped: checks it against the
 * view's columns and adds it as the next field. Returns 1 when taken, 0 when
 * the term is no aggregate (the caller reads it as a column), -EINVAL with
 * err (parameter "select"), -ENOMEM.
 */
int select_aggregate_add(collection_plan_t *plan, const char *term, size_t len, scope_t *scope,
                         collection_error_t *err);

/**
 * Once the whole select is read, with aggregates among it: the plain columns
 * must be groupable and every output key unique. Returns 0 or -EINVAL.
 */
int select_aggregate_check_select(const collection_plan_t *plan, collection_error_t *err);

/**
 * Reads an order term that holds '(' into the next order slot: an aggregate
 * of a grouped plan. Returns 0 or -EINVAL with err (parameter "order").
 */
int select_aggregate_order_term(collection_plan_t *plan, const char *term, size_t len,
                                collection_error_t *err);

/**
 * After the order terms of a grouped plan: plain terms must be group columns,
 * and the group columns not named follow (ascending) so that a page of groups
 * is always the same. Returns 0 or -EINVAL.
 */
int select_aggregate_order_groups(collection_plan_t *plan, collection_error_t *err);

/** Appends " GROUP BY <the plain columns selected>", or nothing when there are none. */
void select_aggregate_append_group_by(strbuf_t *sql, const collection_plan_t *plan);

/** Appends the select-list SQL of field i, an aggregate: "SUM(`balance`) AS `total`". */
void select_aggregate_append_field(strbuf_t *sql, const collection_plan_t *plan, size_t i);

/**
 * How field i, an aggregate, is written: min and max as their column, sums
 * and averages as numbers (a column's boolean override does not carry over),
 * counts by default. The JSON type itself follows the result's metadata.
 */
api_output_t select_aggregate_output(const collection_plan_t *plan, size_t i);

#endif
