/*
 * Request text -> a typed, bound statement parameter. Every value a request
 * sends to the database passes through here: it is checked against its rule
 * (api.h) and bound as a parameter, never pasted into SQL.
 */
#ifndef QUERYD_TYPED_VALUE_H
#define QUERYD_TYPED_VALUE_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/scope.h"

/**
 * Parses text (len bytes, need not be NUL-terminated) as a value of rule.
 * With ret_bind, points *ret_bind (zeroed first) at a copy of the value in
 * scope memory, typed for the server to compare exactly (FLOAT columns as
 * float, DECIMAL as decimal text, booleans as 0/1...). With ret_bind NULL
 * (scope may be NULL) it only checks. Returns 0, or -EINVAL with a phrase for
 * the error detail in reason ("is not an integer", "is longer than 100
 * characters"), or -ENOMEM.
 */
int typed_value_parse(const api_rule_t *rule, const char *text, size_t len, scope_t *scope,
                      MYSQL_BIND *ret_bind, char *reason, size_t reason_size);

/**
 * Copies a bind typed_value_parse() made, value included, into scope: for
 * one that must outlive the request it was parsed for. 0 or -ENOMEM.
 */
int typed_value_copy(const MYSQL_BIND *from, scope_t *scope, MYSQL_BIND *ret_bind);

/** Whether two binds typed_value_parse() made hold the same value of the same type. */
bool typed_value_equal(const MYSQL_BIND *a, const MYSQL_BIND *b);

#endif
