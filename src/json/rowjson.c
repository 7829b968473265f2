/*
 * Result rows -> JSON text. Rows are written straight into the response
 * buffer instead of through json_t trees: that keeps exact digits for DECIMAL
 * and big BIGINT, prints doubles in their shortest form, and avoids one
 * allocation per value. JSON columns are checked for syntax and embedded as
 * they are, so their numbers keep every digit.
 */
#include "json/rowjson.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_text.h"
#include "json/json_types.h"

/* Keys up to this long are copied as one fixed-size block (their storage is padded to it). */
enum { KEY_BLOCK_BYTES = 32 };


struct rowjson_column {
        json_kind_t kind;
        enum enum_field_types type; /* as sent: it decides the value's wire form */
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
        const char *text; /* string-like values, in the row as received */
        unsigned long length;
        bool is_null;
};

static bool is_json_column(const MYSQL_FIELD *f)
{
        MARIADB_CONST_STRING format;

        if (f->type == MYSQL_TYPE_JSON)
                return true;
        return mariadb_field_attr(&format, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
               format.length == 4 && memcmp(format.str, "json", 4) == 0;
}

/* Little-endian fields of the binary protocol. */
static inline uint16_t read_u16(const unsigned char *p)
{
        uint16_t v;

        memcpy(&v, p, sizeof(v));
        return le16toh(v);
}

static inline uint32_t read_u32(const unsigned char *p)
{
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return le32toh(v);
}

static inline uint64_t read_u64(const unsigned char *p)
{
        uint64_t v;

        memcpy(&v, p, sizeof(v));
        return le64toh(v);
}

/* A length-encoded count (binary protocol): sets *n, returns what follows. */
static const unsigned char *read_length(const unsigned char *p, unsigned long *n)
{
        switch (p[0]) {
        case 252:
                *n = read_u16(p + 1);
                return p + 3;
        case 253:
                *n = read_u16(p + 1) | (unsigned long)p[3] << 16;
                return p + 4;
        case 254:
                *n = (unsigned long)read_u64(p + 1);
                return p + 9;
        default:
                *n = p[0];
                return p + 1;
        }
}

/* DATE, DATETIME, TIMESTAMP: a length (0, 4, 7 or 11), then what it covers. */
static void read_datetime(MYSQL_TIME *t, const unsigned char *p, unsigned long n)
{
        memset(t, 0, sizeof(*t));
        if (n >= 4) {
                t->year = read_u16(p);
                t->month = p[2];
                t->day = p[3];
        }
        if (n >= 7) {
                t->hour = p[4];
                t->minute = p[5];
                t->second = p[6];
        }
        if (n >= 11)
                t->second_part = read_u32(p + 7);
}

/* TIME: a length (0, 8 or 12), then sign, days, hours, minutes, seconds, micros. */
static void read_time(MYSQL_TIME *t, const unsigned char *p, unsigned long n)
{
        memset(t, 0, sizeof(*t));
        if (n >= 8) {
                t->neg = p[0] != 0;
                t->day = read_u32(p + 1);
                t->hour = p[5];
                t->minute = p[6];
                t->second = p[7];
        }
        if (n >= 12)
                t->second_part = read_u32(p + 8);
}

/*
 * Decodes one value of the binary protocol at p into c; returns the end of
 * it. The wire forms are those Connector/C's own fetch reads; strings are
 * left where they are.
 */
static const unsigned char *read_value(rowjson_column_t *c, const unsigned char *p)
{
        unsigned long n;
        uint32_t f;
        uint64_t d;

        switch (c->type) {
        case MYSQL_TYPE_TINY:
                c->value.i = c->is_unsigned ? (long long)p[0] : (long long)(int8_t)p[0];
                return p + 1;
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_YEAR:
                c->value.i = c->is_unsigned ? (long long)read_u16(p)
                                            : (long long)(int16_t)read_u16(p);
                return p + 2;
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
                c->value.i = c->is_unsigned ? (long long)read_u32(p)
                                            : (long long)(int32_t)read_u32(p);
                return p + 4;
        case MYSQL_TYPE_LONGLONG:
                c->value.i = (long long)read_u64(p); /* unsigned: the same bits */
                return p + 8;
        case MYSQL_TYPE_FLOAT:
                f = read_u32(p);
                memcpy(&c->value.f, &f, sizeof(f));
                return p + 4;
        case MYSQL_TYPE_DOUBLE:
                d = read_u64(p);
                memcpy(&c->value.d, &d, sizeof(d));
                return p + 8;
        case MYSQL_TYPE_NULL:
                c->length = 0;
                c->text = (const char *)p;
                return p;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_DATETIME2:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIMESTAMP2:
                p = read_length(p, &n);
                read_datetime(&c->value.t, p, n);
                return p + n;
        case MYSQL_TYPE_TIME:
        case MYSQL_TYPE_TIME2:
                p = read_length(p, &n);
                read_time(&c->value.t, p, n);
                return p + n;
        default:
                p = read_length(p, &c->length);
                c->text = (const char *)p;
                return p + c->length;
        }
}

/*
 * Connector/C calls this for each column of each fetched row, with the value
 * as it arrived (row NULL: SQL NULL), and expects *row stepped past it.
 * Reading the row here rather than through bound buffers spares a copy of
 * every string and a conversion pass: the text stays in the connection's
 * read buffer, which holds it until the next fetch.
 */
static void read_column(void *data, unsigned int column, unsigned char **row)
{
        rowjson_t *rj = data;
        rowjson_column_t *c = &rj->columns[column];

        c->is_null = row == NULL;
        if (row != NULL)
                *row = (unsigned char *)read_value(c, *row);
}

/*
 * Every column is bound as a placeholder (MADB_BIND_DUMMY), which hands
 * all of them to read_column whatever the statement's earlier bindings.
 */
static int route_columns_to_reader(rowjson_t *rj, MYSQL_STMT *stmt)
{
        MYSQL_BIND *binds = calloc(rj->count, sizeof(*binds));
        int r = 0;

        if (binds == NULL)
                return -ENOMEM;
        for (unsigned i = 0; i < rj->count; i++) {
                binds[i].buffer_type = MYSQL_TYPE_NULL;
                binds[i].flags = MADB_BIND_DUMMY;
        }
        if (mysql_stmt_attr_set(stmt, STMT_ATTR_CB_USER_DATA, rj) ||
            mysql_stmt_attr_set(stmt, STMT_ATTR_CB_RESULT, (const void *)read_column) ||
            mysql_stmt_bind_result(stmt, binds))
                r = -EIO;
        free(binds);
        return r;
}

static int prepare_key(scope_t *scope, rowjson_column_t *c, const MYSQL_FIELD *f, bool first)
{
        strbuf_t key = { 0 };

        if (!first)
                strbuf_append_char(&key, ',');
        json_text_string(&key, f->name, f->name_length);
        strbuf_append_char(&key, ':');
        /* At least a whole block (see append_key); scope_alloc zeroes it. */
        if (!key.failed)
                c->key = scope_alloc(scope, key.len > KEY_BLOCK_BYTES ? key.len : KEY_BLOCK_BYTES);
        if (c->key != NULL)
                memcpy(c->key, key.data, key.len);
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
        if (rj->columns == NULL)
                r = -ENOMEM;
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        for (unsigned i = 0; r == 0 && i < rj->count; i++) {
                rowjson_column_t *c = &rj->columns[i];
                c->kind = json_types_kind(fields[i].type, fields[i].charsetnr,
                                          is_json_column(&fields[i]));
                c->type = fields[i].type;
                c->decimals = fields[i].decimals;
                c->is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
                c->output = i < options->output_count ? options->outputs[i] : API_OUTPUT_DEFAULT;
                r = prepare_key(scope, c, &fields[i], i == 0);
        }
        mysql_free_result(meta);
        if (r == 0 && rj->count > 0)
                r = route_columns_to_reader(rj, stmt);
        return r;
}

/* An integer: a number while a double holds it exactly, else its digits as
 * a string, unless the column's output says otherwise. */
static void append_int(strbuf_t *out, const rowjson_column_t *c, api_output_t output)
{
        long long v = c->value.i;
        bool quoted;

        if (output == API_OUTPUT_BOOLEAN) {
                if (v != 0) /* constant lengths: the copies inline */
                        strbuf_append(out, "true", 4);
                else
                        strbuf_append(out, "false", 5);
                return;
        }
        if (c->is_unsigned)
                quoted = (unsigned long long)v > (unsigned long long)JSON_TYPES_MAX_EXACT_INT;
        else
                quoted = v < -JSON_TYPES_MAX_EXACT_INT || v > JSON_TYPES_MAX_EXACT_INT;
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

/* Writes ".f" with the column's fraction digits at p, or nothing; returns the end. */
static char *put_fraction(char *p, const rowjson_column_t *c)
{
        unsigned long fraction = c->value.t.second_part;
        unsigned digits = json_types_fraction_digits(c->decimals, fraction);

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
        if (c->kind == JSON_KIND_TIME) {
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
                if (c->kind != JSON_KIND_DATE) {
                        *p++ = zone ? 'T' : ' ';
                        p = json_text_put_digits(p, t->hour, 2);
                        p = put_clock_tail(p, t);
                        p = put_fraction(p, c);
                        if (c->kind == JSON_KIND_TIMESTAMP && zone != NULL) {
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
static void append_bytes(strbuf_t *out, const rowjson_column_t *c, api_output_t output, bool csv)
{
        const char *bytes = c->text;

        if (csv && (c->kind == JSON_KIND_TEXT || c->kind == JSON_KIND_JSON)) {
                append_csv_field(out, bytes, c->length);
                return;
        }
        switch (c->kind) {
        case JSON_KIND_BIT:
                append_bits(out, c, output);
                break;
        case JSON_KIND_DECIMAL:
                append_decimal(out, bytes, c->length, output);
                break;
        case JSON_KIND_BINARY:
                json_text_base64(out, (const unsigned char *)bytes, c->length);
                break;
        case JSON_KIND_JSON:
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

static void append_real(strbuf_t *out, const rowjson_column_t *c, api_output_t output)
{
        bool quoted = output == API_OUTPUT_STRING;

        if (quoted)
                strbuf_append_char(out, '"');
        if (c->kind == JSON_KIND_FLOAT)
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
static void append_value(strbuf_t *out, const rowjson_t *rj, unsigned i, api_output_t output,
                         const char *zone, bool csv)
{
        const rowjson_column_t *c = &rj->columns[i];

        if (c->is_null) {
                if (!csv)
                        strbuf_append(out, "null", 4);
                return;
        }
        switch (c->kind) {
        case JSON_KIND_INT:
                append_int(out, c, output);
                break;
        case JSON_KIND_FLOAT:
        case JSON_KIND_DOUBLE:
                append_real(out, c, output);
                break;
        case JSON_KIND_DATE:
        case JSON_KIND_DATETIME:
        case JSON_KIND_TIMESTAMP:
        case JSON_KIND_TIME:
                append_temporal(out, c, zone);
                break;
        default:
                append_bytes(out, c, output, csv);
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
                append_value(out, rj, i, rj->columns[i].output, rj->time_zone, false);
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

void rowjson_append_csv_row(const rowjson_t *rj, strbuf_t *out)
{
        for (unsigned i = 0; i < rj->visible; i++) {
                if (i > 0)
                        strbuf_append_char(out, ',');
                append_value(out, rj, i, rj->columns[i].output, rj->time_zone, true);
        }
        strbuf_append(out, "\r\n", 2);
}

void rowjson_append_plain(const rowjson_t *rj, unsigned column, strbuf_t *out)
{
        const rowjson_column_t *c = &rj->columns[column];

        if (c->kind == JSON_KIND_TEXT || c->kind == JSON_KIND_DECIMAL ||
            c->kind == JSON_KIND_BINARY || c->kind == JSON_KIND_JSON || c->is_null ||
            c->kind == JSON_KIND_DATE || c->kind == JSON_KIND_DATETIME ||
            c->kind == JSON_KIND_TIMESTAMP || c->kind == JSON_KIND_TIME) {
                append_value(out, rj, column, API_OUTPUT_DEFAULT, NULL, false);
                return;
        }
        append_value(out, rj, column, API_OUTPUT_STRING, NULL, false); /* numbers, quoted */
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
            rj->columns[column].is_null)
                return false;
        *ret_value = rj->columns[column].value.i;
        return true;
}
