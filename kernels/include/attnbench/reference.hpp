#pragma once
/// \file reference.hpp
/// The float64 reference: the definition every kernel is checked against. It covers every descriptor
/// feature (masks, scores, cross-attention, decode, grouped-query heads, projections). It is written
/// for clarity, independently of the kernels, and computes everything in double from the fp32 inputs.

#include "attnbench/op.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench {

/// Forward pass of `op` in double precision; returns an f64 tensor of output_spec(op, p)'s shape.
/// The CNN/RNN baselines' definitions are in baseline_reference.cpp (docs/SEMANTICS.md "Baselines").
Tensor reference_forward(Op op, const Problem& p, const TensorSet& inputs);
/// Attention's (Op::mha).
inline Tensor reference_forward(const Problem& p, const TensorSet& inputs) {
  return reference_forward(Op::mha, p, inputs);
}

}  // namespace attnbench
