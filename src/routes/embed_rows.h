/*
 * One batch of an embedding read, held between its statements: each
 * level's rows as JSON objects still open, with the keys that join them,
 * then written out with every parent's related rows inside its object.
 * Memory is the batch's; embed_rows_clear() empties it for the next.
 */
#ifndef QUERYD_EMBED_ROWS_H
#define QUERYD_EMBED_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/scope.h"
#include "core/strbuf.h"
#include "json/rowjson.h"
#include "sql/embed_plan.h"

/* A piece of a level's text; len SIZE_MAX: a key with a NULL in it. */
typedef struct embed_span {
        size_t at, len;
} embed_span_t;

/* A row's key for a lookup among a level's rows. */
typedef struct embed_keyed_row {
        const char *key;
        size_t len;
        size_t row;
} embed_keyed_row_t;

/*
 * One level's rows: each as its JSON object without the closing brace, its
 * own key (how it joins its parent) and the key each of its children joins
 * on, as texts in text; 2 + child_count spans per row.
 */
typedef struct embed_level {
        strbuf_t text;
        embed_span_t *spans;
        size_t span_count, span_cap;
        size_t rows;
        embed_keyed_row_t *sorted; /* the rows by own key, then as read (embed_rows_index) */
        size_t sorted_count;
} embed_level_t;

typedef struct embed_rows {
        const embed_plan_t *plan;
        embed_level_t levels[EMBED_MAX_NODES]; /* as plan->nodes */
} embed_rows_t;

/**
 * Keeps the row fetched last of level k (rows, as its node's plan reads
 * them). False when out of memory.
 */
bool embed_rows_keep(embed_rows_t *rows, size_t k, const rowjson_t *row);

/** The memory the batch's rows hold. */
size_t embed_rows_bytes(const embed_rows_t *rows);

/**
 * The distinct keys the parents of level k join it on, each
 * plan->nodes[k]->rel->column_count plain texts (values and lengths, in
 * scope). 0 or -ENOMEM.
 */
int embed_rows_parent_keys(const embed_rows_t *rows, size_t k, scope_t *scope,
                           const char ***ret_values, size_t **ret_lengths, size_t *ret_count);

/** Sorts level k's rows by their keys once every one is read. 0 or -ENOMEM. */
int embed_rows_index(embed_rows_t *rows, size_t k, scope_t *scope);

/** Appends the top level's row with everything related inside it. */
void embed_rows_write(const embed_rows_t *rows, size_t row, strbuf_t *out);

/** Forgets the batch's rows, keeping the memory for the next. */
void embed_rows_clear(embed_rows_t *rows);

/** Frees the memory. */
void embed_rows_done(embed_rows_t *rows);

#endif
