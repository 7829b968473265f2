/* The harnesses' one assertion: a broken invariant is printed and abort()ed,
 * which libFuzzer reports as a crash with the input that caused it. */
#ifndef QUERYD_FUZZ_CHECK_H
#define QUERYD_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                                     \
        do {                                                                                 \
                if (!(cond)) {                                                               \
                        fprintf(stderr, "invariant broken: %s\n  ", #cond);                 \
                        fprintf(stderr, __VA_ARGS__);                                        \
                        fputc('\n', stderr);                                                 \
                        abort();                                                             \
                }                                                                            \
        } while (0)

#endif
