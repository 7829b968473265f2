/*
 * The database ceiling of bench case G (a page of teams with their members
 * embedded): N connections, one thread each, run the two statements a page
 * takes, as fast as they can:
 *
 *   SELECT id,name FROM teams WHERE id > ? ORDER BY id LIMIT ?   (limit + 1)
 *   SELECT team_id,id,name FROM members WHERE team_id IN (<the page's ids>)
 *     ORDER BY team_id,id
 *
 * both prepared, the page starting where the wrk script starts it (a random
 * id in 0..teams-limit), and the second statement bound to the ids the first
 * returned. Every value of every row is fetched.
 *
 * Output: one JSON line on stdout, shaped like bench/db_ceiling's; errors on
 * stderr. Exit 0 when every statement succeeded and every page held limit
 * teams with members, else 1.
 */
#include <inttypes.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_tool.h"

enum { MAX_THREADS = 1024, MAX_LIMIT = 1000, NAME_BYTES = 256 };

typedef struct options {
        const char *socket, *user, *password, *database;
        unsigned connections;
        double duration_s;
        unsigned long long max_requests;
        long long teams;
        long long limit;
        unsigned timeout_ms;
} options_t;

typedef struct worker {
        pthread_t thread;
        unsigned index;
        const options_t *opts;
        uint64_t *latencies_ns;
        size_t latency_count, latency_capacity;
        unsigned long long requests, errors, wrong_row_counts, rows, bytes;
        bool failed;
} worker_t;

/* One worker's statements and the buffers bound to them. */
typedef struct statements {
        MYSQL_STMT *page, *members;
        long long page_params[2];
        MYSQL_BIND page_binds[2];
        long long ids[MAX_LIMIT + 1];     /* the page's ids, bound to the IN list */
        MYSQL_BIND id_binds[MAX_LIMIT];
        long long out_ints[2];            /* id (page) or team_id, id (members) */
        char out_name[NAME_BYTES];
        unsigned long out_name_len;
        MYSQL_BIND out[3];
} statements_t;

static pthread_barrier_t start_barrier;
static atomic_bool stop_requested;
static atomic_ullong requests_started;

static bool record_latency(worker_t *w, uint64_t ns)
{
        if (w->latency_count == w->latency_capacity) {
                size_t capacity = w->latency_capacity ? w->latency_capacity * 2 : 65536;
                uint64_t *grown = realloc(w->latencies_ns, capacity * sizeof(*grown));

                if (grown == NULL)
                        return false;
                w->latencies_ns = grown;
                w->latency_capacity = capacity;
        }
        w->latencies_ns[w->latency_count++] = ns;
        return true;
}

static MYSQL *connect_db(const options_t *o)
{
        MYSQL *mysql = mysql_init(NULL);

        if (mysql == NULL)
                return NULL;
        if (!mysql_real_connect(mysql, NULL, o->user, o->password, o->database, 0, o->socket, 0)) {
                fprintf(stderr, "db_embed: connect: %s\n", mysql_error(mysql));
                mysql_close(mysql);
                return NULL;
        }
        return mysql;
}

/* Prepares text behind queryd's statement-time prefix. */
static MYSQL_STMT *prepare(MYSQL *mysql, const options_t *o, const char *text)
{
        size_t size = strlen(text) + 96;
        char *sql = malloc(size);
        MYSQL_STMT *stmt = sql ? mysql_stmt_init(mysql) : NULL;

        if (stmt != NULL) {
                snprintf(sql, size, "SET STATEMENT max_statement_time=%u.%03u FOR %s",
                         o->timeout_ms / 1000, o->timeout_ms % 1000, text);
                if (mysql_stmt_prepare(stmt, sql, strlen(sql))) {
                        fprintf(stderr, "db_embed: prepare: %s\n", mysql_stmt_error(stmt));
                        mysql_stmt_close(stmt);
                        stmt = NULL;
                }
        }
        free(sql);
        return stmt;
}

static void bind_ll(MYSQL_BIND *b, long long *value)
{
        memset(b, 0, sizeof(*b));
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = value;
}

/* Result columns: `ints` integers, then the name. */
static bool bind_out(statements_t *s, MYSQL_STMT *stmt, unsigned ints)
{
        for (unsigned i = 0; i < ints; i++)
                bind_ll(&s->out[i], &s->out_ints[i]);
        memset(&s->out[ints], 0, sizeof(s->out[ints]));
        s->out[ints].buffer_type = MYSQL_TYPE_STRING;
        s->out[ints].buffer = s->out_name;
        s->out[ints].buffer_length = sizeof(s->out_name);
        s->out[ints].length = &s->out_name_len;
        return mysql_stmt_bind_result(stmt, s->out) == 0;
}

