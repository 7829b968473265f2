"""Case R of bench/run: case A (GET /users/{random id}) against a primary with
two GTID replicas, beside the same primary alone, and the database's own
point-select rate (bench/db_ceiling) on the same servers: each alone, and the
three at once.

Three private MariaDB servers of their own (build-bench/replicas/: a primary
with a binary log and two replicas following it by GTID) hold the same
users table. Two queryd run the current build: one with QUERYD_DATABASE_URL
alone, one with QUERYD_REPLICA_URLS as well. Rounds interleave the two, and
each run records the cores used by queryd, by every database server and by
the load generator, so the report gives CPU time per request as well as the
rate: on two cores, replicas show what spreading reads costs rather than
what it gains.

    bench/run --cases R [--quick] [--duration S] [--rounds N]
"""

import datetime
import os
import re
import shutil
import time
import types

from machine import CpuMeter, loadavg
from private_mariadb import PrivateMariaDB
from servers import Server

ROWS = 100000
CONNECTIONS = 64
REPL = ("repl", "repl-secret")


def _binlog_args(server_id):
    return ["--innodb-buffer-pool-size=256M", "--log-bin=binlog", "--server-id=%d" % server_id,
            "--gtid-strict-mode=1", "--binlog-format=ROW", "--max-connections=1000"]


def start_servers(ctx):
    """The primary (users loaded) and two replicas that have applied it all."""
    root = os.path.join(ctx.build, "replicas")
    shutil.rmtree(root, ignore_errors=True)
    primary = PrivateMariaDB(os.path.join(root, "primary"), server_args=_binlog_args(1))
    ctx.log("starting a primary and two replicas in %s" % root)
    primary.start()
    primary.execute("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'; "
                    "GRANT REPLICATION SLAVE ON *.* TO '%s'@'127.0.0.1';"
                    % (REPL[0], REPL[1], REPL[0]))
    user, password, database = ctx.creds
    primary.create_app_user(user, password, database)
    primary.load_files([ctx.schema], database)
    with open(ctx.data_sql, "rb") as f:
        data_sql = f.read().decode("utf-8")
    primary.execute("SET @first = 1, @last = %d;\n%s" % (ROWS, data_sql), database,
                    timeout=1200)
    replicas = []
    for i in (1, 2):
        r = PrivateMariaDB(os.path.join(root, "replica%d" % i),
                           server_args=_binlog_args(1 + i) + ["--read-only=1"])
        r.start()
        r.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                  "MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, "
                  "MASTER_CONNECT_RETRY=1; START SLAVE;" % (primary.port, REPL[0], REPL[1]))
        replicas.append(r)
    position = primary.query_value("SELECT @@gtid_binlog_pos")
    for r in replicas:
        if r.query_value("SELECT MASTER_GTID_WAIT('%s', 600)" % position) != "0":
            raise RuntimeError("a replica did not catch up: " + r.execute("SHOW SLAVE STATUS"))
    for db in [primary] + replicas:  # a warm buffer pool, as in production
        db.execute("SELECT COUNT(*), SUM(LENGTH(bio)) FROM users", database)
    return primary, replicas


def _url(db, creds):
    return db.socket_url(*creds)


def start_queryds(ctx, binary, primary, replicas, started):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUERYD_")}
    env.update({"QUERYD_DATABASE_URL": _url(primary, ctx.creds),
                "QUERYD_WORKERS": str(ctx.opts.workers),
                "QUERYD_POOL_SIZE": str(ctx.opts.pool_size),
                "QUERYD_ACCESS_LOG": "0",
                "QUERYD_CONFIG": ctx.config})
    sides = {}
    for side, extra in (("alone", {}),
                        ("replicas", {"QUERYD_REPLICA_URLS":
                                      ",".join(_url(r, ctx.creds) for r in replicas),
                                      "QUERYD_REPLICA_POOL_SIZE": str(ctx.opts.pool_size)})):
        port = ctx.free_port()
        url = "http://127.0.0.1:%d" % port
        server = Server("queryd-r-" + side, [binary],
                        dict(env, QUERYD_LISTEN="127.0.0.1:%d" % port, **extra),
                        url + "/readyz", ctx.logs)
        started.append(server)
        sides[side] = (server, url)
    for server, _ in sides.values():
        server.wait_ready()
    return sides


def _cpu_per_request(cores, rps, names):
    """Microseconds of CPU per request spent by the named processes."""
    return sum(cores.get(n, 0.0) for n in names) / rps * 1e6 if rps else 0.0


