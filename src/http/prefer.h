/*
 * The Prefer request header (RFC 7240), with PostgREST's preference names:
 * return=, resolution=, tx= and max-affected= for writes, timeout= (a
 * deadline in seconds, decimals allowed) for any statement, and
 * consistency=strong|eventual for reads (strong: from the primary). Unknown
 * preferences are ignored, as the RFC asks; the answer's
 * Preference-Applied header names those that were honoured.
 */
#ifndef QUERYD_PREFER_H
#define QUERYD_PREFER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum prefer_resolution {
        PREFER_RESOLUTION_NONE,   /* a duplicate key is a conflict (409) */
        PREFER_MERGE_DUPLICATES,  /* upsert: the given columns replace the existing row's */
        PREFER_IGNORE_DUPLICATES, /* a row whose key exists is skipped */
} prefer_resolution_t;

typedef struct prefer {
        bool representation;      /* return=representation: answer with the rows as stored */
        prefer_resolution_t resolution;
        bool rollback;            /* tx=rollback: run everything, then roll back (a dry run) */
        long long max_affected;   /* max-affected=N, or -1 when absent */
        unsigned timeout_ms;      /* timeout=<seconds> in ms, rounded up; 0 when absent */
        bool strong;              /* consistency=strong: read from the primary */
        bool saw_return, saw_tx;  /* what Preference-Applied repeats */
        unsigned applied_timeout_ms; /* the deadline used for timeout=, set by whoever
                                        applied it; 0: none */
} prefer_t;

/**
 * Reads the Prefer header's value (NULL: no preferences) into ret. Returns
 * 0, or -EINVAL with a phrase in why for a preference queryd knows given a
 * value it does not (max-affected=abc, return=headers, timeout=-1: a
 * timeout is digits with an optional decimal point, above zero).
 */
int prefer_parse(const char *header, prefer_t *ret, char *why, size_t why_size);

/**
 * Writes the Preference-Applied value for what was honoured into out
 * ("return=representation, tx=rollback", "timeout=0.5"); "" when nothing was.
 */
void prefer_applied(const prefer_t *prefer, char *out, size_t size);

#endif
