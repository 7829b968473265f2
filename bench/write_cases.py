"""Cases E and F of bench/run: writes.

A fourth queryd (the current build only: a revision from before writes
refuses the "methods" key) serves the plain configuration plus /writes, the
table bench_writes with POST.  Before every run the table is truncated.

- E: a bulk insert of N rows as one NDJSON POST, sent by curl from a file
  written here, against bench/db_writes inserting the same rows in the
  same statements (1024 rows per prepared INSERT, one transaction).  After
  each side the table must hold exactly N rows, and queryd's rows the same
  values as the database client's.  queryd's peak RSS is taken for the
  POST alone.
- F: single-row POSTs (a JSON object each) from wrk at 64 connections,
  against bench/db_writes at the same concurrency: the same three statements
  queryd runs for a POST (START TRANSACTION, INSERT ... RETURNING, COMMIT),
  and the plain INSERT in autocommit.
"""

import json
import os
import subprocess
import time

TABLE = "bench_writes"
PATH = "/writes"
CREATE = ("CREATE TABLE IF NOT EXISTS %s (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
          "name VARCHAR(40) NOT NULL, email VARCHAR(80) NOT NULL, "
          "score DECIMAL(12,2) NOT NULL, created DATETIME NOT NULL)" % TABLE)
QUICK_SIZES = (20_000,)
SIZES = (100_000, 1_000_000)
SINGLE_CONNECTIONS = 64
MAX_BODY_BYTES = 512 << 20  # room for the 1,000,000-row body (about 115 MB)
RATIO_TARGET = 0.7          # E: queryd rows/s against the database's
RSS_TARGET_KB = 48 << 10    # E: queryd's peak RSS during the POST
# Equal for equal rows, whatever their order and ids.
CHECKSUM = ("SELECT COUNT(*), COALESCE(SUM(score), 0), "
            "COALESCE(SUM(CRC32(CONCAT(name, ',', email, ',', created))), 0) FROM %s" % TABLE)


def prepare_table(db, database, user):
    """bench_writes, and INSERT on it for queryd's account."""
    grants = "".join("GRANT INSERT ON %s.%s TO '%s'@'%s';\n" % (database, TABLE, user, host)
                     for host in ("localhost", "127.0.0.1", "%"))
    db.execute(CREATE + ";\n" + grants, database)


def write_config(config, path):
    """The plain queryd's configuration file plus /writes, which takes POST."""
    with open(config) as f:
        doc = json.load(f)
    doc["resources"].append({"path": PATH, "table": TABLE, "key": "id",
                             "methods": ["GET", "POST"]})
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def env(base_env, config):
    """The writes queryd's environment: its configuration, and bodies up to MAX_BODY_BYTES."""
    return dict(base_env, QUERYD_CONFIG=config, QUERYD_MAX_BODY_BYTES=str(MAX_BODY_BYTES))


