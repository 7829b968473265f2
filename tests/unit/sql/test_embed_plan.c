/*
 * Unit tests for embed_plan: the embedding grammar of select, the levels'
 * own parameters, and the statement that reads a level for a batch of
 * parents. Names from the request are only compared with the api's; the
 * SQL holds the api's quoted identifiers and placeholders alone.
 */
#include <errno.h>
#include <string.h>

#include "sql/embed_plan.h"
#include "test.h"

static api_column_t team_columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING },
          .orderable = true },
};

static api_column_t member_columns[] = {
        { .name = "id", .quoted = "`id`", .rule = { .type = API_TYPE_INT }, .orderable = true },
        { .name = "team_id", .quoted = "`team_id`", .rule = { .type = API_TYPE_INT },
          .nullable = true, .orderable = true },
        { .name = "coach_id", .quoted = "`coach_id`", .rule = { .type = API_TYPE_INT },
          .orderable = true },
        { .name = "name", .quoted = "`name`", .rule = { .type = API_TYPE_STRING },
          .orderable = true },
};

static size_t key[] = { 0 };
static char *id_name[] = { "id" }, *team_id[] = { "team_id" }, *coach_id[] = { "coach_id" };

static api_resource_t teams, members, secrets;

/* members -> teams twice (team_id, coach_id); teams -> members both ways back;
 * members -> secrets, which the caller may not read. */
static api_relation_t member_relations[] = {
        { .name = "teams", .constraint = "fk_team", .target = &teams, .to_one = true,
          .columns = team_id, .target_columns = id_name, .column_count = 1 },
        { .name = "teams", .constraint = "fk_coach", .target = &teams, .to_one = true,
          .columns = coach_id, .target_columns = id_name, .column_count = 1 },
        { .name = "secrets", .constraint = "fk_secret", .target = &secrets, .to_one = true,
          .columns = id_name, .target_columns = id_name, .column_count = 1 },
};

static api_relation_t team_relations[] = {
        { .name = "members", .constraint = "fk_team", .target = &members,
          .columns = id_name, .target_columns = team_id, .column_count = 1 },
        { .name = "coached", .target = &members, .columns = id_name,
          .target_columns = coach_id, .column_count = 1 },
};

static api_resource_t teams = {
        .path = "/teams", .table = "teams", .quoted_table = "`teams`", .columns = team_columns,
        .column_count = 2, .key = key, .key_count = 1, .default_limit = 100, .max_limit = 500,
        .relations = team_relations, .relation_count = 2, .methods = API_METHOD_GET,
};

static api_resource_t members = {
        .path = "/members", .table = "members", .quoted_table = "`members`",
        .columns = member_columns, .column_count = 4, .key = key, .key_count = 1,
        .default_limit = 100, .max_limit = 1000, .relations = member_relations,
        .relation_count = 3, .methods = API_METHOD_GET,
};

static api_resource_t secrets = {
        .path = "/secrets", .table = "secrets", .quoted_table = "`secrets`",
        .columns = team_columns, .column_count = 1, .key = key, .key_count = 1,
        .default_limit = 100, .max_limit = 100, .methods = API_METHOD_GET,
};

static int view_of(void *ctx, const api_resource_t *entry, const api_resource_t **ret_view,
                   const MYSQL_BIND **ret_binds)
{
        (void)ctx;
        if (entry == &secrets)
                return -ENOENT;
        *ret_view = entry;
        *ret_binds = NULL;
        return 0;
}

typedef struct parsed {
        scope_t *scope;
        embed_plan_t plan;
        collection_error_t err;
        int status;
} parsed_t;

static void parse(parsed_t *p, const api_resource_t *res, const char *const *pairs, size_t count)
{
        query_arg_t args[16];

        memset(p, 0, sizeof(*p));
        p->scope = scope_new();
        for (size_t i = 0; i < count; i++)
                args[i] = (query_arg_t){ pairs[2 * i], pairs[2 * i + 1] };
        p->status = embed_plan_parse(&p->plan, res, NULL, args, count, view_of, NULL, p->scope,
                                     &p->err);
}

#define PARSE(p, res, ...)                                                                 \
        do {                                                                               \
                const char *const pairs_[] = { __VA_ARGS__ };                              \
                parse((p), (res), pairs_, sizeof(pairs_) / sizeof(pairs_[0]) / 2);         \
        } while (0)

