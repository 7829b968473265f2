/* Counters behind GET /metrics. Every status queryd answers with is counted
 * one by one; a status missing from the list below would be counted under
 * "other", which no answer of queryd's should ever be. */
#include "core/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { MAX_ROUTES = 64, MAX_LABEL = 128, BUCKETS = 14 };

static const unsigned statuses[] = { 200, 204, 400, 401, 403, 404, 405, 406, 409, 413,
                                     414, 422, 429, 431, 499, 500, 503, 504 };
enum { STATUS_COUNT = sizeof(statuses) / sizeof(statuses[0]), OTHER_STATUS = STATUS_COUNT };

static const double bucket_bounds[BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10 };

/* Index 0 holds unmatched requests; route i is at i + 1. */
static struct {
        atomic_ulong requests[MAX_ROUTES + 1][STATUS_COUNT + 1];
        atomic_ulong buckets[MAX_ROUTES + 1][BUCKETS];
        atomic_ulong duration_count[MAX_ROUTES + 1];
        atomic_ulong duration_us[MAX_ROUTES + 1];
        atomic_ulong bytes;
        atomic_ulong db_errors;
        atomic_ulong reconnects;
        atomic_ulong queries_killed;
        atomic_ulong role_switches;
        atomic_ulong transactions_abandoned;
        atomic_ulong streams_cut;
        atomic_ulong lookup_statements;
        atomic_ulong lookups;
        atomic_ulong compressed_in[2];  /* by coding: zstd, gzip */
        atomic_ulong compressed_out[2];
} m;

/* Route labels only grow: a reload that drops a route keeps its counters,
 * as Prometheus expects of a counter. */
static char labels[MAX_ROUTES][MAX_LABEL];
static atomic_size_t label_count;
static pthread_mutex_t label_lock = PTHREAD_MUTEX_INITIALIZER;

/* A label value as Prometheus reads it: backslash, quote and newline escaped. */
static void escape_label(const char *text, char *out, size_t size)
{
        size_t n = 0;

        for (; *text != '\0' && n + 3 < size; text++) {
                if (*text == '\\' || *text == '"' || *text == '\n')
                        out[n++] = '\\';
                out[n++] = *text == '\n' ? 'n' : *text;
        }
        out[n] = '\0';
}

int metrics_route_slot(const char *template)
{
        int slot = METRICS_UNMATCHED_ROUTE;
        char label[MAX_LABEL];

        escape_label(template, label, sizeof(label));
        pthread_mutex_lock(&label_lock);
        size_t count = atomic_load(&label_count);
        for (size_t i = 0; i < count && slot < 0; i++)
                if (strcmp(labels[i], label) == 0)
                        slot = (int)i;
        if (slot < 0 && count < MAX_ROUTES) {
                memcpy(labels[count], label, sizeof(label));
                atomic_store(&label_count, count + 1); /* published after the label */
                slot = (int)count;
        }
        pthread_mutex_unlock(&label_lock);
        return slot;
}

static size_t status_index(unsigned status)
{
        for (size_t i = 0; i < STATUS_COUNT; i++)
                if (statuses[i] == status)
                        return i;
        return OTHER_STATUS;
}

void metrics_record_request(int route, unsigned status, double seconds, size_t bytes)
{
        size_t r = route >= 0 && route < MAX_ROUTES ? (size_t)route + 1 : 0;

        atomic_fetch_add(&m.requests[r][status_index(status)], 1);
        for (size_t b = 0; b < BUCKETS; b++)
                if (seconds <= bucket_bounds[b])
                        atomic_fetch_add(&m.buckets[r][b], 1);
        atomic_fetch_add(&m.duration_count[r], 1);
        atomic_fetch_add(&m.duration_us[r], (unsigned long)(seconds * 1e6));
        atomic_fetch_add(&m.bytes, bytes);
}

void metrics_count_db_error(void)
{
        atomic_fetch_add(&m.db_errors, 1);
}

void metrics_count_reconnect(void)
{
        atomic_fetch_add(&m.reconnects, 1);
}

void metrics_count_query_killed(void)
{
        atomic_fetch_add(&m.queries_killed, 1);
}

void metrics_count_transaction_abandoned(void)
{
        atomic_fetch_add(&m.transactions_abandoned, 1);
}

void metrics_count_role_switch(void)
{
        atomic_fetch_add(&m.role_switches, 1);
}

void metrics_count_lookup_batch(unsigned lookups)
{
        atomic_fetch_add(&m.lookup_statements, 1);
        atomic_fetch_add(&m.lookups, lookups);
}

void metrics_count_stream_cut(void)
{
        atomic_fetch_add(&m.streams_cut, 1);
}

static const char *const codings[2] = { "zstd", "gzip" };

void metrics_count_compressed(const char *coding, size_t before, size_t after)
{
        for (size_t i = 0; i < 2; i++) {
                if (strcmp(coding, codings[i]) != 0)
                        continue;
                atomic_fetch_add(&m.compressed_in[i], before);
                atomic_fetch_add(&m.compressed_out[i], after);
        }
}

