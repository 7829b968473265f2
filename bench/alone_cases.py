"""bench/run --cases: some cases run alone, each group with a report of its own,
for a quick figure without the whole run (plain bench/run still runs them all)."""

import argparse

import cache_case
import compression_case
import replica_case

GROUPS = {"H": "cache", "CZ": "compression", "DZ": "compression", "R": "replicas"}


def parse(text):
    """--cases: a comma-separated subset of GROUPS' keys."""
    keys = [k.strip().upper() for k in text.split(",") if k.strip()]
    if not keys or any(k not in GROUPS for k in keys):
        raise argparse.ArgumentTypeError("--cases takes %s; without it every case runs"
                                         % ",".join(GROUPS))
    return keys


def run(opts, bench, out_dir):
    """bench: bench/run's module (its build, database and wrk helpers)."""
    status, keys = 0, opts.cases
    if "R" in keys:
        status |= replica_case.main(opts, out_dir, vars(bench)) or 0
    if "H" in keys:
        status |= cache_case.alone(opts, bench, out_dir) or 0
    opts.cases = [k for k in keys if GROUPS[k] == "compression"]
    if opts.cases:
        status |= compression_case.alone(opts, dict(
            log=bench.log, ensure_tools=bench.ensure_tools, build=bench.build,
            start_database=bench.start_database, export=bench.export,
            queryd_env=bench.queryd_env, repo=bench.REPO, db_name=bench.DB_NAME,
            paths=(bench.TOOLS, bench.LOGS, bench.BUILD), run_wrk=bench.run_wrk,
            out_dir=out_dir)) or 0
    return status
