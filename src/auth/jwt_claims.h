/*
 * The registered claims of a JWT payload (RFC 7519 section 4.1) checked
 * against the configured expectations and the time. Pure JSON work; used by
 * jwt_verify once the signature holds.
 */
#ifndef QUERYD_JWT_CLAIMS_H
#define QUERYD_JWT_CLAIMS_H

#include <jansson.h>
#include <time.h>

#include "auth/jwt.h"

/**
 * Checks the claims object as jwt_verify documents (types of exp, nbf, iat,
 * sub, iss, aud; time with expect->leeway_s; audience; issuer). Returns NULL
 * with *ret_expires set (0 without exp), or the sentence saying why the
 * claims are refused (a static string, or one written into buf of buf_size
 * bytes when it names the expected audience or issuer).
 */
const char *jwt_claims_check(const json_t *claims, const jwt_expect_t *expect, time_t now,
                             time_t *ret_expires, char *buf, size_t buf_size);

#endif
