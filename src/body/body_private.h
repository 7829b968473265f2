/*
 * What the body reader's files share: the reader itself, the row being
 * built, and the two per-format parsers of one complete row's text. The
 * reader (body_reader.c) finds where rows end; the parsers (json_rows.c,
 * csv_rows.c) see each row whole, so no parser state crosses a chunk.
 */
#ifndef QUERYD_BODY_PRIVATE_H
#define QUERYD_BODY_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body/body_reader.h"

/* How deep objects and arrays may nest inside one member value. */
#define BODY_MAX_DEPTH 64

/*
 * One field of the row being built. Names and values are kept as offsets
 * while the row is parsed, because the buffer they sit in may still move;
 * they become pointers just before the row is handed on.
 */
typedef struct body_slot {
        size_t name_at; /* into out (JSON) or header (CSV) */
        size_t name_len;
        size_t text_at; /* into out; SIZE_MAX when the kind has no text */
        size_t len;
        body_value_kind_t kind;
} body_slot_t;

struct body_reader {
        body_format_t format;
        size_t max_row_bytes;
        size_t max_fields;
        unsigned long long rows; /* handed on so far */

        int error; /* 0, or what every call returns from now on */
        unsigned long long error_row;
        char error_text[128];

        unsigned bom_seen; /* bytes of a leading BOM matched so far */
        bool bom_done;
        bool single;      /* JSON: the body is one object */
        bool any_content; /* JSON, NDJSON: a byte other than whitespace was seen */

        /* The partial row: its bytes so far, copied once from the chunks. */
        char *partial;
        size_t partial_len;
        size_t partial_cap;

        /* JSON: where the top level is, and the scanner of the current row. */
        int top;
        size_t depth;
        bool in_string;
        bool escaped;

        /* CSV: the scanner's state, the header, a blank line held back. */
        int csv_state;
        bool have_header;
        bool blank_pending;
        char *header; /* the names, each NUL-terminated */
        size_t header_len;
        body_slot_t *columns;
        size_t column_count;

        /* The row being built. */
        body_slot_t *slots;
        size_t slot_count;
        size_t slot_cap;
        body_field_t *fields;
        size_t field_cap;
        char *out;
        size_t out_len;
        size_t out_cap;
        uint32_t *names; /* a hash set of slot indexes + 1, to find repeated keys */
        size_t names_cap;
};

/** Records an error (errors in a row name it by r->rows) and returns err. */
int body_fail(body_reader_t *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** The slow half of body_out_reserve: grows r->out; -ENOMEM (recorded). */
int body_out_grow(body_reader_t *r, size_t n);

/** How many bytes of a name an error detail shows: at most 64, cut between characters. */
size_t body_name_shown(const char *name, size_t len);

/** Makes room for n more bytes in r->out; -ENOMEM (recorded). */
static inline int body_out_reserve(body_reader_t *r, size_t n)
{
        if (r->out_cap - r->out_len >= n)
                return 0;
        return body_out_grow(r, n);
}

/** Starts a new row: no slots, empty out (its capacity kept). */
void body_row_clear(body_reader_t *r);

/** A new slot at the end of the row; NULL after recording -E2BIG or -ENOMEM in *ret_err. */
body_slot_t *body_slot_add(body_reader_t *r, int *ret_err);

/** Whether slot i's name (in r->out) equals an earlier slot's; -ENOMEM (recorded). */
int body_name_repeated(body_reader_t *r, size_t i, bool *ret_repeated);

/** Hands the row built in the slots on to cb as row r->rows, and counts it. */
int body_row_emit(body_reader_t *r, const char *names, body_row_cb cb, void *data);

/**
 * Parses text (len bytes) as one JSON object into the row's slots. With
 * line set (NDJSON) whitespace around it is allowed and a blank text gives
 * 1 (no row); else text is exactly the object. 0 when a row is ready.
 */
int body_json_object(body_reader_t *r, const char *text, size_t len, bool line);

/**
 * Takes one CSV record (without its line end): the header, a row handed on
 * to cb, or a blank line held back until more follows. 0 or an error.
 */
int body_csv_record(body_reader_t *r, const char *text, size_t len, body_row_cb cb, void *data);

/** The body ended: drops a held-back blank line, checks there was a header. */
int body_csv_finish(body_reader_t *r);

#endif
