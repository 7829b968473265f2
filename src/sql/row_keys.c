/* Fetched key values -> parameters; see row_keys.h. */
#include "sql/row_keys.h"

#include <errno.h>
#include <string.h>

int row_keys_init(row_keys_t *keys, size_t key_count, size_t capacity, scope_t *scope)
{
        *keys = (row_keys_t){ .key_count = key_count, .capacity = capacity };
        keys->binds = scope_alloc(scope, (key_count * capacity + 1) * sizeof(*keys->binds));
        return keys->binds ? 0 : -ENOMEM;
}

static int copy_bytes(const void *bytes, size_t len, scope_t *scope, MYSQL_BIND *b)
{
        void *copy = scope_strndup(scope, bytes, len);
        unsigned long *length = scope_alloc(scope, sizeof(*length));

        if (copy == NULL || length == NULL)
                return -ENOMEM;
        *length = len;
        b->buffer = copy;
        b->buffer_length = len;
        b->length = length;
        return 0;
}

/* The value as the server sent it, bound in the same type: it compares equal. */
static int bind_value(const db_row_column_t *c, scope_t *scope, MYSQL_BIND *b)
{
        const db_row_value_t *v = &c->value;

        *b = (MYSQL_BIND){ .buffer_type = c->type, .is_unsigned = c->is_unsigned };
        if (v->is_null) {
                b->buffer_type = MYSQL_TYPE_NULL;
                return 0;
        }
        switch (c->type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_YEAR:
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                return copy_bytes(&v->as.i, sizeof(v->as.i), scope, b);
        case MYSQL_TYPE_DOUBLE:
                return copy_bytes(&v->as.d, sizeof(v->as.d), scope, b);
        case MYSQL_TYPE_FLOAT:
                return copy_bytes(&v->as.f, sizeof(v->as.f), scope, b);
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIME:
                return copy_bytes(&v->as.t, sizeof(v->as.t), scope, b);
        default:
                b->buffer_type = c->charsetnr == 63 ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
                return copy_bytes(v->bytes, v->length, scope, b);
        }
}

int row_keys_add(row_keys_t *keys, const db_row_t *row, const size_t *columns, scope_t *scope)
{
        if (keys->rows == keys->capacity)
                return -ENOSPC;
        MYSQL_BIND *out = &keys->binds[keys->rows * keys->key_count];
        for (size_t k = 0; k < keys->key_count; k++) {
                if (columns[k] >= row->count)
                        return -EINVAL;
                int r = bind_value(&row->columns[columns[k]], scope, &out[k]);
                if (r < 0)
                        return r;
        }
        keys->rows++;
        return 0;
}
