"""The servers bench/run loads: child processes that die with it, each
logging to a file of its own, ready when a URL of theirs answers 200."""

import ctypes
import os
import signal
import subprocess
import time
import urllib.request

PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    pass


def die_with_us():
    """preexec_fn: the child gets SIGTERM when this process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec():
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
    return preexec


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


class Server:
    """A child process that logs "listening on" on stderr when ready."""

    def __init__(self, name, argv, env, ready_url, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        self.ready_url = ready_url
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log_file,
                                     preexec_fn=die_with_us())
        self.pid = self.proc.pid

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("%s exited with %s during startup:\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
            try:
                status, _ = http_get(self.ready_url, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ServerError("%s not ready within %ss:\n%s"
                          % (self.name, timeout, self.log_tail()))

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=30):
        """SIGTERM, wait; the exit code (SIGKILL after `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


def lookup_counts(base_url):
    """(statements, lookups) of coalesced item lookups so far, from /metrics."""
    _, body = http_get(base_url + "/metrics")
    values = {}
    for line in body.decode("utf-8").splitlines():
        name, _, value = line.partition(" ")
        if name in ("queryd_lookup_statements_total", "queryd_lookups_total"):
            values[name] = int(value)
    return (values.get("queryd_lookup_statements_total", 0),
            values.get("queryd_lookups_total", 0))
