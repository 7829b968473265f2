/*
 * The one way to answer: a whole body, a stream, or a problem document,
 * with the headers every answer carries (request id, CORS, Vary,
 * Retry-After, Connection: close while the server drains, and those a
 * handler added). Bodies are compressed here when the client accepts it,
 * and whole 200 answers to GET and HEAD carry an ETag that If-None-Match
 * can turn into a 304.
 */
#include "http/http_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "http/etag.h"
#include "http/http_encoding.h"
#include "http/problem.h"

/* Vary: the request headers the answer depends on. */
static void add_vary(const http_request_t *req, struct MHD_Response *r)
{
        bool vary_origin = req->cors_origin != NULL && strcmp(req->cors_origin, "*") != 0;
        char vary[96] = "";

        if (vary_origin)
                strcat(vary, ", Origin");
        if (req->vary_accept)
                strcat(vary, ", Accept");
        if (req->vary_encoding)
                strcat(vary, ", Accept-Encoding");
        if (req->vary_credentials)
                strcat(vary, ", Authorization, X-API-Key");
        if (vary[0] != '\0')
                MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, vary + 2);
}

static void add_headers(http_request_t *req, struct MHD_Response *r, unsigned status,
                        const char *content_type)
{
        if (content_type != NULL) /* NULL: an answer without a body (204, 201) */
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(r, "X-Request-Id", req->id);
        for (const struct http_header_line *h = req->extra_headers; h != NULL; h = h->next)
                MHD_add_response_header(r, h->name, h->value);
        if (status == 503)
                MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        if (req->cors_origin != NULL) {
                MHD_add_response_header(r, "Access-Control-Allow-Origin", req->cors_origin);
                MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                        "X-Request-Id, Retry-After, RateLimit, "
                                        "RateLimit-Policy, WWW-Authenticate, "
                                        "Queryd-Position");
        }
        add_vary(req, r);
        if (req->content_encoding != NULL)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                        req->content_encoding);
        if (req->vary_credentials)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "private");
        if (req->server->stopping) /* draining: this is the connection's last answer */
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Whether the request is a read whose 200 answer gets a validator. */
static bool is_read(const http_request_t *req)
{
        return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/*
 * The ETag of a 200 answer to GET or HEAD, made from the bytes about to be
 * sent; true when If-None-Match matches it and the answer is to be 304.
 */
static bool not_modified(http_request_t *req, unsigned status, const char *body, size_t len,
                         char etag[ETAG_SIZE])
{
        etag[0] = '\0';
        if (status != 200 || !is_read(req) ||
            etag_make(body ? body : "", len, req->content_encoding, etag) < 0) {
                etag[0] = '\0';
                return false;
        }
        const char *if_none_match = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
        return if_none_match != NULL && etag_none_match(if_none_match, etag);
}

/*
 * 304 Not Modified: the validators, Vary and Cache-Control stay, the
 * representation's own fields go. The response keeps the body it replaces:
 * libmicrohttpd sends no body with a 304 but states its length, and RFC 9110
 * section 8.6 wants that to be the length the 200 would have had.
 */
static void respond_not_modified(http_request_t *req, char *body, size_t len, const char *etag)
{
        req->content_encoding = NULL;
        req->response = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (req->response == NULL) {
                free(body);
                log_error("request %s: cannot create a response", req->id);
                return; /* the deadline will try once more */
        }
        req->answered = true;
        req->status = 304;
        req->sent_bytes = 0;
        add_headers(req, req->response, 304, NULL);
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_ETAG, etag);
        uv_timer_stop(req->deadline);
        http_request_resume(req);
}

void http_respond(http_request_t *req, unsigned status, const char *content_type, char *body,
                  size_t len)
{
        char etag[ETAG_SIZE];

        if (req->answered) {
                free(body);
                return;
        }
        req->content_encoding = NULL; /* a failed earlier attempt may have set it */
        if (body != NULL)
                http_encoding_body(req, status, &body, &len);
        if (not_modified(req, status, body, len, etag)) {
                respond_not_modified(req, body, len, etag);
                return;
        }
        req->response = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (req->response == NULL) {
                free(body);
                log_error("request %s: cannot create a response", req->id);
                return; /* the deadline will try once more */
        }
        req->answered = true;
        req->status = status;
        req->sent_bytes = strcmp(req->method, "HEAD") == 0 ? 0 : len;
        add_headers(req, req->response, status, content_type);
        if (etag[0] != '\0')
                MHD_add_response_header(req->response, MHD_HTTP_HEADER_ETAG, etag);
        uv_timer_stop(req->deadline);
        http_request_resume(req);
}

/* libmicrohttpd asks for the next block when the socket can take it: a
 * client that reads slowly is asked less often, and the source waits. */
static ssize_t read_stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        http_request_t *req = cls;

        (void)pos;
        if (req->stream_failed)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        long n = req->read_stream(req, buf, max, req->stream_data);
        if (n > 0) {
                req->sent_bytes += (size_t)n;
                return n;
        }
        if (n == HTTP_STREAM_END)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (n == HTTP_STREAM_FAILED)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        /* Returning 0 without suspending would make the daemon spin. */
        http_request_suspend(req);
        return 0;
}

/* Blocks handed to libmicrohttpd; with the head they fit its connection memory. */
enum { STREAM_BLOCK_BYTES = 32 * 1024 };

void http_respond_stream(http_request_t *req, unsigned status, const char *content_type,
                         http_stream_fn read, void *data)
{
        if (req->answered)
                return;
        http_encoding_stream(req, status, &read, &data);
        req->response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_BYTES,
                                                          read_stream_cb, req, NULL);
        if (req->response == NULL) {
                log_error("request %s: cannot create a response", req->id);
                req->content_encoding = NULL;
                return; /* the deadline will answer */
        }
        req->answered = true;
        req->status = status;
        req->read_stream = read;
        req->stream_data = data;
        /* A hang-up shows as a failed send now; no watch is needed. */
        req->client_watch_tried = true;
        add_headers(req, req->response, status, content_type);
        http_request_resume(req);
}

