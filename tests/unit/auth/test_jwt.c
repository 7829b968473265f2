/*
 * jwt_verify's own parts: the strict base64url decoder, the claim checks,
 * and verification of the example tokens of RFC 7515 (A.1, HS256) and
 * RFC 8037 (A.4, Ed25519), minted by their authors. Tokens from another
 * library are checked by tests/integration/test_jwt_verify.py.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/base64url.h"
#include "auth/jwt.h"
#include "auth/jwt_claims.h"
#include "test.h"

/* ---- base64url */

static int decode_text(const char *in, char *out, size_t out_size, size_t *ret_len)
{
        return base64url_decode(in, strlen(in), (unsigned char *)out, out_size, ret_len);
}

static void test_base64url_vectors(void)
{
        static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        static const char *const coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
                                             "Zm9vYmFy" };
        char out[16];
        size_t n;

        for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
                ASSERT_EQ_INT(decode_text(coded[i], out, sizeof(out), &n), 0);
                ASSERT_EQ_MEM(out, n, plain[i], strlen(plain[i]));
                ASSERT_EQ_UINT(base64url_decoded_size(strlen(coded[i])), strlen(plain[i]));
        }
        ASSERT_EQ_INT(decode_text("-_8", out, sizeof(out), &n), 0);
        ASSERT_EQ_MEM(out, n, "\xfb\xff", 2);
}

static void test_base64url_strict(void)
{
        static const char *const bad[] = { "Zg=", "Zg==", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v",
                                           "Zm/v", " Zg", "Zg\n", "Zm9v\r", "Zm.v" };
        char out[16];
        size_t n = 99;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ASSERT_EQ_INT(decode_text(bad[i], out, sizeof(out), &n), -EINVAL);
                ASSERT_EQ_UINT(n, 0);
        }
        ASSERT_EQ_INT(base64url_decode("Zm\0v", 4, (unsigned char *)out, sizeof(out), &n),
                      -EINVAL);
}

static void test_base64url_bounds(void)
{
        char out[8];
        size_t n;

        memset(out, '#', sizeof(out));
        ASSERT_EQ_INT(decode_text("Zm9vYmFy", out, 5, &n), -ENOBUFS);
        ASSERT_EQ_INT(out[0], '#'); /* nothing written when it cannot fit */
        ASSERT_EQ_INT(decode_text("Zm9vYmE", out, 5, &n), 0);
        ASSERT_EQ_MEM(out, n, "fooba", 5);
        ASSERT_EQ_INT(out[5], '#');
        /* Only len bytes are read: the rest of the string is no part of it. */
        ASSERT_EQ_INT(base64url_decode("Zm9v!!!", 4, (unsigned char *)out, 3, &n), 0);
        ASSERT_EQ_MEM(out, n, "foo", 3);
}

/* ---- claims */

enum { NOW = 1700000000 };

static const char *check(const char *json, const char *aud, const char *iss, long leeway,
                         time_t *ret_expires)
{
        static char buf[160];
        json_error_t jerr;
        json_t *claims = json_loads(json, 0, &jerr);
        jwt_expect_t expect = { aud, iss, leeway };
        time_t expires;

        if (claims == NULL) {
                fprintf(stderr, "bad test JSON %s: %s\n", json, jerr.text);
                return "(bad test JSON)";
        }
        const char *why = jwt_claims_check(claims, &expect, NOW, &expires, buf, sizeof(buf));
        json_decref(claims);
        if (ret_expires != NULL)
                *ret_expires = expires;
        return why;
}

static void test_claim_times(void)
{
        time_t expires;

        ASSERT_NULL(check("{\"exp\": 1700000001}", NULL, NULL, 0, &expires));
        ASSERT_EQ_INT(expires, 1700000001);
        ASSERT_EQ_STR(check("{\"exp\": 1700000000}", NULL, NULL, 0, NULL), "the token has expired");
        ASSERT_NULL(check("{\"exp\": 1699999990}", NULL, NULL, 11, NULL));
        ASSERT_EQ_STR(check("{\"exp\": 1699999990}", NULL, NULL, 10, NULL),
                      "the token has expired");
        ASSERT_EQ_STR(check("{\"exp\": 1699999999}", NULL, NULL, -30, NULL),
                      "the token has expired");
        ASSERT_NULL(check("{\"exp\": 1700000000.5}", NULL, NULL, 0, &expires));
        ASSERT_EQ_INT(expires, 1700000000);
        ASSERT_NULL(check("{\"exp\": 1e300}", NULL, NULL, 0, &expires));
        ASSERT_EQ_INT(expires, 253402300799);
        ASSERT_NULL(check("{\"sub\": \"a\"}", NULL, NULL, 0, &expires));
        ASSERT_EQ_INT(expires, 0);
        ASSERT_NULL(check("{\"nbf\": 1700000000, \"iat\": 1700000000}", NULL, NULL, 0, NULL));
        ASSERT_EQ_STR(check("{\"nbf\": 1700000001}", NULL, NULL, 0, NULL),
                      "the token is not valid yet");
        ASSERT_NULL(check("{\"nbf\": 1700000005}", NULL, NULL, 5, NULL));
        ASSERT_EQ_STR(check("{\"iat\": 1700000006}", NULL, NULL, 5, &expires),
                      "the token was issued in the future");
        ASSERT_EQ_INT(expires, 0);
        ASSERT_CONTAINS(check("{\"exp\": \"1800000000\"}", NULL, NULL, 0, NULL), "exp claim");
        ASSERT_CONTAINS(check("{\"nbf\": null}", NULL, NULL, 0, NULL), "nbf claim");
        ASSERT_CONTAINS(check("{\"iat\": [1]}", NULL, NULL, 0, NULL), "iat claim");
}

