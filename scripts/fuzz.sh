#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang + ASan + UBSan) and runs each for a bounded time,
# starting from the checked-in seed corpus (tests/fuzz/corpus/<target>/, never modified here; inputs
# the fuzzer finds go to build/fuzz/corpus/). A crash stops with a non-zero exit and the command that
# reproduces it; add the crashing input to the seed corpus with the fix, so it stays a regression test.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: error: SECONDS_PER_TARGET must be a positive whole number (got '$seconds')" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "fuzz.sh: error: clang++ not found; run scripts/install-deps.sh (it installs clang and libclang-rt)" >&2; exit 2; }

build=build/fuzz
cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

status=0
for target in problem_string sweep_axes npy results_file gbench_json; do
  corpus="$build/corpus/$target" artifacts="$build/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  echo "fuzz: $target for ${seconds} s"
  # -rss_limit_mb: the readers must refuse huge declared sizes, never allocate them.
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
         -artifact_prefix="$artifacts" "$corpus" "tests/fuzz/corpus/$target" 2>"$build/$target.log"; then
    tail -n 40 "$build/$target.log" >&2
    echo "fuzz: $target FAILED; reproduce with: $build/fuzz_$target $artifacts<crash-file>" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$target.log" | sed "s/^/fuzz: $target /" || true
done
exit $status
