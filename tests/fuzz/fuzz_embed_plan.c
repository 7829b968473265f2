/*
 * libFuzzer harness for embedded relations (embed_plan.h): any query
 * string, split the way the server sees it, against three related
 * resources. The plan must be built or refused with a parameter named, and
 * the statements it writes for its embedded levels must hold the
 * resources' quoted identifiers and fixed keywords only, whatever the
 * relation names, aliases, hints and nested parameters said.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "sql/embed_plan.h"

enum { MAX_ARGS = 16 };

static api_column_t team_columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING, .max_length = 20 },
          .orderable = true },
};

static api_column_t member_columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "team_id", .quoted = "`team_id`", .rule = { .type = API_TYPE_INT },
          .nullable = true, .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING, .max_length = 20 },
          .nullable = true, .orderable = true },
        { .name = "doc", .quoted = "`doc`", .rule = { .type = API_TYPE_JSON }, .nullable = true },
};

static size_t key[] = { 0 };
static char *id[] = { "id" }, *team_id[] = { "team_id" };
static api_resource_t teams, members;

static api_relation_t member_relations[] = {
        { .name = "teams", .constraint = "fk", .target = &teams, .to_one = true,
          .columns = team_id, .target_columns = id, .column_count = 1 },
        { .name = "teams", .constraint = "fk2", .target = &teams, .to_one = true,
          .columns = team_id, .target_columns = id, .column_count = 1 },
        { .name = "me", .target = &members, .to_one = true, .columns = id, .target_columns = id,
          .column_count = 1 },
};

static api_relation_t team_relations[] = {
        { .name = "members", .constraint = "fk", .target = &members, .columns = id,
          .target_columns = team_id, .column_count = 1 },
};

static api_resource_t teams = {
        .path = "/teams", .table = "teams", .quoted_table = "`teams`", .columns = team_columns,
        .column_count = 2, .key = key, .key_count = 1, .default_limit = 10, .max_limit = 100,
        .relations = team_relations, .relation_count = 1, .methods = API_METHOD_GET,
};

static api_resource_t members = {
        .path = "/members", .table = "members", .quoted_table = "`members`",
        .columns = member_columns, .column_count = 4, .key = key, .key_count = 1,
        .default_limit = 10, .max_limit = 100, .relations = member_relations,
        .relation_count = 3, .methods = API_METHOD_GET,
};

static int view_of(void *ctx, const api_resource_t *entry, const api_resource_t **ret_view,
                   const MYSQL_BIND **ret_binds)
{
        (void)ctx;
        *ret_view = entry;
        *ret_binds = NULL;
        return 0;
}

static void check_sql(const char *sql)
{
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

static void check_levels(const embed_plan_t *plan, scope_t *scope)
{
        const char *values[] = { "1", "x'; --", "3" };
        size_t lengths[] = { 1, 6, 1 };

        for (size_t k = 1; k < plan->node_count; k++) {
                char *sql;
                MYSQL_BIND *binds;
                int r = embed_plan_statement(plan->nodes[k], values, lengths, 3, scope, &sql,
                                             &binds);
                CHECK(r == 0, "status %d", r);
                if (r == 0)
                        check_sql(sql);
                CHECK(plan->nodes[k]->depth <= EMBED_MAX_DEPTH, "depth %u",
                      plan->nodes[k]->depth);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_copy_text(data, size);
        query_arg_t args[MAX_ARGS];
        embed_plan_t plan;
        collection_error_t err;

        size_t n = split(text, args);
        scope_t *scope = scope_new();
        int r = embed_plan_parse(&plan, size % 2 ? &teams : &members, NULL, args, n, view_of,
                                 NULL, scope, &err);
        CHECK(r == 0 || r == -EINVAL, "status %d", r);
        if (r == 0)
                check_levels(&plan, scope);
        else
                CHECK(err.parameter != NULL && err.detail[0] != '\0', "refusal without a reason");
        scope_close(scope);
        free(text);
        return 0;
}
