/*
 * An embedding read's batch of rows, level by level. Rows are kept as the
 * text rowjson writes, with their closing brace left off, and their keys as
 * the plain texts of their join columns; a level is sorted by its own key
 * once read, so that each parent finds its related rows by binary search
 * when the batch is written.
 */
#include "routes/embed_rows.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool add_span(embed_level_t *level, size_t at, size_t len)
{
        if (level->span_count == level->span_cap) {
                size_t cap = level->span_cap ? 2 * level->span_cap : 64;
                embed_span_t *more = realloc(level->spans, cap * sizeof(*more));
                if (more == NULL)
                        return false;
                level->spans = more;
                level->span_cap = cap;
        }
        level->spans[level->span_count++] = (embed_span_t){ at, len };
        return true;
}

/* The plain values of fields as one text ("1","x"), or a NULL key's span. */
static bool keep_key(embed_level_t *level, const rowjson_t *rows, const unsigned *fields, size_t n)
{
        size_t at = level->text.len;

        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strbuf_append_char(&level->text, ',');
                size_t before = level->text.len;
                rowjson_append_plain(rows, fields[i], &level->text);
                if (level->text.len - before == 4 &&
                    memcmp(level->text.data + before, "null", 4) == 0) {
                        level->text.len = at;
                        return add_span(level, at, SIZE_MAX);
                }
        }
        return add_span(level, at, level->text.len - at);
}

bool embed_rows_keep(embed_rows_t *all, size_t k, const rowjson_t *rows)
{
        const embed_node_t *node = all->plan->nodes[k];
        embed_level_t *level = &all->levels[k];
        size_t at = level->text.len;
        bool ok;

        rowjson_append_row(rows, &level->text);
        if (level->text.failed || level->text.len == at)
                return false;
        level->text.len--; /* the closing brace, written after the embedded values */
        ok = add_span(level, at, level->text.len - at);
        if (ok && node->rel != NULL)
                ok = keep_key(level, rows, node->join_fields, node->rel->column_count);
        else if (ok)
                ok = add_span(level, 0, SIZE_MAX);
        for (size_t j = 0; ok && j < node->child_count; j++)
                ok = keep_key(level, rows, node->child_fields[j],
                              node->children[j]->rel->column_count);
        level->rows++;
        return ok && !level->text.failed;
}

size_t embed_rows_bytes(const embed_rows_t *rows)
{
        size_t n = 0;

        for (size_t i = 0; i < rows->plan->node_count; i++)
                n += rows->levels[i].text.len + rows->levels[i].span_count * sizeof(embed_span_t);
        return n;
}

static int compare_keys(const void *a, const void *b)
{
        const embed_keyed_row_t *x = a, *y = b;
        int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

        if (c != 0)
                return c;
        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return x->row < y->row ? -1 : x->row > y->row;
}

/* The rows of level k whose key (span slot of 2 + child_count) is set, sorted. */
static embed_keyed_row_t *sorted_keys(const embed_rows_t *rows, size_t k, size_t slot,
                                      scope_t *scope, size_t *ret_count)
{
        const embed_level_t *level = &rows->levels[k];
        size_t stride = 2 + rows->plan->nodes[k]->child_count, n = 0;
        embed_keyed_row_t *keys = scope_alloc(scope, (level->rows + 1) * sizeof(*keys));

        for (size_t r = 0; keys != NULL && r < level->rows; r++) {
                const embed_span_t *s = &level->spans[r * stride + slot];
                if (s->len != SIZE_MAX)
                        keys[n++] = (embed_keyed_row_t){ level->text.data + s->at, s->len, r };
        }
        if (keys != NULL && n > 1)
                qsort(keys, n, sizeof(*keys), compare_keys);
        *ret_count = n;
        return keys;
}

/* One key's plain values, from its text of JSON strings. */
static int decode_key(scope_t *scope, const embed_keyed_row_t *key, size_t width,
                      const char **values, size_t *lengths)
{
        strbuf_t text = { 0 };
        json_t *array;
        int r = 0;

        strbuf_append_char(&text, '[');
        strbuf_append(&text, key->key, key->len);
        strbuf_append_char(&text, ']');
        array = text.failed ? NULL : json_loadb(text.data, text.len, JSON_ALLOW_NUL, NULL);
        strbuf_done(&text);
        if (!json_is_array(array) || json_array_size(array) != width)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < width; i++) {
                json_t *v = json_array_get(array, i);
                lengths[i] = json_string_length(v);
                values[i] = scope_strndup(scope, json_string_value(v), lengths[i]);
                if (!json_is_string(v) || values[i] == NULL)
                        r = -ENOMEM;
        }
        json_decref(array);
        return r;
}

