/* The harnesses' one assertion: a broken invariant is printed and abort()ed,
 * which libFuzzer reports as a crash with the input that caused it. */
#ifndef QUERYD_FUZZ_CHECK_H
#define QUERYD_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                                                     \
        do {                                                                                 \
                if (!(cond)) {                                                               \
                        fprintf(stderr, "invariant broken: %s\n  ", #cond);                 \
                        fprintf(stderr, __VA_ARGS__);                                        \
                        fputc('\n', stderr);                                                 \
                        abort();                                                             \
                }                                                                            \
        } while (0)

/* A NUL-terminated heap copy of n bytes (read as a string, it ends at the
 * first NUL they hold); the harness frees it. */
static inline char *fuzz_copy_text(const void *bytes, size_t n)
{
        char *text = malloc(n + 1);

        if (text == NULL)
                abort();
        memcpy(text, bytes, n);
        text[n] = '\0';
        return text;
}

#endif
