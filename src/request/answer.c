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
