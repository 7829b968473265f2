/*
 * What a connection tells its pool about itself (db_conn.c -> db_pool.c).
 * Kept apart from db_pool.h because requests have no business calling these.
 */
#ifndef QUERYD_DB_POOL_EVENTS_H
#define QUERYD_DB_POOL_EVENTS_H

#include "db/db_conn.h"

const config_t *db_pool_config(const db_pool_t *pool);

/** The conn finished connecting and is idle. */
void db_pool_on_conn_up(db_pool_t *pool, db_conn_t *conn);

/** A connect attempt failed; the conn retries by itself after a backoff. */
void db_pool_on_connect_failed(db_pool_t *pool, db_conn_t *conn, unsigned err, const char *message);

/** An idle conn found its server gone; it is about to close and reconnect. */
void db_pool_on_idle_conn_lost(db_pool_t *pool, db_conn_t *conn);

/** The conn closed for good (shutdown). */
void db_pool_on_conn_closed(db_pool_t *pool, db_conn_t *conn);

#endif
