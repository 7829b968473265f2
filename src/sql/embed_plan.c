/*
 * The embedding grammar of select, and the statement that reads one
 * embedded level for a batch of parents:
 *   SELECT <fields> FROM <table> WHERE <rules, filters> AND (<cols>) IN (<keys>)
 * for a to-one relation, and for a to-many one the same ORDER BY <order>,
 * or, with a per-parent limit (<relation>.limit), the same inside
 *   SELECT <fields> FROM (... , ROW_NUMBER() OVER (PARTITION BY <cols>
 *   ORDER BY <order>) AS n ...) WHERE n <= ? ORDER BY <order>
 * so that the limit holds in one statement. Without a limit an array holds
 * every related row: the batch's bound on memory (collection_embed.c) is
 * what keeps it finite, never a silent cut. Names written by the
 * client are only ever compared with the configuration's: every identifier
 * in the SQL comes from the api, quoted, and every value is bound.
 */
#include "sql/embed_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "json/json_text.h"
#include "sql/select_aggregate.h"
#include "sql/typed_value.h"

enum { LIST_SHOWN = 240 };

typedef struct parser {
        embed_plan_t *plan;
        embed_view_fn view_of;
        void *ctx;
        scope_t *scope;
        collection_error_t *err;
        query_arg_t *args[EMBED_MAX_NODES]; /* each level's own parameters */
        size_t arg_count[EMBED_MAX_NODES];
} parser_t;

static bool same(const char *name, const char *text, size_t len)
{
        return strlen(name) == len && memcmp(name, text, len) == 0;
}

static int column_index(const api_resource_t *res, const char *name)
{
        for (size_t i = 0; i < res->column_count; i++)
                if (strcmp(res->columns[i].name, name) == 0)
                        return (int)i;
        return -1;
}

static const api_resource_t *entry_of(const api_resource_t *res)
{
        return res->base ? res->base : res;
}

/* ---- relations ---- */

/* The caller's view of rel's target, when the caller may read it and both
 * views hold the columns it joins on; -ENOENT otherwise. */
static int usable(parser_t *ps, const embed_node_t *parent, const api_relation_t *rel,
                  const api_resource_t **ret_view, const MYSQL_BIND **ret_binds)
{
        int r = rel->target ? ps->view_of(ps->ctx, rel->target, ret_view, ret_binds) : -ENOENT;

        for (size_t i = 0; r == 0 && i < rel->column_count; i++)
                if (column_index(parent->res, rel->columns[i]) < 0 ||
                    column_index(*ret_view, rel->target_columns[i]) < 0)
                        r = -ENOENT;
        return r;
}

static void append_relation(strbuf_t *out, const api_relation_t *rel)
{
        if (out->len > LIST_SHOWN)
                return;
        strbuf_appendf(out, "%s%s%s%s", out->len ? ", " : "", rel->name,
                       rel->constraint ? "!" : "", rel->constraint ? rel->constraint : "");
        if (rel->column_count == 1) /* a self-reference is told apart by its column */
                strbuf_appendf(out, " or %s!%s", rel->name, rel->columns[0]);
}

/* What the caller may embed in parent: names and constraints, for a refusal. */
static int usable_list(parser_t *ps, const embed_node_t *parent, const char *name, size_t len,
                       strbuf_t *out)
{
        const api_resource_t *entry = entry_of(parent->res);
        const api_resource_t *view;
        const MYSQL_BIND *binds;

        for (size_t i = 0; i < entry->relation_count; i++) {
                const api_relation_t *rel = &entry->relations[i];
                if (name != NULL && !same(rel->name, name, len))
                        continue;
                int r = usable(ps, parent, rel, &view, &binds);
                if (r == -ENOMEM)
                        return r;
                if (r == 0)
                        append_relation(out, rel);
        }
        return out->failed ? -ENOMEM : 0;
}

