/*
 * Relations between served resources, for embedding (select=name(...)):
 * the foreign keys information_schema knows between the tables the api
 * serves, each seen from both sides, and the ones the configuration
 * declares for what has no foreign key (views). Built once per api, after
 * the schema check, from whatever resources the api holds by then.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FK_MAX_COLUMNS = 16 };

/* The relations of one resource while they are gathered. */
typedef struct relation_list {
        api_relation_t *items;
        size_t count, cap;
} relation_list_t;

/* One foreign key as KEY_COLUMN_USAGE gives it, its columns in order. */
typedef struct foreign_key {
        char *constraint, *table, *referenced_table;
        char *columns[FK_MAX_COLUMNS];
        char *referenced[FK_MAX_COLUMNS];
        size_t count;
} foreign_key_t;

static bool serves(const api_resource_t *res, char *const *names, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                size_t j = 0;
                while (j < res->column_count && strcmp(res->columns[j].name, names[i]) != 0)
                        j++;
                if (j == res->column_count)
                        return false;
        }
        return true;
}

static char **copy_names(char *const *names, size_t count)
{
        char **copy = calloc(count, sizeof(*copy));

        for (size_t i = 0; copy != NULL && i < count; i++)
                if ((copy[i] = strdup(names[i])) == NULL) {
                        for (size_t j = 0; j < i; j++)
                                free(copy[j]);
                        free(copy);
                        return NULL;
                }
        return copy;
}

/* Appends a relation of list's resource to target; the names are copied. */
static int add(relation_list_t *list, const char *name, const char *constraint,
               const api_resource_t *target, bool to_one, char *const *columns,
               char *const *target_columns, size_t count)
{
        if (list->count == list->cap) {
                size_t cap = list->cap ? 2 * list->cap : 4;
                api_relation_t *more = realloc(list->items, cap * sizeof(*more));
                if (more == NULL)
                        return -ENOMEM;
                list->items = more;
                list->cap = cap;
        }
        api_relation_t *rel = &list->items[list->count];
        *rel = (api_relation_t){ .target = target, .to_one = to_one, .column_count = count };
        rel->name = strdup(name);
        rel->constraint = constraint ? strdup(constraint) : NULL;
        rel->target_path = strdup(target->path);
        rel->columns = copy_names(columns, count);
        rel->target_columns = copy_names(target_columns, count);
        list->count++; /* freed whole or in part by api_relations_free */
        if (rel->name == NULL || (constraint && rel->constraint == NULL) ||
            rel->target_path == NULL || rel->columns == NULL || rel->target_columns == NULL)
                return -ENOMEM;
        return 0;
}

static const api_resource_t *resource_at(const api_t *api, const char *path, size_t *ret_index)
{
        for (size_t i = 0; i < api->resource_count; i++)
                if (strcmp(api->resources[i].path, path) == 0) {
                        *ret_index = i;
                        return &api->resources[i];
                }
        return NULL;
}

/* A declared relation, and its reverse on the entry it leads to. */
static int add_declared(const api_t *api, size_t index, const api_relation_t *d,
                        relation_list_t *lists, char *err, size_t err_size)
{
        const api_resource_t *res = &api->resources[index];
        size_t to;
        const api_resource_t *target = resource_at(api, d->target_path, &to);

        if (target == NULL) {
                snprintf(err, err_size, "%s: resources \"%s\": \"relations\" \"%s\": \"to\": no "
                         "resource has the path \"%.64s\"", api->source, res->path, d->name,
                         d->target_path);
                return -EINVAL;
        }
        if (!serves(res, d->columns, d->column_count) ||
            !serves(target, d->target_columns, d->column_count)) {
                snprintf(err, err_size, "%s: resources \"%s\": \"relations\" \"%s\": \"from\" "
                         "must be columns of this resource and \"to_columns\" of %s",
                         api->source, res->path, d->name, target->path);
                return -EINVAL;
        }
        int r = add(&lists[index], d->name, NULL, target, true, d->columns, d->target_columns,
                    d->column_count);
        if (r == 0)
                r = add(&lists[to], res->table, NULL, res, false, d->target_columns, d->columns,
                        d->column_count);
        return r;
}

