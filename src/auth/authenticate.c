/* From credentials to an identity. No credential text is ever logged or
 * echoed: refusals say what was wrong, never with what. */
#include "auth/authenticate.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/jwt.h"

enum { MIN_SECRET_BYTES = 32 }; /* RFC 7518 3.2: at least the size of the HS256 hash */

int auth_load_keys(api_t *api, char *err, size_t err_size)
{
        const api_jwt_t *jwt = api->auth ? api->auth->jwt : NULL;
        const char *secret = NULL;
        jwt_keys_t *keys = NULL;

        if (jwt == NULL)
                return 0;
        if (jwt->secret_env != NULL) {
                secret = getenv(jwt->secret_env);
                if (secret == NULL || strlen(secret) < MIN_SECRET_BYTES) {
                        snprintf(err, err_size, "%s: auth: the environment variable %s %s",
                                 api->source, jwt->secret_env,
                                 secret == NULL ? "is not set"
                                                : "must hold a secret of at least 32 bytes");
                        return -EINVAL;
                }
        }
        int r = jwt_keys_new(&keys, (const unsigned char *)secret, secret ? strlen(secret) : 0,
                             jwt->jwks_file, err, err_size);
        if (r < 0)
                return r;
        api->auth->verifier = keys;
        api->auth->verifier_free = (void (*)(void *))jwt_keys_free;
        return 0;
}

/* ---- refusals ---- */

/* 401 (or 400 for invalid_request) with the RFC 6750 challenge. error may
 * be NULL (no credentials were sent); detail is fixed text of ours. */
static void refuse(http_request_t *req, const char *error, const char *detail)
{
        char challenge[256];
        unsigned status = error != NULL && strcmp(error, "invalid_request") == 0 ? 400 : 401;

        if (error == NULL)
                snprintf(challenge, sizeof(challenge), "Bearer realm=\"queryd\"");
        else
                snprintf(challenge, sizeof(challenge),
                         "Bearer realm=\"queryd\", error=\"%s\", error_description=\"%s\"", error,
                         detail);
        http_add_header(req, "WWW-Authenticate", challenge);
        http_fail(req, status, status == 400 ? "invalid-parameter" : "unauthorized", "%s",
                  detail);
}

void auth_challenge(http_request_t *req, const char *detail)
{
        refuse(req, NULL, detail);
}

/* ---- identities ---- */

static const api_role_t *role_settings(const api_auth_t *auth, const char *role)
{
        for (size_t i = 0; role != NULL && i < auth->role_count; i++)
                if (strcmp(auth->roles[i].name, role) == 0)
                        return &auth->roles[i];
        return NULL;
}

static void claims_unref(void *claims)
{
        json_decref(claims);
}

/* An identity in req's scope, which holds claims (the reference is taken). */
static identity_t *new_identity(const api_auth_t *auth, http_request_t *req, const char *role,
                                json_t *claims)
{
        identity_t *id = scope_alloc(req->scope, sizeof(*id));

        if (id == NULL || claims == NULL ||
            scope_defer(req->scope, claims_unref, claims, NULL) < 0) {
                json_decref(claims);
                http_fail(req, 500, "internal", "out of memory");
                return NULL;
        }
        id->role = role;
        id->claims = claims;
        id->settings = role_settings(auth, role);
        return id;
}

static const identity_t *anonymous(const api_auth_t *auth, http_request_t *req)
{
        identity_t *id = new_identity(auth, req, auth->anonymous_role, json_object());

        if (id != NULL)
                id->anonymous = true;
        return id;
}

/* ---- API keys ---- */

/* Every configured key is compared, in constant time, whatever matches:
 * how long the search takes says nothing of which key is close. */
static const api_key_t *find_key(const api_auth_t *auth, const char *key)
{
        unsigned char digest[32];
        const api_key_t *found = NULL;

        if (EVP_Digest(key, strlen(key), digest, NULL, EVP_sha256(), NULL) != 1)
                return NULL;
        for (size_t i = 0; i < auth->key_count; i++)
                if (CRYPTO_memcmp(digest, auth->keys[i].sha256, sizeof(digest)) == 0)
                        found = &auth->keys[i];
        OPENSSL_cleanse(digest, sizeof(digest));
        return found;
}

