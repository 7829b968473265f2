/*
 * The shorthand the configuration tests write JSON in: ' for " (and ^ for
 * a real '), to stay readable; and the checks of what parsing it gives.
 */
#ifndef QUERYD_TEST_CONFIG_SHORTHAND_H
#define QUERYD_TEST_CONFIG_SHORTHAND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "test.h"

#define SOURCE "t.json"

/* ' becomes ", ^ becomes ': the tests' shorthand. */
static char *unquote(const char *text)
{
        char *out = strdup(text);

        for (char *p = out; *p != '\0'; p++)
                *p = *p == '\'' ? '"' : *p == '^' ? '\'' : *p;
        return out;
}

static api_t *parse(const char *shorthand, char *err, size_t err_size)
{
        char *json = unquote(shorthand);
        api_t *api = api_config_parse(json, strlen(json), SOURCE, err, err_size);

        free(json);
        return api;
}

static __attribute__((unused)) api_t *parse_ok(const char *shorthand)
{
        char err[512] = "";
        api_t *api = parse(shorthand, err, sizeof(err));

        ASSERT_NOT_NULL(api);
        if (api == NULL)
                fprintf(stderr, "        unexpected error: %s\n", err);
        return api;
}

/* The whole message, in the shorthand too. */
static __attribute__((unused)) void expect_error_at(const char *shorthand, const char *message, const char *file,
                            int line)
{
        char err[512] = "";
        char *expected = unquote(message);
        api_t *api = parse(shorthand, err, sizeof(err));

        if (api != NULL || strcmp(err, expected) != 0)
                fprintf(stderr, "%s:%d: for this configuration:\n", file, line);
        ASSERT_NULL(api);
        ASSERT_EQ_STR(err, expected);
        api_free(api);
        free(expected);
}

#define expect_error(shorthand, message) expect_error_at(shorthand, message, __FILE__, __LINE__)

/* An error whose end comes from another module (a typed value's reason). */
static __attribute__((unused)) void expect_error_starting(const char *shorthand, const char *start)
{
        char err[512] = "";
        char *expected = unquote(start);
        api_t *api = parse(shorthand, err, sizeof(err));

        ASSERT_NULL(api);
        ASSERT_EQ_MEM(err, strlen(expected) < strlen(err) ? strlen(expected) : strlen(err),
                      expected, strlen(expected));
        ASSERT_TRUE(strlen(err) > strlen(expected));
        api_free(api);
        free(expected);
}

#endif
