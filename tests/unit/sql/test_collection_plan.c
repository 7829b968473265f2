/*
 * Unit tests for collection_plan: the SQL a collection request becomes.
 * Identifiers come from the resource, already quoted; request values only
 * ever appear as bound parameters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sql/collection_plan.h"
#include "sql/cursor.h"
#include "test.h"

static api_column_t columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING, .max_length = 24 },
          .orderable = true },
        { .name = "age", .quoted = "`age`", .rule = { .type = API_TYPE_INT }, .nullable = true,
          .orderable = true },
        { .name = "bio", .quoted = "`bio`", .rule = { .type = API_TYPE_STRING }, .nullable = true },
        { .name = "prefs", .quoted = "`prefs`", .rule = { .type = API_TYPE_JSON }, .nullable = true },
        { .name = "active", .quoted = "`active`", .rule = { .type = API_TYPE_BOOLEAN },
          .output = API_OUTPUT_BOOLEAN, .orderable = true },
};

static size_t key[] = { 0 };

static const api_resource_t people = {
        .path = "/people",
        .table = "people",
        .quoted_table = "`people`",
        .columns = columns,
        .column_count = sizeof(columns) / sizeof(columns[0]),
        .key = key,
        .key_count = 1,
        .default_limit = 100,
        .max_limit = 1000,
};

#define ALL "SELECT `id`,`name`,`age`,`bio`,`prefs`,`active` FROM `people`"

typedef struct built {
        scope_t *scope;
        collection_plan_t plan;
        collection_error_t err;
        int status;
} built_t;

/* Builds the plan for a query string of name=value pairs (already decoded). */
static void build(built_t *b, const char *const *pairs, size_t count)
{
        query_arg_t args[16];

        memset(b, 0, sizeof(*b));
        b->scope = scope_new();
        for (size_t i = 0; i < count; i++) {
                args[i].name = pairs[2 * i];
                args[i].value = pairs[2 * i + 1];
        }
        b->status = collection_plan_build(&b->plan, &people, NULL, args, count, b->scope, &b->err);
}

#define BUILD(b, ...)                                                                      \
        do {                                                                               \
                const char *const pairs_[] = { __VA_ARGS__ };                              \
                build((b), pairs_, sizeof(pairs_) / sizeof(pairs_[0]) / 2);                \
        } while (0)

static long long bound_int(const MYSQL_BIND *bind)
{
        return *(const long long *)bind->buffer;
}

static void test_defaults(void)
{
        built_t b;

        build(&b, NULL, 0);
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " ORDER BY `id` ASC LIMIT ?");
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 101);
        ASSERT_EQ_UINT(b.plan.visible, 6);
        ASSERT_EQ_INT(b.plan.outputs[5], API_OUTPUT_BOOLEAN);
        ASSERT_TRUE(b.plan.plain_cursor);
        ASSERT_EQ_STR(b.plan.order_text, "id.asc");
        ASSERT_NULL(b.plan.count_sql);
        scope_close(b.scope);
}

static void test_filters(void)
{
        built_t b;

        BUILD(&b, "age", "gt.30", "name", "not.like.A*_%", "id", "in.(1,2,3)", "bio", "is.null",
              "age", "not.lte.60", "active", "is.true");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE (`age` > ?) AND NOT (`name` LIKE ? ESCAPE CHAR(92)) AND "
                                      "(`id` IN (?,?,?)) AND (`bio` IS NULL) AND "
                                      "NOT (`age` <= ?) AND (`active` IS TRUE) "
                                      "ORDER BY `id` ASC LIMIT ?");
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 30);
        ASSERT_EQ_MEM(b.plan.binds[1].buffer, *b.plan.binds[1].length, "A%\\_\\%", 6);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[4]), 3);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[5]), 60);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[6]), 101);
        scope_close(b.scope);
}

static void test_hostile_values_are_bound(void)
{
        static const char evil[] = "x'; DROP `people`; --";
        built_t b;

        BUILD(&b, "name", "eq.x'; DROP `people`; --");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE (`name` = ?) ORDER BY `id` ASC LIMIT ?");
        ASSERT_EQ_MEM(b.plan.binds[0].buffer, *b.plan.binds[0].length, evil, strlen(evil));
        scope_close(b.scope);
}

