/*
 * Unit tests for the binary-protocol row decoder, over rows built by hand:
 * every column type at its extremes, DATE/DATETIME/TIMESTAMP and TIME at
 * each length the protocol allows, length prefixes of 1, 3, 4 and 9 bytes,
 * the NULL bitmap (two reserved bits, so columns 6 and 14 start new bytes)
 * read both by db_row_decode and by the callback driven the way Connector/C
 * drives it, and rows cut at every byte: always reported, never read past
 * (each input is copied to a buffer of exactly its size, so AddressSanitizer
 * sees any byte read beyond it).
 */
#include <errno.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_row.h"
#include "test.h"

/* ------------------------------------------------------------------ building rows */

typedef struct bytes {
        unsigned char *data;
        size_t len, cap;
} bytes_t;

static void put(bytes_t *b, const void *data, size_t len)
{
        if (b->len + len > b->cap) {
                b->cap = (b->len + len) * 2;
                b->data = realloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
}

static void put_u8(bytes_t *b, unsigned v)
{
        unsigned char c = (unsigned char)v;

        put(b, &c, 1);
}

/* width bytes of v, little-endian. */
static void put_le(bytes_t *b, uint64_t v, unsigned width)
{
        for (unsigned i = 0; i < width; i++)
                put_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

/* A length in a prefix of prefix_bytes (1, 3, 4 or 9), minimal or not. */
static void put_length(bytes_t *b, uint64_t n, unsigned prefix_bytes)
{
        switch (prefix_bytes) {
        case 1:
                put_u8(b, (unsigned)n);
                return;
        case 3:
                put_u8(b, 0xfc);
                put_le(b, n, 2);
                return;
        case 4:
                put_u8(b, 0xfd);
                put_le(b, n, 3);
                return;
        default:
                put_u8(b, 0xfe);
                put_le(b, n, 8);
                return;
        }
}

static void put_counted(bytes_t *b, const void *data, size_t len, unsigned prefix_bytes)
{
        put_length(b, len, prefix_bytes);
        put(b, data, len);
}

/* The header byte and a NULL bitmap for count columns, with the columns in nulls set. */
static void put_row_start(bytes_t *b, unsigned count, const bool *nulls)
{
        size_t bitmap = (count + 9) / 8;
        unsigned char map[8] = { 0 };

        for (unsigned i = 0; i < count; i++)
                if (nulls != NULL && nulls[i])
                        map[(i + 2) / 8] |= (unsigned char)(1u << ((i + 2) % 8));
        put_u8(b, 0);
        put(b, map, bitmap);
}

/* A copy of the first len bytes in a buffer of exactly that size. */
static unsigned char *exact_copy(const unsigned char *data, size_t len)
{
        unsigned char *copy = malloc(len ? len : 1);

        memcpy(copy, data, len);
        return copy;
}

static void set_columns(db_row_t *row, db_row_column_t *columns, unsigned count,
                        enum enum_field_types type, bool is_unsigned)
{
        memset(row, 0, sizeof(*row));
        memset(columns, 0, count * sizeof(*columns));
        row->count = count;
        row->columns = columns;
        for (unsigned i = 0; i < count; i++) {
                columns[i].type = type;
                columns[i].is_unsigned = is_unsigned;
        }
}

/*
 * Walks a row packet as Connector/C (mthd_stmt_fetch_to_bind) does: the
 * bitmap from its third bit, one callback per column, NULL for SQL NULL.
 * The receive buffer is the packet itself.
 */
static void fetch_like_library(db_row_t *row, unsigned char *packet, size_t len, NET *net)
{
        unsigned char *value = packet + 1, *null_ptr = value, bit_offset = 4;

        memset(net, 0, sizeof(*net));
        net->buff = packet;
        net->buff_end = packet + len;
        row->net = net;
        row->malformed = false;
        value += (row->count + 9) / 8;
        for (unsigned i = 0; i < row->count; i++) {
                if (*null_ptr & bit_offset)
                        db_row_column_cb(row, i, NULL);
                else
                        db_row_column_cb(row, i, &value);
                if (!((bit_offset <<= 1) & 255)) {
                        bit_offset = 1;
                        null_ptr++;
                }
        }
}

/* Decodes the one value in b as column c, from an exact copy; returns what it consumed. */
static long decode_one(db_row_column_t *c, const bytes_t *b)
{
        unsigned char *copy = exact_copy(b->data, b->len);
        const unsigned char *next = NULL;
        int r = db_row_decode_value(c, copy, copy + b->len, &next);
        long used = r == 0 ? (long)(next - copy) : r;

        free(copy); /* c's bytes, if any, pointed into it: not read after */
        return used;
}

/* ------------------------------------------------------------------ fixed-size values */

static long long integer_of(enum enum_field_types type, bool is_unsigned, uint64_t wire,
                            unsigned width, long *ret_used)
{
        db_row_column_t c = { .type = type, .is_unsigned = is_unsigned };
        bytes_t b = { 0 };

        put_le(&b, wire, width);
        *ret_used = decode_one(&c, &b);
        free(b.data);
        return c.value.as.i;
}

#define ASSERT_INTEGER(type, is_unsigned, wire, width, expected)                              \
        do {                                                                                  \
                long used;                                                                    \
                ASSERT_EQ_INT(integer_of((type), (is_unsigned), (wire), (width), &used),      \
                              (expected));                                                    \
                ASSERT_EQ_INT(used, (width));                                                 \
        } while (0)

static void test_integers_at_their_extremes(void)
{
        ASSERT_INTEGER(MYSQL_TYPE_TINY, false, 0x80, 1, -128);
        ASSERT_INTEGER(MYSQL_TYPE_TINY, false, 0x7f, 1, 127);
        ASSERT_INTEGER(MYSQL_TYPE_TINY, false, 0xff, 1, -1);
        ASSERT_INTEGER(MYSQL_TYPE_TINY, true, 0xff, 1, 255);
        ASSERT_INTEGER(MYSQL_TYPE_TINY, true, 0, 1, 0);
        ASSERT_INTEGER(MYSQL_TYPE_SHORT, false, 0x8000, 2, -32768);
        ASSERT_INTEGER(MYSQL_TYPE_SHORT, false, 0x7fff, 2, 32767);
        ASSERT_INTEGER(MYSQL_TYPE_SHORT, true, 0xffff, 2, 65535);
        ASSERT_INTEGER(MYSQL_TYPE_YEAR, true, 2155, 2, 2155);
        ASSERT_INTEGER(MYSQL_TYPE_YEAR, true, 0, 2, 0);
        /* MEDIUMINT travels in four bytes, sign-extended. */
        ASSERT_INTEGER(MYSQL_TYPE_INT24, false, 0xff800000, 4, -8388608);
        ASSERT_INTEGER(MYSQL_TYPE_INT24, false, 0x7fffff, 4, 8388607);
        ASSERT_INTEGER(MYSQL_TYPE_INT24, true, 0xffffff, 4, 16777215);
        ASSERT_INTEGER(MYSQL_TYPE_LONG, false, 0x80000000, 4, INT32_MIN);
        ASSERT_INTEGER(MYSQL_TYPE_LONG, false, 0x7fffffff, 4, INT32_MAX);
        ASSERT_INTEGER(MYSQL_TYPE_LONG, true, 0xffffffff, 4, 4294967295LL);
        ASSERT_INTEGER(MYSQL_TYPE_LONGLONG, false, 0x8000000000000000ULL, 8, INT64_MIN);
        ASSERT_INTEGER(MYSQL_TYPE_LONGLONG, false, 0x7fffffffffffffffULL, 8, INT64_MAX);
        /* Unsigned BIGINT keeps its bits: the writer reads them back as unsigned. */
        ASSERT_INTEGER(MYSQL_TYPE_LONGLONG, true, UINT64_MAX, 8, -1);
        ASSERT_INTEGER(MYSQL_TYPE_LONGLONG, true, 9007199254740993ULL, 8, 9007199254740993LL);
}

static void test_reals(void)
{
        const float floats[] = { 1.5f, -0.0f, FLT_MAX, -FLT_MIN, 0.1f };
        const double doubles[] = { 0.1, -1e308, DBL_MIN, 5e-324, 123456789.125 };

        for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
                db_row_column_t c = { .type = MYSQL_TYPE_FLOAT };
                bytes_t b = { 0 };
                uint32_t bits;
                memcpy(&bits, &floats[i], 4);
                put_le(&b, bits, 4);
                ASSERT_EQ_INT(decode_one(&c, &b), 4);
                ASSERT_EQ_MEM(&c.value.as.f, 4, &floats[i], 4);
                free(b.data);
        }
        for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
                db_row_column_t c = { .type = MYSQL_TYPE_DOUBLE };
                bytes_t b = { 0 };
                uint64_t bits;
                memcpy(&bits, &doubles[i], 8);
                put_le(&b, bits, 8);
                ASSERT_EQ_INT(decode_one(&c, &b), 8);
                ASSERT_EQ_MEM(&c.value.as.d, 8, &doubles[i], 8);
                free(b.data);
        }
}

