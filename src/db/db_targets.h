/*
 * The database servers statements may go to: the primary (target 0) and
 * its replicas (1..), named "primary", "replica1", ... in metrics and
 * problems. Process-wide: every worker reads their health, counts its
 * requests and errors on them; one monitor thread per server measures it.
 *
 * Lag is measured by GTID position, every DB_TARGETS_POLL_MS: the primary's
 * monitor records each new @@gtid_binlog_pos with the time it first saw it;
 * a replica's monitor reads @@gtid_slave_pos, and its lag is the age of the
 * oldest recorded primary position it has not applied (0 when it has them
 * all). A transaction is seen on the primary at most one poll after it
 * commits, and a replica's progress at most one poll after it happens, so
 * the figure is within two polls (200 ms) of the truth, which is what a
 * bound of a second needs; Seconds_Behind_Master counts whole seconds and
 * says 0 for a replica whose SQL thread is idle while its I/O thread is
 * stopped. Nothing is written to the servers.
 */
#ifndef QUERYD_DB_TARGETS_H
#define QUERYD_DB_TARGETS_H

#include <stdbool.h>

#include "core/config.h"
#include "core/strbuf.h"
#include "db/db_pool.h"
#include "db/gtid.h"

enum { DB_TARGETS_MAX = 1 + CONFIG_MAX_REPLICAS, DB_TARGETS_POLL_MS = 100 };

typedef struct db_targets db_targets_t;

/**
 * The primary and config's replicas; with replicas, starts a monitor thread
 * per server (a server is taken for down until its first poll answers).
 * config must outlive the set. Returns 0, -ENOMEM, or a thread error.
 */
int db_targets_new(db_targets_t **ret_targets, const config_t *config);

/** Stops the monitors and frees the set; NULL is fine. */
void db_targets_free(db_targets_t *targets);

/** 1 + the number of replicas. */
unsigned db_targets_count(const db_targets_t *targets);

/** "primary", "replica1", ... */
const char *db_targets_name(const db_targets_t *targets, unsigned target);

/**
 * Whether a replica may take reads: its last poll answered and its lag is
 * within QUERYD_REPLICA_MAX_LAG_MS. The primary's figure is its monitor's
 * (true before the first poll and without replicas: its pool decides).
 */
bool db_targets_readable(const db_targets_t *targets, unsigned target);

/** Whether the replica's last known position covers want (never for the primary). */
bool db_targets_has_applied(const db_targets_t *targets, unsigned target, const gtid_set_t *want);

/** One request sent to target, or one that failed there. Any thread. */
void db_targets_count_request(db_targets_t *targets, unsigned target);
void db_targets_count_error(db_targets_t *targets, unsigned target);

/**
 * Appends the per-target metrics in Prometheus text format: up, lag,
 * requests, errors, and pools[target] (every worker's slices summed).
 */
void db_targets_render(const db_targets_t *targets, const db_pool_stats_t *pools, strbuf_t *out);

#endif
