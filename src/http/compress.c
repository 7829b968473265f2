/*
 * zstd and gzip behind one interface. Streams cap their window so a
 * connection's compressor holds a few hundred KiB at most, whatever the
 * level; whole bodies get a window fitted to their length.
 */
#include "http/compress.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/*
 * A zstd stream's memory grows with its window (held twice, as input and
 * block buffers) and its match tables: 64 KiB of history (rows repeat within
 * far less) and tables of 2^15 entries from level 3 up keep it near 730 KB
 * up to level 18 (1.2 MB at 19), where the defaults for an unknown length
 * take 1.25 MB at level 3. Level 1 and 2 keep their smaller tables.
 */
enum {
        ZSTD_STREAM_WINDOW_LOG = 16,
        ZSTD_STREAM_TABLE_LOG = 15,
        GZIP_WINDOW_BITS = 15,
        GZIP_MEM_LEVEL = 8,
};

struct compress_stream {
        compress_coding_t coding;
        ZSTD_CCtx *zstd;
        z_stream gzip;
        bool gzip_ready; /* deflateInit2 succeeded: deflateEnd is due */
        bool ended;
};

int compress_coding_of(const char *name, compress_coding_t *ret_coding)
{
        if (strcmp(name, "zstd") == 0)
                *ret_coding = COMPRESS_ZSTD;
        else if (strcmp(name, "gzip") == 0)
                *ret_coding = COMPRESS_GZIP;
        else
                return -EINVAL;
        return 0;
}

static int zstd_buffer(int level, const char *in, size_t len, char **ret_out, size_t *ret_len)
{
        size_t bound = ZSTD_compressBound(len);
        char *out = malloc(bound);

        if (out == NULL)
                return -ENOMEM;
        /* The length is known, so the library sizes its window and tables to it. */
        size_t n = ZSTD_compress(out, bound, in, len, level);
        if (ZSTD_isError(n)) {
                free(out);
                return ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
        }
        *ret_out = out;
        *ret_len = n;
        return 0;
}

/* The smallest deflate window (9 to 15 bits, +16 for the gzip wrapper) that spans len. */
static int window_bits_for(size_t len)
{
        int bits = 9;

        while (bits < GZIP_WINDOW_BITS && ((size_t)1 << bits) < len)
                bits++;
        return bits + 16;
}

static int gzip_buffer(int level, const char *in, size_t len, char **ret_out, size_t *ret_len)
{
        z_stream z = { 0 };
        int r = deflateInit2(&z, level, Z_DEFLATED, window_bits_for(len), GZIP_MEM_LEVEL,
                             Z_DEFAULT_STRATEGY);

        if (r != Z_OK)
                return r == Z_MEM_ERROR ? -ENOMEM : -EIO;
        size_t bound = deflateBound(&z, (uLong)len);
        char *out = malloc(bound);
        if (out == NULL) {
                deflateEnd(&z);
                return -ENOMEM;
        }
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)bound;
        r = deflate(&z, Z_FINISH);
        deflateEnd(&z);
        if (r != Z_STREAM_END) {
                free(out);
                return -EIO;
        }
        *ret_out = out;
        *ret_len = bound - z.avail_out;
        return 0;
}

int compress_buffer(compress_coding_t coding, int level, const char *in, size_t len,
                    char **ret_out, size_t *ret_len)
{
        if (coding == COMPRESS_GZIP && len > UINT32_MAX)
                return -EIO; /* one deflate call takes at most 4 GiB */
        if (coding == COMPRESS_ZSTD)
                return zstd_buffer(level, in, len, ret_out, ret_len);
        return gzip_buffer(level, in, len, ret_out, ret_len);
}

static bool zstd_set(ZSTD_CCtx *c, ZSTD_cParameter parameter, int value)
{
        return !ZSTD_isError(ZSTD_CCtx_setParameter(c, parameter, value));
}

static int zstd_stream_init(compress_stream_t *s, int level)
{
        s->zstd = ZSTD_createCCtx();
        if (s->zstd == NULL)
                return -ENOMEM;
        if (!zstd_set(s->zstd, ZSTD_c_compressionLevel, level) ||
            !zstd_set(s->zstd, ZSTD_c_windowLog, ZSTD_STREAM_WINDOW_LOG))
                return -EIO;
        if (level >= 3 && (!zstd_set(s->zstd, ZSTD_c_hashLog, ZSTD_STREAM_TABLE_LOG) ||
                           !zstd_set(s->zstd, ZSTD_c_chainLog, ZSTD_STREAM_TABLE_LOG)))
                return -EIO;
        return 0;
}