static void test_null_type_takes_no_bytes(void)
{
        db_row_column_t c = { .type = MYSQL_TYPE_NULL };
        const unsigned char none[1] = { 0x55 };
        const unsigned char *next = NULL;

        ASSERT_EQ_INT(db_row_decode_value(&c, none, none, &next), 0);
        ASSERT_EQ_PTR(next, none);
        ASSERT_EQ_UINT(c.value.length, 0);
        ASSERT_FALSE(c.value.is_null);
}

/* ------------------------------------------------------------------ dates and times */

static void test_datetimes_at_each_length(void)
{
        static const enum enum_field_types types[] = {
                MYSQL_TYPE_DATE,      MYSQL_TYPE_NEWDATE,   MYSQL_TYPE_DATETIME,
                MYSQL_TYPE_DATETIME2, MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_TIMESTAMP2,
        };
        static const unsigned char full[11] = { 0xe8, 0x07, 12, 31, 23, 59, 58,
                                                0x3f, 0x42, 0x0f, 0x00 }; /* 999999 us */

        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
                static const unsigned lengths[] = { 0, 4, 7, 11 };
                for (size_t l = 0; l < 4 * 4; l++) {
                        static const unsigned prefixes[] = { 1, 3, 4, 9 };
                        unsigned n = lengths[l % 4], prefix = prefixes[l / 4];
                        db_row_column_t c = { .type = types[t] };
                        bytes_t b = { 0 };
                        put_counted(&b, full, n, prefix);
                        memset(&c.value.as.t, 0x5a, sizeof(c.value.as.t)); /* all overwritten */
                        ASSERT_EQ_INT(decode_one(&c, &b), prefix + n);
                        const MYSQL_TIME *v = &c.value.as.t;
                        ASSERT_EQ_UINT(v->year, n >= 4 ? 2024 : 0);
                        ASSERT_EQ_UINT(v->month, n >= 4 ? 12 : 0);
                        ASSERT_EQ_UINT(v->day, n >= 4 ? 31 : 0);
                        ASSERT_EQ_UINT(v->hour, n >= 7 ? 23 : 0);
                        ASSERT_EQ_UINT(v->minute, n >= 7 ? 59 : 0);
                        ASSERT_EQ_UINT(v->second, n >= 7 ? 58 : 0);
                        ASSERT_EQ_UINT(v->second_part, n >= 11 ? 999999 : 0);
                        ASSERT_FALSE(v->neg);
                        free(b.data);
                }
        }
}

