/* Problem documents. Titles are fixed per type, as RFC 9457 asks: the
 * occurrence-specific text goes in detail. */
#include "http/problem.h"

#include <stdio.h>
#include <string.h>

static const struct {
        const char *slug;
        const char *title;
} titles[] = {
        { "not-found", "Not Found" },
        { "method-not-allowed", "Method Not Allowed" },
        { "invalid-parameter", "Invalid Parameter" },
        { "database-unavailable", "Database Unavailable" },
        { "overloaded", "Overloaded" },
        { "timeout", "Timeout" },
        { "database-error", "Database Error" },
        { "internal", "Internal Error" },
        { "client-closed", "Client Closed Request" },
        { "cors-rejected", "Cross-Origin Request Rejected" },
        { "too-many-rows", "Too Many Rows" },
        { "not-acceptable", "Not Acceptable" },
        { "body-too-large", "Content Too Large" },
        { "too-many-requests", "Too Many Requests" },
        { "unauthorized", "Unauthorized" },
        { "forbidden", "Forbidden" },
        { "conflict", "Conflict" },
        { "constraint-violation", "Constraint Violation" },
        { "invalid-body", "Invalid Body" },
        { "busy", "Busy" },
        { "max-affected", "Too Many Rows Affected" },
        { "unsupported-media-type", "Unsupported Media Type" },
        { "bad-request", "Bad Request" },
        { "uri-too-long", "URI Too Long" },
        { "headers-too-large", "Request Header Fields Too Large" },
        { "not-implemented", "Not Implemented" },
        { "http-version", "HTTP Version Not Supported" },
};

static const char *title_of(const char *slug)
{
        for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
                if (strcmp(titles[i].slug, slug) == 0)
                        return titles[i].title;
        return "Error";
}

json_t *problem_new(unsigned status, const char *slug, const char *detail, const char *request_id)
{
        char type[64];

        snprintf(type, sizeof(type), "urn:queryd:problem:%s", slug);
        /* detail may quote request text; jansson refuses invalid UTF-8 in it. */
        json_t *probe = json_string(detail);
        if (probe == NULL)
                detail = "the request contains bytes that are not valid UTF-8";
        json_decref(probe);
        return json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", title_of(slug),
                         "status", (int)status, "detail", detail, "request_id", request_id);
}
