/*
 * The database's write ceiling for the benchmark: the INSERTs queryd sends
 * for a POST, from a plain blocking client, so that queryd's write figures
 * can be read as a share of what the database takes on its own.
 *
 *   bulk:   one connection inserts rows 1..N in one transaction, in
 *           prepared multi-row INSERTs of 1024 rows (the rest in pieces of a
 *           power of two of rows), as queryd writes a bulk POST body.
 *   single: N connections, one thread each, insert one random row per
 *           request with queryd's single-row statement (INSERT ... RETURNING
 *           the key), in autocommit or wrapped in START TRANSACTION and
 *           COMMIT as queryd wraps every POST.
 *
 * Row i has the values bench/write_cases.py writes for it, so both sides
 * insert the same rows. Values are bound as queryd binds them: name and
 * email as strings, score as DECIMAL text, created as a MYSQL_TIME.
 *
 * Output: one JSON line on stdout; errors on stderr. Exit 0 when every
 * statement succeeded, else 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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

enum {
        MAX_THREADS = 1024,
        COLUMNS = 4,
        STATEMENT_ROWS = 1024, /* queryd's most rows per INSERT */
        SHAPES = 11,           /* statements of 1, 2, 4 ... 1024 rows */
};

typedef struct options {
        const char *socket;
        const char *user;
        const char *password;
        const char *database;
        const char *table;
        bool bulk;
        bool transaction;      /* single: START TRANSACTION / INSERT / COMMIT */
        unsigned connections;
        double duration_s;
        unsigned long long max_requests;
        long long rows;        /* bulk: rows 1..rows */
        unsigned timeout_ms;
} options_t;

/* One row's values and the bindings that point at them. */
typedef struct row_values {
        char name[32], email[48], score[24];
        unsigned long name_len, email_len, score_len;
        MYSQL_TIME created;
} row_values_t;

typedef struct worker {
        pthread_t thread;
        unsigned index;
        const options_t *opts;
        uint64_t *latencies_ns;
        size_t latency_count, latency_capacity;
        unsigned long long requests, errors, rows, statements;
        bool failed;
} worker_t;

static pthread_barrier_t start_barrier;
static atomic_bool stop_requested;
static atomic_ullong requests_started;

/* Row i's values: the formula of bench/write_cases.py and bench/wrk/requests.lua. */
static void row_fill(row_values_t *v, uint64_t i)
{
        uint64_t score = i * 7919 % 10000000, second = i % 86400;

        v->name_len = (unsigned long)snprintf(v->name, sizeof(v->name), "name-%" PRIu64, i);
        v->email_len = (unsigned long)snprintf(v->email, sizeof(v->email),
                                               "user%" PRIu64 "@example.com", i);
        v->score_len = (unsigned long)snprintf(v->score, sizeof(v->score), "%" PRIu64 ".%02u",
                                               score / 100, (unsigned)(score % 100));
        v->created = (MYSQL_TIME){ .year = 2024, .month = 1,
                                   .day = (unsigned)(1 + i / 86400 % 28),
                                   .hour = (unsigned)(second / 3600),
                                   .minute = (unsigned)(second / 60 % 60),
                                   .second = (unsigned)(second % 60),
                                   .time_type = MYSQL_TIMESTAMP_DATETIME };
}

static void row_bind(row_values_t *v, MYSQL_BIND *b)
{
        b[0] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_STRING, .buffer = v->name,
                             .buffer_length = sizeof(v->name), .length = &v->name_len };
        b[1] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_STRING, .buffer = v->email,
                             .buffer_length = sizeof(v->email), .length = &v->email_len };
        b[2] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_NEWDECIMAL, .buffer = v->score,
                             .buffer_length = sizeof(v->score), .length = &v->score_len };
        b[3] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_DATETIME, .buffer = &v->created,
                             .buffer_length = sizeof(v->created) };
}

/* queryd's INSERT for `rows` rows, with its max_statement_time prefix. */
static char *insert_sql(const options_t *o, size_t rows, bool returning)
{
        size_t size = 256 + rows * 16;
        char *sql = malloc(size);
        int n = 0;

        if (sql == NULL)
                return NULL;
        if (o->timeout_ms > 0)
                n = snprintf(sql, size, "SET STATEMENT max_statement_time=%u.%03u FOR ",
                             o->timeout_ms / 1000, o->timeout_ms % 1000);
        n += snprintf(sql + n, size - (size_t)n,
                      "INSERT INTO `%s` (`name`, `email`, `score`, `created`) VALUES ", o->table);
        for (size_t r = 0; r < rows; r++)
                n += snprintf(sql + n, size - (size_t)n, "%s(?, ?, ?, ?)", r ? ", " : "");
        if (returning)
                snprintf(sql + n, size - (size_t)n, " RETURNING `id`");
        return sql;
}

