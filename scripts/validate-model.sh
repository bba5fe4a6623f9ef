#!/usr/bin/env bash
# Validates the performance model (attnbench project) against the MPI kernels on this machine:
# calibrates the 2-rank network, measures the blocked kernel and mha.{tp,ring,ulysses}.mpi at
# P = 1, 2 and 4 ranks (4 oversubscribes a 2-core machine: the model says why it is off there), and
# prints predicted vs measured with the error. Everything lands in one run directory.
#
#   scripts/validate-model.sh [PROBLEM[,PROBLEM...]]     default b1_h16_sq4096_d64,b1_h16_sq4096_d64_causal
#   ATTNBENCH=build/release/attnbench OUT=results/validate-x scripts/validate-model.sh
#
# Exit status: that of `attnbench project --validate` (1 when a non-oversubscribed P > 1 case is off
# by more than --tolerance, 25% by default), or 2 on bad input.
set -euo pipefail

exe=${ATTNBENCH:-build/release/attnbench}
problems=${1:-b1_h16_sq4096_d64,b1_h16_sq4096_d64_causal}
out=${OUT:-results/validate-$(date -u +%Y%m%dT%H%M%SZ)}
ranks=${RANKS:-"2 4"}
kernels=mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi
[[ -x $exe ]] || { echo "validate-model.sh: $exe not found; build first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
[[ $ranks =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || { echo "validate-model.sh: RANKS '$ranks': give rank counts separated by spaces, e.g. '2 4'" >&2; exit 2; }
# Absolute paths: mpirun, mkdir and tee would read a relative one that starts with '-' as an option.
[[ $exe == /* ]] || exe=$PWD/$exe
[[ $out == /* ]] || out=$PWD/$out
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

echo "== load before: $(uptime)" | tee "$out/load.txt"
mpirun -np 2 --bind-to none "$exe" calibrate --threads 1 --out "$out/profile.json"
# One rank: the single-rank rates the model starts from, and each MPI kernel at P = 1.
"$exe" run --kernel "mha.blocked.serial,$kernels" --problem "$problems" --threads 1 --out "$out/records.jsonl"
for p in $ranks; do  # split on purpose: a list of rank counts, checked above
  mpirun -np "$p" --oversubscribe --bind-to none "$exe" run --kernel "$kernels" --problem "$problems" --threads 1 \
    --out "$out/records.jsonl"
done
echo "== load after: $(uptime)" | tee -a "$out/load.txt"
"$exe" project --validate "$out/records.jsonl" --machine "$out/profile.json" --network calibrated \
  --out "$out/validation.jsonl"
