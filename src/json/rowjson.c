/*
 * Result rows -> JSON text. Rows are written straight into the response
 * buffer instead of through json_t trees: that keeps exact digits for DECIMAL
 * and big BIGINT, prints doubles in their shortest form, and avoids one
 * allocation per value. JSON columns are checked for syntax and embedded as
 * they are, so their numbers keep every digit.
 */
#include "json/rowjson.h"

#include <errno.h>
#include <string.h>

#include "json/json_text.h"
#include "json/json_types.h"

/* Keys up to this long are copied as one fixed-size block (their storage is padded to it). */
enum { KEY_BLOCK_BYTES = 32 };

/* How a column is written; what it holds is in the row (db_row_column_t). */
struct rowjson_column {
        json_kind_t kind;
        json_write_t write; /* under the column's output */
        bool is_unsigned;   /* its integers (BIT's always) */
        bool csv_as_is;     /* CSV fields hold its bytes as they are */
        char *key;          /* "name": ready to copy */
        size_t key_len;
};

static int prepare_key(scope_t *scope, rowjson_column_t *c, const db_row_column_t *f, bool first)
{
        strbuf_t key = { 0 };

        if (!first)
                strbuf_append_char(&key, ',');
        json_text_string(&key, f->name, f->name_len);
        strbuf_append_char(&key, ':');
        /* At least a whole block (see append_key); scope_alloc zeroes it. */
        if (!key.failed)
                c->key = scope_alloc(scope, key.len > KEY_BLOCK_BYTES ? key.len : KEY_BLOCK_BYTES);
        if (c->key != NULL)
                memcpy(c->key, key.data, key.len);
        c->key_len = key.len;
        strbuf_done(&key);
        return c->key ? 0 : -ENOMEM;
}

int rowjson_prepare(rowjson_t *rj, scope_t *scope, const db_row_t *row,
                    const rowjson_options_t *options)
{
        int r = 0;

        memset(rj, 0, sizeof(*rj));
        rj->time_zone = options->time_zone;
        if (row->count == 0)
                return 0; /* a statement without a result set */
        rj->count = row->count;
        rj->visible = options->visible > 0 && options->visible < rj->count ? options->visible
                                                                            : rj->count;
        rj->fields = row->columns;
        rj->columns = scope_alloc(scope, rj->count * sizeof(*rj->columns));
        if (rj->columns == NULL)
                r = -ENOMEM;
        for (unsigned i = 0; r == 0 && i < rj->count; i++) {
                const db_row_column_t *f = &row->columns[i];
                rowjson_column_t *c = &rj->columns[i];
                api_output_t output =
                        i < options->output_count ? options->outputs[i] : API_OUTPUT_DEFAULT;
                c->kind = json_types_kind(f->type, f->charsetnr, f->is_json);
                c->write = json_types_form(c->kind, output)->write;
                c->is_unsigned = f->is_unsigned || json_types_always_unsigned(c->kind);
                c->csv_as_is = json_types_csv_as_is(c->kind);
                r = prepare_key(scope, c, f, i == 0);
        }
        return r;
}

/* An integer, as write says: a number while a double holds it exactly and
 * its digits as a string beyond, always one or the other, or a boolean. */
static void append_int(strbuf_t *out, long long v, bool is_unsigned, json_write_t write)
{
        bool quoted;

        if (write == JSON_WRITE_BOOLEAN) {
                if (v != 0) /* constant lengths: the copies inline */
                        strbuf_append(out, "true", 4);
                else
                        strbuf_append(out, "false", 5);
                return;
        }
        if (write != JSON_WRITE_EXACT)
                quoted = write == JSON_WRITE_QUOTED;
        else if (is_unsigned)
                quoted = (unsigned long long)v > (unsigned long long)JSON_TYPES_MAX_EXACT_INT;
        else
                quoted = v < -JSON_TYPES_MAX_EXACT_INT || v > JSON_TYPES_MAX_EXACT_INT;
        if (quoted)
                strbuf_append_char(out, '"');
        if (is_unsigned)
                json_text_unsigned(out, (unsigned long long)v);
        else
                json_text_signed(out, v);
        if (quoted)
                strbuf_append_char(out, '"');
}

/* Writes ".f" with the column's fraction digits at p, or nothing; returns the end. */
static char *put_fraction(char *p, const db_row_column_t *f)
{
        unsigned long fraction = f->value.as.t.second_part;
        unsigned digits = json_types_fraction_digits(f->decimals, fraction);

        if (digits == 0)
                return p;
        for (unsigned i = digits; i < 6; i++)
                fraction /= 10;
        *p++ = '.';
        return json_text_put_digits(p, fraction, digits);
}

