/*
 * Coalesced point lookups. A batch is born with its first lookup and asks
 * the pool for a connection at once; lookups of the same resource that
 * arrive before the connection is granted join it (the pool counts them as
 * waiters). Once granted, the batch runs one IN (...) statement and hands
 * each fetched row to the lookups with its key. A batch owns a scope of its
 * own (lease, statement text, result buffers); each lookup lives in its
 * request's scope and leaves the batch when that scope closes, and the
 * batch closes when its last lookup has left or been answered.
 */
#include "request/item_batch.h"

#include <errno.h>
#include <mysql.h>
#include <string.h>

#include "core/metrics.h"
#include "db/db_query.h"
#include "db/db_role.h"
#include "request/answer.h"
#include "request/query_call.h"
#include "request/read_cache.h"
#include "request/read_position.h"
#include "sql/typed_value.h"

_Static_assert((int)CONFIG_MAX_BATCH_LOOKUPS <= (int)API_MAX_LOOKUP_KEYS &&
                       API_MAX_LOOKUP_KEYS == 1 << (API_LOOKUP_SIZES - 1),
               "every batch size has its statement in api_resource_t.lookup_sql");

typedef struct lookup lookup_t;

struct lookup {
        env_t *env;
        http_request_t *req;
        item_batch_t *batch;    /* NULL once it has left or been answered */
        long long key;
        row_format_t format;
        unsigned prefer_ms;     /* the request's Prefer: timeout=, capped; 0: none */
        strbuf_t body;
        bool found;
        list_node_t node;       /* in its batch's lookups */
};

struct item_batch {
        scope_t *scope;
        const config_t *config;
        db_pool_t *pool;
        const api_resource_t *res;
        const char *db_role;    /* every lookup's MariaDB role (same_db_role); NULL: none */
        list_node_t lookups;
        unsigned lookup_count;
        bool running;           /* granted its connection: closed to new lookups */
        bool causal;            /* a lookup carries a position: the statement waits for it */
        unsigned retries;       /* runs again after its connection failed */
        list_node_t open_node;  /* in the worker's open batches while it takes lookups */
        db_lease_t *lease;
        db_query_t query;
        long long *keys;        /* the statement's parameters, padded */
        MYSQL_BIND *row_binds;  /* a view's claims (res->row_claim_count), in the batch's
                                   scope: only lookups binding the same values join */
};

/* ---- membership ---- */

static void close_batch(item_batch_t *b)
{
        list_remove(&b->open_node);
        scope_close(b->scope); /* gives the connection back, or reopens it mid-statement */
}

static void detach(lookup_t *l)
{
        list_remove(&l->node);
        l->batch->lookup_count--;
        l->batch = NULL;
}

static lookup_t *first_lookup(const item_batch_t *b)
{
        list_node_t *node = list_first(&b->lookups);

        return node ? list_entry(node, lookup_t, node) : NULL;
}

/* A lookup that stops waiting: the batch goes on for the others, or closes. */
static void leave(lookup_t *l)
{
        item_batch_t *b = l->batch;

        if (b == NULL)
                return;
        detach(l);
        if (!b->running)
                db_pool_drop_rider(b->lease);
        if (b->lookup_count == 0)
                close_batch(b);
}

static void leave_cb(void *arg)
{
        leave(arg);
}

/* ---- answers ---- */

static void respond_found(lookup_t *l)
{
        const char *type = row_format_content_type(l->format);

        read_cache_keep(l->env, type, &l->body);
        read_cache_headers(l->env, l->req);
        http_respond_buffer(l->req, 200, type, &l->body);
}

static void answer(lookup_t *l, const db_query_t *q, int status)
{
        http_request_t *req = l->req;

        if (status < 0)
                answer_db_error(req, &q->error);
        else if (!l->found)
                http_fail(req, 404, "not-found", "no row with this key");
        else
                respond_found(l);
}

