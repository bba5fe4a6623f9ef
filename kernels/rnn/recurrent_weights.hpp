#pragma once
// The recurrent weights W_hh packed once in set-up, and the per-step product HW = h · W_hh^T on them.
//
// Why not cblas_sgemm per step: OpenBLAS packs its B operand (all of W_hh, 12-16 MiB at D = 1024) on
// every call, i.e. on every time step, though the weights never change; at B = 64 that copy costs as
// much as the product (docs/PERFORMANCE.md, "RNN per-step product"). Here W_hh is packed once, in the
// blocked attention kernels' K-tile layout, and each step runs their Q·K^T micro-kernel (scores_dot:
// 6 rows x 16 columns of FMAs, AVX2+FMA or the portable table) on it directly:
//
//   unit tile jt = hidden units [64 jt, 64 jt + 64), gate g  ->  one packed K tile of depth E:
//     the 64 rows W_hh[g*E + 64 jt + u, :] as [4 panels][E][16], rows past E zero.
//   HW tile (jt, g) = [B][64]: HW[b][u] = sum_c h[b][c] W_hh[g*E + 64 jt + u][c].
//
// So every gate of a 64-unit tile is one contiguous row of 64 floats per batch entry, which is what the
// fused cell reads, and a thread that owns a range of unit tiles owns a contiguous range of packed
// weights.
//
// B = 1 is a different problem: a matrix-vector product bound by reading W_hh (4-16 MiB from L3), where
// the micro-kernel's one-row case is a chain of dependent FMAs on two accumulators and streams at about
// half of what OpenBLAS's sgemv reaches. So for batch 1 the weights are packed as plain rows in the same
// order (row (jt*G + g)*64 + u = W_hh[g*E + 64 jt + u], zero rows for the padding), and the product is
// one cblas_sgemv over the thread's rows, which writes HW in exactly the tiles' [1][64] layout.
// (docs/PERFORMANCE.md, "RNN per-step product", has the measurements behind both choices.)
#include <cstdint>

#include "../attention/blocked/microkernels.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench::kernels {

/// Hidden units per tile: one packed K tile of the blocked kernels.
inline constexpr std::int64_t kUnitTile = blocked::kBc;

class RecurrentWeights {
 public:
  /// `w` is W_hh in PyTorch's layout: [gates * units, units], gate g in rows [g*units, (g+1)*units).
  /// `batch` picks the layout (1: rows for sgemv; more: K tiles for the micro-kernel); multiply is
  /// correct for any batch on either, fast for the one it was packed for.
  RecurrentWeights(const float* w, std::int64_t gates, std::int64_t units, std::int64_t batch,
                   const blocked::MicroKernels& mk);

  std::int64_t tiles() const { return tiles_; }  ///< ceil(units / 64)

  /// For unit tiles [jt0, jt1): hw[((jt*G + g)*batch + b)*64 + u] = sum_c h[b*ld_h + c] * W_hh[g*E + 64 jt + u][c]
  /// (0 for units past E). hw must be 32-byte aligned; it is indexed from tile 0 whatever jt0 is.
  /// The rows layout calls cblas_sgemv: hold OpenBLAS to one thread around calls from several threads.
  void multiply(const float* h, std::int64_t ld_h, std::int64_t batch, std::int64_t jt0, std::int64_t jt1,
                float* hw) const;

 private:
  const blocked::MicroKernels* mk_;
  std::int64_t gates_, units_, tiles_;
  bool rows_;      ///< the batch-1 layout
  Tensor packed_;  ///< K tiles: [tiles][gates][64 / 16 panels][units][16]; rows: [tiles][gates][64][units]
};

}  // namespace attnbench::kernels
