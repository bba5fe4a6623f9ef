// Operators: names, structure (gates, steps, dilations) and which descriptor fields each one accepts.
#include "attnbench/op.hpp"

namespace attnbench {

std::string_view to_string(Op op) {
  switch (op) {
    case Op::mha: return "mha";
    case Op::conv1d: return "conv1d";
    case Op::lstm: return "lstm";
    case Op::gru: return "gru";
    case Op::elman: return "elman";
  }
  return "?";
}

std::int64_t gate_count(Op op) {
  switch (op) {
    case Op::lstm: return 4;
    case Op::gru: return 3;
    case Op::elman: return 1;
    case Op::mha:
    case Op::conv1d: return 0;
  }
  return 0;
}

std::int64_t layer_dilation(const Problem& p, std::int64_t layer) { return p.dilation << layer; }

std::int64_t sequential_steps(Op op, const Problem& p) {
  if (is_recurrent(op)) return p.seq_q;
  if (op == Op::conv1d) return p.layers;
  return 1;
}

std::string op_refusal(Op op, const Problem& p) {
  const std::string name(to_string(op));
  if (op == Op::mha) {
    if (p.kernel_size != 3) return "kernel_size (--kernel-size, ks) applies to conv1d only, not attention";
    if (p.dilation != 1) return "dilation (--dilation, dil) applies to conv1d only, not attention";
    if (p.layers != 1) return "layers (--layers, ly) applies to conv1d only, not attention";
    if (p.bidirectional) return "bidirectional (--bidirectional, bidir) applies to RNNs only, not attention";
    return "";
  }
  // Every baseline maps [B, L, model_dim] to [B, L, model_dim] (x directions for an RNN).
  if (p.seq_kv != p.seq_q) return name + " has one sequence: seq_kv (--seq-kv) must equal seq_q";
  if (p.kv_heads != p.heads) return name + " has no heads to group: kv_heads (--kv-heads) must equal heads";
  if (p.value_dim != p.head_dim) return name + " has one width, model_dim: value_dim must equal head_dim";
  if (p.score != Score::scaled_dot) return "score (--score) applies to attention only, not " + name;
  if (p.mask == Mask::padding) return "a padding mask is not defined for " + name + " (use none or causal)";
  if (op == Op::conv1d) {
    if (p.bidirectional) return "bidirectional (--bidirectional, bidir) applies to RNNs only, not conv1d";
    if (p.kernel_size > p.seq_q)
      return "kernel_size " + std::to_string(p.kernel_size) + " is longer than the sequence (" +
             std::to_string(p.seq_q) + "): most taps would read only padding; use --kernel-size <= --seq";
    return "";
  }
  if (p.kernel_size != 3 || p.dilation != 1)
    return "kernel_size and dilation (--kernel-size, --dilation) apply to conv1d only, not " + name;
  if (p.layers != 1) return "stacked " + name + " layers (--layers > 1) are not implemented; measure one layer";
  if (p.bidirectional && p.mask == Mask::causal)
    return "a bidirectional " + name + " reads the future: it cannot be causal (drop --mask causal or bidir)";
  return "";
}

}  // namespace attnbench
