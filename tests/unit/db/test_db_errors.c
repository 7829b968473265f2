/*
 * Unit tests for the one table from MariaDB error numbers to HTTP answers:
 * timeouts are 504, a lost or refused link is 503, a statement the grants
 * refuse to the request's role is 403, the rest is 500, and no other
 * database error is ever blamed on the client.
 */
#include <string.h>

#include "db/db_errors.h"
#include "test.h"

static void check_mapping(unsigned code, unsigned status, const char *slug, const char *file,
                          int line)
{
        db_error_mapping_t m = db_errors_map(code);

        if (m.status == status && m.slug != NULL && strcmp(m.slug, slug) == 0) {
                test_pass();
                return;
        }
        test_fail_header(file, line);
        fprintf(stderr, "errno %u: got %u %s, expected %u %s\n", code, m.status,
                m.slug ? m.slug : "(null)", status, slug);
}

#define ASSERT_MAPS(code, status, slug) check_mapping((code), (status), (slug), __FILE__, __LINE__)

static void test_timeouts_are_504(void)
{
        ASSERT_MAPS(1969, 504, "timeout"); /* ER_STATEMENT_TIMEOUT */
        ASSERT_MAPS(3024, 504, "timeout"); /* MySQL's ER_QUERY_TIMEOUT */
}

static void test_unavailable_is_503(void)
{
        ASSERT_MAPS(2006, 503, "database-unavailable"); /* CR_SERVER_GONE_ERROR */
        ASSERT_MAPS(2013, 503, "database-unavailable"); /* CR_SERVER_LOST */
        ASSERT_MAPS(2002, 503, "database-unavailable"); /* CR_CONNECTION_ERROR */
        ASSERT_MAPS(2003, 503, "database-unavailable"); /* CR_CONN_HOST_ERROR */
        ASSERT_MAPS(2055, 503, "database-unavailable"); /* CR_SERVER_LOST_EXTENDED */
        ASSERT_MAPS(1213, 503, "database-unavailable"); /* ER_LOCK_DEADLOCK */
        ASSERT_MAPS(1205, 503, "database-unavailable"); /* ER_LOCK_WAIT_TIMEOUT */
        ASSERT_MAPS(1040, 503, "database-unavailable"); /* ER_CON_COUNT_ERROR */
        ASSERT_MAPS(1045, 503, "database-unavailable"); /* ER_ACCESS_DENIED_ERROR */
        ASSERT_MAPS(1053, 503, "database-unavailable"); /* ER_SERVER_SHUTDOWN */
        ASSERT_MAPS(1927, 503, "database-unavailable"); /* ER_CONNECTION_KILLED */
        ASSERT_MAPS(1047, 503, "database-unavailable"); /* a Galera node not ready */
}

static void test_statement_errors_are_500(void)
{
        ASSERT_MAPS(1146, 500, "database-error"); /* ER_NO_SUCH_TABLE */
        ASSERT_MAPS(1064, 500, "database-error"); /* ER_PARSE_ERROR */
        ASSERT_MAPS(1054, 500, "database-error"); /* ER_BAD_FIELD_ERROR */
        ASSERT_MAPS(1062, 500, "database-error"); /* ER_DUP_ENTRY */
        ASSERT_MAPS(2008, 500, "database-error"); /* CR_OUT_OF_MEMORY: not the link */
}

static void test_grants_denials_are_403(void)
{
        ASSERT_MAPS(1142, 403, "forbidden"); /* ER_TABLEACCESS_DENIED_ERROR */
        ASSERT_MAPS(1143, 403, "forbidden"); /* ER_COLUMNACCESS_DENIED_ERROR */
        ASSERT_MAPS(1227, 403, "forbidden"); /* ER_SPECIFIC_ACCESS_DENIED_ERROR */
        ASSERT_MAPS(1370, 403, "forbidden"); /* ER_PROCACCESS_DENIED_ERROR */
}

static void test_unknown_codes_are_500(void)
{
        ASSERT_MAPS(0, 500, "database-error");
        ASSERT_MAPS(1, 500, "database-error");
        ASSERT_MAPS(999, 500, "database-error");
        ASSERT_MAPS(1999, 500, "database-error");
        ASSERT_MAPS(3000, 500, "database-error");
        ASSERT_MAPS(4000, 500, "database-error");
        ASSERT_MAPS(99999, 500, "database-error");
        ASSERT_MAPS(0xFFFFFFFFu, 500, "database-error");
}

static bool is_grants_denial(unsigned code)
{
        return code == 1142 || code == 1143 || code == 1227 || code == 1370;
}

static void test_every_other_code_is_a_server_error(void)
{
        int bad = 0;

        for (unsigned code = 0; code < 10000; code++) {
                if (is_grants_denial(code))
                        continue;
                db_error_mapping_t m = db_errors_map(code);
                bool known = m.slug != NULL && (strcmp(m.slug, "timeout") == 0 ||
                                                strcmp(m.slug, "database-unavailable") == 0 ||
                                                strcmp(m.slug, "database-error") == 0);
                bool consistent = (m.status == 504 && known && strcmp(m.slug, "timeout") == 0) ||
                                  (m.status == 503 && known &&
                                   strcmp(m.slug, "database-unavailable") == 0) ||
                                  (m.status == 500 && known &&
                                   strcmp(m.slug, "database-error") == 0);
                if (!consistent && bad++ < 5)
                        fprintf(stderr, "  errno %u -> %u %s\n", code, m.status,
                                m.slug ? m.slug : "(null)");
        }
        ASSERT_EQ_INT(bad, 0);
}

int main(void)
{
        RUN_TEST(test_timeouts_are_504);
        RUN_TEST(test_unavailable_is_503);
        RUN_TEST(test_statement_errors_are_500);
        RUN_TEST(test_grants_denials_are_403);
        RUN_TEST(test_unknown_codes_are_500);
        RUN_TEST(test_every_other_code_is_a_server_error);
        return test_report();
}
