/*
 * Loading the configuration file as a whole (or, without one, the
 * database's own tables): read it, check it against the live schema over a
 * short-lived blocking connection, and build it. Runs on
 * the main thread, at start and on SIGHUP, never on a worker loop.
 */
#ifndef QUERYD_API_LOAD_H
#define QUERYD_API_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/config.h"

/**
 * Loads config->config_path, trying to reach the database for up to wait_ms.
 * Without a file, or with "schema": true in it, the database's tables are
 * served too (api_introspect), each logged as served or left out.
 * With an admin address, its routes are left out of the api's (routes.h).
 * Returns the api with one reference, or NULL with a message in err and
 * *ret_unreachable telling a database that never answered from a bad file.
 */
api_t *api_load(const config_t *config, unsigned wait_ms, char *err, size_t err_size,
                bool *ret_unreachable);

#endif