def measure(ctx, sides, primary, replicas):
    databases = {"primary": primary.pid, "replica1": replicas[0].pid,
                 "replica2": replicas[1].pid}
    rows = []
    point = types.SimpleNamespace(db_query="point", db_limit=1)
    for rnd in range(1, ctx.opts.rounds + 1):
        for side, (server, url) in sides.items():
            meter = CpuMeter(dict(databases, queryd=server.pid))
            r = ctx.run_wrk("R-%s-%d" % (side, rnd), url, CONNECTIONS, ctx.opts.duration,
                            ["id", str(ROWS)])
            cores = meter.stop()
            rows.append(dict(r, round=rnd, target="queryd, " + (
                "primary + 2 replicas" if side == "replicas" else "primary alone"),
                cores=cores, queryd_us=_cpu_per_request(cores, r["rps"], ["queryd"]),
                db_us=_cpu_per_request(cores, r["rps"], list(databases))))
            ctx.check_clean(r, "R %s round %d" % (side, rnd))
        for name, db in [("primary", primary)] + [("replica%d" % (i + 1), r)
                                                  for i, r in enumerate(replicas)]:
            meter = CpuMeter(databases)
            r = ctx.run_db_ceiling("R-db-%s-%d" % (name, rnd), db, point, CONNECTIONS,
                                   ctx.opts.duration, ROWS)
            cores = meter.stop()
            rows.append(dict(r, round=rnd, target="DB point select, %s alone" % name,
                             cores=cores, queryd_us=0.0,
                             db_us=_cpu_per_request(cores, r["rps"], list(databases))))
            ctx.check_clean(r, "R db %s round %d" % (name, rnd))
    return rows


def routed(url):
    """Requests per server, from the replicated queryd's /metrics."""
    import urllib.request
    with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {m.group(1): int(float(m.group(2))) for m in re.finditer(
        r'^queryd_db_target_requests_total\{target="(\w+)"\} (\S+)$', text, re.M)}


def report(rows, spread, settings):
    lines = ["# bench R: replicas (%s)" % settings["started_at"].strftime("%Y-%m-%d %H:%M UTC"),
             "",
             "%(rows)d users rows; %(duration)d s runs, %(rounds)d rounds; %(workers)d "
             "workers, pool %(pool_size)d per server; load before %(load_before)s, after "
             "%(load_after)s." % settings,
             "",
             "| round | target | req/s | p50 ms | p99 ms | queryd cores | database cores "
             "| client cores | other cores | queryd CPU µs/req | database CPU µs/req |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["cores"]
        db_cores = sum(v for k, v in c.items() if k.startswith(("primary", "replica")))
        lines.append("| %d | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f |"
                     % (r["round"], r["target"], r["rps"], r["p50_ms"], r["p99_ms"],
                        c.get("queryd", 0.0), db_cores, c.get("client", 0.0),
                        c.get("other", 0.0), r["queryd_us"], r["db_us"]))
    lines += ["", "Reads of the replicated queryd per server (its /metrics): " +
              ", ".join("%s %d" % kv for kv in sorted(spread.items())), ""]
    return "\n".join(lines)


def run(ctx):
    """Runs case R; returns (report text, problems)."""
    started_at = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    ctx.problems = []
    ctx.check_clean = lambda r, what: (
        ctx.problems.append("%s: %d non-2xx / wrong rows, %d socket or client errors"
                            % (what, r["non2xx"], r["socket_errors"]))
        if r["non2xx"] or r["socket_errors"] else None)
    ctx.ensure_tools()
    binary = ctx.build_queryd()
    primary = replicas = None
    started = []
    try:
        primary, replicas = start_servers(ctx)
        sides = start_queryds(ctx, binary, primary, replicas, started)
        for side, (_, url) in sides.items():
            ctx.run_wrk("R-warmup-%s" % side, url, CONNECTIONS, 2, ["id", str(ROWS)])
        rows = measure(ctx, sides, primary, replicas)
        spread = routed(sides["replicas"][1])
    finally:
        for server in started:
            if server.stop() != 0:
                ctx.problems.append("%s exited badly after SIGTERM" % server.name)
        for db in [primary] + (replicas or []):
            if db is not None:
                db.stop()
    settings = {"rows": ROWS, "duration": ctx.opts.duration, "rounds": ctx.opts.rounds,
                "workers": ctx.opts.workers, "pool_size": ctx.opts.pool_size,
                "load_before": load_before, "load_after": loadavg(), "started_at": started_at}
    text = report(rows, spread, settings)
    out_dir = ctx.out_dir
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, started_at.strftime("%Y-%m-%dT%H-%M-%SZ") + "-R.md")
    with open(path, "w") as f:
        f.write(text)
    return text + "\nreport: %s\n" % path, ctx.problems


def main(opts, out_dir, bench):
    """bench/run --cases R; bench: bench/run's globals, whose helpers it uses."""
    ctx = types.SimpleNamespace(
        opts=opts, out_dir=out_dir, log=bench["log"], build=bench["BUILD"],
        logs=bench["LOGS"], schema=bench["SCHEMA"], data_sql=bench["DATA_SQL"],
        creds=(bench["DB_USER"], bench["DB_PASSWORD"], bench["DB_NAME"]),
        config=os.path.join(bench["REPO"], "docker", "queryd.json"),
        ensure_tools=bench["ensure_tools"], build_queryd=bench["build"],
        run_wrk=bench["run_wrk"], run_db_ceiling=bench["run_db_ceiling"],
        free_port=bench["free_port"])
    os.makedirs(ctx.logs, exist_ok=True)
    started = time.monotonic()
    text, problems = run(ctx)
    print(text)
    for p in problems:
        print("PROBLEM: " + p)
    ctx.log("case R done in %.0f s" % (time.monotonic() - started))
    return 1 if problems else 0
