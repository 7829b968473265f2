/*
 * Queryd-Position on reads: the header is checked for the shape of a GTID
 * list, and on a Galera node the read becomes a causal read. The position's
 * value does not matter there: a causal read waits for every commit the
 * cluster made before it, which includes the write that answered with it.
 */
#include "request/read_position.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db_conn.h"

/* Far more GTIDs than any cluster has domains. */
enum { MAX_POSITION_LEN = 4096 };

static const char *skip_blanks(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* One decimal number of at most max_digits digits; NULL if none. */
static const char *number(const char *p, int max_digits)
{
        int n = 0;

        while (isdigit((unsigned char)p[n]))
                n++;
        return n > 0 && n <= max_digits ? p + n : NULL;
}

/* domain-server-sequence: 32-bit, 32-bit and 64-bit unsigned numbers. */
static const char *gtid(const char *p)
{
        p = number(p, 10);
        if (p == NULL || *p++ != '-')
                return NULL;
        p = number(p, 10);
        if (p == NULL || *p++ != '-')
                return NULL;
        return number(p, 20);
}

bool read_position_valid(const char *text)
{
        const char *p = text;

        if (text == NULL || strlen(text) > MAX_POSITION_LEN)
                return false;
        for (;;) {
                p = gtid(skip_blanks(p));
                if (p == NULL)
                        return false;
                p = skip_blanks(p);
                if (*p == '\0')
                        return true;
                if (*p++ != ',')
                        return false;
        }
}

int read_position_check(http_request_t *req)
{
        const char *value = http_header(req, READ_POSITION_HEADER);

        if (value == NULL)
                return 0;
        if (!read_position_valid(value)) {
                http_fail_param(req, READ_POSITION_HEADER,
                                READ_POSITION_HEADER ": a position is a list of MariaDB GTIDs "
                                "such as 0-1-42 (domain-server-sequence, separated by commas)");
                return -EINVAL;
        }
        return 1;
}

int read_position_wait(db_query_t *q, const db_conn_t *conn, scope_t *scope)
{
        static const char prefix[] = "SET STATEMENT wsrep_sync_wait=1 FOR ";
        char *text;

        if (!conn->galera || strncmp(q->sql, prefix, sizeof(prefix) - 1) == 0)
                return 0;
        text = scope_alloc(scope, sizeof(prefix) + strlen(q->sql));
        if (text == NULL)
                return -ENOMEM;
        memcpy(text, prefix, sizeof(prefix) - 1);
        strcpy(text + sizeof(prefix) - 1, q->sql);
        q->sql = text;
        return 0;
}
