/*
 * The public keys of a JWKS file (RFC 7517), loaded once into OpenSSL keys,
 * and the choice of the key a token is checked with.
 */
#ifndef QUERYD_JWKS_H
#define QUERYD_JWKS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/jws_verify.h"

typedef struct jwks_key {
        char *kid;            /* the JWK's "kid", or NULL when it has none */
        const jws_alg_t *alg; /* the JWK's "alg", or NULL: any algorithm of its kind */
        jws_key_kind_t kind;  /* never JWS_KEY_HMAC */
        EVP_PKEY *pkey;       /* a public key only, checked with EVP_PKEY_public_check */
} jwks_key_t;

typedef struct jwks {
        jwks_key_t *keys;
        size_t count; /* at least 1 */
} jwks_t;

/**
 * Loads the JWKS file at path: a JSON object (duplicate names refused) whose
 * "keys" array holds JWKs. Each JWK with "use" other than "sig", or with
 * "key_ops" lacking "verify", is skipped: it is not for checking signatures.
 * Every other JWK must be a public key of a supported kind: kty "RSA" (n and
 * e, at least 2048 bits), kty "EC" (crv "P-256" or "P-384", x and y of the
 * curve's full size, a point on the curve) or kty "OKP" (crv "Ed25519", x);
 * its "kid", when present, a string; its "alg", when present, a supported
 * JWS algorithm for that kind of key. A JWK holding a private part ("d",
 * or RSA's primes "p", "q", "dp", "dq", "qi", "oth") is refused, and so is a
 * symmetric one (kty "oct"): the HMAC secret is configured apart.
 * Returns 0 with a new set in *ret_set, or -EINVAL (-ENOMEM when memory ran
 * out) with a sentence naming the file and the key at fault in err.
 */
int jwks_load(const char *path, jwks_t **ret_set, char *err, size_t err_size);

/** Frees the set and its keys; NULL is fine. */
void jwks_free(jwks_t *set);

/** Whether key may check a signature made with alg: its kind and its own "alg" fit. */
bool jwks_key_fits(const jwks_key_t *key, const jws_alg_t *alg);

/**
 * The key to check a token signed with alg and naming kid (NULL when the
 * token names none): with a kid, the first key of that kid that fits alg;
 * without, the one key of the set that fits alg when there is exactly one.
 * Returns 0 with the key (borrowed from the set) in *ret_key, -ENOENT when no
 * key has that kid (or, without a kid, when no key or several keys fit), or
 * -EACCES when keys of that kid exist but none fits alg.
 */
int jwks_select(const jwks_t *set, const jws_alg_t *alg, const char *kid,
                const jwks_key_t **ret_key);

#endif
