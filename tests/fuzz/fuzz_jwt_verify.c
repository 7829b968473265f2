/*
 * libFuzzer harness for token verification (src/auth): jwt_verify on the
 * whole input as a token (handed over in a buffer of exactly its size, so any
 * read past it is caught), with and without audience, issuer and leeway,
 * against an HMAC secret and a JWKS of one RSA, P-256, P-384 and Ed25519 key
 * each; accepted tokens go through a token cache. An input starting with '{'
 * is instead loaded as a JWKS file.
 *
 * Checks: the result is 0 or -EACCES; an accepted token is at most
 * JWT_MAX_TOKEN_BYTES with exactly two dots and gives a claims object that the
 * cache hands back; a refusal gives a terminated, non-empty reason without
 * the secret and no claims. A JWKS load succeeds or fails with a message
 * naming the file.
 *
 * The committed corpus holds tokens of every algorithm made with the private
 * halves of these keys (which are not kept) and a few JWKS files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "auth/token_cache.h"
#include "fuzz_check.h"

enum { NOW = 1700000000, WHY_SIZE = 256, ERR_SIZE = 512 };

static const char secret[] = "fuzz-secret-0123456789abcdef0123";

static const char jwks_text[] =
        "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"rsa\", \"n\": "
        "\"uJd_z8b1_-vTnTsEwGlxaXZlxIHUk109lHW1Zxfn_p5wlJOT1EHqzcMsZLu-txvycTkSztVTrVS2C1jewahwAW_"
        "pl2dz96jqRRC-uZi1hYSFzdv4Y-3c0YzvU5MopSl2RD9h91h00B_cBYtpmA1catUnRtSi-"
        "FZHcYKftksPjtxcFgtzg3dqWaLmlTfniwa0aix4rIhu4FJslA13Oekwf1-vl8lyi5vqVGLvzA_"
        "t5Y2m47Z7r_KZOzm1VUNeq6iTOgoWtTSkpeyX873RZySUhEzaFoqW7dhEz2gAOx3cHyF_Mq_5_"
        "0udrEezK_EZVcavYwoSSnwaHY-MPHtQVqCc4Q\", \"e\": \"AQAB\"}, "
        "{\"kty\": \"EC\", \"kid\": \"p256\", \"crv\": \"P-256\", "
        "\"x\": \"yBwuStcxykZ35vdorUy_61NFAbHANZKNRpROr7Zw_QI\", "
        "\"y\": \"qXuZ9J0AO713mcm0bBqDid0CA58UKr5VhPhxp6IG3ds\"}, "
        "{\"kty\": \"EC\", \"kid\": \"p384\", \"crv\": \"P-384\", \"alg\": \"ES384\", "
        "\"x\": \"KE3C1oMMh-it2o8N9Yb1nCXHKGuYoWz-t2UW-JMIsNeasG-L79-Ve2xLs6CpHhv5\", "
        "\"y\": \"gkofGut0eiLp6pPATUUf6D7ZrCkptG9XtAV4Lds1jr0TNiKZKcDzNIx-vE_ovYby\"}, "
        "{\"kty\": \"OKP\", \"kid\": \"ed\", \"crv\": \"Ed25519\", "
        "\"x\": \"uYcnSFr-it_gQQVFBz-yXU2NmnG3B2nr2id5PWmCi-Y\"}]}";

static jwt_keys_t *keys;
static token_cache_t *cache;
static char keys_path[] = "/tmp/queryd-fuzz-jwks-XXXXXX";
static char input_path[] = "/tmp/queryd-fuzz-input-XXXXXX";
static int input_fd = -1;

static void remove_files(void)
{
        jwt_keys_free(keys);
        token_cache_free(cache);
        unlink(keys_path);
        unlink(input_path);
}

static int temp_file(char *path)
{
        int fd = mkstemp(path);
        CHECK(fd >= 0, "cannot make %s", path);
        return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[ERR_SIZE];
        (void)argc;
        (void)argv;

        int fd = temp_file(keys_path);
        CHECK(write(fd, jwks_text, strlen(jwks_text)) == (ssize_t)strlen(jwks_text), "write");
        close(fd);
        input_fd = temp_file(input_path);
        atexit(remove_files);
        CHECK(jwt_keys_new(&keys, (const unsigned char *)secret, strlen(secret), keys_path, err,
                           sizeof(err)) == 0,
              "the harness keys do not load: %s", err);
        cache = token_cache_new(64, 600);
        CHECK(cache != NULL, "no cache");
        return 0;
}

static size_t count_dots(const uint8_t *data, size_t size)
{
        size_t dots = 0;
        for (size_t i = 0; i < size; i++)
                dots += data[i] == '.';
        return dots;
}

static void verify_once(const char *token, size_t size, const jwt_expect_t *expect)
{
        json_t *claims = (json_t *)&claims; /* must be overwritten */
        time_t expires = -1;
        char why[WHY_SIZE];

        memset(why, '\x7f', sizeof(why));
        int r = jwt_verify(keys, expect, token, size, NOW, &claims, &expires, why, sizeof(why));
        CHECK(r == 0 || r == -EACCES || r == -ENOMEM, "jwt_verify returned %d", r);
        CHECK(memchr(why, '\0', sizeof(why)) != NULL, "reason not terminated");
        if (r < 0) {
                CHECK(claims == NULL && expires == 0, "refused but claims or expiry set");
                CHECK(why[0] != '\0', "refused without a reason");
                CHECK(strstr(why, secret) == NULL, "the reason shows the secret");
                return;
        }
        CHECK(size <= JWT_MAX_TOKEN_BYTES, "accepted a token of %zu bytes", size);
        CHECK(count_dots((const uint8_t *)token, size) == 2, "accepted a token without two dots");
        CHECK(json_is_object(claims), "claims not an object");
        CHECK(expires >= 0, "expiry %lld", (long long)expires);
        CHECK(token_cache_put(cache, token, size, claims, expires, NOW) == 0, "cache put");
        json_t *cached = token_cache_get(cache, token, size, NOW);
        CHECK(cached == NULL || json_equal(cached, claims), "the cache changed the claims");
        json_decref(claims);
}

static void load_jwks(const uint8_t *data, size_t size)
{
        jwt_keys_t *loaded = NULL;
        char err[ERR_SIZE];

        CHECK(ftruncate(input_fd, 0) == 0 && pwrite(input_fd, data, size, 0) == (ssize_t)size,
              "cannot write the JWKS input");
        memset(err, '\x7f', sizeof(err));
        int r = jwt_keys_new(&loaded, NULL, 0, input_path, err, sizeof(err));
        if (r == 0) {
                CHECK(loaded != NULL, "no keys");
                jwt_keys_free(loaded);
                return;
        }
        CHECK(r == -EINVAL || r == -ENOMEM, "jwt_keys_new returned %d", r);
        CHECK(loaded == NULL, "failed but keys set");
        CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error not terminated");
        CHECK(strstr(err, input_path) != NULL, "the error does not name the file: %s", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const jwt_expect_t plain = { NULL, NULL, 0 };
        static const jwt_expect_t strict = { "queryd", "issuer", 30 };

        if (size > 0 && data[0] == '{') {
                load_jwks(data, size);
                return 0;
        }
        /* An exact-size copy: the token is not NUL-terminated. */
        char *token = calloc(1, size ? size : 1);
        CHECK(token != NULL, "out of memory");
        memcpy(token, data, size);
        verify_once(token, size, &plain);
        verify_once(token, size, &strict);
        free(token);
        if (size % 16 == 0)
                token_cache_clear(cache);
        return 0;
}
