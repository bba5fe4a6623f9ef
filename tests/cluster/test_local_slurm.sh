#!/usr/bin/env bash
# A real Slurm cluster on this machine (its own munged, slurmctld, slurmd nodes n1 and n2), the sweep
# job script submitted with sbatch across both nodes (srun --mpi=pmix, two ranks per node, the sweep's
# shape taken from the allocation), and its records checked: every case from ranks on n1 and n2
# (rank_hosts [0,0,1,1]), correct, tagged with the job; then the same with the mpirun variant inside
# an allocation. The cluster is torn down whatever happens (trap, and a reaper should this script be
# killed).
#   bash test_local_slurm.sh ATTNBENCH
set -euo pipefail
# shellcheck source=tests/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_cluster_script local-slurm.sh
require_root_and_tools sbatch python3

work=$(mktemp -d /tmp/attnbench-test-slurm.XXXXXX)
chmod 755 "$work"
tear_down() { "$SOURCE_DIR/scripts/cluster/local-slurm.sh" down "$work/cluster"; }
trap 'finish_cluster_test $? "$work" "$work"/*job.out "$work"/*run/summary.txt "$work"/*run/steps/*.err "$work"/cluster/log/*.log' EXIT
trap 'exit 130' INT TERM

"$SOURCE_DIR/scripts/cluster/local-slurm.sh" up "$work/cluster" --owner $$
# shellcheck source=/dev/null  # written by local-slurm.sh up, just above
source "$work/cluster/env"
kernels=$(test_kernel_patterns "$ATTNBENCH")
kernel_ids=$(test_kernel_ids "$ATTNBENCH")
IFS=, read -r -a kernel_list <<< "$kernel_ids"
IFS=, read -r -a problem_list <<< "$TEST_PROBLEMS"

# Two nodes x two ranks x one core each (the nodes share this machine's two cores, so one rank per
# node would pin both to the same core). The ranks on the two nodes share a host name, so shared
# memory between them is off (DIR/env: TCP only). Job 1: the sbatch job script (srun steps); job 2,
# queued behind it: the mpirun variant inside an allocation, one problem.
job=$(cd "$work" && sbatch --parsable -N 2 --ntasks-per-node=2 --cpus-per-task=1 --time=5 --output="$work/job.out" \
        "$SOURCE_DIR/scripts/slurm/attnbench-sweep.sbatch" --kernels "$kernels" --problems "$TEST_PROBLEMS" \
        --run-dir "$work/run" --attnbench "$ATTNBENCH" -- "${TEST_RUN_ARGS[@]}")
allow_mpi_as_root
mpirun_problem=${problem_list[0]}
mpirun_job=$(cd "$work" && sbatch --parsable -N 2 --ntasks-per-node=2 --cpus-per-task=1 --time=5 \
        --output="$work/mpirun-job.out" --wrap "$(printf '%q ' "$SOURCE_DIR/scripts/mpirun-sweep.sh" \
        --ranks-per-node 2 --threads 1 --kernels "$kernels" --problems "$mpirun_problem" --run-dir "$work/mpirun-run" \
        --attnbench "$ATTNBENCH" -- "${TEST_RUN_ARGS[@]}")")
echo "$TEST_NAME: cluster up, jobs $job and $mpirun_job submitted after $SECONDS s: $kernels on $TEST_PROBLEMS"

# Waits for a job, until at most 200 s into the test (both jobs take about 40 s each on a quiet machine; the
# sanitizer build on a loaded one needed more than 80 s for the second); fails
# unless it completed with exit 0.
wait_for_job() {
  local id=$1 deadline=200 state="" exit_code
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(scontrol show job "$id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$state" in PENDING|RUNNING|CONFIGURING|COMPLETING|"") sleep 0.5 ;; *) break ;; esac
  done
  exit_code=$(scontrol show job "$id" | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p')
  { [ "$state" = COMPLETED ] && [ "$exit_code" = 0:0 ]; } ||
    fail "job $id ended $state (exit $exit_code) after $SECONDS s; expected COMPLETED with exit 0"
  echo "$TEST_NAME: job $id finished after $SECONDS s"
}

wait_for_job "$job"
echo "steps (seconds in column 7):"
cat "$work/run/steps.tsv"
python3 "$SOURCE_DIR/tests/cluster/check_records.py" "$work/run/results.jsonl" \
  --records $(( ${#kernel_list[@]} * ${#problem_list[@]} )) --ranks 4 --hosts n1,n2 --kernels "$kernel_ids" \
  --slurm-job "$job"

# The run directory documents the run: the exact commands, the environment, each step, the summary.
grep -q -- "srun --mpi=pmix --nodes=2 --ntasks=4 --ntasks-per-node=2 --cpus-per-task=1 --cpu-bind=verbose,cores" \
  "$work/run/command.txt" || fail "command.txt lacks the srun line"
grep -qx "SLURM_JOB_ID=$job" "$work/run/environment.txt" || fail "environment.txt lacks SLURM_JOB_ID=$job"
[ "$(tail -n +2 "$work/run/steps.tsv" | awk -F'\t' '$6 == 0' | wc -l)" -eq ${#problem_list[@]} ] ||
  fail "steps.tsv does not show ${#problem_list[@]} steps exiting 0"
grep -q "cpu-bind" "$work"/run/steps/001-*.err || fail "the step's .err lacks srun's binding report"
grep -q "^Hosts: n1, n2" "$work/run/summary.txt" || fail "summary.txt does not name hosts n1, n2"

# mpirun inside the allocation takes its nodes from Slurm.
wait_for_job "$mpirun_job"
python3 "$SOURCE_DIR/tests/cluster/check_records.py" "$work/mpirun-run/results.jsonl" \
  --records "${#kernel_list[@]}" --ranks 4 --hosts n1,n2 --kernels "$kernel_ids" --slurm-job "$mpirun_job"
echo "$TEST_NAME: passed in $SECONDS s"