void http_stream_ready(http_request_t *req)
{
        http_request_resume(req);
}

void http_stream_fail(http_request_t *req)
{
        if (!req->stream_failed)
                metrics_count_stream_cut();
        req->stream_failed = true;
        http_request_resume(req);
}

void http_respond_buffer(http_request_t *req, unsigned status, const char *content_type,
                         strbuf_t *body)
{
        size_t len;

        if (body->failed) {
                strbuf_done(body);
                http_fail(req, 500, "internal", "out of memory while writing the answer");
                return;
        }
        char *data = strbuf_take(body, &len);
        if (data == NULL)
                data = strdup(""); /* an empty buffer owns no storage */
        if (data != NULL)
                http_respond(req, status, content_type, data, len);
}

static void respond_dumped(http_request_t *req, unsigned status, const char *content_type,
                           json_t *value)
{
        char *body = value ? json_dumps(value, JSON_COMPACT) : NULL;

        json_decref(value);
        if (body == NULL) {
                log_error("request %s: cannot serialize the response", req->id);
                body = strdup("{\"type\":\"urn:queryd:problem:internal\","
                              "\"title\":\"Internal Error\",\"status\":500}");
                status = 500;
                content_type = "application/problem+json";
                if (body == NULL)
                        return;
        }
        http_respond(req, status, content_type, body, strlen(body));
}

void http_respond_json(http_request_t *req, unsigned status, json_t *value)
{
        respond_dumped(req, status, "application/json", value);
}

static unsigned status_of(const json_t *problem)
{
        json_t *status = json_object_get(problem, "status");

        return status ? (unsigned)json_integer_value(status) : 500;
}

void http_respond_problem(http_request_t *req, json_t *problem)
{
        respond_dumped(req, status_of(problem), "application/problem+json", problem);
}

/* The slug of a problem's type, "urn:queryd:problem:<slug>", for the log. */
static const char *slug_of(const json_t *problem)
{
        const char *type = json_string_value(json_object_get(problem, "type"));
        const char *colon = type ? strrchr(type, ':') : NULL;

        return colon ? colon + 1 : "internal";
}

static void log_failure(http_request_t *req, unsigned status, const char *slug,
                        const char *detail)
{
        if (status >= 500)
                log_error("request %s %s: %u %s: %s", req->id, req->path, status, slug, detail);
}

void http_fail_problem(http_request_t *req, json_t *problem)
{
        const char *detail = json_string_value(json_object_get(problem, "detail"));

        log_failure(req, status_of(problem), slug_of(problem), detail ? detail : "");
        http_respond_problem(req, problem);
}

static void fail_with(http_request_t *req, unsigned status, const char *slug, const char *detail,
                      const char *parameter)
{
        json_t *problem = problem_new(status, slug, detail, req->id);

        if (parameter != NULL && problem != NULL) {
                json_t *name = json_string(parameter);
                /* A name that is not UTF-8 is shown by the detail alone. */
                if (name != NULL)
                        json_object_set_new(problem, "parameter", name);
        }
        log_failure(req, status, slug, detail);
        http_respond_problem(req, problem);
}

void http_fail(http_request_t *req, unsigned status, const char *slug, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        fail_with(req, status, slug, detail, NULL);
}

void http_fail_param(http_request_t *req, const char *name, const char *fmt, ...)
{
        char detail[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        fail_with(req, 400, "invalid-parameter", detail, name);
}

/* ---- CORS preflight ---- */

bool http_is_preflight(http_request_t *req)
{
        return req->server->options.cors_origins != NULL && strcmp(req->method, "OPTIONS") == 0 &&
               http_header(req, "Access-Control-Request-Method") != NULL;
}

/* Whether method is one of the list "GET, HEAD, ..." (methods are case-sensitive). */
static bool is_listed(const char *list, const char *method)
{
        size_t len = strlen(method);

        for (const char *p = list; *p != '\0'; p += strspn(p, ", ")) {
                size_t n = strcspn(p, ",");
                if (n == len && memcmp(p, method, len) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* "GET, HEAD, POST" as a phrase: "GET, HEAD and POST". */
static void methods_phrase(const char *list, char *out, size_t size)
{
        const char *last = strrchr(list, ',');

        if (last == NULL)
                snprintf(out, size, "%s", list);
        else
                snprintf(out, size, "%.*s and %s", (int)(last - list), list, last + 2);
}

void http_answer_preflight(http_request_t *req, const char *allow)
{
        const char *method = http_header(req, "Access-Control-Request-Method");
        const char *headers = http_header(req, "Access-Control-Request-Headers");
        char phrase[128];

        if (req->cors_origin == NULL) {
                http_fail(req, 403, "cors-rejected", "this origin may not read from queryd");
                return;
        }
        if (!is_listed(allow, method)) {
                methods_phrase(allow, phrase, sizeof(phrase));
                http_fail(req, 403, "cors-rejected", "only %s are allowed, not %s", phrase, method);
                return;
        }
        char *empty = strdup("");
        if (empty == NULL)
                return;
        http_respond(req, 204, "text/plain", empty, 0);
        if (req->response == NULL)
                return;
        MHD_add_response_header(req->response, "Access-Control-Allow-Methods", allow);
        if (headers != NULL)
                MHD_add_response_header(req->response, "Access-Control-Allow-Headers", headers);
        MHD_add_response_header(req->response, "Access-Control-Max-Age", "600");
}
