#pragma once
/// \file reference.hpp
/// The float64 reference: the definition every kernel is checked against. It covers every descriptor
/// feature (masks, scores, cross-attention, decode, grouped-query heads, projections). It is written
/// for clarity, independently of the kernels, and computes everything in double from the fp32 inputs.

#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench {

/// Forward pass in double precision; returns an f64 tensor of output_spec(p)'s shape.
Tensor reference_forward(const Problem& p, const TensorSet& inputs);

}  // namespace attnbench