/* Writes ":mm:ss" at p; returns the end. */
static char *put_clock_tail(char *p, const MYSQL_TIME *t)
{
        *p++ = ':';
        p = json_text_put_digits(p, t->minute, 2);
        *p++ = ':';
        return json_text_put_digits(p, t->second, 2);
}

/*
 * zone NULL: a plain value for a cursor, "YYYY-MM-DD hh:mm:ss[.f]". The
 * text is put together on the stack and appended once: a field at a time
 * costs more than the digits.
 */
static void append_temporal(strbuf_t *out, json_kind_t kind, const db_row_column_t *f,
                            const char *zone)
{
        const MYSQL_TIME *t = &f->value.as.t;
        char text[48]; /* "-hhhh:mm:ss.ffffff" or "YYYY-MM-DDThh:mm:ss.ffffff", quoted */
        char *p = text;

        *p++ = '"';
        if (kind == JSON_KIND_TIME) {
                /* Hours may exceed 24 and the value may be negative: keep it as given. */
                unsigned hours = t->day * 24 + t->hour;
                if (t->neg)
                        *p++ = '-';
                p = json_text_put_digits(p, hours, hours > 99 ? (hours > 999 ? 4 : 3) : 2);
                p = put_clock_tail(p, t);
                p = put_fraction(p, f);
        } else {
                p = json_text_put_digits(p, t->year, 4);
                *p++ = '-';
                p = json_text_put_digits(p, t->month, 2);
                *p++ = '-';
                p = json_text_put_digits(p, t->day, 2);
                if (kind != JSON_KIND_DATE) {
                        *p++ = zone ? 'T' : ' ';
                        p = json_text_put_digits(p, t->hour, 2);
                        p = put_clock_tail(p, t);
                        p = put_fraction(p, f);
                        if (kind == JSON_KIND_TIMESTAMP && zone != NULL) {
                                strbuf_append(out, text, (size_t)(p - text));
                                strbuf_append_str(out, zone);
                                strbuf_append_char(out, '"');
                                return;
                        }
                }
        }
        *p++ = '"';
        strbuf_append(out, text, (size_t)(p - text));
}

/* BIT: big-endian bytes, written as an integer. */
static void append_bits(strbuf_t *out, const db_row_value_t *v, json_write_t write)
{
        unsigned long long bits = 0;

        for (unsigned long i = 0; i < v->length && i < 8; i++)
                bits = bits << 8 | (unsigned char)v->bytes[i];
        append_int(out, (long long)bits, true, write);
}

/*
 * A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line
 * end, and when it is empty, which tells an empty string from NULL.
 */
static void append_csv_field(strbuf_t *out, const char *bytes, size_t len)
{
        bool quoted = len == 0;

        for (size_t i = 0; i < len && !quoted; i++)
                quoted = bytes[i] == ',' || bytes[i] == '"' || bytes[i] == '\r' ||
                         bytes[i] == '\n';
        if (!quoted) {
                strbuf_append(out, bytes, len);
                return;
        }
        strbuf_append_char(out, '"');
        for (const char *quote; (quote = memchr(bytes, '"', len)) != NULL;) {
                size_t n = (size_t)(quote - bytes) + 1;
                strbuf_append(out, bytes, n);
                strbuf_append_char(out, '"');
                bytes += n;
                len -= n;
        }
        strbuf_append(out, bytes, len);
        strbuf_append_char(out, '"');
}

/* The bytes of a string-like value (DECIMAL, text, binary, JSON), as write says. */
static void append_bytes(strbuf_t *out, const rowjson_column_t *c, const db_row_value_t *v,
                         json_write_t write, bool csv)
{
        if (csv && c->csv_as_is) {
                append_csv_field(out, v->bytes, v->length);
                return;
        }
        switch (write) {
        case JSON_WRITE_NUMBER:
                strbuf_append(out, v->bytes, v->length); /* DECIMAL: MariaDB's digits */
                break;
        case JSON_WRITE_BASE64:
                json_text_base64(out, (const unsigned char *)v->bytes, v->length);
                break;
        case JSON_WRITE_EMBEDDED:
                if (json_text_is_valid(v->bytes, v->length))
                        strbuf_append(out, v->bytes, v->length);
                else
                        json_text_string(out, v->bytes, v->length);
                break;
        default:
                json_text_string(out, v->bytes, v->length);
                break;
        }
}

