/*
 * POST /<resource>: inserts the rows of the body, a JSON object (one row),
 * a JSON array, NDJSON or CSV. The body is parsed as it arrives and its
 * rows are sent in multi-row INSERTs as batches fill, all in one
 * transaction: the whole body or nothing. While a batch is written the body
 * is not read, so memory holds one batch whatever the body's size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "routes/routes.h"
#include "routes/write_common.h"
#include "sql/write_values.h"

/*
 * A statement inserts a power of two of rows, at most MAX_STATEMENT_ROWS and
 * MAX_STATEMENT_VALUES values, so that every connection prepares a few
 * shapes of it, once. A batch is written when it holds that many rows or
 * BATCH_BYTES of body; a batch of another size goes out in power-of-two
 * pieces.
 */
enum {
        MAX_STATEMENT_ROWS = 1024,
        MAX_STATEMENT_VALUES = 32768,
        SHAPES = 11, /* 1, 2, 4 ... 1024 rows */
        BATCH_BYTES = 1024 * 1024,
};

typedef struct insert {
        write_request_t w;
        body_reader_t *reader;
        size_t *columns;           /* the body's columns, from its first row */
        size_t column_count;
        size_t statement_rows;     /* the most rows one statement inserts */
        write_returning_t returning;
        const char *sql[SHAPES];   /* the statement for 2^i rows, once written */
        /* the batch being filled, then written */
        scope_t *batch;            /* holds its values; closed once it is written */
        MYSQL_BIND *values;        /* column_count per row */
        size_t rows, capacity;     /* rows in the batch, rows values has room for */
        size_t bytes;              /* body bytes read into it */
        size_t sent;               /* rows of it written */
        bool writing;
        bool body_ended;
        bool end_pending;          /* the body ended while a batch was written */
        const char *location;      /* a single row's item path, once known */
        row_keys_t keys;           /* the batch's keys read back, for the view's row check */
        row_keys_t first_key;      /* a single row's key, for Location */
        unsigned long long unkept; /* keys read back that could not be kept (out of memory) */
} insert_t;

static void write_batch(insert_t *ins);

/* ---- the batch ---- */

static void close_batch(void *arg)
{
        insert_t *ins = arg;

        if (ins->batch != NULL)
                scope_close(ins->batch);
        ins->batch = NULL;
}

/* A batch starts with room for a few rows and doubles as rows come: a
 * single-row POST must not clear room for a thousand. */
enum { FIRST_CAPACITY = 8 };

static int open_batch(insert_t *ins)
{
        ins->batch = scope_new();
        ins->rows = ins->bytes = ins->sent = 0;
        ins->capacity = FIRST_CAPACITY;
        ins->values = ins->batch ? scope_alloc(ins->batch, ins->capacity * ins->column_count *
                                                               sizeof(*ins->values))
                                 : NULL;
        return ins->values ? 0 : -ENOMEM;
}

/* Room for one more row: a batch grows to a statement's rows, and past them
 * when a piece of body completes more rows than a statement takes. */
static int make_room(insert_t *ins)
{
        if (ins->rows < ins->capacity)
                return 0;
        size_t row_size = ins->column_count * sizeof(*ins->values);
        MYSQL_BIND *more = scope_alloc(ins->batch, 2 * ins->capacity * row_size);
        if (more == NULL)
                return -ENOMEM;
        memcpy(more, ins->values, ins->rows * row_size);
        ins->values = more;
        ins->capacity *= 2;
        return 0;
}

static size_t largest_power_of_two(size_t n)
{
        size_t p = 1;

        while (p * 2 <= n)
                p *= 2;
        return p;
}

/* The first row names the body's columns; every later row sets the same. */
static int learn_columns(insert_t *ins, const body_row_t *row, char *detail, size_t size)
{
        const api_resource_t *res = ins->w.res;
        int n = write_values_columns(res, row, ins->columns, detail, size);

        if (n < 0)
                return n;
        if (n == 0) {
                snprintf(detail, size, "it sets no column");
                return -EINVAL;
        }
        ins->column_count = (size_t)n;
        for (size_t i = 0; i < res->column_count; i++) {
                if (!res->columns[i].required)
                        continue;
                bool given = false;
                for (size_t j = 0; j < ins->column_count; j++)
                        given = given || ins->columns[j] == i;
                if (!given) {
                        snprintf(detail, size, "it does not set column '%s', which has no "
                                               "default", res->columns[i].name);
                        return -EINVAL;
                }
        }
        /* Only a single row's key is wanted, for its Location. */
        if (!ins->w.single && ins->returning == WRITE_RETURN_KEYS && res->row_sql == NULL)
                ins->returning = WRITE_RETURN_NOTHING;
        ins->statement_rows = largest_power_of_two(MAX_STATEMENT_VALUES / ins->column_count);
        if (ins->statement_rows > MAX_STATEMENT_ROWS)
                ins->statement_rows = MAX_STATEMENT_ROWS;
        return open_batch(ins);
}