static void test_times_at_each_length_and_negative(void)
{
        /* -(34 days 22:33:44.123456), that is -838:33:44.123456 */
        static const unsigned char full[12] = { 1, 34, 0, 0, 0, 22, 33, 44, 0x40, 0xe2, 0x01, 0 };

        for (unsigned type = 0; type < 2; type++) {
                static const unsigned lengths[] = { 0, 8, 12 };
                for (size_t l = 0; l < 3; l++) {
                        unsigned n = lengths[l];
                        db_row_column_t c = { .type = type ? MYSQL_TYPE_TIME2 : MYSQL_TYPE_TIME };
                        bytes_t b = { 0 };
                        put_counted(&b, full, n, 1);
                        memset(&c.value.as.t, 0x5a, sizeof(c.value.as.t));
                        ASSERT_EQ_INT(decode_one(&c, &b), 1 + n);
                        const MYSQL_TIME *v = &c.value.as.t;
                        ASSERT_EQ_INT(v->neg, n >= 8);
                        ASSERT_EQ_UINT(v->day, n >= 8 ? 34 : 0);
                        ASSERT_EQ_UINT(v->hour, n >= 8 ? 22 : 0);
                        ASSERT_EQ_UINT(v->minute, n >= 8 ? 33 : 0);
                        ASSERT_EQ_UINT(v->second, n >= 8 ? 44 : 0);
                        ASSERT_EQ_UINT(v->second_part, n >= 12 ? 123456 : 0);
                        ASSERT_EQ_UINT(v->year, 0);
                        free(b.data);
                }
        }
        /* A positive time: the sign byte 0. */
        db_row_column_t c = { .type = MYSQL_TYPE_TIME };
        bytes_t b = { 0 };
        const unsigned char plus[8] = { 0, 0, 0, 0, 0, 1, 2, 3 };
        put_counted(&b, plus, 8, 1);
        ASSERT_EQ_INT(decode_one(&c, &b), 9);
        ASSERT_FALSE(c.value.as.t.neg);
        ASSERT_EQ_UINT(c.value.as.t.hour, 1);
        free(b.data);
}