static void fail_acquire(item_batch_t *b, int status)
{
        lookup_t *l;

        while ((l = first_lookup(b)) != NULL) {
                detach(l);
                answer_acquire_failure(l->req, status);
        }
        close_batch(b);
}

static bool on_row(db_query_t *q, void *data)
{
        item_batch_t *b = data;
        long long key;

        if (!rowjson_integer(&q->rows, (unsigned)b->res->key[0], &key))
                return true;
        list_for_each(node, &b->lookups) {
                lookup_t *l = list_entry(node, lookup_t, node);
                if (l->key != key || l->found)
                        continue;
                rowjson_append_listed(&q->rows, l->format, 0, &l->body);
                l->found = true;
        }
        return true;
}

static void on_lease(db_lease_t *lease, int status, void *data);

/*
 * A batch whose connection failed under it before any row came (the server
 * went away, or a Galera node left the cluster) runs again on another
 * connection on the primary, as a read of query_call.c does: with a host
 * list, the pool has moved on to the next host.
 */
static bool retry_batch(item_batch_t *b, const db_error_t *error)
{
        enum { MAX_RETRIES = 2, CR_OUT_OF_MEMORY = 2008, ER_NODE_NOT_READY = 1047 };
        bool link_failed = (error->code >= 2000 && error->code < 3000 &&
                            error->code != CR_OUT_OF_MEMORY) ||
                           error->code == ER_NODE_NOT_READY;

        if (!link_failed || b->retries >= MAX_RETRIES)
                return false;
        list_for_each(node, &b->lookups)
                if (list_entry(node, lookup_t, node)->found)
                        return false;
        b->retries++;
        /* On the primary, as query_call.c does: a replica's crash costs nothing. */
        lookup_t *first = first_lookup(b);
        db_pool_t *primary = env_db_for(first->env, DB_WRITE);
        if (b->pool != primary) {
                env_count_error(first->env, b->pool);
                b->pool = primary;
        }
        return db_pool_acquire(b->pool, b->scope, on_lease, b, &b->lease) == 0;
}

static void on_done(db_query_t *q, int status, void *data)
{
        item_batch_t *b = data;
        lookup_t *l;

        db_pool_release(b->lease); /* the rows are read: the connection is free */
        if (status < 0 && retry_batch(b, &q->error))
                return;
        if (status < 0)
                metrics_count_db_error();
        while ((l = first_lookup(b)) != NULL) {
                detach(l);
                answer(l, q, status);
        }
        close_batch(b);
}

/* ---- the statement ---- */

/* Statements come in a few sizes, so each connection prepares few of them:
 * the keys are padded to the next power of two with copies of the last.
 * Returns the size's index in res->lookup_sql. */
static unsigned padded_size(unsigned n)
{
        unsigned i = 0;

        while ((1u << i) < n)
                i++;
        return i;
}

static int bind_keys(item_batch_t *b, unsigned count)
{
        bool is_unsigned = b->res->columns[b->res->key[0]].rule.is_unsigned;
        size_t claims = b->res->row_claim_count;
        MYSQL_BIND *params = scope_alloc(b->scope, (count + claims) * sizeof(*params));
        unsigned n = 0;

        b->keys = scope_alloc(b->scope, count * sizeof(*b->keys));
        if (params == NULL || b->keys == NULL)
                return -ENOMEM;
        list_for_each(node, &b->lookups)
                b->keys[n++] = list_entry(node, lookup_t, node)->key;
        for (; n < count; n++)
                b->keys[n] = b->keys[n - 1];
        for (unsigned i = 0; i < count; i++)
                params[i] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_LONGLONG,
                                          .buffer = &b->keys[i],
                                          .is_unsigned = is_unsigned };
        if (claims > 0) /* the view's row condition follows the keys */
                memcpy(&params[count], b->row_binds, claims * sizeof(*params));
        b->query.params = params;
        return 0;
}

static void on_deadline(http_request_t *req, void *data);

