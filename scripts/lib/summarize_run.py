#!/usr/bin/env python3
"""Summary of a sweep's run directory (scripts/lib/sweep.sh): the steps, then one line per record.

    summarize_run.py RUN_DIR

Reads RUN_DIR/steps.tsv and RUN_DIR/results.jsonl (schema: docs/RESULTS.md); a torn last line left by
a killed run is skipped, as every reader of results files does. Standard library only, so it runs
on any cluster's python3.
"""
import csv
import json
import sys
from collections import Counter
from pathlib import Path


def read_records(path):
    records, torn = [], 0
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                torn += 1
    return records, torn


def read_steps(path):
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def fmt_seconds(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def record_row(r):
    prov = r.get("provenance", {})
    time = r.get("time") or {}
    rate = r.get("rate") or {}
    check = r.get("check")
    err = f"{check['max_rel_error']:.1e}" if check else "-"
    if check and not check.get("passed", False):
        err += " FAIL"
    status = r.get("status", "?") + (f": {r['reason']}" if r.get("reason") else "")
    if len(status) > 72:  # the full reason is in the record
        status = status[:71] + "..."
    gflops = rate.get("gflops")
    return [r.get("problem_str", "?"), r.get("kernel", "?"), str(prov.get("nodes", "?")), str(r.get("ranks", "?")),
            str(r.get("threads", "?")), fmt_seconds(time.get("median_s")),
            "-" if gflops is None else f"{gflops:.3g}", err, ",".join(prov.get("hosts", [])), status]


def table(header, rows):
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if len(argv) != 2 else sys.stdout)
        return 0 if len(argv) == 2 else 2
    run = Path(argv[1])
    if not run.is_dir():
        print(f"summarize_run.py: '{run}' is not a directory", file=sys.stderr)
        return 2
    steps = read_steps(run / "steps.tsv")
    records, torn = read_records(run / "results.jsonl")

    failed_steps = [s for s in steps if s["exit"] != "0"]
    print(f"Run directory: {run.resolve()}")
    print(f"Steps: {len(steps)} ({len(steps) - len(failed_steps)} exited 0, {len(failed_steps)} failed)")
    for s in failed_steps:
        print(f"  step {s['step']} ({s['nodes']} node(s) x {s['ranks_per_node']} rank(s) x {s['threads']} thread(s),"
              f" {s['problem']}) exited {s['exit']}: see steps/ for its .err")
    statuses = Counter(r.get("status", "?") for r in records)
    checks = [r["check"] for r in records if r.get("check")]
    failed_checks = sum(1 for c in checks if not c.get("passed", False))
    print(f"Records: {len(records)} in results.jsonl (" + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
          + f"); checks: {len(checks) - failed_checks} passed, {failed_checks} failed"
          + (f"; {torn} torn line(s) skipped" if torn else ""))
    hosts = sorted({h for r in records for h in r.get("provenance", {}).get("hosts", [])})
    print(f"Hosts: {', '.join(hosts) if hosts else '-'}")
    print()
    header = ["problem", "kernel", "nodes", "ranks", "threads", "median", "GFLOP/s", "check", "hosts", "status"]
    print(table(header, [record_row(r) for r in records]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
