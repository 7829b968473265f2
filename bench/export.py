"""Case D of bench/run: full exports as JSON, NDJSON and CSV.

A table `users_export` of 1,000,000 rows (copies of `users` with shifted ids)
is served as the resource /export.  Each export is read by a fast reader
(curl into /dev/null) and by a slow one (this process, reading at a fixed
rate for a bounded time, then hanging up), at 100,000 and at 1,000,000 rows,
and queryd's peak RSS is taken for each: streaming must keep it flat
whatever the row count and however slowly the client reads.  The ceiling is
the database sending the same rows to bench/db_ceiling, its own client.
"""

import json
import os
import socket
import subprocess
import time

EXPORT_ROWS = 1_000_000
SIZES = (100_000, EXPORT_ROWS)
FORMATS = (("JSON", "application/json"), ("NDJSON", "application/x-ndjson"),
           ("CSV", "text/csv"))
SLOW_BYTES_PER_S = 4 << 20
SLOW_SECONDS = 5
EXPORT_TIMEOUT_MS = 600_000
COLUMNS = ("name, email, age, balance, active, created_at, bio, visits, score, birthday, "
           "last_login, avatar, prefs")


def prepare_table(db, database, rows, log):
    """users_export: EXPORT_ROWS rows, copies of the rows-row users table."""
    exists = db.query_value("SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                            "TABLE_SCHEMA = '%s' AND TABLE_NAME = 'users_export'" % database)
    if exists == "1" and db.query_value("SELECT COUNT(*) FROM users_export",
                                        database) == str(EXPORT_ROWS):
        return
    log("copying users into users_export (%d rows)" % EXPORT_ROWS)
    db.execute("DROP TABLE IF EXISTS users_export; CREATE TABLE users_export LIKE users; "
               "ALTER TABLE users_export DROP INDEX email", database)
    for k in range((EXPORT_ROWS + rows - 1) // rows):
        db.execute("INSERT INTO users_export (id, %s) SELECT id + %d, %s FROM users "
                   "WHERE id + %d <= %d" % (COLUMNS, k * rows, COLUMNS, k * rows, EXPORT_ROWS),
                   database, timeout=1200)
    db.execute("ANALYZE TABLE users_export", database)


def write_config(demo_path, path):
    """The demo configuration plus /export, whose timeout leaves room for slow readers."""
    with open(demo_path) as f:
        doc = json.load(f)
    doc["resources"].append({"path": "/export", "table": "users_export", "key": "id",
                             "types": {"active": "boolean"}, "max_limit": EXPORT_ROWS,
                             "timeout_ms": EXPORT_TIMEOUT_MS})
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def fast_read(base_url, rows, accept):
    """curl reads the whole export; a cut body makes curl fail (exit 18)."""
    argv = ["curl", "-s", "-o", "/dev/null", "-H", "Accept: " + accept, "-w",
            "%{http_code} %{size_download} %{time_total}",
            "%s/export?limit=%d" % (base_url, rows)]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    status, size, seconds = r.stdout.decode().split()
    return {"status": int(status), "bytes": int(size), "seconds": float(seconds),
            "complete": r.returncode == 0}


def slow_read(port, rows, accept):
    """Reads at SLOW_BYTES_PER_S for SLOW_SECONDS, then hangs up."""
    request = ("GET /export?limit=%d HTTP/1.1\r\nHost: bench\r\nAccept: %s\r\n\r\n"
               % (rows, accept)).encode()
    got, started = 0, time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(request)
        head = sock.recv(64 * 1024)
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        got = len(head)
        while time.monotonic() - started < SLOW_SECONDS:
            chunk = sock.recv(64 * 1024)
            if not chunk:
                break
            got += len(chunk)
            ahead = got / SLOW_BYTES_PER_S - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    return {"status": status, "bytes": got, "seconds": time.monotonic() - started,
            "complete": False}


def db_ceiling(tools, db, user, password, database, rows, timeout_ms):
    """The database alone sending the same rows to one client, fetched like queryd fetches."""
    argv = [os.path.join(tools, "db_ceiling"), "--socket", db.socket, "--user", user,
            "--password", password, "--database", database, "--table", "users_export",
            "--query", "first", "--connections", "1", "--duration", "600",
            "--max-requests", "1", "--rows", str(EXPORT_ROWS), "--limit", str(rows),
            "--timeout-ms", str(timeout_ms)]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    d = json.loads(r.stdout.decode().strip().splitlines()[-1])
    if r.returncode != 0:
        raise RuntimeError("db_ceiling export failed: %s" % r.stderr.decode()[-2000:])
    return {"seconds": d["duration_s"], "bytes": d["bytes"]}


def run(targets, db, tools, creds, rounds, log):
    """Every export of every round; returns a list of result dicts.

    targets: (side, url, reset_peak, peak) for each queryd build to export
    from, "queryd" (the current build) first.  Each export runs against
    every build back to back, the first build alternating between rounds.
    """
    user, password, database = creds
    results = []
    for rnd in range(1, rounds + 1):
        order = targets if rnd % 2 else targets[::-1]
        for rows in SIZES:
            log("round %d, case D: database ceiling, %d rows" % (rnd, rows))
            d = db_ceiling(tools, db, user, password, database, rows, EXPORT_TIMEOUT_MS)
            results.append({"round": rnd, "rows": rows, "format": "-", "reader": "db",
                            "side": "db", **d, "status": 200, "complete": True,
                            "peak_rss_kb": None})
            for reader in ("fast", "slow"):
                for name, accept in FORMATS:
                    for side, url, reset_peak, peak in order:
                        log("round %d, case D: %s, %d rows, %s reader%s" % (
                            rnd, name, rows, reader,
                            "" if side == "queryd" else " (%s)" % side))
                        reset_peak()
                        r = fast_read(url, rows, accept) if reader == "fast" \
                            else slow_read(int(url.rsplit(":", 1)[1]), rows, accept)
                        time.sleep(0.2)  # the hang-up reaches queryd
                        results.append({"round": rnd, "rows": rows, "format": name,
                                        "reader": reader, "side": side, **r,
                                        "peak_rss_kb": peak()})
    return results


def problems_of(results):
    out = []
    for r in results:
        if r["status"] != 200 or (r["reader"] == "fast" and not r["complete"]):
            out.append("case D round %d %s %d rows %s reader%s: status %d, complete %s"
                       % (r["round"], r["format"], r["rows"], r["reader"],
                          "" if r["side"] == "queryd" else " (%s)" % r["side"], r["status"],
                          r["complete"]))
    return out


def report(results):
    """Markdown for the report: one table, rows/s as a ratio to the database's.
    A baseline build's exports name it beside the format."""
    ceilings = {(r["round"], r["rows"]): r["rows"] / r["seconds"]
                for r in results if r["reader"] == "db"}
    lines = ["| round | rows | format | reader | seconds | MB | rows/s | MB/s "
             "| rows/s vs DB ceiling | queryd peak RSS MiB |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if r["reader"] == "db":
            lines.append("| %d | %s | (database) | db_ceiling | %.2f | %.1f | %s | %.1f | 1.00 "
                         "| — |" % (r["round"], "{:,}".format(r["rows"]), r["seconds"],
                                     r["bytes"] / 1e6, "{:,.0f}".format(r["rows"] / r["seconds"]),
                                     r["bytes"] / 1e6 / r["seconds"]))
            continue
        rate = r["rows"] / r["seconds"] if r["reader"] == "fast" else None
        fmt = r["format"] if r["side"] == "queryd" else "%s, %s" % (r["format"], r["side"])
        lines.append("| %d | %s | %s | %s | %.2f | %.1f | %s | %.1f | %s | %.1f |" % (
            r["round"], "{:,}".format(r["rows"]), fmt, r["reader"], r["seconds"],
            r["bytes"] / 1e6, "{:,.0f}".format(rate) if rate else "(read for %d s)"
            % SLOW_SECONDS, r["bytes"] / 1e6 / r["seconds"],
            "**%.2f**" % (rate / ceilings[(r["round"], r["rows"])]) if rate else "—",
            (r["peak_rss_kb"] or 0) / 1024.0))
    return "\n".join(lines)
