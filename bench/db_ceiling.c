/*
 * The database ceiling for the benchmark: N connections, one thread each,
 * run the statement queryd runs for one endpoint as fast as they can, read
 * every value of every row, and report requests per second and latency.
 * Whatever queryd adds on top (HTTP, JSON, the pool) shows as the gap to this.
 *
 * Output: one JSON line on stdout; errors on stderr. Exit 0 when every
 * statement succeeded and returned the expected number of rows, else 1.
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
#include <unistd.h>

#include "bench_tool.h"

enum { MAX_THREADS = 1024 };

typedef enum { QUERY_POINT, QUERY_PAGE, QUERY_FIRST, QUERY_IN } query_kind_t;

/* Ids one IN (...) statement looks up at most: what coalescing point lookups could send. */
enum { MAX_IN_IDS = 64 };

/* Point selects one connection may have in flight with --pipeline. */
enum { MAX_PIPELINE = 64 };

typedef struct options {
        const char *socket;
        const char *host;
        unsigned port;
        const char *user;
        const char *password;
        const char *database;
        const char *table;
        query_kind_t kind;
        unsigned connections;
        double duration_s;
        unsigned long long max_requests;
        long long rows;
        long long limit;
        unsigned timeout_ms;
        const char *time_zone;
        unsigned pipeline;     /* statements sent before the first answer is read */
} options_t;

/*
 * Reads result rows the cheapest way Connector/C offers, the way queryd
 * reads them (src/db/db_row.c): its result callback is handed each value where
 * it lies in the row as received, so nothing is copied or converted; the
 * reader only steps over it and counts its size (strings by their length,
 * numbers and times as 8 bytes).
 */
typedef struct result_reader {
        enum enum_field_types *types;
        unsigned count;
        unsigned long long bytes;
} result_reader_t;

typedef struct worker {
        pthread_t thread;
        unsigned index;
        const options_t *opts;
        uint64_t *latencies_ns;
        size_t latency_count;
        size_t latency_capacity;
        unsigned long long requests;
        unsigned long long errors;
        unsigned long long wrong_row_counts;
        unsigned long long rows;
        unsigned long long bytes;
        bool failed;
} worker_t;

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

/* The statements of queryd's item and keyset page for a resource on table. */
static void statement_sql(const options_t *o, char *sql, size_t size)
{
        if (o->kind == QUERY_IN) {
                int n = snprintf(sql, size, "SELECT * FROM `%s` WHERE id IN (?", o->table);
                for (long long i = 1; i < o->limit && n > 0 && (size_t)n < size; i++)
                        n += snprintf(sql + n, size - (size_t)n, ",?");
                if (n > 0 && (size_t)n < size)
                        snprintf(sql + n, size - (size_t)n, ")");
        } else if (o->kind == QUERY_POINT)
                snprintf(sql, size, "SELECT * FROM `%s` WHERE id = ?", o->table);
        else
                snprintf(sql, size, "SELECT * FROM `%s` WHERE id > ? ORDER BY id LIMIT ?",
                         o->table);
}

static MYSQL *connect_db(const options_t *o)
{
        MYSQL *mysql = mysql_init(NULL);
        char init[64];

        if (mysql == NULL)
                return NULL;
        snprintf(init, sizeof(init), "SET time_zone = '%s'", o->time_zone);
        mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        mysql_options(mysql, MYSQL_INIT_COMMAND, init);
        if (!mysql_real_connect(mysql, o->socket ? "localhost" : o->host, o->user, o->password,
                                o->database, o->port, o->socket, 0)) {
                fprintf(stderr, "db_ceiling: connect: %s\n", mysql_error(mysql));
                mysql_close(mysql);
                return NULL;
        }
        return mysql;
}

/* Bytes a fixed-size value takes in a binary protocol row; 0: length-prefixed. */
static unsigned fixed_size(enum enum_field_types type)
{
        switch (type) {
        case MYSQL_TYPE_TINY:
                return 1;
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_YEAR:
                return 2;
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_FLOAT:
                return 4;
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_DOUBLE:
                return 8;
        default:
                return 0;
        }
}

static bool is_temporal(enum enum_field_types type)
{
        return type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_DATETIME ||
               type == MYSQL_TYPE_TIMESTAMP || type == MYSQL_TYPE_TIME;
}