static void refused(const api_resource_t *res, const char *select, const char *parameter,
                    const char *mention, const char *name, const char *value)
{
        parsed_t p;

        if (name != NULL)
                PARSE(&p, res, "select", select, name, value);
        else
                PARSE(&p, res, "select", select);
        ASSERT_EQ_INT(p.status, -EINVAL);
        if (p.status == -EINVAL) {
                ASSERT_EQ_STR(p.err.parameter, parameter);
                ASSERT_CONTAINS(p.err.detail, mention);
        }
        scope_close(p.scope);
}

static void test_no_embedding(void)
{
        parsed_t p;

        PARSE(&p, &teams, "select", "id,name", "id", "eq.1");
        ASSERT_EQ_INT(p.status, 0);
        ASSERT_EQ_UINT(p.plan.node_count, 0);
        scope_close(p.scope);
        /* Aggregates are collection_plan's: no embedding. */
        ASSERT_FALSE(embed_plan_wanted("name,count()"));
        ASSERT_FALSE(embed_plan_wanted("id.sum(),members()"));
        ASSERT_FALSE(embed_plan_wanted(NULL));
        ASSERT_TRUE(embed_plan_wanted("id,members(id)"));
        ASSERT_TRUE(embed_plan_wanted("count(),members(id)"));
        ASSERT_TRUE(embed_plan_wanted("id,members(id"));
        ASSERT_TRUE(embed_plan_wanted("id)"));
}

static void test_one_to_many(void)
{
        const char *values[] = { "1", "2", "3" };
        size_t lengths[] = { 1, 1, 1 };
        parsed_t p;
        char *sql;
        MYSQL_BIND *binds;

        PARSE(&p, &teams, "select", "id,members(id,name)", "members.name", "like.a*",
              "members.order", "name.desc", "members.limit", "5", "limit", "7");
        ASSERT_EQ_INT(p.status, 0);
        ASSERT_EQ_UINT(p.plan.node_count, 2);
        ASSERT_EQ_UINT(p.plan.arg_count, 2);
        ASSERT_EQ_STR(p.plan.args[0].name, "select");
        ASSERT_EQ_STR(p.plan.args[0].value, "id");
        ASSERT_EQ_STR(p.plan.args[1].name, "limit");
        embed_node_t *m = p.plan.nodes[1];
        ASSERT_EQ_STR(m->key, "\"members\"");
        ASSERT_EQ_INT(m->per_parent, 5);
        ASSERT_EQ_UINT(p.plan.nodes[0]->link_count, 1); /* teams.id */
        ASSERT_EQ_INT(embed_plan_statement(m, values, lengths, 3, p.scope, &sql, &binds), 0);
        ASSERT_EQ_STR(sql, "SELECT `id`,`name`,`team_id` FROM (SELECT `id`,`name`,`team_id`,"
                           "ROW_NUMBER() OVER (PARTITION BY `team_id` ORDER BY `name` DESC,"
                           "`id` ASC) AS `queryd_embed_row` FROM `members` WHERE (`name` LIKE "
                           "? ESCAPE CHAR(92)) AND `team_id` IN (?,?,?,?)) AS `queryd_embed` "
                           "WHERE `queryd_embed_row` <= ? ORDER BY `name` DESC,`id` ASC");
        ASSERT_EQ_INT(*(long long *)binds[1].buffer, 1);
        ASSERT_EQ_INT(*(long long *)binds[4].buffer, 3); /* padding: the last key again */
        ASSERT_EQ_INT(*(long long *)binds[5].buffer, 5);
        scope_close(p.scope);

        /* without a limit, every related row: no window to compute */
        PARSE(&p, &teams, "select", "id,members(id)");
        ASSERT_EQ_INT(p.status, 0);
        ASSERT_EQ_INT(p.plan.nodes[1]->per_parent, 0);
        ASSERT_EQ_INT(embed_plan_statement(p.plan.nodes[1], values, lengths, 2, p.scope, &sql,
                                           &binds), 0);
        ASSERT_EQ_STR(sql, "SELECT `id`,`team_id` FROM `members` WHERE `team_id` IN (?,?) "
                           "ORDER BY `id` ASC");
        scope_close(p.scope);
}

