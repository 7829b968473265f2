/*
 * A request's context from its head to its completion: its scope, its id,
 * its query arguments, parking it while its answer waits, and the record
 * every request leaves in the metrics and the access log.
 */
#include "http/http_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/metrics.h"
#include "http/access_log.h"
#include "http/cors.h"

static bool is_well_formed_id(const char *id)
{
        size_t len = id ? strlen(id) : 0;

        if (len == 0 || len > 64)
                return false;
        return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static void assign_id(http_server_t *s, http_request_t *req)
{
        const char *incoming = http_header(req, "X-Request-Id");

        if (is_well_formed_id(incoming))
                snprintf(req->id, sizeof(req->id), "%s", incoming);
        else
                snprintf(req->id, sizeof(req->id), "%08x%08x", s->id_prefix,
                         (unsigned)++s->id_counter);
}

static void deadline_closed_cb(uv_handle_t *handle)
{
        http_request_t *req = handle->data;

        scope_unref(req->scope);
}

/* Scope release for the deadline timer: the scope stays alive until libuv
 * has let go of the handle. */
static void release_deadline(void *arg)
{
        http_request_t *req = arg;

        uv_close((uv_handle_t *)req->deadline, deadline_closed_cb);
}

static void release_response(void *arg)
{
        http_request_t *req = arg;

        if (req->response != NULL)
                MHD_destroy_response(req->response);
        req->response = NULL;
}

/* A copy of the len bytes of raw, percent-decoded, in the request's scope;
 * an invalid escape is noted for http_check_target. */
static const char *decoded_copy(http_request_t *req, const char *raw, bool *ret_bad)
{
        size_t len = strlen(raw);
        char *text = scope_alloc(req->scope, len + 1);

        if (!query_args_escapes_valid(raw, len))
                *ret_bad = true;
        if (text != NULL)
                query_args_decode(raw, len, text);
        return text;
}

/* libmicrohttpd hands the arguments over as sent (its unescape callback
 * leaves them be, see http_server.c): they are checked and decoded here. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
        http_request_t *req = cls;
        bool bad = false;

        (void)kind;
        if (req->arg_count == HTTP_MAX_QUERY_ARGS) {
                req->too_many_args = true;
                return MHD_NO;
        }
        query_arg_t *arg = &req->args[req->arg_count];
        arg->name = decoded_copy(req, key, &bad);
        arg->value = value != NULL ? decoded_copy(req, value, &bad) : NULL;
        if (arg->name == NULL || (value != NULL && arg->value == NULL)) {
                req->too_many_args = true; /* out of memory: refuse rather than drop it */
                return MHD_NO;
        }
        if (bad && req->bad_escape_arg == NULL)
                req->bad_escape_arg = arg->name;
        req->arg_count++;
        return MHD_YES;
}

/* What the head says that every answer needs: the arguments, and whether a
 * browser's origin may read the answer. */
static void read_head(http_server_t *s, http_request_t *req)
{
        req->cors_origin = cors_allow_origin(s->options.cors_origins, http_header(req, "Origin"));
        req->bad_escape_in_path = !query_args_escapes_valid(req->path, strlen(req->path));
        MHD_get_connection_values(req->connection, MHD_GET_ARGUMENT_KIND, collect_arg, req);
}

http_request_t *http_request_new(http_server_t *s, struct MHD_Connection *connection,
                                 const char *url, const char *method)
{
        scope_t *scope = scope_new();
        http_request_t *req = scope ? scope_alloc(scope, sizeof(*req)) : NULL;

        if (req == NULL)
                goto fail;
        req->server = s;
        req->scope = scope;
        req->connection = connection;
        req->path = scope_strndup(scope, url, strlen(url));
        req->method = scope_strndup(scope, method, strlen(method));
        req->started_ns = uv_hrtime();
        req->metrics_route = METRICS_UNMATCHED_ROUTE;
        req->deadline = scope_alloc(scope, sizeof(*req->deadline));
        if (req->path == NULL || req->method == NULL || req->deadline == NULL)
                goto fail;
        uv_timer_init(s->loop, req->deadline);
        req->deadline->data = req;
        scope_ref(scope);
        if (scope_defer(scope, release_deadline, req, NULL) < 0) {
                uv_close((uv_handle_t *)req->deadline, deadline_closed_cb);
                goto fail;
        }
        if (scope_defer(scope, release_response, req, NULL) < 0)
                goto fail;
        assign_id(s, req);
        read_head(s, req);
        s->active_requests++;
        return req;
fail:
        if (scope != NULL)
                scope_close(scope);
        return NULL;
}

