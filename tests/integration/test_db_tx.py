"""Transactions and multi-result statements at the database layer.

The checks live in db_tx.c, a program linked with the real pool and
statement code. This driver gives it a private MariaDB, an account that may
write, and the tables and procedures it uses: a transaction left open by
its lease must be rolled back (its connection reopened), a CALL's later
results must be read past, and every session must run with a strict
sql_mode. AddressSanitizer checks the program for leaks at exit.
"""

import os
import subprocess
import unittest

import harness

_program = None
RUN_TIMEOUT = 120
WRITER = "tx_writer"
WRITER_PASSWORD = "tx-writer-secret"

SCHEMA = """
CREATE TABLE tx_probe (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE tx_small (t TINYINT NOT NULL) ENGINE=InnoDB;
DELIMITER //
CREATE PROCEDURE tx_two_results()
BEGIN
  SELECT 1 AS a UNION ALL SELECT 2;
  SELECT 'x' AS b, 'y' AS c, 'z' AS d UNION ALL SELECT 'p', 'q', 'r'
    UNION ALL SELECT 'e', 'f', 'g';
END //
CREATE PROCEDURE tx_no_result()
BEGIN
  INSERT INTO tx_probe (v) VALUES (99);
END //
CREATE PROCEDURE tx_fails_late()
BEGIN
  SELECT 1 AS a;
  INSERT INTO tx_probe (v) VALUES (NULL);
END //
DELIMITER ;
"""


class TransactionTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not _program or not os.access(_program, os.X_OK):
            raise RuntimeError("pass --program PATH (the db_tx executable)")
        cls.fixture = harness.TestRun(cls.__name__)
        cls.addClassCleanup(cls.fixture.close)
        db = cls.fixture.start_mariadb()
        db.create_app_user(WRITER, WRITER_PASSWORD, harness.DEMO_DB)
        db.execute(SCHEMA, harness.DEMO_DB)
        for host in ("localhost", "127.0.0.1", "%"):
            db.execute(f"GRANT INSERT, UPDATE, DELETE, EXECUTE ON {harness.DEMO_DB}.* "
                       f"TO '{WRITER}'@'{host}';")
        cls.database_url = db.tcp_url(WRITER, WRITER_PASSWORD, harness.DEMO_DB)

    def test_transactions_and_results(self):
        env = harness.child_env({})
        try:
            proc = subprocess.run([_program, self.database_url], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self.fail(f"still running after {RUN_TIMEOUT} s: {exc.stderr!r}")
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        self.assertEqual(proc.returncode, 0, f"db_tx failed:\n{output[-6000:]}")
        for marker in harness.FORBIDDEN_LOG_MARKERS:
            self.assertNotIn(marker, output, output[-6000:])


if __name__ == "__main__":
    _program = harness.take_option("program")
    harness.main()
