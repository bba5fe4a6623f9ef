#pragma once
/// \file cost_model.hpp
/// Exact operation and byte counts as functions of the descriptor. The formulas are documented in
/// docs/SEMANTICS.md ("Cost model"); every result record's rates are derived from these.
///
/// Conventions: a multiply-add is 2 flops; a bias add is 1; softmax (max, exp, sum, divide) and masking
/// are not counted, as in the FlashAttention papers; in additive scoring tanh counts as 1 op.

#include <cstdint>
#include <span>

#include "attnbench/problem.hpp"

namespace attnbench {

/// Query-key pairs that take part in the softmax for one (batch entry, head) whose first `kv_valid`
/// keys are valid: seq_q * kv_valid, or for a causal mask the exact count of pairs with
/// `j <= i + (seq_kv - seq_q)`. Only padding masks make kv_valid differ from seq_kv.
std::int64_t visible_pairs(const Problem& p, std::int64_t kv_valid);
/// The same with every key valid (for a padding mask: the upper bound, all lengths = seq_kv).
std::int64_t visible_pairs(const Problem& p);

struct FlopCount {
  double score = 0;        ///< producing the score matrix (QK^T, or the additive/multiplicative form)
  double weighting = 0;    ///< P·V
  double projections = 0;  ///< Q/K/V/O linear layers incl. bias adds (0 without --projections)
  double total() const { return score + weighting + projections; }
};

/// Useful floating-point operations of one forward pass. For a padding mask pass the per-batch valid
/// lengths (the `lengths` input) so that masked keys are not counted as work; without them every key
/// counts, an upper bound.
FlopCount flops(const Problem& p, std::span<const std::int32_t> kv_lengths = {});

/// Bytes held by the tensors at the kernel boundary: inputs, weights, lengths and the output. This is
/// also the compulsory memory traffic of one forward pass (each read once, the output written once),
/// what a kernel with perfect on-chip reuse would move: the denominator of GB/s.
std::int64_t io_bytes(const Problem& p);

/// Bytes the float64 reference needs on top of io_bytes: Q/K/V and the outputs in double, plus
/// per-thread row scratch for omp_get_max_threads() threads.
std::int64_t reference_bytes(const Problem& p);

/// Query tokens processed per forward pass (batch * seq_q): the numerator of tokens/s.
std::int64_t query_tokens(const Problem& p);

}  // namespace attnbench
