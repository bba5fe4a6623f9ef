#pragma once
// Blocked (flash-style) attention in fp32, shared by mha.blocked.serial, mha.blocked.omp and
// mha.blocked.tbb: one implementation of the math (blocked_attention.cpp, microkernels_*.cpp); the three
// kernels differ only in the executor that runs the work items (executor.hpp).
//
// The recurrence is FlashAttention's online softmax (Dao et al., "FlashAttention: Fast and
// Memory-Efficient Exact Attention with IO-Awareness", 2022; Rabe & Staats, "Self-attention Does Not
// Need O(n^2) Memory", 2021): for each query row a running max m, a running sum l and an unnormalised
// output O are updated one KV tile at a time, so the Lq x Lk score matrix never exists.
// Every feature of the descriptor is supported: every mask (causal bottom-right, padding lengths),
// every score (scaled_dot; multiplicative as W^T q per query row then scaled_dot; additive with a
// vectorised tanh in the tile loop), cross-attention, decode (split-KV), grouped-query heads, value_dim
// != head_dim, any head_dim, and the Q/K/V/O projections as cblas_sgemm GEMMs.
#include <cstdint>
#include <memory>
#include <optional>

#include "attnbench/kernel.hpp"
#include "blocked_plan.hpp"
#include "microkernels.hpp"

namespace attnbench::kernels {

class BlockedKernel final : public DescribedKernel {
 public:
  using DescribedKernel::DescribedKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override;
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                          const RunContext& ctx) const override;
};

/// Everything the blocked kernels support, with their tolerance.
Capabilities blocked_capabilities(Parallelism parallelism);

namespace blocked {

/// Knobs for tests and tuning; the registered kernels use the defaults but for `phases`, from RunContext.
struct Options {
  std::int64_t tile_rows = 0;  ///< Q tile height; 0: the plan's default
  std::optional<Isa> isa;      ///< micro-kernels; default select_isa()
  PhaseRecorder* phases = nullptr;  ///< where the phases are recorded (RunContext::phases); null: nowhere
};

/// prepare() with explicit options.
std::unique_ptr<PreparedKernel> prepare_blocked(const Problem& p, const TensorSet& tensors, Parallelism parallelism,
                                                int threads, const Options& options = {});

}  // namespace blocked
}  // namespace attnbench::kernels
