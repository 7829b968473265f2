/*
 * The body reader: finds where each row ends in a stream of chunks, keeps
 * the bytes of the one row still open, and hands each complete row's text
 * to its format's parser. Finding the end needs only a little state (a
 * depth and whether a string or quote is open), so it runs as one tight
 * loop over each chunk; a row that lies whole in a chunk is parsed in place.
 */
#include "body/body_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body/body_private.h"

/* Where a JSON body's top level is. */
enum json_top {
        TOP_START,       /* nothing but whitespace yet */
        TOP_ARRAY_FIRST, /* after '[' */
        TOP_IN_ROW,      /* inside an object: the scanner runs */
        TOP_AFTER_ROW,   /* after an element of the array */
        TOP_ARRAY_NEXT,  /* after ',' */
        TOP_END,         /* the top-level value is complete */
};

/* Keys compared one by one up to here; a hash set beyond. */
#define LINEAR_NAMES 16

static const unsigned char BOM[3] = { 0xEF, 0xBB, 0xBF };

int body_fail(body_reader_t *r, int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->error_text, sizeof(r->error_text), fmt, ap);
        va_end(ap);
        r->error = err;
        r->error_row = r->rows;
        return err;
}

size_t body_name_shown(const char *name, size_t len)
{
        size_t shown = len;

        if (shown > 64) {
                /* Cut on a character boundary: the detail stays valid UTF-8. */
                shown = 64;
                while (shown > 0 && ((unsigned char)name[shown] & 0xC0) == 0x80)
                        shown--;
        }
        return shown;
}

static int out_of_memory(body_reader_t *r)
{
        return body_fail(r, -ENOMEM, "out of memory");
}

/* Grows *buf to hold at least need bytes, doubling; false when out of memory. */
static bool grow(void **buf, size_t *cap, size_t need, size_t size)
{
        size_t n = *cap < 64 ? 64 : *cap;
        void *p;

        while (n < need)
                n *= 2;
        p = realloc(*buf, n * size);
        if (p == NULL)
                return false;
        *buf = p;
        *cap = n;
        return true;
}

int body_out_grow(body_reader_t *r, size_t n)
{
        if (!grow((void **)&r->out, &r->out_cap, r->out_len + n, 1))
                return out_of_memory(r);
        return 0;
}

void body_row_clear(body_reader_t *r)
{
        r->slot_count = 0;
        r->out_len = 0;
}

body_slot_t *body_slot_add(body_reader_t *r, int *ret_err)
{
        if (r->slot_count >= r->max_fields) {
                *ret_err = body_fail(r, -E2BIG, "a row has more than %zu fields", r->max_fields);
                return NULL;
        }
        if (r->slot_count == r->slot_cap &&
            !grow((void **)&r->slots, &r->slot_cap, r->slot_count + 1, sizeof(*r->slots))) {
                *ret_err = out_of_memory(r);
                return NULL;
        }
        return &r->slots[r->slot_count++];
}

