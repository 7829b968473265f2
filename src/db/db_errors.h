/* The one table from MariaDB error numbers to HTTP answers. */
#ifndef QUERYD_DB_ERRORS_H
#define QUERYD_DB_ERRORS_H

typedef struct db_error_mapping {
        unsigned status;   /* HTTP status */
        const char *slug;  /* problem type, see problem.h */
} db_error_mapping_t;

/** How to answer a request whose statement failed with this MariaDB errno. */
db_error_mapping_t db_errors_map(unsigned code);

#endif
