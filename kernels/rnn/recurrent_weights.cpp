// W_hh packed once, and the per-step product on it (see recurrent_weights.hpp).
#include "recurrent_weights.hpp"

#include <algorithm>
#include <cstring>

#include <cblas.h>

namespace attnbench::kernels {

RecurrentWeights::RecurrentWeights(const float* w, std::int64_t gates, std::int64_t units, std::int64_t batch,
                                   const blocked::MicroKernels& mk)
    : mk_(&mk), gates_(gates), units_(units), tiles_((units + kUnitTile - 1) / kUnitTile), rows_(batch == 1),
      packed_(DataType::f32, {tiles_ * gates * kUnitTile * units}) {  // zero: the padding rows stay 0
  float* dst = packed_.as<float>().data();
  for (std::int64_t jt = 0; jt < tiles_; ++jt)
    for (std::int64_t g = 0; g < gates_; ++g, dst += kUnitTile * units_) {
      const std::int64_t first = jt * kUnitTile, n = std::min(kUnitTile, units_ - first);
      const float* src = w + (g * units_ + first) * units_;
      if (rows_)
        std::memcpy(dst, src, std::size_t(n * units_) * sizeof(float));
      else
        mk_->pack_k(src, units_, n, units_, dst);
    }
}

void RecurrentWeights::multiply(const float* h, std::int64_t ld_h, std::int64_t batch, std::int64_t jt0,
                                std::int64_t jt1, float* hw) const {
  const float* tile = packed_.as<float>().data() + jt0 * gates_ * kUnitTile * units_;
  if (rows_ && batch == 1) {  // one sgemv over the rows of tiles [jt0, jt1): row r lands at hw[64 jt0 G + r]
    if (jt1 > jt0)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, int((jt1 - jt0) * gates_ * kUnitTile), int(units_), 1.0f, tile,
                  int(units_), h, 1, 0.0f, hw + jt0 * gates_ * kUnitTile, 1);
    return;
  }
  if (rows_) {  // correct but not fast: an sgemv per (tile, gate, batch entry)
    for (std::int64_t k = jt0 * gates_; k < jt1 * gates_; ++k, tile += kUnitTile * units_)
      for (std::int64_t b = 0; b < batch; ++b)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, int(kUnitTile), int(units_), 1.0f, tile, int(units_), h + b * ld_h, 1,
                    0.0f, hw + (k * batch + b) * kUnitTile, 1);
    return;
  }
  for (std::int64_t k = jt0 * gates_; k < jt1 * gates_; ++k, tile += kUnitTile * units_)
    mk_->scores_dot(h, ld_h, batch, tile, units_, hw + k * batch * kUnitTile);
}

}  // namespace attnbench::kernels
