/* The target set and its monitors: one thread per server, each with one
 * blocking connection of its own, so a server that hangs delays only its
 * own figures. */
#include "db/db_targets.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Primary positions kept for lag: a new entry per change seen, so at ten
 * polls a second this spans 25 s of steady writes at least. */
enum { RING_SIZE = 256, CONNECT_TIMEOUT_S = 1, READ_TIMEOUT_S = 2 };

/* A lag too large to tell: above QUERYD_REPLICA_MAX_LAG_MS's highest value. */
#define LAG_UNKNOWN_MS 3600001ULL

typedef struct sample {
        unsigned long long at_ms;
        gtid_set_t position;
} sample_t;

typedef struct target_state {
        char name[24];
        const db_target_t *target;
        unsigned index;
        db_targets_t *set;
        atomic_bool up;
        atomic_uint lag_ms;
        atomic_ullong requests;
        atomic_ullong errors;
        pthread_mutex_t lock;     /* guards applied */
        gtid_set_t applied;       /* a replica's @@gtid_slave_pos at its last poll */
        bool applied_known;
        pthread_t thread;
        bool thread_started;
} target_state_t;

struct db_targets {
        const config_t *config;
        unsigned count;
        target_state_t targets[DB_TARGETS_MAX];
        pthread_mutex_t ring_lock;   /* guards the samples */
        sample_t ring[RING_SIZE];
        unsigned ring_start, ring_len;
        bool ring_dropped;      /* older positions fell out: a lag may exceed the ring */
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
};

static unsigned long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* ---- one server's connection ---- */

static MYSQL *connect_to(const db_target_t *t)
{
        unsigned connect_timeout = CONNECT_TIMEOUT_S, read_timeout = READ_TIMEOUT_S;

        for (unsigned i = 0; i < t->host_count; i++) {
                MYSQL *mysql = mysql_init(NULL);
                if (mysql == NULL)
                        return NULL;
                mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
                mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
                mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
                if (mysql_real_connect(mysql, t->hosts[i].name, t->user, t->password, NULL,
                                       t->hosts[i].port, t->socket, 0) != NULL)
                        return mysql;
                mysql_close(mysql);
        }
        return NULL;
}

/* The one value of sql as a GTID list; -EIO when the server did not answer. */
static int read_position(MYSQL *mysql, const char *sql, gtid_set_t *ret)
{
        if (mysql_query(mysql, sql) != 0)
                return -EIO;
        MYSQL_RES *res = mysql_store_result(mysql);
        if (res == NULL)
                return -EIO;
        MYSQL_ROW row = mysql_fetch_row(res);
        unsigned long *lengths = mysql_fetch_lengths(res);
        int r = -EIO;
        if (row != NULL && lengths != NULL)
                r = row[0] == NULL ? (ret->count = 0, 0) : gtid_parse(row[0], lengths[0], ret);
        mysql_free_result(res);
        return r < 0 ? -EIO : 0;
}

/* ---- lag ---- */

static bool same_position(const gtid_set_t *a, const gtid_set_t *b)
{
        return gtid_covers(a, b) && gtid_covers(b, a);
}

static void record_primary(db_targets_t *set, const gtid_set_t *position)
{
        pthread_mutex_lock(&set->ring_lock);
        const sample_t *last = set->ring_len
                ? &set->ring[(set->ring_start + set->ring_len - 1) % RING_SIZE] : NULL;
        if (last == NULL || !same_position(&last->position, position)) {
                if (set->ring_len == RING_SIZE) {
                        set->ring_start = (set->ring_start + 1) % RING_SIZE;
                        set->ring_len--;
                        set->ring_dropped = true;
                }
                sample_t *s = &set->ring[(set->ring_start + set->ring_len++) % RING_SIZE];
                s->at_ms = now_ms();
                s->position = *position;
        }
        pthread_mutex_unlock(&set->ring_lock);
}

