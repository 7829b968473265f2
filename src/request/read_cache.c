/* Shared answers: the store (core/cache_store.c) behind one lock, the reads
 * running that others may wait for, and the wake-up of waiting reads on
 * their own workers' loops. */
#include "request/read_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cache_store.h"
#include "core/list.h"

struct read_cache {
        pthread_mutex_t lock;   /* over everything below but the counters */
        cache_store_t *store;   /* NULL: caching off */
        list_node_t leads;      /* reads running that identical ones may wait for */
        uint64_t epoch;         /* moves on with every invalidation */
        atomic_uint_fast64_t hits, misses, collapsed;
};

struct read_cache_waker {
        uv_async_t async;
        read_cache_t *cache;
        list_node_t ready;      /* waiting reads whose lead has ended (under the lock) */
};

/* A read others may wait for; in its request's scope. */
typedef struct read_cache_lead {
        list_node_t node;       /* in the cache's leads until it ends or its table changes */
        read_cache_t *cache;
        const char *key;
        size_t key_len;
        const char *tag;        /* its entry's table; "*" for a named query or an embedding */
        unsigned ttl_ms;
        uint64_t epoch;         /* the cache's when it started: a later one keeps nothing */
        list_node_t followers;
        bool ended;
} read_cache_lead_t;

/* A read waiting for an identical one; in its request's scope. */
typedef struct follower {
        list_node_t node;       /* in its lead's followers, then in its waker's ready list */
        read_cache_waker_t *waker;
        env_t *env;
        http_request_t *req;
        route_match_t match;
        cache_body_t *body;     /* the lead's answer once it ended; NULL: run the handler */
} follower_t;

static uint64_t now_ms(void)
{
        return uv_hrtime() / 1000000;
}

read_cache_t *read_cache_new(size_t max_bytes)
{
        read_cache_t *cache = calloc(1, sizeof(*cache));

        if (cache == NULL)
                return NULL;
        if (max_bytes > 0 && (cache->store = cache_store_new(max_bytes)) == NULL) {
                free(cache);
                return NULL;
        }
        pthread_mutex_init(&cache->lock, NULL);
        list_init(&cache->leads);
        return cache;
}

void read_cache_free(read_cache_t *cache)
{
        if (cache == NULL)
                return;
        cache_store_free(cache->store);
        pthread_mutex_destroy(&cache->lock);
        free(cache);
}

/* ---- answering ---- */

/* The answer goes out as any buffered answer does (conditional requests and
 * compression apply to it there), with this request's own headers. */
static void answer_with(env_t *env, http_request_t *req, cache_body_t *body)
{
        strbuf_t copy = { 0 };
        char age[24];

        strbuf_append(&copy, body->data, body->len);
        snprintf(age, sizeof(age), "%" PRIu64, (now_ms() - body->stored_ms) / 1000);
        http_add_header(req, "Age", age);
        read_cache_headers(env, req);
        http_respond_buffer(req, 200, body->content_type, &copy);
}

/* The loop of a waiting read's worker: its lead has ended. */
static void wake_cb(uv_async_t *async)
{
        read_cache_waker_t *w = async->data;

        for (;;) {
                pthread_mutex_lock(&w->cache->lock);
                list_node_t *n = list_pop_head(&w->ready);
                pthread_mutex_unlock(&w->cache->lock);
                if (n == NULL)
                        return;
                follower_t *f = list_entry(n, follower_t, node);
                cache_body_t *body = f->body;
                f->body = NULL;
                if (body != NULL)
                        answer_with(f->env, f->req, body);
                else /* the lead failed or streamed: this read runs on its own */
                        f->match.method->handler(f->env, f->req, &f->match);
                cache_body_unref(body);
        }
}

static void waker_closed_cb(uv_handle_t *handle)
{
        free(handle->data);
}

int read_cache_waker_new(read_cache_t *cache, uv_loop_t *loop, read_cache_waker_t **ret_waker)
{
        read_cache_waker_t *w = calloc(1, sizeof(*w));

        if (w == NULL)
                return -ENOMEM;
        int r = uv_async_init(loop, &w->async, wake_cb);
        if (r < 0) {
                free(w);
                return r;
        }
        w->async.data = w;
        w->cache = cache;
        list_init(&w->ready);
        *ret_waker = w;
        return 0;
}

