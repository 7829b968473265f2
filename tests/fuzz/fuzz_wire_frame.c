/*
 * libFuzzer harness for the request framer (wire_frame.h), fed the way the
 * wire gate feeds it: into a buffer of WIRE_HEAD_MAX bytes, in pieces whose
 * size the first input byte picks, keeping only what was not yet ready.
 * Invariants: the ready count never passes the buffer; a buffer that stays
 * full is always refused (the gate would wait forever otherwise); the bytes
 * passed on do not depend on how the input was cut; and what was passed on
 * frames again, unchanged, as the same number of requests.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/wire_frame.h"

typedef struct fed {
        char *passed;      /* every ready byte, in order */
        size_t passed_len;
        unsigned requests;
        int result;        /* 0, or -EPROTO at the first refusal */
} fed_t;

static void feed(const uint8_t *data, size_t size, size_t piece, fed_t *out)
{
        char *buf = malloc(WIRE_HEAD_MAX);
        size_t len = 0, at = 0;
        wire_frame_t f;

        CHECK(buf != NULL, "out of memory");
        out->passed = malloc(size + 1);
        CHECK(out->passed != NULL, "out of memory");
        out->passed_len = 0;
        out->result = 0;
        wire_frame_init(&f);
        while (at < size) {
                size_t n = size - at < piece ? size - at : piece;
                if (n > WIRE_HEAD_MAX - len)
                        n = WIRE_HEAD_MAX - len;
                memcpy(buf + len, data + at, n);
                at += n;
                len += n;
                size_t before = len, ready;
                int r = wire_frame_scan(&f, buf, &len, &ready);
                CHECK(len <= before && ready <= len, "ready %zu, len %zu of %zu", ready, len, before);
                memcpy(out->passed + out->passed_len, buf, ready);
                out->passed_len += ready;
                if (r < 0) {
                        CHECK(r == -EPROTO && f.refusal.status >= 400 && f.refusal.slug != NULL,
                              "refusal %d, status %u", r, f.refusal.status);
                        out->result = r;
                        break;
                }
                memmove(buf, buf + ready, len - ready);
                len -= ready;
                CHECK(len < WIRE_HEAD_MAX, "a full buffer was not refused");
        }
        out->requests = f.requests;
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t piece = 1 + data[0] % 64;
        fed_t whole, cut, again;

        feed(data + 1, size - 1, size, &whole);
        feed(data + 1, size - 1, piece, &cut);
        /* Short inputs never meet a limit, so the cut cannot matter. */
        if (size < 4096 && whole.result == 0 && cut.result == 0) {
                CHECK(whole.requests == cut.requests, "%u requests whole, %u cut", whole.requests,
                      cut.requests);
                CHECK(whole.passed_len == cut.passed_len &&
                      memcmp(whole.passed, cut.passed, whole.passed_len) == 0,
                      "the bytes passed on depend on the cut");
        }
        feed((const uint8_t *)whole.passed, whole.passed_len, whole.passed_len + 1, &again);
        CHECK(again.result == 0 && again.passed_len == whole.passed_len &&
              memcmp(again.passed, whole.passed, whole.passed_len) == 0,
              "what was passed on does not frame again unchanged");
        CHECK(again.requests == whole.requests,
              "%u requests framed again, %u first", again.requests, whole.requests);
        free(whole.passed);
        free(cut.passed);
        free(again.passed);
        return 0;
}