/* The age of the oldest primary position applied lacks; 0 when it lacks none. */
static unsigned lag_of(db_targets_t *set, const gtid_set_t *applied)
{
        unsigned long long now = now_ms(), lag = 0;

        pthread_mutex_lock(&set->ring_lock);
        for (unsigned i = 0; i < set->ring_len; i++) {
                const sample_t *s = &set->ring[(set->ring_start + i) % RING_SIZE];
                if (!gtid_covers(applied, &s->position)) {
                        /* Lacking even the oldest kept position, when older ones
                         * fell out, it may be any age: as far behind as can be
                         * told, so that no bound lets it read. */
                        lag = i == 0 && set->ring_dropped ? LAG_UNKNOWN_MS : now - s->at_ms;
                        break;
                }
        }
        pthread_mutex_unlock(&set->ring_lock);
        return lag > LAG_UNKNOWN_MS ? LAG_UNKNOWN_MS : (unsigned)lag;
}

/* ---- the monitor ---- */

static int poll_once(target_state_t *t, MYSQL *mysql)
{
        gtid_set_t position;

        if (t->index == 0) {
                if (read_position(mysql, "SELECT @@gtid_binlog_pos", &position) < 0)
                        return -EIO;
                record_primary(t->set, &position);
                return 0;
        }
        if (read_position(mysql, "SELECT @@gtid_slave_pos", &position) < 0)
                return -EIO;
        pthread_mutex_lock(&t->lock);
        t->applied = position;
        t->applied_known = true;
        pthread_mutex_unlock(&t->lock);
        atomic_store(&t->lag_ms, lag_of(t->set, &position));
        return 0;
}

/* Sleeps one poll; false when the set is stopping. */
static bool wait_poll(db_targets_t *set)
{
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)DB_TARGETS_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&set->stop_lock);
        while (!set->stopping &&
               pthread_cond_timedwait(&set->stop_cond, &set->stop_lock, &until) != ETIMEDOUT)
                ;
        bool go_on = !set->stopping;
        pthread_mutex_unlock(&set->stop_lock);
        return go_on;
}

static void *monitor_main(void *arg)
{
        target_state_t *t = arg;
        MYSQL *mysql = NULL;

        mysql_thread_init();
        do {
                if (mysql == NULL)
                        mysql = connect_to(t->target);
                if (mysql != NULL && poll_once(t, mysql) < 0) {
                        mysql_close(mysql);
                        mysql = NULL;
                }
                atomic_store(&t->up, mysql != NULL);
        } while (wait_poll(t->set));
        if (mysql != NULL)
                mysql_close(mysql);
        mysql_thread_end();
        return NULL;
}

/* ---- the set ---- */

static void init_target(db_targets_t *set, unsigned i, const db_target_t *target)
{
        target_state_t *t = &set->targets[i];

        if (i == 0)
                snprintf(t->name, sizeof(t->name), "primary");
        else
                snprintf(t->name, sizeof(t->name), "replica%u", i);
        t->target = target;
        t->index = i;
        t->set = set;
        /* Without replicas nothing polls the primary: its pool says whether it is up. */
        atomic_init(&t->up, i == 0);
        pthread_mutex_init(&t->lock, NULL);
}

int db_targets_new(db_targets_t **ret, const config_t *config)
{
        db_targets_t *set = calloc(1, sizeof(*set));

        *ret = NULL;
        if (set == NULL)
                return -ENOMEM;
        set->config = config;
        set->count = 1 + config->replica_count;
        pthread_mutex_init(&set->ring_lock, NULL);
        pthread_mutex_init(&set->stop_lock, NULL);
        pthread_cond_init(&set->stop_cond, NULL);
        init_target(set, 0, &config->db);
        for (unsigned i = 1; i < set->count; i++)
                init_target(set, i, &config->replicas[i - 1]);
        for (unsigned i = 0; config->replica_count > 0 && i < set->count; i++) {
                int r = pthread_create(&set->targets[i].thread, NULL, monitor_main,
                                       &set->targets[i]);
                if (r != 0) {
                        db_targets_free(set);
                        return -r;
                }
                set->targets[i].thread_started = true;
        }
        *ret = set;
        return 0;
}