static void render_compressed(strbuf_t *out, const char *name, const char *help,
                              atomic_ulong *counts)
{
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
        for (size_t i = 0; i < 2; i++)
                strbuf_appendf(out, "%s{coding=\"%s\"} %lu\n", name, codings[i],
                               atomic_load(&counts[i]));
}

static const char *route_label(size_t r)
{
        return r == 0 ? "unmatched" : labels[r - 1];
}

static void render_requests(strbuf_t *out, size_t route_slots)
{
        strbuf_append_str(out, "# HELP queryd_http_requests_total HTTP requests answered.\n"
                               "# TYPE queryd_http_requests_total counter\n");
        for (size_t r = 0; r < route_slots; r++) {
                for (size_t s = 0; s <= STATUS_COUNT; s++) {
                        unsigned long n = atomic_load(&m.requests[r][s]);
                        if (n == 0)
                                continue;
                        if (s == OTHER_STATUS)
                                strbuf_appendf(out, "queryd_http_requests_total{route=\"%s\",status=\"other\"} %lu\n",
                                               route_label(r), n);
                        else
                                strbuf_appendf(out, "queryd_http_requests_total{route=\"%s\",status=\"%u\"} %lu\n",
                                               route_label(r), statuses[s], n);
                }
        }
}

static void render_durations(strbuf_t *out, size_t route_slots)
{
        strbuf_append_str(out, "# HELP queryd_http_request_duration_seconds Time from request to completion.\n"
                               "# TYPE queryd_http_request_duration_seconds histogram\n");
        for (size_t r = 0; r < route_slots; r++) {
                const char *label = route_label(r);
                unsigned long count = atomic_load(&m.duration_count[r]);
                for (size_t b = 0; b < BUCKETS; b++)
                        strbuf_appendf(out, "queryd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                                       label, bucket_bounds[b], atomic_load(&m.buckets[r][b]));
                strbuf_appendf(out, "queryd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n"
                                    "queryd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                                    "queryd_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                               label, count, label, atomic_load(&m.duration_us[r]) / 1e6, label, count);
        }
}

static void render_gauge(strbuf_t *out, const char *name, const char *help, unsigned long value)
{
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lu\n", name, help, name, name, value);
}

static void render_counter(strbuf_t *out, const char *name, const char *help, unsigned long value)
{
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n%s %lu\n", name, help, name, name,
                       value);
}

void metrics_render(strbuf_t *out, const db_pool_stats_t *pool)
{
        size_t route_slots = atomic_load(&label_count) + 1;

        render_requests(out, route_slots);
        render_durations(out, route_slots);
        render_counter(out, "queryd_http_response_bytes_total", "Response body bytes queued to clients.",
                       atomic_load(&m.bytes));
        render_gauge(out, "queryd_db_pool_size", "Database connections configured.", pool->size);
        render_gauge(out, "queryd_db_pool_idle", "Connections idle in the pool.", pool->idle);
        render_gauge(out, "queryd_db_pool_busy", "Connections lent to requests.", pool->busy);
        render_gauge(out, "queryd_db_pool_waiting", "Requests waiting for a connection.",
                     pool->waiting);
        render_counter(out, "queryd_db_errors_total", "Statements that failed.",
                       atomic_load(&m.db_errors));
        render_counter(out, "queryd_db_reconnects_total",
                       "Connections reopened after being lost or discarded.",
                       atomic_load(&m.reconnects));
        render_counter(out, "queryd_db_queries_killed_total",
                       "Statements stopped with KILL QUERY because their request ended first "
                       "(deadline or client gone).",
                       atomic_load(&m.queries_killed));
        render_counter(out, "queryd_db_transactions_abandoned_total",
                       "Transactions left open by their request, rolled back by reopening "
                       "the connection.",
                       atomic_load(&m.transactions_abandoned));
        render_counter(out, "queryd_db_role_switches_total",
                       "SET ROLE statements sent because a connection ran under another role.",
                       atomic_load(&m.role_switches));
        render_counter(out, "queryd_http_streams_cut_total",
                       "Streamed answers cut short (database error, timeout, max_rows), "
                       "counted as 200 by status.",
                       atomic_load(&m.streams_cut));
        render_counter(out, "queryd_lookup_statements_total",
                       "Statements run for coalesced item lookups (GET of one row by its key).",
                       atomic_load(&m.lookup_statements));
        render_counter(out, "queryd_lookups_total",
                       "Item lookups those statements served, one or more each.",
                       atomic_load(&m.lookups));
        render_compressed(out, "queryd_http_compressed_bytes_in_total",
                          "Answer bytes given to a content coding.", m.compressed_in);
        render_compressed(out, "queryd_http_compressed_bytes_out_total",
                          "Answer bytes that content coding made of them.", m.compressed_out);
}