static int take_row(const body_row_t *row, void *data)
{
        insert_t *ins = data;
        char detail[384];
        int r = 0;

        ins->w.single = body_reader_single(ins->reader);
        if (ins->column_count == 0)
                r = learn_columns(ins, row, detail, sizeof(detail));
        if (r == 0)
                r = make_room(ins);
        if (r == 0)
                r = write_values_bind(ins->w.res, ins->columns, ins->column_count, row, ins->batch,
                                      &ins->values[ins->rows * ins->column_count], detail,
                                      sizeof(detail));
        if (r == -EINVAL) {
                if (ins->w.single)
                        write_abort(&ins->w, 400, "invalid-body", "the body: %s", detail);
                else
                        write_abort(&ins->w, 400, "invalid-body", "row %llu: %s", row->index,
                                    detail);
        }
        if (r < 0)
                return r;
        ins->rows++;
        return 0;
}

/* ---- writing it ---- */

static const char *statement_for(insert_t *ins, size_t rows)
{
        unsigned shape = 0;

        while (((size_t)1 << shape) < rows)
                shape++;
        if (ins->sql[shape] == NULL)
                ins->sql[shape] = write_sql_insert(ins->w.res, ins->columns, ins->column_count,
                                                   rows, ins->w.prefer.resolution, ins->returning,
                                                   ins->w.req->scope);
        return ins->sql[shape];
}

/* The key positions in what RETURNING sends back. */
static const size_t *returned_keys(const insert_t *ins)
{
        static const size_t in_order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

        return ins->returning == WRITE_RETURN_KEYS ? in_order : ins->w.res->key;
}

static bool keep_returned(db_query_t *q, void *data)
{
        insert_t *ins = data;

        if (ins->w.prefer.representation)
                write_keep_row(q, &ins->w);
        /* A key that cannot be kept cannot be checked: the body is refused. */
        if (ins->w.single && ins->first_key.rows == 0 && ins->first_key.capacity > 0 &&
            row_keys_add(&ins->first_key, &q->row, returned_keys(ins), ins->batch) < 0)
                ins->unkept++;
        if (ins->w.res->row_sql != NULL &&
            row_keys_add(&ins->keys, &q->row, returned_keys(ins), ins->batch) < 0)
                ins->unkept++;
        return true;
}

static void batch_written(insert_t *ins);

static void batch_checked(void *data)
{
        batch_written(data);
}

static void piece_written(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        insert_t *ins = data;

        (void)tx;
        if (!write_step_ok(&ins->w, status, error))
                return;
        if (ins->unkept > 0) {
                write_abort(&ins->w, 500, "internal", "out of memory while keeping keys");
                return;
        }
        if (ins->sent < ins->rows) {
                write_batch(ins);
                return;
        }
        write_check_rows(&ins->w, &ins->keys, ins->batch, batch_checked, ins);
}

/* Sends the next piece of the batch: the largest power of two of rows left. */
static void write_batch(insert_t *ins)
{
        size_t left = ins->rows - ins->sent;
        size_t n = largest_power_of_two(left < ins->statement_rows ? left : ins->statement_rows);
        const char *sql = statement_for(ins, n);

        if (sql == NULL) {
                write_abort(&ins->w, 500, "internal", "out of memory");
                return;
        }
        if (ins->w.res->row_sql != NULL && ins->sent == 0 &&
            row_keys_init(&ins->keys, ins->w.res->key_count, ins->rows, ins->batch) < 0) {
                write_abort(&ins->w, 500, "internal", "out of memory");
                return;
        }
        MYSQL_BIND *values = &ins->values[ins->sent * ins->column_count];
        ins->sent += n;
        write_read_back_options(&ins->w);
        write_tx_run(ins->w.tx, sql, values,
                     ins->returning != WRITE_RETURN_NOTHING ? keep_returned : NULL, ins,
                     piece_written, ins);
}

static void began(write_tx_t *tx, int status, const db_error_t *error, void *data)
{
        insert_t *ins = data;

        (void)tx;
        if (!write_step_ok(&ins->w, status, error))
                return;
        write_batch(ins);
}

