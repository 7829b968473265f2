/*
 * libFuzzer harness for the binary-protocol row decoder (db_row.h) and the
 * writer behind it (rowjson.h). The input is a result's columns (two bytes
 * each: type, then sign, charset, format, output override and decimals),
 * then a row packet. Whatever the bytes, decoding reads nothing past the
 * packet (it lies in a buffer of exactly its size) and fails as a whole or
 * not at all; the callback driven as Connector/C drives it agrees with
 * db_row_decode; and a decoded row is written as valid JSON. A broken
 * invariant aborts so libFuzzer saves the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"
#include "core/strbuf.h"
#include "db/db_row.h"
#include "fuzz_check.h"
#include "json/json_text.h"
#include "json/json_types.h"
#include "json/rowjson.h"

enum { MAX_COLUMNS = 40 };

static const enum enum_field_types TYPES[] = {
        MYSQL_TYPE_TINY,       MYSQL_TYPE_SHORT,      MYSQL_TYPE_YEAR,      MYSQL_TYPE_INT24,
        MYSQL_TYPE_LONG,       MYSQL_TYPE_LONGLONG,   MYSQL_TYPE_FLOAT,     MYSQL_TYPE_DOUBLE,
        MYSQL_TYPE_NULL,       MYSQL_TYPE_DATE,       MYSQL_TYPE_NEWDATE,   MYSQL_TYPE_DATETIME,
        MYSQL_TYPE_DATETIME2,  MYSQL_TYPE_TIMESTAMP,  MYSQL_TYPE_TIMESTAMP2, MYSQL_TYPE_TIME,
        MYSQL_TYPE_TIME2,      MYSQL_TYPE_DECIMAL,    MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_VARCHAR,
        MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_STRING,     MYSQL_TYPE_TINY_BLOB, MYSQL_TYPE_BLOB,
        MYSQL_TYPE_MEDIUM_BLOB, MYSQL_TYPE_LONG_BLOB, MYSQL_TYPE_JSON,      MYSQL_TYPE_BIT,
        MYSQL_TYPE_GEOMETRY,   MYSQL_TYPE_ENUM,       MYSQL_TYPE_SET,
};
enum { TYPE_COUNT = sizeof(TYPES) / sizeof(TYPES[0]) };

static const unsigned DECIMALS[] = { 0, 1, 3, 6, 31, 39, 2, 5 };

typedef struct result {
        db_row_t row;
        db_row_column_t columns[MAX_COLUMNS];
        api_output_t outputs[MAX_COLUMNS];
        char names[MAX_COLUMNS][8];
} result_t;

/* The columns the input's first bytes describe; returns how many bytes they took. */
static size_t read_columns(result_t *res, const uint8_t *data, size_t size)
{
        unsigned count = size > 0 ? data[0] % MAX_COLUMNS + 1 : 1;
        size_t used = 1;

        memset(res, 0, sizeof(*res));
        res->row.count = count;
        res->row.columns = res->columns;
        for (unsigned i = 0; i < count; i++, used += 2) {
                uint8_t type = used < size ? data[used] : 0;
                uint8_t bits = used + 1 < size ? data[used + 1] : 0;
                db_row_column_t *c = &res->columns[i];
                snprintf(res->names[i], sizeof(res->names[i]), "c%u", i);
                c->type = TYPES[type % TYPE_COUNT];
                c->is_unsigned = bits & 1;
                c->charsetnr = bits & 2 ? JSON_TYPES_BINARY_CHARSET : 45;
                c->is_json = (bits & 4) != 0;
                res->outputs[i] = (api_output_t)((bits >> 3) & 3);
                c->decimals = DECIMALS[bits >> 5];
                c->name = res->names[i];
                c->name_len = strlen(res->names[i]);
        }
        return used < size ? used : size;
}

/* Walks the packet as Connector/C does, the packet being the receive buffer. */
static void fetch_like_library(db_row_t *row, unsigned char *packet, size_t len)
{
        unsigned char *value = packet + 1, *null_ptr = value, bit_offset = 4;
        NET net;

        memset(&net, 0, sizeof(net));
        net.buff = packet;
        net.buff_end = packet + len;
        row->net = &net;
        row->malformed = false;
        value += (row->count + 9) / 8;
        for (unsigned i = 0; i < row->count; i++) {
                db_row_column_cb(row, i, *null_ptr & bit_offset ? NULL : &value);
                if (!((bit_offset <<= 1) & 255)) {
                        bit_offset = 1;
                        null_ptr++;
                }
        }
        row->net = NULL;
}