static const identity_t *by_key(const api_auth_t *auth, http_request_t *req, const char *key)
{
        const api_key_t *k = find_key(auth, key);
        char subject[32];

        if (k == NULL) {
                refuse(req, "invalid_token", "the API key is not valid");
                return NULL;
        }
        identity_t *id = new_identity(auth, req, k->role, json_incref(k->claims));
        if (id == NULL)
                return NULL;
        /* The key's name in logs: a prefix of its hash, which the operator's file holds. */
        snprintf(subject, sizeof(subject), "key:%02x%02x%02x%02x%02x%02x", k->sha256[0],
                 k->sha256[1], k->sha256[2], k->sha256[3], k->sha256[4], k->sha256[5]);
        id->subject = scope_strndup(req->scope, subject, strlen(subject));
        return id;
}

/* ---- bearer tokens ---- */

static json_t *verified_claims(const api_auth_t *auth, token_cache_t *tokens,
                               http_request_t *req, const char *token)
{
        size_t len = strlen(token);
        time_t now = time(NULL);
        json_t *claims = tokens ? token_cache_get(tokens, token, len, now) : NULL;
        const jwt_expect_t expect = { auth->jwt->audience, auth->jwt->issuer,
                                      (long)auth->jwt->leeway_s };
        time_t expires;
        char why[128];

        if (claims != NULL)
                return json_incref(claims);
        int r = jwt_verify(auth->verifier, &expect, token, len, now, &claims, &expires, why,
                           sizeof(why));
        if (r == -ENOMEM) {
                http_fail(req, 500, "internal", "out of memory");
                return NULL;
        }
        if (r < 0) {
                refuse(req, "invalid_token", why);
                return NULL;
        }
        /* Expires with the token, leeway included, as jwt_verify judges it. */
        if (tokens != NULL)
                token_cache_put(tokens, token, len, claims,
                                expires ? expires + (time_t)auth->jwt->leeway_s : 0, now);
        return claims;
}

static const identity_t *by_token(const api_auth_t *auth, token_cache_t *tokens,
                                  http_request_t *req, const char *token)
{
        if (auth->jwt == NULL || auth->verifier == NULL) {
                refuse(req, "invalid_token", "bearer tokens are not accepted here");
                return NULL;
        }
        json_t *claims = verified_claims(auth, tokens, req, token);
        if (claims == NULL)
                return NULL;
        json_t *role = identity_claim(claims, auth->jwt->role_claim);
        if (role != NULL && (!json_is_string(role) || json_string_length(role) == 0)) {
                json_decref(claims);
                refuse(req, "invalid_token", "the token's role claim is not a role name");
                return NULL;
        }
        /* A token naming no role is the anonymous role's, as PostgREST has it. */
        identity_t *id = new_identity(auth, req,
                                      role ? json_string_value(role) : auth->anonymous_role,
                                      claims);
        if (id == NULL)
                return NULL;
        json_t *sub = json_object_get(claims, "sub");
        id->subject = json_is_string(sub) ? json_string_value(sub) : NULL;
        if (id->role == NULL) {
                refuse(req, "invalid_token", "the token names no role");
                return NULL;
        }
        return id;
}

/* The token of "Bearer <token>" (scheme case-insensitive), or NULL. */
static const char *bearer_token(const char *authorization)
{
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
                return NULL;
        const char *token = authorization + 7;
        while (*token == ' ')
                token++;
        return *token != '\0' && strchr(token, ' ') == NULL ? token : NULL;
}

const identity_t *auth_identify(const api_t *api, token_cache_t *tokens, http_request_t *req)
{
        const api_auth_t *auth = api->auth;
        const char *authorization = http_header(req, "Authorization");
        const char *key = http_header(req, "X-API-Key");

        if (authorization != NULL && key != NULL) {
                refuse(req, "invalid_request", "send one credential: a bearer token or an API key");
                return NULL;
        }
        if (key != NULL)
                return by_key(auth, req, key);
        if (authorization == NULL)
                return anonymous(auth, req);
        /* The scheme is the first word: "Bearer" alone is a bearer token missing. */
        if (strcspn(authorization, " ") != 6 || strncasecmp(authorization, "Bearer", 6) != 0) {
                refuse(req, NULL, "only bearer tokens are accepted in Authorization");
                return NULL;
        }
        const char *token = bearer_token(authorization);
        if (token == NULL) {
                refuse(req, "invalid_request", "the Authorization header must be Bearer <token>");
                return NULL;
        }
        return by_token(auth, tokens, req, token);
}
