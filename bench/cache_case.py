"""Case H of bench/run: a skewed mix of item and page reads, cached and not.

Two queryd of the current build, alike but for "cache_ms": 1000 on /users in
one of them, get the same load from wrk at CONNECTIONS connections: requests
drawn from a Zipf-like distribution (exponent ZIPF_S) over the users' ids,
ITEM_SHARE of them GET /users/{id}, the rest GET /users?limit=LIMIT&after=
{a multiple of LIMIT} drawn the same way over the pages. The report gives,
for each side, requests per second, latency, queryd's and the database's CPU
per request, and the statements per second it sent to the database: the
growth of the server's Com_select over the run (prepared SELECTs count there
as well), divided by the run's length.

    bench/run --cases H      case H alone (build, database, both queryd)
"""

import json
import os
import socket
import time

from machine import CpuMeter
from servers import Server, http_get

CONNECTIONS = 64
CACHE_MS = 1000
ZIPF_S = 1.1
ITEM_SHARE = 80  # percent
LIMIT = 20


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(config, path, cache_ms):
    """The plain queryd's /users alone, with cache_ms (0: none)."""
    with open(config) as f:
        doc = json.load(f)
    doc = {"resources": [r for r in doc["resources"] if r["path"] == "/users"]}
    if cache_ms:
        doc["resources"][0]["cache_ms"] = cache_ms
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def com_select(db):
    out = db.execute("SHOW GLOBAL STATUS LIKE 'Com_select'", column_names=False)
    return int(out.split()[1])


def wrk_args(rows):
    return ["zipf", str(rows), str(LIMIT), str(ZIPF_S), str(ITEM_SHARE)]


def measure_side(side, server, url, db, rows, run_wrk, log, rnd, duration, problems):
    log("round %d, case H: queryd %s, %d connections, %ds" % (rnd, side, CONNECTIONS, duration))
    before = com_select(db)
    cpu = CpuMeter({"queryd": server.pid, "mariadbd": db.pid})
    r = run_wrk("r%d-H-%s" % (rnd, side), url, CONNECTIONS, duration, wrk_args(rows))
    r["cpu"] = cpu.stop()
    r["statements_per_s"] = (com_select(db) - before) / float(duration)
    if r["non2xx"] or r["socket_errors"]:
        problems.append("round %d case H, %s: %d non-2xx, %d socket errors"
                        % (rnd, side, r["non2xx"], r["socket_errors"]))
    _, body = http_get(url + "/metrics")
    r["cache"] = {line.split()[0]: float(line.split()[1])
                  for line in body.decode().splitlines()
                  if line.startswith("queryd_cache_") and " " in line}
    return dict(r, round=rnd, side=side)


def run(binary, env, db, rows, paths, run_wrk, log, opts, problems):
    """Case H from start to end: both queryd, then the rounds. paths: (logs, build)."""
    logs, build = paths
    servers = {}
    try:
        for side, cache_ms in (("cached", CACHE_MS), ("uncached", 0)):
            config = write_config(env["QUERYD_CONFIG"],
                                  os.path.join(build, "bench-queryd-%s.json" % side), cache_ms)
            port = free_port()
            url = "http://127.0.0.1:%d" % port
            servers[side] = (Server("queryd-" + side, [binary],
                                    dict(env, QUERYD_CONFIG=config,
                                         QUERYD_LISTEN="127.0.0.1:%d" % port),
                                    url + "/readyz", logs), url)
        for server, url in servers.values():
            server.wait_ready()
            run_wrk("warmup-H", url, CONNECTIONS, 1 if opts.quick else 2, wrk_args(rows))
        out = []
        for rnd in range(1, opts.rounds + 1):
            for side in ("uncached", "cached") if rnd % 2 else ("cached", "uncached"):
                server, url = servers[side]
                out.append(measure_side(side, server, url, db, rows, run_wrk, log, rnd,
                                        opts.duration, problems))
        return out
    finally:
        for server, _ in servers.values():
            code = server.stop()
            if code != 0:
                problems.append("%s exited with %s after SIGTERM" % (server.name, code))