static void test_select_and_order(void)
{
        built_t b;

        BUILD(&b, "select", "name", "order", "age.desc,name", "limit", "5000");
        ASSERT_EQ_INT(b.status, 0);
        /* the sort columns ride along, hidden, after the visible ones */
        ASSERT_EQ_STR(b.plan.sql, "SELECT `name`,`age`,`id` FROM `people` "
                                  "ORDER BY `age` DESC,`name` ASC,`id` ASC LIMIT ?");
        ASSERT_EQ_UINT(b.plan.visible, 1);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 1001); /* capped at max_limit */
        ASSERT_FALSE(b.plan.plain_cursor);
        ASSERT_EQ_STR(b.plan.order_text, "age.desc,name.asc,id.asc");
        ASSERT_EQ_UINT(b.plan.order[0].field, 1);
        ASSERT_EQ_UINT(b.plan.order[1].field, 0);
        ASSERT_EQ_UINT(b.plan.order[2].field, 2);
        scope_close(b.scope);
}

static void test_offset_and_count(void)
{
        built_t b;

        BUILD(&b, "age", "gte.18", "offset", "40", "limit", "20", "count", "exact");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE (`age` >= ?) ORDER BY `id` ASC LIMIT ? OFFSET ?");
        ASSERT_EQ_INT(bound_int(&b.plan.binds[1]), 21);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[2]), 40);
        ASSERT_EQ_STR(b.plan.count_sql, "SELECT COUNT(*) FROM `people` WHERE (`age` >= ?)");
        ASSERT_EQ_INT(bound_int(&b.plan.count_binds[0]), 18);
        scope_close(b.scope);
}

static void test_plain_cursor(void)
{
        built_t b;

        BUILD(&b, "after", "42");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE ((`id` > ?)) ORDER BY `id` ASC LIMIT ?");
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 42);
        scope_close(b.scope);
}

static char *cursor_for(const char *order, const char *values)
{
        strbuf_t out = { 0 };

        cursor_encode(&out, order, values, strlen(values));
        strbuf_append_char(&out, '\0');
        return out.data;
}

/* age DESC with NULLs last: after (30, 7) come smaller ages, NULL ages, then
 * the same age with a greater id. */
static void test_cursor_any_order(void)
{
        char *after = cursor_for("age.desc,id.asc", "\"30\",\"7\"");
        built_t b;

        BUILD(&b, "order", "age.desc", "after", after);
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE (((`age` < ? OR `age` IS NULL)) OR "
                                      "(`age` = ? AND `id` > ?)) "
                                      "ORDER BY `age` DESC,`id` ASC LIMIT ?");
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 30);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[1]), 30);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[2]), 7);
        scope_close(b.scope);
        free(after);

        /* from a NULL age, ascending: only later ids among NULLs, then every age */
        after = cursor_for("age.asc,id.asc", "null,\"9\"");
        BUILD(&b, "order", "age", "after", after);
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE ((`age` IS NOT NULL) OR (`age` IS NULL AND `id` > ?)) "
                                      "ORDER BY `age` ASC,`id` ASC LIMIT ?");
        scope_close(b.scope);
        free(after);

        /* from a NULL age, descending: NULLs are last, only later ids remain */
        after = cursor_for("age.desc,id.asc", "null,\"9\"");
        BUILD(&b, "order", "age.desc", "after", after);
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, ALL " WHERE ((`age` IS NULL AND `id` > ?)) "
                                      "ORDER BY `age` DESC,`id` ASC LIMIT ?");
        scope_close(b.scope);
        free(after);
}

static void check_refused(built_t *b, const char *parameter, const char *mention, int line)
{
        if (b->status != -EINVAL || b->err.parameter == NULL ||
            strcmp(b->err.parameter, parameter) != 0 || strstr(b->err.detail, mention) == NULL) {
                test_fail_header(__FILE__, line);
                fprintf(stderr, "status %d, parameter %s, detail \"%s\"\n", b->status,
                        b->err.parameter ? b->err.parameter : "(none)", b->err.detail);
        } else {
                test_pass();
        }
        scope_close(b->scope);
}

#define REFUSED(parameter, mention, ...)                                                    \
        do {                                                                                \
                built_t b_;                                                                 \
                BUILD(&b_, __VA_ARGS__);                                                    \
                check_refused(&b_, (parameter), (mention), __LINE__);                       \
        } while (0)

