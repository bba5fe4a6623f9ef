#pragma once
// The float64 reference of the CNN/RNN baselines (reference.cpp dispatches here by operator).
#include "attnbench/op.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench {

/// The conv1d stack: out [B, L, E] in double.
Tensor conv1d_reference(const Problem& p, const TensorSet& in);
/// One LSTM, GRU or Elman layer (both directions when bidirectional): out [B, L, dirs*E] in double.
Tensor rnn_reference(Op op, const Problem& p, const TensorSet& in);

}  // namespace attnbench