static MYSQL *connect_db(const options_t *o)
{
        MYSQL *mysql = mysql_init(NULL);

        if (mysql == NULL)
                return NULL;
        mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        mysql_options(mysql, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
        if (!mysql_real_connect(mysql, "localhost", o->user, o->password, o->database, 0,
                                o->socket, 0)) {
                fprintf(stderr, "db_writes: connect: %s\n", mysql_error(mysql));
                mysql_close(mysql);
                return NULL;
        }
        return mysql;
}

static MYSQL_STMT *prepare(MYSQL *mysql, const char *sql)
{
        MYSQL_STMT *stmt = mysql_stmt_init(mysql);

        if (stmt == NULL || mysql_stmt_prepare(stmt, sql, strlen(sql))) {
                fprintf(stderr, "db_writes: prepare: %s\n",
                        stmt ? mysql_stmt_error(stmt) : mysql_error(mysql));
                if (stmt != NULL)
                        mysql_stmt_close(stmt);
                return NULL;
        }
        return stmt;
}

/* Executes stmt and reads whatever it returns; false on an error. */
static bool run(MYSQL_STMT *stmt)
{
        int r;

        if (mysql_stmt_execute(stmt)) {
                fprintf(stderr, "db_writes: execute: %s\n", mysql_stmt_error(stmt));
                return false;
        }
        if (mysql_stmt_field_count(stmt) == 0)
                return true;
        while ((r = mysql_stmt_fetch(stmt)) == 0)
                ;
        mysql_stmt_free_result(stmt);
        if (r != MYSQL_NO_DATA) {
                fprintf(stderr, "db_writes: fetch: %s\n", mysql_stmt_error(stmt));
                return false;
        }
        return true;
}

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

/* ---- bulk: one transaction of rows 1..N ---- */

static bool bulk_insert(worker_t *w, MYSQL *mysql)
{
        const options_t *o = w->opts;
        MYSQL_STMT *shapes[SHAPES] = { 0 }, *begin = prepare(mysql, "START TRANSACTION"),
                   *commit = prepare(mysql, "COMMIT");
        row_values_t *values = calloc(STATEMENT_ROWS, sizeof(*values));
        MYSQL_BIND *binds = calloc(STATEMENT_ROWS * COLUMNS, sizeof(*binds));
        bool ok = begin != NULL && commit != NULL && values != NULL && binds != NULL;

        for (size_t r = 0; r < STATEMENT_ROWS; r++)
                if (values != NULL && binds != NULL)
                        row_bind(&values[r], &binds[r * COLUMNS]);
        uint64_t t0 = now_ns();
        ok = ok && run(begin);
        long long next = 1;
        while (ok && next <= o->rows) {
                long long left = o->rows - next + 1;
                unsigned shape = 0;

                while (shape + 1 < SHAPES && (1LL << (shape + 1)) <= left)
                        shape++;
                size_t n = (size_t)1 << shape;
                if (shapes[shape] == NULL) {
                        char *sql = insert_sql(o, n, false);
                        shapes[shape] = sql ? prepare(mysql, sql) : NULL;
                        free(sql);
                        if (shapes[shape] == NULL || mysql_stmt_bind_param(shapes[shape], binds)) {
                                ok = false;
                                break;
                        }
                }
                for (size_t r = 0; r < n; r++)
                        row_fill(&values[r], (uint64_t)(next + (long long)r));
                ok = run(shapes[shape]) && mysql_stmt_affected_rows(shapes[shape]) == n;
                w->statements++;
                next += (long long)n;
        }
        ok = ok && run(commit);
        if (ok) {
                w->rows = (unsigned long long)o->rows;
                w->requests = 1;
                ok = record_latency(w, now_ns() - t0);
        }
        for (unsigned i = 0; i < SHAPES; i++)
                if (shapes[i] != NULL)
                        mysql_stmt_close(shapes[i]);
        if (begin != NULL)
                mysql_stmt_close(begin);
        if (commit != NULL)
                mysql_stmt_close(commit);
        free(values);
        free(binds);
        return ok;
}

/* ---- single: one row per request, many connections ---- */

static void single_inserts(worker_t *w, MYSQL *mysql, bool *ready)
{
        const options_t *o = w->opts;
        char *sql = insert_sql(o, 1, true);
        MYSQL_STMT *insert = sql ? prepare(mysql, sql) : NULL;
        MYSQL_STMT *begin = o->transaction ? prepare(mysql, "START TRANSACTION") : NULL;
        MYSQL_STMT *commit = o->transaction ? prepare(mysql, "COMMIT") : NULL;
        row_values_t v;
        MYSQL_BIND binds[COLUMNS];
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (w->index + 1) ^ now_ns();

        free(sql);
        row_bind(&v, binds);
        *ready = insert != NULL && (!o->transaction || (begin != NULL && commit != NULL)) &&
                 mysql_stmt_bind_param(insert, binds) == 0;
        pthread_barrier_wait(&start_barrier);
        while (*ready && !atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
                if (atomic_fetch_add(&requests_started, 1) >= o->max_requests)
                        break;
                row_fill(&v, 1 + next_random(&seed) % 1000000000u);
                uint64_t t0 = now_ns();
                bool ok = (!o->transaction || run(begin)) && run(insert) &&
                          (!o->transaction || run(commit));
                w->statements += o->transaction ? 3 : 1;
                if (!ok) {
                        w->errors++;
                        break;
                }
                w->requests++;
                w->rows++;
                if (!record_latency(w, now_ns() - t0)) {
                        *ready = false;
                        break;
                }
        }
        if (insert != NULL)
                mysql_stmt_close(insert);
        if (begin != NULL)
                mysql_stmt_close(begin);
        if (commit != NULL)
                mysql_stmt_close(commit);
}

static void *worker_main(void *arg)
{
        worker_t *w = arg;
        MYSQL *mysql = connect_db(w->opts);
        bool ready = false;

        if (w->opts->bulk) {
                pthread_barrier_wait(&start_barrier);
                ready = mysql != NULL && bulk_insert(w, mysql);
                if (!ready && mysql != NULL)
                        w->errors++;
        } else if (mysql != NULL) {
                single_inserts(w, mysql, &ready);
        } else {
                pthread_barrier_wait(&start_barrier); /* everybody starts together */
        }
        w->failed = mysql == NULL;
        if (mysql != NULL)
                mysql_close(mysql);
        mysql_thread_end();
        return NULL;
}

static void usage(FILE *out)
{
        fprintf(out,
                "usage: db_writes --socket PATH --user U --password P --database D\n"
                "                 --mode bulk --rows N\n"
                "       db_writes ... --mode single [--transaction 0|1] [--connections N]\n"
                "                 [--duration SECONDS] [--max-requests N]\n"
                "  common: [--table T] [--timeout-ms MS]\n"
                "  bulk:   rows 1..N in one transaction, INSERTs of 1024 rows (the rest in\n"
                "          powers of two), as queryd writes a bulk POST\n"
                "  single: one random row per request, INSERT ... RETURNING `id`, in\n"
                "          autocommit or (--transaction 1) START TRANSACTION ... COMMIT\n");
}

static int parse_options(int argc, char **argv, options_t *o)
{
        unsigned long long n;
        const char *mode = NULL;

        *o = (options_t){ .table = "bench_writes", .connections = 1, .duration_s = 10,
                          .max_requests = 100000000ULL, .rows = 0, .timeout_ms = 5000 };
        for (int i = 1; i < argc; i++) {
                const char *name = argv[i];
                const char *value = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(name, "--help") == 0) {
                        usage(stdout);
                        exit(0);
                }
                if (value == NULL) {
                        fprintf(stderr, "db_writes: %s needs a value\n", name);
                        return -1;
                }
                i++;
                if (strcmp(name, "--socket") == 0) {
                        o->socket = value;
                } else if (strcmp(name, "--user") == 0) {
                        o->user = value;
                } else if (strcmp(name, "--password") == 0) {
                        o->password = value;
                } else if (strcmp(name, "--database") == 0) {
                        o->database = value;
                } else if (strcmp(name, "--table") == 0 && strlen(value) <= 64 &&
                           strchr(value, '`') == NULL) {
                        o->table = value;
                } else if (strcmp(name, "--mode") == 0 &&
                           (strcmp(value, "bulk") == 0 || strcmp(value, "single") == 0)) {
                        mode = value;
                        o->bulk = strcmp(value, "bulk") == 0;
                } else if (strcmp(name, "--transaction") == 0 && parse_number(value, 1, &n)) {
                        o->transaction = n == 1;
                } else if (strcmp(name, "--connections") == 0 &&
                           parse_number(value, MAX_THREADS, &n) && n > 0) {
                        o->connections = (unsigned)n;
                } else if (strcmp(name, "--duration") == 0 && parse_number(value, 3600, &n) &&
                           n > 0) {
                        o->duration_s = (double)n;
                } else if (strcmp(name, "--max-requests") == 0 &&
                           parse_number(value, ULLONG_MAX, &n) && n > 0) {
                        o->max_requests = n;
                } else if (strcmp(name, "--rows") == 0 && parse_number(value, 100000000, &n) &&
                           n > 0) {
                        o->rows = (long long)n;
                } else if (strcmp(name, "--timeout-ms") == 0 &&
                           parse_number(value, 3600000, &n)) {
                        o->timeout_ms = (unsigned)n;
                } else {
                        fprintf(stderr, "db_writes: bad option or value: %s %s\n", name, value);
                        return -1;
                }
        }
        if (o->socket == NULL || o->user == NULL || o->database == NULL || mode == NULL ||
            (o->bulk && o->rows == 0)) {
                usage(stderr);
                return -1;
        }
        if (o->bulk)
                o->connections = 1;
        return 0;
}