/* ------------------------------------------------------------------ counted bytes */

/* The value's bytes point into the row as received: nothing is copied. */
static void check_counted(enum enum_field_types type, size_t len, unsigned prefix_bytes)
{
        db_row_column_t c = { .type = type };
        bytes_t b = { 0 };
        unsigned char *text = malloc(len ? len : 1);
        const unsigned char *next = NULL;

        for (size_t i = 0; i < len; i++)
                text[i] = (unsigned char)(i * 7 + 1);
        put_counted(&b, text, len, prefix_bytes);
        put_u8(&b, 0xee); /* the next value: not consumed */
        unsigned char *copy = exact_copy(b.data, b.len);
        ASSERT_EQ_INT(db_row_decode_value(&c, copy, copy + b.len, &next), 0);
        ASSERT_EQ_PTR(c.value.bytes, copy + prefix_bytes);
        ASSERT_EQ_UINT(c.value.length, len);
        ASSERT_EQ_PTR(next, copy + prefix_bytes + len);
        ASSERT_TRUE(len == 0 || memcmp(c.value.bytes, text, len) == 0);
        free(copy);
        free(text);
        free(b.data);
}

static void test_strings_decimals_blobs_json(void)
{
        static const enum enum_field_types types[] = {
                MYSQL_TYPE_VARCHAR,   MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_STRING,
                MYSQL_TYPE_DECIMAL,   MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_TINY_BLOB,
                MYSQL_TYPE_BLOB,      MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_LONG_BLOB,
                MYSQL_TYPE_JSON,      MYSQL_TYPE_BIT,        MYSQL_TYPE_GEOMETRY,
                MYSQL_TYPE_ENUM,      MYSQL_TYPE_SET,
        };

        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
                check_counted(types[t], 0, 1);
                check_counted(types[t], 5, 1);
                check_counted(types[t], 250, 1);
        }
}

