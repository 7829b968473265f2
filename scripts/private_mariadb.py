#!/usr/bin/env python3
"""A private MariaDB server for development and tests.

The server gets its own data directory, unix socket and a free TCP port on
127.0.0.1, all under one state directory (default: <repo>/.state/mariadb).
It never reads /etc/mysql, never touches the machine's own MariaDB instance
(its datadir, socket or port) and works both as root and as a normal user.

Used as a module (the integration test harness):

    db = PrivateMariaDB("/path/to/state")
    db.start()
    db.create_app_user("queryd", "queryd-secret", "queryd")
    db.load_files(["docker/initdb/01-schema.sql",
                   "docker/initdb/02-data.sql"], "queryd")
    url = db.tcp_url("queryd", "queryd-secret", "queryd")
    ...
    db.stop()

Used from the command line:

    private_mariadb.py start  [--state DIR] [--port N] [--demo]
    private_mariadb.py stop   [--state DIR]
    private_mariadb.py status [--state DIR]
    private_mariadb.py sql    [--state DIR] [-D DATABASE]   (SQL on stdin)
    private_mariadb.py run    [--state DIR] [--demo] -- COMMAND [ARG...]

`run` owns the server for the lifetime of COMMAND: it starts the server,
exports QUERYD_DATABASE_URL, runs COMMAND, forwards SIGINT/SIGTERM/SIGHUP to
it, and stops the server once COMMAND has exited. `--demo` creates the
`queryd` database and application user and loads docker/initdb/*.sql when the
`users` table is missing or empty.

Only the Python 3 standard library is used.
"""

import argparse
import ctypes
import fcntl
import json
import os
import pwd
import shutil
import signal
import socket as socketlib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_STATE_DIR = os.path.join(REPO_ROOT, ".state", "mariadb")
INITDB_DIR = os.path.join(REPO_ROOT, "docker", "initdb")

DEMO_DATABASE = "queryd"
DEMO_USER = "queryd"
DEMO_PASSWORD = "queryd-secret"

# sockaddr_un.sun_path holds 108 bytes including the terminating NUL; stay
# well below so "<socket>" and MariaDB's "<socket>.lock" sibling both fit.
MAX_SOCKET_PATH = 100

SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin",
               "/usr/local/mysql/bin", "/usr/libexec")

PR_SET_PDEATHSIG = 1


class MariaDBError(RuntimeError):
    """Raised when the server cannot be set up or a statement fails."""


def _find_binary(names):
    """Return the first of `names` found on PATH or in the usual sbin dirs."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    for name in names:
        for directory in path + list(SEARCH_DIRS):
            if not directory:
                continue
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    raise MariaDBError(
        "cannot find any of %s on PATH or in %s; run scripts/deps "
        "(Debian/Ubuntu packages mariadb-server-core and mariadb-client)"
        % (", ".join(names), ", ".join(SEARCH_DIRS)))


def _clean_env():
    """The environment for server and client, without MYSQL_* overrides.

    MYSQL_HOST, MYSQL_UNIX_PORT, MYSQL_PWD and friends would silently point
    the client or server somewhere else.
    """
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("MYSQL_", "MARIADB_"))}


def _free_port():
    """Ask the kernel for a currently unused TCP port on 127.0.0.1."""
    with socketlib.socket(socketlib.AF_INET, socketlib.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _pids_using_datadir(datadir):
    """Pids of live server processes started with --datadir=<datadir>."""
    wanted = ("--datadir=" + datadir).encode()
    pids = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return pids
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if wanted in argv and _pid_alive(int(entry)):
            pids.append(int(entry))
    return pids


def _sql_string(value):
    """Quote `value` as a MariaDB string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _sql_ident(value):
    """Quote `value` as a MariaDB identifier."""
    return "`" + value.replace("`", "``") + "`"


