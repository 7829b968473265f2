"""Cases CZ and DZ of bench/run: compressed answers against uncompressed ones.

CZ is case C (`GET /users?limit=10000`, wrk at 8 connections) and DZ the
1,000,000-row NDJSON export of case D (curl into /dev/null), each sent with
`Accept-Encoding` identity, zstd and gzip, in the same run, interleaved. Two
queryds of the current build serve them: one with the levels
zstd:3,gzip:6 and one with the default, zstd:1,gzip:1.
For each: bytes on the wire per answer, throughput and its ratio to
identity, and queryd's CPU per answer (cores busy over the run, from /proc,
divided by the rate). Before any load a probe checks that each variant's
answer carries the Content-Encoding it asked for.

    bench/run --cases CZ,DZ [--quick] [--duration S] [--rounds N]
runs these alone (the users table, users_export and the two queryds only).
"""

import datetime
import os
import socket
import subprocess
import urllib.request

from machine import CpuMeter, loadavg, machine_info
from servers import Server

KEYS = ("CZ", "DZ")
C_PATH = "/users?limit=10000"
C_CONNECTIONS = 8
EXPORT_ROWS = 1_000_000
EXPORT_PATH = "/export?limit=%d" % EXPORT_ROWS
SETTINGS = {"levels 3/6": "zstd:3,gzip:6", "levels 1/1 (default)": "zstd:1,gzip:1"}
# (label, queryd setting, Accept-Encoding)
VARIANTS = [
    ("none", "levels 1/1 (default)", "identity"),
    ("zstd:1", "levels 1/1 (default)", "zstd"),
    ("zstd:3", "levels 3/6", "zstd"),
    ("gzip:1", "levels 1/1 (default)", "gzip"),
    ("gzip:6", "levels 3/6", "gzip"),
]