static void test_length_prefixes(void)
{
        /* 1 byte up to 250; 0xfc + 2 bytes; 0xfd + 3 bytes; 0xfe + 8 bytes. */
        check_counted(MYSQL_TYPE_BLOB, 250, 1);
        check_counted(MYSQL_TYPE_BLOB, 251, 3);
        check_counted(MYSQL_TYPE_BLOB, 65535, 3);
        check_counted(MYSQL_TYPE_BLOB, 65536, 4);
        check_counted(MYSQL_TYPE_BLOB, 70000, 4);
        check_counted(MYSQL_TYPE_LONG_BLOB, 16777216, 9);
        /* Wider prefixes than needed read the same. */
        check_counted(MYSQL_TYPE_VAR_STRING, 3, 3);
        check_counted(MYSQL_TYPE_VAR_STRING, 3, 4);
        check_counted(MYSQL_TYPE_VAR_STRING, 3, 9);
}

static void test_lengths_past_the_end(void)
{
        static const uint64_t huge[] = { UINT64_MAX, UINT64_MAX - 8, 1ULL << 63, 1ULL << 32, 6 };

        for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
                db_row_column_t c = { .type = MYSQL_TYPE_BLOB };
                bytes_t b = { 0 };
                put_length(&b, huge[i], 9);
                put(&b, "12345", 5);
                ASSERT_EQ_INT(decode_one(&c, &b), -EBADMSG);
                free(b.data);
        }
        /* A date whose length runs past the end. */
        db_row_column_t d = { .type = MYSQL_TYPE_DATE };
        bytes_t b = { 0 };
        put_u8(&b, 4);
        put(&b, "\xe8\x07\x01", 3);
        ASSERT_EQ_INT(decode_one(&d, &b), -EBADMSG);
        free(b.data);
}

/* ------------------------------------------------------------------ rows and the NULL bitmap */

/*
 * count LONG columns whose value is their index, those in nulls NULL:
 * checks db_row_decode and the callback driven like the library agree on
 * which are NULL and read every other value.
 */
static void check_bitmap(unsigned count, const bool *nulls)
{
        db_row_column_t columns[24];
        db_row_t row;
        bytes_t b = { 0 };
        NET net;

        set_columns(&row, columns, count, MYSQL_TYPE_LONG, false);
        put_row_start(&b, count, nulls);
        for (unsigned i = 0; i < count; i++)
                if (!nulls[i])
                        put_le(&b, 1000 + i, 4);
        for (int way = 0; way < 2; way++) {
                unsigned char *copy = exact_copy(b.data, b.len);
                for (unsigned i = 0; i < count; i++)
                        columns[i].value.is_null = !nulls[i]; /* all wrong before */
                if (way == 0)
                        ASSERT_EQ_INT(db_row_decode(&row, copy, b.len), 0);
                else
                        fetch_like_library(&row, copy, b.len, &net);
                ASSERT_FALSE(row.malformed);
                for (unsigned i = 0; i < count; i++) {
                        ASSERT_EQ_INT(columns[i].value.is_null, nulls[i]);
                        if (!nulls[i])
                                ASSERT_EQ_INT(columns[i].value.as.i, 1000 + i);
                }
                free(copy);
        }
        free(b.data);
}

static void test_null_bitmap_at_byte_edges(void)
{
        /* Columns 6 and 14 start the second and third bitmap bytes (two bits reserved). */
        static const unsigned edges[] = { 0, 1, 5, 6, 7, 8, 13, 14, 15, 16 };
        bool nulls[24];

        for (unsigned count = 1; count <= 17; count++) {
                memset(nulls, 0, sizeof(nulls));
                check_bitmap(count, nulls);
                for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
                        if (edges[e] >= count)
                                continue;
                        memset(nulls, 0, sizeof(nulls));
                        nulls[edges[e]] = true;
                        check_bitmap(count, nulls);
                        memset(nulls, 1, sizeof(nulls));
                        nulls[edges[e]] = false;
                        check_bitmap(count, nulls);
                }
                memset(nulls, 1, sizeof(nulls));
                check_bitmap(count, nulls);
                for (unsigned i = 0; i < count; i++)
                        nulls[i] = i % 2;
                check_bitmap(count, nulls);
        }
        /* The edges together. */
        memset(nulls, 0, sizeof(nulls));
        nulls[5] = nulls[6] = nulls[7] = nulls[8] = true;
        nulls[13] = nulls[14] = nulls[15] = nulls[16] = true;
        check_bitmap(17, nulls);
        check_bitmap(24, nulls);
}