/* Steps *row over a length-encoded count; returns the count. */
static unsigned long long read_length(unsigned char **row)
{
        unsigned char *p = *row;
        unsigned long long n = p[0];
        unsigned bytes = n == 252 ? 2 : n == 253 ? 3 : n == 254 ? 8 : 0;

        if (bytes > 0) {
                n = 0;
                for (unsigned i = bytes; i > 0; i--)
                        n = n << 8 | p[i];
        }
        *row = p + 1 + bytes;
        return n;
}

/* Connector/C's result callback: row is NULL for SQL NULL. */
static void read_column(void *data, unsigned int column, unsigned char **row)
{
        result_reader_t *r = data;

        if (row == NULL)
                return;
        unsigned fixed = fixed_size(r->types[column]);
        if (fixed > 0) {
                *row += fixed;
                r->bytes += 8;
                return;
        }
        unsigned long long n = read_length(row);
        *row += n;
        r->bytes += is_temporal(r->types[column]) ? 8 : n;
}

/* Hands every column of stmt's result to read_column, through placeholder
 * bindings (MADB_BIND_DUMMY). */
static bool attach_reader(MYSQL_STMT *stmt, result_reader_t *r)
{
        MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);

        if (meta == NULL)
                return false;
        r->count = mysql_num_fields(meta);
        r->types = calloc(r->count, sizeof(*r->types));
        MYSQL_BIND *binds = calloc(r->count, sizeof(*binds));
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        bool ok = r->types != NULL && binds != NULL;

        for (unsigned i = 0; ok && i < r->count; i++) {
                r->types[i] = fields[i].type;
                binds[i].buffer_type = MYSQL_TYPE_NULL;
                binds[i].flags = MADB_BIND_DUMMY;
        }
        mysql_free_result(meta);
        ok = ok && mysql_stmt_attr_set(stmt, STMT_ATTR_CB_USER_DATA, r) == 0 &&
             mysql_stmt_attr_set(stmt, STMT_ATTR_CB_RESULT, (const void *)read_column) == 0 &&
             mysql_stmt_bind_result(stmt, binds) == 0;
        free(binds);
        return ok;
}

/* One prepared statement with its parameter and result buffers. */
typedef struct slot {
        MYSQL_STMT *stmt;
        MYSQL_BIND params[MAX_IN_IDS];
        long long values[MAX_IN_IDS];
        result_reader_t reader;
} slot_t;

static bool slot_open(slot_t *s, MYSQL *mysql, const char *sql)
{
        s->stmt = mysql_stmt_init(mysql);
        if (s->stmt == NULL || mysql_stmt_prepare(s->stmt, sql, strlen(sql))) {
                fprintf(stderr, "db_ceiling: prepare: %s\n",
                        s->stmt ? mysql_stmt_error(s->stmt) : mysql_error(mysql));
                return false;
        }
        for (int i = 0; i < MAX_IN_IDS; i++) {
                s->params[i].buffer_type = MYSQL_TYPE_LONGLONG;
                s->params[i].buffer = &s->values[i];
        }
        if (mysql_stmt_bind_param(s->stmt, s->params)) {
                fprintf(stderr, "db_ceiling: bind: %s\n", mysql_stmt_error(s->stmt));
                return false;
        }
        if (!attach_reader(s->stmt, &s->reader)) {
                fprintf(stderr, "db_ceiling: cannot attach the result reader\n");
                return false;
        }
        return true;
}

static void slot_close(slot_t *s)
{
        if (s->stmt != NULL)
                mysql_stmt_close(s->stmt);
        free(s->reader.types);
}

/* The next statement's keys, drawn as the wrk script draws them. */
static void draw_keys(const options_t *o, slot_t *s, uint64_t *seed)
{
        uint64_t stride = o->kind == QUERY_IN ? (uint64_t)(o->rows / o->limit) : 0;

        switch (o->kind) {
        case QUERY_POINT:
                s->values[0] = 1 + (long long)(next_random(seed) % (uint64_t)o->rows);
                break;
        case QUERY_PAGE:
                s->values[0] = (long long)(next_random(seed) % (uint64_t)(o->rows - o->limit + 1));
                s->values[1] = o->limit + 1;
                break;
        case QUERY_FIRST:
                s->values[0] = LLONG_MIN;
                s->values[1] = o->limit + 1;
                break;
        case QUERY_IN: /* distinct ids, as many as --limit */
                s->values[0] = 1 + (long long)(next_random(seed) % stride);
                for (long long i = 1; i < o->limit; i++)
                        s->values[i] = s->values[i - 1] + (long long)stride;
                break;
        }
}

