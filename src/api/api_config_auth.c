/* The "auth" section: how callers prove who they are (bearer tokens, API
 * keys), the role of a caller without credentials, and what each role
 * brings (a MariaDB role, a rate). Only shape is checked here: the token
 * keys are loaded by auth/ once the file is read. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_config_parse.h"

enum {
        LEEWAY_MAX_S = 3600,
        RATE_MAX = 1000000,
};

bool cfg_is_role_name(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > CFG_NAME_MAX_CHARS)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                        return false;
        return true;
}

/* An optional string member, copied; empty strings are refused. */
static int optional_string(const cfg_ctx_t *c, json_t *object, const char *key, char **ret)
{
        json_t *v = json_object_get(object, key);

        if (v == NULL)
                return 0;
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v))
                return cfg_fail(c, "\"%s\" must be a non-empty string", key);
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : cfg_nomem(c);
}

static int parse_jwt(const cfg_ctx_t *c, json_t *v, api_jwt_t *jwt)
{
        static const char *const keys[] = { "secret_env", "jwks_file",  "audience", "issuer",
                                            "role_claim", "leeway_s",   NULL };
        int r = json_is_object(v) ? cfg_check_keys(c, v, keys)
                                  : cfg_fail(c, "\"jwt\" must be an object");

        if (r == 0)
                r = optional_string(c, v, "secret_env", &jwt->secret_env);
        if (r == 0)
                r = optional_string(c, v, "jwks_file", &jwt->jwks_file);
        if (r == 0 && jwt->secret_env == NULL && jwt->jwks_file == NULL)
                r = cfg_fail(c, "\"jwt\" needs \"secret_env\" or \"jwks_file\" (or both)");
        if (r == 0)
                r = optional_string(c, v, "audience", &jwt->audience);
        if (r == 0)
                r = optional_string(c, v, "issuer", &jwt->issuer);
        if (r == 0)
                r = optional_string(c, v, "role_claim", &jwt->role_claim);
        if (r == 0 && jwt->role_claim == NULL && (jwt->role_claim = strdup("role")) == NULL)
                r = cfg_nomem(c);
        if (r == 0)
                r = cfg_get_unsigned(c, v, "leeway_s", 0, LEEWAY_MAX_S, 30, &jwt->leeway_s);
        return r;
}