static void start_batch(insert_t *ins)
{
        ins->writing = true;
        if (write_tx_is_open(ins->w.tx))
                write_batch(ins);
        else
                write_tx_begin(ins->w.tx, began, ins);
}

/* ---- the answer ---- */

static int body_ended(insert_t *ins);

static void batch_written(insert_t *ins)
{
        ins->writing = false;
        /* The key's values lie in the batch: the Location is written before it closes. */
        if (ins->w.single && ins->first_key.rows > 0 && ins->location == NULL)
                ins->location = write_location(&ins->w, ins->first_key.binds);
        if (ins->body_ended) {
                write_finish(&ins->w, 201, ins->location);
                return;
        }
        close_batch(ins);
        if (open_batch(ins) < 0) {
                write_abort(&ins->w, 500, "internal", "out of memory");
                return;
        }
        if (ins->end_pending)
                body_ended(ins);
        else
                http_body_resume(ins->w.req);
}

/* ---- the body ---- */

static bool batch_is_full(const insert_t *ins)
{
        return ins->rows >= ins->statement_rows || ins->bytes >= BATCH_BYTES;
}

static int body_ended(insert_t *ins)
{
        if (ins->writing) { /* the end came before the batch it follows was written */
                ins->end_pending = true;
                return HTTP_BODY_MORE;
        }
        int r = body_reader_finish(ins->reader, take_row, ins);

        ins->body_ended = true;
        if (r < 0) {
                if (!ins->w.failed)
                        write_fail_body(&ins->w, ins->reader, r);
                return HTTP_BODY_STOP;
        }
        if (ins->rows > 0) {
                start_batch(ins);
                return HTTP_BODY_MORE;
        }
        write_finish(&ins->w, 201, ins->location);
        return HTTP_BODY_STOP;
}

static int on_body(http_request_t *req, const char *chunk, size_t len, void *data)
{
        insert_t *ins = data;

        (void)req;
        if (ins->w.failed)
                return HTTP_BODY_STOP;
        if (len == 0)
                return body_ended(ins);
        int r = body_reader_feed(ins->reader, chunk, len, take_row, ins);
        ins->w.single = ins->w.single || body_reader_single(ins->reader);
        if (r < 0) {
                if (!ins->w.failed)
                        write_fail_body(&ins->w, ins->reader, r);
                return HTTP_BODY_STOP;
        }
        ins->bytes += len;
        if (ins->rows == 0 || !batch_is_full(ins))
                return HTTP_BODY_MORE;
        start_batch(ins);
        return HTTP_BODY_PAUSE;
}

static void free_reader(void *arg)
{
        body_reader_free(arg);
}

/* What RETURNING must bring back: the rows for the answer, or the keys
 * for a Location or the view's row check. */
static write_returning_t returning_for(const write_request_t *w, body_format_t format)
{
        if (w->prefer.representation)
                return WRITE_RETURN_COLUMNS;
        if (w->res->key_count > 0 && (w->res->row_sql != NULL || format == BODY_FORMAT_JSON))
                return WRITE_RETURN_KEYS;
        return WRITE_RETURN_NOTHING;
}

void collection_post(env_t *env, http_request_t *req, const route_match_t *match)
{
        static const char *const no_args[] = { NULL };
        const api_resource_t *res = match->target;
        insert_t *ins = scope_alloc(req->scope, sizeof(*ins));
        body_format_t format;

        if (ins == NULL) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        if (!http_check_query_args(req, no_args) || !write_body_format(req, true, &format) ||
            !write_request_init(&ins->w, env, req, res))
                return;
        if (ins->w.prefer.resolution == PREFER_MERGE_DUPLICATES && res->row_sql != NULL) {
                http_fail(req, 403, "forbidden", "resolution=merge-duplicates could change rows "
                                                 "outside this role's rows: it is not available "
                                                 "to a role with a row rule");
                return;
        }
        ins->returning = returning_for(&ins->w, format);
        ins->reader = body_reader_new(format, WRITE_MAX_ROW_BYTES, res->column_count);
        if (ins->reader != NULL && scope_defer(req->scope, free_reader, ins->reader, NULL) < 0) {
                body_reader_free(ins->reader);
                ins->reader = NULL;
        }
        ins->columns = scope_alloc(req->scope, res->column_count * sizeof(*ins->columns));
        if (ins->reader == NULL || ins->columns == NULL ||
            scope_defer(req->scope, close_batch, ins, NULL) < 0 ||
            (res->key_count > 0 &&
             row_keys_init(&ins->first_key, res->key_count, 1, req->scope) < 0)) {
                http_fail(req, 500, "internal", "out of memory");
                return;
        }
        http_receive_body(req, on_body, ins);
}
