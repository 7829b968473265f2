/*
 * A non-blocking MariaDB connection on a libuv loop. Every client call goes
 * through db_conn_drive(), which turns MYSQL_WAIT_* statuses into uv_poll
 * interest and a uv_timer, so nothing here ever blocks the loop. What happens
 * to the link is reported to the owner, which alone decides what comes next.
 *
 * The socket's uv_poll is closed only after libmariadb is done with the socket
 * and before a new connection can be opened on this loop, because fd numbers
 * are reused at once.
 */
#include "db/db_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Retries back off from 100 ms to at most 500 ms (plus jitter), so service
 * resumes well within a second of the database coming back. */
enum { CONNECT_TIMEOUT_S = 3, BACKOFF_MIN_MS = 100, BACKOFF_MAX_MS = 500 };

static void run_step(db_conn_t *c, int ready);
static void retry_cb(uv_timer_t *timer);

static void poll_close_cb(uv_handle_t *handle)
{
        free(handle);
}

static void close_poll(db_conn_t *c)
{
        if (c->poll == NULL)
                return;
        uv_close((uv_handle_t *)c->poll, poll_close_cb);
        c->poll = NULL;
        c->poll_events = 0;
}

static void idle_event(db_conn_t *c);
static void poll_cb(uv_poll_t *poll, int status, int events);

/* The socket's uv_poll, created on the first wait; 0 or a UV error. */
static int open_poll(db_conn_t *c)
{
        if (c->poll != NULL)
                return 0;
        c->poll = malloc(sizeof(*c->poll));
        if (c->poll == NULL)
                return UV_ENOMEM;
        int r = uv_poll_init_socket(c->timer.loop, c->poll, mysql_get_socket(c->mysql));
        if (r < 0) {
                free(c->poll);
                c->poll = NULL;
                return r;
        }
        c->poll->data = c;
        return 0;
}

/*
 * The socket stays registered with the same interest (readable, hang-up)
 * through waits and idle time: libuv re-registers the descriptor with epoll
 * on every uv_poll_start and uv_poll_stop, two system calls per wait that
 * this avoids. Writable interest is added only while a write waits.
 * Returns 0 or a UV error (then the interest is as it was).
 */
static int watch(db_conn_t *c, int events)
{
        events |= UV_READABLE | UV_DISCONNECT;
        if (c->poll == NULL || c->poll_events == events)
                return 0;
        int r = uv_poll_start(c->poll, events, poll_cb);
        if (r < 0)
                return r;
        c->poll_events = events;
        return 0;
}

static void unwatch(db_conn_t *c)
{
        if (c->poll != NULL && c->poll_events != 0) {
                uv_poll_stop(c->poll);
                c->poll_events = 0;
        }
}

static void poll_cb(uv_poll_t *poll, int status, int events)
{
        db_conn_t *c = poll->data;
        int ready = 0;

        if (c->step == NULL) {
                idle_event(c);
                return;
        }
        /* On a socket error let the client library find the error itself. */
        if (status < 0 || (events & (UV_READABLE | UV_DISCONNECT)))
                ready |= MYSQL_WAIT_READ;
        if (status < 0 || (events & UV_WRITABLE))
                ready |= MYSQL_WAIT_WRITE;
        uv_timer_stop(&c->timer);
        run_step(c, ready);
}

static void wait_timeout_cb(uv_timer_t *timer)
{
        run_step(timer->data, MYSQL_WAIT_TIMEOUT);
}