static int refuse_relation(parser_t *ps, const embed_node_t *parent, const char *name,
                           size_t len, const char *hint, size_t hint_len, size_t matches)
{
        strbuf_t list = { 0 };
        int r = usable_list(ps, parent, matches > 1 ? name : NULL, len, &list);

        strbuf_append_char(&list, '\0');
        if (r == 0 && list.failed)
                r = -ENOMEM;
        if (r == 0 && matches > 1)
                r = collection_refuse(ps->err, "select",
                                      "'%.*s' is ambiguous in %s: name the foreign key, "
                                      "one of %s",
                                      len > 64 ? 64 : (int)len, name, parent->res->path, list.data);
        else if (r == 0)
                r = collection_refuse(ps->err, "select",
                                      "'%.*s%s%.*s' is not a relation of %s (it has: %s)",
                                      len > 64 ? 64 : (int)len, name, hint ? "!" : "",
                                      hint_len > 64 ? 64 : (int)hint_len, hint ? hint : "",
                                      parent->res->path, list.len > 1 ? list.data : "none");
        strbuf_done(&list);
        return r;
}

/* Whether hint picks rel: its constraint, or the one column of the parent it joins
 * on (the two sides of a self-reference share their name and constraint). */
static bool hinted(const api_relation_t *rel, const char *hint, size_t hint_len)
{
        return (rel->constraint && same(rel->constraint, hint, hint_len)) ||
               (rel->column_count == 1 && same(rel->columns[0], hint, hint_len));
}

/* The one relation of parent that name (and hint) means. */
static int resolve(parser_t *ps, const embed_node_t *parent, const char *name, size_t len,
                   const char *hint, size_t hint_len, embed_node_t *child)
{
        const api_resource_t *entry = entry_of(parent->res);
        size_t matches = 0;

        for (size_t i = 0; i < entry->relation_count; i++) {
                const api_relation_t *rel = &entry->relations[i];
                const api_resource_t *view;
                const MYSQL_BIND *binds;
                if (!same(rel->name, name, len) || (hint && !hinted(rel, hint, hint_len)))
                        continue;
                int r = usable(ps, parent, rel, &view, &binds);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (matches++ == 0) {
                        child->rel = rel;
                        child->res = view;
                        child->row_binds = binds;
                }
        }
        if (matches == 1)
                return 0;
        return refuse_relation(ps, parent, name, len, hint, hint_len, matches);
}

/* ---- select ---- */

/* The end of the term at text[i]: the next ',' outside parentheses. */
static int term_end(parser_t *ps, const char *text, size_t len, size_t i, size_t *ret_end)
{
        int depth = 0;

        for (; i < len && !(text[i] == ',' && depth == 0); i++) {
                if (text[i] == '(')
                        depth++;
                else if (text[i] == ')' && --depth < 0)
                        break;
        }
        if (depth != 0)
                return collection_refuse(ps->err, "select", "unbalanced parentheses in select");
        *ret_end = i;
        return 0;
}

/* rel(...), but not name() (no columns: refused as a column) nor an
 * aggregate's call: count(), column.sum(), whose own grammar refuses what is
 * wrong with it (count(*)). A relation named like an aggregate function
 * cannot be embedded. */
static bool is_embedding(const char *term, size_t len)
{
        const char *open = memchr(term, '(', len);

        return open != NULL && !(open[1] == ')' && open + 2 == term + len) &&
               !select_aggregate_shaped(term, len);
}

bool embed_plan_wanted(const char *select)
{
        size_t len = select ? strlen(select) : 0;
        int depth = 0;

        for (size_t i = 0, start = 0; select != NULL && i <= len; i++) {
                if (select[i] == '(') {
                        depth++;
                } else if (select[i] == ')' && --depth < 0) {
                        return true; /* unbalanced: the grammar's refusal says so */
                } else if ((select[i] == ',' || select[i] == '\0') && depth == 0) {
                        if (is_embedding(select + start, i - start))
                                return true;
                        start = i + 1;
                }
        }
        return depth != 0;
}

static int add_columns(const embed_node_t *node, const char *term, size_t len, strbuf_t *cols)
{
        if (cols->len > 0)
                strbuf_append_char(cols, ',');
        if (len != 1 || term[0] != '*') {
                strbuf_append(cols, term, len);
                return 0;
        }
        for (size_t i = 0; i < node->res->column_count; i++)
                strbuf_appendf(cols, "%s%s", i ? "," : "", node->res->columns[i].name);
        return 0;
}