/* A row of every type, one value each, some counted with wide prefixes. */
static void mixed_row(db_row_t *row, db_row_column_t *columns, bytes_t *b)
{
        static const enum enum_field_types types[] = {
                MYSQL_TYPE_TINY,     MYSQL_TYPE_SHORT,   MYSQL_TYPE_YEAR,     MYSQL_TYPE_INT24,
                MYSQL_TYPE_LONG,     MYSQL_TYPE_LONGLONG, MYSQL_TYPE_FLOAT,   MYSQL_TYPE_DOUBLE,
                MYSQL_TYPE_NULL,     MYSQL_TYPE_DATE,    MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIMESTAMP,
                MYSQL_TYPE_TIME,     MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_VAR_STRING,
                MYSQL_TYPE_BLOB,     MYSQL_TYPE_JSON,    MYSQL_TYPE_BIT,      MYSQL_TYPE_TIME,
        };
        enum { COUNT = sizeof(types) / sizeof(types[0]) };
        bool nulls[COUNT] = { false };
        static const unsigned char when[11] = { 0xe8, 0x07, 2, 29, 1, 2, 3, 1, 0, 0, 0 };
        static const unsigned char span[12] = { 1, 2, 0, 0, 0, 3, 4, 5, 9, 0, 0, 0 };

        nulls[8] = true; /* the NULL type always comes as NULL */
        set_columns(row, columns, COUNT, MYSQL_TYPE_NULL, false);
        for (unsigned i = 0; i < COUNT; i++)
                columns[i].type = types[i];
        put_row_start(b, COUNT, nulls);
        put_le(b, 0x80, 1);
        put_le(b, 0x8000, 2);
        put_le(b, 1999, 2);
        put_le(b, 0xff800000, 4);
        put_le(b, 0x80000000, 4);
        put_le(b, 0x8000000000000000ULL, 8);
        put_le(b, 0x3fc00000, 4); /* 1.5f */
        put_le(b, 0x3fb999999999999aULL, 8); /* 0.1 */
        put_counted(b, when, 4, 1);
        put_counted(b, when, 7, 3);
        put_counted(b, when, 11, 1);
        put_counted(b, span, 8, 1);
        put_counted(b, "-12.50", 6, 4);
        put_counted(b, "hello", 5, 1);
        put_counted(b, "\x00\x01\x02", 3, 9);
        put_counted(b, "{\"a\":[1,2]}", 11, 3);
        put_counted(b, "\x01\x00", 2, 1);
        put_counted(b, span, 12, 1);
}

