#!/usr/bin/env python3
"""Checks a sweep's results.jsonl for the cluster tests; prints what is wrong and exits 1.

    check_records.py RESULTS --records N --ranks R[,R...] --hosts h1,h2 [--kernels a,b] [--slurm-job ID]

Every record must: be one (kernel, problem, launch size) case, each exactly once; come from a launch
of one of the R ranks (provenance.ranks; when ok, the record's own ranks is that for MPI kernels, 1
for the others, which run on rank 0 alone) whose provenance names exactly the given hosts, the ranks placed in
blocks, the same number on each host in rank order (provenance.hosts, provenance.nodes,
provenance.rank_hosts); be ok with a passed correctness check, or skipped with a reason; with
--slurm-job, carry that job id. At least one record must be ok.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description="check a sweep's records (cluster tests)")
    ap.add_argument("results")
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--ranks", required=True, help="comma-separated launch sizes")
    ap.add_argument("--hosts", required=True, help="comma-separated, in order of their lowest rank")
    ap.add_argument("--kernels", default="", help="comma-separated kernel ids every case must come from")
    ap.add_argument("--slurm-job", default=None, help="the Slurm job id every record must name")
    args = ap.parse_args()
    hosts = args.hosts.split(",")
    launch_sizes = {int(r) for r in args.ranks.split(",")}
    errors = []
    with open(args.results) as f:
        records = [json.loads(line) for line in f if line.strip()]
    if len(records) != args.records:
        errors.append(f"{len(records)} records, expected {args.records}")
    cases = [(r.get("kernel"), r.get("problem_str"), r.get("provenance", {}).get("ranks")) for r in records]
    if len(set(cases)) != len(cases):
        errors.append(f"a (kernel, problem, ranks) case appears twice: {cases}")
    kernels = set(args.kernels.split(",")) if args.kernels else None
    ok = 0
    for r in records:
        where = f"{r.get('kernel')} on {r.get('problem_str')}"
        prov = r.get("provenance", {})
        if kernels is not None and r.get("kernel") not in kernels:
            errors.append(f"{where}: kernel not among {sorted(kernels)}")
        launched = prov.get("ranks")
        if launched not in launch_sizes:
            errors.append(f"{where}: provenance.ranks {launched}, expected one of {sorted(launch_sizes)}")
            continue
        where += f" on {launched} ranks"
        # An MPI kernel (backend "mpi") runs on every rank; any other kernel on rank 0 alone (docs/RESULTS.md).
        kernel_ranks = launched if str(r.get("kernel", "")).endswith(".mpi") else 1
        if r.get("status") == "ok" and r.get("ranks") != kernel_ranks:
            errors.append(f"{where}: record ranks {r.get('ranks')}, expected {kernel_ranks}")
        if prov.get("hosts") != hosts or prov.get("nodes") != len(hosts):
            errors.append(f"{where}: provenance.hosts {prov.get('hosts')} nodes {prov.get('nodes')}, expected {hosts}")
        if args.slurm_job is not None and prov.get("slurm_job_id") != args.slurm_job:
            errors.append(f"{where}: provenance.slurm_job_id {prov.get('slurm_job_id')}, expected {args.slurm_job}")
        per_host = launched // len(hosts)
        blocks = [rank // per_host for rank in range(launched)] if per_host else None
        if prov.get("rank_hosts") != blocks:
            errors.append(f"{where}: provenance.rank_hosts {prov.get('rank_hosts')}, expected {blocks}")
        status = r.get("status")
        if status == "ok":
            ok += 1
            check = r.get("check")
            if not check or not check.get("passed"):
                errors.append(f"{where}: ok but the correctness check did not pass: {check}")
            if not r.get("time"):
                errors.append(f"{where}: ok but not timed")
        elif status == "skipped":
            if not r.get("reason"):
                errors.append(f"{where}: skipped without a reason")
        else:
            errors.append(f"{where}: status {status}: {r.get('reason')}")
    if ok == 0:
        errors.append("no record is ok")
    for e in errors:
        print(f"check_records: {e}", file=sys.stderr)
    if not errors:
        print(f"check_records: {len(records)} records ({ok} ok) from {args.ranks} ranks on {', '.join(hosts)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