static bool same_value(const db_row_column_t *c, const db_row_value_t *a, const db_row_value_t *b)
{
        if (a->is_null || b->is_null)
                return a->is_null == b->is_null;
        switch (c->type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_YEAR:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
                return a->as.i == b->as.i;
        case MYSQL_TYPE_FLOAT:
                return memcmp(&a->as.f, &b->as.f, sizeof(a->as.f)) == 0;
        case MYSQL_TYPE_DOUBLE:
                return memcmp(&a->as.d, &b->as.d, sizeof(a->as.d)) == 0;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_NEWDATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_DATETIME2:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIMESTAMP2:
        case MYSQL_TYPE_TIME:
        case MYSQL_TYPE_TIME2:
                return memcmp(&a->as.t, &b->as.t, sizeof(a->as.t)) == 0;
        default:
                return a->bytes == b->bytes && a->length == b->length;
        }
}

/* Writes the decoded row every way rowjson does; the JSON forms must parse. */
static void write_row(result_t *res, const unsigned char *packet, size_t len)
{
        scope_t *scope = scope_new();
        rowjson_options_t options = { "+01:00", res->outputs, res->row.count, 0 };
        rowjson_t rj;
        strbuf_t out = { 0 };
        bool raw_digits = false;

        if (scope == NULL)
                abort();
        for (unsigned i = 0; i < res->row.count; i++) {
                const db_row_column_t *c = &res->columns[i];
                const db_row_value_t *v = &c->value;
                json_kind_t kind = json_types_kind(c->type, c->charsetnr, c->is_json);
                /* DECIMAL written as a number copies MariaDB's digits, trusted as JSON. */
                raw_digits |= kind == JSON_KIND_DECIMAL &&
                              json_types_form(kind, res->outputs[i])->write == JSON_WRITE_NUMBER;
                if (!v->is_null && v->bytes != NULL)
                        CHECK((const unsigned char *)v->bytes >= packet &&
                                      v->length <= len &&
                                      (const unsigned char *)v->bytes + v->length <= packet + len,
                              "column %u: %lu bytes outside the packet", i, v->length);
        }
        CHECK(rowjson_prepare(&rj, scope, &res->row, &options) == 0, "prepare failed");
        rowjson_append_row(&rj, &out);
        CHECK(out.failed || raw_digits || json_text_is_valid(out.data, out.len),
              "invalid JSON row: %.*s", (int)out.len, out.data);
        out.len = 0;
        rowjson_append_listed(&rj, ROW_FORMAT_CSV, 0, &out);
        out.len = 0;
        for (unsigned i = 0; i < res->row.count; i++) {
                long long value;
                rowjson_append_plain(&rj, i, &out);
                (void)rowjson_integer(&rj, i, &value);
        }
        strbuf_done(&out);
        scope_close(scope);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static result_t res, again;
        size_t used = read_columns(&res, data, size);
        size_t len = size - used;
        unsigned char *packet = malloc(len ? len : 1); /* exactly the packet: ASan sees past it */

        if (packet == NULL)
                abort();
        memcpy(packet, data + used, len);
        int r = db_row_decode(&res.row, packet, len);
        CHECK(r == 0 || r == -EBADMSG, "db_row_decode gave %d", r);

        /* The live path, bounded by the same end, reads the same. */
        size_t bitmap_end = 1 + (res.row.count + 9) / 8;
        if (len >= bitmap_end) {
                again = res;
                again.row.columns = again.columns;
                fetch_like_library(&again.row, packet, len);
                CHECK(again.row.malformed == (r != 0), "callback malformed %d, decode %d",
                      again.row.malformed, r);
                for (unsigned i = 0; r == 0 && i < res.row.count; i++)
                        CHECK(same_value(&res.columns[i], &res.columns[i].value,
                                         &again.columns[i].value),
                              "column %u differs between the two paths", i);
        } else {
                CHECK(r == -EBADMSG, "a packet without its bitmap decoded");
        }
        if (r == 0)
                write_row(&res, packet, len);
        free(packet);
        return 0;
}