void read_cache_waker_close(read_cache_waker_t *waker)
{
        if (waker != NULL)
                uv_close((uv_handle_t *)&waker->async, waker_closed_cb);
}

/* ---- which reads are cached, and their keys ---- */

/* The entry a route serves: a resource or a named query (the other NULL). */
static void entry_of(const api_t *api, const void *target, const api_resource_t **ret_res,
                     const api_query_t **ret_query)
{
        uintptr_t t = (uintptr_t)target;
        uintptr_t res = (uintptr_t)api->resources, queries = (uintptr_t)api->queries;

        *ret_res = NULL;
        *ret_query = NULL;
        if (api->resource_count > 0 && t >= res &&
            t < res + api->resource_count * sizeof(api_resource_t))
                *ret_res = target;
        else if (api->query_count > 0 && t >= queries &&
                 t < queries + api->query_count * sizeof(api_query_t))
                *ret_query = target;
}

static void append_field(strbuf_t *key, const char *text)
{
        if (text == NULL) {
                strbuf_append_str(key, "-;");
                return;
        }
        strbuf_appendf(key, "%zu:", strlen(text));
        strbuf_append_str(key, text);
}

/* A claim's value as JSON text: two callers share an answer only when every
 * claim their rules bind has the same value. */
static void append_claim(strbuf_t *key, const env_t *env, const char *path)
{
        json_t *v = env->identity ? identity_claim(env->identity->claims, path) : NULL;
        char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;

        if (v != NULL && text == NULL)
                key->failed = true; /* never share what could not be told apart */
        append_field(key, text);
        free(text);
}

static void append_claims(strbuf_t *key, const env_t *env, const route_match_t *match,
                          const api_query_t *query)
{
        if (query != NULL) {
                for (size_t i = 0; i < query->param_count; i++)
                        if (query->params[i].from_claim != NULL)
                                append_claim(key, env, query->params[i].from_claim);
                return;
        }
        const api_resource_t *view = match->target; /* the caller's view of the resource */
        for (size_t i = 0; i < view->row_claim_count; i++)
                append_claim(key, env, view->row_claims[i]);
}

static void build_key(env_t *env, http_request_t *req, const route_match_t *match,
                      const api_query_t *query, strbuf_t *key)
{
        strbuf_appendf(key, "%p\n", (const void *)env->api);
        append_field(key, req->path);
        strbuf_appendf(key, "\n%zu\n", req->arg_count);
        for (size_t i = 0; i < req->arg_count; i++) {
                append_field(key, req->args[i].name);
                append_field(key, req->args[i].value);
        }
        append_field(key, env->identity ? env->identity->role : NULL);
        append_claims(key, env, match, query);
        strbuf_append_char(key, '\n');
        append_field(key, http_header(req, "Accept"));
        append_field(key, http_header(req, "Accept-Encoding"));
}

/* Whether a select names something with parentheses: an embedded entry (or
 * an aggregate, which is let through uncached with it). */
static bool may_embed(const http_request_t *req)
{
        for (size_t i = 0; i < req->arg_count; i++)
                if (strcmp(req->args[i].name, "select") == 0 && req->args[i].value != NULL &&
                    strchr(req->args[i].value, '(') != NULL)
                        return true;
        return false;
}

