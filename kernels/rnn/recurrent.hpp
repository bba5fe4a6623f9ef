#pragma once
// The recurrent baselines (op.hpp: Op::lstm, Op::gru, Op::elman), shared by rnn.{lstm,gru}.{serial,omp}
// and rnn.elman.serial. The standard fast structure:
//
//   1. Input projection of every step at once, one large GEMM per direction:
//        XW[b, t, :] = x[b, t, :] · W_ih^T + b_ih (+ b_hh, folded in for every gate but GRU's n)
//   2. Per step, in order (t ascending; descending for the backward direction):
//        HW[b, :] = h_{t-1}[b, :] · W_hh^T          cblas_sgemv at B = 1, cblas_sgemm otherwise
//        h_t, c_t = cell(XW[b, t], HW[b], h_{t-1}, c_{t-1})   gates fused, fast exp/tanh (fast_math.hpp)
//      h_{t-1} is read straight from the output row of the previous step (no copy).
//
// Weights are packed once in prepare, in unit blocks of kUnits hidden units: block jb holds the rows
// of its units gate by gate, [jb][gate][unit], so the fused gate pass reads each gate of a block as one
// contiguous vector and a thread's share of units is one contiguous row range of W_hh. Threads own
// unit blocks; a barrier ends every step (the next step reads every unit of h).

#include <cstdint>
#include <memory>

#include "attnbench/kernel.hpp"

namespace attnbench::kernels {

class RecurrentKernel final : public DescribedKernel {
 public:
  using DescribedKernel::DescribedKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override;
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& tensors,
                                          const RunContext& ctx) const override;
};

}  // namespace attnbench::kernels
