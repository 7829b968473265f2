/* MariaDB errno -> HTTP status. Anything the database cannot be blamed on the
 * client for is a 5xx: 503 when retrying later may help, 504 for deadlines.
 * The one 4xx: the database's grants refused the statement to the role the
 * request runs under, which is the caller's lack of rights, not a fault. */
#include "db/db_errors.h"

#include <stddef.h>

static const struct {
        unsigned code;
        db_error_mapping_t mapping;
} table[] = {
        { 1040, { 503, "database-unavailable" } }, /* ER_CON_COUNT_ERROR */
        { 1044, { 503, "database-unavailable" } }, /* ER_DBACCESS_DENIED_ERROR */
        { 1047, { 503, "database-unavailable" } }, /* a Galera node not ready for queries */
        { 1045, { 503, "database-unavailable" } }, /* ER_ACCESS_DENIED_ERROR */
        { 1053, { 503, "database-unavailable" } }, /* ER_SERVER_SHUTDOWN */
        { 1142, { 403, "forbidden" } },            /* ER_TABLEACCESS_DENIED_ERROR */
        { 1143, { 403, "forbidden" } },            /* ER_COLUMNACCESS_DENIED_ERROR */
        { 1205, { 503, "database-unavailable" } }, /* ER_LOCK_WAIT_TIMEOUT */
        { 1213, { 503, "database-unavailable" } }, /* ER_LOCK_DEADLOCK */
        { 1227, { 403, "forbidden" } },            /* ER_SPECIFIC_ACCESS_DENIED_ERROR */
        { 1370, { 403, "forbidden" } },            /* ER_PROCACCESS_DENIED_ERROR */
        { 1927, { 503, "database-unavailable" } }, /* ER_CONNECTION_KILLED */
        { 1969, { 504, "timeout" } },              /* ER_STATEMENT_TIMEOUT */
        { 3024, { 504, "timeout" } },              /* MySQL's ER_QUERY_TIMEOUT */
        { 2002, { 503, "database-unavailable" } }, /* CR_CONNECTION_ERROR */
        { 2003, { 503, "database-unavailable" } }, /* CR_CONN_HOST_ERROR */
        { 2006, { 503, "database-unavailable" } }, /* CR_SERVER_GONE_ERROR */
        { 2013, { 503, "database-unavailable" } }, /* CR_SERVER_LOST */
        { 2055, { 503, "database-unavailable" } }, /* CR_SERVER_LOST_EXTENDED */
};

db_error_mapping_t db_errors_map(unsigned code)
{
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (table[i].code == code)
                        return table[i].mapping;
        /* Other client-side errors concern the link, not the statement. */
        if (code >= 2000 && code < 3000 && code != 2008)
                return (db_error_mapping_t){ 503, "database-unavailable" };
        return (db_error_mapping_t){ 500, "database-error" };
}
