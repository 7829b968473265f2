/*
 * Access: between matching a route and running its handler, under the
 * configuration's "auth" section. Who is asking (auth/authenticate.c),
 * whether that role may use the entry, how fast it may ask, and which view
 * of the entry it gets: the handler then serves match->target, which is
 * the role's view, with env->row_binds bound to its row condition.
 */
#ifndef QUERYD_ACCESS_H
#define QUERYD_ACCESS_H

#include <stdbool.h>

#include "http/http.h"
#include "request/env.h"

/**
 * Admits req to match's route, or answers it: 401 (no or bad credentials),
 * 403 (a role the entry does not admit, or whose rule's "methods" lack the
 * request's method), 429 (past the role's rate), 400
 * or 500. On admission env->identity, env->row_binds and match->target are
 * set, and the access log learns the role and subject. Without "auth"
 * every request is admitted as it is.
 */
bool access_admit(env_t *env, http_request_t *req, route_match_t *match);

/**
 * Binds the claim at path of the caller's claims to b, as text parsed by
 * rule when rule is non-NULL (a named query parameter "from" the claims),
 * else as the claim's own type. 0; -EINVAL with why filled (missing, or
 * not a value the rule or a placeholder takes); -ENOMEM.
 */
int access_bind_claim(const env_t *env, http_request_t *req, const char *path,
                      const api_rule_t *rule, MYSQL_BIND *b, char *why, size_t why_size);

#endif
