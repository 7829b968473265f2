"""Case G of bench/run: a page of teams with their members embedded.

Tables: teams (id INT PK, name) with TEAMS rows, and members (id INT PK,
team_id INT NOT NULL with a foreign key to teams(id), name) with
MEMBERS_PER_TEAM rows per team, generated in SQL like bench/users.sql.  A
queryd of its own (the current build, the plain configuration plus /teams and
/members) gets, from wrk at CONNECTIONS connections,

    GET /teams?select=id,name,members(id,name)&limit=100&after={random}

and the ceiling, bench/db_embed, runs at the same concurrency the two
prepared statements a page takes: the teams (LIMIT 101, starting where the
wrk script starts), then the members of the 100 teams returned
(`WHERE team_id IN (...) ORDER BY team_id, id`).

Before any load, one request must answer 200 with 100 teams, each holding
its MEMBERS_PER_TEAM members: otherwise queryd's side is not measured and the
run ends with a problem naming the answer, so that an error (a queryd without
embedding answers 400) never passes for a figure.
"""

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request

from machine import CpuMeter
from servers import Server

TEAMS = 10_000
MEMBERS_PER_TEAM = 10
LIMIT = 100
CONNECTIONS = 64
PROBE = "/teams?select=id,name,members(id,name)&limit=%d&after=0" % LIMIT
SEED = """
SET SESSION max_recursive_iterations = 10000000;
DROP TABLE IF EXISTS members;
DROP TABLE IF EXISTS teams;
CREATE TABLE teams (id INT NOT NULL PRIMARY KEY, name VARCHAR(60) NOT NULL);
CREATE TABLE members (id INT NOT NULL PRIMARY KEY, team_id INT NOT NULL,
  name VARCHAR(60) NOT NULL,
  CONSTRAINT members_team FOREIGN KEY (team_id) REFERENCES teams (id));
START TRANSACTION;
INSERT INTO teams WITH RECURSIVE seq (id) AS (
  SELECT 1 UNION ALL SELECT id + 1 FROM seq WHERE id < %(teams)d)
SELECT id, CONCAT('team ', id) FROM seq;
INSERT INTO members WITH RECURSIVE seq (id) AS (
  SELECT 1 UNION ALL SELECT id + 1 FROM seq WHERE id < %(members)d)
SELECT id, 1 + (id - 1) DIV %(per_team)d, CONCAT('member ', id) FROM seq;
COMMIT;
ANALYZE TABLE teams, members;
""" % {"teams": TEAMS, "members": TEAMS * MEMBERS_PER_TEAM, "per_team": MEMBERS_PER_TEAM}


def prepare_tables(db, database, log):
    """teams and members, generated unless they already hold the expected rows."""
    counts = db.execute("SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('teams', 'members'))",
                        database, column_names=False).split()
    if counts == ["2"] and db.query_value(
            "SELECT CONCAT((SELECT COUNT(*) FROM teams), ',', (SELECT COUNT(*) FROM members))",
            database) == "%d,%d" % (TEAMS, TEAMS * MEMBERS_PER_TEAM):
        return
    log("generating %d teams and %d members" % (TEAMS, TEAMS * MEMBERS_PER_TEAM))
    db.execute(SEED, database, timeout=600)


def write_config(config, path):
    """The plain queryd's configuration file plus /teams and /members."""
    with open(config) as f:
        doc = json.load(f)
    doc["resources"] += [{"path": "/teams", "table": "teams", "key": "id"},
                         {"path": "/members", "table": "members", "key": "id"}]
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def probe(url):
    """None when the page is what G measures, else what is wrong with it."""
    try:
        with urllib.request.urlopen(url + PROBE, timeout=30) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except OSError as e:
        return "GET %s failed: %s" % (PROBE, e)
    if status != 200:
        return "GET %s answered %d: %s" % (PROBE, status, body[:300].decode("utf-8", "replace"))
    teams = json.loads(body).get("data", [])
    sizes = {len(t.get("members") or []) for t in teams}
    if len(teams) != LIMIT or sizes != {MEMBERS_PER_TEAM}:
        return "GET %s answered %d teams with %s members each, not %d with %d" % (
            PROBE, len(teams), sorted(sizes), LIMIT, MEMBERS_PER_TEAM)
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_embed(tools, db, creds, logs, label, duration):
    user, password, database = creds
    argv = [os.path.join(tools, "db_embed"), "--socket", db.socket, "--user", user,
            "--password", password, "--database", database, "--connections", str(CONNECTIONS),
            "--duration", str(duration), "--max-requests", "50000000", "--teams", str(TEAMS),
            "--limit", str(LIMIT)]
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=duration + 60)
    except subprocess.TimeoutExpired:
        return None, "db_embed did not finish within %ds" % (duration + 60)
    out, err = r.stdout.decode(), r.stderr.decode("utf-8", "replace")
    with open(os.path.join(logs, label + ".db.txt"), "w") as f:
        f.write(" ".join(a if a != password else "***" for a in argv) + "\n\n" + out + err)
    try:
        d = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None, "db_embed failed (exit %d): %s" % (r.returncode, err[-1000:])
    return d, (None if r.returncode == 0 else "db_embed (exit %d): %s errors, %s wrong row "
               "counts, %s failed connections %s" % (r.returncode, d["errors"],
                                                      d["wrong_row_counts"],
                                                      d["failed_connections"], err[-500:]))


