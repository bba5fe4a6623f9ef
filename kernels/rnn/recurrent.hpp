#pragma once
// The recurrent baselines (op.hpp: Op::lstm, Op::gru, Op::elman), shared by rnn.{lstm,gru}.{serial,omp}
// and rnn.elman.serial. The standard fast structure:
//
//   1. Input projection of every step at once, one large GEMM per direction:
//        XW[b, t, :] = x[b, t, :] · W_ih^T + b_ih (+ b_hh, folded in for every gate but GRU's n)
//   2. Per step, in order (t ascending; descending for the backward direction):
//        HW[b, :] = h_{t-1}[b, :] · W_hh^T          on W_hh packed once in set-up (recurrent_weights.hpp:
//                                                  the blocked attention kernels' K tiles and Q·K^T
//                                                  micro-kernel; no per-step copy of the weights)
//        h_t, c_t = cell(XW[b, t], HW[b], h_{t-1}, c_{t-1})   gates fused, fast exp/tanh (fast_math.hpp)
//      h_t goes to the output row and to a contiguous [B, E] state (two buffers, alternating), which
//      the next step's product reads.
//
// Layout: hidden units in tiles of kUnitTile = 64 (the last one padded), gate-major inside a tile.
// The pre-activation rows (XW, biases, W_ih's rows) hold tile jt's gate g at columns
// [(jt*G + g)*64, +64); HW holds it as a [B][64] block. So the fused gate pass reads each gate of a
// tile as one contiguous vector, and a thread's share of units is a contiguous range of tiles of W_hh.
// Threads own unit tiles; a barrier ends every step (the next step reads every unit of h).

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