static void test_claim_audience_issuer(void)
{
        ASSERT_NULL(check("{\"aud\": \"queryd\"}", "queryd", NULL, 0, NULL));
        ASSERT_NULL(check("{\"aud\": [\"x\", \"queryd\"]}", "queryd", NULL, 0, NULL));
        ASSERT_EQ_STR(check("{\"aud\": [\"x\"]}", "queryd", NULL, 0, NULL),
                      "the token's audience is not queryd");
        ASSERT_EQ_STR(check("{\"aud\": \"queryd2\"}", "queryd", NULL, 0, NULL),
                      "the token's audience is not queryd");
        ASSERT_EQ_STR(check("{\"aud\": []}", "queryd", NULL, 0, NULL),
                      "the token's audience is not queryd");
        ASSERT_EQ_STR(check("{}", "queryd", NULL, 0, NULL), "the token has no audience");
        ASSERT_CONTAINS(check("{\"aud\": 1}", NULL, NULL, 0, NULL), "aud claim");
        ASSERT_CONTAINS(check("{\"aud\": [\"queryd\", {}]}", "queryd", NULL, 0, NULL),
                        "aud claim");
        ASSERT_NULL(check("{\"iss\": \"joe\"}", NULL, "joe", 0, NULL));
        ASSERT_EQ_STR(check("{\"iss\": \"jo\"}", NULL, "joe", 0, NULL),
                      "the token's issuer is not joe");
        ASSERT_EQ_STR(check("{}", NULL, "joe", 0, NULL), "the token has no issuer");
        ASSERT_CONTAINS(check("{\"iss\": 5}", NULL, NULL, 0, NULL), "iss claim");
        ASSERT_CONTAINS(check("{\"sub\": 5}", NULL, NULL, 0, NULL), "sub claim");
        ASSERT_CONTAINS(check("[]", NULL, NULL, 0, NULL), "not a JSON object");
}

/* ---- verification of the RFCs' example tokens */

/* RFC 7515 appendix A.1: HS256 with this key; exp is 1300819380. */
static const unsigned char rfc7515_key[] = {
        3,   35,  53,  75,  43,  15,  165, 188, 131, 126, 6,   101, 119, 123, 166, 143,
        90,  179, 40,  230, 240, 84,  201, 40,  169, 15,  132, 178, 210, 80,  46,  191,
        211, 251, 90,  146, 210, 6,   71,  239, 150, 138, 180, 195, 119, 98,  61,  34,
        61,  46,  33,  114, 5,   46,  79,  8,   192, 205, 154, 245, 103, 208, 128, 163,
};
static const char rfc7515_token[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290"
        "Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
enum { RFC7515_EXP = 1300819380 };

/* RFC 8037 appendix A.4: Ed25519 over the payload "Example of Ed25519 signing". */
static const char rfc8037_jwks[] =
        "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", "
        "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
static const char rfc8037_token[] =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
        ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

static int verify(const jwt_keys_t *keys, const char *token, size_t len, time_t now,
                  const jwt_expect_t *expect, json_t **ret_claims, time_t *ret_expires,
                  char *why, size_t why_size)
{
        static const jwt_expect_t none = { NULL, NULL, 0 };

        return jwt_verify(keys, expect ? expect : &none, token, len, now, ret_claims,
                          ret_expires, why, why_size);
}

static void test_verify_rfc7515_hs256(void)
{
        jwt_keys_t *keys = NULL;
        json_t *claims = NULL;
        time_t expires = -1;
        char err[256], why[128];
        size_t len = strlen(rfc7515_token);

        ASSERT_EQ_INT(jwt_keys_new(&keys, rfc7515_key, sizeof(rfc7515_key), NULL, err,
                                   sizeof(err)), 0);
        ASSERT_EQ_INT(verify(keys, rfc7515_token, len, RFC7515_EXP - 1, NULL, &claims, &expires,
                             why, sizeof(why)), 0);
        ASSERT_EQ_STR(json_string_value(json_object_get(claims, "iss")), "joe");
        ASSERT_TRUE(json_is_true(json_object_get(claims, "http://example.com/is_root")));
        ASSERT_EQ_INT(expires, RFC7515_EXP);
        json_decref(claims);

        ASSERT_EQ_INT(verify(keys, rfc7515_token, len, RFC7515_EXP, NULL, &claims, &expires, why,
                             sizeof(why)), -EACCES);
        ASSERT_EQ_STR(why, "the token has expired");
        ASSERT_NULL(claims);
        ASSERT_EQ_INT(expires, 0);
        jwt_expect_t lenient = { NULL, "joe", 60 };
        ASSERT_EQ_INT(verify(keys, rfc7515_token, len, RFC7515_EXP + 59, &lenient, &claims, NULL,
                             NULL, 0), 0);
        json_decref(claims);
        jwt_expect_t audience = { "queryd", NULL, 0 };
        ASSERT_EQ_INT(verify(keys, rfc7515_token, len, 0, &audience, &claims, NULL, why, 12),
                      -EACCES);
        ASSERT_EQ_STR(why, "the token h"); /* cut to the buffer, terminated */
        /* One byte short is another token, with a signature one byte short. */
        ASSERT_EQ_INT(verify(keys, rfc7515_token, len - 1, 0, NULL, &claims, NULL, why,
                             sizeof(why)), -EACCES);
        ASSERT_EQ_STR(why, "the token is not base64url-encoded");
        jwt_keys_free(keys);
}

static char *write_temp(const char *content)
{
        char *path = strdup("/tmp/queryd-test-jwks-XXXXXX");
        int fd = mkstemp(path);

        if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
                perror("temporary JWKS");
                exit(1);
        }
        close(fd);
        return path;
}

