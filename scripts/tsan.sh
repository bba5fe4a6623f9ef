#!/usr/bin/env bash
# The threaded kernels and the harness's threaded parts under ThreadSanitizer (the tsan preset: clang 14,
# OpenMP through LLVM's libomp with its Archer tool, oneTBB; build/tsan). Builds only what it runs:
#   - the tests of the OpenMP/oneTBB kernels, thread pinning and the phase recorder, 2 and 3 threads;
#   - `attnbench run --check` of every OpenMP/oneTBB kernel at --threads 2,3 on odd-sized problems;
#   - a canary (tests/tsan_canary.cpp): a planted race between work items that must be reported.
# Exits non-zero on any ThreadSanitizer report (in any process, child processes included; reports are
# left in build/tsan/reports/) or failed test. tests/tsan.supp lists the runtime-internal reports that are
# suppressed, each with its reason. MPI kernels are not run here (Open MPI is not instrumented).
#
#   scripts/tsan.sh [BUILD_DIR]      (default build/tsan, the preset's)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "tsan.sh: usage: scripts/tsan.sh [BUILD_DIR] (got $# arguments)" >&2; exit 2; }
build=${1:-build/tsan}
archer=/usr/lib/llvm-14/lib/libarcher.so  # LLVM 14's, like the preset's clang++-14
for need in clang++-14 "$archer"; do
  command -v "$need" >/dev/null || [ -e "$need" ] || {
    echo "tsan.sh: error: $need not found; run scripts/install-deps.sh (it installs clang and libomp-14-dev)" >&2; exit 2; }
done

cmake --preset tsan -B "$build" >/dev/null
tests=(test_blocked_kernels test_kernels test_baselines test_onednn test_thread_pinning test_profile)
cmake --build "$build" -j"$(nproc)" --target attnbench tsan_canary "${tests[@]}"

reports="$build/reports"
rm -rf "$reports" && mkdir -p "$reports"
# ignore_noninstrumented_modules: what libomp, libtbb, OpenBLAS and oneDNN do inside themselves is not
# instrumented (their own synchronisation is invisible to TSan); only attnbench's accesses are checked.
# Archer tells TSan about OpenMP's fork/join, barriers and tasks (it prints one line when it is active).
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp:ignore_noninstrumented_modules=1:second_deadlock_stack=1:log_path=$PWD/$reports/tsan"
export OMP_TOOL_LIBRARIES="$archer" ARCHER_OPTIONS=verbose=1

status=0
run() {  # a label, then the command; its output goes to $reports/<label>.log
  local label=$1; shift
  local start=$SECONDS
  if "$@" >"$reports/$label.log" 2>&1; then
    echo "tsan: $label ok ($((SECONDS - start)) s)"
  else
    echo "tsan: $label FAILED (exit $?); its output:" >&2
    tail -n 60 "$reports/$label.log" >&2
    status=1
  fi
}

# The kernel tests: the blocked, naive, oneDNN and baseline kernels at 2 and 3 threads (test_kernels: only
# the OpenMP/oneTBB kernels' cases), thread pinning of OpenMP and TBB pools, the phase recorder's slots.
run blocked_kernels "$build/tests/test_blocked_kernels"
run kernels "$build/tests/test_kernels" --gtest_filter='*_omp__*:*_tbb__*'
run baselines "$build/tests/test_baselines" --gtest_filter='-BaselineTorch.*'
run onednn "$build/tests/test_onednn"
run thread_pinning "$build/tests/test_thread_pinning"
run profile "$build/tests/test_profile"

# Every threaded kernel through the program, checked: attention with odd sizes, a padding mask, grouped
# heads, decode (split KV) and projections; the CNN and RNN baselines. 2 threads pinned (the OpenMP pool and
# the TBB arena's pinning observer) with cold caches (the flush runs on the OpenMP pool); 3 threads on 2
# cores (oversubscribed, so the work is shared out unevenly), unpinned.
measure=(--check --min-time 0 --min-reps 2 --max-reps 2 --warmup 0)
for threads in 2 3; do
  extra=(); [ "$threads" -eq 2 ] && extra=(--pin compact --cache cold)
  run "run_attention_t$threads" "$build/attnbench" run --kernel 'mha.*.omp,mha.*.tbb' --threads "$threads" \
    "${measure[@]}" "${extra[@]}" --problem b3_h5_hk1_sq37_skv53_d24_padding,b2_h3_sq1_skv301_d40_causal,b1_h4_sq45_d20_proj
  run "run_baselines_t$threads" "$build/attnbench" run --kernel 'cnn.*.omp,rnn.*.omp' --threads "$threads" \
    "${measure[@]}" "${extra[@]}" --batch 3 --seq 29 --model-dim 40
done

# The canary: a planted race between two work items of each executor must be reported, or the
# suppressions or the executor's annotations hide real races and this stage proves nothing.
for executor in omp tbb; do
  canary="$build/canary/$executor"
  rm -rf "$canary" && mkdir -p "$canary"
  TSAN_OPTIONS="${TSAN_OPTIONS%%:log_path=*}:log_path=$PWD/$canary/tsan" "$build/tests/tsan_canary" "$executor" >/dev/null 2>&1 || true
  if grep -qs "data race.*tsan_canary.cpp" "$canary"/tsan.*; then
    echo "tsan: canary ($executor executor) reported, as it must be"
  else
    echo "tsan: the planted race in tests/tsan_canary.cpp ($executor executor) was NOT reported: a suppression or annotation hides races" >&2
    status=1
  fi
done

found=$(find "$reports" -name 'tsan.*' | wc -l)
if [ "$found" -ne 0 ]; then
  echo "tsan: $found process(es) with ThreadSanitizer reports:" >&2
  for f in "$reports"/tsan.*; do grep -m1 -A3 "WARNING: ThreadSanitizer" "$f" >&2; echo "  (all of it: $f)" >&2; done
  status=1
fi
grep -qs "Archer detected" "$reports"/*.log || { echo "tsan: Archer was not loaded; OpenMP went unchecked" >&2; status=1; }
[ "$status" -eq 0 ] && echo "tsan: clean (no reports; suppressions used are listed with print_suppressions=1)"
exit $status
