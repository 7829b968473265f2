"""A lent connection whose socket cannot be watched while its statement runs.

The checks live in db_watch_fault.c, a program linked with the real pool and
statement code in which the libuv calls that set up a socket watch fail on
demand.  This driver gives it a private MariaDB and runs each case in a
process of its own: the statement must end with an error at once, its
connection must not be lent again while its lease is out nor be closed under
another lease, and the pool must end with every connection back and nothing
left open (AddressSanitizer checks for leaks at exit).
"""

import os
import subprocess
import unittest

import harness

_program = None
CASE_TIMEOUT = 60


class WatchFaultTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not _program or not os.access(_program, os.X_OK):
            raise RuntimeError("pass --program PATH (the db_watch_fault executable)")
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        db = cls.fixture.start_mariadb()
        db.create_app_user(harness.APP_USER, harness.APP_PASSWORD, harness.DEMO_DB)
        cls.database_url = db.tcp_url(harness.APP_USER, harness.APP_PASSWORD, harness.DEMO_DB)

    def run_case(self, case):
        env = harness.child_env({})
        try:
            proc = subprocess.run([_program, self.database_url, case], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=CASE_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self.fail(f"{case}: still running after {CASE_TIMEOUT} s: {exc.stderr!r}")
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, f"{case} failed:\n{output[-6000:]}")
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, output, f"{case}:\n{output[-6000:]}")

    def test_poll_cannot_be_created(self):
        self.run_case("poll-init")

    def test_poll_cannot_be_started(self):
        self.run_case("poll-start")


if __name__ == "__main__":
    _program = harness.take_option("program")
    harness.main()