/* FNV-1a: names are short, and this only has to spread them. */
static uint32_t name_hash(const char *s, size_t n)
{
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

static bool same_name(const body_reader_t *r, size_t i, size_t j)
{
        const body_slot_t *a = &r->slots[i], *b = &r->slots[j];

        return a->name_len == b->name_len &&
               memcmp(r->out + a->name_at, r->out + b->name_at, a->name_len) == 0;
}

/* Puts slot i in the set; true when an equal name is already there. */
static bool names_insert(body_reader_t *r, size_t i)
{
        const body_slot_t *s = &r->slots[i];
        size_t mask = r->names_cap - 1;
        size_t h = name_hash(r->out + s->name_at, s->name_len) & mask;

        for (; r->names[h] != 0; h = (h + 1) & mask)
                if (same_name(r, i, r->names[h] - 1))
                        return true;
        r->names[h] = (uint32_t)(i + 1);
        return false;
}

/* A fresh set holding slots 0..i-1 (known distinct), with room for many more. */
static int names_rebuild(body_reader_t *r, size_t i)
{
        size_t cap = 64;

        while (cap < 4 * (i + 1))
                cap *= 2;
        if (cap > r->names_cap) {
                uint32_t *p = realloc(r->names, cap * sizeof(*p));
                if (p == NULL)
                        return out_of_memory(r);
                r->names = p;
                r->names_cap = cap;
        }
        memset(r->names, 0, r->names_cap * sizeof(*r->names));
        for (size_t j = 0; j < i; j++)
                names_insert(r, j);
        return 0;
}

int body_name_repeated(body_reader_t *r, size_t i, bool *ret_repeated)
{
        int rc;

        *ret_repeated = false;
        if (i < LINEAR_NAMES) {
                for (size_t j = 0; j < i && !*ret_repeated; j++)
                        *ret_repeated = same_name(r, i, j);
                return 0;
        }
        /* The set is rebuilt at the first row past the linear count, so a
         * set left by an earlier row never needs clearing. */
        if (i == LINEAR_NAMES || 2 * (i + 1) > r->names_cap) {
                rc = names_rebuild(r, i);
                if (rc < 0)
                        return rc;
        }
        *ret_repeated = names_insert(r, i);
        return 0;
}

int body_row_emit(body_reader_t *r, const char *names, body_row_cb cb, void *data)
{
        body_row_t row;
        int rc;

        if (r->slot_count > r->field_cap &&
            !grow((void **)&r->fields, &r->field_cap, r->slot_count, sizeof(*r->fields)))
                return out_of_memory(r);
        if (names == NULL)
                names = r->out;
        for (size_t i = 0; i < r->slot_count; i++) {
                const body_slot_t *s = &r->slots[i];
                body_field_t *f = &r->fields[i];

                f->name = names + s->name_at;
                f->name_len = s->name_len;
                f->kind = s->kind;
                f->text = s->text_at == SIZE_MAX ? NULL : r->out + s->text_at;
                f->len = s->len;
        }
        row.index = r->rows;
        row.fields = r->fields;
        row.field_count = r->slot_count;
        r->rows++;
        rc = cb(&row, data);
        if (rc < 0) {
                snprintf(r->error_text, sizeof(r->error_text), "the row was refused");
                r->error = rc;
                r->error_row = row.index;
                return rc;
        }
        return 0;
}

body_reader_t *body_reader_new(body_format_t format, size_t max_row_bytes, size_t max_fields)
{
        body_reader_t *r = calloc(1, sizeof(*r));

        if (r == NULL)
                return NULL;
        r->format = format;
        r->max_row_bytes = max_row_bytes;
        /* Slot indexes + 1 are kept in 32 bits in the set of names. */
        r->max_fields = max_fields < UINT32_MAX - 1 ? max_fields : UINT32_MAX - 1;
        r->top = TOP_START;
        return r;
}

void body_reader_free(body_reader_t *reader)
{
        if (reader == NULL)
                return;
        free(reader->partial);
        free(reader->header);
        free(reader->columns);
        free(reader->slots);
        free(reader->fields);
        free(reader->out);
        free(reader->names);
        free(reader);
}

static int too_long(body_reader_t *r)
{
        if (r->format == BODY_FORMAT_CSV && !r->have_header)
                return body_fail(r, -E2BIG, "the header is longer than %zu bytes",
                                 r->max_row_bytes);
        return body_fail(r, -E2BIG, "a row is longer than %zu bytes", r->max_row_bytes);
}

/* Keeps n more bytes of the open row, refusing a row over the limit. */
static int partial_append(body_reader_t *r, const char *bytes, size_t n)
{
        if (n > r->max_row_bytes - r->partial_len)
                return too_long(r);
        if (r->partial_len + n > r->partial_cap &&
            !grow((void **)&r->partial, &r->partial_cap, r->partial_len + n, 1))
                return out_of_memory(r);
        memcpy(r->partial + r->partial_len, bytes, n);
        r->partial_len += n;
        return 0;
}

/*
 * The open row ends with these n bytes: *ret_text is the whole row, in
 * place when nothing was kept before, else after the kept bytes.
 */
static int row_text(body_reader_t *r, const char *bytes, size_t n, const char **ret_text,
                    size_t *ret_len)
{
        int rc;

        if (r->partial_len == 0) {
                if (n > r->max_row_bytes)
                        return too_long(r);
                *ret_text = bytes;
                *ret_len = n;
                return 0;
        }
        rc = partial_append(r, bytes, n);
        if (rc < 0)
                return rc;
        *ret_text = r->partial;
        *ret_len = r->partial_len;
        r->partial_len = 0; /* the bytes stay readable until the next append */
        return 0;
}

/* One NDJSON line, without its LF. */
static int ndjson_line(body_reader_t *r, const char *text, size_t len, body_row_cb cb, void *data)
{
        int rc = body_json_object(r, text, len, true);

        if (rc != 0)
                return rc < 0 ? rc : 0; /* 1: a blank line */
        r->any_content = true;
        return body_row_emit(r, NULL, cb, data);
}

static int feed_ndjson(body_reader_t *r, const char *p, size_t len, body_row_cb cb, void *data)
{
        const char *end = p + len;
        const char *text = NULL;
        size_t n = 0;
        int rc;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (nl == NULL)
                        return partial_append(r, p, (size_t)(end - p));
                rc = row_text(r, p, (size_t)(nl - p), &text, &n);
                if (rc == 0)
                        rc = ndjson_line(r, text, n, cb, data);
                if (rc < 0)
                        return rc;
                p = nl + 1;
        }
        return 0;
}