int main(int argc, char **argv)
{
        options_t o;

        if (parse_options(argc, argv, &o) < 0)
                return 2;
        if (mysql_library_init(0, NULL, NULL)) {
                fprintf(stderr, "db_writes: cannot initialise the client library\n");
                return 1;
        }
        worker_t *workers = calloc(o.connections, sizeof(*workers));
        if (workers == NULL)
                return 1;
        pthread_barrier_init(&start_barrier, NULL, o.connections + 1);
        for (unsigned i = 0; i < o.connections; i++) {
                workers[i].index = i;
                workers[i].opts = &o;
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                int r = pthread_create(&workers[i].thread, &attr, worker_main, &workers[i]);
                pthread_attr_destroy(&attr);
                if (r != 0) {
                        fprintf(stderr, "db_writes: pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }
        pthread_barrier_wait(&start_barrier);
        uint64_t start = now_ns();
        if (!o.bulk) {
                uint64_t deadline = start + (uint64_t)(o.duration_s * 1e9);
                struct timespec nap = { 0, 10 * 1000 * 1000 };

                while (now_ns() < deadline && atomic_load(&requests_started) < o.max_requests)
                        nanosleep(&nap, NULL);
                atomic_store(&stop_requested, true);
        }
        for (unsigned i = 0; i < o.connections; i++)
                pthread_join(workers[i].thread, NULL);
        double elapsed = (double)(now_ns() - start) / 1e9;

        size_t total = 0;
        unsigned long long requests = 0, errors = 0, rows = 0, statements = 0;
        unsigned failed = 0;
        for (unsigned i = 0; i < o.connections; i++) {
                total += workers[i].latency_count;
                requests += workers[i].requests;
                errors += workers[i].errors;
                rows += workers[i].rows;
                statements += workers[i].statements;
                failed += workers[i].failed;
        }
        uint64_t *all = malloc((total ? total : 1) * sizeof(*all));
        if (all == NULL)
                return 1;
        size_t at = 0;
        for (unsigned i = 0; i < o.connections; i++) {
                memcpy(all + at, workers[i].latencies_ns,
                       workers[i].latency_count * sizeof(*all));
                at += workers[i].latency_count;
                free(workers[i].latencies_ns);
        }
        qsort(all, total, sizeof(*all), compare_u64);
        printf("{\"mode\":\"%s\",\"transaction\":%s,\"connections\":%u,\"duration_s\":%.3f,"
               "\"requests\":%llu,\"rps\":%.1f,\"rows\":%llu,\"rows_per_s\":%.1f,"
               "\"statements\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
               "\"errors\":%llu,\"failed_connections\":%u}\n",
               o.bulk ? "bulk" : "single", o.bulk || o.transaction ? "true" : "false",
               o.connections, elapsed, requests, elapsed > 0 ? (double)requests / elapsed : 0.0,
               rows, elapsed > 0 ? (double)rows / elapsed : 0.0, statements,
               percentile_ms(all, total, 50), percentile_ms(all, total, 99),
               total ? (double)all[total - 1] / 1e6 : 0.0, errors, failed);
        free(all);
        free(workers);
        pthread_barrier_destroy(&start_barrier);
        mysql_library_end();
        return errors == 0 && failed == 0 && requests > 0 ? 0 : 1;
}
