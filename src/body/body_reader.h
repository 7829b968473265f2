/*
 * Streaming readers of request bodies that carry rows to write: a JSON object
 * or array of objects, NDJSON, or CSV with a header. Bytes are taken in pieces
 * of any size, split anywhere, and each row is handed on as soon as it is
 * complete, so a reader holds at most one partial row whatever the body size.
 * Values keep their text exactly: a number is its token as written.
 */
#ifndef QUERYD_BODY_READER_H
#define QUERYD_BODY_READER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum body_format { BODY_FORMAT_JSON, BODY_FORMAT_NDJSON, BODY_FORMAT_CSV } body_format_t;

typedef enum body_value_kind {
        BODY_NULL,   /* JSON null; in CSV an unquoted empty field */
        BODY_TRUE,
        BODY_FALSE,
        BODY_NUMBER, /* a JSON number: its token text exactly as written (RFC 8259 grammar checked) */
        BODY_STRING, /* a JSON string, escapes decoded to UTF-8 (valid UTF-8 checked; \u0000 refused) */
        BODY_JSON,   /* a JSON object or array value: its text exactly as written, checked valid */
        BODY_TEXT,   /* a CSV field, quotes removed ("" -> "), as written otherwise; "" quoted is empty text */
} body_value_kind_t;

typedef struct body_field {
        const char *name; /* the key (decoded) or CSV header name; NUL-terminated */
        size_t name_len;
        body_value_kind_t kind;
        const char *text; /* NUMBER, STRING, JSON, TEXT: the value, NUL-terminated; else NULL */
        size_t len;
} body_field_t;

typedef struct body_row {
        unsigned long long index; /* 0 for the first row of the body */
        const body_field_t *fields;
        size_t field_count; /* in the order written */
} body_row_t;

/**
 * Takes each complete row; the row and everything it points to are valid
 * only during the call. Returns 0 to go on, or a negative value that stops
 * the reader and is returned by body_reader_feed/body_reader_finish.
 */
typedef int (*body_row_cb)(const body_row_t *row, void *data);

typedef struct body_reader body_reader_t;

/**
 * A reader for one body. max_row_bytes bounds one row's text (a JSON object
 * from '{' to '}'; an NDJSON line or a CSV record up to its LF, a CR before
 * it counted; also the CSV header); max_fields the keys of one row (and the
 * columns of a CSV header). NULL when out of memory.
 */
body_reader_t *body_reader_new(body_format_t format, size_t max_row_bytes, size_t max_fields);

/** Frees the reader and its buffers; NULL is fine. */
void body_reader_free(body_reader_t *reader);

/**
 * Parses the next len bytes, calling cb (before returning) for each row
 * completed by them. Returns 0; cb's negative value; -EINVAL for malformed
 * input; -E2BIG for a row over max_row_bytes or max_fields; -ENOMEM. After
 * an error every later call returns the same error and calls nothing.
 */
int body_reader_feed(body_reader_t *reader, const char *bytes, size_t len, body_row_cb cb,
                     void *data);

/**
 * The body ended: hands on a last NDJSON line or CSV record without a final
 * newline, and checks the body is complete. A JSON body cut short, a body
 * with nothing but whitespace (JSON, NDJSON), or a CSV body without a header
 * is -EINVAL. Returns as body_reader_feed does; call it once.
 */
int body_reader_finish(body_reader_t *reader, body_row_cb cb, void *data);

/**
 * After -EINVAL or -E2BIG: a short phrase for an error detail, without the
 * row's text ("expected ',' or '}' after a value", "duplicate key \"id\""),
 * owned by the reader; NULL while there is no error. Errors in a CSV header
 * are given as in row 0.
 */
const char *body_reader_error(const body_reader_t *reader);

/** The index of the row the error is in (the next row's, between rows). */
unsigned long long body_reader_error_row(const body_reader_t *reader);

/** JSON only: whether the body is a single object rather than an array (true once its first non-space byte was '{'). */
bool body_reader_single(const body_reader_t *reader);

/** Rows handed on so far. */
unsigned long long body_reader_rows(const body_reader_t *reader);

#endif
