/*
 * A driver for checking jwt_verify against tokens minted elsewhere
 * (tests/integration/test_jwt_verify.py): reads one token per line from
 * stdin and prints, per line, "ok <claims as JSON>" or "refused <why>".
 *
 *   jwt_check [--secret-env NAME] [--jwks FILE] [--aud AUDIENCE] [--iss ISSUER]
 *             [--leeway SECONDS] [--now UNIX_TIME]
 *
 * The HMAC secret is read from the environment variable NAME, so it never
 * shows in a process listing. Keys that fail to load: "error <why>" on
 * stderr and exit status 2. Every accepted token also goes through a token
 * cache, which must hand the same claims back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/jwt.h"
#include "auth/token_cache.h"

typedef struct options {
        const char *secret_env;
        const char *jwks;
        jwt_expect_t expect;
        time_t now;
} options_t;

static int usage(void)
{
        fprintf(stderr, "usage: jwt_check [--secret-env NAME] [--jwks FILE] [--aud AUDIENCE] "
                        "[--iss ISSUER] [--leeway SECONDS] [--now UNIX_TIME] < tokens\n");
        return 2;
}

static int parse_options(int argc, char **argv, options_t *o)
{
        o->now = time(NULL);
        for (int i = 1; i < argc; i += 2) {
                const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
                if (value == NULL)
                        return -EINVAL;
                if (strcmp(name, "--secret-env") == 0)
                        o->secret_env = value;
                else if (strcmp(name, "--jwks") == 0)
                        o->jwks = value;
                else if (strcmp(name, "--aud") == 0)
                        o->expect.audience = value;
                else if (strcmp(name, "--iss") == 0)
                        o->expect.issuer = value;
                else if (strcmp(name, "--leeway") == 0)
                        o->expect.leeway_s = strtol(value, NULL, 10);
                else if (strcmp(name, "--now") == 0)
                        o->now = (time_t)strtoll(value, NULL, 10);
                else
                        return -EINVAL;
        }
        return 0;
}

/* Checks one token and prints the outcome; -1 when the cache misbehaves. */
static int check_token(const jwt_keys_t *keys, const options_t *o, token_cache_t *cache,
                       const char *token, size_t len)
{
        json_t *claims = NULL;
        time_t expires = 0;
        char why[256];

        if (jwt_verify(keys, &o->expect, token, len, o->now, &claims, &expires, why,
                       sizeof(why)) < 0) {
                printf("refused %s\n", why);
                return 0;
        }
        char *text = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
        printf("ok %s\n", text ? text : "(unprintable)");
        free(text);
        token_cache_put(cache, token, len, claims, expires, o->now);
        json_t *cached = token_cache_get(cache, token, len, o->now);
        int r = cached == NULL || json_equal(cached, claims) ? 0 : -1;
        if (r < 0)
                fprintf(stderr, "the cache gave other claims back\n");
        json_decref(claims);
        return r;
}

int main(int argc, char **argv)
{
        options_t o = { 0 };
        jwt_keys_t *keys = NULL;
        char err[512];

        if (parse_options(argc, argv, &o) < 0)
                return usage();
        const char *secret = o.secret_env ? getenv(o.secret_env) : NULL;
        if (o.secret_env != NULL && secret == NULL) {
                fprintf(stderr, "error the variable %s is not set\n", o.secret_env);
                return 2;
        }
        if (jwt_keys_new(&keys, (const unsigned char *)secret, secret ? strlen(secret) : 0,
                         o.jwks, err, sizeof(err)) < 0) {
                fprintf(stderr, "error %s\n", err);
                return 2;
        }
        token_cache_t *cache = token_cache_new(16, 60);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int status = cache != NULL ? 0 : 1;
        while (status == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
                if (n > 0 && line[n - 1] == '\n')
                        n--;
                status = check_token(keys, &o, cache, line, (size_t)n) < 0 ? 1 : 0;
                fflush(stdout);
        }
        free(line);
        token_cache_free(cache);
        jwt_keys_free(keys);
        return status;
}