static bool is_read(const http_request_t *req)
{
        return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* How long the entry keeps answers of this request; 0: not at all. */
static unsigned ttl_of(env_t *env, http_request_t *req, const api_resource_t *res,
                       const api_query_t *query)
{
        read_cache_t *cache = env->shared->cache;
        unsigned ttl = res ? res->cache_ms : query ? query->cache_ms : 0;

        if (ttl == 0 || cache == NULL || cache->store == NULL || req->too_many_args)
                return 0;
        /* The answer depends on the Prefer header (a deadline of its own). */
        if (http_header(req, "Prefer") != NULL)
                return 0;
        /* A read that names the write it must see (Queryd-Position, or its
         * cookie) asks the database, not an answer kept from before it. */
        if (env->positioned || env->strong)
                return 0;
        /* A request still on a replaced configuration neither reads nor keeps. */
        if (env->api != env->shared->tokens_api)
                return 0;
        /* An embedding reads other entries under the caller's rules for them:
         * with "auth", those are not in the key. */
        if (res != NULL && env->api->auth != NULL && may_embed(req))
                return 0;
        return ttl;
}

/* ---- leads and followers ---- */

static read_cache_lead_t *find_lead(read_cache_t *cache, const char *key, size_t len)
{
        list_node_t *n;

        for (n = cache->leads.next; n != &cache->leads; n = n->next) {
                read_cache_lead_t *lead = list_entry(n, read_cache_lead_t, node);
                if (lead->key_len == len && memcmp(lead->key, key, len) == 0)
                        return lead;
        }
        return NULL;
}

/* Under the lock: no read joins the lead any more, and those waiting wake
 * on their loops with body (a reference each), or to run on their own. */
static void end_lead(read_cache_lead_t *lead, cache_body_t *body)
{
        list_node_t *n;

        list_remove(&lead->node);
        lead->ended = true;
        while ((n = list_pop_head(&lead->followers)) != NULL) {
                follower_t *f = list_entry(n, follower_t, node);
                if (body != NULL) {
                        cache_body_ref(body);
                        f->body = body;
                }
                list_push_tail(&f->waker->ready, &f->node);
                /* Sent under the lock: the follower cannot leave, nor its
                 * worker close the waker, before this returns. */
                uv_async_send(&f->waker->async);
        }
}

void read_cache_let_go(env_t *env)
{
        read_cache_lead_t *lead = env->cache_lead;

        if (lead == NULL)
                return;
        env->cache_lead = NULL;
        pthread_mutex_lock(&lead->cache->lock);
        end_lead(lead, NULL);
        pthread_mutex_unlock(&lead->cache->lock);
}

static void let_go_cb(void *arg)
{
        read_cache_let_go(arg);
}

/* A waiting read that ends first (its client left, its deadline passed):
 * its lead goes on without it. */
static void leave_cb(void *arg)
{
        follower_t *f = arg;
        read_cache_t *cache = f->waker->cache;

        pthread_mutex_lock(&cache->lock);
        list_remove(&f->node);
        cache_body_t *body = f->body;
        f->body = NULL;
        pthread_mutex_unlock(&cache->lock);
        cache_body_unref(body);
}

/* A read waits no longer than it would have run: then it leaves, so that
 * its lead's end neither answers it twice nor runs its handler for nothing. */
static void follower_deadline_cb(http_request_t *req, void *data)
{
        leave_cb(data);
        http_fail(req, 504, "timeout", "the identical read this one waited for did not "
                                       "complete in time");
}

static bool follow(env_t *env, http_request_t *req, const route_match_t *match,
                   read_cache_lead_t *lead, unsigned wait_ms)
{
        follower_t *f = scope_alloc(req->scope, sizeof(*f));

        if (f == NULL || scope_defer(req->scope, leave_cb, f, NULL) < 0)
                return false; /* then it runs on its own */
        f->waker = env->shared->cache_waker;
        f->env = env;
        f->req = req;
        f->match = *match;
        list_push_tail(&lead->followers, &f->node);
        http_set_deadline(req, wait_ms, follower_deadline_cb, f);
        return true;
}

static read_cache_lead_t *new_lead(env_t *env, http_request_t *req, const strbuf_t *key,
                                   const api_resource_t *res, unsigned ttl)
{
        read_cache_lead_t *lead = scope_alloc(req->scope, sizeof(*lead));
        char *copy = scope_strndup(req->scope, key->data, key->len);

        if (lead == NULL || copy == NULL || scope_defer(req->scope, let_go_cb, env, NULL) < 0)
                return NULL;
        lead->cache = env->shared->cache;
        lead->key = copy;
        lead->key_len = key->len;
        /* An embedding reads other tables too: any write drops it, as a
         * named query's answer. */
        lead->tag = res && !may_embed(req) ? res->table : "*";
        lead->ttl_ms = ttl;
        list_init(&lead->followers);
        return lead;
}

/* Under the lock: a stored answer, a read to wait for, or this one leads.
 * Returns 1 with *ret_body, 2 when it follows, 0 when it leads or runs alone. */
static int take_turn(env_t *env, http_request_t *req, const route_match_t *match,
                     const strbuf_t *key, read_cache_lead_t *lead, unsigned wait_ms,
                     cache_body_t **ret_body)
{
        read_cache_t *cache = env->shared->cache;
        read_cache_lead_t *running;

        *ret_body = cache_store_get(cache->store, key->data, key->len, now_ms());
        if (*ret_body != NULL) {
                atomic_fetch_add(&cache->hits, 1);
                return 1;
        }
        running = find_lead(cache, key->data, key->len);
        if (running != NULL && follow(env, req, match, running, wait_ms)) {
                atomic_fetch_add(&cache->collapsed, 1);
                return 2;
        }
        atomic_fetch_add(&cache->misses, 1);
        if (lead != NULL && running == NULL) {
                lead->epoch = cache->epoch;
                list_push_tail(&cache->leads, &lead->node);
                env->cache_lead = lead;
        }
        return 0;
}

bool read_cache_serve(env_t *env, http_request_t *req, const route_match_t *match)
{
        const api_resource_t *res;
        const api_query_t *query;
        cache_body_t *body;
        strbuf_t key = { 0 };

        if (!is_read(req))
                return false;
        entry_of(env->api, match->route->target, &res, &query);
        env->cache_control = res ? res->cache_control : query ? query->cache_control : NULL;
        unsigned ttl = ttl_of(env, req, res, query);
        if (ttl == 0)
                return false;
        build_key(env, req, match, query, &key);
        if (key.failed) {
                strbuf_done(&key);
                return false;
        }
        read_cache_lead_t *lead = new_lead(env, req, &key, res, ttl);
        read_cache_t *cache = env->shared->cache;
        pthread_mutex_lock(&cache->lock);
        unsigned entry_ms = res ? res->timeout_ms : query->timeout_ms;
        unsigned wait_ms = env->config->acquire_timeout_ms +
                           (entry_ms ? entry_ms : env->config->query_timeout_ms) + 1000;
        int turn = take_turn(env, req, match, &key, lead, wait_ms, &body);
        pthread_mutex_unlock(&cache->lock);
        strbuf_done(&key);
        if (turn == 1) {
                answer_with(env, req, body);
                cache_body_unref(body);
        }
        return turn != 0;
}

void read_cache_keep(env_t *env, const char *content_type, const strbuf_t *body)
{
        read_cache_lead_t *lead = env->cache_lead;

        if (lead == NULL)
                return;
        if (body->failed) {
                read_cache_let_go(env);
                return;
        }
        env->cache_lead = NULL;
        read_cache_t *cache = lead->cache;
        uint64_t now = now_ms();
        cache_body_t *answer = cache_body_new(content_type, body->data, body->len, now);
        pthread_mutex_lock(&cache->lock);
        /* A write since the read started may have changed what it saw; a
         * request whose worker has moved to a new configuration keeps none. */
        if (answer != NULL && lead->epoch == cache->epoch &&
            env->api == env->shared->tokens_api)
                (void)cache_store_put(cache->store, lead->key, lead->key_len, lead->tag, answer,
                                      now, lead->ttl_ms);
        end_lead(lead, answer);
        pthread_mutex_unlock(&cache->lock);
        cache_body_unref(answer);
}

/* ---- invalidation ---- */

/* Under the lock: the leads of table (NULL: all) take no more followers. */
static void detach_leads(read_cache_t *cache, const char *table)
{
        list_node_t *n = cache->leads.next;

        while (n != &cache->leads) {
                read_cache_lead_t *lead = list_entry(n, read_cache_lead_t, node);
                n = n->next;
                if (table == NULL || strcmp(lead->tag, table) == 0 || strcmp(lead->tag, "*") == 0)
                        list_remove(&lead->node);
        }
}

void read_cache_invalidate(read_cache_t *cache, const char *table)
{
        if (cache == NULL || cache->store == NULL)
                return;
        pthread_mutex_lock(&cache->lock);
        cache->epoch++;
        cache_store_invalidate(cache->store, table);
        detach_leads(cache, table);
        pthread_mutex_unlock(&cache->lock);
}

void read_cache_written(env_t *env, const char *table)
{
        read_cache_invalidate(env->shared->cache, table);
}

void read_cache_clear(read_cache_t *cache)
{
        read_cache_invalidate(cache, NULL);
}

/* ---- headers and figures ---- */

/* Whether directive (len bytes, a "name" or "name=value") lets shared caches keep an answer. */
static bool is_shared_directive(const char *directive, size_t len)
{
        size_t name = strcspn(directive, "=,");

        if (name > len)
                name = len;
        return (name == 6 && strncasecmp(directive, "public", 6) == 0) ||
               (name == 8 && strncasecmp(directive, "s-maxage", 8) == 0);
}

const char *read_cache_private_control(const char *control, char *buf, size_t size)
{
        size_t used = 0;

        buf[0] = '\0';
        for (const char *p = control; *p != '\0';) {
                p += strspn(p, " ,");
                size_t len = strcspn(p, ",");
                while (len > 0 && p[len - 1] == ' ')
                        len--;
                if (len > 0 && !is_shared_directive(p, len)) {
                        int n = snprintf(buf + used, size - used, "%s%.*s", used ? ", " : "",
                                         (int)len, p);
                        if (n < 0 || (size_t)n >= size - used) {
                                buf[used] = '\0';
                                return buf;
                        }
                        used += (size_t)n;
                }
                p += strcspn(p, ",");
        }
        return buf;
}

void read_cache_headers(env_t *env, http_request_t *req)
{
        char buf[320];

        if (env->cache_control == NULL || !is_read(req))
                return;
        /* With credentials the answer is the caller's own: Cache-Control:
         * private goes with it (http/http_answer.c), so no directive may let
         * a shared cache keep it. */
        const char *value = req->vary_credentials
                                    ? read_cache_private_control(env->cache_control, buf,
                                                                 sizeof(buf))
                                    : env->cache_control;
        if (value[0] != '\0')
                http_add_header(req, "Cache-Control", value);
}

void read_cache_render_metrics(const env_t *env, strbuf_t *out)
{
        read_cache_t *cache = env->shared->cache;
        cache_store_stats_t stats = { 0 };

        if (cache == NULL)
                return;
        if (cache->store != NULL) {
                pthread_mutex_lock(&cache->lock);
                cache_store_stats(cache->store, &stats);
                pthread_mutex_unlock(&cache->lock);
        }
        strbuf_appendf(out,
                       "# HELP queryd_cache_hits_total Reads answered from kept answers.\n"
                       "# TYPE queryd_cache_hits_total counter\n"
                       "queryd_cache_hits_total %" PRIuFAST64 "\n"
                       "# HELP queryd_cache_misses_total Cached reads that ran their statement.\n"
                       "# TYPE queryd_cache_misses_total counter\n"
                       "queryd_cache_misses_total %" PRIuFAST64 "\n"
                       "# HELP queryd_cache_collapsed_total Reads that waited for an identical "
                       "one and shared its answer.\n"
                       "# TYPE queryd_cache_collapsed_total counter\n"
                       "queryd_cache_collapsed_total %" PRIuFAST64 "\n"
                       "# HELP queryd_cache_bytes Memory held by kept answers.\n"
                       "# TYPE queryd_cache_bytes gauge\n"
                       "queryd_cache_bytes %zu\n"
                       "# HELP queryd_cache_entries Answers kept.\n"
                       "# TYPE queryd_cache_entries gauge\n"
                       "queryd_cache_entries %zu\n"
                       "# HELP queryd_cache_evictions_total Answers dropped to make room.\n"
                       "# TYPE queryd_cache_evictions_total counter\n"
                       "queryd_cache_evictions_total %" PRIu64 "\n",
                       atomic_load(&cache->hits), atomic_load(&cache->misses),
                       atomic_load(&cache->collapsed), stats.bytes, stats.entries,
                       stats.evictions);
}
