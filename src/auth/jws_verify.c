/*
 * Signature checks for JWS. Every check is one libcrypto call chain; the
 * only conversion done here is the ECDSA signature from the fixed-size r||s
 * of RFC 7518 section 3.4 to the DER form OpenSSL verifies.
 */
#include "auth/jws_verify.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

static const jws_alg_t algorithms[] = {
        { "HS256", JWS_KEY_HMAC, "SHA256", 0, 0 },
        { "HS384", JWS_KEY_HMAC, "SHA384", 0, 0 },
        { "HS512", JWS_KEY_HMAC, "SHA512", 0, 0 },
        { "RS256", JWS_KEY_RSA, "SHA256", RSA_PKCS1_PADDING, 0 },
        { "RS384", JWS_KEY_RSA, "SHA384", RSA_PKCS1_PADDING, 0 },
        { "RS512", JWS_KEY_RSA, "SHA512", RSA_PKCS1_PADDING, 0 },
        { "PS256", JWS_KEY_RSA, "SHA256", RSA_PKCS1_PSS_PADDING, 0 },
        { "PS384", JWS_KEY_RSA, "SHA384", RSA_PKCS1_PSS_PADDING, 0 },
        { "PS512", JWS_KEY_RSA, "SHA512", RSA_PKCS1_PSS_PADDING, 0 },
        { "ES256", JWS_KEY_P256, "SHA256", 0, 32 },
        { "ES384", JWS_KEY_P384, "SHA384", 0, 48 },
        { "EdDSA", JWS_KEY_ED25519, NULL, 0, 0 },
};

const jws_alg_t *jws_alg_find(const char *name, size_t len)
{
        for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
                if (strlen(algorithms[i].name) == len && memcmp(algorithms[i].name, name, len) == 0)
                        return &algorithms[i];
        return NULL;
}

int jws_verify_hmac(const jws_alg_t *alg, const unsigned char *secret, size_t secret_len,
                    const void *input, size_t input_len, const unsigned char *sig,
                    size_t sig_len)
{
        unsigned char mac[EVP_MAX_MD_SIZE];
        size_t mac_len = 0;

        if (alg->key_kind != JWS_KEY_HMAC)
                return -EINVAL;
        if (EVP_Q_mac(NULL, "HMAC", NULL, alg->digest, NULL, secret, secret_len, input,
                      input_len, mac, sizeof(mac), &mac_len) == NULL) {
                ERR_clear_error();
                return -ENOMEM;
        }
        int same = sig_len == mac_len && CRYPTO_memcmp(sig, mac, mac_len) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
        return same ? 0 : -EACCES;
}

/* Whether pkey is of the kind alg needs: a second line of defence behind the
 * key selection, so no caller can check a signature with a key of another kind. */
static int key_fits(const jws_alg_t *alg, const EVP_PKEY *pkey)
{
        switch (alg->key_kind) {
        case JWS_KEY_RSA:
                return EVP_PKEY_is_a(pkey, "RSA");
        case JWS_KEY_P256:
        case JWS_KEY_P384:
                return EVP_PKEY_is_a(pkey, "EC") &&
                       (size_t)EVP_PKEY_get_bits(pkey) == alg->ec_field_size * 8;
        case JWS_KEY_ED25519:
                return EVP_PKEY_is_a(pkey, "ED25519");
        case JWS_KEY_HMAC:
                break;
        }
        return 0;
}

/* The DER encoding (OPENSSL_free it) of the raw r||s ECDSA signature sig. */
static int ecdsa_to_der(const unsigned char *sig, size_t sig_len, size_t field_size,
                        unsigned char **ret_der, size_t *ret_der_len)
{
        if (sig_len != 2 * field_size)
                return -EACCES;
        ECDSA_SIG *ecdsa = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)field_size, NULL);
        BIGNUM *s = BN_bin2bn(sig + field_size, (int)field_size, NULL);
        if (ecdsa == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(ecdsa, r, s)) {
                BN_free(r);
                BN_free(s);
                ECDSA_SIG_free(ecdsa);
                return -ENOMEM;
        }
        /* r and s now belong to ecdsa. */
        unsigned char *der = NULL;
        int der_len = i2d_ECDSA_SIG(ecdsa, &der);
        ECDSA_SIG_free(ecdsa);
        if (der_len <= 0)
                return -ENOMEM;
        *ret_der = der;
        *ret_der_len = (size_t)der_len;
        return 0;
}

static int set_rsa_padding(const jws_alg_t *alg, EVP_PKEY_CTX *pctx)
{
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, alg->rsa_padding) != 1)
                return -EACCES;
        if (alg->rsa_padding != RSA_PKCS1_PSS_PADDING)
                return 0;
        if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, alg->digest, NULL) != 1)
                return -EACCES;
        return 0;
}

static int digest_verify(const jws_alg_t *alg, EVP_PKEY *pkey, const void *input,
                         size_t input_len, const unsigned char *sig, size_t sig_len)
{
        EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int r = -EACCES;

        if (md_ctx == NULL)
                return -EACCES;
        if (EVP_DigestVerifyInit_ex(md_ctx, &pctx, alg->digest, NULL, NULL, pkey, NULL) == 1 &&
            (alg->key_kind != JWS_KEY_RSA || set_rsa_padding(alg, pctx) == 0) &&
            EVP_DigestVerify(md_ctx, sig, sig_len, input, input_len) == 1)
                r = 0;
        EVP_MD_CTX_free(md_ctx);
        return r;
}

int jws_verify_pkey(const jws_alg_t *alg, EVP_PKEY *pkey, const void *input, size_t input_len,
                    const unsigned char *sig, size_t sig_len)
{
        unsigned char *der = NULL;
        size_t der_len = 0;
        int r;

        if (!key_fits(alg, pkey))
                return -EACCES;
        if (alg->key_kind == JWS_KEY_RSA && sig_len != (size_t)EVP_PKEY_get_size(pkey))
                return -EACCES;
        if (alg->ec_field_size != 0) {
                r = ecdsa_to_der(sig, sig_len, alg->ec_field_size, &der, &der_len);
                if (r < 0)
                        return -EACCES;
                sig = der;
                sig_len = der_len;
        }
        r = digest_verify(alg, pkey, input, input_len, sig, sig_len);
        OPENSSL_free(der);
        if (r < 0)
                ERR_clear_error();
        return r;
}
