#!/usr/bin/env bash
# The default benchmark: installs what is missing, builds the release preset, then sweeps the `default`
# preset (harness/inputs/default.cfg: each family's best kernels, with the naive and oneDNN attention as
# reference points, on BERT-base/GPT-2-small width at seq 128, 512 and 2048, encoder and causal), every
# case checked against the float64 reference, one line per finished case, records appended to
# results/default-<UTC time>.jsonl, and a report of them in results/default-<UTC time>-report/.
# Minutes on a 2-core machine (under 15).
#
#   scripts/bench.sh [extra 'attnbench sweep' options, e.g. --threads 1 or --kernel 'mha.*']
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

mkdir -p results
stem="results/default-$(date -u +%Y%m%dT%H%M%SZ)"
status=0
./build/release/attnbench sweep --preset default --out "$stem.jsonl" "$@" || status=$?
# A report of whatever was measured, even after a failed case or Ctrl-C (130: resume as printed above).
if [ -s "$stem.jsonl" ]; then
  ./build/release/attnbench report "$stem.jsonl" -o "$stem-report" >/dev/null
  echo "Report: $stem-report/report.html (and report.md, summary.csv)"
fi
echo "Results: $stem.jsonl (one JSON record per line; schema in docs/RESULTS.md)"
exit $status
