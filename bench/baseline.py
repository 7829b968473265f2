"""`bench/run --baseline REV`: queryd built at another revision, measured
beside the current one in the same run.

The revision's tree is taken with `git archive` (nothing in the repository
changes: no worktree, no checkout) into build-bench/baseline/<commit>/tree
and built in build-bench/baseline/<commit>/build with its own CMakeLists.txt,
the same Release way as the current tree.  Both are kept for the next run
at the same commit; those of any other commit are removed, so at most one
baseline sits in build-bench/.

The report part compares the two builds case by case: each build's req/s,
each build's ratio to the same ceiling runs, and current / baseline per
round, whose range across rounds is the noise to read a difference against.
"""

import json
import os
import shutil
import statistics
import subprocess


class BaselineError(RuntimeError):
    pass


def git(repo, *args):
    r = subprocess.run(["git", "-C", repo] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        err = r.stderr.decode("utf-8", "replace").strip()
        raise BaselineError(err or "git %s failed" % args[0])
    return r.stdout.decode("utf-8", "replace").strip()


def resolve(repo, rev):
    """The commit `rev` names: {rev, commit, short, subject}."""
    try:
        commit = git(repo, "rev-parse", "--verify", "--end-of-options", rev + "^{commit}")
    except BaselineError:
        raise BaselineError("--baseline %s: not a commit of this repository" % rev) from None
    return {"rev": rev, "commit": commit, "short": commit[:12],
            "subject": git(repo, "log", "-1", "--format=%s", commit)}


def build(repo, root, base, build_queryd, log):
    """The baseline's queryd binary, built under root/<commit>/.

    build_queryd(source, build_dir) configures and builds a Release queryd
    and returns the binary's path, as it does for the current tree.
    """
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        if name != base["commit"]:
            shutil.rmtree(os.path.join(root, name))
    here = os.path.join(root, base["commit"])
    tree = os.path.join(here, "tree")
    if not os.path.isdir(tree):
        # Unpacked beside, renamed when whole: an interrupted unpack is not reused.
        partial = tree + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        archive = os.path.join(here, "tree.tar")
        git(repo, "archive", "--format=tar", "-o", archive, base["commit"])
        r = subprocess.run(["tar", "-xf", archive, "-C", partial], stderr=subprocess.PIPE)
        os.unlink(archive)
        if r.returncode != 0:
            raise BaselineError("unpacking %s: %s" % (base["short"], r.stderr.decode()[-2000:]))
        os.rename(partial, tree)
    log("building baseline queryd %s (Release) in %s"
        % (base["short"], os.path.relpath(here, repo)))
    return build_queryd(tree, os.path.join(here, "build"))


# ---- report -------------------------------------------------------------------

def rps(x):
    return "{:,.0f}".format(x)


def ms(x):
    return "%.2f" % x if x < 100 else "%.0f" % x


def ratio(a, b):
    return a / b if b else 0.0


def spread(ratios):
    """The range of per-round ratios: what a difference must exceed to count."""
    if len(ratios) < 2:
        return "— (one round)"
    lo, hi = min(ratios), max(ratios)
    return "%.2f–%.2f (±%.0f%%)" % (lo, hi, 50.0 * (hi - lo) / statistics.mean(ratios))


def cases_table(results, rounds, cases, pick):
    """Per case: both builds' req/s and latency, current / baseline per round."""
    lines = ["| case | current req/s | baseline req/s | current / baseline | per round "
             "| spread across rounds | p50 ms current / baseline | p99 ms current / baseline |",
             "|---|---:|---:|---:|---|---|---:|---:|"]
    for case in cases:
        cur = [pick(results, r, case.key, "queryd") for r in rounds]
        base = [pick(results, r, case.key, "baseline") for r in rounds]
        per = [ratio(c["rps"], b["rps"]) for c, b in zip(cur, base)]

        def mean(runs, key):
            return statistics.mean(x[key] for x in runs)
        lines.append("| %s %s, %d conn | %s | %s | **%.2f** | %s | %s | %s / %s | %s / %s |" % (
                         case.key, case.title, case.connections, rps(mean(cur, "rps")),
                         rps(mean(base, "rps")), ratio(mean(cur, "rps"), mean(base, "rps")),
                         ", ".join("%.2f" % x for x in per), spread(per),
                         ms(mean(cur, "p50_ms")), ms(mean(base, "p50_ms")),
                         ms(mean(cur, "p99_ms")), ms(mean(base, "p99_ms"))))
    return "\n".join(lines)


def ceilings_table(results, rounds, pairs, pick):
    """Each build's ratio to the same ceiling runs (ratio of means, per round)."""
    lines = ["| comparison | current / ceiling | baseline / ceiling | per round, current "
             "| per round, baseline |", "|---|---:|---:|---|---|"]
    for case, target, title, conns in pairs:
        ceil = [pick(results, r, case.ceiling_of, target)["rps"] for r in rounds]
        cells = []
        for side in ("queryd", "baseline"):
            runs = [pick(results, r, case.key, side)["rps"] for r in rounds]
            cells.append(("**%.2f**" % ratio(statistics.mean(runs), statistics.mean(ceil)),
                          ", ".join("%.2f" % ratio(a, b) for a, b in zip(runs, ceil))))
        lines.append("| %s (%d conn) vs %s (%d conn) | %s | %s | %s | %s |" % (
            case.key, case.connections, title, conns, cells[0][0], cells[1][0], cells[0][1],
            cells[1][1]))
    return "\n".join(lines)


def exports_table(exports):
    """Fast-reader exports of both builds (when the baseline exported too)."""
    keys = []  # (rows, format) in the order they ran
    for r in exports:
        if r["side"] == "baseline" and r["reader"] == "fast" and \
                (r["rows"], r["format"]) not in keys:
            keys.append((r["rows"], r["format"]))
    if not keys:
        return None
    lines = ["| rows | format | current rows/s | baseline rows/s | current / baseline "
             "| per round | spread across rounds | peak RSS MiB current / baseline |",
             "|---:|---|---:|---:|---:|---|---|---:|"]
    for rows, fmt in keys:
        def runs(side):
            return [r for r in exports if r["side"] == side and r["reader"] == "fast"
                    and r["rows"] == rows and r["format"] == fmt]
        cur, base = runs("queryd"), runs("baseline")
        per = [ratio(b["seconds"], c["seconds"]) for c, b in zip(cur, base)]
        c_rate = statistics.mean(rows / c["seconds"] for c in cur)
        b_rate = statistics.mean(rows / b["seconds"] for b in base)
        lines.append("| %s | %s | %s | %s | **%.2f** | %s | %s | %.1f / %.1f |" % (
            "{:,}".format(rows), fmt, rps(c_rate), rps(b_rate), ratio(c_rate, b_rate),
            ", ".join("%.2f" % x for x in per), spread(per),
            max(c["peak_rss_kb"] or 0 for c in cur) / 1024.0,
            max(b["peak_rss_kb"] or 0 for b in base) / 1024.0))
    return "\n".join(lines)


def mib(kb):
    return "—" if kb is None else "%.1f" % (kb / 1024.0)


def memory_line(memory):
    return "baseline queryd: idle RSS %s MiB, peak RSS %s MiB, pool after load %s" % (
        mib(memory.get("idle_rss_kb")), mib(memory.get("peak_rss_kb")),
        json.dumps(memory.get("pool_after")))


def report(base, results, rounds, cases, pairs, pick, exports, memory, with_exports):
    """The report's parts on the baseline: a "setup" line, a "memory" line, the
    "section" (list of markdown lines) and the "tables" to print as well."""
    tables = [cases_table(results, rounds, cases, pick),
              ceilings_table(results, rounds, pairs, pick)]
    d = exports_table(exports)
    section = [
        "## Current against the baseline\n",
        "Baseline: queryd at `%s` (`--baseline %s`: %s), built from its own tree the same "
        "Release way, run with the same configuration and environment against the same "
        "database. In every round each case runs against both builds back to back (which "
        "one goes first alternates from round to round), then against its ceilings, so "
        "drift of the machine hits both alike. current / baseline above 1: the current code "
        "serves more. A difference inside the spread across rounds is noise.\n"
        % (base["short"], base["rev"], base["subject"]),
        tables[0] + "\n", "Each build against the same ceiling runs:\n", tables[1] + "\n"]
    if d:
        section += ["Case D, fast reader, both builds (rows/s of the whole export):\n", d + "\n"]
        tables.append(d)
    setup = ("- baseline: queryd built at %s (and its twin with coalescing off) beside the "
             "current ones, built and run the same way; each queryd case runs against both, "
             "back to back, before its ceilings; case D %s" % (
                 base["short"], "against both" if with_exports else "against the current "
                 "build only (`--baseline-exports` adds the baseline)"))
    return {"setup": setup, "memory": "- " + memory_line(memory), "section": section,
            "tables": tables}
