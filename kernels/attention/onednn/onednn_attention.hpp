#pragma once
// Attention composed from oneDNN primitives, the way a practitioner without attnbench would write it
// on a CPU: matmul (Q K^T, scaled by 1/sqrt(d) with an output scale, mask added by a binary post-op)
// -> softmax -> matmul (P V). Every primitive is created once in prepare (untimed) and executed in
// run. The full Lq x Lk score matrix of a head (or of every head at once) is materialised: that is
// what this kernel stands for, and why long sequences are refused by the harness's memory check.
// Shared by mha.onednn.serial (one thread) and mha.onednn.omp (RunContext::threads threads).

#include <cstdint>
#include <memory>
#include <string>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels {

/// How the per-head matmuls are issued.
enum class OnednnStrategy {
  automatic,  ///< what the registered kernels use: the faster of the two below for the problem
  batched,    ///< one batched matmul over every (batch, head), strided straight on [B, L, H, d]
  per_head,   ///< one (batch, head) at a time: 2-D strided matmuls, a score matrix of one head
};
const char* to_string(OnednnStrategy s);

/// The oneDNN kernels: one class behind mha.onednn.serial and mha.onednn.omp; `info` says which.
class OnednnKernel final : public DescribedKernel {
 public:
  explicit OnednnKernel(KernelInfo info, OnednnStrategy strategy = OnednnStrategy::automatic)
      : DescribedKernel(std::move(info)), strategy_(strategy) {}
  Support supports(const Problem& p) const override;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override;
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                          const RunContext& ctx) const override;

  /// The strategy actually used for `p` and the oneDNN implementation of each primitive, e.g.
  /// "per_head: qk=gemm:jit softmax=jit:avx512_core pv=gemm:jit" (for tests and reports).
  std::string plan_summary(const Problem& p, const RunContext& ctx) const;

 private:
  OnednnStrategy strategy_;
};

/// What the oneDNN kernels support: every mask, scaled_dot and multiplicative scores (not additive),
/// cross-attention, decode, grouped-query heads, value_dim != head_dim and the projections.
Capabilities onednn_capabilities(Parallelism parallelism);

/// supports()'s reason for additive scores (also in the kernels' descriptions).
extern const char* const kOnednnNoAdditive;

}  // namespace attnbench::kernels
