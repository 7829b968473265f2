/*
 * libFuzzer harness for the streaming body readers (body/body_reader.h).
 * The first byte picks the format and the limits; the rest is the body. It
 * is read whole, then in pieces cut where the input itself says, then (when
 * short) byte by byte: every way must give the same rows and the same
 * error, and every value must be what its kind promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body/body_reader.h"
#include "core/strbuf.h"
#include "fuzz_check.h"
#include "json/json_text.h"

static bool valid_utf8(const char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                size_t k = json_text_utf8_sequence_length((const unsigned char *)s + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

static void check_field(const body_field_t *f)
{
        CHECK(f->name != NULL && f->name[f->name_len] == '\0', "name not terminated");
        CHECK(valid_utf8(f->name, f->name_len) && memchr(f->name, 0, f->name_len) == NULL,
              "name is not valid UTF-8");
        switch (f->kind) {
        case BODY_NULL:
        case BODY_TRUE:
        case BODY_FALSE:
                CHECK(f->text == NULL, "kind %d with text", (int)f->kind);
                return;
        case BODY_NUMBER:
        case BODY_JSON:
                CHECK(json_text_is_valid(f->text, f->len), "kind %d not valid JSON: %.*s",
                      (int)f->kind, (int)f->len, f->text);
                break;
        case BODY_STRING:
        case BODY_TEXT:
                CHECK(valid_utf8(f->text, f->len) && memchr(f->text, 0, f->len) == NULL,
                      "text is not valid UTF-8 without NUL");
                break;
        }
        CHECK(f->text != NULL && f->text[f->len] == '\0', "text not terminated");
}

/* Each row, described (with lengths, so any byte is unambiguous) into a strbuf. */
static int describe_cb(const body_row_t *row, void *data)
{
        strbuf_t *out = data;

        strbuf_appendf(out, "%llu:%zu", row->index, row->field_count);
        for (size_t i = 0; i < row->field_count; i++) {
                const body_field_t *f = &row->fields[i];
                check_field(f);
                strbuf_appendf(out, "|%zu:", f->name_len);
                strbuf_append(out, f->name, f->name_len);
                strbuf_appendf(out, "=%d:%zu:", (int)f->kind, f->len);
                if (f->text != NULL)
                        strbuf_append(out, f->text, f->len);
        }
        strbuf_append_char(out, '\n');
        return 0;
}

/*
 * Reads the body in pieces whose sizes come from cuts (each byte one piece
 * size, 1..256, used in turn); no cuts: whole. Returns the description.
 */
static char *read_body(body_format_t format, size_t max_row, size_t max_fields,
                       const char *body, size_t len, const uint8_t *cuts, size_t ncuts)
{
        body_reader_t *r = body_reader_new(format, max_row, max_fields);
        strbuf_t out = { 0 };
        size_t at = 0, turn = 0;
        int rc = 0;

        if (r == NULL)
                abort();
        while (at < len && rc == 0) {
                size_t piece = ncuts > 0 ? (size_t)cuts[turn++ % ncuts] + 1 : len;
                if (piece > len - at)
                        piece = len - at;
                rc = body_reader_feed(r, body + at, piece, describe_cb, &out);
                at += piece;
        }
        if (rc == 0)
                rc = body_reader_finish(r, describe_cb, &out);
        if (rc != 0) {
                CHECK(rc == -EINVAL || rc == -E2BIG, "unexpected error %d", rc);
                CHECK(body_reader_error(r) != NULL, "no error detail");
                CHECK(body_reader_error_row(r) <= body_reader_rows(r), "error row past the rows");
                strbuf_appendf(&out, "error %d row %llu: %s", rc, body_reader_error_row(r),
                               body_reader_error(r));
        } else {
                strbuf_appendf(&out, "ok %llu", body_reader_rows(r));
        }
        if (body_reader_single(r))
                strbuf_append_str(&out, " single");
        body_reader_free(r);
        CHECK(!out.failed, "out of memory");
        return strbuf_take(&out, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint8_t one[] = { 0 };
        body_format_t format;
        size_t max_row, max_fields;
        const char *body;
        size_t len;

        if (size == 0)
                return 0;
        format = (body_format_t)(data[0] % 3);
        /* Small limits now and then, so that -E2BIG is reached too. */
        max_row = data[0] & 0x10 ? 32 + (data[0] >> 5) * 16 : 4096;
        max_fields = data[0] & 0x08 ? 3 : 64;
        body = (const char *)data + 1;
        len = size - 1;

        char *whole = read_body(format, max_row, max_fields, body, len, NULL, 0);
        /* The body's own bytes, read backwards, say where to cut it. */
        uint8_t cuts[16];
        size_t ncuts = len < sizeof(cuts) ? len : sizeof(cuts);
        for (size_t i = 0; i < ncuts; i++)
                cuts[i] = (uint8_t)(data[size - 1 - i] % 17);
        char *pieces = read_body(format, max_row, max_fields, body, len, cuts, ncuts);
        CHECK(strcmp(whole, pieces) == 0, "whole and in pieces differ:\n%s\n---\n%s", whole,
              pieces);
        if (len <= 512) {
                char *bytes = read_body(format, max_row, max_fields, body, len, one, 1);
                CHECK(strcmp(whole, bytes) == 0, "whole and byte by byte differ:\n%s\n---\n%s",
                      whole, bytes);
                free(bytes);
        }
        free(pieces);
        free(whole);
        return 0;
}