static bool open_statements(statements_t *s, MYSQL *mysql, const options_t *o)
{
        size_t size = 128 + 2 * (size_t)o->limit;
        char *in = malloc(size);
        int n;

        if (in == NULL)
                return false;
        n = snprintf(in, size, "SELECT team_id,id,name FROM members WHERE team_id IN (?");
        for (long long i = 1; i < o->limit; i++)
                n += snprintf(in + n, size - (size_t)n, ",?");
        snprintf(in + n, size - (size_t)n, ") ORDER BY team_id,id");
        s->page = prepare(mysql, o, "SELECT id,name FROM teams WHERE id > ? ORDER BY id LIMIT ?");
        s->members = prepare(mysql, o, in);
        free(in);
        if (s->page == NULL || s->members == NULL)
                return false;
        bind_ll(&s->page_binds[0], &s->page_params[0]);
        bind_ll(&s->page_binds[1], &s->page_params[1]);
        for (long long i = 0; i < o->limit; i++)
                bind_ll(&s->id_binds[i], &s->ids[i]);
        return mysql_stmt_bind_param(s->page, s->page_binds) == 0 &&
               mysql_stmt_bind_param(s->members, s->id_binds) == 0;
}

/* Runs stmt and fetches every row; out_ints[0] of each of the first `keep`
 * rows goes to ids. Returns the rows, or -1 on an error. */
static long long run_statement(worker_t *w, statements_t *s, MYSQL_STMT *stmt, unsigned ints,
                               long long keep)
{
        long long rows = 0;
        int r;

        if (mysql_stmt_execute(stmt) || !bind_out(s, stmt, ints)) {
                fprintf(stderr, "db_embed: execute: %s\n", mysql_stmt_error(stmt));
                return -1;
        }
        while ((r = mysql_stmt_fetch(stmt)) == 0 || r == MYSQL_DATA_TRUNCATED) {
                if (rows < keep)
                        s->ids[rows] = s->out_ints[0];
                w->bytes += 8 * ints + s->out_name_len;
                rows++;
        }
        if (r != MYSQL_NO_DATA) {
                fprintf(stderr, "db_embed: fetch: %s\n", mysql_stmt_error(stmt));
                return -1;
        }
        mysql_stmt_free_result(stmt);
        return rows;
}

/* One page: the teams, then their members. False on an error. */
static bool one_page(worker_t *w, statements_t *s, uint64_t *seed)
{
        const options_t *o = w->opts;
        uint64_t t0 = now_ns();

        s->page_params[0] = (long long)(next_random(seed) % (uint64_t)(o->teams - o->limit + 1));
        s->page_params[1] = o->limit + 1; /* one more row tells whether a next page follows */
        long long teams = run_statement(w, s, s->page, 1, o->limit);
        long long members = teams < 0 ? -1 : run_statement(w, s, s->members, 2, 0);
        if (members < 0) {
                w->errors++;
                return false;
        }
        if ((teams > o->limit ? o->limit : teams) != o->limit || members == 0)
                w->wrong_row_counts++;
        w->rows += (unsigned long long)(teams + members);
        w->requests++;
        if (!record_latency(w, now_ns() - t0)) {
                w->failed = true;
                return false;
        }
        return true;
}

static void *worker_main(void *arg)
{
        worker_t *w = arg;
        const options_t *o = w->opts;
        MYSQL *mysql = connect_db(o);
        statements_t *s = calloc(1, sizeof(*s));
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (w->index + 1) ^ now_ns();

        w->failed = mysql == NULL || s == NULL || !open_statements(s, mysql, o);
        /* Everybody starts together, also a worker that failed to connect. */
        pthread_barrier_wait(&start_barrier);
        while (!w->failed && !atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
                if (atomic_fetch_add(&requests_started, 1) >= o->max_requests ||
                    !one_page(w, s, &seed))
                        break;
        }
        if (s != NULL && s->page != NULL)
                mysql_stmt_close(s->page);
        if (s != NULL && s->members != NULL)
                mysql_stmt_close(s->members);
        free(s);
        if (mysql != NULL)
                mysql_close(mysql);
        mysql_thread_end();
        return NULL;
}