static int parse_level(parser_t *ps, embed_node_t *node, const char *text, size_t len);

/* The text before '(': [alias ':'] relation ['!' constraint]. */
typedef struct embed_head {
        const char *label, *name, *hint;
        size_t label_len, name_len, hint_len;
} embed_head_t;

static int read_head(parser_t *ps, const char *term, size_t len, embed_head_t *h)
{
        const char *colon = memchr(term, ':', len);
        const char *start = colon ? colon + 1 : term;
        const char *bang = memchr(start, '!', len - (size_t)(start - term));

        h->name = start;
        h->name_len = (size_t)((bang ? bang : term + len) - start);
        h->hint = bang ? bang + 1 : NULL;
        h->hint_len = bang ? (size_t)(term + len - bang - 1) : 0;
        h->label = colon ? term : h->name;
        h->label_len = colon ? (size_t)(colon - term) : h->name_len;
        if (h->name_len == 0 || h->label_len == 0 || (bang && h->hint_len == 0))
                return collection_refuse(ps->err, "select",
                                         "'%.*s(': an embedding is "
                                         "[alias:]relation[!foreign_key](columns)",
                                         len > 64 ? 64 : (int)len, term);
        if (memchr(h->label, '.', h->label_len) || h->label_len > 64)
                return collection_refuse(ps->err, "select",
                                         "'%.*s': the name of an embedding has at most "
                                         "64 characters and no '.'",
                                         len > 64 ? 64 : (int)len, term);
        return 0;
}

static char *joined(scope_t *scope, const char *a, const char *b, size_t b_len, const char *c)
{
        size_t la = strlen(a), lc = strlen(c);
        char *text = scope_alloc(scope, la + b_len + lc + 1);

        if (text != NULL) {
                memcpy(text, a, la);
                memcpy(text + la, b, b_len);
                memcpy(text + la + b_len, c, lc + 1);
        }
        return text;
}

static embed_node_t *new_child(parser_t *ps, embed_node_t *parent, const embed_head_t *h)
{
        embed_node_t *child = scope_alloc(ps->scope, sizeof(*child));
        strbuf_t key = { 0 };

        if (child == NULL)
                return NULL;
        child->parent = parent;
        child->depth = parent->depth + 1;
        json_text_string(&key, h->label, h->label_len);
        if (!key.failed)
                child->key = scope_strndup(ps->scope, key.data, key.len);
        strbuf_done(&key);
        child->prefix = joined(ps->scope, parent->prefix, h->label, h->label_len, ".");
        return child->key && child->prefix ? child : NULL;
}

static bool label_taken(const embed_node_t *node, const char *key)
{
        for (size_t i = 0; i < node->child_count; i++)
                if (strcmp(node->children[i]->key, key) == 0)
                        return true;
        return false;
}

/* relation(...) inside node: resolved, registered, its own terms read. */
static int parse_embed(parser_t *ps, embed_node_t *node, const char *term, size_t len)
{
        const char *open = memchr(term, '(', len);
        embed_head_t h;
        int r = read_head(ps, term, (size_t)(open - term), &h);

        if (r < 0)
                return r;
        if (term[len - 1] != ')')
                return collection_refuse(ps->err, "select",
                                         "'%.*s': nothing may follow an embedding's ')'",
                                         len > 64 ? 64 : (int)len, term);
        if (node->depth == EMBED_MAX_DEPTH)
                return collection_refuse(ps->err, "select",
                                         "embeddings nest at most %d levels deep", EMBED_MAX_DEPTH);
        if (ps->plan->node_count == EMBED_MAX_NODES || node->child_count == EMBED_MAX_CHILDREN)
                return collection_refuse(ps->err, "select",
                                         "at most %d embeddings, %d in one level",
                                         EMBED_MAX_NODES - 1, EMBED_MAX_CHILDREN);
        embed_node_t *child = new_child(ps, node, &h);
        if (child == NULL)
                return -ENOMEM;
        if (label_taken(node, child->key))
                return collection_refuse(ps->err, "select",
                                         "'%.*s' is embedded twice: tell them apart "
                                         "with an alias (alias:relation(...))",
                                         (int)h.label_len, h.label);
        r = resolve(ps, node, h.name, h.name_len, h.hint, h.hint_len, child);
        if (r < 0)
                return r;
        node->children[node->child_count++] = child;
        ps->plan->nodes[ps->plan->node_count++] = child;
        return parse_level(ps, child, open + 1, (size_t)(term + len - open - 2));
}

