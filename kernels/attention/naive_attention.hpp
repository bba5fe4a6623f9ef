#pragma once
// The textbook attention forward pass in fp32, shared by mha.naive.serial and mha.naive.omp: for each
// (batch, head) it materialises the full Lq x Lk score matrix, applies the mask, takes a row-wise
// softmax and multiplies by V. No blocking, no vector intrinsics, no fused tricks: the baseline every
// other kernel is measured against. With projections, the linear layers are plain dot-product loops.

#include <cstdint>
#include <memory>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels {

/// The naive kernels: one class, registered as mha.naive.serial (one thread) and mha.naive.omp
/// ((batch, head) pairs and projection rows spread over OpenMP threads). `info` says which.
class NaiveKernel final : public DescribedKernel {
 public:
  using DescribedKernel::DescribedKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override;
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                          const RunContext& ctx) const override;
};

/// Everything the naive kernels support: every mask, score, shape relation and the projections.
Capabilities naive_capabilities(Parallelism parallelism);

}  // namespace attnbench::kernels