def row_line(i):
    """Row i as an NDJSON line: the values bench/db_writes.c and wrk/requests.lua give it."""
    score, second = i * 7919 % 10_000_000, i % 86400
    return ('{"name":"name-%d","email":"user%d@example.com","score":%d.%02d,'
            '"created":"2024-01-%02d %02d:%02d:%02d"}\n'
            % (i, i, score // 100, score % 100, 1 + i // 86400 % 28, second // 3600,
               second // 60 % 60, second % 60))


def write_body(path, rows):
    """Rows 1..rows, one JSON object a line."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for first in range(1, rows + 1, 10_000):
            f.write("".join(row_line(i) for i in range(first, min(rows, first + 9_999) + 1)))
    os.replace(tmp, path)
    return os.path.getsize(path)


def table_state(db, database):
    """(rows, sum of score, checksum of the values) of bench_writes."""
    return tuple(db.execute(CHECKSUM, database, column_names=False).split())


def truncate(db, database):
    db.execute("TRUNCATE TABLE %s" % TABLE, database)


def post_bulk(url, body_path, log_path):
    """curl streams the file as one NDJSON POST (no Expect: 100-continue)."""
    argv = ["curl", "-sS", "-o", log_path, "-X", "POST", "-T", body_path, "-H", "Expect:",
            "-H", "Content-Type: application/x-ndjson", "-w", "%{http_code} %{time_total}",
            url + PATH]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    out = r.stdout.decode().split()
    if r.returncode != 0 or len(out) != 2:
        return {"status": 0, "seconds": 0.0,
                "error": "curl exit %d: %s" % (r.returncode,
                                               r.stderr.decode().strip()[-500:])}
    return {"status": int(out[0]), "seconds": float(out[1]), "error": None}


def db_writes(tools, db, creds, label, logs, args, timeout):
    user, password, database = creds
    argv = [os.path.join(tools, "db_writes"), "--socket", db.socket, "--user", user,
            "--password", password, "--database", database] + args
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "db_writes did not finish within %ds" % timeout
    out, err = r.stdout.decode(), r.stderr.decode("utf-8", "replace")
    with open(os.path.join(logs, label + ".db.txt"), "w") as f:
        f.write(" ".join(a if a != password else "***" for a in argv) + "\n\n" + out + err)
    try:
        d = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, "db_writes failed (exit %d): %s" % (r.returncode, err[-1000:])
    return d, (None if r.returncode == 0 else "db_writes: %s" % err[-1000:])


class Runner:
    """Everything the cases need from bench/run, in one place.

    queryd: (Server, url) of the writes queryd; db, tools, creds, logs: the
    private database, where the tools are, (user, password, database), the
    log directory; run_wrk: bench/run's wrk runner; cpu_meter(pids) starts
    a CpuMeter; peak(pid) and reset_peak(pid): VmHWM, and its reset.
    """

    def __init__(self, queryd, db, tools, creds, logs, build, run_wrk, cpu_meter, peak,
                 reset_peak, log, pool_size):
        self.pool_size = pool_size  # queryd's connections: F's ceiling runs at it too
        self.server, self.url = queryd
        self.db, self.tools, self.creds, self.logs, self.build = db, tools, creds, logs, build
        self.run_wrk, self.cpu_meter, self.peak, self.reset_peak = (run_wrk, cpu_meter, peak,
                                                                   reset_peak)
        self.log = log
        self.database = creds[2]

    def meter(self):
        return self.cpu_meter({"queryd": self.server.pid, "mariadbd": self.db.pid})

    def bulk(self, rnd, rows, body_path, problems):
        """E at `rows` rows: queryd's POST, then the database alone."""
        out = []
        truncate(self.db, self.database)
        self.log("round %d, case E: queryd, one NDJSON POST of %d rows" % (rnd, rows))
        self.reset_peak(self.server.pid)
        cpu = self.meter()
        r = post_bulk(self.url, body_path,
                      os.path.join(self.logs, "r%d-E-%d-queryd.body.txt" % (rnd, rows)))
        r["cpu"] = cpu.stop()
        r["peak_rss_kb"] = self.peak(self.server.pid)
        state = table_state(self.db, self.database)
        what = "round %d case E %d rows, queryd" % (rnd, rows)
        if r["error"] or r["status"] != 201:
            problems.append("%s: status %d %s" % (what, r["status"], r["error"] or ""))
        if state[0] != str(rows):
            problems.append("%s: the table holds %s rows, not %d" % (what, state[0], rows))
        out.append({"round": rnd, "rows": rows, "side": "queryd", "rows_per_s":
                    rows / r["seconds"] if r["seconds"] else 0.0, "state": state, **r})

        truncate(self.db, self.database)
        self.log("round %d, case E: database ceiling, %d rows" % (rnd, rows))
        cpu = self.meter()
        d, err = db_writes(self.tools, self.db, self.creds, "r%d-E-%d-db" % (rnd, rows),
                           self.logs, ["--mode", "bulk", "--rows", str(rows)], 900)
        what = "round %d case E %d rows, database ceiling" % (rnd, rows)
        db_state = table_state(self.db, self.database)
        if err:
            problems.append("%s: %s" % (what, err))
        if db_state[0] != str(rows):
            problems.append("%s: the table holds %s rows, not %d" % (what, db_state[0], rows))
        elif state != db_state:
            problems.append("round %d case E %d rows: queryd's rows differ from the database "
                            "client's (count, sum of score, checksum: %s against %s)"
                            % (rnd, rows, ", ".join(state), ", ".join(db_state)))
        out.append({"round": rnd, "rows": rows, "side": "db", "cpu": cpu.stop(),
                    "seconds": d["duration_s"] if d else 0.0,
                    "rows_per_s": d["rows_per_s"] if d else 0.0,
                    "statements": d["statements"] if d else 0, "peak_rss_kb": None})
        truncate(self.db, self.database)
        return out

    def single(self, rnd, duration, problems):
        """F: queryd under wrk, then the database alone in a transaction and in autocommit."""
        out = []
        conns = SINGLE_CONNECTIONS
        truncate(self.db, self.database)
        self.log("round %d, case F: queryd, single-row POSTs, %d connections, %ds"
                 % (rnd, conns, duration))
        self.reset_peak(self.server.pid)
        cpu = self.meter()
        r = self.run_wrk("r%d-F-queryd" % rnd, self.url, conns, duration, ["insert", PATH])
        r["cpu"] = cpu.stop()
        r["peak_rss_kb"] = self.peak(self.server.pid)
        time.sleep(0.5)  # requests cut off when wrk stopped are finished or rolled back
        count = int(table_state(self.db, self.database)[0])
        what = "round %d case F, queryd" % rnd
        if r["non2xx"] or r["socket_errors"]:
            problems.append("%s: %d non-2xx, %d socket errors" % (what, r["non2xx"],
                                                                  r["socket_errors"]))
        # Every 201 is a committed row; a request wrk cut off at the end may be one more.
        low, high = r["requests"] - r["non2xx"], r["requests"] + conns
        if not low <= count <= high:
            problems.append("%s: the table holds %d rows for %d answered requests"
                            % (what, count, r["requests"]))
        out.append({"round": rnd, "side": "queryd", "connections": conns, "table_rows": count,
                    **r})
        # Commits share the log's flushes: at 64 connections the database groups
        # more of them than queryd's pool can hold open, so F is also measured
        # at the pool size.
        for side, transaction, conns in (("db_tx", "1", SINGLE_CONNECTIONS),
                                         ("db_tx_pool", "1", self.pool_size),
                                         ("db_autocommit", "0", SINGLE_CONNECTIONS)):
            truncate(self.db, self.database)
            self.log("round %d, case F: database ceiling (%s), %d connections, %ds"
                     % (rnd, "transaction" if transaction == "1" else "autocommit", conns,
                        duration))
            cpu = self.meter()
            d, err = db_writes(self.tools, self.db, self.creds, "r%d-F-%s" % (rnd, side),
                               self.logs, ["--mode", "single", "--transaction", transaction,
                                           "--connections", str(conns), "--duration",
                                           str(duration), "--max-requests", "50000000"],
                               duration + 60)
            count = int(table_state(self.db, self.database)[0])
            what = "round %d case F, database ceiling %s, %d connections" % (rnd, side[3:], conns)
            if err:
                problems.append("%s: %s" % (what, err))
            elif count != d["requests"]:
                problems.append("%s: the table holds %d rows for %d inserts"
                                % (what, count, d["requests"]))
            out.append({"round": rnd, "side": side, "connections": conns, "cpu": cpu.stop(),
                        "rps": d["rps"] if d else 0.0, "p50_ms": d["p50_ms"] if d else 0.0,
                        "p99_ms": d["p99_ms"] if d else 0.0,
                        "requests": d["requests"] if d else 0, "table_rows": count})
        truncate(self.db, self.database)
        return out


def run(runner, quick, rounds, duration, problems):
    """E and F, every round: per round each bulk size, then F."""
    sizes = QUICK_SIZES if quick else SIZES
    bodies = {}
    for rows in sizes:
        path = os.path.join(runner.build, "bench-writes-%d.ndjson" % rows)
        runner.log("writing %d rows of NDJSON to %s" % (rows, os.path.basename(path)))
        bodies[rows] = (path, write_body(path, rows))
    bulk, single = [], []
    for rnd in range(1, rounds + 1):
        for rows in sizes:
            for r in runner.bulk(rnd, rows, bodies[rows][0], problems):
                r["body_bytes"] = bodies[rows][1]
                bulk.append(r)
        single += runner.single(rnd, duration, problems)
    return {"bulk": bulk, "single": single}


def warm_up(runner, seconds):
    """Single-row POSTs on every pooled connection: statements prepared before F."""
    runner.run_wrk("warmup-F", runner.url, SINGLE_CONNECTIONS, seconds, ["insert", PATH])
    truncate(runner.db, runner.database)


# ---- report ---------------------------------------------------------------------

def fmt(x):
    return "{:,.0f}".format(x)


def cores(cpu, name):
    return "%.2f" % cpu.get(name, 0) if cpu else "—"


def report(results):
    """Markdown tables for E and F."""
    if not results:
        return "", ""
    bulk, single = results["bulk"], results["single"]
    ceilings = {(r["round"], r["rows"]): r for r in bulk if r["side"] == "db"}
    lines = ["| round | rows | side | body MB | seconds | rows/s | queryd / DB ceiling "
             "| queryd peak RSS MiB | queryd cores | mariadbd cores |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in bulk:
        is_q = r["side"] == "queryd"
        c = ceilings.get((r["round"], r["rows"]))
        rate = c["rows_per_s"] if c else 0
        lines.append("| %d | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |" % (
            r["round"], fmt(r["rows"]),
            "queryd, NDJSON POST (curl)" if is_q else
            "db_writes, %d INSERTs, one transaction" % r["statements"],
            "%.1f" % (r["body_bytes"] / 1e6) if is_q else "—", r["seconds"], fmt(r["rows_per_s"]),
            "**%.2f**" % (r["rows_per_s"] / rate) if is_q and rate else ("1.00" if not is_q
                                                                       else "—"),
            "%.1f" % (r["peak_rss_kb"] / 1024.0) if is_q and r["peak_rss_kb"] else "—",
            cores(r["cpu"], "queryd") if is_q else "—", cores(r["cpu"], "mariadbd")))
    bulk_table = "\n".join(lines)

    names = {"queryd": "queryd, POST of one JSON object (wrk)",
             "db_tx": "db_writes, START TRANSACTION + INSERT ... RETURNING + COMMIT",
             "db_tx_pool": "the same, at queryd's pool size",
             "db_autocommit": "db_writes, INSERT ... RETURNING, autocommit"}
    by = {(r["round"], r["side"]): r for r in single}
    lines = ["| round | side | conn | req/s | p50 ms | p99 ms | queryd / this | rows in table "
             "| queryd cores | mariadbd cores | load generator cores |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in single:
        q = by.get((r["round"], "queryd"))
        is_q = r["side"] == "queryd"
        lines.append("| %d | %s | %d | %s | %.2f | %.2f | %s | %s | %s | %s | %s |" % (
            r["round"], names[r["side"]], r["connections"], fmt(r["rps"]), r["p50_ms"],
            r["p99_ms"], "—" if is_q else "**%.2f**" % (q["rps"] / r["rps"] if r["rps"] else 0),
            fmt(r["table_rows"]), cores(r["cpu"], "queryd") if is_q else "—",
            cores(r["cpu"], "mariadbd"), cores(r["cpu"], "client")))
    return bulk_table, "\n".join(lines)


def summary(results):
    """One line per bulk size: mean ratio and the highest peak RSS, against the targets."""
    out = []
    sizes = sorted({r["rows"] for r in results["bulk"]})
    for rows in sizes:
        q = [r for r in results["bulk"] if r["rows"] == rows and r["side"] == "queryd"]
        d = [r for r in results["bulk"] if r["rows"] == rows and r["side"] == "db"]
        qm = sum(r["rows_per_s"] for r in q) / len(q)
        dm = sum(r["rows_per_s"] for r in d) / len(d)
        peak = max((r["peak_rss_kb"] or 0) for r in q)
        ratio = qm / dm if dm else 0
        out.append("- E, %s rows: queryd %s rows/s, database %s rows/s, ratio of means **%.2f** "
                   "(target %.1f: %s); queryd peak RSS %.1f MiB (target under %d MiB: %s)"
                   % (fmt(rows), fmt(qm), fmt(dm), ratio, RATIO_TARGET,
                      "met" if ratio >= RATIO_TARGET else "not met", peak / 1024.0,
                      RSS_TARGET_KB >> 10, "met" if peak and peak < RSS_TARGET_KB else "not met"))
    return out


def section(results, duration):
    """The report's section on E and F."""
    if not results:
        return []
    bulk_table, single_table = report(results)
    return [
        "## E and F: writes\n",
        "The table `%s` (id BIGINT AUTO_INCREMENT, name, email, score DECIMAL(12,2), created "
        "DATETIME) served as `%s` with POST by a queryd of its own (same settings, "
        "QUERYD_MAX_BODY_BYTES=%d), truncated before every run.\n" % (TABLE, PATH,
                                                                     MAX_BODY_BYTES),
        "### E: bulk insert, one NDJSON POST\n",
        "curl streams a file of N rows (one JSON object a line) as one POST; queryd writes "
        "them in prepared INSERTs of up to 1024 rows, all in one transaction. Ceiling: "
        "bench/db_writes inserting the same rows from one blocking connection, 1024 rows per "
        "prepared INSERT (the rest in powers of two), START TRANSACTION ... COMMIT. After "
        "each side the table holds exactly N rows, and queryd's rows the same values (count, "
        "sum of score, CRC32 of the rest) as the client's. Peak RSS is queryd's VmHWM, reset "
        "before the POST.\n",
        "\n".join(summary(results)) + "\n",
        bulk_table + "\n",
        "### F: single-row POSTs\n",
        "wrk, %d connections, %d s per run, each request a POST of one random row as a JSON "
        "object (201 with Location). queryd runs START TRANSACTION, `INSERT ... VALUES (?, ?, ?, "
        "?) RETURNING id` and COMMIT for each; the ceilings run the same three statements, "
        "and the INSERT alone in autocommit, at the same concurrency. queryd's table must "
        "hold one row per 201 (and at most one more per connection, for requests cut off "
        "when wrk stops).\n" % (SINGLE_CONNECTIONS, duration),
        single_table + "\n",
    ]
