/* The database's failures as problem documents. */
#include "request/answer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "db/db_errors.h"
#include "http/problem.h"

static void fail_with_error(http_request_t *req, unsigned status, const char *slug,
                            const char *detail, const db_error_t *error)
{
        json_t *problem = problem_new(status, slug, detail, req->id);

        if (problem != NULL) {
                json_object_set_new(problem, "errno", json_integer(error->code));
                json_object_set_new(problem, "sqlstate", json_string(error->sqlstate));
        }
        http_fail_problem(req, problem);
}

void answer_db_error(http_request_t *req, const db_error_t *error)
{
        db_error_mapping_t m = db_errors_map(error->code);
        char detail[320];

        /* A grants denial names the database account and the table, which
         * are the deployment's business, not the client's. */
        if (m.status == 403)
                snprintf(detail, sizeof(detail), "the database refused this statement to the "
                                                 "role the request runs under");
        else
                snprintf(detail, sizeof(detail), "the database answered: %s", error->message);
        fail_with_error(req, m.status, m.slug, detail, error);
}

void answer_role_failure(http_request_t *req, const db_error_t *error)
{
        /* A lost link is the database being unavailable, as for any statement. */
        if (error->code >= 2000 && error->code < 3000 && error->code != 2008) {
                answer_db_error(req, error);
                return;
        }
        log_error("request %s: cannot take the configured database role: %u %s", req->id,
                  error->code, error->message);
        fail_with_error(req, 500, "database-error",
                        "the database role configured for this request cannot be taken", error);
}

void answer_acquire_failure(http_request_t *req, int status)
{
        if (status == -EAGAIN)
                http_fail(req, 503, "overloaded", "too many requests are waiting for a database "
                                                  "connection");
        else if (status == -ESHUTDOWN)
                http_fail(req, 503, "database-unavailable", "the service is shutting down");
        else if (status == -ENOTCONN)
                http_fail(req, 503, "database-unavailable", "the database cannot be reached");
        else
                http_fail(req, 500, "internal", "cannot borrow a database connection (%s)",
                          strerror(-status));
}

/* ---- writes ---- */

/*
 * The column a refusal names. MariaDB quotes it 'name' after a fixed text
 * ("Column 'x' cannot be null", "Data too long for column 'x' at row 1")
 * or as `db`.`table`.`name` after the offending value ("Incorrect integer
 * value: '...' for column `d`.`t`.`x` at row 1"). Both are read from the
 * end backwards, past the fixed tail, so that a value quoted earlier in the
 * message, whatever it holds, is never taken for the name.
 */
static const char *const column_tails[] = { " cannot be null", " doesn't have a default value" };
static const char *const quoted_heads[] = { "Column '", "Field '", "Out of range value for column '",
                                            "Data too long for column '",
                                            "Data truncated for column '" };

/* The message's length without its fixed tail (" at row N" or a column_tails entry). */
static size_t strip_tail(const char *message)
{
        size_t end = strlen(message);
        size_t digits = end;

        while (digits > 0 && message[digits - 1] >= '0' && message[digits - 1] <= '9')
                digits--;
        if (digits < end && digits >= 8 && memcmp(message + digits - 8, " at row ", 8) == 0)
                return digits - 8;
        for (size_t i = 0; i < sizeof(column_tails) / sizeof(column_tails[0]); i++) {
                size_t n = strlen(column_tails[i]);
                if (end >= n && strcmp(message + end - n, column_tails[i]) == 0)
                        return end - n;
        }
        return end;
}

/* The last `name` ending at end (after its closing backtick), `` read as one backtick. */
static bool last_backticked(const char *message, size_t end, char *name, size_t size)
{
        size_t i = end - 1; /* the closing backtick */
        char reversed[256];
        size_t n = 0;

        while (i > 0) {
                i--;
                if (message[i] == '`' && (i == 0 || message[i - 1] != '`'))
                        break; /* the opening backtick */
                if (message[i] == '`')
                        i--;   /* a doubled one */
                if (n == sizeof(reversed) || n + 1 >= size)
                        return false;
                reversed[n++] = message[i];
        }
        if (n == 0 || message[i] != '`')
                return false;
        for (size_t k = 0; k < n; k++)
                name[k] = reversed[n - 1 - k];
        name[n] = '\0';
        return true;
}

static bool column_of(const char *message, char *name, size_t size)
{
        size_t end = strip_tail(message);

        if (end < 2)
                return false;
        if (message[end - 1] == '`')
                return last_backticked(message, end, name, size);
        if (message[end - 1] != '\'')
                return false;
        for (size_t i = 0; i < sizeof(quoted_heads) / sizeof(quoted_heads[0]); i++) {
                size_t head = strlen(quoted_heads[i]);
                if (strncmp(message, quoted_heads[i], head) != 0 || end - 1 <= head)
                        continue;
                size_t n = end - 1 - head;
                if (n >= size)
                        return false;
                memcpy(name, message + head, n);
                name[n] = '\0';
                return true;
        }
        return false;
}

/* What is wrong with the value of a column, for the refusals that name one. */
static const char *value_problem(unsigned code)
{
        switch (code) {
        case 1048: return "cannot be null";
        case 1264: return "is out of range";
        case 1406: return "is too long";
        case 1366: return "is not valid for its type";
        case 1292: return "is not a valid date or time";
        case 1364: return "is missing and has no default";
        case 1265: return "would be truncated";
        default: return NULL;
        }
}

static void fail_invalid_value(http_request_t *req, const db_error_t *error, const char *problem)
{
        char column[200];
        char detail[320];

        if (column_of(error->message, column, sizeof(column)))
                snprintf(detail, sizeof(detail), "the value for column %s %s", column, problem);
        else
                snprintf(detail, sizeof(detail), "a value %s", problem);
        fail_with_error(req, 400, "invalid-body", detail, error);
}

void answer_write_error(http_request_t *req, const db_error_t *error)
{
        const char *problem = value_problem(error->code);

        if (problem != NULL) {
                fail_invalid_value(req, error, problem);
                return;
        }
        switch (error->code) {
        case 1062: /* ER_DUP_ENTRY: the message quotes the other row's key */
                fail_with_error(req, 409, "conflict", "a row with this key already exists", error);
                return;
        case 1451: /* ER_ROW_IS_REFERENCED_2 */
                fail_with_error(req, 409, "conflict", "other rows refer to this row", error);
                return;
        case 1452: /* ER_NO_REFERENCED_ROW_2 */
                fail_with_error(req, 409, "conflict", "a row this row refers to does not exist",
                                error);
                return;
        case 4025: /* ER_CONSTRAINT_FAILED */
        case 3819: /* MySQL's ER_CHECK_CONSTRAINT_VIOLATED */
                fail_with_error(req, 422, "constraint-violation",
                                "the row breaks a check constraint of the table", error);
                return;
        case 1205: /* ER_LOCK_WAIT_TIMEOUT */
        case 1213: /* ER_LOCK_DEADLOCK */
                http_add_header(req, "Retry-After", "1");
                fail_with_error(req, 503, "busy",
                                "the rows are locked by other writes: try again", error);
                return;
        default:
                answer_db_error(req, error);
        }
}
