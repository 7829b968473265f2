/*
 * The text of one collection filter, "[not.]<op>.<value>", split into its
 * operator and raw values. Pure string work: typing the values against the
 * column (typed_value.h) and writing SQL is the caller's.
 */
#ifndef QUERYD_FILTER_EXPR_H
#define QUERYD_FILTER_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/scope.h"

enum { FILTER_MAX_VALUES = 100 };

typedef enum filter_op {
        FILTER_EQ,
        FILTER_NEQ,
        FILTER_GT,
        FILTER_GTE,
        FILTER_LT,
        FILTER_LTE,
        FILTER_LIKE,
        FILTER_IN,
        FILTER_IS,
} filter_op_t;

typedef enum filter_is {
        FILTER_IS_NULL,
        FILTER_IS_TRUE,
        FILTER_IS_FALSE,
} filter_is_t;

typedef struct filter_expr {
        filter_op_t op;
        bool negated;
        filter_is_t is;        /* FILTER_IS only: its keyword, which is no value */
        /* One value (may be empty), or the list of in.(...) unquoted; none for
         * FILTER_IS. Scope memory, each NUL-terminated at its length. */
        const char **values;
        size_t *lengths;
        size_t value_count;
} filter_expr_t;

/**
 * Parses text (NUL-terminated, already percent-decoded) into ret. Everything
 * after the operator's dot is the value, dots and all; in.(...) values may be
 * double-quoted ("a,b", with \" and \\ escapes), others are taken as they
 * are, spaces included. Returns 0, or -EINVAL with a phrase for the detail in
 * reason ("unknown operator 'gtx' (...)", "in.(...) takes 1 to 100 values"),
 * or -ENOMEM.
 */
int filter_expr_parse(const char *text, scope_t *scope, filter_expr_t *ret, char *reason,
                      size_t reason_size);

/** SQL of op: "=", "<>", ">", ">=", "<", "<=", "LIKE", "IN", "IS". */
const char *filter_op_sql(filter_op_t op);

/**
 * A like.* pattern as a LIKE pattern: '*' becomes '%', and '%', '_' and '\'
 * are escaped with '\' so they match themselves. Scope memory, NUL-terminated.
 */
char *filter_like_pattern(const char *text, size_t len, scope_t *scope, size_t *ret_len);

#endif
