/*
 * libFuzzer harness for collection requests (collection_plan.h): any query
 * string, split the way the server sees it, against a fixed resource. The
 * plan must be built or refused with a parameter named, and whatever SQL it
 * writes must be made of the resource's quoted identifiers and fixed
 * keywords only: a quote, a semicolon, a comment marker or any byte outside
 * printable ASCII would be request text that reached the statement.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sql/collection_plan.h"

enum { MAX_ARGS = 16 };

static api_column_t columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING, .max_length = 50 },
          .nullable = true, .orderable = true },
        { .name = "price", .quoted = "`price`", .rule = { .type = API_TYPE_DECIMAL },
          .orderable = true },
        { .name = "score", .quoted = "`score`", .rule = { .type = API_TYPE_NUMBER, .is_float = true },
          .nullable = true, .orderable = true },
        { .name = "born", .quoted = "`born`", .rule = { .type = API_TYPE_DATE }, .nullable = true,
          .orderable = true },
        { .name = "seen", .quoted = "`seen`", .rule = { .type = API_TYPE_DATETIME },
          .orderable = true },
        { .name = "blob", .quoted = "`blob`", .rule = { .type = API_TYPE_BINARY, .max_length = 16 },
          .nullable = true, .orderable = true },
        { .name = "doc", .quoted = "`doc`", .rule = { .type = API_TYPE_JSON }, .nullable = true },
        { .name = "ok", .quoted = "`ok`", .rule = { .type = API_TYPE_BOOLEAN }, .orderable = true },
};

static size_t key[] = { 0, 1 };

static const api_resource_t resource = {
        .path = "/things",
        .table = "things",
        .quoted_table = "`things`",
        .columns = columns,
        .column_count = sizeof(columns) / sizeof(columns[0]),
        .key = key,
        .key_count = 1,
        .default_limit = 10,
        .max_limit = 100,
};

static void check_sql(const char *sql)
{
        if (sql == NULL)
                return;
        for (const char *s = sql; *s != '\0'; s++)
                CHECK(*s >= 0x20 && *s < 0x7f && strchr("'\";\\#", *s) == NULL,
                      "byte 0x%02x in \"%s\"", (unsigned char)*s, sql);
        CHECK(strstr(sql, "--") == NULL && strstr(sql, "/*") == NULL, "comment in \"%s\"", sql);
}

/* Splits "a=b&c=d" in place into args; returns how many. */
static size_t split(char *text, query_arg_t *args)
{
        size_t n = 0;

        for (char *s = text; s != NULL && n < MAX_ARGS;) {
                char *amp = strchr(s, '&');
                if (amp != NULL)
                        *amp = '\0';
                char *eq = strchr(s, '=');
                if (eq != NULL)
                        *eq = '\0';
                args[n].name = s;
                args[n].value = eq ? eq + 1 : NULL;
                n++;
                s = amp ? amp + 1 : NULL;
        }
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_copy_text(data, size);
        query_arg_t args[MAX_ARGS];
        collection_plan_t plan;
        collection_error_t err;

        size_t n = split(text, args);
        scope_t *scope = scope_new();
        memset(&plan, 0, sizeof(plan));
        int r = collection_plan_build(&plan, &resource, NULL, args, n, scope, &err);
        CHECK(r == 0 || r == -EINVAL, "status %d", r);
        if (r == 0) {
                CHECK(plan.sql != NULL, "no statement");
                check_sql(plan.sql);
                check_sql(plan.count_sql);
                CHECK(plan.limit >= 1 && plan.limit <= 100, "limit %lld", plan.limit);
        } else {
                CHECK(err.parameter != NULL && err.detail[0] != '\0', "refusal without a reason");
        }
        scope_close(scope);
        free(text);
        return 0;
}
