#!/usr/bin/env bash
# The MPI kernels' speed-up over one rank, measured side by side: ROUNDS runs of
#   mpirun -n RANKS attnbench run --kernel mha.tp.mpi,mha.ring.mpi,mha.blocked.serial --threads 1 ...
# (the kernel order reversed every other round), each round giving one ratio per (problem, mpi kernel):
# mha.blocked.serial's median (rank 0 alone, the others asleep) over the mpi kernel's median (RANKS
# ranks x 1 thread). Prints the median ratio over rounds, its range, and the load average before and
# after; the records stay in OUT_DIR.
#
# usage: scripts/mpi-speedup.sh [ATTNBENCH] [OUT_DIR]     env: ROUNDS (5) RANKS (2) PROBLEMS (below)
set -euo pipefail
attnbench=${1:-build/release/attnbench}
out=${2:-results/mpi-speedup-$(date -u +%Y%m%dT%H%M%SZ)}
rounds=${ROUNDS:-5}
ranks=${RANKS:-2}
problems=${PROBLEMS:-b1_h16_sq4096_d64,b1_h16_sq4096_d64_causal}
[[ -x $attnbench ]] || { echo "mpi-speedup.sh: no attnbench at '$attnbench' (build it, or pass its path)" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ && $ranks =~ ^[1-9][0-9]*$ ]] || { echo "mpi-speedup.sh: ROUNDS and RANKS must be positive whole numbers (got '$rounds', '$ranks')" >&2; exit 2; }
# Absolute paths: mpirun and mkdir would read a relative one that starts with '-' as an option.
[[ $attnbench == /* ]] || attnbench=$PWD/$attnbench
[[ $out == /* ]] || out=$PWD/$out
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
flags=(); ((ranks > $(nproc))) && flags=(--oversubscribe)
cut -d' ' -f1-3 /proc/loadavg > "$out/load-before.txt"
for ((i = 0; i < rounds; i++)); do
  kernels=mha.tp.mpi,mha.ring.mpi,mha.blocked.serial
  ((i % 2)) && kernels=mha.blocked.serial,mha.ring.mpi,mha.tp.mpi
  mpirun -n "$ranks" "${flags[@]}" "$attnbench" run --kernel "$kernels" --threads 1 --problem "$problems" \
      --warmup 1 --min-reps 3 --min-time 0 --out "$out/round-$i.jsonl" > "$out/round-$i.txt"
  echo "round $((i + 1))/$rounds done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
cut -d' ' -f1-3 /proc/loadavg > "$out/load-after.txt"
/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ratios = {}
for i in range(rounds):
    med = {}
    for line in open(f"{out}/round-{i}.jsonl"):
        r = json.loads(line)
        if r["status"] == "ok":
            med[(r["problem_str"], r["kernel"])] = (r["time"]["median_s"], r)
    for (prob, kernel), (t, r) in med.items():
        base = med.get((prob, "mha.blocked.serial"))
        if kernel.endswith(".mpi") and base:
            ratios.setdefault((prob, kernel), []).append((base[0] / t, t, base[0], r))
print(f"load before: {open(out + '/load-before.txt').read().strip()}   after: {open(out + '/load-after.txt').read().strip()}")
print(f"{'problem':34} {'kernel':14} {'speed-up':>9} {'range':>13} {'mpi s':>7} {'1-rank s':>8} {'comm s':>7} {'imbal.':>6}")
for (prob, kernel), v in sorted(ratios.items()):
    s = [x[0] for x in v]
    last = v[-1][3]
    print(f"{prob:34} {kernel:14} {statistics.median(s):8.2f}x {min(s):6.2f}-{max(s):5.2f}x "
          f"{statistics.median(x[1] for x in v):7.3f} {statistics.median(x[2] for x in v):8.3f} "
          f"{last['comm']['seconds']:7.4f} {last['rank_time']['imbalance'] if last['rank_time'] else 1:6.3f}")
PY
