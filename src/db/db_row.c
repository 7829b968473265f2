/*
 * Rows read through Connector/C's result callback rather than through bound
 * buffers: that spares a copy of every string and a conversion pass, since
 * the text stays in the connection's receive buffer until the next fetch.
 * Values are decoded from the wire forms Connector/C's own fetch reads, each
 * within an end it may not pass.
 */
#include "db/db_row.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * A length-encoded count: sets *n and returns what follows, or NULL when the
 * count does not fit before end. 251 and 255 never start a length in a
 * binary row; they read as the counts they spell.
 */
static inline const unsigned char *read_length(const unsigned char *p, const unsigned char *end,
                                               unsigned long *n)
{
        size_t avail = (size_t)(end - p);

        if (avail == 0)
                return NULL;
        switch (p[0]) {
        case 252:
                if (avail < 3)
                        return NULL;
                *n = read_u16(p + 1);
                return p + 3;
        case 253:
                if (avail < 4)
                        return NULL;
                *n = read_u16(p + 1) | (unsigned long)p[3] << 16;
                return p + 4;
        case 254:
                if (avail < 9)
                        return NULL;
                *n = (unsigned long)read_u64(p + 1);
                return p + 9;
        default:
                *n = p[0];
                return p + 1;
        }
}

/* A length-encoded run of bytes: its start and length, or NULL when it does not fit. */
static inline const unsigned char *read_counted(const unsigned char *p, const unsigned char *end,
                                                unsigned long *n)
{
        p = read_length(p, end, n);
        return p != NULL && *n <= (size_t)(end - p) ? p : NULL;
}

/* DATE, DATETIME, TIMESTAMP: the n bytes (0, 4, 7 or 11) after the length. */
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

/* TIME: the n bytes (0, 8 or 12) after the length: sign, days, h, m, s, micros. */
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

/* The value of c at p, as db_row_decode_value. Always inlined: in the
 * per-value callback a call costs about as much as the decoding itself. */
static inline __attribute__((always_inline)) int
decode_value(db_row_column_t *c, const unsigned char *p, const unsigned char *end,
             const unsigned char **ret_next)
{
        db_row_value_t *v = &c->value;
        size_t avail = (size_t)(end - p);
        unsigned long n;
        uint32_t f;
        uint64_t d;

        v->is_null = false;
        switch (c->type) {
        case MYSQL_TYPE_TINY:
                if (avail < 1)
                        return -EBADMSG;
                v->as.i = c->is_unsigned ? (long long)p[0] : (long long)(int8_t)p[0];
                *ret_next = p + 1;
                return 0;
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_YEAR:
                if (avail < 2)
                        return -EBADMSG;
                v->as.i = c->is_unsigned ? (long long)read_u16(p) : (long long)(int16_t)read_u16(p);
                *ret_next = p + 2;
                return 0;
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
                if (avail < 4)
                        return -EBADMSG;
                v->as.i = c->is_unsigned ? (long long)read_u32(p) : (long long)(int32_t)read_u32(p);
                *ret_next = p + 4;
                return 0;
        case MYSQL_TYPE_LONGLONG:
                if (avail < 8)
                        return -EBADMSG;
                v->as.i = (long long)read_u64(p); /* unsigned: the same bits */
                *ret_next = p + 8;
                return 0;
        case MYSQL_TYPE_FLOAT:
                if (avail < 4)
                        return -EBADMSG;
                f = read_u32(p);
                memcpy(&v->as.f, &f, sizeof(f));
                *ret_next = p + 4;
                return 0;
        case MYSQL_TYPE_DOUBLE:
                if (avail < 8)
                        return -EBADMSG;
                d = read_u64(p);
                memcpy(&v->as.d, &d, sizeof(d));
                *ret_next = p + 8;
                return 0;
        case MYSQL_TYPE_NULL:
                v->length = 0;
                v->bytes = (const char *)p;
                *ret_next = p;
                return 0;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_DATETIME2:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIMESTAMP2:
                if ((p = read_counted(p, end, &n)) == NULL)
                        return -EBADMSG;
                read_datetime(&v->as.t, p, n);
                *ret_next = p + n;
                return 0;
        case MYSQL_TYPE_TIME:
        case MYSQL_TYPE_TIME2:
                if ((p = read_counted(p, end, &n)) == NULL)
                        return -EBADMSG;
                read_time(&v->as.t, p, n);
                *ret_next = p + n;
                return 0;
        default:
                if ((p = read_counted(p, end, &n)) == NULL)
                        return -EBADMSG;
                v->bytes = (const char *)p;
                v->length = n;
                *ret_next = p + n;
                return 0;
        }
}

