#pragma once
// What the three mpi kernels share: the refusal of splits their strategy cannot make (supports_run),
// the slicing of a head range out of the boundary tensors, and GEMM-based linear layers.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/kernel.hpp"
#include "attnbench/partition.hpp"

namespace attnbench::kernels::mpi {

class MpiKernel : public DescribedKernel {
 public:
  /// `strategy`: "tp", "ring" or "ulysses" (partition.hpp, comm_volume.hpp).
  MpiKernel(KernelInfo info, const char* strategy) : DescribedKernel(std::move(info)), strategy_(strategy) {}
  /// supports(), then partition_refusal for ctx.comm's rank count.
  Support supports_run(const Problem& p, const RunContext& ctx) const override;

 protected:
  const char* strategy() const { return strategy_; }
  /// The rank count of ctx.comm, after refusing (std::invalid_argument) a split supports_run rejects.
  int checked_ranks(const Problem& p, const RunContext& ctx) const;

 private:
  const char* strategy_;
};

/// Rank `rank` of ctx.comm (0 when MPI is not initialised).
int comm_rank(MPI_Comm comm);

/// dst[r][0, width) = src[r][0, width) for r < rows, with the given row strides (floats).
void copy_rows(const float* src, std::int64_t src_stride, float* dst, std::int64_t dst_stride, std::int64_t rows,
               std::int64_t width);

/// The attention core of `p` restricted to query heads `heads` (whole KV groups `kv`): the problem a
/// rank solves after a head split. Projections are the caller's (they mix heads).
Problem head_subproblem(const Problem& p, Range heads, Range kv);

/// The per-head score weights of `p` (w_score; w_score_q, w_score_k, v_score) for `heads`, as the
/// tensors of head_subproblem; empty for scaled_dot.
TensorSet head_score_weights(const Problem& p, const TensorSet& t, Range heads);

/// y[m][n] = x[m][k] W^T (+ bias) for W [n][k] row-major with leading dimension ldw (torch.nn.Linear);
/// bias may be null (then y = x W^T). Row strides ldx, ldy in floats. BLAS runs on `threads` threads.
void linear(const float* x, std::int64_t ldx, std::int64_t m, std::int64_t k, const float* w, std::int64_t ldw,
            const float* bias, float* y, std::int64_t ldy, std::int64_t n, int threads);

}  // namespace attnbench::kernels::mpi

namespace attnbench::kernels::mpi {
class Comm;

/// Rank 0's `out` [B, L, width] receives the rows every rank computed: rows_of_rank[r] lists rank r's
/// row ranges (each rank has already written its own rows of its `out`). Collective; not recorded in
/// the log (the harness calls it untimed, PreparedKernel::collect_output).
void collect_rows(Comm& comm, Tensor& out, std::int64_t batch, std::int64_t seq, std::int64_t width,
                  const std::vector<std::vector<Range>>& rows_of_rank);

/// Adds the seconds `fn` takes to `total`.
template <class F>
void timed(double& total, F&& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace attnbench::kernels::mpi
