/* The database's failures as problem documents. */
#include "request/answer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db_errors.h"
#include "http/problem.h"

void answer_db_error(http_request_t *req, const db_error_t *error)
{
        db_error_mapping_t m = db_errors_map(error->code);
        char detail[320];

        snprintf(detail, sizeof(detail), "the database answered: %s", error->message);
        json_t *problem = problem_new(m.status, m.slug, detail, req->id);
        if (problem != NULL) {
                json_object_set_new(problem, "errno", json_integer(error->code));
                json_object_set_new(problem, "sqlstate", json_string(error->sqlstate));
        }
        http_fail_problem(req, problem);
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