void http_request_suspend(http_request_t *req)
{
        MHD_suspend_connection(req->connection);
        req->suspended = true;
        http_deadline_arm(req);
        list_push_tail(&req->server->suspended, &req->suspended_node);
}

void http_request_resume(http_request_t *req)
{
        if (!req->suspended)
                return;
        req->suspended = false;
        http_unwatch_client(req);
        list_remove(&req->suspended_node);
        MHD_resume_connection(req->connection);
        http_kick(req->server);
}

const char *http_header(http_request_t *req, const char *name)
{
        return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

int http_add_header(http_request_t *req, const char *name, const char *value)
{
        struct http_header_line *line;
        struct http_header_line **end = &req->extra_headers;

        for (line = req->extra_headers; line != NULL; line = line->next)
                if (strcasecmp(line->name, name) == 0 && strcmp(line->value, value) == 0)
                        return 0; /* several steps of one request may say the same */
        line = scope_alloc(req->scope, sizeof(*line));
        if (line == NULL ||
            (line->name = scope_strndup(req->scope, name, strlen(name))) == NULL ||
            (line->value = scope_strndup(req->scope, value, strlen(value))) == NULL)
                return -ENOMEM;
        while (*end != NULL) /* in the order they were added */
                end = &(*end)->next;
        *end = line;
        return 0;
}

bool http_check_query_args(http_request_t *req, const char *const *allowed)
{
        bool repeated;

        if (req->too_many_args) {
                http_fail(req, 400, "invalid-parameter", "too many query parameters (at most %d)",
                          HTTP_MAX_QUERY_ARGS);
                return false;
        }
        const char *bad = query_args_check(req->args, req->arg_count, allowed, &repeated);
        if (bad != NULL) {
                http_fail_param(req, bad,
                                repeated ? "query parameter '%s' is given more than once"
                                         : "unknown query parameter '%s'",
                                bad);
                return false;
        }
        for (size_t i = 0; i < req->arg_count; i++) {
                if (req->args[i].value == NULL) {
                        http_fail_param(req, req->args[i].name,
                                        "query parameter '%s' needs a value ('%s=...')",
                                        req->args[i].name, req->args[i].name);
                        return false;
                }
        }
        return true;
}

bool http_check_target(http_request_t *req)
{
        static const char why[] = "'%' must be followed by two hexadecimal digits";

        if (req->bad_escape_in_path) {
                http_fail(req, 400, "invalid-parameter",
                          "the path holds an invalid percent-escape: %s", why);
                return false;
        }
        if (req->bad_escape_arg != NULL) {
                http_fail_param(req, req->bad_escape_arg,
                                "query parameter '%s' holds an invalid percent-escape: %s",
                                req->bad_escape_arg, why);
                return false;
        }
        return true;
}

/* ---- the end of a request ---- */

static const char *outcome_of(const http_request_t *req, enum MHD_RequestTerminationCode toe)
{
        if (req->status == 499)
                return "client-gone";
        switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK:
                return "completed";
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
                return "timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
                return "shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR:
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
                return "client-gone";
        default:
                return "error";
        }
}

const char *http_client_address(http_request_t *req, char *text, size_t size)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(req->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = info ? info->client_addr : NULL;

        text[0] = '\0';
        if (sa != NULL && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, size);
        else if (sa != NULL && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, size);
        return text;
}

/* Every request ends here, answered or not: count it and log it. */
static void record(http_request_t *req, enum MHD_RequestTerminationCode toe)
{
        double seconds = (double)(uv_hrtime() - req->started_ns) / 1e9;
        char client[INET6_ADDRSTRLEN];

        metrics_record_request(req->metrics_route, req->status, seconds, req->sent_bytes);
        if (!req->server->options.access_log)
                return;
        http_client_address(req, client, sizeof(client));
        access_log_write(&(access_log_entry_t){
                .request_id = req->id,
                .method = req->method,
                .path = req->path,
                .args = req->args,
                .arg_count = req->arg_count,
                .client = client[0] ? client : NULL,
                .role = req->role,
                .subject = req->subject,
                .status = req->status,
                .bytes = req->sent_bytes,
                .duration_ms = seconds * 1e3,
                .outcome = outcome_of(req, toe),
        });
}

void http_request_complete(http_request_t *req, enum MHD_RequestTerminationCode toe)
{
        list_remove(&req->suspended_node);
        record(req, toe);
        scope_close(req->scope);
}
