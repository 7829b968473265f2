/*
 * Unit tests for the MariaDB role a leased connection runs under: the SET
 * ROLE text (an identifier quoted with backticks, a backtick in it doubled,
 * NONE for no role, snprintf-like truncation), and no statement at all when
 * the connection already runs under the role asked for. Switching roles on
 * a real server is the integration test's (test_db_role.py).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_conn.h"
#include "db/db_role.h"
#include "test.h"

static void check_statement(const char *db_role, const char *expected)
{
        char buf[128];
        size_t n = db_role_statement(buf, sizeof(buf), db_role);

        ASSERT_EQ_INT(n, strlen(expected));
        ASSERT_EQ_STR(buf, expected);
        ASSERT_EQ_INT(db_role_statement(NULL, 0, db_role), strlen(expected));
}

static void test_no_role_is_none(void)
{
        check_statement(NULL, "SET ROLE NONE");
        check_statement("", "SET ROLE NONE");
}

static void test_name_is_quoted(void)
{
        check_statement("shop_reader", "SET ROLE `shop_reader`");
        check_statement("NONE", "SET ROLE `NONE`"); /* a role named NONE is not no role */
        check_statement("a b'c\"d", "SET ROLE `a b'c\"d`");
        check_statement("caf\xc3\xa9", "SET ROLE `caf\xc3\xa9`");
}

static void test_backticks_are_doubled(void)
{
        check_statement("`", "SET ROLE ````");
        check_statement("x`; DROP TABLE t; --", "SET ROLE `x``; DROP TABLE t; --`");
        check_statement("``a``", "SET ROLE `````a`````");
}

static void test_truncation_is_like_snprintf(void)
{
        char buf[12];

        memset(buf, 'z', sizeof(buf));
        ASSERT_EQ_INT(db_role_statement(buf, sizeof(buf), "a`b"), strlen("SET ROLE `a``b`"));
        ASSERT_EQ_STR(buf, "SET ROLE `a");
        memset(buf, 'z', sizeof(buf));
        ASSERT_EQ_INT(db_role_statement(buf, 1, "x"), strlen("SET ROLE `x`"));
        ASSERT_EQ_INT(buf[0], '\0');
        ASSERT_EQ_INT(buf[1], 'z');
}

/* ---- no round trip when the role is already right ---- */

typedef struct outcome {
        int calls;
        int status;
        bool error_given;
} outcome_t;

static void role_cb(db_lease_t *lease, int status, const db_error_t *error, void *data)
{
        outcome_t *o = data;

        (void)lease;
        o->calls++;
        o->status = status;
        o->error_given = error != NULL;
}

/* A connection with no client handle: anything but the fast path would crash. */
static void expect_no_statement(db_conn_t *conn, const char *db_role)
{
        db_lease_t lease = { .conn = conn };
        outcome_t o = { 0 };

        db_lease_use_role(&lease, NULL, db_role, role_cb, &o);
        ASSERT_EQ_INT(o.calls, 1);
        ASSERT_EQ_INT(o.status, 0);
        ASSERT_FALSE(o.error_given);
        ASSERT_TRUE(conn->role_known);
}

static void test_same_role_sends_nothing(void)
{
        db_conn_t conn;

        memset(&conn, 0, sizeof(conn));
        conn.role_known = true;
        expect_no_statement(&conn, NULL);
        expect_no_statement(&conn, "");
        conn.role = strdup("shop_reader");
        ASSERT_NOT_NULL(conn.role);
        expect_no_statement(&conn, "shop_reader");
        ASSERT_EQ_STR(conn.role, "shop_reader");
        db_conn_forget_role(&conn);
        ASSERT_FALSE(conn.role_known);
        ASSERT_NULL(conn.role);
        db_conn_forget_role(&conn); /* twice is harmless */
        ASSERT_NULL(conn.role);
}

int main(void)
{
        RUN_TEST(test_no_role_is_none);
        RUN_TEST(test_name_is_quoted);
        RUN_TEST(test_backticks_are_doubled);
        RUN_TEST(test_truncation_is_like_snprintf);
        RUN_TEST(test_same_role_sends_nothing);
        return test_report();
}
