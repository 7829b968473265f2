/*
 * Rate limit answers. The headers follow draft-ietf-httpapi-ratelimit-headers-11
 * (Structured Fields): RateLimit-Policy: "default";q=<burst>;w=<seconds to
 * refill> and RateLimit: "default";r=<tokens left>;t=<seconds>. Every role's
 * limit is one policy per identity, so a single policy name serves.
 */
#include "request/answer.h"

#include <stdio.h>

#include "http/problem.h"

static int add_policy(http_request_t *req, const rate_verdict_t *v)
{
        char value[64];

        snprintf(value, sizeof(value), "\"default\";q=%u;w=%u", v->limit,
                 v->window_s > 0 ? v->window_s : 1);
        return http_add_header(req, "RateLimit-Policy", value);
}

/* t is the time within which no more than r may be used: until the next
 * token for a refusal (as Retry-After, which must not be earlier), until the
 * bucket is full again otherwise. */
static int add_limit(http_request_t *req, unsigned remaining, unsigned seconds)
{
        char value[64];

        snprintf(value, sizeof(value), "\"default\";r=%u;t=%u", remaining, seconds);
        return http_add_header(req, "RateLimit", value);
}

void answer_rate_headers(http_request_t *req, const rate_verdict_t *v)
{
        if (add_limit(req, v->remaining, v->reset_s) == 0)
                add_policy(req, v);
}

void answer_rate_limited(http_request_t *req, const rate_verdict_t *v)
{
        unsigned retry = v->retry_after_s > 0 ? v->retry_after_s : 1;
        char value[16];

        /* A header that cannot be added leaves a 429 that still says what happened. */
        snprintf(value, sizeof(value), "%u", retry);
        if (http_add_header(req, "Retry-After", value) == 0 && add_limit(req, 0, retry) == 0)
                add_policy(req, v);
        http_fail(req, 429, "too-many-requests",
                  "this identity may make %u requests at once, refilled over %u s; retry in %u s",
                  v->limit, v->window_s, retry);
}
