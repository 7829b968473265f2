/*
 * Embedded relations in a read: select=id,name,members(id,name,orders(id))
 * with the embedded levels' own parameters (members.status=eq.paid,
 * members.order=..., members.limit=5). Turns the request into a tree of
 * levels, each a resource as the caller's role sees it with its select
 * list, filters and order, and writes the statement that reads one level's
 * rows for a batch of its parents' keys. No I/O.
 *
 *   term     := column | "*" | [alias ":"] relation ["!" constraint] "(" terms ")"
 *
 * Any other term (an aggregate such as count()) is handed on as a column
 * is, for collection_plan to read.
 *
 * A relation is named after the related entry's table, or by the name the
 * configuration declares; the constraint tells two foreign keys to the
 * same table apart.
 */
#ifndef QUERYD_EMBED_PLAN_H
#define QUERYD_EMBED_PLAN_H

#include "sql/collection_plan.h"

enum {
        EMBED_MAX_DEPTH = 3,     /* levels below the top */
        EMBED_MAX_NODES = 16,    /* the top and every embedded level */
        EMBED_MAX_CHILDREN = 8,  /* relations embedded in one level */
        EMBED_MAX_KEYS = 2048,   /* parent keys in one statement: more make more statements */
};

typedef struct embed_node embed_node_t;

struct embed_node {
        const api_resource_t *res;     /* the caller's view of the entry at this level */
        const MYSQL_BIND *row_binds;   /* the claims its row condition binds */
        const api_relation_t *rel;     /* how it joins its parent; NULL at the top */
        const char *key;               /* its member in its parent's objects (JSON-ready text) */
        const char *prefix;            /* "members." "members.orders.": its parameters' names */
        embed_node_t *parent;
        embed_node_t *children[EMBED_MAX_CHILDREN];
        size_t child_count;
        unsigned depth;                /* 0 at the top */
        char *select;                  /* its own columns, for collection_plan_*() */
        size_t *links;                 /* the columns joins need: its own to its parent's,
                                          then each child's from it (hidden fields) */
        size_t link_count;
        /* Its rows' fields (embed_plan_locate): where its own join columns and
         * each child's are, child_count * (child's column_count) of them. */
        const collection_plan_t *rows; /* the plan its rows are read by */
        unsigned *join_fields;
        unsigned *child_fields[EMBED_MAX_CHILDREN];
        /* Embedded levels only. */
        collection_plan_t plan;        /* its select list, order and fields */
        long long per_parent;          /* rows in one parent's array at most (to many,
                                          <relation>.limit); 0: every related row */
        char *where_sql;               /* " WHERE <row rule> AND <filters>", or "" */
        MYSQL_BIND *where_binds;
        size_t where_bind_count;
};

typedef struct embed_plan {
        embed_node_t *nodes[EMBED_MAX_NODES]; /* the top first, then depth first */
        size_t node_count;                    /* 0: the request embeds nothing */
        query_arg_t *args;     /* the top level's arguments: its select without the
                                  embedded terms, without the embedded levels' ones */
        size_t arg_count;
} embed_plan_t;

/**
 * The caller's view of entry (a resource of the api, never a view) and the
 * claims its row condition binds: 0; -ENOENT when the caller may not read
 * it; -ENOMEM.
 */
typedef int (*embed_view_fn)(void *ctx, const api_resource_t *entry,
                             const api_resource_t **ret_view, const MYSQL_BIND **ret_binds);

/**
 * Whether select embeds a relation: a term rel(...) (an aggregate's call,
 * count() or column.sum(), is no embedding), or unbalanced parentheses,
 * which embed_plan_parse() refuses.
 */
bool embed_plan_wanted(const char *select);

/**
 * Reads the embedded terms of args' select, and the embedded levels'
 * parameters, for res (the caller's view; row_binds its claims). Without
 * any, node_count is 0 and args are to be read as they are. Otherwise
 * every embedded level's plan is built; the top's is the caller's to build
 * from plan->args with plan->nodes[0]->links (collection_plan_t.links),
 * then to embed_plan_locate(). A relation the caller may not read (view_of
 * says -ENOENT) is one that does not exist. Returns 0; -EINVAL with err
 * filled (err->parameter names the parameter at fault); -ENOMEM.
 */
int embed_plan_parse(embed_plan_t *plan, const api_resource_t *res, const MYSQL_BIND *row_binds,
                     const query_arg_t *args, size_t arg_count, embed_view_fn view_of,
                     void *ctx, scope_t *scope, collection_error_t *err);

/** node's place in plan->nodes. */
size_t embed_plan_index(const embed_plan_t *plan, const embed_node_t *node);

/** Finds node's join fields in rows, the plan its rows are read by. 0 or -ENOMEM. */
int embed_plan_locate(embed_node_t *node, const collection_plan_t *rows, scope_t *scope);

/**
 * The statement that reads node's rows for key_count keys of its parent
 * (each node->rel->column_count values, as the plain texts of
 * rowjson_append_plain, unquoted): its filters and row condition, the keys,
 * and for a to-many relation at most node->per_parent rows per key (when
 * set), in its order. Keys a column cannot hold are left out. Returns 0; -ENOMEM.
 */
int embed_plan_statement(const embed_node_t *node, const char *const *values,
                         const size_t *lengths, size_t key_count, scope_t *scope,
                         char **ret_sql, MYSQL_BIND **ret_binds);

#endif
