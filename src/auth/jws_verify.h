/*
 * JWS signature algorithms (RFC 7518) and their checks, all done by OpenSSL's
 * libcrypto: which kind of key each algorithm needs, and whether a signature
 * over a signing input verifies with a given key. No parsing of tokens here.
 */
#ifndef QUERYD_JWS_VERIFY_H
#define QUERYD_JWS_VERIFY_H

#include <openssl/evp.h>
#include <stddef.h>

/** The kinds of key there are; an algorithm fits exactly one. */
typedef enum jws_key_kind {
        JWS_KEY_HMAC,    /* the shared secret, never a JWKS key */
        JWS_KEY_RSA,     /* kty RSA */
        JWS_KEY_P256,    /* kty EC, crv P-256 */
        JWS_KEY_P384,    /* kty EC, crv P-384 */
        JWS_KEY_ED25519, /* kty OKP, crv Ed25519 */
} jws_key_kind_t;

typedef struct jws_alg {
        const char *name;        /* the header's "alg": "RS256" */
        jws_key_kind_t key_kind; /* the only kind of key it may be checked with */
        const char *digest;      /* OpenSSL digest name; NULL for EdDSA */
        int rsa_padding;         /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING for RSA */
        size_t ec_field_size;    /* bytes of r and of s for ECDSA, else 0 */
} jws_alg_t;

/**
 * The algorithm named name (len bytes, not NUL-terminated), or NULL when it is
 * not one we verify: "none" and every name outside HS256/384/512,
 * RS256/384/512, PS256/384/512, ES256, ES384 and EdDSA. Compared exactly.
 */
const jws_alg_t *jws_alg_find(const char *name, size_t len);

/**
 * Whether sig (sig_len bytes) is the HMAC of input under secret for alg (an
 * HS* algorithm). The MAC is computed with EVP_Q_mac and compared in constant
 * time (CRYPTO_memcmp). Returns 0 when it verifies, -EACCES when it does not
 * (a wrong length included), -EINVAL when alg is not HMAC, -ENOMEM when
 * OpenSSL fails.
 */
int jws_verify_hmac(const jws_alg_t *alg, const unsigned char *secret, size_t secret_len,
                    const void *input, size_t input_len, const unsigned char *sig,
                    size_t sig_len);

/**
 * Whether sig is a signature over input by the public key pkey under alg, an
 * algorithm whose key_kind the caller has checked pkey to be: RSASSA-PKCS1
 * v1.5 (RS*), RSASSA-PSS with MGF1 on the same digest and a salt as long as
 * the digest (PS*), ECDSA with the JWS raw r||s form (ES*, converted to DER
 * here; any other length is refused), or Ed25519 (EdDSA). Returns 0 when it
 * verifies, -EACCES otherwise (OpenSSL errors included). pkey is only read,
 * so several threads may verify with one key at once.
 */
int jws_verify_pkey(const jws_alg_t *alg, EVP_PKEY *pkey, const void *input, size_t input_len,
                    const unsigned char *sig, size_t sig_len);

#endif