int db_row_decode_value(db_row_column_t *column, const unsigned char *p, const unsigned char *end,
                        const unsigned char **ret_next)
{
        return decode_value(column, p, end, ret_next);
}

int db_row_decode(db_row_t *row, const unsigned char *packet, size_t len)
{
        const unsigned char *end = packet + len;
        size_t bitmap = (row->count + 9) / 8; /* two reserved bits, then a bit per column */

        if (len < 1 + bitmap)
                return -EBADMSG;
        const unsigned char *nulls = packet + 1; /* after the header byte, 0 */
        const unsigned char *p = nulls + bitmap;
        for (unsigned i = 0; i < row->count; i++) {
                unsigned bit = i + 2;
                db_row_column_t *c = &row->columns[i];
                if (nulls[bit / 8] & (1u << (bit % 8))) {
                        c->value.is_null = true;
                        continue;
                }
                if (decode_value(c, p, end, &p) < 0)
                        return -EBADMSG;
        }
        return 0;
}

/*
 * The end a live value may not pass: the end of the receive buffer when the
 * value lies in it, as an unbuffered fetch leaves it; anything else (rows
 * a buffered or cursor fetch keeps elsewhere, which queryd does not use)
 * has no bound to read within, and reads as malformed.
 */
static inline const unsigned char *receive_end(const db_row_t *row, const unsigned char *p)
{
        uintptr_t at = (uintptr_t)p;

        if (at >= (uintptr_t)row->net->buff && at < (uintptr_t)row->net->buff_end)
                return row->net->buff_end;
        return p;
}

void db_row_column_cb(void *data, unsigned int column, unsigned char **value)
{
        db_row_t *row = data;
        db_row_column_t *c = &row->columns[column];
        const unsigned char *next;

        if (value == NULL) {
                c->value.is_null = true;
                return;
        }
        if (decode_value(c, *value, receive_end(row, *value), &next) < 0) {
                /* *value stays: the fetch fails as a whole (see db_row_bind). */
                row->malformed = true;
                c->value.is_null = true;
                return;
        }
        *value = (unsigned char *)next;
}

static bool is_json_column(const MYSQL_FIELD *f)
{
        MARIADB_CONST_STRING format;

        if (f->type == MYSQL_TYPE_JSON)
                return true;
        return mariadb_field_attr(&format, f, MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
               format.length == 4 && memcmp(format.str, "json", 4) == 0;
}

/*
 * Every column is bound as a placeholder (MADB_BIND_DUMMY), which hands
 * all of them to the callback whatever the statement's earlier bindings.
 */
static int route_columns_to_callback(db_row_t *row, MYSQL_STMT *stmt)
{
        MYSQL_BIND *binds = calloc(row->count, sizeof(*binds));
        int r = 0;

        if (binds == NULL)
                return -ENOMEM;
        for (unsigned i = 0; i < row->count; i++) {
                binds[i].buffer_type = MYSQL_TYPE_NULL;
                binds[i].flags = MADB_BIND_DUMMY;
        }
        if (mysql_stmt_attr_set(stmt, STMT_ATTR_CB_USER_DATA, row) ||
            mysql_stmt_attr_set(stmt, STMT_ATTR_CB_RESULT, (const void *)db_row_column_cb) ||
            mysql_stmt_bind_result(stmt, binds))
                r = -EIO;
        free(binds);
        return r;
}

int db_row_bind(db_row_t *row, scope_t *scope, MYSQL_STMT *stmt)
{
        MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
        int r = 0;

        memset(row, 0, sizeof(*row));
        if (meta == NULL)
                return 0; /* a statement without a result set */
        row->net = &stmt->mysql->net;
        row->count = mysql_num_fields(meta);
        row->columns = scope_alloc(scope, row->count * sizeof(*row->columns));
        if (row->columns == NULL)
                r = -ENOMEM;
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        for (unsigned i = 0; r == 0 && i < row->count; i++) {
                db_row_column_t *c = &row->columns[i];
                c->type = fields[i].type;
                c->is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
                c->is_json = is_json_column(&fields[i]);
                c->decimals = fields[i].decimals;
                c->charsetnr = fields[i].charsetnr;
                c->name = scope_strndup(scope, fields[i].name, fields[i].name_length);
                c->name_len = fields[i].name_length;
                if (c->name == NULL)
                        r = -ENOMEM;
        }
        mysql_free_result(meta);
        if (r == 0 && row->count > 0)
                r = route_columns_to_callback(row, stmt);
        return r;
}