static int hex_digit(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

static int parse_sha256(const cfg_ctx_t *c, json_t *v, unsigned char out[32])
{
        const char *hex = json_string_value(v);

        if (hex == NULL || json_string_length(v) != 64)
                return cfg_fail(c, "an API key's \"sha256\" must be 64 hexadecimal digits");
        for (size_t i = 0; i < 32; i++) {
                int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return cfg_fail(c, "an API key's \"sha256\" must be 64 hexadecimal digits");
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
}

static int parse_key(const cfg_ctx_t *c, json_t *v, api_key_t *key)
{
        static const char *const keys[] = { "sha256", "role", "claims", NULL };
        json_t *role = json_object_get(v, "role");
        json_t *claims = json_object_get(v, "claims");
        int r = json_is_object(v) ? cfg_check_keys(c, v, keys)
                                  : cfg_fail(c, "each of \"api_keys\" must be an object");

        if (r == 0)
                r = parse_sha256(c, json_object_get(v, "sha256"), key->sha256);
        if (r == 0 && (!json_is_string(role) || !cfg_is_role_name(json_string_value(role))))
                r = cfg_fail(c, "an API key's \"role\" must be a role name");
        if (r == 0 && claims != NULL && !json_is_object(claims))
                r = cfg_fail(c, "an API key's \"claims\" must be an object");
        if (r == 0 && (key->role = strdup(json_string_value(role))) == NULL)
                r = cfg_nomem(c);
        if (r == 0 && (key->claims = claims ? json_deep_copy(claims) : json_object()) == NULL)
                r = cfg_nomem(c);
        return r;
}

static int parse_keys(const cfg_ctx_t *c, json_t *v, api_auth_t *auth)
{
        if (!json_is_array(v))
                return cfg_fail(c, "\"api_keys\" must be an array");
        if (json_array_size(v) == 0)
                return 0;
        auth->keys = calloc(json_array_size(v), sizeof(*auth->keys));
        if (auth->keys == NULL)
                return cfg_nomem(c);
        for (size_t i = 0; i < json_array_size(v); i++) {
                int r = parse_key(c, json_array_get(v, i), &auth->keys[auth->key_count++]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (memcmp(auth->keys[j].sha256, auth->keys[i].sha256, 32) == 0)
                                return cfg_fail(c, "\"api_keys\" lists one key twice");
        }
        return 0;
}

static int rate_number(const cfg_ctx_t *c, json_t *rate, const char *key, double min,
                       double *ret)
{
        json_t *v = json_object_get(rate, key);

        if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > RATE_MAX)
                return cfg_fail(c, "\"rate\": \"%s\" must be a number from %g to %d", key, min,
                                RATE_MAX);
        *ret = json_number_value(v);
        return 0;
}

static int parse_rate(const cfg_ctx_t *c, json_t *rate, api_role_t *role)
{
        static const char *const keys[] = { "per_second", "burst", NULL };
        int r = json_is_object(rate) ? cfg_check_keys(c, rate, keys)
                                     : cfg_fail(c, "\"rate\" must be an object");

        if (r == 0)
                r = rate_number(c, rate, "per_second", 0.001, &role->per_second);
        if (r == 0)
                r = rate_number(c, rate, "burst", 1, &role->burst);
        role->has_rate = r == 0;
        return r;
}

static int parse_role(const cfg_ctx_t *c, const char *name, json_t *v, api_role_t *role)
{
        static const char *const keys[] = { "db_role", "rate", NULL };
        json_t *rate = json_object_get(v, "rate");
        int r = json_is_object(v) ? cfg_check_keys(c, v, keys)
                                  : cfg_fail(c, "\"roles\": each role must be an object");
        char b[CFG_SHOW_SIZE];

        if (r == 0 && !cfg_is_role_name(name))
                r = cfg_fail(c, "\"roles\": %s is not a role name", cfg_show(b, name));
        if (r == 0 && (role->name = strdup(name)) == NULL)
                r = cfg_nomem(c);
        if (r == 0)
                r = optional_string(c, v, "db_role", &role->db_role);
        if (r == 0 && role->db_role != NULL && !cfg_is_db_name(role->db_role))
                r = cfg_fail(c, "\"db_role\" must be a name of 1 to %d characters",
                             CFG_NAME_MAX_CHARS);
        if (r == 0 && rate != NULL)
                r = parse_rate(c, rate, role);
        return r;
}

static int parse_roles(const cfg_ctx_t *c, json_t *v, api_auth_t *auth)
{
        const char *name;
        json_t *role;

        if (!json_is_object(v))
                return cfg_fail(c, "\"roles\" must be an object");
        if (json_object_size(v) == 0)
                return 0;
        auth->roles = calloc(json_object_size(v), sizeof(*auth->roles));
        if (auth->roles == NULL)
                return cfg_nomem(c);
        json_object_foreach(v, name, role) {
                int r = parse_role(c, name, role, &auth->roles[auth->role_count++]);
                if (r < 0)
                        return r;
                auth->uses_db_roles |= auth->roles[auth->role_count - 1].db_role != NULL;
        }
        return 0;
}

static int parse_anonymous(const cfg_ctx_t *c, json_t *v, api_auth_t *auth)
{
        if (v == NULL)
                return 0;
        if (!json_is_string(v) || !cfg_is_role_name(json_string_value(v)))
                return cfg_fail(c, "\"anonymous_role\" must be a role name");
        auth->anonymous_role = strdup(json_string_value(v));
        return auth->anonymous_role ? 0 : cfg_nomem(c);
}

int cfg_parse_auth(cfg_ctx_t *c, json_t *v, api_auth_t *auth)
{
        static const char *const keys[] = { "jwt", "api_keys", "anonymous_role", "roles", NULL };
        json_t *jwt = json_object_get(v, "jwt");
        json_t *api_keys = json_object_get(v, "api_keys");
        json_t *roles = json_object_get(v, "roles");
        int r;

        c->section = "auth";
        c->index = SIZE_MAX;
        c->path = NULL;
        if (!json_is_object(v))
                return cfg_fail(c, "\"auth\" must be an object");
        if ((r = cfg_check_keys(c, v, keys)) < 0)
                return r;
        if (jwt != NULL && (auth->jwt = calloc(1, sizeof(*auth->jwt))) == NULL)
                return cfg_nomem(c);
        if (jwt != NULL && (r = parse_jwt(c, jwt, auth->jwt)) < 0)
                return r;
        if (api_keys != NULL && (r = parse_keys(c, api_keys, auth)) < 0)
                return r;
        if ((r = parse_anonymous(c, json_object_get(v, "anonymous_role"), auth)) < 0)
                return r;
        if (roles != NULL && (r = parse_roles(c, roles, auth)) < 0)
                return r;
        return 0;
}
