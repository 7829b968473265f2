/* One JSON line per finished request on stdout, for operators and log shippers. */
#ifndef QUERYD_ACCESS_LOG_H
#define QUERYD_ACCESS_LOG_H

#include <stddef.h>

#include "http/query_args.h"

typedef struct access_log_entry {
        const char *request_id;
        const char *method;
        const char *path;
        const query_arg_t *args;
        size_t arg_count;
        const char *client;   /* address text, or NULL */
        const char *role;     /* the caller's role, or NULL (no "auth", or not known yet) */
        const char *subject;  /* who the caller is, or NULL (anonymous); never a credential */
        unsigned status;      /* 0 when no answer was sent */
        size_t bytes;
        double duration_ms;
        const char *outcome;  /* "completed", "client-gone", "timeout", "shutdown", "error" */
} access_log_entry_t;

/** Writes the entry as one line with a single write(2), so lines never interleave. */
void access_log_write(const access_log_entry_t *entry);

#endif