static void test_mixed_row(void)
{
        db_row_column_t columns[24];
        db_row_t row;
        bytes_t b = { 0 };
        NET net;

        mixed_row(&row, columns, &b);
        for (int way = 0; way < 2; way++) {
                unsigned char *copy = exact_copy(b.data, b.len);
                if (way == 0)
                        ASSERT_EQ_INT(db_row_decode(&row, copy, b.len), 0);
                else
                        fetch_like_library(&row, copy, b.len, &net);
                ASSERT_FALSE(row.malformed);
                ASSERT_EQ_INT(columns[0].value.as.i, -128);
                ASSERT_EQ_INT(columns[1].value.as.i, -32768);
                ASSERT_EQ_INT(columns[2].value.as.i, 1999);
                ASSERT_EQ_INT(columns[3].value.as.i, -8388608);
                ASSERT_EQ_INT(columns[4].value.as.i, INT32_MIN);
                ASSERT_EQ_INT(columns[5].value.as.i, INT64_MIN);
                ASSERT_TRUE(columns[6].value.as.f == 1.5f);
                ASSERT_TRUE(columns[7].value.as.d == 0.1);
                ASSERT_TRUE(columns[8].value.is_null);
                ASSERT_EQ_UINT(columns[9].value.as.t.day, 29);
                ASSERT_EQ_UINT(columns[10].value.as.t.second, 3);
                ASSERT_EQ_UINT(columns[11].value.as.t.second_part, 1);
                ASSERT_EQ_UINT(columns[12].value.as.t.minute, 4);
                ASSERT_EQ_MEM(columns[13].value.bytes, columns[13].value.length, "-12.50", 6);
                ASSERT_EQ_MEM(columns[14].value.bytes, columns[14].value.length, "hello", 5);
                ASSERT_EQ_MEM(columns[15].value.bytes, columns[15].value.length, "\0\1\2", 3);
                ASSERT_EQ_MEM(columns[16].value.bytes, columns[16].value.length, "{\"a\":[1,2]}",
                              11);
                ASSERT_EQ_MEM(columns[17].value.bytes, columns[17].value.length, "\1\0", 2);
                ASSERT_EQ_UINT(columns[18].value.as.t.second_part, 9);
                ASSERT_TRUE(columns[18].value.as.t.neg);
                free(copy);
        }
        /* Bytes after the last value are left alone, as the library leaves them. */
        put(&b, "trailing", 8);
        unsigned char *copy = exact_copy(b.data, b.len);
        ASSERT_EQ_INT(db_row_decode(&row, copy, b.len), 0);
        free(copy);
        free(b.data);
}

static void test_rows_cut_at_every_byte(void)
{
        db_row_column_t columns[24];
        db_row_t row;
        bytes_t b = { 0 };
        NET net;

        mixed_row(&row, columns, &b);
        size_t bitmap_end = 1 + (row.count + 9) / 8;
        for (size_t cut = 0; cut <= b.len; cut++) {
                unsigned char *copy = exact_copy(b.data, cut);
                int expected = cut == b.len ? 0 : -EBADMSG;
                ASSERT_EQ_INT(db_row_decode(&row, copy, cut), expected);
                /* The library reads the bitmap itself; past it, the callback sees the cut. */
                if (cut >= bitmap_end) {
                        fetch_like_library(&row, copy, cut, &net);
                        ASSERT_EQ_INT(row.malformed, cut != b.len);
                }
                free(copy);
        }
        free(b.data);
}

static void test_each_type_cut_at_every_byte(void)
{
        db_row_column_t columns[24];
        db_row_t row;
        bytes_t b = { 0 };

        mixed_row(&row, columns, &b);
        free(b.data);
        for (unsigned i = 0; i < row.count; i++) {
                bytes_t one = { 0 };
                if (columns[i].type == MYSQL_TYPE_NULL)
                        continue;
                /* Each column alone, its value rebuilt at the widest prefix it may have. */
                db_row_column_t c = { .type = columns[i].type };
                switch (c.type) {
                case MYSQL_TYPE_TINY:
                        put_le(&one, 1, 1);
                        break;
                case MYSQL_TYPE_SHORT:
                case MYSQL_TYPE_YEAR:
                        put_le(&one, 1, 2);
                        break;
                case MYSQL_TYPE_INT24:
                case MYSQL_TYPE_LONG:
                case MYSQL_TYPE_FLOAT:
                        put_le(&one, 1, 4);
                        break;
                case MYSQL_TYPE_LONGLONG:
                case MYSQL_TYPE_DOUBLE:
                        put_le(&one, 1, 8);
                        break;
                default:
                        put_counted(&one, "0123456789ab", 12, 9);
                        break;
                }
                for (size_t cut = 0; cut <= one.len; cut++) {
                        unsigned char *copy = exact_copy(one.data, cut);
                        const unsigned char *next = NULL;
                        int r = db_row_decode_value(&c, copy, copy + cut, &next);
                        ASSERT_EQ_INT(r, cut == one.len ? 0 : -EBADMSG);
                        ASSERT_TRUE(r == 0 ? next == copy + cut : next == NULL);
                        free(copy);
                }
                free(one.data);
        }
}

