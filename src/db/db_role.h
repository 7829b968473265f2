/*
 * The MariaDB role a leased connection's statements run under. Each
 * connection remembers the role it last set (db_conn.h), so a request costs
 * a SET ROLE round trip only when its role differs from the connection's,
 * and never runs under the role a previous request left behind.
 */
#ifndef QUERYD_DB_ROLE_H
#define QUERYD_DB_ROLE_H

#include <stddef.h>

#include "core/scope.h"
#include "db/db_pool.h"
#include "db/db_query.h"

/**
 * Called once: status 0 when the connection runs under the role asked for,
 * or -EIO with error filled in (the database's errno, sqlstate and message;
 * valid during the call only).
 */
typedef void (*db_role_cb)(db_lease_t *lease, int status, const db_error_t *error, void *data);

/**
 * Makes the statements that follow on the lease's granted connection run
 * under db_role, a MariaDB role name ("": no role at all, SET ROLE NONE).
 * NULL asks for the session's own role, as it connected (the account's
 * default role): nothing is sent on a session no SET ROLE has touched, and
 * SET ROLE NONE on one that another request's role was set on, since the
 * default role cannot be named back. When the connection already runs
 * under the role asked for, cb runs before this returns and nothing is sent; otherwise SET ROLE runs first and cb runs on
 * the loop, possibly before this returns. Until it succeeds the connection's
 * role counts as unknown: if the SET ROLE fails, or the request's scope
 * closes first (then the lease release reopens the connection and cb never
 * runs), the next user of the connection sets its role again. Memory for the
 * call comes from scope.
 */
void db_lease_use_role(db_lease_t *lease, scope_t *scope, const char *db_role, db_role_cb cb,
                       void *data);

/**
 * Writes the statement that activates db_role into buf, like snprintf:
 * SET ROLE `name` with any backtick in the name doubled, or SET ROLE NONE
 * for NULL or "". Returns the statement's length without the terminating
 * NUL; the text is whole only when that is less than size.
 */
size_t db_role_statement(char *buf, size_t size, const char *db_role);

#endif
