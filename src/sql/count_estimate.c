/*
 * The row estimate of count=estimated, from an EXPLAIN EXTENDED's rows.
 * MariaDB prints "rows" as an integer and "filtered" as a percentage; both
 * may reach us as numbers or as strings (exact digits), so both are read.
 */
#include "sql/count_estimate.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"

/* A number given as a JSON number or as its digits; NAN when it is neither. */
static double number_of(const json_t *value)
{
        if (json_is_number(value))
                return json_number_value(value);
        if (json_is_string(value)) {
                char *end;
                double d = strtod(json_string_value(value), &end);
                return end != json_string_value(value) && *end == '\0' ? d : NAN;
        }
        return NAN;
}

/* Whether the row reads the whole table: then "filtered" is the share of its
 * rows the conditions keep. An access by index has already counted the
 * conditions it uses in "rows", and MariaDB's "filtered" then relates to the
 * whole table: applied again, it would count them twice. */
static bool full_scan(const json_t *row)
{
        const char *type = json_string_value(json_object_get(row, "type"));

        return type != NULL && (strcmp(type, "ALL") == 0 || strcmp(type, "index") == 0);
}

/* One EXPLAIN row's share: its rows after its filtering, or NAN when it is
 * not a row of the outermost select. */
static double row_share(const json_t *row)
{
        double rows = number_of(json_object_get(row, "rows"));
        double filtered = number_of(json_object_get(row, "filtered"));

        if (number_of(json_object_get(row, "id")) != 1.0)
                return NAN;
        if (isnan(rows))
                return 0.0;
        return isnan(filtered) || !full_scan(row) ? rows : rows * filtered / 100.0;
}

static double product_of(const json_t *rows)
{
        double product = NAN;
        size_t i;
        json_t *row;

        json_array_foreach(rows, i, row) {
                double share = row_share(row);
                if (!isnan(share))
                        product = isnan(product) ? share : product * share;
        }
        return product;
}

int count_estimate_read(const char *rows_json, size_t len, long long *ret_estimate)
{
        strbuf_t text = { 0 };

        strbuf_append_char(&text, '[');
        strbuf_append(&text, rows_json, len);
        strbuf_append_char(&text, ']');
        json_t *rows = text.failed ? NULL : json_loadb(text.data, text.len, 0, NULL);
        strbuf_done(&text);
        double product = json_is_array(rows) ? product_of(rows) : NAN;
        json_decref(rows);
        if (isnan(product) || product < 0)
                return -EINVAL;
        /* The optimizer's arithmetic can exceed any table: keep within long long. */
        *ret_estimate = product >= 9.0e18 ? 9000000000000000000LL : llround(product);
        return 0;
}
