/*
 * Authentication: from a request's credentials to an identity, under the
 * configuration's "auth" section. A bearer token (Authorization: Bearer)
 * is verified by auth/jwt.c, once per token thanks to a cache; an API key
 * (X-API-Key) is found by its SHA-256 among the configured ones; a request
 * with neither is the anonymous caller. A refusal is answered here: 401
 * with an RFC 6750 WWW-Authenticate challenge, or 400 for a request that
 * is malformed (two credentials, a header that is not "Bearer <token>").
 */
#ifndef QUERYD_AUTHENTICATE_H
#define QUERYD_AUTHENTICATE_H

#include "api/api.h"
#include "auth/identity.h"
#include "auth/token_cache.h"
#include "http/http.h"

/**
 * Loads what checking credentials needs and the file does not hold: the
 * HS* secret from its environment variable, the JWKS file. Stores it in
 * api->auth (freed with the api). Runs at start and on reload, before the
 * api is served. Returns 0, or -EINVAL with the reason in err (never the
 * secret).
 */
int auth_load_keys(api_t *api, char *err, size_t err_size);

/**
 * The identity of req under api->auth (non-NULL), allocated in req's scope;
 * tokens caches the tokens verified under this api (one cache per thread;
 * NULL: none may be used, as for a request still on a replaced api). NULL
 * when req was answered with a refusal.
 */
const identity_t *auth_identify(const api_t *api, token_cache_t *tokens, http_request_t *req);

/**
 * Answers 401 for a caller whose role may not use what it asked for
 * because it sent no credentials: the challenge says to send some.
 */
void auth_challenge(http_request_t *req, const char *detail);

#endif