static void continue_unwatched_cb(uv_timer_t *timer)
{
        run_step(timer->data, MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
}

/*
 * The socket cannot be watched (no memory for its uv_poll, or epoll refused
 * it), so nothing would ever continue the call. End it the way a lost server
 * would: shut the socket down and continue the call on the next loop turn;
 * the client library then fails on the socket without waiting, and done
 * runs with that error like after any other failure. Whoever ran the call
 * reports its outcome to the owner, which decides what becomes of the link.
 */
static void fail_wait(db_conn_t *c)
{
        shutdown(mysql_get_socket(c->mysql), SHUT_RDWR);
        uv_timer_start(&c->timer, continue_unwatched_cb, 0, 0);
}

/* Arms the poll and the timer for the events the client library waits for. */
static void wait_for(db_conn_t *c, int status)
{
        if (open_poll(c) < 0 || watch(c, status & MYSQL_WAIT_WRITE ? UV_WRITABLE : 0) < 0) {
                fail_wait(c);
                return;
        }
        if (status & MYSQL_WAIT_TIMEOUT)
                uv_timer_start(&c->timer, wait_timeout_cb, mysql_get_timeout_value_ms(c->mysql), 0);
}

static void run_step(db_conn_t *c, int ready)
{
        int status = c->step(c, ready);

        if (status != 0) {
                wait_for(c, status);
                return;
        }
        db_done_fn done = c->done;
        c->step = NULL;
        c->done = NULL;
        done(c);
}

void db_conn_drive(db_conn_t *c, db_step_fn step, db_done_fn done, void *op)
{
        c->step = step;
        c->done = done;
        c->op = op;
        run_step(c, 0);
}

bool db_conn_is_calling(const db_conn_t *c)
{
        return c->step != NULL;
}

void db_conn_pause(db_conn_t *c)
{
        uv_timer_stop(&c->timer);
        unwatch(c);
}

int db_conn_init(db_conn_t *c, uv_loop_t *loop, const db_conn_options_t *options)
{
        memset(c, 0, sizeof(*c));
        c->options = *options;
        c->state = DB_CONN_DOWN;
        c->backoff_ms = BACKOFF_MIN_MS;
        c->timer.data = c;
        return uv_timer_init(loop, &c->timer);
}

/* ---- connecting ---- */

static int connect_step(db_conn_t *c, int ready)
{
        const db_target_t *t = c->options.target;
        const db_host_t *host = &t->hosts[c->host_index];
        MYSQL *result;

        if (ready == 0)
                return mysql_real_connect_start(&result, c->mysql, t->socket ? NULL : host->name,
                                                t->user, t->password, t->database, host->port,
                                                t->socket, 0);
        return mysql_real_connect_cont(&result, c->mysql, ready);
}

/*
 * A connect that failed, or a session that cannot serve (a Galera node not
 * ready): the next attempt goes to the next host of the list, if there is
 * one, after a backoff.
 */
static void connect_failed(db_conn_t *c, bool session_open, unsigned err, const char *why)
{
        const db_conn_options_t *o = &c->options;
        char message[MYSQL_ERRMSG_SIZE];

        snprintf(message, sizeof(message), "%s", why);
        c->host_index = (c->host_index + 1) % o->target->host_count;
        c->hosts_failed++;
        close_poll(c);
        /* A session that did open is not quit politely: its socket is shut
         * first, so that the close cannot wait on it. */
        if (session_open)
                shutdown(mysql_get_socket(c->mysql), SHUT_RDWR);
        mysql_close(c->mysql);
        c->mysql = NULL;
        c->state = DB_CONN_DOWN;
        /* A host of the list not tried since the last session is tried at
         * once, and the owner hears nothing: the database is unreachable
         * only once every host has failed (a cluster node that died leaves
         * the others to serve). */
        if (!o->one_host && c->hosts_failed < o->target->host_count) {
                uv_timer_start(&c->timer, retry_cb, 0, 0);
                return;
        }
        c->hosts_failed = 0;
        /* Jitter spreads the retries of many connections and many workers. */
        unsigned delay = c->backoff_ms + (unsigned)(uv_hrtime() % (c->backoff_ms / 2 + 1));
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        uv_timer_start(&c->timer, retry_cb, delay, 0);
        /* Told last, with the conn DOWN and its retry armed: the owner may close it. */
        o->events->connect_failed_cb(c, err, message, o->owner);
}

static void session_up(db_conn_t *c)
{
        db_conn_forget_role(c); /* a new session: its role is the account's default */
        c->role_untouched = true;
        c->state = DB_CONN_UP;
        c->backoff_ms = BACKOFF_MIN_MS;
        c->hosts_failed = 0;
        c->options.events->up_cb(c, c->options.owner);
}

/* ---- what the server is: the session probe ---- */

/*
 * One statement when a session opens tells a Galera node (wsrep on) and
 * whether it is ready to serve. A node that is not (joining, donating
 * without serving, or cut off from the cluster's primary component)
 * refuses statements that read tables with ER_UNKNOWN_COM_ERROR, which the
 * status table is; either way its connect counts as failed and the next
 * host of the list is tried. A server without wsrep (MySQL) fails the
 * statement, which only says that it is no Galera node.
 */
#define PROBE_SQL                                                                                \
        "SELECT @@wsrep_on, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "               \
        "WHERE VARIABLE_NAME = 'WSREP_READY'"

enum { ER_NODE_NOT_READY = 1047 }; /* ER_UNKNOWN_COM_ERROR, as wsrep uses it */

static int probe_step(db_conn_t *c, int ready)
{
        if (ready == 0)
                return mysql_real_query_start(&c->probe_ret, c->mysql, PROBE_SQL,
                                              strlen(PROBE_SQL));
        return mysql_real_query_cont(&c->probe_ret, c->mysql, ready);
}

static int probe_result_step(db_conn_t *c, int ready)
{
        if (ready == 0)
                return mysql_store_result_start(&c->probe_result, c->mysql);
        return mysql_store_result_cont(&c->probe_result, c->mysql, ready);
}

static bool is_link_error(unsigned err)
{
        return err >= 2000 && err < 3000;
}

static void probe_result_done(db_conn_t *c)
{
        MYSQL_RES *result = c->probe_result;
        MYSQL_ROW row = result != NULL ? mysql_fetch_row(result) : NULL;
        unsigned err = mysql_errno(c->mysql);
        bool wsrep = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
        bool ready = row != NULL && row[1] != NULL && strcmp(row[1], "ON") == 0;

        c->probe_result = NULL;
        if (result != NULL)
                mysql_free_result(result); /* stored whole: no I/O */
        if (result == NULL && is_link_error(err)) {
                connect_failed(c, true, err, mysql_error(c->mysql));
                return;
        }
        if (wsrep && !ready) {
                connect_failed(c, true, ER_NODE_NOT_READY,
                               "the Galera node is not ready for queries");
                return;
        }
        c->galera = wsrep;
        session_up(c);
}

static void probe_done(db_conn_t *c)
{
        unsigned err = mysql_errno(c->mysql);

        if (c->probe_ret == 0) {
                db_conn_drive(c, probe_result_step, probe_result_done, NULL);
                return;
        }
        if (is_link_error(err) || err == ER_NODE_NOT_READY) {
                connect_failed(c, true, err, mysql_error(c->mysql));
                return;
        }
        c->galera = false; /* no wsrep here: not a Galera node */
        session_up(c);
}

static void connect_done(db_conn_t *c)
{
        if (mysql_errno(c->mysql) == 0) {
                db_conn_drive(c, probe_step, probe_done, NULL);
                return;
        }
        /* The handshake failed: there is no session to quit. */
        connect_failed(c, false, mysql_errno(c->mysql), mysql_error(c->mysql));
}

/*
 * Every session is strict: a value that does not fit its column, a date
 * that does not exist or a division by zero fails the statement instead of
 * being stored truncated, coerced or as NULL with a warning nobody reads.
 * NO_AUTO_VALUE_ON_ZERO keeps an explicit 0 an explicit 0; NO_ENGINE_
 * SUBSTITUTION refuses a table that could not get the engine asked for.
 */
#define SESSION_SQL_MODE                                                                         \
        "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE,"             \
        "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO"

static int configure(db_conn_t *c)
{
        unsigned timeout = CONNECT_TIMEOUT_S;
        char init[512];

        /* One statement: the session's setup costs one round trip. Writes
         * count and lock the rows they mean, then change them: REPEATABLE
         * READ's next-key locks keep others from adding rows in between,
         * whatever isolation the server defaults to. A primary with replicas
         * reports each commit's GTID in the OK packet, so a write learns
         * its position without another round trip. */
        snprintf(init, sizeof(init),
                 "SET time_zone = '%s', sql_mode = '" SESSION_SQL_MODE "', "
                 "tx_isolation = 'REPEATABLE-READ'%s",
                 c->options.time_zone,
                 c->options.track_position
                         ? ", session_track_system_variables = CONCAT("
                           "@@session_track_system_variables, ',last_gtid')"
                         : "");
        if (mysql_options(c->mysql, MYSQL_OPT_NONBLOCK, 0) ||
            mysql_options(c->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4") ||
            mysql_options(c->mysql, MYSQL_INIT_COMMAND, init) ||
            mysql_options(c->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout))
                return -1;
        return 0;
}

void db_conn_connect(db_conn_t *c)
{
        c->state = DB_CONN_CONNECTING;
        c->mysql = mysql_init(NULL);
        if (c->mysql == NULL || configure(c) < 0) {
                if (c->mysql != NULL)
                        mysql_close(c->mysql);
                c->mysql = NULL;
                c->state = DB_CONN_DOWN;
                uv_timer_start(&c->timer, retry_cb, BACKOFF_MAX_MS, 0);
                c->options.events->connect_failed_cb(c, 0, "cannot initialise a client handle",
                                                     c->options.owner);
                return;
        }
        db_conn_drive(c, connect_step, connect_done, NULL);
}

static void retry_cb(uv_timer_t *timer)
{
        db_conn_connect(timer->data);
}

/* ---- watching an idle connection ---- */

/*
 * An event on a connection with no call in progress: the server sends
 * nothing unasked, so it closed the link (restart, idle timeout, KILL).
 * Whether to close it now or leave it to the next call is the owner's
 * choice; either way the event must not fire again meanwhile.
 */
static void idle_event(db_conn_t *c)
{
        unwatch(c);
        c->options.events->lost_cb(c, c->options.owner);
}

void db_conn_watch_idle(db_conn_t *c)
{
        /* Unwatched, a closed link is found by the next call instead, which
         * fails on it like on any lost server: no need to act here. */
        (void)watch(c, 0);
}

/* ---- closing ---- */

static int close_step(db_conn_t *c, int ready)
{
        if (ready == 0)
                return mysql_close_start(c->mysql);
        return mysql_close_cont(c->mysql, ready);
}

static void close_done(db_conn_t *c)
{
        /* mysql_close detached the statements from the connection, so closing
         * them now frees memory without any I/O. */
        for (unsigned i = 0; i < c->statement_count; i++) {
                mysql_stmt_close(c->statements[i].stmt);
                free(c->statements[i].sql);
        }
        c->statement_count = 0;
        db_conn_forget_role(c);
        close_poll(c);
        c->mysql = NULL;
        c->state = DB_CONN_DOWN;
        c->options.events->closed_cb(c, c->options.owner);
}

/*
 * Ends a client call that is waiting for the socket. Starting another call
 * (mysql_close_start) while one is suspended is not something the library
 * promises to handle, so the socket is shut down and the suspended call is
 * continued until it fails on it, which it does without waiting.
 */
static void abort_call(db_conn_t *c)
{
        enum { MAX_ATTEMPTS = 8 };

        shutdown(mysql_get_socket(c->mysql), SHUT_RDWR);
        c->aborting = true;
        for (int i = 0; i < MAX_ATTEMPTS; i++)
                if (c->step(c, MYSQL_WAIT_READ | MYSQL_WAIT_WRITE) == 0)
                        break;
        c->aborting = false;
}

void db_conn_close(db_conn_t *c)
{
        if (c->state == DB_CONN_CLOSING)
                return;
        unwatch(c);
        uv_timer_stop(&c->timer);
        if (c->step != NULL && c->mysql != NULL)
                abort_call(c);
        c->step = NULL;
        c->done = NULL;
        if (c->mysql == NULL) {
                c->state = DB_CONN_DOWN;
                c->options.events->closed_cb(c, c->options.owner);
                return;
        }
        c->state = DB_CONN_CLOSING;
        db_conn_drive(c, close_step, close_done, NULL);
}

void db_conn_done(db_conn_t *c)
{
        db_conn_forget_role(c);
        close_poll(c);
        uv_close((uv_handle_t *)&c->timer, NULL);
}

void db_conn_forget_role(db_conn_t *c)
{
        free(c->role);
        c->role = NULL;
        c->role_known = false;
        c->role_untouched = false;
}

/* ---- statement cache ---- */

static unsigned long text_hash(const char *text)
{
        unsigned long h = 5381;

        while (*text != '\0')
                h = h * 33 + (unsigned char)*text++;
        return h;
}

MYSQL_STMT *db_conn_statement(db_conn_t *c, const char *sql, unsigned timeout_ms)
{
        unsigned long h = text_hash(sql);

        for (unsigned i = 0; i < c->statement_count; i++) {
                db_cached_stmt_t *e = &c->statements[i];
                if (e->hash == h && e->timeout_ms == timeout_ms && strcmp(e->sql, sql) == 0) {
                        e->last_used = ++c->statement_clock;
                        return e->stmt;
                }
        }
        return NULL;
}

static void evict_least_recent(db_conn_t *c)
{
        unsigned oldest = 0;

        for (unsigned i = 1; i < c->statement_count; i++)
                if (c->statements[i].last_used < c->statements[oldest].last_used)
                        oldest = i;
        mysql_stmt_close(c->statements[oldest].stmt);
        free(c->statements[oldest].sql);
        c->statements[oldest] = c->statements[--c->statement_count];
}

bool db_conn_keep_statement(db_conn_t *c, const char *sql, unsigned timeout_ms,
                            MYSQL_STMT *stmt)
{
        char *copy = strdup(sql);

        if (copy == NULL)
                return false;
        if (c->statement_count == DB_CONN_MAX_STATEMENTS)
                evict_least_recent(c);
        c->statements[c->statement_count++] = (db_cached_stmt_t){
                .sql = copy,
                .timeout_ms = timeout_ms,
                .hash = text_hash(sql),
                .last_used = ++c->statement_clock,
                .stmt = stmt,
        };
        return true;
}

void db_conn_forget_statement(db_conn_t *c, MYSQL_STMT *stmt)
{
        for (unsigned i = 0; i < c->statement_count; i++) {
                if (c->statements[i].stmt == stmt) {
                        free(c->statements[i].sql);
                        c->statements[i] = c->statements[--c->statement_count];
                        return;
                }
        }
}