static void test_refusals(void)
{
        REFUSED("nope", "not a column", "nope", "eq.1");
        REFUSED("id';--", "not a column", "id';--", "eq.1");
        REFUSED("age", "age", "age", "gt.thirty");
        REFUSED("age", "age", "age", "30");
        REFUSED("age", "age", "age", "between.1");
        REFUSED("age", "like", "age", "like.3*");
        REFUSED("name", "is.true", "name", "is.true");
        REFUSED("prefs", "is.null", "prefs", "eq.{}");
        REFUSED("name", "longer", "name", "eq.far too long for twenty-four");
        REFUSED("select", "not a column", "select", "id,`id`");
        REFUSED("select", "twice", "select", "id,id");
        REFUSED("select", "not a column", "select", "");
        REFUSED("order", "cannot be sorted", "order", "bio");
        REFUSED("order", "asc or desc", "order", "age.sideways");
        REFUSED("order", "twice", "order", "age,age.desc");
        REFUSED("order", "not a column", "order", "age;DROP");
        REFUSED("limit", "at least 1", "limit", "0");
        REFUSED("limit", "at least 1", "limit", "1e3");
        REFUSED("limit", "more than once", "limit", "1", "limit", "2");
        REFUSED("offset", "not both", "offset", "1", "after", "2");
        REFUSED("count", "exact or estimated", "count", "maybe");
        REFUSED("after", "id", "after", "x");
        REFUSED("after", "cursor", "order", "age", "after", "42");
}

static void test_cursor_of_another_order(void)
{
        char *after = cursor_for("age.desc,id.asc", "\"30\",\"7\"");
        built_t b;

        BUILD(&b, "order", "age", "after", after);
        check_refused(&b, "after", "another order", __LINE__);
        free(after);
        after = cursor_for("age.asc,id.asc", "\"30\",null"); /* id is NOT NULL */
        BUILD(&b, "order", "age", "after", after);
        check_refused(&b, "after", "cursor", __LINE__);
        free(after);
}

/* ---- a resource without a key (a view, a keyless table of the schema) ---- */

static const api_resource_t keyless = {
        .path = "/log",
        .table = "log",
        .quoted_table = "`log`",
        .columns = columns,
        .column_count = sizeof(columns) / sizeof(columns[0]),
        .default_limit = 100,
        .max_limit = 1000,
};

static int build_keyless(built_t *b, const char *name, const char *value)
{
        query_arg_t args[1] = { { .name = name, .value = value } };

        memset(b, 0, sizeof(*b));
        b->scope = scope_new();
        b->status = collection_plan_build(&b->plan, &keyless, NULL, args, name ? 1 : 0, b->scope,
                                          &b->err);
        return b->status;
}

static void test_keyless_pages_by_offset(void)
{
        built_t b;

        /* every orderable column sorts, so that offsets see one order */
        ASSERT_EQ_INT(build_keyless(&b, NULL, NULL), 0);
        ASSERT_EQ_STR(b.plan.sql, "SELECT `id`,`name`,`age`,`bio`,`prefs`,`active` FROM `log`" " ORDER BY `id` ASC,`name` ASC,`age` ASC,"
                                                "`active` ASC LIMIT ? OFFSET ?");
        ASSERT_TRUE(b.plan.by_offset);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[0]), 101);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[1]), 0);
        scope_close(b.scope);
        ASSERT_EQ_INT(build_keyless(&b, "order", "age.desc"), 0);
        ASSERT_EQ_STR(b.plan.sql, "SELECT `id`,`name`,`age`,`bio`,`prefs`,`active` FROM `log` "
                                  "ORDER BY `age` DESC,`id` ASC,`name` ASC,`active` ASC "
                                  "LIMIT ? OFFSET ?");
        scope_close(b.scope);
        ASSERT_EQ_INT(build_keyless(&b, "after", "x"), -EINVAL);
        ASSERT_EQ_STR(b.err.parameter, "after");
        scope_close(b.scope);
}

static void test_count_estimated(void)
{
        built_t b;

        BUILD(&b, "age", "gte.18", "count", "estimated");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_TRUE(b.plan.count_estimated);
        ASSERT_FALSE(b.plan.count_exact);
        ASSERT_EQ_STR(b.plan.count_sql, "EXPLAIN EXTENDED SELECT 1 FROM `people` WHERE (`age` >= ?)");
        ASSERT_EQ_INT(bound_int(&b.plan.count_binds[0]), 18);
        scope_close(b.scope);
        BUILD(&b, "count", "estimated");
        ASSERT_EQ_STR(b.plan.count_sql, "EXPLAIN EXTENDED SELECT 1 FROM `people`");
        scope_close(b.scope);
}

