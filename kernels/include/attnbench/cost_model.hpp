#pragma once
/// \file cost_model.hpp
/// Exact operation and byte counts as functions of the descriptor. The formulas are documented in
/// docs/SEMANTICS.md ("Cost model"); every result record's rates are derived from these.
///
/// Conventions: a multiply-add is 2 flops; a bias add is 1; softmax (max, exp, sum, divide) and masking
/// are not counted, as in the FlashAttention papers; in additive scoring tanh counts as 1 op. For the
/// baselines likewise only the products and bias adds count: not ReLU, gate non-linearities or the
/// element-wise state updates. Every function takes the operator (op.hpp); the forms without one are
/// attention's (Op::mha).

#include <cstdint>
#include <span>

#include "attnbench/op.hpp"
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
  double projections = 0;  ///< Q/K/V/O linear layers incl. bias adds (0 without --projections);
                           ///< an RNN's input projection x W_ih^T + b_ih of every step
  double convolution = 0;  ///< conv1d: every layer's taps and bias, 2 B L k E^2 + B L E per layer
  double recurrent = 0;    ///< RNN: the per-step products h W_hh^T + b_hh (the sequential part)
  double total() const { return score + weighting + projections + convolution + recurrent; }
};

/// Useful floating-point operations of one forward pass. For a padding mask pass the per-batch valid
/// lengths (the `lengths` input) so that masked keys are not counted as work; without them every key
/// counts, an upper bound.
FlopCount flops(Op op, const Problem& p, std::span<const std::int32_t> kv_lengths = {});
inline FlopCount flops(const Problem& p, std::span<const std::int32_t> kv_lengths = {}) {
  return flops(Op::mha, p, kv_lengths);
}

/// Bytes held by the tensors at the kernel boundary: inputs, weights, lengths and the output. This is
/// also the compulsory memory traffic of one forward pass (each read once, the output written once),
/// what a kernel with perfect on-chip reuse would move: the denominator of GB/s.
std::int64_t io_bytes(Op op, const Problem& p);
inline std::int64_t io_bytes(const Problem& p) { return io_bytes(Op::mha, p); }

/// Bytes the float64 reference needs on top of io_bytes: Q/K/V and the outputs in double, plus
/// per-thread row scratch for omp_get_max_threads() threads. Baselines: activations and states in double.
std::int64_t reference_bytes(Op op, const Problem& p);
inline std::int64_t reference_bytes(const Problem& p) { return reference_bytes(Op::mha, p); }

/// Query tokens processed per forward pass (batch * seq_q): the numerator of tokens/s.
std::int64_t query_tokens(const Problem& p);

}  // namespace attnbench