/* Reads every row of an executed statement; -1 on an error. */
static long long fetch_all(worker_t *w, slot_t *s)
{
        long long rows = 0;
        int r;

        s->reader.bytes = 0;
        while ((r = mysql_stmt_fetch(s->stmt)) == 0)
                rows++;
        w->bytes += s->reader.bytes;
        if (r != MYSQL_NO_DATA) {
                fprintf(stderr, "db_ceiling: fetch: %s\n", mysql_stmt_error(s->stmt));
                return -1;
        }
        mysql_stmt_free_result(s->stmt);
        return rows;
}

/* Sends one statement per slot; with a pipeline, none waits for its
 * answer (MARIADB_OPT_SKIP_READ_RESPONSE). False on a connection error. */
static bool send_all(worker_t *w, MYSQL *mysql, slot_t *slots, unsigned n, uint64_t *seed)
{
        my_bool skip = n > 1;

        mysql_optionsv(mysql, MARIADB_OPT_SKIP_READ_RESPONSE, &skip);
        for (unsigned i = 0; i < n; i++) {
                draw_keys(w->opts, &slots[i], seed);
                if (mysql_stmt_execute(slots[i].stmt)) {
                        fprintf(stderr, "db_ceiling: execute: %s\n",
                                mysql_stmt_error(slots[i].stmt));
                        w->errors++;
                        return false;
                }
        }
        skip = 0;
        mysql_optionsv(mysql, MARIADB_OPT_SKIP_READ_RESPONSE, &skip);
        return true;
}

/* Reads the answers in the order the statements were sent. */
static bool receive_all(worker_t *w, MYSQL *mysql, slot_t *slots, unsigned n,
                        uint64_t t0)
{
        /* As queryd does: one row past the page tells whether another follows. */
        const options_t *o = w->opts;
        long long expected = o->kind == QUERY_POINT ? 1 : o->limit;

        for (unsigned i = 0; i < n; i++) {
                if (n > 1 && mysql->methods->db_read_execute_response(slots[i].stmt)) {
                        fprintf(stderr, "db_ceiling: execute: %s\n",
                                mysql_stmt_error(slots[i].stmt));
                        w->errors++;
                        return false;
                }
                long long rows = fetch_all(w, &slots[i]);
                if (rows < 0) {
                        w->errors++;
                        return false;
                }
                /* queryd never sends the extra row; it only looks at it. */
                if ((rows > expected ? expected : rows) != expected)
                        w->wrong_row_counts++;
                w->rows += (unsigned long long)rows;
                w->requests++;
                if (!record_latency(w, now_ns() - t0)) {
                        w->failed = true;
                        return false;
                }
        }
        return true;
}

static void *worker_main(void *arg)
{
        worker_t *w = arg;
        const options_t *o = w->opts;
        MYSQL *mysql = connect_db(o);
        slot_t *slots = calloc(o->pipeline, sizeof(*slots));
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (w->index + 1) ^ now_ns();
        char statement[512], sql[600];

        w->failed = true;
        if (mysql == NULL || slots == NULL)
                goto ready;
        statement_sql(o, statement, sizeof(statement));
        if (o->timeout_ms > 0)
                snprintf(sql, sizeof(sql), "SET STATEMENT max_statement_time=%u.%03u FOR %s",
                         o->timeout_ms / 1000, o->timeout_ms % 1000, statement);
        else
                snprintf(sql, sizeof(sql), "%s", statement);
        for (unsigned i = 0; i < o->pipeline; i++)
                if (!slot_open(&slots[i], mysql, sql))
                        goto ready;
        w->failed = false;
ready:
        /* Everybody starts together, also a worker that failed to connect. */
        pthread_barrier_wait(&start_barrier);
        while (!w->failed && !atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
                if (atomic_fetch_add(&requests_started, o->pipeline) >= o->max_requests)
                        break;
                uint64_t t0 = now_ns();
                if (!send_all(w, mysql, slots, o->pipeline, &seed) ||
                    !receive_all(w, mysql, slots, o->pipeline, t0))
                        break;
        }
        for (unsigned i = 0; slots != NULL && i < o->pipeline; i++)
                slot_close(&slots[i]);
        free(slots);
        if (mysql != NULL)
                mysql_close(mysql);
        mysql_thread_end();
        return NULL;
}