def measure(server, url, db, paths, creds, run_wrk, log, rounds, duration, problems):
    """Every round: queryd under wrk (when the probe passed), then the ceiling."""
    tools, logs = paths
    wrong = probe(url)
    if wrong:
        problems.append("case G: queryd not measured: " + wrong)
    else:
        run_wrk("warmup-G", url, CONNECTIONS, 2, ["embed", str(TEAMS), str(LIMIT)])
    out = []
    for rnd in range(1, rounds + 1):
        if not wrong:
            log("round %d, case G: queryd, %d connections, %ds" % (rnd, CONNECTIONS, duration))
            cpu = CpuMeter({"queryd": server.pid, "mariadbd": db.pid})
            r = run_wrk("r%d-G-queryd" % rnd, url, CONNECTIONS, duration,
                        ["embed", str(TEAMS), str(LIMIT)])
            r["cpu"] = cpu.stop()
            if r["non2xx"] or r["socket_errors"]:
                problems.append("round %d case G, queryd: %d non-2xx, %d socket errors"
                                % (rnd, r["non2xx"], r["socket_errors"]))
            out.append(dict(r, round=rnd, side="queryd"))
        log("round %d, case G: database ceiling, %d connections, %ds"
            % (rnd, CONNECTIONS, duration))
        cpu = CpuMeter({"mariadbd": db.pid})
        d, err = db_embed(tools, db, creds, logs, "r%d-G-db" % rnd, duration)
        if err:
            problems.append("round %d case G, database ceiling: %s" % (rnd, err))
        out.append({"round": rnd, "side": "db", "cpu": cpu.stop(), "rps": d["rps"] if d else 0,
                    "p50_ms": d["p50_ms"] if d else 0, "p99_ms": d["p99_ms"] if d else 0,
                    "requests": d["requests"] if d else 0})
    return out


def run(binary, env, db, paths, creds, run_wrk, log, opts, problems):
    """Case G from start to end: tables, its queryd, the rounds. paths: (tools, logs, build)."""
    tools, logs, build = paths
    prepare_tables(db, creds[2], log)
    config = write_config(env["QUERYD_CONFIG"], os.path.join(build, "bench-queryd-embed.json"))
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    server = Server("queryd-embed", [binary],
                    dict(env, QUERYD_CONFIG=config, QUERYD_LISTEN="127.0.0.1:%d" % port),
                    url + "/readyz", logs)
    try:
        server.wait_ready()
        return measure(server, url, db, (tools, logs), creds, run_wrk, log, opts.rounds,
                       opts.duration, problems)
    finally:
        code = server.stop()
        if code != 0:
            problems.append("queryd-embed exited with %s after SIGTERM" % code)


# ---- report ---------------------------------------------------------------------

def per_request_ms(cores, rps):
    """CPU milliseconds per request from average cores busy and the request rate."""
    return "%.2f" % (cores * 1000.0 / rps) if rps and cores is not None else "—"


def summary(results):
    """One line: the means of both sides and their ratio."""
    q = [r["rps"] for r in results or [] if r["side"] == "queryd"]
    d = [r["rps"] for r in results or [] if r["side"] == "db"]
    if not d:
        return []
    dm = sum(d) / len(d)
    if not q:
        return ["- G: queryd not measured (see Problems); database ceiling %.0f pages/s" % dm]
    qm = sum(q) / len(q)
    return ["- G: queryd %.0f req/s, database ceiling %.0f pages/s, ratio of means **%.2f**"
            % (qm, dm, qm / dm if dm else 0)]


def section(results, duration):
    """The report's section on G."""
    if results is None:
        return []
    ceilings = {r["round"]: r for r in results if r["side"] == "db"}
    lines = ["| round | side | conn | req/s | p50 ms | p99 ms | queryd / ceiling "
             "| queryd CPU ms/req | mariadbd CPU ms/req | load generator cores |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        is_q = r["side"] == "queryd"
        c = ceilings.get(r["round"])
        lines.append("| %d | %s | %d | %.0f | %.2f | %.2f | %s | %s | %s | %.2f |" % (
            r["round"], "queryd (wrk)" if is_q else "db_embed, 2 statements a page",
            CONNECTIONS, r["rps"], r["p50_ms"], r["p99_ms"],
            "**%.2f**" % (r["rps"] / c["rps"]) if is_q and c and c["rps"] else "—",
            per_request_ms(r["cpu"].get("queryd"), r["rps"]) if is_q else "—",
            per_request_ms(r["cpu"].get("mariadbd"), r["rps"]), r["cpu"].get("client", 0)))
    return [
        "## G: a page of teams with their members embedded\n",
        "`GET /teams?select=id,name,members(id,name)&limit=%d&after={random}` from wrk, %d "
        "connections, %d s per run, on a queryd of its own (/teams and /members added to the "
        "plain configuration); %d teams, %d members each (members.team_id has a foreign key "
        "to teams.id). Ceiling: bench/db_embed at the same concurrency, per page the two "
        "prepared statements `SELECT id,name FROM teams WHERE id > ? ORDER BY id LIMIT %d` and "
        "`SELECT team_id,id,name FROM members WHERE team_id IN (<the %d ids>) ORDER BY "
        "team_id,id`. CPU per request: average cores busy over the run divided by the "
        "request rate. queryd is measured only when a probe page answers 200 with %d teams "
        "of %d members each.\n" % (LIMIT, CONNECTIONS, duration, TEAMS, MEMBERS_PER_TEAM,
                                   LIMIT + 1, LIMIT, LIMIT, MEMBERS_PER_TEAM),
        "\n".join(summary(results)) + "\n",
        "\n".join(lines) + "\n",
    ]
