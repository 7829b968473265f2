/*
 * Bearer tokens: verification of a compact JWS (RFC 7515) carrying JWT
 * claims (RFC 7519) against the configured keys. Every signature check is
 * OpenSSL's; the algorithm a token names is only believed when it fits the
 * key it is checked with, so no token can pick how it is verified.
 */
#ifndef QUERYD_JWT_H
#define QUERYD_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

typedef struct jwt_keys jwt_keys_t;

/**
 * The keys tokens may be signed with: an HMAC secret (HS256/384/512; NULL for
 * none; an empty one is refused) and/or the public keys of a JWKS file
 * (RFC 7517; NULL for none): RSA keys of at least 2048 bits (RS256/384/512,
 * PS256/384/512), EC keys (ES256 on P-256, ES384 on P-384) and OKP Ed25519
 * keys (EdDSA). At least one of the two must be given. See jwks_load
 * (auth/jwks.h) for what the file may hold: JWKs whose "use" is not "sig" are
 * skipped; a private part ("d"), a symmetric key, an unsupported kty, curve
 * or "alg" fail the load.
 * Returns 0 with the keys in *ret_keys, or -EINVAL (-ENOMEM when memory ran
 * out) with a sentence in err naming the file and the key at fault. The
 * secret bytes are copied. The keys are immutable once made: any number of
 * threads may verify with them at once; jwt_keys_free them after the last.
 */
int jwt_keys_new(jwt_keys_t **ret_keys, const unsigned char *secret, size_t secret_len,
                 const char *jwks_path, char *err, size_t err_size);

/** Frees keys (the secret is wiped first); NULL is fine. */
void jwt_keys_free(jwt_keys_t *keys);

typedef struct jwt_expect {
        const char *audience; /* NULL: aud not checked */
        const char *issuer;   /* NULL: iss not checked */
        long leeway_s;        /* slack for exp, nbf, iat; a negative value counts as 0 */
} jwt_expect_t;

enum { JWT_MAX_TOKEN_BYTES = 8192 };

/**
 * Verifies the compact JWS token (len bytes, need not be NUL-terminated) and
 * its registered claims at time now.
 *
 * The header must be a JSON object with a supported "alg" ("none" and
 * unknown names are refused), no "crit", a "typ" that is absent or one of
 * JWT, at+jwt, application/jwt, application/at+jwt (any case), and a "kid"
 * that is absent or a string. Keys named or carried by the token ("jku",
 * "jwk", "x5u", "x5c") are never used. HS* tokens are checked with the HMAC
 * secret only (their kid is ignored); every other algorithm with the JWKS
 * key of the token's kid that fits it (see jwks_select), or without a kid,
 * with the one key of the set that fits it.
 *
 * The payload must be a JSON object (duplicate names and NUL characters
 * refused). exp, nbf and iat must be numbers and sub and iss strings when
 * present, aud a string or an array of strings. With L = leeway_s: the token
 * has expired when exp <= now - L, is not valid yet when nbf > now + L, and
 * is refused when iat > now + L. With expect->audience set, aud must be or
 * contain it (no aud is refused); with expect->issuer set, iss must equal it.
 * Tokens longer than JWT_MAX_TOKEN_BYTES are refused before any decoding.
 *
 * Returns 0 with the claims object in *ret_claims (a new reference) and
 * *ret_expires set to exp (rounded down and clamped to 1 .. year 9999), or 0
 * when the token has no exp. Otherwise *ret_claims is NULL, *ret_expires 0,
 * and it returns -EACCES with a short sentence in why that may be shown to
 * the client (never the token, the secret or key material), e.g. "the token
 * has expired", "the token's signature does not verify", "unknown key id";
 * or, rarely, -ENOMEM when memory ran out (why says so; not the client's
 * fault). ret_expires and why may be NULL.
 */
int jwt_verify(const jwt_keys_t *keys, const jwt_expect_t *expect, const char *token,
               size_t len, time_t now, json_t **ret_claims, time_t *ret_expires,
               char *why, size_t why_size);

#endif
