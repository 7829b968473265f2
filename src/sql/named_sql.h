/*
 * Named placeholders in an operator's SQL: ":name" becomes "?" for the
 * server, and the names come back in order so each "?" can be bound to its
 * parameter. Pure string work, so it can be tested and fuzzed alone.
 */
#ifndef QUERYD_NAMED_SQL_H
#define QUERYD_NAMED_SQL_H

#include <stddef.h>

/** A statement ready to prepare, and what each of its "?" stands for. */
typedef struct named_sql {
        char *bound_sql;   /* the statement, every placeholder replaced by "?" */
        char **names;      /* one per "?", in order; a name repeats when the sql repeats it */
        size_t name_count;
} named_sql_t;

/**
 * Rewrites sql (NUL-terminated, one MariaDB statement in the default
 * sql_mode) for mysql_stmt_prepare. A placeholder is ':' followed by a name
 * [A-Za-z_][A-Za-z0-9_]*, which may go on with dotted parts of the same
 * shape (":claims.org.id"). These stay as written:
 *   - text inside '...' and "..." (backslash escapes and doubled quotes) and
 *     inside `...` (doubled backticks);
 *   - comments: "-- " and "#" to the end of the line, and block comments;
 *   - "::" (any run of colons), ":=", and a ':' right after an identifier
 *     character [A-Za-z0-9_$] or a non-ASCII byte, as in a:b.
 * Refused (-EINVAL, a one-line reason in err): a '?' outside quotes and
 * comments (an anonymous placeholder nothing could bind), anything but
 * whitespace and comments after a ';' (one statement only), an unterminated
 * quote or comment, an executable comment (a block comment opened with '!'
 * or "M!": the server runs its text, which this scan would not see), and sql
 * without any statement.
 * bound_sql ends before a final ';', which a prepared statement must not have.
 * On success fills *ret, owned by the caller (named_sql_done) and returns 0.
 * On failure *ret holds nothing; -ENOMEM when out of memory.
 */
int named_sql_rewrite(const char *sql, named_sql_t *ret, char *err, size_t err_size);

/** Frees what named_sql_rewrite filled in; safe to call twice. */
void named_sql_done(named_sql_t *n);

#endif