static void usage(FILE *out)
{
        fprintf(out,
                "usage: db_ceiling (--socket PATH | --host H --port P) --user U --password P\n"
                "                  --database D --query point|page|first|in [--connections N]\n"
                "                  [--duration SECONDS] [--max-requests N] [--rows N] [--limit N]\n"
                "                  [--timeout-ms MS] [--time-zone TZ] [--table T] [--pipeline N]\n"
                "  point: SELECT * FROM T WHERE id = ?  (random id 1..rows; T: users)\n"
                "  page:  SELECT * FROM T WHERE id > ? ORDER BY id LIMIT ?\n"
                "         (random cursor 0..rows-limit, LIMIT limit+1 as queryd binds it)\n"
                "  first: the same statement from the start of the table (LIMIT limit+1)\n"
                "  in:    SELECT * FROM T WHERE id IN (?, ...), limit distinct ids: the\n"
                "         statement coalesced point lookups would send\n"
                "  --pipeline: point only: N statements sent on a connection before their\n"
                "              answers are read (MARIADB_OPT_SKIP_READ_RESPONSE)\n"
                "  --timeout-ms: prefix SET STATEMENT max_statement_time as queryd does\n"
                "                (default 5000, queryd's default; 0: plain statement)\n");
}

static int parse_options(int argc, char **argv, options_t *o)
{
        unsigned long long n;

        *o = (options_t){ .host = "127.0.0.1", .port = 3306, .connections = 8,
                          .duration_s = 10, .max_requests = 100000000ULL, .rows = 100000,
                          .limit = 100, .timeout_ms = 5000, .time_zone = "+00:00", .table = "users",
                          .kind = QUERY_POINT, .pipeline = 1 };
        for (int i = 1; i < argc; i++) {
                const char *name = argv[i];
                const char *value = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(name, "--help") == 0) {
                        usage(stdout);
                        exit(0);
                }
                if (value == NULL) {
                        fprintf(stderr, "db_ceiling: %s needs a value\n", name);
                        return -1;
                }
                i++;
                if (strcmp(name, "--socket") == 0) {
                        o->socket = value;
                } else if (strcmp(name, "--host") == 0) {
                        o->host = value;
                } else if (strcmp(name, "--port") == 0 && parse_number(value, 65535, &n)) {
                        o->port = (unsigned)n;
                } else if (strcmp(name, "--user") == 0) {
                        o->user = value;
                } else if (strcmp(name, "--password") == 0) {
                        o->password = value;
                } else if (strcmp(name, "--database") == 0) {
                        o->database = value;
                } else if (strcmp(name, "--table") == 0 && strlen(value) <= 64 &&
                           strchr(value, '`') == NULL) {
                        o->table = value;
                } else if (strcmp(name, "--time-zone") == 0) {
                        o->time_zone = value;
                } else if (strcmp(name, "--query") == 0) {
                        if (strcmp(value, "point") == 0)
                                o->kind = QUERY_POINT;
                        else if (strcmp(value, "page") == 0)
                                o->kind = QUERY_PAGE;
                        else if (strcmp(value, "first") == 0)
                                o->kind = QUERY_FIRST;
                        else if (strcmp(value, "in") == 0)
                                o->kind = QUERY_IN;
                        else {
                                fprintf(stderr, "db_ceiling: unknown --query %s\n", value);
                                return -1;
                        }
                } else if (strcmp(name, "--connections") == 0 &&
                           parse_number(value, MAX_THREADS, &n) && n > 0) {
                        o->connections = (unsigned)n;
                } else if (strcmp(name, "--duration") == 0 && parse_number(value, 3600, &n) &&
                           n > 0) {
                        o->duration_s = (double)n;
                } else if (strcmp(name, "--max-requests") == 0 &&
                           parse_number(value, ULLONG_MAX, &n) && n > 0) {
                        o->max_requests = n;
                } else if (strcmp(name, "--rows") == 0 && parse_number(value, LLONG_MAX, &n) &&
                           n > 0) {
                        o->rows = (long long)n;
                } else if (strcmp(name, "--limit") == 0 && parse_number(value, 100000000, &n) &&
                           n > 0) {
                        o->limit = (long long)n;
                } else if (strcmp(name, "--pipeline") == 0 &&
                           parse_number(value, MAX_PIPELINE, &n) && n > 0) {
                        o->pipeline = (unsigned)n;
                } else if (strcmp(name, "--timeout-ms") == 0 &&
                           parse_number(value, 3600000, &n)) {
                        o->timeout_ms = (unsigned)n;
                } else {
                        fprintf(stderr, "db_ceiling: bad option or value: %s %s\n", name, value);
                        return -1;
                }
        }
        if (o->user == NULL || o->database == NULL) {
                usage(stderr);
                return -1;
        }
        if (o->kind == QUERY_IN && (o->limit > MAX_IN_IDS || o->limit > o->rows)) {
                fprintf(stderr, "db_ceiling: --query in takes --limit 1..%d\n", MAX_IN_IDS);
                return -1;
        }
        if (o->pipeline > 1 && o->kind != QUERY_POINT) {
                fprintf(stderr, "db_ceiling: --pipeline is for --query point\n");
                return -1;
        }
        if (o->kind == QUERY_PAGE && o->limit > o->rows) {
                fprintf(stderr, "db_ceiling: --limit exceeds --rows\n");
                return -1;
        }
        return 0;
}