def alone(opts, bench, out_dir):
    """bench/run --cases H: build, the database, case H, and a report of its own.
    bench: bench/run's module (its build, database and wrk helpers)."""
    rows = 1000000 if opts.big else 100000
    problems, results, db = [], [], None
    bench.ensure_tools()
    binary = bench.build()
    try:
        db = bench.start_database(rows)
        config = bench.export.write_config(os.path.join(bench.REPO, "docker", "queryd.json"),
                                           os.path.join(bench.BUILD, "bench-queryd.json"))
        env = bench.queryd_env(db, opts, config)
        os.makedirs(bench.LOGS, exist_ok=True)
        results = run(binary, env, db, rows, (bench.LOGS, bench.BUILD), bench.run_wrk,
                      bench.log, opts, problems)
    except (bench.BenchError, bench.MariaDBError, bench.ServerError) as e:
        bench.log(str(e))
        return 1
    except KeyboardInterrupt:
        bench.log("interrupted")
        return 130
    finally:
        if db is not None:
            db.stop()
    text = "# queryd case H, %d rows, %d workers, pool %d\n%s" % (
        rows, opts.workers, opts.pool_size, section(results, opts.duration))
    text += "".join("\n- PROBLEM: %s" % p for p in problems)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, time.strftime("%Y-%m-%dT%H-%M-%SZ-H.md", time.gmtime()))
    with open(path, "w") as f:
        f.write(text + "\n")
    print(text)
    print("\n".join(summary(results)))
    print("report: %s" % os.path.relpath(path, os.getcwd()))
    return 1 if problems else 0


# ---- report ---------------------------------------------------------------------

def per_request_ms(cores, rps):
    return "%.3f" % (cores * 1000.0 / rps) if rps and cores is not None else "—"


def section(results, duration):
    """The markdown section of case H: a row per round and side."""
    if not results:
        return ""
    out = ["", "## Case H: skewed reads, cache_ms %d vs none" % CACHE_MS, "",
           "wrk, %d connections, %d s per run: %d%% GET /users/{id}, the rest "
           "GET /users?limit=%d&after={k*%d}, ids and pages drawn by Zipf (s = %.1f). "
           "Statements/s: Com_select growth over the run." % (
               CONNECTIONS, duration, ITEM_SHARE, LIMIT, LIMIT, ZIPF_S), "",
           "| round | queryd | req/s | p50 ms | p99 ms | statements/s | statements per request "
           "| queryd CPU ms/req | mariadbd CPU ms/req | cache hits since start "
           "| collapsed since start |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        cpu = r.get("cpu") or {}
        cache = r.get("cache") or {}
        out.append("| %d | %s | %.0f | %.2f | %.2f | %.0f | %.3f | %s | %s | %.0f | %.0f |" % (
            r["round"], r["side"], r["rps"], r["p50_ms"], r["p99_ms"], r["statements_per_s"],
            r["statements_per_s"] / r["rps"] if r["rps"] else 0,
            per_request_ms(cpu.get("queryd"), r["rps"]),
            per_request_ms(cpu.get("mariadbd"), r["rps"]),
            cache.get("queryd_cache_hits_total", 0),
            cache.get("queryd_cache_collapsed_total", 0)))
    return "\n".join(out) + "\n"


def summary(results):
    """One line: mean requests and statements per second of each side."""
    def mean(side, key):
        values = [r[key] for r in results or [] if r["side"] == side]
        return sum(values) / len(values) if values else 0.0
    if not results:
        return []
    return ["- H: cached %.0f req/s sending %.0f statements/s; uncached %.0f req/s sending "
            "%.0f statements/s" % (mean("cached", "rps"), mean("cached", "statements_per_s"),
                                   mean("uncached", "rps"), mean("uncached", "statements_per_s"))]
