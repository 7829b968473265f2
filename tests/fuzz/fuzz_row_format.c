/*
 * libFuzzer harness for Accept negotiation (row_format.h): any header text
 * is read without a crash, and the answer obeys what the header's contract
 * implies. A broken invariant aborts so libFuzzer saves the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "json/row_format.h"

static int negotiate(const char *accept)
{
        row_format_t f;

        if (row_format_negotiate(accept, &f) < 0)
                return -1;
        CHECK(f == ROW_FORMAT_JSON || f == ROW_FORMAT_NDJSON || f == ROW_FORMAT_CSV,
              "format %d for %s", (int)f, accept);
        return (int)f;
}

static bool blank(const char *s)
{
        return s[strspn(s, " \t")] == '\0';
}

/* Case-insensitive search. */
static bool mentions(const char *haystack, const char *needle)
{
        for (size_t n = strlen(needle); *haystack != '\0'; haystack++)
                if (strncasecmp(haystack, needle, n) == 0)
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *accept = fuzz_copy_text(data, size);
        int f = negotiate(accept);

        if (blank(accept))
                CHECK(f == ROW_FORMAT_JSON, "blank header gave %d", f);
        if (strchr(accept, '/') == NULL && !blank(accept))
                CHECK(f == -1, "no media range in '%s' gave %d", accept, f);
        static const char *const named[] = { "json", "x-ndjson", "csv" };
        if (f >= 0 && !blank(accept))
                CHECK(mentions(accept, named[f]) || mentions(accept, "/*"),
                      "'%s' chose %s without naming it or a wildcard", accept, named[f]);
        /* A range no format matches changes nothing. */
        size_t n = strlen(accept);
        char *longer = malloc(n + 32);
        if (longer == NULL)
                abort();
        memcpy(longer, accept, n);
        strcpy(longer + n, ",x-none/x-none;q=1");
        if (!blank(accept))
                CHECK(negotiate(longer) == f, "'%s' and '%s' differ", accept, longer);
        free(longer);
        free(accept);
        return 0;
}
