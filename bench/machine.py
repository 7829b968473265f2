"""What bench/run measures about the machine and its processes.

/proc readings (RSS, peak RSS, CPU time per process and for the whole
machine, load average), and the description of the machine and of the
versions of everything under test that heads every report.
"""

import os
import platform
import resource
import shutil
import subprocess
import time


def have(cmd):
    return shutil.which(cmd) is not None


def apt_install(packages, log):
    """Installs Debian packages with apt-get as root or through sudo; False when neither."""
    sudo = [] if os.geteuid() == 0 else (["sudo"] if have("sudo") else None)
    if sudo is None or not have("apt-get"):
        return False
    apt = sudo + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q"]
    log("installing %s" % " ".join(packages))
    subprocess.run(apt + ["update"], check=True)
    subprocess.run(apt + ["install", "--no-install-recommends"] + packages, check=True)
    return True


def output_of(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return r.stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def proc_status(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def reset_peak_rss(pid):
    """Let VmHWM restart from the current RSS (Linux clear_refs, value 5)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid):
    """User + system CPU time of a process so far, in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of stat(5), counted after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU time spent by every process on the machine so far (all cores)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle, iowait.
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used during one run: by the named processes and by the load
    generator (the children this script waited for meanwhile)."""

    def __init__(self, pids):
        self.pids = pids
        self.started = time.monotonic()
        self.before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = usage.ru_utime + usage.ru_stime
        self.machine = machine_busy_seconds()

    def stop(self):
        """Cores used on average (1.0 = one core busy all the time)."""
        elapsed = time.monotonic() - self.started
        cores = {}
        for name, pid in self.pids.items():
            before, after = self.before.get(name), cpu_seconds(pid)
            if before is not None and after is not None:
                cores[name] = (after - before) / elapsed
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cores["client"] = (usage.ru_utime + usage.ru_stime - self.children) / elapsed
        # Whatever else ran meanwhile: other work on a shared machine.
        cores["other"] = max(0.0, (machine_busy_seconds() - self.machine) / elapsed -
                             sum(cores.values()))
        return cores


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    os_name = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {"nproc": output_of(["nproc"]) or str(os.cpu_count()), "cpu": model,
            "kernel": platform.release(), "memory": mem, "os": os_name}


def versions(repo, db):
    def pc(lib):
        return output_of(["pkg-config", "--modversion", lib]) or "?"
    commit = output_of(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"]) or "?"
    # Only changes to what the binary is built from make the commit inexact.
    dirty = output_of(["git", "-C", repo, "status", "--porcelain", "--", "src",
                       "CMakeLists.txt"])
    wrk_v = output_of(["wrk", "-v"]).splitlines()
    cc_v = output_of(["cc", "--version"]).splitlines()
    return {
        "queryd": commit + (" (with uncommitted changes to src/ or CMakeLists.txt)"
                            if dirty else ""),
        "MariaDB server": db.query_value("SELECT VERSION()") or "?",
        "MariaDB Connector/C": pc("libmariadb"),
        "libmicrohttpd": pc("libmicrohttpd"),
        "jansson": pc("jansson"),
        "libuv": pc("libuv"),
        "OpenSSL libcrypto": pc("libcrypto"),
        "wrk": wrk_v[0].split(" [")[0] if wrk_v else "?",
        "cc": cc_v[0] if cc_v else "?",
    }
