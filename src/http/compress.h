/*
 * Answer compression with zstd (libzstd) and gzip (zlib): a whole body at
 * once, or a stream compressed piece by piece with bounded memory.
 */
#ifndef QUERYD_COMPRESS_H
#define QUERYD_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum compress_coding {
        COMPRESS_ZSTD,
        COMPRESS_GZIP,
} compress_coding_t;

/** What compress_stream_run is to do with its input. */
typedef enum compress_mode {
        COMPRESS_MORE,  /* more input follows: output only what is ready */
        COMPRESS_FLUSH, /* emit everything taken so far, decodable as it is */
        COMPRESS_END,   /* the input is complete: finish the stream */
} compress_mode_t;

/**
 * The coding called name ("zstd" or "gzip", as in Content-Encoding); returns
 * 0, or -EINVAL for a name it does not know.
 */
int compress_coding_of(const char *name, compress_coding_t *ret_coding);

/**
 * Compresses len bytes at in into a new malloc'd buffer (*ret_out, *ret_len,
 * the caller frees it). Returns 0, -ENOMEM, or -EIO when the library fails.
 */
int compress_buffer(compress_coding_t coding, int level, const char *in, size_t len,
                    char **ret_out, size_t *ret_len);

typedef struct compress_stream compress_stream_t;

/**
 * A stream compressor at level. Its memory is bounded whatever the length
 * of the stream (compress_stream_memory). Returns 0, -ENOMEM or -EIO.
 */
int compress_stream_new(compress_stream_t **ret_stream, compress_coding_t coding, int level);

/** Frees the stream; NULL is fine. */
void compress_stream_free(compress_stream_t *s);

/** The memory the stream's state holds now, in bytes (library state and windows). */
size_t compress_stream_memory(const compress_stream_t *s);

/**
 * Compresses from in (in_len bytes; *ret_used tells how many were taken)
 * into out (at most max bytes). Returns the bytes written, or -EIO. With
 * COMPRESS_FLUSH or COMPRESS_END, *ret_done turns true once all output of
 * that step has been written (call again with the rest of the input and
 * the same mode until it does); with COMPRESS_MORE it is set when all the
 * input was taken. After COMPRESS_END is done the stream takes no more.
 */
long compress_stream_run(compress_stream_t *s, const char *in, size_t in_len, size_t *ret_used,
                         char *out, size_t max, compress_mode_t mode, bool *ret_done);

#endif