/* A select list naming the embedding's own columns next to its key is refused. */
static int check_labels(parser_t *ps, const embed_node_t *node)
{
        for (size_t i = 0; i < node->child_count; i++) {
                const char *label = node->children[i]->prefix + strlen(node->prefix);
                size_t len = strlen(label) - 1;
                for (const char *s = node->select; *s != '\0';) {
                        size_t n = strcspn(s, ",");
                        if (n == len && memcmp(s, label, len) == 0)
                                return collection_refuse(
                                        ps->err, "select",
                                        "'%.*s' is both a column and "
                                        "an embedding: give the embedding an alias",
                                        (int)len, label);
                        s += n + (s[n] == ',');
                }
        }
        return 0;
}

static int parse_level(parser_t *ps, embed_node_t *node, const char *text, size_t len)
{
        strbuf_t cols = { 0 };
        int r = 0;

        for (size_t i = 0, end = 0; r == 0 && i <= len; i = end + 1) {
                r = term_end(ps, text, len, i, &end);
                if (r == 0 && end == i)
                        r = collection_refuse(ps->err, "select", "an empty term in select%s%.*s",
                                              node->depth ? " of " : "", (int)strlen(node->prefix),
                                              node->prefix);
                else if (r == 0 && is_embedding(text + i, end - i))
                        r = parse_embed(ps, node, text + i, end - i);
                else if (r == 0)
                        r = add_columns(node, text + i, end - i, &cols);
        }
        if (r == 0 && cols.len == 0)
                r = collection_refuse(ps->err, "select",
                                      "select%s%.*s names no column: embedding needs at "
                                      "least one",
                                      node->depth ? " of " : "", (int)strlen(node->prefix),
                                      node->prefix);
        if (r == 0 && (cols.failed || !(node->select = scope_strndup(ps->scope, cols.data,
                                                                       cols.len))))
                r = -ENOMEM;
        strbuf_done(&cols);
        return r == 0 ? check_labels(ps, node) : r;
}

/* ---- the levels' own parameters ---- */

/* The embedded level whose prefix is the longest that starts name, or NULL. */
static embed_node_t *level_of(const embed_plan_t *plan, const char *name)
{
        embed_node_t *best = NULL;

        for (size_t i = 1; i < plan->node_count; i++) {
                const char *prefix = plan->nodes[i]->prefix;
                if (strncmp(name, prefix, strlen(prefix)) == 0 &&
                    (best == NULL || strlen(prefix) > strlen(best->prefix)))
                        best = plan->nodes[i];
        }
        return best;
}

size_t embed_plan_index(const embed_plan_t *plan, const embed_node_t *node)
{
        size_t i = 0;

        while (plan->nodes[i] != node)
                i++;
        return i;
}

static int check_nested(parser_t *ps, const embed_node_t *node, const query_arg_t *arg,
                        const char *rest)
{
        static const char *const refused[] = { "after", "offset", "count" };

        if (arg->value == NULL)
                return collection_refuse(ps->err, arg->name,
                                         "query parameter '%s' needs a value ('%s=...')",
                                         arg->name, arg->name);
        if (strcmp(rest, "select") == 0)
                return collection_refuse(ps->err, arg->name,
                                         "the columns of an embedding go in its "
                                         "parentheses in select");
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                if (strcmp(rest, refused[i]) == 0)
                        return collection_refuse(ps->err, arg->name,
                                                 "'%s' does not apply to an embedding", rest);
        if (strcmp(rest, "limit") == 0 && node->rel->to_one)
                return collection_refuse(ps->err, arg->name,
                                         "'%s' embeds one row or null: limit applies "
                                         "to arrays",
                                         arg->name);
        return 0;
}