int embed_rows_parent_keys(const embed_rows_t *rows, size_t k, scope_t *scope,
                           const char ***ret_values, size_t **ret_lengths, size_t *ret_count)
{
        const embed_node_t *node = rows->plan->nodes[k];
        const embed_node_t *parent = node->parent;
        size_t j = 0, n, count = 0, width = node->rel->column_count;

        while (parent->children[j] != node)
                j++;
        embed_keyed_row_t *keys = sorted_keys(rows, embed_plan_index(rows->plan, parent), 2 + j,
                                              scope, &n);
        const char **values = scope_alloc(scope, (n * width + 1) * sizeof(*values));
        size_t *lengths = scope_alloc(scope, (n * width + 1) * sizeof(*lengths));
        if (keys == NULL || values == NULL || lengths == NULL)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && keys[i].len == keys[i - 1].len &&
                    memcmp(keys[i].key, keys[i - 1].key, keys[i].len) == 0)
                        continue;
                int r = decode_key(scope, &keys[i], width, &values[count * width],
                                   &lengths[count * width]);
                if (r < 0)
                        return r;
                count++;
        }
        *ret_values = values;
        *ret_lengths = lengths;
        *ret_count = count;
        return 0;
}

int embed_rows_index(embed_rows_t *rows, size_t k, scope_t *scope)
{
        embed_level_t *level = &rows->levels[k];

        level->sorted = sorted_keys(rows, k, 1, scope, &level->sorted_count);
        return level->sorted ? 0 : -ENOMEM;
}
static void render_row(const embed_rows_t *rows, size_t k, size_t row, strbuf_t *out);

/* The first of level k's sorted rows whose key is key, or sorted_count. */
static size_t first_with_key(const embed_level_t *level, const char *key, size_t len)
{
        embed_keyed_row_t probe = { key, len, 0 };
        size_t lo = 0, hi = level->sorted_count;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (compare_keys(&level->sorted[mid], &probe) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* A parent's related rows of level k: an object or null, or an array. */
static void render_related(const embed_rows_t *rows, size_t k, const char *key, size_t len,
                           strbuf_t *out)
{
        const embed_level_t *level = &rows->levels[k];
        bool to_one = rows->plan->nodes[k]->rel->to_one;
        size_t i = len == SIZE_MAX ? level->sorted_count : first_with_key(level, key, len);
        size_t n = 0;

        if (!to_one)
                strbuf_append_char(out, '[');
        for (; i < level->sorted_count && level->sorted[i].len == len &&
               memcmp(level->sorted[i].key, key, len) == 0 && !(to_one && n > 0); i++, n++) {
                if (n > 0)
                        strbuf_append_char(out, ',');
                render_row(rows, k, level->sorted[i].row, out);
        }
        strbuf_append_str(out, to_one ? (n ? "" : "null") : "]");
}

static void render_row(const embed_rows_t *rows, size_t k, size_t row, strbuf_t *out)
{
        const embed_node_t *node = rows->plan->nodes[k];
        const embed_level_t *level = &rows->levels[k];
        const embed_span_t *s = &level->spans[row * (2 + node->child_count)];

        strbuf_append(out, level->text.data + s[0].at, s[0].len);
        for (size_t j = 0; j < node->child_count; j++) {
                strbuf_appendf(out, ",%s:", node->children[j]->key);
                render_related(rows, embed_plan_index(rows->plan, node->children[j]),
                               level->text.data + s[2 + j].at, s[2 + j].len, out);
        }
        strbuf_append_char(out, '}');
}


void embed_rows_write(const embed_rows_t *rows, size_t row, strbuf_t *out)
{
        render_row(rows, 0, row, out);
}

void embed_rows_clear(embed_rows_t *rows)
{
        for (size_t i = 0; i < EMBED_MAX_NODES; i++) {
                embed_level_t *level = &rows->levels[i];
                level->text.len = 0;
                level->text.failed = false;
                level->span_count = level->rows = level->sorted_count = 0;
                level->sorted = NULL;
        }
}

void embed_rows_done(embed_rows_t *rows)
{
        for (size_t i = 0; i < EMBED_MAX_NODES; i++) {
                strbuf_done(&rows->levels[i].text);
                free(rows->levels[i].spans);
                rows->levels[i].spans = NULL;
        }
}


