/*
 * Stops statements running on other connections with KILL QUERY, over a
 * connection of its own that opens on first use, as the same user, on the
 * same server as the statement's connection (thread ids are per server).
 * A pool's statement whose request stopped waiting (deadline, client gone)
 * is stopped this way, so its connection can be drained and lent again
 * rather than reopened (db_pool.c). One killer serves one pool, on the
 * pool's loop; every call here is non-blocking.
 */
#ifndef QUERYD_DB_KILLER_H
#define QUERYD_DB_KILLER_H

#include <stdbool.h>
#include <uv.h>

#include "db/db_conn.h"

typedef struct db_killer db_killer_t;

/**
 * The outcome of one db_killer_kill(): status 0 when the server answered
 * the KILL QUERY (the statement is stopped, or had ended already), or a
 * negative errno when it could not be sent: -ENOTCONN no connection to the
 * victim's server could be opened, -ETIMEDOUT none was answered in time,
 * -EIO the server refused it. Runs once per kill not cancelled, on the
 * loop, possibly before db_killer_kill() returns.
 */
typedef void (*db_killer_done_fn)(db_conn_t *victim, int status, void *data);

typedef struct db_killer_options {
        const db_target_t *target; /* the victims' target; outlives the killer */
        const char *time_zone;     /* as the victims' sessions; outlives the killer */
        unsigned capacity;         /* kills that may wait at once: the pool's size */
        unsigned timeout_ms;       /* a connect or a KILL unanswered after this fails */
        db_killer_done_fn done;
        void *data;
} db_killer_options_t;

/** A killer with no connection yet. Returns 0, -ENOMEM or a UV error. */
int db_killer_new(db_killer_t **ret_killer, uv_loop_t *loop, const db_killer_options_t *options);

/**
 * Asks for the statement running now on victim (an UP connection with a
 * statement in flight) to be stopped; done tells the outcome. Kills run one
 * at a time, in order.
 */
void db_killer_kill(db_killer_t *killer, db_conn_t *victim);

/** Whether victim's KILL has been sent and not yet answered. */
bool db_killer_is_killing(const db_killer_t *killer, const db_conn_t *victim);

/** Forgets victim's kill: not sent if it still waits, and done never runs for it. */
void db_killer_cancel(db_killer_t *killer, db_conn_t *victim);

/**
 * Forgets every kill (done never runs) and closes the connection; closed_cb
 * runs once it is closed, possibly before this returns. Then
 * db_killer_done(), and db_killer_free() a loop turn later.
 */
void db_killer_close(db_killer_t *killer, void (*closed_cb)(void *arg), void *arg);

/** Stops the closed killer's handles for good. */
void db_killer_done(db_killer_t *killer);

/** Frees a killer whose handles have closed. Safe on NULL. */
void db_killer_free(db_killer_t *killer);

#endif