static int parse_options(int argc, char **argv, options_t *o)
{
        unsigned long long v;

        *o = (options_t){ .user = "root", .database = "queryd", .connections = 8,
                          .duration_s = 10, .max_requests = 1000000, .teams = 10000,
                          .limit = 100, .timeout_ms = 5000 };
        for (int i = 1; i + 1 < argc; i += 2) {
                const char *name = argv[i], *value = argv[i + 1];
                bool ok = true;
                if (strcmp(name, "--socket") == 0)
                        o->socket = value;
                else if (strcmp(name, "--user") == 0)
                        o->user = value;
                else if (strcmp(name, "--password") == 0)
                        o->password = value;
                else if (strcmp(name, "--database") == 0)
                        o->database = value;
                else if ((ok = parse_number(value, 1ULL << 62, &v)) && strcmp(name, "--connections") == 0)
                        o->connections = (unsigned)(v > MAX_THREADS ? MAX_THREADS : v);
                else if (ok && strcmp(name, "--duration") == 0)
                        o->duration_s = (double)v;
                else if (ok && strcmp(name, "--max-requests") == 0)
                        o->max_requests = v;
                else if (ok && strcmp(name, "--teams") == 0)
                        o->teams = (long long)v;
                else if (ok && strcmp(name, "--limit") == 0)
                        o->limit = (long long)v;
                else if (ok && strcmp(name, "--timeout-ms") == 0)
                        o->timeout_ms = (unsigned)v;
                else
                        ok = false;
                if (!ok) {
                        fprintf(stderr, "db_embed: bad option %s %s\n", name, value);
                        return -1;
                }
        }
        if (o->connections == 0 || o->limit < 1 || o->limit > MAX_LIMIT || o->teams < o->limit ||
            o->duration_s <= 0 || o->duration_s > 3600 || (argc - 1) % 2 != 0) {
                fprintf(stderr, "usage: db_embed --socket PATH --user U --password P "
                                "--database D [--connections N] [--duration S] "
                                "[--max-requests N] [--teams N] [--limit N<=%d] "
                                "[--timeout-ms N]\n", MAX_LIMIT);
                return -1;
        }
        return 0;
}

/* Sums the workers' counts and prints the JSON line; returns the exit status. */
static int report(const options_t *o, worker_t *workers, double elapsed)
{
        size_t total = 0, at = 0;
        unsigned long long requests = 0, errors = 0, wrong = 0, rows = 0, bytes = 0;
        unsigned failed = 0;

        for (unsigned i = 0; i < o->connections; i++) {
                total += workers[i].latency_count;
                requests += workers[i].requests;
                errors += workers[i].errors;
                wrong += workers[i].wrong_row_counts;
                rows += workers[i].rows;
                bytes += workers[i].bytes;
                failed += workers[i].failed;
        }
        uint64_t *all = malloc((total ? total : 1) * sizeof(*all));
        if (all == NULL)
                return 1;
        for (unsigned i = 0; i < o->connections; i++) {
                memcpy(all + at, workers[i].latencies_ns, workers[i].latency_count * sizeof(*all));
                at += workers[i].latency_count;
                free(workers[i].latencies_ns);
        }
        qsort(all, total, sizeof(*all), compare_u64);
        printf("{\"query\":\"embed\",\"connections\":%u,\"limit\":%lld,\"duration_s\":%.3f,"
               "\"requests\":%llu,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
               "\"errors\":%llu,\"wrong_row_counts\":%llu,\"failed_connections\":%u,"
               "\"rows\":%llu,\"bytes\":%llu}\n",
               o->connections, o->limit, elapsed, requests,
               elapsed > 0 ? (double)requests / elapsed : 0.0, percentile_ms(all, total, 50),
               percentile_ms(all, total, 99), total ? (double)all[total - 1] / 1e6 : 0.0, errors,
               wrong, failed, rows, bytes);
        free(all);
        return errors == 0 && wrong == 0 && failed == 0 && requests > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
        options_t o;

        if (parse_options(argc, argv, &o) < 0)
                return 2;
        if (mysql_library_init(0, NULL, NULL)) {
                fprintf(stderr, "db_embed: cannot initialise the client library\n");
                return 1;
        }
        worker_t *workers = calloc(o.connections, sizeof(*workers));
        if (workers == NULL)
                return 1;
        pthread_barrier_init(&start_barrier, NULL, o.connections + 1);
        for (unsigned i = 0; i < o.connections; i++) {
                pthread_attr_t attr;
                workers[i].index = i;
                workers[i].opts = &o;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                int r = pthread_create(&workers[i].thread, &attr, worker_main, &workers[i]);
                pthread_attr_destroy(&attr);
                if (r != 0) {
                        fprintf(stderr, "db_embed: pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }
        pthread_barrier_wait(&start_barrier);
        uint64_t start = now_ns(), deadline = start + (uint64_t)(o.duration_s * 1e9);
        struct timespec nap = { 0, 10 * 1000 * 1000 };
        while (now_ns() < deadline && atomic_load(&requests_started) < o.max_requests)
                nanosleep(&nap, NULL);
        atomic_store(&stop_requested, true);
        for (unsigned i = 0; i < o.connections; i++)
                pthread_join(workers[i].thread, NULL);
        int status = report(&o, workers, (double)(now_ns() - start) / 1e9);
        free(workers);
        pthread_barrier_destroy(&start_barrier);
        mysql_library_end();
        return status;
}