/* The connection runs under the batch's role: the statement may start. */
static void on_role(db_lease_t *lease, int status, const db_error_t *error, void *data)
{
        item_batch_t *b = data;
        lookup_t *l;

        if (status >= 0 && b->causal && read_position_wait(&b->query, lease->conn, b->scope) < 0) {
                static const db_error_t no_memory = { 2008, "HY001", "out of memory" };
                status = -ENOMEM;
                error = &no_memory;
        }
        if (status >= 0) {
                db_query_run(&b->query, lease, b->scope);
                return;
        }
        db_pool_release(lease);
        metrics_count_db_error();
        while ((l = first_lookup(b)) != NULL) {
                detach(l);
                answer_role_failure(l->req, error);
        }
        close_batch(b);
}

/* The statement's deadline for one lookup: the batch's, with a grace for
 * the database to report its own timeout, or the lookup's Prefer. */
static unsigned lookup_deadline_ms(const item_batch_t *b, const lookup_t *l)
{
        if (l->prefer_ms != 0 && l->prefer_ms < b->query.timeout_ms)
                return l->prefer_ms;
        return b->query.timeout_ms + DB_QUERY_GRACE_MS;
}

/* Each lookup now waits for the statement, not for a connection. */
static void rearm_deadlines(item_batch_t *b)
{
        list_for_each(node, &b->lookups) {
                lookup_t *l = list_entry(node, lookup_t, node);
                http_set_deadline(l->req, lookup_deadline_ms(b, l), on_deadline, l);
        }
}

static void on_lease(db_lease_t *lease, int status, void *data)
{
        item_batch_t *b = data;
        unsigned size = padded_size(b->lookup_count);
        unsigned count = 1u << size;

        (void)lease;
        if (status < 0) {
                fail_acquire(b, status);
                return;
        }
        list_remove(&b->open_node);
        b->running = true;
        b->query.sql = b->res->lookup_sql[size];
        if (bind_keys(b, count) < 0) {
                fail_acquire(b, -ENOMEM);
                return;
        }
        metrics_count_lookup_batch(b->lookup_count);
        rearm_deadlines(b);
        db_lease_use_role(b->lease, b->scope, b->db_role, on_role, b);
}

/* ---- opening and joining ---- */

/* Whether a batch binds the claims the caller's view binds: one statement
 * never serves two identities whose row conditions differ. */
static bool same_rows(const item_batch_t *b, const env_t *env)
{
        for (size_t i = 0; i < b->res->row_claim_count; i++)
                if (!typed_value_equal(&b->row_binds[i], &env->row_binds[i]))
                        return false;
        return true;
}

/* Whether a batch runs under the MariaDB role of the caller's (NULL: the
 * session's own, "": none): a lookup never rides on another role's statement. */
static bool same_db_role(const item_batch_t *b, const env_t *env)
{
        if (b->db_role == NULL || env->db_role == NULL)
                return b->db_role == env->db_role;
        return strcmp(b->db_role, env->db_role) == 0;
}

/* A batch of res (a resource, or one role's view of it) on pool that still
 * takes lookups of this caller. */
static item_batch_t *open_batch_of(env_t *env, db_pool_t *pool, const api_resource_t *res)
{
        list_for_each(node, &env->shared->open_item_batches) {
                item_batch_t *b = list_entry(node, item_batch_t, open_node);
                if (b->res == res && b->pool == pool &&
                    b->lookup_count < env->config->batch_lookups && same_rows(b, env) &&
                    same_db_role(b, env))
                        return b;
        }
        return NULL;
}