static void test_aggregates(void)
{
        built_t b;

        BUILD(&b, "select", "name,count(),total:age.sum(),age.max(),active.min()", "age",
              "gt.3", "order", "age.sum().desc", "count", "exact");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, "SELECT `name`,COUNT(*) AS `count`,SUM(`age`) AS `total`,"
                                  "MAX(`age`) AS `max`,MIN(`active`) AS `min` FROM `people` "
                                  "WHERE (`age` > ?) GROUP BY `name` "
                                  "ORDER BY SUM(`age`) DESC,`name` ASC LIMIT ? OFFSET ?");
        ASSERT_EQ_UINT(b.plan.visible, 5);
        ASSERT_EQ_UINT(b.plan.aggregate_count, 4);
        ASSERT_TRUE(b.plan.by_offset);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[1]), 101);
        ASSERT_EQ_INT(bound_int(&b.plan.binds[2]), 0);
        ASSERT_EQ_INT(b.plan.outputs[1], API_OUTPUT_DEFAULT);
        ASSERT_EQ_INT(b.plan.outputs[4], API_OUTPUT_BOOLEAN); /* min keeps its column's */
        ASSERT_EQ_STR(b.plan.count_sql,
                      "SELECT COUNT(*) FROM (SELECT `name`,COUNT(*) AS `count`,SUM(`age`) AS "
                      "`total`,MAX(`age`) AS `max`,MIN(`active`) AS `min` FROM `people` "
                      "WHERE (`age` > ?)"
                      " GROUP BY `name`) AS `groups`");
        scope_close(b.scope);
        BUILD(&b, "select", "count()", "order", "count().desc");
        ASSERT_EQ_INT(b.status, 0);
        ASSERT_EQ_STR(b.plan.sql, "SELECT COUNT(*) AS `count` FROM `people` "
                                  "ORDER BY COUNT(*) DESC LIMIT ? OFFSET ?");
        scope_close(b.scope);
        BUILD(&b, "select", "age,name.count()");
        ASSERT_EQ_STR(b.plan.sql, "SELECT `age`,COUNT(`name`) AS `count` FROM `people` "
                                  "GROUP BY `age` ORDER BY `age` ASC LIMIT ? OFFSET ?");
        scope_close(b.scope);
}

static void test_aggregate_refusals(void)
{
        REFUSED("select", "unknown aggregate 'drop'", "select", "age.drop()");
        REFUSED("select", "no argument", "select", "age.sum(1)");
        REFUSED("select", "no argument", "select", "count(*)");
        REFUSED("select", "no argument", "select", "age.sum(())");
        REFUSED("select", "needs a column", "select", "sum()");
        REFUSED("select", "not a column", "select", "nope.sum()");
        REFUSED("select", "numeric", "select", "name.sum()");
        REFUSED("select", "TEXT, BLOB or JSON", "select", "bio.max()");
        REFUSED("select", "TEXT, BLOB or JSON", "select", "prefs.min()");
        REFUSED("select", "grouped", "select", "bio,count()");
        REFUSED("select", "alias", "select", "count(),a-b:age.sum()");
        REFUSED("select", "alias", "select", "age:age.sum()");
        REFUSED("select", "alias", "select", "x`y:age.sum()");
        REFUSED("select", "two outputs are named 'sum'", "select", "age.sum(),id.sum()");
        REFUSED("select", "two outputs are named 'count'", "select", "count(),count()");
        REFUSED("order", "needs aggregates", "order", "count().desc");
        REFUSED("order", "asc or desc", "select", "count()", "order", "count().up");
        REFUSED("order", "neither", "select", "name,count()", "order", "age");
        REFUSED("order", "twice", "select", "count()", "order", "count(),count().desc");
        REFUSED("after", "offset", "select", "count()", "after", "1");
        REFUSED("count", "count=exact", "select", "count()", "count", "estimated");
}

static void test_item_refuses_aggregates(void)
{
        collection_plan_t plan;
        collection_error_t err;
        scope_t *scope = scope_new();

        memset(&plan, 0, sizeof(plan));
        ASSERT_EQ_INT(collection_plan_select(&plan, &people, "id,count()", scope, &err), -EINVAL);
        ASSERT_CONTAINS(err.detail, "item");
        scope_close(scope);
}

int main(void)
{
        RUN_TEST(test_defaults);
        RUN_TEST(test_filters);
        RUN_TEST(test_hostile_values_are_bound);
        RUN_TEST(test_select_and_order);
        RUN_TEST(test_offset_and_count);
        RUN_TEST(test_plain_cursor);
        RUN_TEST(test_cursor_any_order);
        RUN_TEST(test_refusals);
        RUN_TEST(test_cursor_of_another_order);
        RUN_TEST(test_keyless_pages_by_offset);
        RUN_TEST(test_count_estimated);
        RUN_TEST(test_aggregates);
        RUN_TEST(test_aggregate_refusals);
        RUN_TEST(test_item_refuses_aggregates);
        return test_report();
}
