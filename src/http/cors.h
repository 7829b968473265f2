/*
 * Cross-origin reads from browsers (QUERYD_CORS_ORIGINS): which origins may
 * read responses. Pure string work.
 */
#ifndef QUERYD_CORS_H
#define QUERYD_CORS_H

#include <stdbool.h>

/**
 * The Access-Control-Allow-Origin value for a request from origin under the
 * allowed list ("*" or comma-separated origins, or NULL: CORS off): "*",
 * origin itself, or NULL when it may not read.
 */
const char *cors_allow_origin(const char *allowed, const char *origin);

#endif
