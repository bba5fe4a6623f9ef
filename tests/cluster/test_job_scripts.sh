#!/usr/bin/env bash
# The sweep job scripts on this host alone, no root needed: --help, bad parameters refused with exit 2
# and a message, the launch lines they build (binding, geometry), and a real mpirun sweep of two ranks
# whose second step fails: the first step's records stay, the summary names the failure, exit 1.
#   bash test_job_scripts.sh ATTNBENCH
set -euo pipefail
# shellcheck source=tests/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command -v mpirun >/dev/null 2>&1 || skip "mpirun not found (scripts/install-deps.sh installs Open MPI)"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
allow_mpi_as_root
unset SLURM_JOB_ID SLURM_JOB_NUM_NODES SLURMD_NODENAME  # this test is about running outside Slurm
SBATCH=$SOURCE_DIR/scripts/slurm/attnbench-sweep.sbatch
MPIRUN=$SOURCE_DIR/scripts/mpirun-sweep.sh
work=$(mktemp -d /tmp/attnbench-test-jobs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# expect_exit CODE PATTERN COMMAND...: COMMAND exits CODE and its output matches PATTERN (grep -E).
expect_exit() {
  local code=$1 pattern=$2 out rc=0
  shift 2
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" -eq "$code" ] || fail "exit $rc, expected $code: $*"$'\n'"$out"
  grep -qE -- "$pattern" <<< "$out" || fail "output lacks /$pattern/: $*"$'\n'"$out"
}

common=(--attnbench "$ATTNBENCH" --kernels mha.blocked.omp --problems b1_h4_sq67_d24)
for script in "$SBATCH" "$MPIRUN"; do
  expect_exit 0 "Exit status" "$script" --help
  expect_exit 2 "no kernels" "$script" --attnbench "$ATTNBENCH" --problems b1_h4_sq67_d24 --dry-run --nodes 1
  expect_exit 2 "no problems" "$script" --attnbench "$ATTNBENCH" --kernels mha.blocked.omp --dry-run --nodes 1
  expect_exit 2 "'mha.nosuch' matches no registered kernel" "$script" --attnbench "$ATTNBENCH" \
    --kernels mha.nosuch --problems b1_h4_sq67_d24 --dry-run --nodes 1
  expect_exit 2 "--threads: '0' is not a positive" "$script" "${common[@]}" --threads 0 --dry-run --nodes 1
  expect_exit 2 "--ranks-per-node: 'x' is not a positive" "$script" "${common[@]}" --ranks-per-node x --dry-run --nodes 1
  expect_exit 2 "unknown option '--bogus'" "$script" "${common[@]}" --bogus
  expect_exit 2 "results go to the run directory" "$script" "${common[@]}" --dry-run --nodes 1 -- --out x.jsonl
  expect_exit 2 "give --threads to" "$script" "${common[@]}" --dry-run --nodes 1 -- --threads 3
  expect_exit 2 "attnbench not found" "$script" --attnbench "$work/none" --kernels a --problems b --dry-run --nodes 1
  expect_exit 2 "cannot read" "$script" "${common[@]}" --problems-file "$work/none" --dry-run --nodes 1
done
expect_exit 2 "not inside a Slurm job: submit with 'sbatch" "$SBATCH" "${common[@]}"
expect_exit 2 "--bind 'tight': use core or none" "$MPIRUN" "${common[@]}" --bind tight
expect_exit 2 "--hostfile: cannot read" "$MPIRUN" "${common[@]}" --hostfile "$work/none"
expect_exit 2 "--nodes 2: without --hostfile" "$MPIRUN" "${common[@]}" --nodes 2
expect_exit 2 "needs $(( $(nproc) + 1 )) cores" "$MPIRUN" "${common[@]}" --threads $(( $(nproc) + 1 ))
mkdir -p "$work/used" && touch "$work/used/results.jsonl"
expect_exit 2 "already holds files" "$MPIRUN" "${common[@]}" --threads 1 --run-dir "$work/used"

# The launch lines: every combination of the lists, with the binding that matches the geometry.
printf 'b1_h2_sq9_d8  # a comment\n\nb1_h2_sq9_d8_causal\n' > "$work/problems.txt"
out=$("$SBATCH" "${common[@]}" --problems-file "$work/problems.txt" --nodes 1,2 --ranks-per-node 2 --threads 4 --dry-run)
[ "$(grep -c '^srun ' <<< "$out")" -eq 6 ] || fail "2 node counts x 3 problems should make 6 steps:"$'\n'"$out"
grep -q -- "^srun --mpi=pmix --nodes=2 --ntasks=4 --ntasks-per-node=2 --cpus-per-task=4 --cpu-bind=verbose,cores --kill-on-bad-exit=1 $ATTNBENCH run --kernel mha.blocked.omp --problem b1_h2_sq9_d8 --threads 4 --out " <<< "$out" ||
  fail "unexpected srun line:"$'\n'"$out"
out=$("$MPIRUN" "${common[@]}" --ranks-per-node 1,2 --threads 1 --dry-run --launcher-arg=--oversubscribe)
grep -q -- "^mpirun -np 2 -x OMP_NUM_THREADS --map-by ppr:2:node:PE=1 --bind-to core --report-bindings -x OMP_PLACES -x OMP_PROC_BIND --oversubscribe $ATTNBENCH run " <<< "$out" ||
  fail "unexpected mpirun line:"$'\n'"$out"

# A real sweep of two ranks on this host; the second problem is malformed, so its step fails alone.
rc=0
"$MPIRUN" --attnbench "$ATTNBENCH" --kernels "$(test_kernel_patterns "$ATTNBENCH")" --problems b1_h4_sq67_d24,b1_h4_sqX \
  --ranks-per-node 2 --threads 1 --run-dir "$work/run" -- "${TEST_RUN_ARGS[@]}" > "$work/sweep.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a sweep with a failing step exited $rc, expected 1:"$'\n'"$(cat "$work/sweep.log")"
IFS=, read -r -a kernel_list <<< "$(test_kernel_ids "$ATTNBENCH")"
python3 "$SOURCE_DIR/tests/cluster/check_records.py" "$work/run/results.jsonl" --records "${#kernel_list[@]}" \
  --ranks 2 --hosts "$(hostname)"
grep -q "^Steps: 2 (1 exited 0, 1 failed)" "$work/run/summary.txt" || fail "summary.txt:"$'\n'"$(cat "$work/run/summary.txt")"
grep -q "bound to" "$work"/run/steps/001-*.err || fail "the step's .err lacks mpirun's binding report"
grep -q "b1_h4_sqX" "$work"/run/steps/002-*.err || fail "the failing step's .err does not name the bad problem"
for f in command.txt environment.txt steps.tsv summary.txt; do [ -s "$work/run/$f" ] || fail "run directory lacks $f"; done
echo "$TEST_NAME: passed in $SECONDS s"