void db_targets_free(db_targets_t *set)
{
        if (set == NULL)
                return;
        pthread_mutex_lock(&set->stop_lock);
        set->stopping = true;
        pthread_cond_broadcast(&set->stop_cond);
        pthread_mutex_unlock(&set->stop_lock);
        for (unsigned i = 0; i < set->count; i++) {
                if (set->targets[i].thread_started)
                        pthread_join(set->targets[i].thread, NULL);
                pthread_mutex_destroy(&set->targets[i].lock);
        }
        pthread_mutex_destroy(&set->ring_lock);
        pthread_mutex_destroy(&set->stop_lock);
        pthread_cond_destroy(&set->stop_cond);
        free(set);
}

unsigned db_targets_count(const db_targets_t *set)
{
        return set->count;
}

const char *db_targets_name(const db_targets_t *set, unsigned target)
{
        return set->targets[target].name;
}

bool db_targets_readable(const db_targets_t *set, unsigned target)
{
        const target_state_t *t = &set->targets[target];

        if (!atomic_load(&t->up))
                return false;
        return target == 0 || atomic_load(&t->lag_ms) <= set->config->replica_max_lag_ms;
}

bool db_targets_has_applied(const db_targets_t *set, unsigned target, const gtid_set_t *want)
{
        target_state_t *t = (target_state_t *)&set->targets[target];

        if (target == 0)
                return false;
        pthread_mutex_lock(&t->lock);
        bool applied = t->applied_known && gtid_covers(&t->applied, want);
        pthread_mutex_unlock(&t->lock);
        return applied;
}

void db_targets_count_request(db_targets_t *set, unsigned target)
{
        atomic_fetch_add_explicit(&set->targets[target].requests, 1, memory_order_relaxed);
}

void db_targets_count_error(db_targets_t *set, unsigned target)
{
        atomic_fetch_add_explicit(&set->targets[target].errors, 1, memory_order_relaxed);
}

static void render_family(const db_targets_t *set, strbuf_t *out, const char *name,
                          const char *type, const char *help,
                          double (*value)(const db_targets_t *, unsigned, const db_pool_stats_t *),
                          const db_pool_stats_t *pools)
{
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        for (unsigned i = 0; i < set->count; i++)
                strbuf_appendf(out, "%s{target=\"%s\"} %.17g\n", name, set->targets[i].name,
                               value(set, i, pools));
}

static double up_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)p;
        return atomic_load(&s->targets[i].up) ? 1 : 0;
}

static double lag_seconds_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)p;
        return atomic_load(&s->targets[i].lag_ms) / 1000.0;
}

static double requests_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)p;
        return (double)atomic_load(&s->targets[i].requests);
}

static double errors_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)p;
        return (double)atomic_load(&s->targets[i].errors);
}

static double size_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)s;
        return p[i].size;
}

static double busy_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)s;
        return p[i].busy;
}

static double idle_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)s;
        return p[i].idle;
}

static double waiting_of(const db_targets_t *s, unsigned i, const db_pool_stats_t *p)
{
        (void)s;
        return p[i].waiting;
}

void db_targets_render(const db_targets_t *set, const db_pool_stats_t *pools, strbuf_t *out)
{
        render_family(set, out, "queryd_db_target_up", "gauge",
                      "1 while the server answers its monitor (the primary without replicas: 1).",
                      up_of, pools);
        render_family(set, out, "queryd_db_target_lag_seconds", "gauge",
                      "How far a replica is behind the primary, by GTID position.",
                      lag_seconds_of, pools);
        render_family(set, out, "queryd_db_target_requests_total", "counter",
                      "Connections asked for on the server.", requests_of, pools);
        render_family(set, out, "queryd_db_target_errors_total", "counter",
                      "Requests that failed on the server: no connection, or a lost one.",
                      errors_of, pools);
        render_family(set, out, "queryd_db_target_pool_size", "gauge",
                      "Connections to the server, every worker's together.", size_of, pools);
        render_family(set, out, "queryd_db_target_pool_busy", "gauge",
                      "Connections to the server lent to requests.", busy_of, pools);
        render_family(set, out, "queryd_db_target_pool_idle", "gauge",
                      "Connections to the server ready to lend.", idle_of, pools);
        render_family(set, out, "queryd_db_target_pool_waiting", "gauge",
                      "Requests waiting for a connection to the server.", waiting_of, pools);
}