def parse_cases(text):
    """--cases: a comma-separated subset of KEYS."""
    keys = [k.strip().upper() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in KEYS]
    if not keys or unknown:
        raise ValueError("--cases takes %s (run alone); without it every case runs"
                         % ",".join(KEYS))
    return keys


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(url, path, encoding):
    """None when the answer is 200 with the coding asked for, else what is wrong."""
    req = urllib.request.Request(url + path, headers={"Accept-Encoding": encoding,
                                                      "Accept": "application/x-ndjson"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            got = r.headers.get("Content-Encoding") or "identity"
            r.read()
            status = r.status
    except OSError as e:
        return "GET %s (%s): %s" % (path, encoding, e)
    if status != 200 or got != encoding:
        return "GET %s with Accept-Encoding %s: %d, Content-Encoding %s" % (
            path, encoding, status, got)
    return None


def export_once(url, encoding):
    argv = ["curl", "-s", "-o", "/dev/null", "-H", "Accept: application/x-ndjson",
            "-H", "Accept-Encoding: " + encoding, "-w",
            "%{http_code} %{size_download} %{time_total}", url + EXPORT_PATH]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    status, size, seconds = r.stdout.decode().split()
    return {"status": int(status), "bytes": int(size), "seconds": float(seconds),
            "complete": r.returncode == 0}


def measure(servers, keys, run_wrk, log, opts, problems):
    out = []
    for rnd in range(1, opts.rounds + 1):
        order = VARIANTS if rnd % 2 else VARIANTS[::-1]
        for label, setting, encoding in order:
            server, url = servers[setting]
            if "CZ" in keys:
                log("round %d, case CZ: %s, %d connections, %ds"
                    % (rnd, label, C_CONNECTIONS, opts.duration))
                cpu = CpuMeter({"queryd": server.pid})
                r = run_wrk("r%d-CZ-%s" % (rnd, label.replace(":", "")), url, C_CONNECTIONS,
                            opts.duration, ["path", C_PATH],
                            headers=["Accept-Encoding: " + encoding])
                r["cpu"] = cpu.stop()
                if r["non2xx"] or r["socket_errors"]:
                    problems.append("round %d case CZ %s: %d non-2xx, %d socket errors"
                                    % (rnd, label, r["non2xx"], r["socket_errors"]))
                r["bytes_per_answer"] = r["mb_per_s"] * 1e6 / r["rps"] if r["rps"] else 0
                out.append(dict(r, case="CZ", round=rnd, variant=label))
            if "DZ" in keys:
                log("round %d, case DZ: %s, %d rows" % (rnd, label, EXPORT_ROWS))
                cpu = CpuMeter({"queryd": server.pid})
                r = export_once(url, encoding)
                r["cpu"] = cpu.stop()
                if r["status"] != 200 or not r["complete"]:
                    problems.append("round %d case DZ %s: status %d, complete %s"
                                    % (rnd, label, r["status"], r["complete"]))
                r["rps"] = 1 / r["seconds"] if r["seconds"] else 0
                r["bytes_per_answer"] = r["bytes"]
                out.append(dict(r, case="DZ", round=rnd, variant=label))
    return out


def run(binary, env, paths, run_wrk, log, opts, problems, keys=KEYS):
    """The cases from start to end: two queryds, the probes, the rounds."""
    _, logs, _ = paths
    servers, started = {}, []
    try:
        for name, setting in SETTINGS.items():
            port = free_port()
            url = "http://127.0.0.1:%d" % port
            server = Server("queryd-" + setting.replace(":", "").replace(",", "-"), [binary],
                            dict(env, QUERYD_COMPRESSION=setting,
                                 QUERYD_LISTEN="127.0.0.1:%d" % port), url + "/readyz", logs)
            started.append(server)
            servers[name] = (server, url)
        for server in started:
            server.wait_ready()
        for label, setting, encoding in VARIANTS:
            for path in ([C_PATH] if "CZ" in keys else []) + (
                    [EXPORT_PATH] if "DZ" in keys else []):
                wrong = probe(servers[setting][1], path, encoding)
                if wrong:
                    problems.append("case %s: %s" % (label, wrong))
                    return []
            if "CZ" in keys:
                run_wrk("warmup-CZ-" + label.replace(":", ""), servers[setting][1],
                        C_CONNECTIONS, 1, ["path", C_PATH],
                        headers=["Accept-Encoding: " + encoding])
        return measure(servers, keys, run_wrk, log, opts, problems)
    finally:
        for server in started:
            code = server.stop()
            if code != 0:
                problems.append("%s exited with %s after SIGTERM" % (server.name, code))


# ---- report ---------------------------------------------------------------------

def table(results, case):
    rows = [r for r in results if r["case"] == case]
    if not rows:
        return []
    none = {r["round"]: r for r in rows if r["variant"] == "none"}
    unit = "req/s" if case == "CZ" else "rows/s"
    lines = ["| round | encoding | bytes per answer | vs none | %s | throughput vs none "
             "| queryd CPU ms per answer | vs none |" % unit,
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = none.get(r["round"])
        cpu_ms = r["cpu"].get("queryd", 0) * 1000.0 / r["rps"] if r["rps"] else 0
        if case == "DZ":
            cpu_ms = r["cpu"].get("queryd", 0) * r["seconds"] * 1000.0
        base_cpu = None
        if base and base["rps"]:
            base_cpu = (base["cpu"].get("queryd", 0) * 1000.0 / base["rps"] if case == "CZ"
                        else base["cpu"].get("queryd", 0) * base["seconds"] * 1000.0)
        rate = r["rps"] if case == "CZ" else EXPORT_ROWS / r["seconds"]
        base_rate = (base["rps"] if case == "CZ" else EXPORT_ROWS / base["seconds"]) \
            if base else 0
        lines.append("| %d | %s | %s | %.3f | %s | **%.2f** | %.1f | %.2f |" % (
            r["round"], r["variant"], "{:,.0f}".format(r["bytes_per_answer"]),
            r["bytes_per_answer"] / base["bytes_per_answer"] if base else 0,
            "{:,.0f}".format(rate), rate / base_rate if base_rate else 0, cpu_ms,
            cpu_ms / base_cpu if base_cpu else 0))
    return lines


def section(results, duration):
    if results is None:
        return []
    return [
        "## CZ and DZ: compression\n",
        "Case C (`GET %s`, wrk, %d connections, %d s per run) and the NDJSON export of "
        "`users_export` (`GET %s`, curl into /dev/null), each with `Accept-Encoding` "
        "identity (none), zstd or gzip, interleaved in each round, against two queryds of "
        "the current build: QUERYD_COMPRESSION=zstd:1,gzip:1 (the default) and "
        "zstd:3,gzip:6. Bytes per answer: the body on the wire (wrk's byte count over its "
        "requests, which includes the headers; curl's download size). CPU per answer: "
        "queryd's average cores busy over the run divided by the rate (for DZ the CPU "
        "seconds of the one export).\n" % (C_PATH, C_CONNECTIONS, duration, EXPORT_PATH),
        "\n".join(table(results, "CZ")) + "\n",
        "\n".join(table(results, "DZ")) + "\n",
    ]


def alone(opts, tools):
    """bench/run --cases: only these cases; tools: what bench/run lends (a dict)."""
    log, problems, keys = tools["log"], [], opts.cases
    started_at = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    os.makedirs(tools["paths"][1], exist_ok=True)
    tools["ensure_tools"]()
    binary = tools["build"]()
    db = tools["start_database"](100_000)
    try:
        export, build_dir = tools["export"], tools["paths"][2]
        export.prepare_table(db, tools["db_name"], 100_000, log)
        config = export.write_config(os.path.join(tools["repo"], "docker", "queryd.json"),
                                     os.path.join(build_dir, "bench-queryd.json"))
        results = run(binary, tools["queryd_env"](db, opts, config), tools["paths"],
                      tools["run_wrk"], log, opts, problems, keys)
    finally:
        db.stop()
    info = machine_info()
    lines = ["# queryd benchmark, cases %s, %s\n" % (",".join(keys),
                                                  started_at.strftime("%Y-%m-%d %H:%M UTC")),
             "Command: `bench/run%s`\n" % "".join(" " + a for a in opts.argv),
             "- CPUs (nproc): %s; model: %s; load average before: %s; after: %s\n"
             % (info["nproc"], info["cpu"], load_before, loadavg()),
             "- queryd: Release build, QUERYD_WORKERS=%d, QUERYD_POOL_SIZE=%d, "
             "QUERYD_ACCESS_LOG=0\n" % (opts.workers, opts.pool_size)]
    lines += section(results, opts.duration)
    lines += ["## Problems\n"] + ["- " + p for p in problems] if problems else []
    path = os.path.join(tools["out_dir"], started_at.strftime("%Y-%m-%dT%H-%M-%SZ") +
                        "-compression.md")
    os.makedirs(tools["out_dir"], exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(section(results, opts.duration)))
    for p in problems:
        print("PROBLEM: " + p)
    print("report: %s" % os.path.relpath(path, os.getcwd()))
    return 1 if problems else 0
