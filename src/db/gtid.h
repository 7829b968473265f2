/*
 * MariaDB GTID positions: a list "domain-server-seq,..." with at most one
 * GTID per replication domain, as @@gtid_binlog_pos, @@gtid_slave_pos and
 * @@last_gtid give them. Within a domain sequence numbers only grow (the
 * servers run with gtid_strict_mode), so one position covers another when,
 * in every domain of the other, its sequence number is at least as high.
 */
#ifndef QUERYD_GTID_H
#define QUERYD_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { GTID_MAX_DOMAINS = 16, GTID_TEXT_MAX = GTID_MAX_DOMAINS * 32 };

typedef struct gtid {
        uint32_t domain;
        uint32_t server;
        uint64_t seq;
} gtid_t;

typedef struct gtid_set {
        unsigned count;
        gtid_t gtids[GTID_MAX_DOMAINS];
} gtid_set_t;

/**
 * Parses text[len] (decimal numbers, no spaces but around commas; the empty
 * list is allowed) into set. Returns 0, or -EINVAL for anything else: a
 * number out of range, a domain named twice, more than GTID_MAX_DOMAINS.
 */
int gtid_parse(const char *text, size_t len, gtid_set_t *set);

/** Whether have has reached every domain's sequence number of want. */
bool gtid_covers(const gtid_set_t *have, const gtid_set_t *want);

/** Adds gtid to set, keeping the higher sequence number of its domain. -ENOSPC when full. */
int gtid_merge(gtid_set_t *set, const gtid_t *gtid);

/** Writes set as MariaDB does into out (NUL-terminated); false when it does not fit. */
bool gtid_format(const gtid_set_t *set, char *out, size_t size);

#endif