static void append_real(strbuf_t *out, json_kind_t kind, const db_row_value_t *v,
                        json_write_t write)
{
        bool quoted = write == JSON_WRITE_QUOTED;

        if (quoted)
                strbuf_append_char(out, '"');
        if (kind == JSON_KIND_FLOAT)
                json_text_float(out, v->as.f);
        else
                json_text_double(out, v->as.d);
        if (quoted)
                strbuf_append_char(out, '"');
}

/*
 * The value of column i of the row fetched last, written as write says. For
 * CSV the JSON form of numbers, dates and quoted strings without escapes is
 * already a valid field; NULL is an empty field and text is quoted the CSV way.
 */
static void append_value(strbuf_t *out, const rowjson_t *rj, unsigned i, json_write_t write,
                         const char *zone, bool csv)
{
        const rowjson_column_t *c = &rj->columns[i];
        const db_row_column_t *f = &rj->fields[i];

        if (f->value.is_null) {
                if (!csv)
                        strbuf_append(out, "null", 4);
                return;
        }
        switch (c->kind) {
        case JSON_KIND_INT:
                append_int(out, f->value.as.i, c->is_unsigned, write);
                break;
        case JSON_KIND_BIT:
                append_bits(out, &f->value, write);
                break;
        case JSON_KIND_FLOAT:
        case JSON_KIND_DOUBLE:
                append_real(out, c->kind, &f->value, write);
                break;
        case JSON_KIND_DATE:
        case JSON_KIND_DATETIME:
        case JSON_KIND_TIMESTAMP:
        case JSON_KIND_TIME:
                append_temporal(out, c->kind, f, zone);
                break;
        default:
                append_bytes(out, c, &f->value, write, csv);
                break;
        }
}

/* "name": with a comma before all but the first. A short key is copied as
 * its whole padded block: a fixed-size copy is a move or two, not a call. */
static inline void append_key(strbuf_t *out, const rowjson_column_t *c)
{
        if (c->key_len > KEY_BLOCK_BYTES || !strbuf_reserve(out, KEY_BLOCK_BYTES)) {
                strbuf_append(out, c->key, c->key_len);
                return;
        }
        memcpy(out->data + out->len, c->key, KEY_BLOCK_BYTES);
        out->len += c->key_len;
        out->data[out->len] = '\0';
}

void rowjson_append_row(const rowjson_t *rj, strbuf_t *out)
{
        strbuf_append_char(out, '{');
        for (unsigned i = 0; i < rj->visible; i++) {
                append_key(out, &rj->columns[i]);
                append_value(out, rj, i, rj->columns[i].write, rj->time_zone, false);
        }
        strbuf_append_char(out, '}');
}

void rowjson_append_csv_header(const rowjson_t *rj, strbuf_t *out)
{
        for (unsigned i = 0; i < rj->visible; i++) {
                if (i > 0)
                        strbuf_append_char(out, ',');
                append_csv_field(out, rj->fields[i].name, rj->fields[i].name_len);
        }
        strbuf_append(out, "\r\n", 2);
}

void rowjson_append_csv_row(const rowjson_t *rj, strbuf_t *out)
{
        for (unsigned i = 0; i < rj->visible; i++) {
                if (i > 0)
                        strbuf_append_char(out, ',');
                append_value(out, rj, i, rj->columns[i].write, rj->time_zone, true);
        }
        strbuf_append(out, "\r\n", 2);
}

/* A request gives values as strings: numbers quoted, the rest as written. */
void rowjson_append_plain(const rowjson_t *rj, unsigned column, strbuf_t *out)
{
        json_write_t write = json_types_form(rj->columns[column].kind, API_OUTPUT_STRING)->write;

        append_value(out, rj, column, write, NULL, false);
}

void rowjson_append_listed(const rowjson_t *rj, row_format_t format, unsigned long long index,
                           strbuf_t *out)
{
        switch (format) {
        case ROW_FORMAT_JSON:
                if (index > 0)
                        strbuf_append_char(out, ',');
                rowjson_append_row(rj, out);
                break;
        case ROW_FORMAT_NDJSON:
                rowjson_append_row(rj, out);
                strbuf_append_char(out, '\n');
                break;
        case ROW_FORMAT_CSV:
                if (index == 0)
                        rowjson_append_csv_header(rj, out);
                rowjson_append_csv_row(rj, out);
                break;
        }
}

bool rowjson_integer(const rowjson_t *rj, unsigned column, long long *ret_value)
{
        if (column >= rj->count || rj->columns[column].kind != JSON_KIND_INT ||
            rj->fields[column].value.is_null)
                return false;
        *ret_value = rj->fields[column].value.as.i;
        return true;
}
