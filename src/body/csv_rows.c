/*
 * One CSV record (RFC 4180), whole in memory, parsed into a row: the first
 * record names the columns, every later one must have as many fields. An
 * unquoted empty field is NULL, a quoted one empty text, so a body can say
 * which it means.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "body/body_private.h"
#include "json/json_text.h"

/* Whether n bytes are valid UTF-8 without a NUL (a C string must end where it says). */
static bool text_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s, *end = p + n;

        while (p < end) {
                if (*p >= 0x80) {
                        size_t k = json_text_utf8_sequence_length(p, (size_t)(end - p));
                        if (k == 0)
                                return false;
                        p += k;
                } else if (*p++ == '\0') {
                        return false;
                }
        }
        return true;
}

/* A quoted field from *pp (at its opening quote) into out, "" read as one quote. */
static int quoted_field(body_reader_t *r, const char **pp, const char *end, body_slot_t *s)
{
        const char *p = *pp + 1;
        char *d = r->out + r->out_len, *start = d;

        for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                if (q == NULL)
                        return body_fail(r, -EINVAL, "a quoted field is not closed");
                memcpy(d, p, (size_t)(q - p));
                d += q - p;
                if (q + 1 < end && q[1] == '"') {
                        *d++ = '"';
                        p = q + 2;
                        continue;
                }
                p = q + 1;
                break;
        }
        if (p < end && *p != ',')
                return body_fail(r, -EINVAL, "text after a closing quote");
        s->kind = BODY_TEXT;
        s->text_at = r->out_len;
        s->len = (size_t)(d - start);
        *pp = p;
        return 0;
}

/* An unquoted field from *pp to the next comma; empty is NULL. */
static int plain_field(body_reader_t *r, const char **pp, const char *end, body_slot_t *s)
{
        const char *p = *pp;
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = (size_t)((comma != NULL ? comma : end) - p);

        if (memchr(p, '"', n) != NULL)
                return body_fail(r, -EINVAL, "a quote inside an unquoted field");
        *pp = p + n;
        if (n == 0) {
                s->kind = BODY_NULL;
                s->text_at = SIZE_MAX;
                s->len = 0;
                return 0;
        }
        memcpy(r->out + r->out_len, p, n);
        s->kind = BODY_TEXT;
        s->text_at = r->out_len;
        s->len = n;
        return 0;
}

/*
 * The record's fields into the row's slots. Each field's text is never
 * longer than its raw bytes plus the comma after it, so out is sized once.
 */
static int parse_record(body_reader_t *r, const char *text, size_t len)
{
        const char *p = text, *end = text + len;
        body_slot_t *s;
        int rc = 0;

        body_row_clear(r);
        rc = body_out_reserve(r, len + 1);
        if (rc < 0)
                return rc;
        for (;;) {
                s = body_slot_add(r, &rc);
                if (s == NULL)
                        return rc;
                if (p < end && *p == '"')
                        rc = quoted_field(r, &p, end, s);
                else
                        rc = plain_field(r, &p, end, s);
                if (rc < 0)
                        return rc;
                if (s->text_at != SIZE_MAX) {
                        if (!text_valid(r->out + s->text_at, s->len))
                                return body_fail(r, -EINVAL, "invalid UTF-8 or a NUL in a field");
                        r->out[s->text_at + s->len] = '\0';
                        r->out_len += s->len + 1;
                }
                s->name_at = 0;
                s->name_len = 0;
                if (p == end)
                        return 0;
                p++; /* the comma */
        }
}

static int duplicate_column(body_reader_t *r, const body_slot_t *s)
{
        const char *name = r->out + s->text_at;
        size_t shown = body_name_shown(name, s->len);

        return body_fail(r, -EINVAL, "duplicate column \"%.*s%s\" in the header", (int)shown,
                         name, shown < s->len ? "..." : "");
}

/* The parsed record is the header: checks the names and keeps them. */
static int take_header(body_reader_t *r)
{
        bool repeated;
        int rc;

        for (size_t i = 0; i < r->slot_count; i++) {
                body_slot_t *s = &r->slots[i];
                if (s->len == 0)
                        return body_fail(r, -EINVAL, "an empty column name in the header");
                s->name_at = s->text_at;
                s->name_len = s->len;
                rc = body_name_repeated(r, i, &repeated);
                if (rc < 0)
                        return rc;
                if (repeated)
                        return duplicate_column(r, s);
        }
        r->header = malloc(r->out_len);
        r->columns = malloc(r->slot_count * sizeof(*r->columns));
        if (r->header == NULL || r->columns == NULL)
                return body_fail(r, -ENOMEM, "out of memory");
        memcpy(r->header, r->out, r->out_len);
        memcpy(r->columns, r->slots, r->slot_count * sizeof(*r->columns));
        r->header_len = r->out_len;
        r->column_count = r->slot_count;
        r->have_header = true;
        return 0;
}

/* A record that is not a held-back blank line. */
static int take_record(body_reader_t *r, const char *text, size_t len, body_row_cb cb, void *data)
{
        int rc = parse_record(r, text, len);

        if (rc < 0)
                return rc;
        if (!r->have_header)
                return take_header(r);
        if (r->slot_count != r->column_count)
                return body_fail(r, -EINVAL, "a row has %zu fields but the header has %zu",
                                 r->slot_count, r->column_count);
        for (size_t i = 0; i < r->slot_count; i++) {
                r->slots[i].name_at = r->columns[i].name_at;
                r->slots[i].name_len = r->columns[i].name_len;
        }
        return body_row_emit(r, r->header, cb, data);
}

int body_csv_record(body_reader_t *r, const char *text, size_t len, body_row_cb cb, void *data)
{
        int rc;

        if (len > 0 && text[len - 1] == '\r')
                len--;
        /* A blank line is a record of one NULL field, unless the body ends
         * after it: then it is only the last line's end doubled. */
        if (r->blank_pending) {
                r->blank_pending = false;
                rc = take_record(r, "", 0, cb, data);
                if (rc < 0)
                        return rc;
        }
        if (len == 0) {
                r->blank_pending = true;
                return 0;
        }
        return take_record(r, text, len, cb, data);
}

int body_csv_finish(body_reader_t *r)
{
        r->blank_pending = false;
        if (!r->have_header)
                return body_fail(r, -EINVAL, "the body has no header row");
        return 0;
}
