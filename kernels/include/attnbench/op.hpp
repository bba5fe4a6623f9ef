#pragma once
/// \file op.hpp
/// The operator a kernel computes. One Problem describes a case's shape; the operator decides what that
/// shape means: which tensors the layer reads (workload.hpp), what it outputs and how (reference.hpp),
/// and what it costs (cost_model.hpp). Attention and its CNN/RNN baselines share the Problem so that
/// one command line measures all of them on matched shapes (`batch`, `seq_q`, `model_dim()`).
///
///   mha     multi-head attention (core, or the full module with `projections`)
///   conv1d  a stack of `layers` 1-D convolutions over the sequence, model_dim channels in and out
///   lstm    a single-layer LSTM, hidden = model_dim (torch.nn.LSTM conventions)
///   gru     a single-layer GRU (torch.nn.GRU)
///   elman   a single-layer tanh RNN (torch.nn.RNN)
/// docs/SEMANTICS.md ("Baselines") writes every equation down.

#include <cstdint>
#include <string>
#include <string_view>

#include "attnbench/problem.hpp"

namespace attnbench {

enum class Op { mha, conv1d, lstm, gru, elman };

std::string_view to_string(Op op);

/// Gate blocks of a recurrent cell's weight matrices (LSTM 4: i,f,g,o; GRU 3: r,z,n; Elman 1); 0 otherwise.
std::int64_t gate_count(Op op);
inline bool is_recurrent(Op op) { return gate_count(op) > 0; }

/// RNN directions: 2 when `bidirectional`, else 1.
inline std::int64_t directions(const Problem& p) { return p.bidirectional ? 2 : 1; }

/// Dilation of conv layer `layer` (0-based) of a stack: p.dilation * 2^layer.
std::int64_t layer_dilation(const Problem& p, std::int64_t layer);

/// Steps that must run one after another whatever the parallelism: the sequence length for an RNN
/// (each step needs the previous hidden state), the number of layers for a conv stack, 1 for attention.
std::int64_t sequential_steps(Op op, const Problem& p);

/// Whether `p` means anything for `op`: attention refuses the baseline-only fields (kernel_size,
/// dilation, layers, bidirectional) and the baselines refuse attention-only ones (cross or grouped-query
/// shapes, value_dim != head_dim, a padding mask, another score). The reason names the field and the
/// option that sets it; "" when `p` is meaningful for `op`. Kernel::supports calls this first.
std::string op_refusal(Op op, const Problem& p);

}  // namespace attnbench
