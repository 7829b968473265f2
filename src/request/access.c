/* Who may use what: the role's rule on the entry, the role's rate, and
 * the claims its view's row condition binds. */
#include "request/access.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/authenticate.h"
#include "request/answer.h"
#include "sql/typed_value.h"

/* A claim's text, as a request would have written the value. */
static bool claim_text(json_t *v, char *buf, size_t size, const char **ret, size_t *ret_len)
{
        if (json_is_string(v)) {
                *ret = json_string_value(v);
                *ret_len = json_string_length(v);
                return true;
        }
        if (json_is_integer(v))
                snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, size, "%.17g", json_real_value(v));
        else if (json_is_boolean(v))
                snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
        else
                return false;
        *ret = buf;
        *ret_len = strlen(buf);
        return true;
}

/* How a claim binds where no declaration types it: as what JSON says it is. */
static api_rule_t own_rule(json_t *v)
{
        api_rule_t rule = { .type = API_TYPE_STRING };

        if (json_is_integer(v))
                rule.type = API_TYPE_INT;
        else if (json_is_real(v))
                rule.type = API_TYPE_NUMBER;
        else if (json_is_boolean(v))
                rule.type = API_TYPE_BOOLEAN;
        return rule;
}

int access_bind_claim(const env_t *env, http_request_t *req, const char *path,
                      const api_rule_t *rule, MYSQL_BIND *b, char *why, size_t why_size)
{
        json_t *v = env->identity ? identity_claim(env->identity->claims, path) : NULL;
        char buf[64], reason[128];
        const char *text;
        size_t len;

        if (v == NULL || !claim_text(v, buf, sizeof(buf), &text, &len)) {
                snprintf(why, why_size, "the claim %s is %s", path,
                         v == NULL ? "missing" : "not a string, number or boolean");
                return -EINVAL;
        }
        api_rule_t typed = rule ? *rule : own_rule(v);
        int r = typed_value_parse(&typed, text, len, req->scope, b, reason, sizeof(reason));
        if (r == -EINVAL)
                snprintf(why, why_size, "the claim %s %s", path, reason);
        return r;
}

/* The claims a view's row condition binds, in its order; false once answered. */
static bool bind_rows(env_t *env, http_request_t *req, const api_resource_t *view)
{
        char why[256];

        env->row_binds = scope_alloc(req->scope, view->row_claim_count * sizeof(MYSQL_BIND));
        if (env->row_binds == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return false;
        }
        for (size_t i = 0; i < view->row_claim_count; i++) {
                int r = access_bind_claim(env, req, view->row_claims[i], NULL, &env->row_binds[i],
                                          why, sizeof(why));
                if (r == -EINVAL) {
                        /* The token is valid but cannot carry this caller's rules. */
                        http_add_header(req, "WWW-Authenticate",
                                        "Bearer realm=\"queryd\", error=\"invalid_token\"");
                        http_fail(req, 401, "unauthorized", "%s", why);
                        return false;
                }
                if (r < 0) {
                        http_fail(req, 500, "internal", "out of memory");
                        return false;
                }
        }
        return true;
}

/* The access rules of the entry a route serves, or false for a built-in route. */
static bool entry_access(const api_t *api, const void *target, const api_access_t **ret,
                         size_t *ret_count)
{
        for (size_t i = 0; i < api->resource_count; i++)
                if (target == &api->resources[i]) {
                        *ret = api->resources[i].access;
                        *ret_count = api->resources[i].access_count;
                        return true;
                }
        for (size_t i = 0; i < api->query_count; i++)
                if (target == &api->queries[i]) {
                        *ret = api->queries[i].access;
                        *ret_count = api->queries[i].access_count;
                        return true;
                }
        return false;
}

static bool is_anonymous(const api_auth_t *auth, const identity_t *id)
{
        return id->role == NULL ||
               (auth->anonymous_role != NULL && strcmp(id->role, auth->anonymous_role) == 0);
}

/* 401 for a caller who sent nothing (credentials might help), 403 otherwise. */
static void deny(http_request_t *req, const identity_t *id)
{
        if (id->anonymous)
                auth_challenge(req, "this needs credentials: a bearer token or an API key");
        else
                http_fail(req, 403, "forbidden", "the role %s may not use this", id->role);
}

/* Once one role names a MariaDB role, every other runs under none ("", SET
 * ROLE NONE), never under a role a previous request left on the connection;
 * without any, sessions keep the account's own role (NULL). */
static const char *db_role_of(const api_auth_t *auth, const identity_t *id)
{
        if (id->settings != NULL && id->settings->db_role != NULL)
                return id->settings->db_role;
        return auth->uses_db_roles ? "" : NULL;
}

/* The role's rate, per identity: its subject, else its address. */
static bool within_rate(env_t *env, http_request_t *req, const identity_t *id)
{
        const api_role_t *role = id->settings;
        char who[512], address[64];
        rate_verdict_t verdict;

        if (role == NULL || !role->has_rate)
                return true;
        snprintf(who, sizeof(who), "%s\n%s", role->name,
                 id->subject ? id->subject : http_client_address(req, address, sizeof(address)));
        rate_limiter_take(env->shared->limiter, who,
                          &(rate_limit_t){ role->per_second, role->burst },
                          uv_hrtime() / 1000000, &verdict);
        if (!verdict.allowed) {
                answer_rate_limited(req, &verdict);
                return false;
        }
        answer_rate_headers(req, &verdict);
        return true;
}

/* The verified tokens a request may use and add to: none for a request
 * still on a replaced api, whose keys and checks may no longer hold. */
static token_cache_t *tokens_for(const env_t *env)
{
        return env->api == env->shared->tokens_api ? env->shared->tokens : NULL;
}

bool access_admit(env_t *env, http_request_t *req, route_match_t *match)
{
        const api_auth_t *auth = env->api->auth;
        const api_access_t *access;
        size_t access_count;

        if (auth == NULL)
                return true;
        req->vary_credentials = true; /* who asks decides what is answered */
        const identity_t *id = auth_identify(env->api, tokens_for(env), req);
        if (id == NULL)
                return false;
        env->identity = id;
        env->db_role = db_role_of(auth, id);
        req->role = id->role;
        req->subject = id->subject;
        if (match->route == NULL || !entry_access(env->api, match->route->target, &access,
                                                  &access_count))
                return true; /* built-in routes: /openapi.json shows each role its own */
        const api_access_t *rule = id->role ? api_access_for(access, access_count, id->role)
                                            : NULL;
        if (access != NULL ? rule == NULL : is_anonymous(auth, id)) {
                deny(req, id);
                return false;
        }
        if (rule != NULL && !(api_method_bit(req->method) & rule->methods)) {
                http_fail(req, 403, "forbidden", "the role %s may not use %s here", id->role,
                          req->method);
                return false;
        }
        if (!within_rate(env, req, id))
                return false;
        if (rule != NULL && rule->view != NULL) {
                match->target = rule->view;
                return bind_rows(env, req, rule->view);
        }
        return true;
}