int compress_stream_new(compress_stream_t **ret_stream, compress_coding_t coding, int level)
{
        compress_stream_t *s = calloc(1, sizeof(*s));
        int r = 0;

        if (s == NULL)
                return -ENOMEM;
        s->coding = coding;
        if (coding == COMPRESS_ZSTD) {
                r = zstd_stream_init(s, level);
        } else {
                int z = deflateInit2(&s->gzip, level, Z_DEFLATED, GZIP_WINDOW_BITS + 16,
                                     GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY);
                s->gzip_ready = z == Z_OK;
                r = z == Z_OK ? 0 : z == Z_MEM_ERROR ? -ENOMEM : -EIO;
        }
        if (r < 0) {
                compress_stream_free(s);
                return r;
        }
        *ret_stream = s;
        return 0;
}

void compress_stream_free(compress_stream_t *s)
{
        if (s == NULL)
                return;
        ZSTD_freeCCtx(s->zstd);
        if (s->gzip_ready)
                deflateEnd(&s->gzip);
        free(s);
}

size_t compress_stream_memory(const compress_stream_t *s)
{
        if (s->coding == COMPRESS_ZSTD)
                return ZSTD_sizeof_CCtx(s->zstd);
        /* zlib's own figure (zconf.h): the window twice over, plus its hash chains. */
        return ((size_t)1 << (GZIP_WINDOW_BITS + 2)) + ((size_t)1 << (GZIP_MEM_LEVEL + 9)) +
               sizeof(z_stream);
}

static long zstd_run(compress_stream_t *s, const char *in, size_t in_len, size_t *ret_used,
                     char *out, size_t max, compress_mode_t mode, bool *ret_done)
{
        static const ZSTD_EndDirective directive[] = {
                [COMPRESS_MORE] = ZSTD_e_continue,
                [COMPRESS_FLUSH] = ZSTD_e_flush,
                [COMPRESS_END] = ZSTD_e_end,
        };
        ZSTD_inBuffer input = { in, in_len, 0 };
        ZSTD_outBuffer output = { out, max, 0 };
        size_t left = ZSTD_compressStream2(s->zstd, &output, &input, directive[mode]);

        if (ZSTD_isError(left))
                return -EIO;
        *ret_used = input.pos;
        *ret_done = mode == COMPRESS_MORE ? input.pos == in_len
                                          : left == 0 && input.pos == in_len;
        return (long)output.pos;
}

static long gzip_run(compress_stream_t *s, const char *in, size_t in_len, size_t *ret_used,
                     char *out, size_t max, compress_mode_t mode, bool *ret_done)
{
        static const int flush[] = {
                [COMPRESS_MORE] = Z_NO_FLUSH,
                [COMPRESS_FLUSH] = Z_SYNC_FLUSH,
                [COMPRESS_END] = Z_FINISH,
        };
        z_stream *z = &s->gzip;
        uInt in_avail = in_len > UINT32_MAX ? UINT32_MAX : (uInt)in_len;
        uInt out_avail = max > UINT32_MAX ? UINT32_MAX : (uInt)max;

        z->next_in = (Bytef *)in;
        z->avail_in = in_avail;
        z->next_out = (Bytef *)out;
        z->avail_out = out_avail;
        int r = deflate(z, flush[mode]);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                return -EIO;
        *ret_used = in_avail - z->avail_in;
        if (mode == COMPRESS_END)
                *ret_done = r == Z_STREAM_END;
        else if (mode == COMPRESS_FLUSH) /* a sync flush is whole when output space is left */
                *ret_done = z->avail_in == 0 && z->avail_out > 0;
        else
                *ret_done = z->avail_in == 0;
        return (long)(out_avail - z->avail_out);
}

long compress_stream_run(compress_stream_t *s, const char *in, size_t in_len, size_t *ret_used,
                         char *out, size_t max, compress_mode_t mode, bool *ret_done)
{
        long n;

        *ret_used = 0;
        *ret_done = false;
        if (s->ended) {
                *ret_done = true;
                return 0;
        }
        if (s->coding == COMPRESS_ZSTD)
                n = zstd_run(s, in, in_len, ret_used, out, max, mode, ret_done);
        else
                n = gzip_run(s, in, in_len, ret_used, out, max, mode, ret_done);
        if (n >= 0 && mode == COMPRESS_END && *ret_done)
                s->ended = true;
        return n;
}
