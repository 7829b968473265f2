"""A primary and GTID replicas for the integration tests: private MariaDB
servers (their own datadirs, sockets and free ports) wired with MariaDB's
GTID replication, the demo schema loaded once on the primary and replicated.

    servers = start_replicated_demo(run, replicas=2)
    servers.primary, servers.replicas[0], servers.wait_caught_up()
"""

import time

from harness import APP_PASSWORD, APP_USER, DEMO_DB, load_demo

REPL_USER = "repl"
REPL_PASSWORD = "repl-secret"


def _binlog_args(server_id):
    # Row events, strict GTIDs; the replica reconnects every second, so a
    # primary that comes back is followed at once.
    return ["--log-bin=binlog", "--server-id=%d" % server_id, "--gtid-strict-mode=1",
            "--binlog-format=ROW", "--log-slave-updates=0", "--slave-net-timeout=5"]


class ReplicatedServers:
    def __init__(self, primary, replicas):
        self.primary = primary
        self.replicas = replicas

    def primary_position(self):
        return self.primary.query_value("SELECT @@gtid_binlog_pos") or ""

    def wait_caught_up(self, replica=None, timeout=60):
        """Waits until every replica (or the one given) has applied the primary's position."""
        position = self.primary_position()
        for r in ([replica] if replica is not None else self.replicas):
            got = r.query_value(f"SELECT MASTER_GTID_WAIT('{position}', {timeout})")
            if got != "0":
                raise AssertionError(f"replica {r.state_dir} did not reach {position}: "
                                     f"{r.execute('SHOW SLAVE STATUS')}")

    def urls(self):
        return ",".join(r.tcp_url(APP_USER, APP_PASSWORD, DEMO_DB) for r in self.replicas)


def follow(replica, primary):
    """Points replica at primary by GTID and starts it."""
    replica.execute(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', "
        "MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; "
        "START SLAVE;" % (primary.port, REPL_USER, REPL_PASSWORD))


def wait_slave_running(replica, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = replica.execute("SHOW SLAVE STATUS\\G")
        if "Slave_IO_Running: Yes" in status and "Slave_SQL_Running: Yes" in status:
            return
        time.sleep(0.1)
    raise AssertionError("replication did not start: " + replica.execute("SHOW SLAVE STATUS\\G"))


def start_replicated_demo(run, replicas=2):
    """Starts a primary with the demo data and `replicas` replicas following it."""
    primary = run.start_mariadb("primary", server_args=_binlog_args(1))
    primary.execute(
        f"CREATE USER '{REPL_USER}'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'; "
        f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'127.0.0.1';")
    load_demo(primary)
    servers = []
    for i in range(replicas):
        # read_only: the application's account cannot write there by mistake.
        r = run.start_mariadb(f"replica{i + 1}",
                              server_args=_binlog_args(2 + i) + ["--read-only=1"])
        follow(r, primary)
        servers.append(r)
    set_ = ReplicatedServers(primary, servers)
    for r in servers:
        wait_slave_running(r)
    set_.wait_caught_up()
    return set_
