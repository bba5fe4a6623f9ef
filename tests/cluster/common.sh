# shellcheck shell=bash disable=SC2034  # the variables are for the tests that source this
# Shared by the tests of the cluster and job scripts (tests/cluster/test_*.sh; test_hostile_paths.sh
# drives every script in scripts/): skipping, the kernels under test, failing with the evidence. Each test is `bash test_X.sh ATTNBENCH` and exits 0 passed, 1 failed, 77 skipped.
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=$(basename "$0" .sh)

# Skips (ctest SKIP_RETURN_CODE 77) with the reason; where CI has installed everything it sets
# ATTNBENCH_REQUIRE_CLUSTER_TESTS=1 and a skip becomes a failure, so these tests cannot silently vanish.
skip() {
  if [ "${ATTNBENCH_REQUIRE_CLUSTER_TESTS:-0}" = 1 ]; then
    echo "$TEST_NAME: FAILED: cannot run ($*) but ATTNBENCH_REQUIRE_CLUSTER_TESTS=1" >&2
    exit 1
  fi
  echo "$TEST_NAME: SKIPPED: $*"
  exit 77
}

fail() { echo "$TEST_NAME: FAILED: $*" >&2; exit 1; }

# shellcheck source=scripts/lib/cluster.sh
source "$SOURCE_DIR/scripts/lib/cluster.sh"
# Skips unless root and the tools are there (the check the cluster scripts make).
require_root_and_tools() {
  local missing
  missing=$(cl_missing "$@")
  [ -z "$missing" ] || skip "$missing"
}

# Skips unless the cluster script (local-slurm.sh, netns-hosts.sh) says this machine can run it.
require_cluster_script() {
  local reason
  reason=$("$SOURCE_DIR/scripts/cluster/$1" check 2>&1) || skip "$reason"
}

# The EXIT trap of a test that brings a cluster up in its work directory WORK:
#   trap 'finish_cluster_test $? "$work" FILE...' EXIT
# tears the cluster down with the test's tear_down function (its failure fails the test), shows the
# end of each FILE that exists when the test failed, removes WORK and exits with the test's status.
finish_cluster_test() {
  local status=$1 work=$2 f
  shift 2
  tear_down > /dev/null 2>&1 || status=1
  if [ "$status" -ne 0 ]; then
    for f in "$@"; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}

# In the sanitizer build, Open MPI's runtime keeps allocations until exit, many of them inside
# components it unloads at MPI_Finalize: suppress those (tests/lsan-openmpi.supp, which needs the full
# unwinder to see through the unloaded code) and keep checking everything else. Uninstrumented builds
# ignore it.
export LSAN_OPTIONS="suppressions=$SOURCE_DIR/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Open MPI refuses to run as root without these.
allow_mpi_as_root() {
  [ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
}

# The kernels the tests sweep: the fastest single-node kernel under every rank, and every MPI kernel
# registered. As a --kernels value (a glob, so a kernel that cannot split a problem across this many
# ranks is skipped with its reason rather than refused), and as the ids the records will carry.
test_kernel_patterns() {
  if [[ ",$(test_kernel_ids "$1")," == *.mpi,* ]]; then echo 'mha.blocked.omp,mha.*.mpi'
  else echo mha.blocked.omp; fi
}
test_kernel_ids() {
  "$1" list --json | grep -o '"id": *"[^"]*"' | cut -d'"' -f4 |
    awk '$0 == "mha.blocked.omp" || /^mha\..*\.mpi$/' | paste -sd, -
}

# Sizes that are no multiple of any tile, grouped-query and causal, small enough for seconds.
TEST_PROBLEMS=b1_h4_sq67_d24,b2_h4_hk2_sq45_d24_causal
# What every `attnbench run` of the tests gets: checked against the float64 reference, timed briefly
# (these tests are about launching and provenance, not timing; the ranks share two cores).
TEST_RUN_ARGS=(--check --min-time 0 --min-reps 2 --warmup 0)

# The test's one argument, the attnbench program, as an absolute path (as the job scripts record it).
{ [ $# -ge 1 ] && [ -x "$1" ]; } || { echo "usage: bash $0 ATTNBENCH (the built program)" >&2; exit 2; }
ATTNBENCH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
