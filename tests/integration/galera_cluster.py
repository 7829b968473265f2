"""A private three-node MariaDB Galera cluster for integration tests.

Each node is a PrivateMariaDB (scripts/private_mariadb.py) with its own
datadir, socket and client port, plus free loopback ports of its own for
group communication, incremental state transfer (IST) and full state
transfer (SST, by rsync). The first node bootstraps the cluster; the others
join it and receive their data by SST. Nodes can be killed with SIGKILL and
started again, when they catch up by IST.

    cluster = GaleraCluster(run_dir / "galera")
    cluster.start()               # all nodes synced, cluster size 3
    cluster.nodes[0].execute("CREATE DATABASE ...")
    cluster.kill(1); cluster.restart(1); cluster.wait_synced()
    cluster.close()               # every process gone

Needs Debian's galera-4 (the provider library) and the wsrep SST scripts of
mariadb-server (scripts/deps installs both).
"""

import os
import pwd
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from private_mariadb import MariaDBError, PrivateMariaDB, _free_port, _tail  # noqa: E402

SERVER_ACCOUNT = "mysql"  # created by Debian's mariadb-server package
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
CLUSTER_NAME = "queryd-galera"
# Every node writes GTIDs of this domain (wsrep_gtid_mode), so @@last_gtid
# and @@gtid_binlog_pos mean the same on all of them.
GTID_DOMAIN = 100
# A machine with two busy cores can stall a node for a second or two: the
# timeouts below keep such a stall from evicting it, yet a killed node is
# declared gone within a few seconds (the defaults take 5 s and 15 s).
PROVIDER_OPTIONS = ("evs.suspect_timeout=PT3S;evs.inactive_timeout=PT8S;"
                    "evs.install_timeout=PT8S;gcache.size=64M;pc.recovery=FALSE")