/* Hands each parameter to its level; the top keeps the others. */
static int assign_args(parser_t *ps, const query_arg_t *args, size_t n)
{
        embed_plan_t *plan = ps->plan;

        for (size_t k = 0; k < plan->node_count; k++)
                if (!(ps->args[k] = scope_alloc(ps->scope, (n + 1) * sizeof(query_arg_t))))
                        return -ENOMEM;
        plan->args = ps->args[0];
        for (size_t i = 0; i < n; i++) {
                embed_node_t *node = level_of(plan, args[i].name);
                size_t k = node ? embed_plan_index(plan, node) : 0;
                query_arg_t arg = args[i];
                if (node != NULL) {
                        arg.name += strlen(node->prefix);
                        int r = check_nested(ps, node, &args[i], arg.name);
                        if (r < 0)
                                return r;
                } else if (strcmp(arg.name, "select") == 0) {
                        arg.value = plan->nodes[0]->select;
                }
                ps->args[k][ps->arg_count[k]++] = arg;
        }
        plan->arg_count = ps->arg_count[0];
        return 0;
}

/* ---- each level's plan ---- */

static int link_columns(parser_t *ps, embed_node_t *node)
{
        size_t n = node->rel ? node->rel->column_count : 0;

        for (size_t j = 0; j < node->child_count; j++)
                n += node->children[j]->rel->column_count;
        node->links = scope_alloc(ps->scope, (n + 1) * sizeof(*node->links));
        if (node->links == NULL)
                return -ENOMEM;
        for (size_t i = 0; node->rel && i < node->rel->column_count; i++)
                node->links[node->link_count++] =
                        (size_t)column_index(node->res, node->rel->target_columns[i]);
        for (size_t j = 0; j < node->child_count; j++)
                for (size_t i = 0; i < node->children[j]->rel->column_count; i++)
                        node->links[node->link_count++] = (size_t)column_index(
                                node->res, node->children[j]->rel->columns[i]);
        return 0;
}

/* A refusal of a level's parameter names it as the request wrote it. */
static int name_in_request(parser_t *ps, const embed_node_t *node, int r)
{
        const char *p = ps->err->parameter;

        if (r == -EINVAL && p != NULL && strcmp(p, "select") != 0)
                ps->err->parameter = joined(ps->scope, node->prefix, p, strlen(p), "");
        if (r == -EINVAL && ps->err->parameter == NULL)
                return -ENOMEM;
        return r;
}

static int build_level(parser_t *ps, embed_node_t *node, size_t k)
{
        const query_arg_t *own = ps->args[k];
        size_t n = ps->arg_count[k], filter_count = 0, used;
        query_arg_t *args = scope_alloc(ps->scope, (n + 1) * sizeof(*args));
        query_arg_t *filters = scope_alloc(ps->scope, (n + 1) * sizeof(*filters));

        if (args == NULL || filters == NULL)
                return -ENOMEM;
        args[0] = (query_arg_t){ "select", node->select };
        for (size_t i = 0; i < n; i++) {
                args[i + 1] = own[i];
                if (strcmp(own[i].name, "order") != 0 && strcmp(own[i].name, "limit") != 0)
                        filters[filter_count++] = own[i];
        }
        node->plan.links = node->links;
        node->plan.link_count = node->link_count;
        int r = collection_plan_build(&node->plan, node->res, node->row_binds, args, n + 1,
                                      ps->scope, ps->err);
        if (r == 0 && node->plan.aggregate_count > 0) /* rows are joined back, not groups */
                r = collection_refuse(ps->err, "select",
                                      "aggregates cannot be combined with embedded "
                                      "relations");
        node->per_parent = query_args_get(own, n, "limit") ? node->plan.limit : 0;
        if (r == 0)
                r = collection_plan_where(node->res, node->row_binds, filters, filter_count, "",
                                          0, ps->scope, &node->where_sql, &node->where_binds,
                                          &node->where_bind_count, &used, ps->err);
        if (r == 0)
                r = embed_plan_locate(node, &node->plan, ps->scope);
        return name_in_request(ps, node, r);
}

