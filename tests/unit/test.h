/*
 * A tiny unit test framework: assertions that print file:line and both values
 * on failure and keep going, RUN_TEST() to run one test function (one that
 * makes no assertion fails), and test_report() to print the totals and give
 * main its exit status.
 * Every test executable includes this once, so the counters are file-static.
 */
#ifndef QUERYD_TEST_H
#define QUERYD_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int test_assertions_passed;
static int test_assertions_failed;
static int test_functions_run;
static int test_functions_failed;
static const char *test_current = "(none)";

static inline void test_pass(void)
{
        test_assertions_passed++;
}

static inline void test_fail_header(const char *file, int line)
{
        test_assertions_failed++;
        fprintf(stderr, "%s:%d: in %s: assertion failed: ", file, line, test_current);
}

/* Prints bytes so that control characters and non-ASCII bytes are visible. */
static inline void test_print_bytes(const void *bytes, size_t len)
{
        const unsigned char *s = bytes;

        if (bytes == NULL) {
                fputs("NULL", stderr);
                return;
        }
        fputc('"', stderr);
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '"' || s[i] == '\\')
                        fprintf(stderr, "\\%c", s[i]);
                else if (s[i] >= 0x20 && s[i] < 0x7f)
                        fputc(s[i], stderr);
                else
                        fprintf(stderr, "\\x%02x", s[i]);
        }
        fprintf(stderr, "\" (%zu bytes)", len);
}

static inline void test_check(bool ok, const char *file, int line, const char *text)
{
        if (ok) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "%s\n", text);
}

static inline void test_check_int(long long actual, long long expected, const char *file,
                                  int line, const char *actual_text, const char *expected_text)
{
        if (actual == expected) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "%s == %s: got %lld, expected %lld\n", actual_text, expected_text, actual,
                expected);
}

static inline void test_check_uint(unsigned long long actual, unsigned long long expected,
                                   const char *file, int line, const char *actual_text,
                                   const char *expected_text)
{
        if (actual == expected) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "%s == %s: got %llu, expected %llu\n", actual_text, expected_text, actual,
                expected);
}

static inline void test_check_mem(const void *actual, size_t actual_len, const void *expected,
                                  size_t expected_len, const char *file, int line,
                                  const char *actual_text, const char *expected_text)
{
        bool same = actual != NULL && expected != NULL && actual_len == expected_len &&
                    memcmp(actual, expected, actual_len) == 0;

        if (same || (actual == NULL && expected == NULL)) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "%s == %s:\n        got      ", actual_text, expected_text);
        test_print_bytes(actual, actual_len);
        fputs("\n        expected ", stderr);
        test_print_bytes(expected, expected_len);
        fputc('\n', stderr);
}

static inline void test_check_str(const char *actual, const char *expected, const char *file,
                                  int line, const char *actual_text, const char *expected_text)
{
        test_check_mem(actual, actual ? strlen(actual) : 0, expected,
                       expected ? strlen(expected) : 0, file, line, actual_text, expected_text);
}

/* Whether needle occurs in haystack; a NULL haystack contains nothing. */
static inline bool test_contains(const char *haystack, const char *needle)
{
        return haystack != NULL && strstr(haystack, needle) != NULL;
}

static inline void test_check_contains(const char *haystack, const char *needle, bool want,
                                       const char *file, int line, const char *haystack_text)
{
        if (test_contains(haystack, needle) == want) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "%s %s \"%s\": it is ", haystack_text,
                want ? "contains" : "does not contain", needle);
        test_print_bytes(haystack, haystack ? strlen(haystack) : 0);
        fputc('\n', stderr);
}

#define ASSERT_TRUE(cond) test_check((cond), __FILE__, __LINE__, #cond)
#define ASSERT_FALSE(cond) test_check(!(cond), __FILE__, __LINE__, "!(" #cond ")")
#define ASSERT_NULL(p) test_check((p) == NULL, __FILE__, __LINE__, #p " == NULL")
#define ASSERT_NOT_NULL(p) test_check((p) != NULL, __FILE__, __LINE__, #p " != NULL")
#define ASSERT_EQ_PTR(a, b) \
        test_check((const void *)(a) == (const void *)(b), __FILE__, __LINE__, #a " == " #b)
#define ASSERT_EQ_INT(a, b) \
        test_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define ASSERT_EQ_UINT(a, b)                                                                   \
        test_check_uint((unsigned long long)(a), (unsigned long long)(b), __FILE__, __LINE__, \
                        #a, #b)
#define ASSERT_EQ_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define ASSERT_EQ_MEM(a, alen, b, blen) \
        test_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a, #b)
#define ASSERT_CONTAINS(haystack, needle) \
        test_check_contains((haystack), (needle), true, __FILE__, __LINE__, #haystack)
#define ASSERT_NOT_CONTAINS(haystack, needle) \
        test_check_contains((haystack), (needle), false, __FILE__, __LINE__, #haystack)

static inline int test_assertions_made(void)
{
        return test_assertions_passed + test_assertions_failed;
}

/* Ends one test function started when made_before assertions had been made
 * and failed_before had failed.  A function that made no assertion fails:
 * a test that checks nothing would pass whatever the code does. */
static inline void test_finish(const char *name, int made_before, int failed_before)
{
        if (test_assertions_made() == made_before) {
                test_functions_failed++;
                fprintf(stderr, "FAIL %s: the test made no assertion\n", name);
        } else if (test_assertions_failed != failed_before) {
                test_functions_failed++;
                fprintf(stderr, "FAIL %s\n", name);
        } else {
                printf("ok   %s\n", name);
        }
        fflush(stdout);
        test_current = "(none)";
}

/* Runs one test function and says whether it failed: one of its assertions
 * failed, or it made none. */
#define RUN_TEST(fn)                                                                 \
        do {                                                                         \
                int made_before = test_assertions_made();                            \
                int failed_before = test_assertions_failed;                          \
                test_current = #fn;                                                  \
                test_functions_run++;                                                \
                fn();                                                                \
                test_finish(#fn, made_before, failed_before);                        \
        } while (0)

/* Prints the totals; the value for main to return (non-zero on any failure). */
static inline int test_report(void)
{
        printf("%d tests, %d failed\n", test_functions_run, test_functions_failed);
        printf("%d passed, %d failed\n", test_assertions_passed, test_assertions_failed);
        fflush(stdout);
        return test_assertions_failed != 0 || test_functions_failed != 0 ||
               test_functions_run == 0;
}

#endif
