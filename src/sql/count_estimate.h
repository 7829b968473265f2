/*
 * count=estimated: the optimizer's estimate of the rows a collection's
 * filters match, read from the EXPLAIN EXTENDED of "SELECT 1 FROM <table>
 * WHERE <filters>" (collection_plan.h writes it, with the filters' values
 * bound like every other statement's). Without filters the estimate is the
 * table's statistics, which a full scan's EXPLAIN reports.
 */
#ifndef QUERYD_COUNT_ESTIMATE_H
#define QUERYD_COUNT_ESTIMATE_H

#include <stddef.h>

/**
 * Reads the estimate from the EXPLAIN's rows, written as JSON objects
 * separated by commas (rowjson's listing, keys as MariaDB names the
 * columns): the product, over the rows of the outermost select (id 1, the
 * tables joined in it), of each one's rows (times filtered / 100 for a full
 * scan), rounded; a row without a row count (an impossible WHERE) counts
 * as 0. Returns 0 with
 * *ret_estimate >= 0, or -EINVAL when the text holds no such row.
 */
int count_estimate_read(const char *rows_json, size_t len, long long *ret_estimate);

#endif
