/*
 * Token verification: the compact form split and decoded strictly, the
 * header read, the key chosen by the configuration (the header's "alg" only
 * has to fit it), the signature checked (jws_verify.c), then the claims
 * (jwt_claims.c). Every refusal is a fixed sentence safe to show a client.
 */
#include "auth/jwt.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/base64url.h"
#include "auth/jwks.h"
#include "auth/jws_verify.h"
#include "auth/jwt_claims.h"

struct jwt_keys {
        unsigned char *secret; /* NULL: no HMAC algorithm is accepted */
        size_t secret_len;
        jwks_t *jwks; /* NULL: only HMAC algorithms are accepted */
};

static const char WHY_NO_MEMORY[] = "the token could not be checked: out of memory";
static const char WHY_ALG[] = "the token's algorithm is not accepted";
static const char WHY_SIGNATURE[] = "the token's signature does not verify";

/* One of the three dot-separated parts of a compact JWS. */
typedef struct part {
        const char *text;
        size_t len;
} part_t;

/* The decoded parts, one after the other: together they are shorter than the token. */
typedef struct decoded {
        unsigned char bytes[JWT_MAX_TOKEN_BYTES];
        size_t used;
} decoded_t;

int jwt_keys_new(jwt_keys_t **ret_keys, const unsigned char *secret, size_t secret_len,
                 const char *jwks_path, char *err, size_t err_size)
{
        jwt_keys_t *keys;
        int r;

        *ret_keys = NULL;
        if (secret == NULL && jwks_path == NULL) {
                snprintf(err, err_size, "no token key: give an HMAC secret or a JWKS file");
                return -EINVAL;
        }
        if (secret != NULL && secret_len == 0) {
                snprintf(err, err_size, "the HMAC secret for tokens is empty");
                return -EINVAL;
        }
        keys = calloc(1, sizeof(*keys));
        if (keys == NULL || (secret != NULL && (keys->secret = malloc(secret_len)) == NULL)) {
                free(keys);
                snprintf(err, err_size, "out of memory loading the token keys");
                return -ENOMEM;
        }
        if (secret != NULL) {
                memcpy(keys->secret, secret, secret_len);
                keys->secret_len = secret_len;
        }
        if (jwks_path != NULL && (r = jwks_load(jwks_path, &keys->jwks, err, err_size)) < 0) {
                jwt_keys_free(keys);
                return r;
        }
        *ret_keys = keys;
        return 0;
}

void jwt_keys_free(jwt_keys_t *keys)
{
        if (keys == NULL)
                return;
        if (keys->secret != NULL)
                OPENSSL_clear_free(keys->secret, keys->secret_len);
        jwks_free(keys->jwks);
        free(keys);
}

/* Splits token at its dots: false unless there are exactly two. */
static bool split(const char *token, size_t len, part_t parts[3])
{
        const char *p = token, *end = token + len;

        for (int i = 0; i < 2; i++) {
                const char *dot = memchr(p, '.', (size_t)(end - p));
                if (dot == NULL)
                        return false;
                parts[i] = (part_t){ p, (size_t)(dot - p) };
                p = dot + 1;
        }
        parts[2] = (part_t){ p, (size_t)(end - p) };
        return memchr(p, '.', parts[2].len) == NULL;
}

static bool decode(decoded_t *d, part_t part, const unsigned char **ret_bytes, size_t *ret_len)
{
        size_t n = 0;

        if (base64url_decode(part.text, part.len, d->bytes + d->used, sizeof(d->bytes) - d->used,
                             &n) < 0)
                return false;
        *ret_bytes = d->bytes + d->used;
        *ret_len = n;
        d->used += n;
        return true;
}

static bool typ_accepted(const json_t *typ)
{
        static const char *const accepted[] = { "JWT", "at+jwt", "application/jwt",
                                                "application/at+jwt" };
        const char *value = json_string_value(typ);

        if (typ == NULL)
                return true;
        for (size_t i = 0; value != NULL && i < sizeof(accepted) / sizeof(accepted[0]); i++)
                if (strcasecmp(value, accepted[i]) == 0)
                        return true;
        return false;
}