/* A foreign key, between every pair of resources serving its two tables. */
static int add_foreign_key(const api_t *api, const foreign_key_t *fk, relation_list_t *lists)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < api->resource_count; i++) {
                const api_resource_t *from = &api->resources[i];
                if (strcmp(from->table, fk->table) != 0 || !serves(from, fk->columns, fk->count))
                        continue;
                for (size_t j = 0; r == 0 && j < api->resource_count; j++) {
                        const api_resource_t *to = &api->resources[j];
                        if (strcmp(to->table, fk->referenced_table) != 0 ||
                            !serves(to, fk->referenced, fk->count))
                                continue;
                        r = add(&lists[i], to->table, fk->constraint, to, true, fk->columns,
                                fk->referenced, fk->count);
                        if (r == 0)
                                r = add(&lists[j], from->table, fk->constraint, from, false,
                                        fk->referenced, fk->columns, fk->count);
                }
        }
        return r;
}

static bool same_key(const foreign_key_t *fk, MYSQL_ROW row)
{
        return fk->count > 0 && strcmp(fk->constraint, row[0]) == 0 &&
               strcmp(fk->table, row[1]) == 0;
}

/* Every foreign key of the database's tables, fed to add_foreign_key. */
static int read_foreign_keys(const api_t *api, MYSQL *mysql, relation_list_t *lists, char *err,
                             size_t err_size)
{
        static const char sql[] =
                "SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, "
                "REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                "WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_SCHEMA = DATABASE() "
                "AND REFERENCED_TABLE_NAME IS NOT NULL "
                "ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION";
        foreign_key_t fk = { 0 };
        MYSQL_ROW row;
        int r = 0;

        if (mysql_query(mysql, sql) != 0) {
                snprintf(err, err_size, "%s: cannot read the foreign keys: %s", api->source,
                         mysql_error(mysql));
                return -EINVAL;
        }
        MYSQL_RES *result = mysql_store_result(mysql);
        while (r == 0 && result != NULL && (row = mysql_fetch_row(result)) != NULL) {
                if (row[0] == NULL || row[1] == NULL || row[2] == NULL || row[3] == NULL ||
                    row[4] == NULL)
                        continue;
                if (fk.count > 0 && !same_key(&fk, row)) {
                        r = add_foreign_key(api, &fk, lists);
                        fk.count = 0;
                }
                if (fk.count == FK_MAX_COLUMNS)
                        continue;
                fk.constraint = row[0];
                fk.table = row[1];
                fk.referenced_table = row[3];
                fk.columns[fk.count] = row[2];
                fk.referenced[fk.count++] = row[4];
        }
        if (r == 0 && fk.count > 0)
                r = add_foreign_key(api, &fk, lists);
        mysql_free_result(result);
        return r;
}

int api_relations_build(api_t *api, MYSQL *mysql, char *err, size_t err_size)
{
        relation_list_t *lists = calloc(api->resource_count + 1, sizeof(*lists));
        int r = lists ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < api->resource_count; i++)
                for (size_t j = 0; r == 0 && j < api->resources[i].relation_count; j++)
                        r = add_declared(api, i, &api->resources[i].relations[j], lists, err,
                                         err_size);
        if (r == 0)
                r = read_foreign_keys(api, mysql, lists, err, err_size);
        for (size_t i = 0; lists != NULL && i < api->resource_count; i++) {
                api_resource_t *res = &api->resources[i];
                if (r == 0) { /* the declared ones are in the list now */
                        api_relations_free(res->relations, res->relation_count);
                        res->relations = lists[i].items;
                        res->relation_count = lists[i].count;
                } else {
                        api_relations_free(lists[i].items, lists[i].count);
                }
        }
        free(lists);
        if (r == -ENOMEM)
                snprintf(err, err_size, "%s: out of memory", api->source);
        return r;
}