/* The caller's claims, copied: the batch may outlive the request that opened it. */
static int copy_row_binds(item_batch_t *b, const env_t *env)
{
        size_t n = b->res->row_claim_count;

        if (n == 0)
                return 0;
        b->row_binds = scope_alloc(b->scope, n * sizeof(*b->row_binds));
        if (b->row_binds == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (typed_value_copy(&env->row_binds[i], b->scope, &b->row_binds[i]) < 0)
                        return -ENOMEM;
        return 0;
}

static int open_batch(env_t *env, db_pool_t *pool, const api_resource_t *res,
                      item_batch_t **ret_batch)
{
        scope_t *scope = scope_new();
        item_batch_t *b = scope ? scope_alloc(scope, sizeof(*b)) : NULL;

        if (b == NULL) {
                if (scope != NULL)
                        scope_close(scope);
                return -ENOMEM;
        }
        b->scope = scope;
        b->config = env->config;
        b->pool = pool;
        b->res = res;
        /* A copy: the batch may outlive the request that opened it. */
        if (env->db_role != NULL) {
                b->db_role = scope_strndup(scope, env->db_role, strlen(env->db_role));
                if (b->db_role == NULL) {
                        scope_close(scope);
                        return -ENOMEM;
                }
        }
        list_init(&b->lookups);
        b->query.row_options.time_zone = env->config->time_zone;
        b->query.row_options.outputs = res->outputs;
        b->query.row_options.output_count = (unsigned)res->column_count;
        b->query.timeout_ms = res->timeout_ms ? res->timeout_ms : env->config->query_timeout_ms;
        b->query.row_cb = on_row;
        b->query.done_cb = on_done;
        b->query.data = b;
        int r = copy_row_binds(b, env);
        if (r == 0)
                r = db_pool_acquire(pool, scope, on_lease, b, &b->lease);
        if (r < 0) {
                scope_close(scope);
                return r;
        }
        list_push_head(&env->shared->open_item_batches, &b->open_node);
        *ret_batch = b;
        return 0;
}

static void join(item_batch_t *b, lookup_t *l)
{
        l->batch = b;
        list_push_head(&b->lookups, &l->node);
        b->lookup_count++;
}

static void on_deadline(http_request_t *req, void *data)
{
        lookup_t *l = data;
        item_batch_t *b = l->batch;

        if (b == NULL)
                return;
        if (b->running)
                http_fail(req, 504, "timeout", "the query did not complete within %u ms",
                          l->prefer_ms != 0 && l->prefer_ms < b->query.timeout_ms
                                  ? l->prefer_ms
                                  : b->query.timeout_ms);
        else
                http_fail(req, 503, "overloaded", "no database connection became free within %u ms",
                          b->config->acquire_timeout_ms);
        leave(l);
}

static void free_body(void *arg)
{
        strbuf_done(arg);
}

int item_batch_lookup(env_t *env, http_request_t *req, const api_resource_t *res, long long key,
                      row_format_t format)
{
        db_pool_t *pool = env_db_for(env, DB_READ);
        lookup_t *l = scope_alloc(req->scope, sizeof(*l));
        item_batch_t *b = open_batch_of(env, pool, res);
        int r;

        if (l == NULL || scope_defer(req->scope, free_body, &l->body, NULL) < 0)
                return -ENOMEM;
        /* The cap is the resource's timeout: every batch of res has it. */
        unsigned entry_ms = res->timeout_ms ? res->timeout_ms : env->config->query_timeout_ms;
        if (query_call_deadline(req, entry_ms, &l->prefer_ms) < 0)
                return 0; /* answered 400 */
        if (l->prefer_ms == entry_ms)
                l->prefer_ms = 0;
        l->env = env;
        if (read_position_check(req) < 0)
                return 0; /* answered 400 */
        l->req = req;
        l->key = key;
        l->format = format;
        if (b == NULL || db_pool_add_rider(b->lease) < 0) {
                r = open_batch(env, pool, res, &b);
                if (r < 0)
                        return r;
        }
        join(b, l);
        /* The others' lookups waiting too costs them little. */
        b->causal |= env->positioned || env->strong;
        if (scope_defer(req->scope, leave_cb, l, NULL) < 0) {
                leave(l);
                return -ENOMEM;
        }
        http_set_deadline(req, env->config->acquire_timeout_ms, on_deadline, l);
        return 0;
}