int embed_plan_parse(embed_plan_t *plan, const api_resource_t *res, const MYSQL_BIND *row_binds,
                     const query_arg_t *args, size_t arg_count, embed_view_fn view_of,
                     void *ctx, scope_t *scope, collection_error_t *err)
{
        const char *select = query_args_get(args, arg_count, "select");
        parser_t ps = { .plan = plan, .view_of = view_of, .ctx = ctx, .scope = scope,
                        .err = err };
        embed_node_t *top;

        *plan = (embed_plan_t){ 0 };
        if (!embed_plan_wanted(select))
                return 0;
        if (!(top = scope_alloc(scope, sizeof(*top))))
                return -ENOMEM;
        top->res = res;
        top->row_binds = row_binds;
        top->prefix = "";
        plan->nodes[plan->node_count++] = top;
        int r = parse_level(&ps, top, select, strlen(select));
        if (r == 0)
                r = assign_args(&ps, args, arg_count);
        for (size_t k = 0; r == 0 && k < plan->node_count; k++)
                r = link_columns(&ps, plan->nodes[k]);
        for (size_t k = 1; r == 0 && k < plan->node_count; k++)
                r = build_level(&ps, plan->nodes[k], k);
        return r;
}

/* ---- fields ---- */

static int field_of(const collection_plan_t *rows, const api_resource_t *res, const char *name,
                    unsigned *ret)
{
        int column = column_index(res, name);

        for (size_t i = 0; column >= 0 && i < rows->field_count; i++)
                if (rows->fields[i] == (size_t)column) {
                        *ret = (unsigned)i;
                        return 0;
                }
        return -EINVAL; /* links are always read: a plan built without them */
}

int embed_plan_locate(embed_node_t *node, const collection_plan_t *rows, scope_t *scope)
{
        int r = 0;

        node->rows = rows;
        if (node->rel != NULL) {
                node->join_fields = scope_alloc(scope, node->rel->column_count * sizeof(unsigned));
                if (node->join_fields == NULL)
                        return -ENOMEM;
                for (size_t i = 0; r == 0 && i < node->rel->column_count; i++)
                        r = field_of(rows, node->res, node->rel->target_columns[i],
                                     &node->join_fields[i]);
        }
        for (size_t j = 0; r == 0 && j < node->child_count; j++) {
                const api_relation_t *rel = node->children[j]->rel;
                unsigned *fields = scope_alloc(scope, rel->column_count * sizeof(unsigned));
                if (fields == NULL)
                        return -ENOMEM;
                node->child_fields[j] = fields;
                for (size_t i = 0; r == 0 && i < rel->column_count; i++)
                        r = field_of(rows, node->res, rel->columns[i], &fields[i]);
        }
        return r;
}

/* ---- the statement ---- */

/* Binds one key's values by the columns they are compared with; -EINVAL
 * when a column cannot hold one (then no row can match the key). */
static int bind_key(const embed_node_t *node, const char *const *values, const size_t *lengths,
                    scope_t *scope, MYSQL_BIND *binds)
{
        char reason[128];
        int r = 0;

        for (size_t i = 0; r == 0 && i < node->rel->column_count; i++) {
                const api_column_t *c =
                        &node->res->columns[column_index(node->res, node->rel->target_columns[i])];
                api_rule_t rule = c->rule;
                if (rule.type == API_TYPE_BOOLEAN) /* read back as the stored integer */
                        rule.type = API_TYPE_INT;
                r = typed_value_parse(&rule, values[i], lengths[i], scope, &binds[i], reason,
                                      sizeof(reason));
        }
        return r;
}

static void append_fields(strbuf_t *sql, const collection_plan_t *p)
{
        for (size_t i = 0; i < p->field_count; i++)
                strbuf_appendf(sql, "%s%s", i ? "," : "", p->res->columns[p->fields[i]].quoted);
}

static void append_join(strbuf_t *sql, const embed_node_t *node)
{
        size_t width = node->rel->column_count;

        for (size_t i = 0; i < width; i++)
                strbuf_appendf(sql, "%s%s", i ? "," : "",
                               node->res->columns[node->plan.links[i]].quoted);
}