/* Reads the header: its algorithm and kid (borrowed from *ret_header). */
static const char *read_header(const unsigned char *bytes, size_t len, json_t **ret_header,
                               const jws_alg_t **ret_alg, const char **ret_kid)
{
        json_error_t jerr;
        json_t *header = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &jerr);
        const json_t *alg = json_object_get(header, "alg");
        const json_t *kid = json_object_get(header, "kid");

        *ret_header = header;
        if (!json_is_object(header))
                return "the token's header is not a JSON object";
        if (!json_is_string(alg))
                return "the token's header names no algorithm";
        *ret_alg = jws_alg_find(json_string_value(alg), json_string_length(alg));
        if (*ret_alg == NULL)
                return WHY_ALG;
        if (json_object_get(header, "crit") != NULL)
                return "the token's header has a crit member, which is not supported";
        if (!typ_accepted(json_object_get(header, "typ")))
                return "the token's type is not JWT";
        if (kid != NULL && !json_is_string(kid))
                return "the token's key id is not a string";
        *ret_kid = json_string_value(kid);
        return NULL;
}

static const char *check_signature(const jwt_keys_t *keys, const jws_alg_t *alg,
                                   const char *kid, part_t input, const unsigned char *sig,
                                   size_t sig_len)
{
        const jwks_key_t *key;
        int r;

        if (alg->key_kind == JWS_KEY_HMAC) {
                /* Never a JWKS key: a public key is no secret. */
                if (keys->secret == NULL)
                        return WHY_ALG;
                r = jws_verify_hmac(alg, keys->secret, keys->secret_len, input.text, input.len,
                                    sig, sig_len);
                return r == 0 ? NULL : r == -EACCES ? WHY_SIGNATURE : WHY_NO_MEMORY;
        }
        if (keys->jwks == NULL)
                return WHY_ALG;
        r = jwks_select(keys->jwks, alg, kid, &key);
        if (r == -ENOENT)
                return kid != NULL ? "unknown key id" : "the token names no key id";
        if (r < 0)
                return "the token's algorithm does not fit its key";
        if (jws_verify_pkey(alg, key->pkey, input.text, input.len, sig, sig_len) < 0)
                return WHY_SIGNATURE;
        return NULL;
}

static const char *read_claims(const unsigned char *bytes, size_t len, json_t **ret_claims)
{
        json_error_t jerr;

        *ret_claims = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(*ret_claims))
                return "the token's payload is not a JSON object";
        return NULL;
}

/* The steps of jwt_verify; *ret_claims is set, even on failure, for the caller to drop. */
static const char *verify(const jwt_keys_t *keys, const jwt_expect_t *expect, const char *token,
                          size_t len, time_t now, json_t **ret_claims, time_t *ret_expires,
                          char *buf, size_t buf_size)
{
        part_t parts[3];
        const unsigned char *header_bytes = NULL, *payload = NULL, *sig = NULL;
        size_t header_len = 0, payload_len = 0, sig_len = 0;
        const jws_alg_t *alg = NULL;
        const char *kid = NULL, *why;
        json_t *header = NULL;

        if (len > JWT_MAX_TOKEN_BYTES)
                return "the token is too long";
        if (!split(token, len, parts))
                return "the token is not of the form header.payload.signature";
        decoded_t *d = malloc(sizeof(*d));
        if (d == NULL)
                return WHY_NO_MEMORY;
        d->used = 0;
        if (!decode(d, parts[0], &header_bytes, &header_len) ||
            !decode(d, parts[1], &payload, &payload_len) || !decode(d, parts[2], &sig, &sig_len))
                why = "the token is not base64url-encoded";
        else
                why = read_header(header_bytes, header_len, &header, &alg, &kid);
        /* The signing input is the token's own text up to the second dot. */
        part_t input = { token, parts[0].len + 1 + parts[1].len };
        if (why == NULL)
                why = check_signature(keys, alg, kid, input, sig, sig_len);
        if (why == NULL)
                why = read_claims(payload, payload_len, ret_claims);
        if (why == NULL)
                why = jwt_claims_check(*ret_claims, expect, now, ret_expires, buf, buf_size);
        json_decref(header);
        free(d);
        return why;
}

int jwt_verify(const jwt_keys_t *keys, const jwt_expect_t *expect, const char *token,
               size_t len, time_t now, json_t **ret_claims, time_t *ret_expires,
               char *why, size_t why_size)
{
        char buf[160];
        json_t *claims = NULL;
        time_t expires = 0;
        const char *refusal = verify(keys, expect, token, len, now, &claims, &expires, buf,
                                     sizeof(buf));

        if (ret_expires != NULL)
                *ret_expires = refusal == NULL ? expires : 0;
        if (refusal != NULL) {
                json_decref(claims);
                *ret_claims = NULL;
                if (why != NULL && why_size > 0)
                        snprintf(why, why_size, "%s", refusal);
                return refusal == WHY_NO_MEMORY ? -ENOMEM : -EACCES;
        }
        *ret_claims = claims;
        if (why != NULL && why_size > 0)
                why[0] = '\0';
        return 0;
}