def _set_pdeathsig(sig):
    """Return a preexec_fn making the child receive `sig` when we die.

    The kernel delivers the signal when the thread that forked the child
    exits, so this is only armed from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec():
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # The parent may have died before prctl took effect.
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)
    return preexec


class PrivateMariaDB:
    """One private MariaDB server living under `state_dir`.

    Attributes: state_dir, datadir, socket, port, pid (None when not running),
    error_log. `port` and `socket` are chosen on the first start() and kept
    across restarts of the same object, so URLs handed out stay valid.
    """

    def __init__(self, state_dir=None, *, server_args=(), die_with_parent=True):
        """Nothing is started here.

        server_args: extra mariadbd options appended to the defaults.
        die_with_parent: the server gets SIGTERM if this process dies without
        calling stop() (armed only when start() runs on the main thread).
        """
        self.state_dir = os.path.abspath(state_dir or DEFAULT_STATE_DIR)
        self.datadir = os.path.join(self.state_dir, "data")
        self.error_log = os.path.join(self.state_dir, "error.log")
        self.pid_file = os.path.join(self.state_dir, "mariadbd.pid")
        self.state_file = os.path.join(self.state_dir, "server.json")
        self.port = None
        self.socket = None
        self.pid = None
        self.server_args = list(server_args)
        self.die_with_parent = die_with_parent
        self.is_root = os.geteuid() == 0
        # The unix_socket-authenticated administrative account: root when
        # running as root, otherwise the invoking user's own name.
        self.admin_user = pwd.getpwuid(os.geteuid()).pw_name
        self._proc = None
        self._owned_socket_dir = None

    # ---- lifecycle -------------------------------------------------------

    def start(self, timeout=60):
        """Initialise the datadir if needed, start the server, wait for it.

        Any server still running on this datadir (for example left over by a
        crashed earlier run) is stopped first. Raises MariaDBError with the
        tail of the error log when the server does not come up in `timeout`
        seconds.
        """
        os.makedirs(self.state_dir, exist_ok=True)
        with self._lock():
            if self._proc is not None and self._proc.poll() is None:
                return
            self._stop_strays()
            self._install_db()
            self._choose_socket()
            port_fixed = self.port is not None
            for attempt in range(5):
                if not port_fixed:
                    self.port = _free_port()
                try:
                    self._spawn_and_wait(timeout)
                    break
                except _PortInUse:
                    if port_fixed or attempt == 4:
                        raise MariaDBError(
                            "port %d on 127.0.0.1 is in use" % self.port)
            self._write_state()

    def stop(self, timeout=60):
        """Shut the server down gracefully (SIGTERM, then wait).

        Falls back to SIGKILL after `timeout` seconds. Safe to call any
        number of times, also when nothing runs; also stops a server that
        another process started on this state dir.
        """
        if not os.path.isdir(self.state_dir):
            return
        with self._lock():
            if self.socket is None:
                self._load_state()
            self._terminate(signal.SIGTERM, timeout)
            self._forget_state()

    def kill(self):
        """SIGKILL the server (no clean shutdown; InnoDB recovers on start)."""
        if not os.path.isdir(self.state_dir):
            return
        with self._lock():
            self._terminate(signal.SIGKILL, 10)
            # Unlike a clean shutdown, SIGKILL leaves the socket and its
            # lock file behind; the next start clears them (and recreates a
            # short socket directory under /tmp, removed here).
            if self._owned_socket_dir:
                shutil.rmtree(self._owned_socket_dir, ignore_errors=True)

    def is_running(self):
        """True when the server answers a query over its socket."""
        if self.socket is None:
            self._load_state()
        if self.socket is None:
            return False
        try:
            self._client(["-e", "SELECT 1"], connect_timeout=2, timeout=10)
        except MariaDBError:
            return False
        return True

    # ---- SQL -------------------------------------------------------------

    def execute(self, sql, database=None, *, column_names=True, timeout=300):
        """Run `sql` (any number of statements) as the administrative user
        over the unix socket with the `mariadb` client reading stdin.

        Returns the client's stdout (batch mode: tab-separated, one row per
        line, a header line unless column_names=False, NULL printed as NULL).
        Raises MariaDBError on any error.
        """
        args = [] if column_names else ["--skip-column-names"]
        if database is not None:
            args.append("--database=" + database)
        return self._client(args, stdin=sql.encode("utf-8"), timeout=timeout)

    def query_value(self, sql, database=None):
        """The first column of the first row of `sql`, or None if no rows."""
        out = self.execute(sql, database, column_names=False)
        line = out.split("\n", 1)[0]
        return line.split("\t", 1)[0] if line else None

    def load_files(self, paths, database):
        """Run each SQL file in its own client session against `database`,
        creating the database (utf8mb4) first when it does not exist.

        Files may switch databases themselves (the demo files select
        `queryd` explicitly).
        """
        self.execute("CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4 "
                     "COLLATE utf8mb4_unicode_ci;" % _sql_ident(database))
        for path in paths:
            with open(path, "rb") as f:
                sql = f.read()
            try:
                self._client(["--database=" + database], stdin=sql, timeout=600)
            except MariaDBError as e:
                raise MariaDBError("loading %s: %s" % (path, e)) from None

    def create_app_user(self, user, password, database):
        """Create `database` and `user` with SELECT on it, reachable over the
        socket (@localhost) and TCP (@127.0.0.1, @%). Idempotent; an existing
        user gets `password` again."""
        db = _sql_ident(database)
        stmts = ["CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4 "
                 "COLLATE utf8mb4_unicode_ci;" % db]
        for host in ("localhost", "127.0.0.1", "%"):
            account = "%s@%s" % (_sql_string(user), _sql_string(host))
            stmts.append("CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s;"
                         % (account, _sql_string(password)))
            stmts.append("ALTER USER %s IDENTIFIED BY %s;"
                         % (account, _sql_string(password)))
            stmts.append("GRANT SELECT ON %s.* TO %s;" % (db, account))
        self.execute("\n".join(stmts))

    # ---- URLs ------------------------------------------------------------

    def tcp_url(self, user, password, database):
        """mysql://user:pass@127.0.0.1:PORT/db (components percent-encoded)."""
        self._require_port()
        return "mysql://%s:%s@127.0.0.1:%d/%s" % (
            _q(user), _q(password), self.port, _q(database))

    def socket_url(self, user, password, database):
        """mysql://user:pass@localhost/db?socket=/path (percent-encoded)."""
        self._require_port()
        return "mysql://%s:%s@localhost/%s?socket=%s" % (
            _q(user), _q(password), _q(database),
            urllib.parse.quote(self.socket, safe="/"))

    # ---- internals -------------------------------------------------------

    def _lock(self):
        return _FileLock(os.path.join(self.state_dir, "lock"))

    def _require_port(self):
        if self.port is None or self.socket is None:
            self._load_state()
        if self.port is None or self.socket is None:
            raise MariaDBError("the server has not been started")

    def _install_db(self):
        """Create the system tables once; the rename makes it all-or-nothing."""
        if os.path.isdir(os.path.join(self.datadir, "mysql")):
            return
        if os.path.exists(self.datadir):
            raise MariaDBError("%s exists but is not a MariaDB datadir; "
                               "remove it" % self.datadir)
        tmp = self.datadir + ".init"
        shutil.rmtree(tmp, ignore_errors=True)
        install = _find_binary(["mariadb-install-db", "mysql_install_db"])
        args = [install, "--no-defaults", "--datadir=" + tmp,
                "--auth-root-authentication-method=socket",
                "--auth-root-socket-user=" + self.admin_user,
                "--skip-test-db", "--skip-name-resolve"]
        if self.is_root:
            args.append("--user=root")
        args += self._innodb_args()
        log_path = os.path.join(self.state_dir, "install.log")
        # A session of its own keeps a terminal's Ctrl-C away from the
        # bootstrap server; if we are interrupted, the whole group goes.
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=_clean_env(),
                                    cwd=self.state_dir, start_new_session=True)
        try:
            code = proc.wait()
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if code != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise MariaDBError("%s failed (exit %d):\n%s" % (
                os.path.basename(install), code, _tail(log_path)))
        os.rename(tmp, self.datadir)

    def _innodb_args(self):
        # Small redo log and no native AIO: fast to create, and no io_uring
        # or libaio limits that sandboxes and containers often impose.
        return ["--innodb-log-file-size=16M",
                "--innodb-buffer-pool-size=64M",
                "--innodb-use-native-aio=0",
                "--skip-log-bin"]

    def _choose_socket(self):
        """Keep the socket path short enough for sockaddr_un."""
        if self.socket is not None:
            directory = os.path.dirname(self.socket)
            if directory == self._owned_socket_dir and not os.path.isdir(directory):
                os.mkdir(directory, 0o700)
            return
        candidate = os.path.join(self.state_dir, "mysqld.sock")
        if len(os.fsencode(candidate)) <= MAX_SOCKET_PATH:
            self.socket = candidate
            return
        self._owned_socket_dir = tempfile.mkdtemp(prefix="queryd-mdb-", dir="/tmp")
        self.socket = os.path.join(self._owned_socket_dir, "mysqld.sock")

    def _server_args(self):
        mysqld = _find_binary(["mariadbd", "mysqld"])
        tmpdir = os.path.join(self.state_dir, "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        args = [mysqld, "--no-defaults",
                "--datadir=" + self.datadir,
                "--socket=" + self.socket,
                "--port=%d" % self.port,
                "--bind-address=127.0.0.1",
                "--pid-file=" + self.pid_file,
                "--log-error=" + self.error_log,
                "--tmpdir=" + tmpdir,
                "--skip-name-resolve",
                "--max-connections=500",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-dump-at-shutdown=0",
                "--innodb-buffer-pool-load-at-startup=0",
                "--skip-external-locking"]
        args += self._innodb_args()
        if self.is_root:
            args.append("--user=root")
        return args + self.server_args

    def _spawn_and_wait(self, timeout):
        for stale in (self.socket, self.socket + ".lock", self.pid_file):
            try:
                os.unlink(stale)
            except FileNotFoundError:
                pass
        try:
            log_offset = os.path.getsize(self.error_log)
        except OSError:
            log_offset = 0
        preexec = _set_pdeathsig(signal.SIGTERM) if self.die_with_parent else None
        with open(os.path.join(self.state_dir, "server.out"), "ab") as out:
            self._proc = subprocess.Popen(
                self._server_args(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=_clean_env(), cwd=self.state_dir,
                start_new_session=True, preexec_fn=preexec)
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                self.pid = None
                log = _tail(self.error_log, offset=log_offset)
                if "Address already in use" in log or "Do you already have another" in log:
                    raise _PortInUse()
                raise MariaDBError("mariadbd exited with %d during startup; "
                                   "%s says:\n%s" % (code, self.error_log, log))
            if os.path.exists(self.socket):
                try:
                    self._client(["-e", "SELECT 1"], connect_timeout=2, timeout=10)
                    return
                except MariaDBError:
                    pass
            if time.monotonic() > deadline:
                self._terminate(signal.SIGKILL, 10)
                raise MariaDBError("mariadbd did not answer within %ss; %s says:\n%s"
                                   % (timeout, self.error_log,
                                      _tail(self.error_log, offset=log_offset)))
            time.sleep(0.05)

    def _terminate(self, sig, timeout):
        """Send `sig` to our server and any stray one on this datadir; wait."""
        pids = set(_pids_using_datadir(self.datadir))
        if self._proc is not None:
            pids.add(self._proc.pid)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for pid in pids:
            while True:
                if self._proc is not None and pid == self._proc.pid:
                    try:
                        self._proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                        break
                    except subprocess.TimeoutExpired:
                        pass
                elif not _pid_alive(pid):
                    break
                elif time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                if sig == signal.SIGKILL:
                    raise MariaDBError("mariadbd pid %d survived SIGKILL" % pid)
                sys.stderr.write("mariadbd pid %d ignored SIGTERM for %ss; killing it\n"
                                 % (pid, timeout))
                os.kill(pid, signal.SIGKILL)
                sig, deadline = signal.SIGKILL, time.monotonic() + 10
        self._proc = None
        self.pid = None

    def _stop_strays(self):
        if _pids_using_datadir(self.datadir):
            sys.stderr.write("stopping a mariadbd left running on %s\n" % self.datadir)
            self._terminate(signal.SIGTERM, 60)

    def _write_state(self):
        state = {"pid": self.pid, "port": self.port, "socket": self.socket,
                 "datadir": self.datadir, "socket_dir": self._owned_socket_dir}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, self.state_file)

    def _load_state(self):
        """Adopt port/socket/pid of a server another process started."""
        try:
            with open(self.state_file) as f:
                state = json.load(f)
        except (OSError, ValueError):
            return
        if state.get("datadir") != self.datadir:
            return
        self.port = self.port or state.get("port")
        self.socket = self.socket or state.get("socket")
        self._owned_socket_dir = self._owned_socket_dir or state.get("socket_dir")
        pid = state.get("pid")
        self.pid = pid if pid and pid in _pids_using_datadir(self.datadir) else None

    def _forget_state(self):
        """Drop the state file and the short socket dir, if we made one."""
        try:
            os.unlink(self.state_file)
        except FileNotFoundError:
            pass
        if self._owned_socket_dir:
            shutil.rmtree(self._owned_socket_dir, ignore_errors=True)

    def _client(self, args, stdin=None, connect_timeout=10, timeout=300):
        if self.socket is None:
            raise MariaDBError("the server has not been started")
        client = _find_binary(["mariadb", "mysql"])
        argv = [client, "--no-defaults", "--protocol=socket",
                "--socket=" + self.socket, "--user=" + self.admin_user,
                "--batch", "--default-character-set=utf8mb4",
                "--connect-timeout=%d" % connect_timeout] + args
        try:
            r = subprocess.run(argv, input=stdin if stdin is not None else b"",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=_clean_env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise MariaDBError("mariadb client timed out after %ss" % timeout) from None
        if r.returncode != 0:
            raise MariaDBError(r.stderr.decode("utf-8", "replace").strip()
                               or "mariadb client exited with %d" % r.returncode)
        return r.stdout.decode("utf-8", "replace")


class _PortInUse(Exception):
    pass


class _FileLock:
    """flock() on a file: serialises start/stop of one state dir."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None


def _short_path(path):
    """`path` relative to the working directory when it lies below it."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _q(component):
    return urllib.parse.quote(component, safe="")


def _tail(path, offset=0, limit=4000):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return "(no %s)" % path
    return data[-limit:].decode("utf-8", "replace").strip()


# ---- demo data and command line ---------------------------------------------

def prepare_demo(db):
    """Create the demo database and user; load docker/initdb/*.sql once,
    i.e. when the users table is missing or empty."""
    db.create_app_user(DEMO_USER, DEMO_PASSWORD, DEMO_DATABASE)
    exists = db.query_value(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = 'users'" % _sql_string(DEMO_DATABASE))
    if exists != "0" and db.query_value("SELECT COUNT(*) FROM users",
                                        DEMO_DATABASE) != "0":
        return False
    files = sorted(os.path.join(INITDB_DIR, name) for name in os.listdir(INITDB_DIR)
                   if name.endswith(".sql"))
    db.load_files(files, DEMO_DATABASE)
    return True


def _print_status(db, out=sys.stdout):
    out.write("port=%s\nsocket=%s\npid=%s\nstate=%s\n"
              % (db.port, db.socket, db.pid, db.state_dir))


def _cmd_start(opts):
    db = PrivateMariaDB(opts.state, die_with_parent=False)
    if db.is_running():
        _print_status(db)
        return 0
    db.port = opts.port
    db.start(timeout=opts.timeout)
    if opts.demo:
        prepare_demo(db)
    _print_status(db)
    if opts.demo:
        print("url=" + db.socket_url(DEMO_USER, DEMO_PASSWORD, DEMO_DATABASE))
        print("tcp_url=" + db.tcp_url(DEMO_USER, DEMO_PASSWORD, DEMO_DATABASE))
    return 0


def _cmd_stop(opts):
    PrivateMariaDB(opts.state).stop()
    return 0


def _cmd_status(opts):
    db = PrivateMariaDB(opts.state)
    if not db.is_running():
        print("stopped")
        return 3
    _print_status(db)
    return 0


def _cmd_sql(opts):
    db = PrivateMariaDB(opts.state)
    db._load_state()
    sys.stdout.write(db.execute(sys.stdin.read(), opts.database))
    return 0


class _Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _cmd_run(opts):
    """Own a server for the lifetime of a child command."""
    argv = opts.command[1:] if opts.command[:1] == ["--"] else opts.command
    if not argv:
        sys.stderr.write("run: missing command after --\n")
        return 2
    child = None

    def on_signal(signum, _frame):
        if child is None:
            raise _Interrupted(signum)
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    db = PrivateMariaDB(opts.state)
    db.port = opts.port
    try:
        db.start(timeout=opts.timeout)
        if opts.demo and prepare_demo(db):
            sys.stderr.write("loaded the demo data from %s\n"
                             % _short_path(INITDB_DIR))
        env = dict(os.environ)
        env["QUERYD_DATABASE_URL"] = db.socket_url(DEMO_USER, DEMO_PASSWORD,
                                                   DEMO_DATABASE)
        sys.stderr.write(
            "private MariaDB: 127.0.0.1:%d, socket %s (admin: python3 %s sql "
            "--state %s)\n" % (db.port, db.socket, _short_path(__file__),
                               _short_path(db.state_dir)))
        sys.stderr.flush()
        # The child gets its own process group so that a terminal Ctrl-C
        # reaches it once, forwarded by us, not twice.
        pdeath = _set_pdeathsig(signal.SIGTERM)

        def preexec():
            os.setpgid(0, 0)
            if pdeath:
                pdeath()
        try:
            child = subprocess.Popen(argv, env=env, preexec_fn=preexec)
        except OSError as e:
            sys.stderr.write("run: cannot execute %s: %s\n" % (argv[0], e))
            return 127
        code = child.wait()
        return 128 - code if code < 0 else code
    except _Interrupted as e:
        return 128 + e.signum
    except MariaDBError as e:
        sys.stderr.write("private MariaDB: %s\n" % e)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        db.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run a private MariaDB server under a state directory.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("start", "stop", "status", "sql", "run"):
        p = sub.add_parser(name)
        p.add_argument("--state", default=DEFAULT_STATE_DIR,
                       help="state directory (default: %(default)s)")
        if name in ("start", "run"):
            p.add_argument("--port", type=int, default=None,
                           help="TCP port on 127.0.0.1 (default: a free one)")
            p.add_argument("--timeout", type=float, default=60)
            p.add_argument("--demo", action="store_true",
                           help="create the queryd database/user and load "
                                "docker/initdb/*.sql when the users table is "
                                "missing or empty")
        if name == "sql":
            p.add_argument("-D", "--database", default=None)
        if name == "run":
            p.add_argument("command", nargs=argparse.REMAINDER,
                           help="-- COMMAND [ARG...]")
    opts = parser.parse_args(argv)
    handlers = {"start": _cmd_start, "stop": _cmd_stop, "status": _cmd_status,
                "sql": _cmd_sql, "run": _cmd_run}
    try:
        return handlers[opts.cmd](opts)
    except MariaDBError as e:
        sys.stderr.write("private_mariadb: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
