/* Access log lines are built with the row writer's string escaper: paths and
 * query values are client bytes and may not be valid UTF-8. */
#include "http/access_log.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "json/json_text.h"

static void append_query(strbuf_t *line, const query_arg_t *args, size_t count)
{
        strbuf_t query = { 0 };

        for (size_t i = 0; i < count; i++) {
                if (i > 0)
                        strbuf_append_char(&query, '&');
                strbuf_append_str(&query, args[i].name);
                if (args[i].value != NULL) {
                        strbuf_append_char(&query, '=');
                        strbuf_append_str(&query, args[i].value);
                }
        }
        json_text_string(line, query.data ? query.data : "", query.len);
        strbuf_done(&query);
}

/* ,"name":"value", or null */
static void append_field(strbuf_t *line, const char *name, const char *value)
{
        strbuf_appendf(line, ",\"%s\":", name);
        if (value != NULL)
                json_text_string(line, value, strlen(value));
        else
                strbuf_append_str(line, "null");
}

void access_log_write(const access_log_entry_t *e)
{
        strbuf_t line = { 0 };
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strbuf_appendf(&line, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"request_id\":",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, now.tv_nsec / 1000000);
        json_text_string(&line, e->request_id, strlen(e->request_id));
        strbuf_append_str(&line, ",\"method\":");
        json_text_string(&line, e->method, strlen(e->method));
        strbuf_append_str(&line, ",\"path\":");
        json_text_string(&line, e->path, strlen(e->path));
        strbuf_append_str(&line, ",\"query\":");
        append_query(&line, e->args, e->arg_count);
        append_field(&line, "client", e->client);
        append_field(&line, "role", e->role);
        append_field(&line, "subject", e->subject);
        strbuf_appendf(&line, ",\"status\":%u,\"bytes\":%zu,\"duration_ms\":%.3f,\"outcome\":\"%s\"}\n",
                       e->status, e->bytes, e->duration_ms, e->outcome);
        if (!line.failed)
                (void)!write(STDOUT_FILENO, line.data, line.len);
        strbuf_done(&line);
}
