#!/usr/bin/env bash
# The default benchmark: installs what is missing, builds the release preset, then runs every
# registered kernel side by side on a few model-derived shapes with a correctness check, printing a
# table and appending records to results/default-<UTC time>.jsonl. A few minutes on a 2-core machine.
#
#   scripts/bench.sh [extra 'attnbench run' options, e.g. --threads 4 or --kernel mha.naive.*]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"

# Shapes, and the model each comes from:
PROBLEMS=(
  b1_h12_sq512_d64             # BERT-base encoder layer: 12 heads x 64, 512 tokens
  b4_h12_sq256_d64_padding     # BERT-base, a padded batch of 4 sequences (random valid lengths)
  b1_h12_sq1024_d64_causal     # GPT-2 small prefill: 12 heads, 1024-token context
  b1_h12_sq1_skv1024_d64       # GPT-2 small decode: one new token against a 1024-entry KV cache
  b1_h12_sq256_d64_proj        # BERT-base attention module incl. Q/K/V/O projections (768 wide)
)
mkdir -p results
out="results/default-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
problems=$(IFS=,; echo "${PROBLEMS[*]}")
./build/release/attnbench run --kernel all --problem "$problems" --check --out "$out" "$@"
echo
echo "Results: $out (one JSON record per line; schema in docs/RESULTS.md)"