/* A JSON object, from '{' to its '}', ended the open row. */
static int json_row(body_reader_t *r, const char *bytes, size_t n, body_row_cb cb, void *data)
{
        const char *text = NULL;
        size_t len = 0;
        int rc = row_text(r, bytes, n, &text, &len);

        if (rc == 0)
                rc = body_json_object(r, text, len, false);
        if (rc < 0)
                return rc;
        r->top = r->single ? TOP_END : TOP_AFTER_ROW;
        return body_row_emit(r, NULL, cb, data);
}

/*
 * Runs the scanner of an open object over [*pp, end): depth counts brackets
 * of both kinds outside strings; the parser checks they match. Stops after
 * the byte that closes the object, or at end, or once the row is too long.
 */
static int json_scan(body_reader_t *r, const char **pp, const char *end, body_row_cb cb,
                     void *data)
{
        const char *start = *pp, *p = start, *stop = end;
        size_t room = r->max_row_bytes - r->partial_len;
        size_t depth = r->depth;
        bool in_string = r->in_string, escaped = r->escaped;

        if ((size_t)(end - start) > room)
                stop = start + room + 1; /* one byte past the limit proves it too long */
        for (; p < stop; p++) {
                unsigned char c = (unsigned char)*p;
                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"') {
                        in_string = true;
                } else if (c == '{' || c == '[') {
                        depth++;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                        *pp = p + 1;
                        r->depth = 0;
                        r->in_string = false;
                        r->escaped = false;
                        return json_row(r, start, (size_t)(p + 1 - start), cb, data);
                }
        }
        r->depth = depth;
        r->in_string = in_string;
        r->escaped = escaped;
        *pp = end;
        return partial_append(r, start, (size_t)(p - start));
}

/* One byte other than whitespace outside the rows: 0 taken, 1 a row starts at it. */
static int json_top_byte(body_reader_t *r, char c)
{
        switch (r->top) {
        case TOP_START:
                r->any_content = true;
                if (c == '[') {
                        r->top = TOP_ARRAY_FIRST;
                        return 0;
                }
                if (c != '{')
                        return body_fail(r, -EINVAL, "the body is not a JSON object or array");
                r->single = true;
                r->top = TOP_IN_ROW;
                return 1;
        case TOP_ARRAY_FIRST:
        case TOP_ARRAY_NEXT:
                if (c == ']' && r->top == TOP_ARRAY_FIRST) {
                        r->top = TOP_END;
                        return 0;
                }
                if (c != '{')
                        return body_fail(r, -EINVAL, "an array element is not an object");
                r->top = TOP_IN_ROW;
                return 1;
        case TOP_AFTER_ROW:
                if (c == ',')
                        r->top = TOP_ARRAY_NEXT;
                else if (c == ']')
                        r->top = TOP_END;
                else
                        return body_fail(r, -EINVAL, "expected ',' or ']' after a row");
                return 0;
        default:
                return body_fail(r, -EINVAL, "text after the end of the JSON body");
        }
}

static int feed_json(body_reader_t *r, const char *p, size_t len, body_row_cb cb, void *data)
{
        const char *end = p + len;
        int rc;

        while (p < end) {
                if (r->top == TOP_IN_ROW) {
                        rc = json_scan(r, &p, end, cb, data);
                        if (rc < 0)
                                return rc;
                        continue;
                }
                if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                        p++;
                        continue;
                }
                rc = json_top_byte(r, *p);
                if (rc < 0)
                        return rc;
                if (rc == 0)
                        p++;
        }
        return 0;
}

/* A CSV record's text, without its LF. */
static int csv_row(body_reader_t *r, const char *bytes, size_t n, body_row_cb cb, void *data)
{
        const char *text = NULL;
        size_t len = 0;
        int rc = row_text(r, bytes, n, &text, &len);

        if (rc < 0)
                return rc;
        return body_csv_record(r, text, len, cb, data);
}

/*
 * Where the CSV scanner is in a record. A quote opens a quoted field only
 * at a field's start, so a stray one elsewhere cannot hide the record's
 * end: the parser then names it in the row it is in.
 */
enum csv_scan {
        CSV_FIELD_START,
        CSV_PLAIN,       /* in an unquoted field */
        CSV_QUOTED,      /* in a quoted field */
        CSV_QUOTE_SEEN,  /* a quote in a quoted field: its end, or half of "" */
};

