/*
 * A collection request (GET /<resource>?filters&select&order&limit&after&...)
 * turned into the statements that answer it. Every identifier in the SQL
 * comes from the checked configuration, already quoted; every request value
 * is a bound parameter. No I/O: the handler runs what this writes.
 */
#ifndef QUERYD_COLLECTION_PLAN_H
#define QUERYD_COLLECTION_PLAN_H

#include <mysql.h>
#include <stdbool.h>

#include "api/api.h"
#include "core/scope.h"
#include "http/query_args.h"

enum { COLLECTION_MAX_ORDER = 8 };

/** Why a request was refused: the parameter at fault and a sentence for the detail. */
typedef struct collection_error {
        const char *parameter;
        char detail[384];
} collection_error_t;

/* An aggregate of a grouped select (select_aggregate.h); NONE: a plain column. */
typedef enum aggregate_fn {
        AGGREGATE_NONE,
        AGGREGATE_COUNT,
        AGGREGATE_SUM,
        AGGREGATE_AVG,
        AGGREGATE_MIN,
        AGGREGATE_MAX,
} aggregate_fn_t;

typedef struct collection_aggregate {
        aggregate_fn_t fn;
        const api_column_t *column; /* NULL: count() */
        const char *key;            /* the output's name: the function's, or the alias */
} collection_aggregate_t;

/**
 * Fills err: the parameter at fault and a printf-formatted sentence for the
 * detail. Returns -EINVAL, for every refusal of the read grammar to return.
 */
int collection_refuse(collection_error_t *err, const char *parameter, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

typedef struct collection_order {
        size_t column;   /* index in res->columns */
        bool descending;
        unsigned field;  /* its position in the page statement's select list */
        aggregate_fn_t fn; /* not NONE: the order is by this aggregate of the column
                              (of no column for count()), in a grouped plan */
        bool no_column;    /* count(): the aggregate has no column */
} collection_order_t;

typedef struct collection_plan {
        const api_resource_t *res;
        size_t *fields;             /* select list: res->columns indexes, visible ones first */
        size_t field_count;
        size_t visible;
        api_output_t *outputs;      /* per field, for rowjson */
        collection_aggregate_t *aggregates; /* per field: fn NONE for a column */
        size_t aggregate_count;     /* aggregates selected: the answer is grouped, paged by
                                       offset, and counted in groups */
        collection_order_t order[2 * COLLECTION_MAX_ORDER + 4]; /* then the key, or the groups */
        size_t order_count;
        char *order_text;           /* "age.desc,id.asc": what a cursor is made for */
        bool plain_cursor;          /* default order, one key column: the cursor is its value */
        long long limit;
        long long offset;
        bool by_offset;
        bool count_exact;
        bool count_estimated;       /* count_sql is then an EXPLAIN (count_estimate.h) */
        char *sql;                  /* the page, limit + 1 rows (one more tells a next page) */
        MYSQL_BIND *binds;
        char *count_sql;            /* SELECT COUNT(*) with the filters alone (of the groups,
                                       when grouped), when count_exact; when count_estimated,
                                       EXPLAIN EXTENDED SELECT 1 with the filters */
        MYSQL_BIND *count_binds;
        const MYSQL_BIND *row_binds; /* res->row_claim_count claims for its row condition */
        /* Set by the caller before building: more columns (res->columns
         * indexes) to read as hidden fields, which embedding joins on. */
        const size_t *links;
        size_t link_count;
} collection_plan_t;

/**
 * Reads the request's query arguments for res and writes the statements.
 * A role's view (res->row_sql) has its row condition ANDed into both, with
 * row_binds (res->row_claim_count of them, copied) bound to it. Aggregates
 * in select (select_aggregate.h) group the answer. Returns 0;
 * -EINVAL with err filled when the request is refused; -ENOMEM.
 */
int collection_plan_build(collection_plan_t *plan, const api_resource_t *res,
                          const MYSQL_BIND *row_binds, const query_arg_t *args, size_t arg_count,
                          scope_t *scope, collection_error_t *err);

/**
 * The select list of an item request (GET /<resource>/<key>?select=...):
 * fills plan->fields, visible and outputs. Aggregates are refused: an item
 * is one row. Returns 0, -EINVAL with err, -ENOMEM.
 */
int collection_plan_select(collection_plan_t *plan, const api_resource_t *res,
                           const char *select, scope_t *scope, collection_error_t *err);

/**
 * The WHERE clause of a PATCH or DELETE on a collection: the request's
 * filters, in the grammar of reads, after the view's row condition (bound
 * to row_binds), written after head. head holds lead placeholders of its
 * own, whose binds the caller fills into the first lead slots of
 * *ret_binds. Any other query argument is refused. Returns 0 with
 * *ret_filter_count the filters given; -EINVAL with err; -ENOMEM.
 */
int collection_plan_where(const api_resource_t *res, const MYSQL_BIND *row_binds,
                          const query_arg_t *args, size_t arg_count, const char *head,
                          size_t lead, scope_t *scope, char **ret_sql, MYSQL_BIND **ret_binds,
                          size_t *ret_bind_count, size_t *ret_filter_count,
                          collection_error_t *err);

/**
 * SELECT <plan's fields> FROM <table> WHERE <key> = ?... [AND (<row
 * condition>)]: one row of the plan's resource, as select narrows it, the
 * view's claims bound after the key. NULL: out of memory.
 */
char *collection_plan_item_sql(const collection_plan_t *plan, scope_t *scope);

#endif
