#!/usr/bin/env bash
# Builds and runs every test (GoogleTest unit and CLI tests, the Google Benchmark smoke test) with ctest.
#
#   scripts/test.sh            the release preset
#   scripts/test.sh asan       AddressSanitizer + UndefinedBehaviorSanitizer (also: debug)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
case "$preset" in release|debug|asan|release-portable) ;; *)
  echo "test.sh: unknown preset '$preset' (use release, debug, asan or release-portable)" >&2; exit 2 ;;
esac

scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
# --output-on-failure: a failing test's output lands in the log (CI keeps nothing else).
# --repeat until-pass:2: the MPI and cluster tests time real processes on shared 2-core machines; a test
# must fail twice in a row to fail the run, and the first failure's output is still printed above.
ctest --preset "$preset" -j"$(nproc)" --output-on-failure --repeat until-pass:2
