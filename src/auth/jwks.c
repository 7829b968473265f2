/*
 * JWKS loading: every JWK becomes an OpenSSL EVP_PKEY built from its members
 * with OSSL_PARAM_BLD and EVP_PKEY_fromdata, then checked with
 * EVP_PKEY_public_check (for EC keys, that the point lies on the curve).
 * A file that would give a surprising key set fails the load instead.
 */
#include "auth/jwks.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/base64url.h"

enum {
        RSA_MIN_BITS = 2048,      /* RFC 7518 section 3.3 */
        MEMBER_MAX_CHARS = 16384, /* a 16384-bit modulus is 2731 characters */
        ED25519_KEY_BYTES = 32,
};

/* The key being loaded, for error messages. */
typedef struct key_ctx {
        const char *path;
        size_t index;
        const char *kid;
        char *err;
        size_t err_size;
} key_ctx_t;

static int key_error(const key_ctx_t *k, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int key_error(const key_ctx_t *k, int code, const char *fmt, ...)
{
        char what[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (k->err_size == 0)
                return code;
        if (k->kid != NULL)
                snprintf(k->err, k->err_size, "JWKS file %s: keys[%zu] (kid \"%.64s\"): %s",
                         k->path, k->index, k->kid, what);
        else
                snprintf(k->err, k->err_size, "JWKS file %s: keys[%zu]: %s", k->path, k->index,
                         what);
        return code;
}

/* The bytes of the base64url member name, exactly want_len of them unless 0. */
static int decode_member(const key_ctx_t *k, const json_t *jwk, const char *name,
                         size_t want_len, unsigned char **ret_bytes, size_t *ret_len)
{
        const json_t *value = json_object_get(jwk, name);

        if (!json_is_string(value))
                return key_error(k, -EINVAL, "\"%s\" is missing or not a string", name);
        size_t len = json_string_length(value);
        if (len == 0 || len > MEMBER_MAX_CHARS)
                return key_error(k, -EINVAL, "\"%s\" is empty or too long", name);
        size_t size = base64url_decoded_size(len);
        unsigned char *bytes = malloc(size + 1);
        if (bytes == NULL)
                return key_error(k, -ENOMEM, "out of memory");
        size_t n = 0;
        if (base64url_decode(json_string_value(value), len, bytes, size, &n) < 0) {
                free(bytes);
                return key_error(k, -EINVAL, "\"%s\" is not base64url", name);
        }
        if (want_len != 0 && n != want_len) {
                free(bytes);
                return key_error(k, -EINVAL, "\"%s\" is not %zu bytes long", name, want_len);
        }
        *ret_bytes = bytes;
        *ret_len = n;
        return 0;
}

/* A public key of type built from the parameters in bld, checked by OpenSSL. */
static int pkey_from_params(const key_ctx_t *k, const char *type, OSSL_PARAM_BLD *bld,
                            EVP_PKEY **ret_pkey)
{
        OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        EVP_PKEY *pkey = NULL;
        int built = params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
                    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;

        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        EVP_PKEY_CTX *check = built ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
        int valid = check != NULL && EVP_PKEY_public_check(check) == 1;
        EVP_PKEY_CTX_free(check);
        ERR_clear_error();
        if (!valid) {
                EVP_PKEY_free(pkey);
                return key_error(k, -EINVAL, "its members do not make a valid %s public key",
                                 type);
        }
        *ret_pkey = pkey;
        return 0;
}

static int rsa_key(const key_ctx_t *k, const json_t *jwk, EVP_PKEY **ret_pkey)
{
        unsigned char *n_bytes = NULL, *e_bytes = NULL;
        size_t n_len = 0, e_len = 0;
        BIGNUM *n = NULL, *e = NULL;
        OSSL_PARAM_BLD *bld = NULL;
        int r = decode_member(k, jwk, "n", 0, &n_bytes, &n_len);

        if (r == 0)
                r = decode_member(k, jwk, "e", 0, &e_bytes, &e_len);
        if (r == 0) {
                n = BN_bin2bn(n_bytes, (int)n_len, NULL);
                e = BN_bin2bn(e_bytes, (int)e_len, NULL);
                bld = OSSL_PARAM_BLD_new();
                if (n == NULL || e == NULL || bld == NULL ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
                    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
                        r = key_error(k, -ENOMEM, "out of memory");
                else
                        r = pkey_from_params(k, "RSA", bld, ret_pkey);
        }
        OSSL_PARAM_BLD_free(bld);
        BN_free(n);
        BN_free(e);
        free(n_bytes);
        free(e_bytes);
        if (r == 0 && EVP_PKEY_get_bits(*ret_pkey) < RSA_MIN_BITS) {
                int bits = EVP_PKEY_get_bits(*ret_pkey);
                EVP_PKEY_free(*ret_pkey);
                *ret_pkey = NULL;
                return key_error(k, -EINVAL, "the RSA key has %d bits; at least %d are needed",
                                 bits, RSA_MIN_BITS);
        }
        return r;
}

/* The uncompressed point 04||x||y of a curve whose coordinates have size bytes. */
static int ec_point(const key_ctx_t *k, const json_t *jwk, size_t size, unsigned char *point)
{
        unsigned char *x = NULL, *y = NULL;
        size_t x_len = 0, y_len = 0;
        int r = decode_member(k, jwk, "x", size, &x, &x_len);

        if (r == 0)
                r = decode_member(k, jwk, "y", size, &y, &y_len);
        if (r == 0) {
                point[0] = 0x04;
                memcpy(point + 1, x, size);
                memcpy(point + 1 + size, y, size);
        }
        free(x);
        free(y);
        return r;
}

static int ec_key(const key_ctx_t *k, const json_t *jwk, jws_key_kind_t *ret_kind,
                  EVP_PKEY **ret_pkey)
{
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        unsigned char point[1 + 2 * 48];
        const char *group;
        size_t size;

        if (crv != NULL && strcmp(crv, "P-256") == 0) {
                group = "prime256v1", size = 32, *ret_kind = JWS_KEY_P256;
        } else if (crv != NULL && strcmp(crv, "P-384") == 0) {
                group = "secp384r1", size = 48, *ret_kind = JWS_KEY_P384;
        } else {
                return key_error(k, -EINVAL, "EC curve \"%.32s\" is not supported (P-256 and "
                                 "P-384 are)", crv ? crv : "(none)");
        }
        int r = ec_point(k, jwk, size, point);
        if (r < 0)
                return r;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (bld == NULL || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                                             group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
                r = key_error(k, -ENOMEM, "out of memory");
        else
                r = pkey_from_params(k, "EC", bld, ret_pkey);
        OSSL_PARAM_BLD_free(bld);
        return r;
}

static int okp_key(const key_ctx_t *k, const json_t *jwk, EVP_PKEY **ret_pkey)
{
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        unsigned char *x = NULL;
        size_t x_len = 0;

        if (crv == NULL || strcmp(crv, "Ed25519") != 0)
                return key_error(k, -EINVAL, "OKP curve \"%.32s\" is not supported (Ed25519 is)",
                                 crv ? crv : "(none)");
        int r = decode_member(k, jwk, "x", ED25519_KEY_BYTES, &x, &x_len);
        if (r < 0)
                return r;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (bld == NULL || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, x_len))
                r = key_error(k, -ENOMEM, "out of memory");
        else
                r = pkey_from_params(k, "ED25519", bld, ret_pkey);
        OSSL_PARAM_BLD_free(bld);
        free(x);
        return r;
}

/* Whether the JWK is meant for checking signatures ("use", "key_ops"). */
static bool for_signatures(const json_t *jwk)
{
        const json_t *use = json_object_get(jwk, "use");
        const json_t *ops = json_object_get(jwk, "key_ops");

        if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0))
                return false;
        if (ops == NULL)
                return true;
        size_t i;
        const json_t *op;
        json_array_foreach(ops, i, op)
                if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                        return true;
        return false;
}

static int check_public_only(const key_ctx_t *k, const json_t *jwk)
{
        static const char *const private_parts[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

        for (size_t i = 0; i < sizeof(private_parts) / sizeof(private_parts[0]); i++)
                if (json_object_get(jwk, private_parts[i]) != NULL)
                        return key_error(k, -EINVAL, "it holds a private or secret part (\"%s\"); "
                                         "only public keys belong in the file", private_parts[i]);
        return 0;
}

static int key_by_type(const key_ctx_t *k, const json_t *jwk, jwks_key_t *key)
{
        const char *kty = json_string_value(json_object_get(jwk, "kty"));

        if (kty != NULL && strcmp(kty, "RSA") == 0) {
                key->kind = JWS_KEY_RSA;
                return rsa_key(k, jwk, &key->pkey);
        }
        if (kty != NULL && strcmp(kty, "EC") == 0)
                return ec_key(k, jwk, &key->kind, &key->pkey);
        if (kty != NULL && strcmp(kty, "OKP") == 0) {
                key->kind = JWS_KEY_ED25519;
                return okp_key(k, jwk, &key->pkey);
        }
        return key_error(k, -EINVAL, "kty \"%.32s\" is not supported (RSA, EC and OKP are)",
                         kty ? kty : "(none)");
}

static int key_alg(const key_ctx_t *k, const json_t *jwk, jwks_key_t *key)
{
        const json_t *alg = json_object_get(jwk, "alg");

        if (alg == NULL)
                return 0;
        if (json_is_string(alg))
                key->alg = jws_alg_find(json_string_value(alg), json_string_length(alg));
        if (key->alg == NULL || key->alg->key_kind != key->kind)
                return key_error(k, -EINVAL, "\"alg\" %.32s is not a signature algorithm for "
                                 "this kind of key", json_is_string(alg) ?
                                 json_string_value(alg) : "(not a string)");
        return 0;
}

/* Loads one JWK into key: 0, 1 when it is not for signatures (skipped), or an error. */
static int load_key(key_ctx_t *k, const json_t *jwk, jwks_key_t *key)
{
        if (!json_is_object(jwk))
                return key_error(k, -EINVAL, "it is not a JSON object");
        const json_t *kid = json_object_get(jwk, "kid");
        if (kid != NULL && !json_is_string(kid))
                return key_error(k, -EINVAL, "its \"kid\" is not a string");
        k->kid = json_string_value(kid);
        if (!for_signatures(jwk))
                return 1;
        int r = check_public_only(k, jwk);
        if (r == 0)
                r = key_by_type(k, jwk, key);
        if (r == 0)
                r = key_alg(k, jwk, key);
        if (r == 0 && k->kid != NULL && (key->kid = strdup(k->kid)) == NULL)
                r = key_error(k, -ENOMEM, "out of memory");
        if (r < 0) {
                EVP_PKEY_free(key->pkey);
                memset(key, 0, sizeof(*key));
        }
        return r;
}

static int load_keys(const char *path, const json_t *keys, jwks_t *set, char *err,
                     size_t err_size)
{
        key_ctx_t k = { .path = path, .err = err, .err_size = err_size };
        const json_t *jwk;

        json_array_foreach(keys, k.index, jwk) {
                k.kid = NULL;
                int r = load_key(&k, jwk, &set->keys[set->count]);
                if (r < 0)
                        return r;
                if (r == 0)
                        set->count++;
        }
        if (set->count == 0) {
                snprintf(err, err_size, "JWKS file %s holds no key for checking signatures", path);
                return -EINVAL;
        }
        return 0;
}

int jwks_load(const char *path, jwks_t **ret_set, char *err, size_t err_size)
{
        json_error_t jerr;
        json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        const json_t *keys = json_object_get(root, "keys");
        int r = -EINVAL;

        *ret_set = NULL;
        if (root == NULL)
                snprintf(err, err_size, "JWKS file %s cannot be loaded: %s (line %d)", path,
                         jerr.text, jerr.line);
        else if (!json_is_array(keys))
                snprintf(err, err_size, "JWKS file %s is not a JSON object with a \"keys\" array",
                         path);
        else
                r = 0;
        jwks_t *set = r == 0 ? calloc(1, sizeof(*set)) : NULL;
        if (set != NULL)
                set->keys = calloc(json_array_size(keys) + 1, sizeof(set->keys[0]));
        if (r == 0 && (set == NULL || set->keys == NULL)) {
                snprintf(err, err_size, "JWKS file %s: out of memory", path);
                r = -ENOMEM;
        }
        if (r == 0)
                r = load_keys(path, keys, set, err, err_size);
        json_decref(root);
        if (r < 0) {
                jwks_free(set);
                return r;
        }
        *ret_set = set;
        return 0;
}

void jwks_free(jwks_t *set)
{
        if (set == NULL)
                return;
        for (size_t i = 0; set->keys != NULL && i < set->count; i++) {
                free(set->keys[i].kid);
                EVP_PKEY_free(set->keys[i].pkey);
        }
        free(set->keys);
        free(set);
}

bool jwks_key_fits(const jwks_key_t *key, const jws_alg_t *alg)
{
        return key->kind == alg->key_kind && (key->alg == NULL || key->alg == alg);
}

int jwks_select(const jwks_t *set, const jws_alg_t *alg, const char *kid,
                const jwks_key_t **ret_key)
{
        const jwks_key_t *found = NULL;
        size_t named = 0, fitting = 0;

        *ret_key = NULL;
        for (size_t i = 0; i < set->count; i++) {
                const jwks_key_t *key = &set->keys[i];
                if (kid != NULL && (key->kid == NULL || strcmp(key->kid, kid) != 0))
                        continue;
                named++;
                if (jwks_key_fits(key, alg) && fitting++ == 0)
                        found = key;
        }
        if (kid == NULL && fitting != 1)
                return -ENOENT;
        if (named == 0)
                return -ENOENT;
        if (found == NULL)
                return -EACCES;
        *ret_key = found;
        return 0;
}
