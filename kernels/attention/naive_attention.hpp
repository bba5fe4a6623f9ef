#pragma once
// The textbook attention forward pass in fp32, shared by mha.naive.serial and mha.naive.omp: for each
// (batch, head) it materialises the full Lq x Lk score matrix, applies the mask, takes a row-wise
// softmax and multiplies by V. No blocking, no vector intrinsics, no fused tricks: the baseline every
// other kernel is measured against. With projections, the linear layers are plain dot-product loops.

#include <cstdint>
#include <memory>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels {

/// Scratch the naive pass needs beyond the boundary tensors, for `threads` concurrent heads.
std::int64_t naive_workspace_bytes(const Problem& p, int threads);

/// Set up the naive pass; `threads` > 1 runs (batch, head) pairs and projection rows with OpenMP.
std::unique_ptr<PreparedKernel> prepare_naive(const Problem& p, const TensorSet& tensors, int threads);

}  // namespace attnbench::kernels