static const char *kind_name(query_kind_t kind)
{
        return kind == QUERY_POINT ? "point"
               : kind == QUERY_PAGE ? "page"
               : kind == QUERY_FIRST ? "first"
                                     : "in";
}

int main(int argc, char **argv)
{
        options_t o;

        if (parse_options(argc, argv, &o) < 0)
                return 2;
        if (mysql_library_init(0, NULL, NULL)) {
                fprintf(stderr, "db_ceiling: cannot initialise the client library\n");
                return 1;
        }
        worker_t *workers = calloc(o.connections, sizeof(*workers));
        if (workers == NULL)
                return 1;
        pthread_barrier_init(&start_barrier, NULL, o.connections + 1);
        for (unsigned i = 0; i < o.connections; i++) {
                workers[i].index = i;
                workers[i].opts = &o;
                /* Blocking client calls need little stack; 64 threads stay small. */
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                int r = pthread_create(&workers[i].thread, &attr, worker_main, &workers[i]);
                pthread_attr_destroy(&attr);
                if (r != 0) {
                        fprintf(stderr, "db_ceiling: pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }
        pthread_barrier_wait(&start_barrier);
        uint64_t start = now_ns();
        uint64_t deadline = start + (uint64_t)(o.duration_s * 1e9);
        struct timespec nap = { 0, 10 * 1000 * 1000 };

        while (now_ns() < deadline &&
               atomic_load(&requests_started) < o.max_requests)
                nanosleep(&nap, NULL);
        atomic_store(&stop_requested, true);
        for (unsigned i = 0; i < o.connections; i++)
                pthread_join(workers[i].thread, NULL);
        double elapsed = (double)(now_ns() - start) / 1e9;

        size_t total = 0;
        unsigned long long requests = 0, errors = 0, wrong = 0, rows = 0, bytes = 0;
        unsigned failed = 0;
        for (unsigned i = 0; i < o.connections; i++) {
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
        size_t at = 0;
        for (unsigned i = 0; i < o.connections; i++) {
                memcpy(all + at, workers[i].latencies_ns,
                       workers[i].latency_count * sizeof(*all));
                at += workers[i].latency_count;
                free(workers[i].latencies_ns);
        }
        qsort(all, total, sizeof(*all), compare_u64);
        printf("{\"query\":\"%s\",\"connections\":%u,\"pipeline\":%u,\"limit\":%lld,"
               "\"duration_s\":%.3f,"
               "\"requests\":%llu,\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
               "\"errors\":%llu,\"wrong_row_counts\":%llu,\"failed_connections\":%u,"
               "\"rows\":%llu,\"bytes\":%llu}\n",
               kind_name(o.kind), o.connections, o.pipeline, o.kind == QUERY_POINT ? 1 : o.limit,
               elapsed,
               requests, elapsed > 0 ? (double)requests / elapsed : 0.0,
               percentile_ms(all, total, 50), percentile_ms(all, total, 99),
               total ? (double)all[total - 1] / 1e6 : 0.0, errors, wrong, failed, rows, bytes);
        free(all);
        free(workers);
        pthread_barrier_destroy(&start_barrier);
        mysql_library_end();
        return errors == 0 && wrong == 0 && failed == 0 && requests > 0 ? 0 : 1;
}
