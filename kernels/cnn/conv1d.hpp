#pragma once
// The conv1d baseline (op.hpp: Op::conv1d), shared by cnn.conv1d.serial and cnn.conv1d.omp.
//
// A layer is k GEMMs over shifted inputs, one per tap j, accumulated into the output:
//   out[b, t0:t1, :] += x[b, t0 + j*dl - left : t1 + j*dl - left, :] · W_j,   W_j[c, o] = w_conv[l, o, c, j]
// where [t0, t1) are the output rows whose input row lies inside the sequence (the rest would read the
// zero padding and is skipped). In the batch-first layout a shifted input is just a row offset, so no
// im2col copy is made; each GEMM has M = rows, N = K = E and runs in OpenBLAS's packed sgemm. The
// weights are packed once in prepare as k contiguous [E_in, E_out] matrices per layer.
// Threads split each batch entry's output rows into contiguous blocks (one cblas_sgemm per tap and
// block, OpenBLAS single-threaded); a barrier separates layers, whose inputs span blocks.

#include <cstdint>
#include <memory>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels {

class Conv1dKernel final : public DescribedKernel {
 public:
  using DescribedKernel::DescribedKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override;
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                          const RunContext& ctx) const override;
};

}  // namespace attnbench::kernels
