/*
 * Claim checks. Times are compared as doubles because NumericDate may carry
 * a fraction (RFC 7519 section 2); the one value handed on (exp) is clamped
 * into a range time_t holds everywhere.
 */
#include "auth/jwt_claims.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* 9999-12-31T23:59:59Z: later expiries are as good as never. */
static const double LATEST_EXPIRY = 253402300799.0;

/* A claim that must be a number when present: 0 absent, 1 present, -1 malformed. */
static int numeric_date(const json_t *claims, const char *name, double *ret_value)
{
        const json_t *value = json_object_get(claims, name);

        if (value == NULL)
                return 0;
        if (!json_is_number(value))
                return -1;
        *ret_value = json_number_value(value);
        return 1;
}

static time_t expiry_of(double exp)
{
        if (exp < 1.0)
                return 1;
        if (exp > LATEST_EXPIRY)
                return (time_t)LATEST_EXPIRY;
        return (time_t)exp;
}

static const char *check_times(const json_t *claims, long leeway_s, time_t now,
                               time_t *ret_expires)
{
        double leeway = leeway_s > 0 ? (double)leeway_s : 0.0;
        double t = (double)now;
        double exp = 0, nbf = 0, iat = 0;
        int has_exp = numeric_date(claims, "exp", &exp);
        int has_nbf = numeric_date(claims, "nbf", &nbf);
        int has_iat = numeric_date(claims, "iat", &iat);

        if (has_exp < 0)
                return "the token's exp claim is not a number";
        if (has_nbf < 0)
                return "the token's nbf claim is not a number";
        if (has_iat < 0)
                return "the token's iat claim is not a number";
        if (has_exp && exp <= t - leeway)
                return "the token has expired";
        if (has_nbf && nbf > t + leeway)
                return "the token is not valid yet";
        if (has_iat && iat > t + leeway)
                return "the token was issued in the future";
        *ret_expires = has_exp ? expiry_of(exp) : 0;
        return NULL;
}

static bool same_string(const json_t *value, const char *expected)
{
        return json_string_length(value) == strlen(expected) &&
               memcmp(json_string_value(value), expected, strlen(expected)) == 0;
}

/* Whether aud is a string or an array of strings. */
static bool audience_well_formed(const json_t *aud)
{
        const json_t *item;
        size_t i;

        if (json_is_string(aud))
                return true;
        if (!json_is_array(aud))
                return false;
        json_array_foreach(aud, i, item)
                if (!json_is_string(item))
                        return false;
        return true;
}

static bool audience_contains(const json_t *aud, const char *audience)
{
        const json_t *item;
        size_t i;

        if (json_is_string(aud))
                return same_string(aud, audience);
        json_array_foreach(aud, i, item)
                if (same_string(item, audience))
                        return true;
        return false;
}

static const char *check_audience(const json_t *claims, const char *audience, char *buf,
                                  size_t buf_size)
{
        const json_t *aud = json_object_get(claims, "aud");

        if (aud != NULL && !audience_well_formed(aud))
                return "the token's aud claim is not a string or an array of strings";
        if (audience == NULL)
                return NULL;
        if (aud == NULL)
                return "the token has no audience";
        if (audience_contains(aud, audience))
                return NULL;
        snprintf(buf, buf_size, "the token's audience is not %.100s", audience);
        return buf;
}

static const char *check_issuer(const json_t *claims, const char *issuer, char *buf,
                                size_t buf_size)
{
        const json_t *iss = json_object_get(claims, "iss");

        if (iss != NULL && !json_is_string(iss))
                return "the token's iss claim is not a string";
        if (issuer == NULL)
                return NULL;
        if (iss == NULL)
                return "the token has no issuer";
        if (same_string(iss, issuer))
                return NULL;
        snprintf(buf, buf_size, "the token's issuer is not %.100s", issuer);
        return buf;
}

const char *jwt_claims_check(const json_t *claims, const jwt_expect_t *expect, time_t now,
                             time_t *ret_expires, char *buf, size_t buf_size)
{
        const json_t *sub = json_object_get(claims, "sub");
        const char *why;

        *ret_expires = 0;
        if (!json_is_object(claims))
                return "the token's payload is not a JSON object";
        if (sub != NULL && !json_is_string(sub))
                return "the token's sub claim is not a string";
        why = check_times(claims, expect->leeway_s, now, ret_expires);
        if (why == NULL)
                why = check_audience(claims, expect->audience, buf, buf_size);
        if (why == NULL)
                why = check_issuer(claims, expect->issuer, buf, buf_size);
        if (why != NULL)
                *ret_expires = 0;
        return why;
}