/* " ORDER BY <terms>", or nothing for a keyless level no order was asked of. */
static void append_order(strbuf_t *sql, const collection_plan_t *p)
{
        for (size_t i = 0; i < p->order_count; i++)
                strbuf_appendf(sql, "%s%s %s", i ? "," : " ORDER BY ",
                               p->res->columns[p->order[i].column].quoted,
                               p->order[i].descending ? "DESC" : "ASC");
}

/* (cols) IN ((?,?),...): slots keys of width placeholders, or FALSE for none. */
static void append_keys(strbuf_t *sql, const embed_node_t *node, size_t slots)
{
        size_t width = node->rel->column_count;

        strbuf_append_str(sql, node->where_sql[0] ? " AND " : " WHERE ");
        if (slots == 0) {
                strbuf_append_str(sql, "FALSE");
                return;
        }
        strbuf_append_str(sql, width > 1 ? "(" : "");
        append_join(sql, node);
        strbuf_append_str(sql, width > 1 ? ") IN (" : " IN (");
        for (size_t k = 0; k < slots; k++) {
                strbuf_append_str(sql, k ? "," : "");
                for (size_t i = 0; i < width; i++)
                        strbuf_append_str(sql, width == 1 ? "?" : i == 0 ? "(?" : ",?");
                strbuf_append_str(sql, width > 1 ? ")" : "");
        }
        strbuf_append_char(sql, ')');
}

static void write_statement(strbuf_t *sql, const embed_node_t *node, size_t slots)
{
        const collection_plan_t *p = &node->plan;

        bool windowed = !node->rel->to_one && node->per_parent > 0;

        strbuf_append_str(sql, "SELECT ");
        append_fields(sql, p);
        if (windowed) {
                strbuf_append_str(sql, " FROM (SELECT ");
                append_fields(sql, p);
                strbuf_append_str(sql, ",ROW_NUMBER() OVER (PARTITION BY ");
                append_join(sql, node);
                append_order(sql, p);
                strbuf_append_str(sql, ") AS `queryd_embed_row`");
        }
        strbuf_appendf(sql, " FROM %s%s", node->res->quoted_table, node->where_sql);
        append_keys(sql, node, slots);
        if (windowed) {
                strbuf_append_str(sql, ") AS `queryd_embed` WHERE `queryd_embed_row` <= ?");
                append_order(sql, p);
        } else if (!node->rel->to_one) {
                append_order(sql, p);
        }
}

int embed_plan_statement(const embed_node_t *node, const char *const *values,
                         const size_t *lengths, size_t key_count, scope_t *scope,
                         char **ret_sql, MYSQL_BIND **ret_binds)
{
        size_t width = node->rel->column_count, slots = 1, kept = 0;
        size_t lead = node->where_bind_count;
        strbuf_t sql = { 0 };

        while (slots < key_count) /* few distinct texts: the prepared ones are reused */
                slots *= 2;
        MYSQL_BIND *binds = scope_alloc(scope, (lead + slots * width + 1) * sizeof(*binds));
        long long *limit = scope_alloc(scope, sizeof(*limit));
        if (binds == NULL || limit == NULL)
                return -ENOMEM;
        memcpy(binds, node->where_binds, lead * sizeof(*binds));
        for (size_t k = 0; k < key_count; k++) {
                int r = bind_key(node, values + k * width, lengths + k * width, scope,
                                 &binds[lead + kept * width]);
                if (r == -ENOMEM)
                        return r;
                kept += r == 0;
        }
        for (slots = kept ? 1 : 0; slots < kept;)
                slots *= 2;
        for (size_t k = kept; k < slots; k++) /* the last key again, as padding */
                memcpy(&binds[lead + k * width], &binds[lead + (kept - 1) * width],
                       width * sizeof(*binds));
        *limit = node->per_parent;
        binds[lead + slots * width] = (MYSQL_BIND){ .buffer_type = MYSQL_TYPE_LONGLONG,
                                                    .buffer = limit };
        write_statement(&sql, node, slots);
        *ret_sql = sql.failed ? NULL : scope_strndup(scope, sql.data, sql.len);
        *ret_binds = binds;
        strbuf_done(&sql);
        return *ret_sql ? 0 : -ENOMEM;
}
