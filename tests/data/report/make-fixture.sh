#!/usr/bin/env bash
# Regenerates the report tests' fixture: results.jsonl (a small but realistic results file) and
# machine-profile.json. Short measurements (6-7 repetitions, ~20 ms each case): the figures are real
# but rough; the tests check the report against whatever the records say, never against fixed values.
#   tests/data/report/make-fixture.sh [ATTNBENCH_EXE]     (default build/release/attnbench)
# What it covers: attention (naive, blocked, oneDNN) against CNN and RNN baselines on matched shapes
# (b1, D = 8 x 64 = 512, seq 64..1024), threaded kernels at 1 and 2 threads, heads and head-dim
# sweeps, decode (memory-bound), cases a kernel skips, and MPI kernels on 1 rank and under mpirun -n 2.
set -euo pipefail
exe=$(realpath "${1:-build/release/attnbench}")
cd "$(dirname "$0")"
out=results.jsonl
rm -f "$out"
measure=(--min-reps 6 --max-reps 7 --min-time 0.02 --max-time 0.3 --warmup 1)
seqs=b1_h8_sq64_skv64_d64,b1_h8_sq128_skv128_d64,b1_h8_sq256_skv256_d64,b1_h8_sq512_skv512_d64,b1_h8_sq1024_skv1024_d64
"$exe" calibrate --quick --threads 1,2 --out machine-profile.json
run() { "$exe" run --machine machine-profile.json --out "$out" "${measure[@]}" "$@"; }
# Attention vs CNN vs RNN on one thread, checked against the float64 reference.
run --kernel mha.naive.serial,mha.blocked.serial,mha.onednn.serial,cnn.conv1d.serial,rnn.lstm.serial,rnn.gru.serial \
    --problem "$seqs" --threads 1 --check
# Threaded kernels at 1 and 2 threads.
for t in 1 2; do run --kernel mha.blocked.omp,cnn.conv1d.omp,rnn.lstm.omp --problem "$seqs" --threads "$t"; done
# Heads and head-dim sweeps at seq 256 (h8 d64 is in the first run).
run --kernel mha.naive.serial,mha.blocked.serial --problem b1_h4_sq256_skv256_d64,b1_h16_sq256_skv256_d64 --threads 1
run --kernel mha.naive.serial,mha.blocked.serial --problem b1_h8_sq256_skv256_d32,b1_h8_sq256_skv256_d128 --threads 1
# Decode: one query row against long keys (memory-bound).
run --kernel mha.naive.serial,mha.blocked.serial --problem b1_h8_sq1_skv4096_d64,b1_h8_sq1_skv16384_d64 --threads 1
# Additive scores: oneDNN skips them (a skipped record with its reason).
run --kernel 'mha.onednn.*,mha.blocked.serial' --heads 8 --head-dim 64 --seq 128 --score additive --threads 1
# MPI kernels on one rank (no launcher), then on two ranks beside the serial blocked kernel.
mpi=b1_h8_sq256_skv256_d64,b1_h8_sq512_skv512_d64,b1_h8_sq1024_skv1024_d64
run --kernel mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi --problem "$mpi" --threads 1
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n 2 --bind-to none \
    "$exe" run --machine machine-profile.json --out "$out" "${measure[@]}" \
    --kernel mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi --problem "$mpi" --threads 1
wc -c "$out" machine-profile.json