/* Runs the scanner over [p, stop); returns where a record-ending LF is, or stop. */
static const char *csv_scan(body_reader_t *r, const char *p, const char *stop)
{
        int state = r->csv_state;

        for (; p < stop; p++) {
                char c = *p;
                if (state == CSV_QUOTED) {
                        if (c == '"')
                                state = CSV_QUOTE_SEEN;
                } else if (c == '\n') {
                        state = CSV_FIELD_START;
                        break;
                } else if (c == ',') {
                        state = CSV_FIELD_START;
                } else if (c == '"' && state != CSV_PLAIN) {
                        state = CSV_QUOTED; /* an opening quote, or "" inside quotes */
                } else {
                        state = CSV_PLAIN;
                }
        }
        r->csv_state = state;
        return p;
}

static int feed_csv(body_reader_t *r, const char *p, size_t len, body_row_cb cb, void *data)
{
        const char *end = p + len;
        int rc;

        while (p < end) {
                const char *start = p, *stop = end;
                size_t room = r->max_row_bytes - r->partial_len;

                if ((size_t)(end - start) > room)
                        stop = start + room + 1;
                p = csv_scan(r, start, stop);
                if (p == stop)
                        return partial_append(r, start, (size_t)(p - start));
                rc = csv_row(r, start, (size_t)(p - start), cb, data);
                if (rc < 0)
                        return rc;
                p++;
        }
        return 0;
}

static int feed_body(body_reader_t *r, const char *bytes, size_t len, body_row_cb cb, void *data)
{
        switch (r->format) {
        case BODY_FORMAT_JSON:
                return feed_json(r, bytes, len, cb, data);
        case BODY_FORMAT_NDJSON:
                return feed_ndjson(r, bytes, len, cb, data);
        default:
                return feed_csv(r, bytes, len, cb, data);
        }
}

/*
 * Drops a UTF-8 BOM at the very start. Its bytes may come in pieces; when
 * what began like one turns out not to be, the bytes held are fed first.
 */
static int skip_bom(body_reader_t *r, const char **bytes, size_t *len, body_row_cb cb,
                    void *data)
{
        while (!r->bom_done && *len > 0) {
                if ((unsigned char)**bytes != BOM[r->bom_seen]) {
                        r->bom_done = true;
                        return feed_body(r, (const char *)BOM, r->bom_seen, cb, data);
                }
                (*bytes)++;
                (*len)--;
                r->bom_done = ++r->bom_seen == sizeof(BOM);
        }
        return 0;
}

int body_reader_feed(body_reader_t *reader, const char *bytes, size_t len, body_row_cb cb,
                     void *data)
{
        int rc;

        if (reader->error != 0)
                return reader->error;
        rc = skip_bom(reader, &bytes, &len, cb, data);
        if (rc == 0 && len > 0)
                rc = feed_body(reader, bytes, len, cb, data);
        return rc;
}

static int finish_json(body_reader_t *r)
{
        if (r->top == TOP_END)
                return 0;
        if (r->top == TOP_START)
                return body_fail(r, -EINVAL, "the body is empty");
        return body_fail(r, -EINVAL, "the body ends before the JSON is complete");
}

static int finish_ndjson(body_reader_t *r, body_row_cb cb, void *data)
{
        size_t n = r->partial_len;
        int rc;

        if (n > 0) {
                r->partial_len = 0;
                rc = ndjson_line(r, r->partial, n, cb, data);
                if (rc < 0)
                        return rc;
        }
        if (!r->any_content)
                return body_fail(r, -EINVAL, "the body is empty");
        return 0;
}

static int finish_csv(body_reader_t *r, body_row_cb cb, void *data)
{
        size_t n = r->partial_len;
        int rc;

        if (r->csv_state == CSV_QUOTED)
                return body_fail(r, -EINVAL, "a quoted field is not closed");
        if (n > 0) {
                r->partial_len = 0;
                rc = body_csv_record(r, r->partial, n, cb, data);
                if (rc < 0)
                        return rc;
        }
        return body_csv_finish(r);
}

int body_reader_finish(body_reader_t *reader, body_row_cb cb, void *data)
{
        int rc = 0;

        if (reader->error != 0)
                return reader->error;
        if (!reader->bom_done) {
                reader->bom_done = true;
                rc = feed_body(reader, (const char *)BOM, reader->bom_seen, cb, data);
                if (rc < 0)
                        return rc;
        }
        switch (reader->format) {
        case BODY_FORMAT_JSON:
                return finish_json(reader);
        case BODY_FORMAT_NDJSON:
                return finish_ndjson(reader, cb, data);
        default:
                return finish_csv(reader, cb, data);
        }
}

const char *body_reader_error(const body_reader_t *reader)
{
        return reader->error != 0 ? reader->error_text : NULL;
}

unsigned long long body_reader_error_row(const body_reader_t *reader)
{
        return reader->error_row;
}

bool body_reader_single(const body_reader_t *reader)
{
        return reader->single;
}

unsigned long long body_reader_rows(const body_reader_t *reader)
{
        return reader->rows;
}