class GaleraNode(PrivateMariaDB):
    """One cluster member: a PrivateMariaDB started with wsrep options."""

    def __init__(self, state_dir, index, ports):
        super().__init__(state_dir)
        self.index = index
        self.gcomm_port, self.ist_port, self.sst_port = ports
        self.cluster_address = None  # set by the cluster
        self.bootstrap = False
        self.pgids = set()           # every session a server of this node ran in

    def _wsrep_args(self):
        opts = ["--wsrep-on=ON",
                "--wsrep-provider=" + PROVIDER,
                "--wsrep-cluster-name=" + CLUSTER_NAME,
                "--wsrep-cluster-address=" + self.cluster_address,
                "--wsrep-node-name=node%d" % self.index,
                "--wsrep-node-address=127.0.0.1:%d" % self.gcomm_port,
                "--wsrep-node-incoming-address=127.0.0.1:%d" % self.port,
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:%d;"
                "ist.recv_addr=127.0.0.1:%d;%s"
                % (self.gcomm_port, self.ist_port, PROVIDER_OPTIONS),
                "--wsrep-sst-method=rsync",
                "--wsrep-sst-receive-address=127.0.0.1:%d" % self.sst_port,
                "--binlog-format=ROW",
                "--innodb-autoinc-lock-mode=2",
                "--log-bin=node-bin",
                "--log-slave-updates=ON",
                "--server-id=1",
                "--gtid-domain-id=%d" % (10 + self.index),
                "--wsrep-gtid-mode=ON",
                "--wsrep-gtid-domain-id=%d" % GTID_DOMAIN]
        if self.bootstrap:
            opts.append("--wsrep-new-cluster")
        # Later options win: --log-bin here overrides the default --skip-log-bin.
        return super()._server_args() + opts

    def _server_args(self):
        args = self._wsrep_args()
        if self.is_root:
            # rsync SST runs an rsync daemon as the server's user, and a
            # daemon started by root switches to "nobody", which cannot
            # write the datadir: as root, the nodes run as the mysql account.
            args = ["--user=" + SERVER_ACCOUNT if a == "--user=root" else a for a in args]
        return args

    def _spawn_and_wait(self, timeout):
        if self.is_root:
            self._give_to_account()
        try:
            super()._spawn_and_wait(timeout)
        finally:
            if self.pid is not None:
                self.pgids.add(self.pid)  # start_new_session: pid == pgid
            else:
                self.kill_sessions()  # a server that died starting may leave an SST behind

    def _give_to_account(self):
        """Hand the node's files (and a socket directory of its own) to the
        account the server runs as."""
        entry = pwd.getpwnam(SERVER_ACCOUNT)
        os.makedirs(os.path.join(self.state_dir, "tmp"), exist_ok=True)
        roots = [self.state_dir] + ([self._owned_socket_dir] if self._owned_socket_dir else [])
        for root in roots:
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for top, dirs, files in os.walk(root):
                for name in dirs + files:
                    os.chown(os.path.join(top, name), entry.pw_uid, entry.pw_gid,
                             follow_symlinks=False)

    def status(self):
        """The node's wsrep status variables as a dict (empty when unreachable)."""
        try:
            out = self.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'", column_names=False,
                               timeout=20)
        except MariaDBError:
            return {}
        return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)

    def is_synced(self, size):
        s = self.status()
        return (s.get("wsrep_ready") == "ON" and s.get("wsrep_cluster_size") == str(size)
                and s.get("wsrep_local_state_comment") == "Synced"
                and s.get("wsrep_cluster_status") == "Primary")

    def kill_sessions(self):
        """SIGKILL whatever this node's servers left behind: their sessions
        (an SST script) and any process naming the node's directory (an
        rsync daemon serving its datadir)."""
        for pgid in self.pgids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        mark = os.fsencode(self.state_dir + os.sep)
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    if mark not in f.read():
                        continue
                os.kill(int(entry), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


class GaleraCluster:
    """Three (or `size`) nodes under state_dir/node<i>."""

    def __init__(self, state_dir, size=3):
        self.state_dir = Path(state_dir)
        self.size = size
        self.nodes = []
        taken = set()
        for i in range(size):
            ports = []
            while len(ports) < 3:
                p = _free_port()
                if p not in taken:
                    taken.add(p)
                    ports.append(p)
            node = GaleraNode(str(self.state_dir / ("node%d" % (i + 1))), i + 1, ports)
            # The client port is fixed now, so URLs stay valid across restarts.
            while node.port is None or node.port in taken:
                node.port = _free_port()
            taken.add(node.port)
            self.nodes.append(node)
        address = "gcomm://" + ",".join("127.0.0.1:%d" % n.gcomm_port for n in self.nodes)
        for node in self.nodes:
            node.cluster_address = address

    # ---- lifecycle ----

    def start(self, timeout=240):
        """Bootstrap node 1, join the others one by one (SST), wait until all
        are synced in one primary component. Raises MariaDBError with the
        nodes' error logs when that does not happen within timeout seconds."""
        deadline = time.monotonic() + timeout
        try:
            first = self.nodes[0]
            first.bootstrap = True
            first.start(timeout=self._left(deadline))
            first.bootstrap = False
            self._wait(lambda: first.is_synced(1), deadline, "node1 to bootstrap")
            for i, node in enumerate(self.nodes[1:], start=2):
                node.start(timeout=self._left(deadline))
                self._wait(lambda: all(n.is_synced(i) for n in self.nodes[:i]), deadline,
                           "node%d to join" % i)
        except BaseException:
            self.close(hard=True)
            raise

    def kill(self, i):
        """SIGKILL node i (0-based), as a crash would."""
        self.nodes[i].kill()
        self.nodes[i].kill_sessions()

    def restart(self, i, timeout=180):
        """Start node i again; it rejoins and catches up (IST or SST)."""
        try:
            self.nodes[i].start(timeout=timeout)
        except MariaDBError as e:
            raise MariaDBError("node%d did not restart: %s\n%s"
                               % (i + 1, e, self.diagnostics())) from None

    def wait_synced(self, size=None, timeout=180, nodes=None):
        """Wait until every node of `nodes` (indices; default all) is synced
        in a primary component of `size` members (default: all nodes)."""
        size = size or self.size
        members = [self.nodes[i] for i in (nodes if nodes is not None else range(self.size))]
        self._wait(lambda: all(n.is_synced(size) for n in members),
                   time.monotonic() + timeout, "a synced cluster of %d" % size)

    def close(self, hard=False):
        """Stop every node (SIGKILL when hard) and anything they left running."""
        for node in self.nodes:
            try:
                if hard:
                    node.kill()
                else:
                    node.stop(timeout=30)
            except Exception:  # noqa: BLE001 - the rest must still stop
                try:
                    node.kill()
                except Exception:  # noqa: BLE001
                    pass
            node.kill_sessions()

    # ---- reporting ----

    def diagnostics(self, lines=25):
        """The wsrep state and the last error-log lines of every node."""
        parts = []
        for node in self.nodes:
            s = node.status()
            state = ("ready=%s size=%s state=%s status=%s" % (
                s.get("wsrep_ready"), s.get("wsrep_cluster_size"),
                s.get("wsrep_local_state_comment"), s.get("wsrep_cluster_status"))
                if s else "not answering")
            tail = _tail(node.error_log, limit=20000).splitlines()
            interesting = [ln for ln in tail if "[ERROR]" in ln or "[Warning]" in ln
                           or "WSREP" in ln][-lines:]
            parts.append("node%d (%s, pid %s): %s\n  %s" % (
                node.index, node.error_log, node.pid, state, "\n  ".join(interesting)))
        return "\n".join(parts)

    # ---- internals ----

    @staticmethod
    def _left(deadline):
        return max(10.0, deadline - time.monotonic())

    def _wait(self, predicate, deadline, what):
        while not predicate():
            if time.monotonic() > deadline:
                raise MariaDBError("timed out waiting for %s:\n%s" % (what, self.diagnostics()))
            time.sleep(0.25)
