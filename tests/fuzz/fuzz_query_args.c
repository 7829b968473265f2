/*
 * libFuzzer harness for request parameter handling (query_args.h): in-place
 * percent-decoding, strict 64-bit integers, and the unknown/repeated-name
 * check over a query string split the way the server sees it. Every result is
 * compared with a small reference written from the header's contract; a
 * broken invariant aborts so libFuzzer saves the input.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/query_args.h"

/* The server stops collecting arguments long before this. */
enum { MAX_ARGS = 64 };

/* The allowed lists the routes really use: GET /users and everything else. */
static const char *const users_allowed[] = { "limit", "after", "offset", NULL };
static const char *const none_allowed[] = { NULL };

/* Reference decoder: "%XY" with two hex digits becomes one byte, except "%00",
 * which becomes the overlong NUL C0 80; everything else is copied as it is. */
static size_t reference_unescape(const char *in, char *out)
{
        size_t n = 0;

        for (size_t i = 0; in[i] != '\0'; i++) {
                if (in[i] == '%' && in[i + 1] == '0' && in[i + 2] == '0') {
                        out[n++] = (char)0xC0;
                        out[n++] = (char)0x80;
                        i += 2;
                } else if (in[i] == '%' && isxdigit((unsigned char)in[i + 1]) &&
                           isxdigit((unsigned char)in[i + 2])) {
                        char hex[3] = { in[i + 1], in[i + 2], '\0' };
                        out[n++] = (char)strtol(hex, NULL, 16);
                        i += 2;
                } else {
                        out[n++] = in[i];
                }
        }
        out[n] = '\0';
        return n;
}

static void check_unescape(const char *input)
{
        size_t input_len = strlen(input);
        char *text = strdup(input);
        char *expected = malloc(input_len + 1);

        if (text == NULL || expected == NULL)
                abort();
        size_t len = query_args_unescape(text);
        size_t expected_len = reference_unescape(input, expected);
        CHECK(len <= input_len, "decoded length %zu > input length %zu", len, input_len);
        CHECK(text[len] == '\0', "decoded text not terminated at its length %zu", len);
        CHECK(strlen(text) == len, "a decoded NUL cuts the text: strlen %zu, length %zu",
              strlen(text), len);
        CHECK(len == expected_len && memcmp(text, expected, len) == 0,
              "decoded \"%s\" (%zu bytes), reference \"%s\" (%zu bytes)", text, len, expected,
              expected_len);
        free(expected);
        free(text);
}

/* Reference for query_args_parse_int64: an optional '-' then at least one
 * digit and nothing else; accepted exactly when strtoll takes it in range.
 * Longer than 20 characters (the length of INT64_MIN) may be refused, since
 * only leading zeros could make such a text fit. */
static void check_parse_int64(const char *text, size_t len)
{
        size_t start = len > 0 && text[0] == '-' ? 1 : 0;
        bool well_formed = len > start;
        long long value = 0;

        for (size_t i = start; i < len && well_formed; i++)
                well_formed = text[i] >= '0' && text[i] <= '9';

        bool accepted = query_args_parse_int64(text, len, &value);
        if (!well_formed) {
                CHECK(!accepted, "accepted malformed \"%.*s\" as %lld", (int)len, text, value);
                return;
        }
        char *copy = malloc(len + 1);
        if (copy == NULL)
                abort();
        memcpy(copy, text, len);
        copy[len] = '\0';
        errno = 0;
        char *end;
        long long expected = strtoll(copy, &end, 10);
        bool in_range = errno != ERANGE;
        CHECK(*end == '\0', "reference strtoll stopped early in \"%s\"", copy);
        if (accepted)
                CHECK(in_range && value == expected, "\"%s\" parsed as %lld, strtoll says %lld%s",
                      copy, value, expected, in_range ? "" : " (out of range)");
        else
                CHECK(!in_range || len > 20, "refused \"%s\", which is %lld", copy, expected);
        free(copy);
}

/* Splits a query string like MHD: '&' separates arguments, the first '='
 * separates name from value (no '=' means no value); both are unescaped. */
static size_t split_query(char *query, query_arg_t *args)
{
        size_t count = 0;
        char *next = query;

        while (next != NULL && count < MAX_ARGS) {
                char *arg = next;
                next = strchr(arg, '&');
                if (next != NULL)
                        *next++ = '\0';
                char *eq = strchr(arg, '=');
                if (eq != NULL) {
                        *eq++ = '\0';
                        query_args_unescape(eq);
                }
                query_args_unescape(arg);
                args[count].name = arg;
                args[count].value = eq;
                count++;
        }
        return count;
}

static bool is_allowed(const char *name, const char *const *allowed)
{
        for (; *allowed != NULL; allowed++)
                if (strcmp(name, *allowed) == 0)
                        return true;
        return false;
}

static size_t count_named(const query_arg_t *args, size_t count, const char *name)
{
        size_t n = 0;

        for (size_t i = 0; i < count; i++)
                n += strcmp(args[i].name, name) == 0;
        return n;
}

static void check_args(const query_arg_t *args, size_t count, const char *const *allowed)
{
        bool any_offender = false;
        bool repeated = true;

        for (size_t i = 0; i < count; i++)
                any_offender |= !is_allowed(args[i].name, allowed) ||
                                count_named(args, count, args[i].name) > 1;

        const char *bad = query_args_check(args, count, allowed, &repeated);
        if (bad == NULL) {
                CHECK(!any_offender, "check passed a query with an unknown or repeated name");
                CHECK(!repeated, "no offender, yet *ret_repeated is true");
        } else {
                bool from_args = false;
                for (size_t i = 0; i < count; i++)
                        from_args |= bad == args[i].name;
                CHECK(from_args, "the offending name \"%s\" is not one of the arguments", bad);
                if (repeated)
                        CHECK(count_named(args, count, bad) > 1, "\"%s\" reported repeated", bad);
                else
                        CHECK(!is_allowed(bad, allowed), "\"%s\" reported unknown", bad);
        }

        /* query_args_get: the value of an argument of that name, the only one
         * when the check passed; NULL when there is none. */
        const char *names[MAX_ARGS + 3] = { "limit", "after", "offset" };
        size_t name_count = 3;
        for (size_t i = 0; i < count; i++)
                names[name_count++] = args[i].name;
        for (size_t k = 0; k < name_count; k++) {
                const char *value = query_args_get(args, count, names[k]);
                bool found = false, value_of_match = false;
                for (size_t i = 0; i < count; i++) {
                        if (strcmp(args[i].name, names[k]) != 0)
                                continue;
                        if (!found && bad == NULL)
                                CHECK(value == args[i].value, "get(\"%s\") is not its value",
                                      names[k]);
                        found = true;
                        value_of_match |= value == args[i].value;
                }
                if (!found)
                        CHECK(value == NULL, "get(\"%s\") found a value for an absent name",
                              names[k]);
                else
                        CHECK(value_of_match, "get(\"%s\") is no value of that name", names[k]);
                /* As GET /users reads limit, after and offset. */
                if (k < 3 && value != NULL)
                        check_parse_int64(value, strlen(value));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The raw bytes, not NUL-terminated, so reads past len are caught. */
        check_parse_int64((const char *)data, size);

        char *text = fuzz_copy_text(data, size);
        check_unescape(text);

        query_arg_t args[MAX_ARGS];
        size_t count = split_query(text, args);
        check_args(args, count, users_allowed);
        check_args(args, count, none_allowed);
        free(text);
        return 0;
}