/* Live values outside the receive buffer have no bound: they read as malformed. */
static void test_value_outside_the_receive_buffer(void)
{
        db_row_column_t columns[1];
        db_row_t row;
        unsigned char buffer[8] = { 0 }, elsewhere[4] = { 1, 0, 0, 0 };
        unsigned char *value = elsewhere;
        NET net;

        set_columns(&row, columns, 1, MYSQL_TYPE_LONG, false);
        memset(&net, 0, sizeof(net));
        net.buff = buffer;
        net.buff_end = buffer + sizeof(buffer);
        row.net = &net;
        db_row_column_cb(&row, 0, &value);
        ASSERT_TRUE(row.malformed);
        ASSERT_TRUE(columns[0].value.is_null);
        ASSERT_EQ_PTR(value, elsewhere);
        /* Inside it, a value ending exactly at the end is whole. */
        row.malformed = false;
        value = buffer + 4;
        db_row_column_cb(&row, 0, &value);
        ASSERT_FALSE(row.malformed);
        ASSERT_EQ_PTR(value, buffer + 8);
        /* One byte short is not. */
        value = buffer + 5;
        db_row_column_cb(&row, 0, &value);
        ASSERT_TRUE(row.malformed);
        ASSERT_EQ_PTR(value, buffer + 5);
}

static void test_empty_and_short_packets(void)
{
        db_row_column_t columns[7];
        db_row_t row;
        unsigned char *copy = exact_copy((const unsigned char *)"", 0);

        set_columns(&row, columns, 7, MYSQL_TYPE_TINY, false);
        ASSERT_EQ_INT(db_row_decode(&row, copy, 0), -EBADMSG);
        free(copy);
        /* Seven columns need a two-byte bitmap. */
        copy = exact_copy((const unsigned char *)"\0\xff", 2);
        ASSERT_EQ_INT(db_row_decode(&row, copy, 2), -EBADMSG);
        free(copy);
        copy = exact_copy((const unsigned char *)"\0\xfc\x01", 3); /* every column NULL */
        ASSERT_EQ_INT(db_row_decode(&row, copy, 3), 0);
        for (unsigned i = 0; i < 7; i++)
                ASSERT_TRUE(columns[i].value.is_null);
        free(copy);
        /* No columns: the header and a one-byte bitmap. */
        row.count = 0;
        copy = exact_copy((const unsigned char *)"\0\0", 2);
        ASSERT_EQ_INT(db_row_decode(&row, copy, 2), 0);
        ASSERT_EQ_INT(db_row_decode(&row, copy, 1), -EBADMSG);
        free(copy);
}

int main(void)
{
        RUN_TEST(test_integers_at_their_extremes);
        RUN_TEST(test_reals);
        RUN_TEST(test_null_type_takes_no_bytes);
        RUN_TEST(test_datetimes_at_each_length);
        RUN_TEST(test_times_at_each_length_and_negative);
        RUN_TEST(test_strings_decimals_blobs_json);
        RUN_TEST(test_length_prefixes);
        RUN_TEST(test_lengths_past_the_end);
        RUN_TEST(test_null_bitmap_at_byte_edges);
        RUN_TEST(test_mixed_row);
        RUN_TEST(test_rows_cut_at_every_byte);
        RUN_TEST(test_each_type_cut_at_every_byte);
        RUN_TEST(test_value_outside_the_receive_buffer);
        RUN_TEST(test_empty_and_short_packets);
        return test_report();
}
