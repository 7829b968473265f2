/*
 * Unit tests for the compressors: whole bodies and streams decode (with the
 * libraries' own decoders) to exactly what went in; a flushed stream is
 * decodable up to the flush; output space of a few bytes still gets every
 * byte out; a stream's memory stays bounded however much passes through.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "http/compress.h"
#include "test.h"

enum { INPUT_BYTES = 3 * 1024 * 1024 + 17 };

/* Rows-like text: repetitive, but not only one byte repeated. */
static char *make_input(size_t len)
{
        char *p = malloc(len);

        for (size_t i = 0; i < len; i++)
                p[i] = (char)("{\"id\":,\"name\":\"row\"}\n"[i % 22] + (i / 4096) % 3);
        return p;
}

/* Decodes a whole gzip or zstd text; returns the decoded length, or -1. */
static long decode(compress_coding_t coding, const char *in, size_t len, char *out,
                   size_t max, bool partial)
{
        if (coding == COMPRESS_ZSTD) {
                ZSTD_DCtx *d = ZSTD_createDCtx();
                ZSTD_inBuffer i = { in, len, 0 };
                ZSTD_outBuffer o = { out, max, 0 };
                size_t r = 0;
                while (i.pos < i.size && !ZSTD_isError(r))
                        r = ZSTD_decompressStream(d, &o, &i);
                ZSTD_freeDCtx(d);
                return ZSTD_isError(r) || (!partial && r != 0) ? -1 : (long)o.pos;
        }
        z_stream z = { 0 };
        if (inflateInit2(&z, 31) != Z_OK)
                return -1;
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)max;
        int r = inflate(&z, partial ? Z_SYNC_FLUSH : Z_FINISH);
        long n = (long)(max - z.avail_out);
        inflateEnd(&z);
        return r == Z_STREAM_END || (partial && r == Z_OK) ? n : -1;
}

static void round_trip_buffer(compress_coding_t coding, int level)
{
        char *in = make_input(INPUT_BYTES), *out, *back = malloc(INPUT_BYTES);
        size_t len;

        ASSERT_EQ_INT(compress_buffer(coding, level, in, INPUT_BYTES, &out, &len), 0);
        ASSERT_TRUE(len < INPUT_BYTES / 10);
        ASSERT_EQ_INT(decode(coding, out, len, back, INPUT_BYTES, false), INPUT_BYTES);
        ASSERT_TRUE(memcmp(in, back, INPUT_BYTES) == 0);
        free(out);
        ASSERT_EQ_INT(compress_buffer(coding, level, "", 0, &out, &len), 0);
        ASSERT_EQ_INT(decode(coding, out, len, back, 16, false), 0);
        free(out);
        free(in);
        free(back);
}

static void test_buffers(void)
{
        round_trip_buffer(COMPRESS_ZSTD, 3);
        round_trip_buffer(COMPRESS_ZSTD, 19);
        round_trip_buffer(COMPRESS_GZIP, 1);
        round_trip_buffer(COMPRESS_GZIP, 6);
}

/* Runs one step to its end into out, max_out bytes per call. */
static size_t run_step(compress_stream_t *s, const char *in, size_t len, char *out,
                       size_t max_out, compress_mode_t mode)
{
        size_t written = 0, used;
        bool done = false;
        int calls = 0;

        while (!done && calls++ < 10000000) {
                long n = compress_stream_run(s, in, len, &used, out + written, max_out, mode,
                                             &done);
                ASSERT_TRUE(n >= 0);
                if (n < 0)
                        break;
                written += (size_t)n;
                in += used;
                len -= used;
        }
        ASSERT_TRUE(done);
        return written;
}

static void round_trip_stream(compress_coding_t coding, int level, size_t max_out)
{
        char *in = make_input(INPUT_BYTES), *out = malloc(INPUT_BYTES), *back = malloc(INPUT_BYTES);
        compress_stream_t *s;
        size_t written = 0, taken = 0;

        ASSERT_EQ_INT(compress_stream_new(&s, coding, level), 0);
        for (size_t piece = 1000; taken < INPUT_BYTES; piece = piece * 3 + 1) {
                size_t n = piece < INPUT_BYTES - taken ? piece : INPUT_BYTES - taken;
                written += run_step(s, in + taken, n, out + written, max_out, COMPRESS_MORE);
                taken += n;
                /* Every few pieces, as a stream batch ends: all so far decodes. */
                if (piece % 2 == 0) {
                        written += run_step(s, NULL, 0, out + written, max_out, COMPRESS_FLUSH);
                        ASSERT_EQ_INT(decode(coding, out, written, back, INPUT_BYTES, true),
                                      (long)taken);
                }
        }
        /* The bounds README states: about 730 KB for zstd below level 19, 262 KB for gzip. */
        ASSERT_TRUE(compress_stream_memory(s) < (coding == COMPRESS_ZSTD ? 760000 : 270000));
        written += run_step(s, NULL, 0, out + written, max_out, COMPRESS_END);
        ASSERT_TRUE(written < INPUT_BYTES / 8);
        ASSERT_EQ_INT(decode(coding, out, written, back, INPUT_BYTES, false), INPUT_BYTES);
        ASSERT_TRUE(memcmp(in, back, INPUT_BYTES) == 0);
        /* Ended: it takes no more and writes nothing. */
        size_t used;
        bool done;
        ASSERT_EQ_INT(compress_stream_run(s, "x", 1, &used, out, 10, COMPRESS_MORE, &done), 0);
        ASSERT_TRUE(done);
        compress_stream_free(s);
        free(in);
        free(out);
        free(back);
}

static void test_streams(void)
{
        round_trip_stream(COMPRESS_ZSTD, 3, 32 * 1024);
        round_trip_stream(COMPRESS_GZIP, 6, 32 * 1024);
        /* Tiny output space: the compressors keep what does not fit. */
        round_trip_stream(COMPRESS_ZSTD, 1, 7);
        round_trip_stream(COMPRESS_GZIP, 1, 7);
}

static void test_names(void)
{
        compress_coding_t c;

        ASSERT_EQ_INT(compress_coding_of("zstd", &c), 0);
        ASSERT_TRUE(c == COMPRESS_ZSTD);
        ASSERT_EQ_INT(compress_coding_of("gzip", &c), 0);
        ASSERT_TRUE(c == COMPRESS_GZIP);
        ASSERT_TRUE(compress_coding_of("br", &c) < 0);
}

int main(void)
{
        RUN_TEST(test_names);
        RUN_TEST(test_buffers);
        RUN_TEST(test_streams);
        return test_report();
}