static void test_many_to_one_with_hint_and_alias(void)
{
        const char *values[] = { "4", "x" };
        size_t lengths[] = { 1, 1 };
        parsed_t p;
        char *sql;
        MYSQL_BIND *binds;

        PARSE(&p, &members, "select", "*,coach:teams!fk_coach(name),teams!fk_team(id)");
        ASSERT_EQ_INT(p.status, 0);
        ASSERT_EQ_UINT(p.plan.node_count, 3);
        ASSERT_EQ_STR(p.plan.args[0].value, "id,team_id,coach_id,name");
        ASSERT_EQ_STR(p.plan.nodes[1]->key, "\"coach\"");
        ASSERT_EQ_STR(p.plan.nodes[1]->rel->constraint, "fk_coach");
        ASSERT_EQ_STR(p.plan.nodes[2]->rel->constraint, "fk_team");
        /* "x" is no integer: that key is left out, as nothing could match it. */
        ASSERT_EQ_INT(embed_plan_statement(p.plan.nodes[1], values, lengths, 2, p.scope, &sql,
                                           &binds), 0);
        ASSERT_EQ_STR(sql, "SELECT `name`,`id` FROM `teams` WHERE `id` IN (?)");
        scope_close(p.scope);
}

static void test_nesting(void)
{
        parsed_t p;

        PARSE(&p, &teams, "select", "id,members(id,teams!fk_team(id,coached(name)))",
              "members.teams.coached.order", "name");
        ASSERT_EQ_INT(p.status, 0);
        ASSERT_EQ_UINT(p.plan.node_count, 4);
        ASSERT_EQ_STR(p.plan.nodes[3]->prefix, "members.teams.coached.");
        ASSERT_EQ_UINT(p.plan.nodes[3]->depth, 3);
        scope_close(p.scope);
        refused(&teams, "id,members(id,teams!fk_team(id,coached(id,teams!fk_team(id))))",
                "select", "3 levels", NULL, NULL);
}

static void test_refusals(void)
{
        char huge[3000];

        memset(huge, 'a', sizeof(huge));
        memcpy(huge, "id,", 3);
        memcpy(huge + sizeof(huge) - 5, "(id)", 5);
        refused(&teams, huge, "select", "64 characters", NULL, NULL);
        refused(&teams, "id,members(id", "select", "unbalanced", NULL, NULL);
        refused(&teams, "id,members(id))", "select", "unbalanced", NULL, NULL);
        refused(&teams, "id,members)(", "select", "unbalanced", NULL, NULL);
        refused(&teams, "id,members(id)x", "select", "follow", NULL, NULL);
        refused(&teams, "id,members(id,)", "select", "empty", NULL, NULL);
        refused(&teams, "id,members(id,nope())", "select", "not a column", NULL, NULL);
        refused(&teams, "id,(id)", "select", "relation", NULL, NULL);
        refused(&teams, "id,mem`bers(id)", "select", "not a relation", NULL, NULL);
        refused(&teams, "id,members!nope(id)", "select", "not a relation", NULL, NULL);
        refused(&teams, "id,members(id),members(name)", "select", "twice", NULL, NULL);
        refused(&teams, "members(members(id))", "select", "not a relation", NULL, NULL);
        refused(&teams, "members(id)", "select", "no column", NULL, NULL);
        refused(&members, "id,teams(id)", "select", "fk_coach", NULL, NULL);
        refused(&members, "id,secrets(id)", "select", "not a relation", NULL, NULL);
        refused(&teams, "id,members(id)", "members.select", "parentheses", "members.select",
                "id");
        refused(&teams, "id,members(id)", "members.count", "embedding", "members.count",
                "exact");
        refused(&teams, "id,members(id)", "members.nope", "nope", "members.nope", "eq.1");
        refused(&teams, "id,members(id)", "members.order", "column", "members.order",
                "id;drop");
        refused(&members, "id,teams!fk_team(id)", "teams.limit", "arrays", "teams.limit", "2");
}

int main(void)
{
        RUN_TEST(test_no_embedding);
        RUN_TEST(test_one_to_many);
        RUN_TEST(test_many_to_one_with_hint_and_alias);
        RUN_TEST(test_nesting);
        RUN_TEST(test_refusals);
        ASSERT_EQ_INT(scope_live_count(), 0);
        return test_report();
}
