/*
 * Result rows -> JSON text. Rows are written straight into the response
 * buffer instead of through json_t trees: that keeps exact digits for DECIMAL
 * and big BIGINT, prints doubles in their shortest form, and avoids one
 * allocation per value. JSON columns are checked for syntax and embedded as
 * they are, so their numbers keep every digit.
 */
#include "rowjson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"

/* Strings shorter than this are read in place; longer ones are fetched whole. */
enum { INLINE_TEXT_BYTES = 512, BINARY_CHARSET = 63 };

static const long long MAX_EXACT_DOUBLE_INT = 9007199254740992LL; /* 2^53 */


struct rowjson_column {
        rowjson_kind_t kind;
        api_output_t output;
        char *key; /* "name": ready to copy */
        size_t key_len;
        char *name;
        size_t name_len;
        unsigned decimals;
        bool is_unsigned;
        union {
                long long i;
                double d;
                float f;
                MYSQL_TIME t;
        } value;
        char *text;
        unsigned long length;
        my_bool is_null;
        my_bool error;
};

static bool is_json_column(const MYSQL_FIELD *f)
{
        MARIADB_CONST_STRING format;

        if (f->type == MYSQL_TYPE_JSON)
                return true;
        return mariadb_field_attr(&format, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
               format.length == 4 && memcmp(format.str, "json", 4) == 0;
}

rowjson_kind_t rowjson_kind_of(enum enum_field_types type, unsigned charsetnr, bool is_json)
{
        switch (type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
                return KIND_INT;
        case MYSQL_TYPE_BIT:
                return KIND_BIT;
        case MYSQL_TYPE_FLOAT:
                return KIND_FLOAT;
        case MYSQL_TYPE_DOUBLE:
                return KIND_DOUBLE;
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
                return KIND_DECIMAL;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
                return KIND_DATE;
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_DATETIME2:
                return KIND_DATETIME;
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIMESTAMP2:
                return KIND_TIMESTAMP;
        case MYSQL_TYPE_TIME:
        case MYSQL_TYPE_TIME2:
                return KIND_TIME;
        case MYSQL_TYPE_GEOMETRY:
                return KIND_BINARY;
        default:
                if (is_json || type == MYSQL_TYPE_JSON)
                        return KIND_JSON;
                return charsetnr == BINARY_CHARSET ? KIND_BINARY : KIND_TEXT;
        }
}

/* Points the bind at the column's storage in the form its kind wants. */
static int bind_column(scope_t *scope, rowjson_column_t *c, MYSQL_BIND *b, const MYSQL_FIELD *f)
{
        b->is_null = &c->is_null;
        b->error = &c->error;
        b->length = &c->length;
        switch (c->kind) {
        case KIND_INT:
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                b->buffer = &c->value.i;
                b->is_unsigned = c->is_unsigned;
                return 0;
        case KIND_FLOAT:
                b->buffer_type = MYSQL_TYPE_FLOAT;
                b->buffer = &c->value.f;
                return 0;
        case KIND_DOUBLE:
                b->buffer_type = MYSQL_TYPE_DOUBLE;
                b->buffer = &c->value.d;
                return 0;
        case KIND_DATE:
        case KIND_DATETIME:
        case KIND_TIMESTAMP:
        case KIND_TIME:
                b->buffer_type = f->type == MYSQL_TYPE_TIME2 ? MYSQL_TYPE_TIME : f->type;
                b->buffer = &c->value.t;
                b->buffer_length = sizeof(c->value.t);
                return 0;
        default:
                b->buffer_type = c->kind == KIND_TEXT || c->kind == KIND_DECIMAL
                                         ? MYSQL_TYPE_STRING
                                         : MYSQL_TYPE_BLOB;
                b->buffer_length = f->length > 0 && f->length < INLINE_TEXT_BYTES
                                           ? f->length
                                           : INLINE_TEXT_BYTES;
                c->text = scope_alloc(scope, b->buffer_length + 1);
                b->buffer = c->text;
                return c->text ? 0 : -ENOMEM;
        }
}

static int prepare_key(scope_t *scope, rowjson_column_t *c, const MYSQL_FIELD *f, bool first)
{
        strbuf_t key = { 0 };

        if (!first)
                strbuf_append_char(&key, ',');
        json_text_string(&key, f->name, f->name_length);
        strbuf_append_char(&key, ':');
        if (!key.failed)
                c->key = scope_strndup(scope, key.data, key.len);
        c->key_len = key.len;
        strbuf_done(&key);
        c->name = scope_strndup(scope, f->name, f->name_length);
        c->name_len = f->name_length;
        return c->key && c->name ? 0 : -ENOMEM;
}

int rowjson_bind(rowjson_t *rj, scope_t *scope, MYSQL_STMT *stmt, const rowjson_options_t *options)
{
        MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
        int r = 0;

        memset(rj, 0, sizeof(*rj));
        rj->time_zone = options->time_zone;
        if (meta == NULL)
                return 0; /* a statement without a result set */
        rj->count = mysql_num_fields(meta);
        rj->visible = options->visible > 0 && options->visible < rj->count ? options->visible
                                                                            : rj->count;
        rj->columns = scope_alloc(scope, rj->count * sizeof(*rj->columns));
        rj->binds = scope_alloc(scope, rj->count * sizeof(*rj->binds));
        if (rj->columns == NULL || rj->binds == NULL)
                r = -ENOMEM;
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        for (unsigned i = 0; r == 0 && i < rj->count; i++) {
                rowjson_column_t *c = &rj->columns[i];
                c->kind = rowjson_kind_of(fields[i].type, fields[i].charsetnr,
                                          is_json_column(&fields[i]));
                c->decimals = fields[i].decimals;
                c->is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
                c->output = i < options->output_count ? options->outputs[i] : API_OUTPUT_DEFAULT;
                r = prepare_key(scope, c, &fields[i], i == 0);
                if (r == 0)
                        r = bind_column(scope, c, &rj->binds[i], &fields[i]);
        }
        mysql_free_result(meta);
        if (r == 0 && rj->count > 0 && mysql_stmt_bind_result(stmt, rj->binds))
                r = -EIO;
        return r;
}

/* An integer: a number while a double holds it exactly, else its digits as
 * a string, unless the column's output says otherwise. */
static void append_int(strbuf_t *out, const rowjson_column_t *c, api_output_t output)
{
        long long v = c->value.i;
        bool quoted;

        if (output == API_OUTPUT_BOOLEAN) {
                strbuf_append_str(out, v != 0 ? "true" : "false");
                return;
        }
        if (c->is_unsigned)
                quoted = (unsigned long long)v > (unsigned long long)MAX_EXACT_DOUBLE_INT;
        else
                quoted = v < -MAX_EXACT_DOUBLE_INT || v > MAX_EXACT_DOUBLE_INT;
        if (output != API_OUTPUT_DEFAULT)
                quoted = output == API_OUTPUT_STRING;
        if (quoted)
                strbuf_append_char(out, '"');
        if (c->is_unsigned)
                json_text_unsigned(out, (unsigned long long)v);
        else
                json_text_signed(out, v);
        if (quoted)
                strbuf_append_char(out, '"');
}

/* Fraction digits the column declares; computed values may claim 31 or 39. */
static unsigned fraction_digits(const rowjson_column_t *c)
{
        if (c->decimals <= 6)
                return c->decimals;
        return c->value.t.second_part ? 6 : 0;
}

/* Writes ".f" with the column's fraction digits at p, or nothing; returns the end. */
static char *put_fraction(char *p, const rowjson_column_t *c)
{
        unsigned digits = fraction_digits(c);
        unsigned long fraction = c->value.t.second_part;

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
static void append_temporal(strbuf_t *out, const rowjson_column_t *c, const char *zone)
{
        const MYSQL_TIME *t = &c->value.t;
        char text[48]; /* "-hhhh:mm:ss.ffffff" or "YYYY-MM-DDThh:mm:ss.ffffff", quoted */
        char *p = text;

        *p++ = '"';
        if (c->kind == KIND_TIME) {
                /* Hours may exceed 24 and the value may be negative: keep it as given. */
                unsigned hours = t->day * 24 + t->hour;
                if (t->neg)
                        *p++ = '-';
                p = json_text_put_digits(p, hours, hours > 99 ? (hours > 999 ? 4 : 3) : 2);
                p = put_clock_tail(p, t);
                p = put_fraction(p, c);
        } else {
                p = json_text_put_digits(p, t->year, 4);
                *p++ = '-';
                p = json_text_put_digits(p, t->month, 2);
                *p++ = '-';
                p = json_text_put_digits(p, t->day, 2);
                if (c->kind != KIND_DATE) {
                        *p++ = zone ? 'T' : ' ';
                        p = json_text_put_digits(p, t->hour, 2);
                        p = put_clock_tail(p, t);
                        p = put_fraction(p, c);
                        if (c->kind == KIND_TIMESTAMP && zone != NULL) {
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

static void append_bits(strbuf_t *out, const rowjson_column_t *c, api_output_t output)
{
        rowjson_column_t as_int = *c;
        unsigned long long v = 0;

        for (unsigned long i = 0; i < c->length && i < 8; i++)
                v = v << 8 | (unsigned char)c->text[i];
        as_int.value.i = (long long)v;
        as_int.is_unsigned = true;
        append_int(out, &as_int, output);
}

static void append_decimal(strbuf_t *out, const char *digits, unsigned long len,
                           api_output_t output)
{
        if (output == API_OUTPUT_NUMBER)
                strbuf_append(out, digits, len); /* MariaDB's own digits: valid JSON */
        else
                json_text_string(out, digits, len);
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

/* Bytes of a string-like column; in CSV, text and JSON go as they are. */
static void append_bytes(strbuf_t *out, const rowjson_column_t *c, const char *bytes,
                         api_output_t output, bool csv)
{
        if (csv && (c->kind == KIND_TEXT || c->kind == KIND_JSON)) {
                append_csv_field(out, bytes, c->length);
                return;
        }
        switch (c->kind) {
        case KIND_BIT:
                append_bits(out, c, output);
                break;
        case KIND_DECIMAL:
                append_decimal(out, bytes, c->length, output);
                break;
        case KIND_BINARY:
                json_text_base64(out, (const unsigned char *)bytes, c->length);
                break;
        case KIND_JSON:
                if (json_text_is_valid(bytes, c->length))
                        strbuf_append(out, bytes, c->length);
                else
                        json_text_string(out, bytes, c->length);
                break;
        default:
                json_text_string(out, bytes, c->length);
                break;
        }
}

/* A value longer than its buffer: fetch it whole into a temporary block. */
static void append_long_bytes(strbuf_t *out, rowjson_t *rj, MYSQL_STMT *stmt, unsigned i,
                              api_output_t output, bool csv)
{
        rowjson_column_t *c = &rj->columns[i];
        MYSQL_BIND whole = rj->binds[i];
        unsigned long length = 0;
        char *bytes = malloc(c->length + 1);

        if (bytes == NULL) {
                out->failed = true;
                return;
        }
        whole.buffer = bytes;
        whole.buffer_length = c->length;
        whole.length = &length;
        if (mysql_stmt_fetch_column(stmt, &whole, i, 0) != 0)
                out->failed = true;
        else
                append_bytes(out, c, bytes, output, csv);
        free(bytes);
}

static void append_real(strbuf_t *out, const rowjson_column_t *c, api_output_t output)
{
        bool quoted = output == API_OUTPUT_STRING;

        if (quoted)
                strbuf_append_char(out, '"');
        if (c->kind == KIND_FLOAT)
                json_text_float(out, c->value.f);
        else
                json_text_double(out, c->value.d);
        if (quoted)
                strbuf_append_char(out, '"');
}

/*
 * The value of column i, written as output says. For CSV the JSON form of
 * numbers, dates and quoted strings without escapes is already a valid
 * field; NULL is an empty field and text is quoted the CSV way.
 */
static void append_value(strbuf_t *out, rowjson_t *rj, MYSQL_STMT *stmt, unsigned i,
                         api_output_t output, const char *zone, bool csv)
{
        rowjson_column_t *c = &rj->columns[i];

        if (c->is_null) {
                if (!csv)
                        strbuf_append(out, "null", 4);
                return;
        }
        switch (c->kind) {
        case KIND_INT:
                append_int(out, c, output);
                break;
        case KIND_FLOAT:
        case KIND_DOUBLE:
                append_real(out, c, output);
                break;
        case KIND_DATE:
        case KIND_DATETIME:
        case KIND_TIMESTAMP:
        case KIND_TIME:
                append_temporal(out, c, zone);
                break;
        default:
                if (c->length > rj->binds[i].buffer_length)
                        append_long_bytes(out, rj, stmt, i, output, csv);
                else
                        append_bytes(out, c, c->text, output, csv);
                break;
        }
}

void rowjson_append_row(rowjson_t *rj, MYSQL_STMT *stmt, strbuf_t *out)
{
        strbuf_append_char(out, '{');
        for (unsigned i = 0; i < rj->visible; i++) {
                strbuf_append(out, rj->columns[i].key, rj->columns[i].key_len);
                append_value(out, rj, stmt, i, rj->columns[i].output, rj->time_zone, false);
        }
        strbuf_append_char(out, '}');
}

void rowjson_append_csv_header(const rowjson_t *rj, strbuf_t *out)
{
        for (unsigned i = 0; i < rj->visible; i++) {
                if (i > 0)
                        strbuf_append_char(out, ',');
                append_csv_field(out, rj->columns[i].name, rj->columns[i].name_len);
        }
        strbuf_append(out, "\r\n", 2);
}

void rowjson_append_csv_row(rowjson_t *rj, MYSQL_STMT *stmt, strbuf_t *out)
{
        for (unsigned i = 0; i < rj->visible; i++) {
                if (i > 0)
                        strbuf_append_char(out, ',');
                append_value(out, rj, stmt, i, rj->columns[i].output, rj->time_zone, true);
        }
        strbuf_append(out, "\r\n", 2);
}

void rowjson_append_plain(rowjson_t *rj, MYSQL_STMT *stmt, unsigned column, strbuf_t *out)
{
        const rowjson_column_t *c = &rj->columns[column];

        if (c->kind == KIND_TEXT || c->kind == KIND_DECIMAL || c->kind == KIND_BINARY ||
            c->kind == KIND_JSON || c->is_null || c->kind == KIND_DATE || c->kind == KIND_DATETIME ||
            c->kind == KIND_TIMESTAMP || c->kind == KIND_TIME) {
                append_value(out, rj, stmt, column, API_OUTPUT_DEFAULT, NULL, false);
                return;
        }
        append_value(out, rj, stmt, column, API_OUTPUT_STRING, NULL, false); /* numbers, quoted */
}

void rowjson_append_listed(rowjson_t *rj, MYSQL_STMT *stmt, row_format_t format,
                           unsigned long long index, strbuf_t *out)
{
        switch (format) {
        case ROW_FORMAT_JSON:
                if (index > 0)
                        strbuf_append_char(out, ',');
                rowjson_append_row(rj, stmt, out);
                break;
        case ROW_FORMAT_NDJSON:
                rowjson_append_row(rj, stmt, out);
                strbuf_append_char(out, '\n');
                break;
        case ROW_FORMAT_CSV:
                if (index == 0)
                        rowjson_append_csv_header(rj, out);
                rowjson_append_csv_row(rj, stmt, out);
                break;
        }
}

bool rowjson_integer(const rowjson_t *rj, unsigned column, long long *ret_value)
{
        if (column >= rj->count || rj->columns[column].kind != KIND_INT ||
            rj->columns[column].is_null)
                return false;
        *ret_value = rj->columns[column].value.i;
        return true;
}