static void test_verify_rfc8037_ed25519(void)
{
        char *path = write_temp(rfc8037_jwks);
        jwt_keys_t *keys = NULL;
        json_t *claims = NULL;
        char err[256], why[128];
        char token[sizeof(rfc8037_token)];

        ASSERT_EQ_INT(jwt_keys_new(&keys, NULL, 0, path, err, sizeof(err)), 0);
        /* The signature holds; the payload is text, not claims. */
        ASSERT_EQ_INT(verify(keys, rfc8037_token, strlen(rfc8037_token), 0, NULL, &claims, NULL,
                             why, sizeof(why)), -EACCES);
        ASSERT_EQ_STR(why, "the token's payload is not a JSON object");
        memcpy(token, rfc8037_token, sizeof(token));
        token[sizeof(token) - 10] = token[sizeof(token) - 10] == 'A' ? 'B' : 'A';
        ASSERT_EQ_INT(verify(keys, token, strlen(token), 0, NULL, &claims, NULL, why, sizeof(why)),
                      -EACCES);
        ASSERT_EQ_STR(why, "the token's signature does not verify");
        /* No secret: HS256 is not accepted at all. */
        ASSERT_EQ_INT(verify(keys, rfc7515_token, strlen(rfc7515_token), 0, NULL, &claims, NULL,
                             why, sizeof(why)), -EACCES);
        ASSERT_EQ_STR(why, "the token's algorithm is not accepted");
        jwt_keys_free(keys);
        unlink(path);
        free(path);
}

static void test_verify_limits(void)
{
        jwt_keys_t *keys = NULL;
        json_t *claims = (json_t *)1;
        char err[256], why[128];
        size_t big = JWT_MAX_TOKEN_BYTES + 1;
        char *token = malloc(big);

        ASSERT_EQ_INT(jwt_keys_new(&keys, NULL, 0, NULL, err, sizeof(err)), -EINVAL);
        ASSERT_NULL(keys);
        ASSERT_EQ_INT(jwt_keys_new(&keys, (const unsigned char *)"", 0, NULL, err, sizeof(err)),
                      -EINVAL);
        ASSERT_EQ_INT(jwt_keys_new(&keys, NULL, 0, "/nonexistent/jwks.json", err, sizeof(err)),
                      -EINVAL);
        ASSERT_CONTAINS(err, "/nonexistent/jwks.json");
        ASSERT_EQ_INT(jwt_keys_new(&keys, rfc7515_key, sizeof(rfc7515_key), NULL, err,
                                   sizeof(err)), 0);
        /* Too long is refused before anything is read: a valid token padded out. */
        memset(token, 'A', big);
        memcpy(token, rfc7515_token, strlen(rfc7515_token));
        ASSERT_EQ_INT(verify(keys, token, big, 0, NULL, &claims, NULL, why, sizeof(why)), -EACCES);
        ASSERT_EQ_STR(why, "the token is too long");
        ASSERT_NULL(claims);
        ASSERT_EQ_INT(verify(keys, "", 0, 0, NULL, &claims, NULL, why, sizeof(why)), -EACCES);
        ASSERT_CONTAINS(why, "header.payload.signature");
        ASSERT_EQ_INT(verify(keys, "a.b.c.d", 7, 0, NULL, &claims, NULL, why, sizeof(why)), -EACCES);
        ASSERT_CONTAINS(why, "header.payload.signature");
        free(token);
        jwt_keys_free(keys);
        jwt_keys_free(NULL);
}

int main(void)
{
        RUN_TEST(test_base64url_vectors);
        RUN_TEST(test_base64url_strict);
        RUN_TEST(test_base64url_bounds);
        RUN_TEST(test_claim_times);
        RUN_TEST(test_claim_audience_issuer);
        RUN_TEST(test_verify_rfc7515_hs256);
        RUN_TEST(test_verify_rfc8037_ed25519);
        RUN_TEST(test_verify_limits);
        return test_report();
}
