// Online-softmax attention over arriving K/V blocks (partial_attention.hpp).
#include "partial_attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mpi_kernel.hpp"

namespace attnbench::kernels::mpi {
namespace {

using blocked::kBc;
constexpr std::int64_t kTileRows = 48;  // as the blocked kernel's Q tiles (blocked_plan.cpp)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t max_tiles(std::int64_t keys) { return ceil_div(keys, kBc) + 2; }  // + a partial tile per range
std::int64_t scratch_floats() { return kTileRows * (2 * kBc + 2); }  // S, P [rows][kBc]; alpha, sums [rows]

}  // namespace

std::int64_t PartialAttention::workspace_bytes(const Problem& p, std::int64_t rows, std::int64_t max_block_keys,
                                               int threads) {
  const std::int64_t dvp = blocked::round_up(p.value_dim, 16), state = p.batch * p.heads * rows;
  const std::int64_t packed = p.batch * p.kv_heads * max_tiles(max_block_keys) * kBc * (p.head_dim + dvp);
  const std::int64_t score = p.score == Score::multiplicative ? p.heads * p.head_dim * p.head_dim + rows * p.head_dim : 0;
  return 4 * (state * (p.head_dim + 2 + dvp) + packed + threads * scratch_floats() + score) + 8 * (p.batch + 1) * rows;
}

PartialAttention::PartialAttention(const Problem& p, std::vector<Range> rows, std::int64_t max_block_keys, int threads,
                                   const float* w_score, PhaseRecorder* phases)
    : p_(p), phases_(phases), mk_(&blocked::micro_kernels(blocked::select_isa())), rows_(std::move(rows)) {
  for (const Range& r : rows_) {
    for (std::int64_t i = r.begin; i < r.end; ++i) global_.push_back(i);
    for (std::int64_t at = r.begin; at < r.end; at += kTileRows)
      q_tiles_.push_back({lq_ + at - r.begin, std::min(kTileRows, r.end - at)});
    lq_ += r.size();
  }
  dvp_ = blocked::round_up(p.value_dim, 16);
  max_tiles_ = max_tiles(max_block_keys);
  const std::int64_t state = p.batch * p.heads * lq_;
  q_.resize(std::size_t(state * p.head_dim));
  m_.resize(std::size_t(state)), l_.resize(std::size_t(state)), o_.resize(std::size_t(state * dvp_));
  limit_.resize(std::size_t(p.batch * lq_));
  packed_k_.resize(std::size_t(p.batch * p.kv_heads * max_tiles_ * kBc * p.head_dim));
  packed_v_.resize(std::size_t(p.batch * p.kv_heads * max_tiles_ * kBc * dvp_));
  scratch_.resize(std::size_t(threads * scratch_floats()));
  kv_tiles_.reserve(std::size_t(max_tiles_));
  if (w_score) {  // s = q^T W_h k: the query side becomes q W_h = q (W_h^T)^T, a linear() with W_h^T
    const std::int64_t d = p.head_dim;
    w_t_.resize(std::size_t(p.heads * d * d));
    for (std::int64_t h = 0; h < p.heads; ++h)
      for (std::int64_t a = 0; a < d; ++a)
        for (std::int64_t c = 0; c < d; ++c) w_t_[std::size_t((h * d + c) * d + a)] = w_score[(h * d + a) * d + c];
    q_tmp_.resize(std::size_t(lq_ * d));
  }
}

void PartialAttention::start(const float* q, bool global_rows, const std::int32_t* lengths) {
  const Problem& p = p_;
  const std::int64_t d = p.head_dim, width = p.heads * d;
  const float scale = float(1.4426950408889634 / std::sqrt(double(d)));  // log2(e) / sqrt(d)
  const PhaseScope phase(phases_, Phase::packing);  // the queries' preparation and the state's reset
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t rho = 0; rho < lq_; ++rho) {
      const std::int64_t i = global_[std::size_t(rho)];
      const float* row = q + (global_rows ? b * p.seq_q + i : b * lq_ + rho) * width;
      for (std::int64_t h = 0; h < p.heads; ++h)
        for (std::int64_t c = 0; c < d; ++c) q_[std::size_t(state_index(b, h, rho) * d + c)] = row[h * d + c] * scale;
      std::int64_t limit = lengths ? std::clamp<std::int64_t>(lengths[b], 0, p.seq_kv) : p.seq_kv;
      if (p.mask == Mask::causal) limit = std::min(limit, i + p.seq_kv - p.seq_q + 1);
      limit_[std::size_t(b * lq_ + rho)] = std::max<std::int64_t>(limit, 0);
    }
  if (!w_t_.empty())
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t h = 0; h < p.heads; ++h) {
        float* rows = q_.data() + state_index(b, h, 0) * d;
        std::copy(rows, rows + lq_ * d, q_tmp_.begin());
        linear(q_tmp_.data(), d, lq_, d, w_t_.data() + h * d * d, d, nullptr, rows, d, d, 1);
      }
  std::fill(m_.begin(), m_.end(), kNegInf);
  std::fill(l_.begin(), l_.end(), 0.0f);
  std::fill(o_.begin(), o_.end(), 0.0f);
}

void PartialAttention::add_block(const float* block, const std::vector<Range>& keys, blocked::Executor& executor,
                                 blocked::FunctionRef<void()> progress) {
  const Problem& p = p_;
  const std::int64_t d = p.head_dim, dv = p.value_dim, Hk = p.kv_heads, group = p.group_size();
  std::int64_t n = 0;
  kv_tiles_.clear();
  for (const Range& r : keys) {
    for (std::int64_t j = r.begin; j < r.end; j += kBc) kv_tiles_.push_back({j, std::min(kBc, r.end - j), n + j - r.begin});
    n += r.size();
  }
  const std::int64_t tiles = std::int64_t(kv_tiles_.size());
  const float* k_block = block;             // [B][n][Hk][d]
  const float* v_block = block + p.batch * n * Hk * d;  // [B][n][Hk][dv]
  auto packed_k = [&](std::int64_t b, std::int64_t g, std::int64_t t) {
    return packed_k_.data() + ((b * Hk + g) * max_tiles_ + t) * kBc * d;
  };
  auto packed_v = [&](std::int64_t b, std::int64_t g, std::int64_t t) {
    return packed_v_.data() + ((b * Hk + g) * max_tiles_ + t) * kBc * dvp_;
  };
  // Pack K^T and V tiles of every (batch, kv head).
  executor.run(p.batch * Hk, [&](std::int64_t item, int thread) {
    const std::int64_t b = item / Hk, g = item % Hk;
    PhaseScope phase(phases_, Phase::packing);
    for (std::int64_t t = 0; t < tiles; ++t) {
      const KvTile& kt = kv_tiles_[std::size_t(t)];
      mk_->pack_k(k_block + ((b * n + kt.offset) * Hk + g) * d, Hk * d, kt.n, d, packed_k(b, g, t));
      mk_->pack_v(v_block + ((b * n + kt.offset) * Hk + g) * dv, Hk * dv, kt.n, dv, dvp_, packed_v(b, g, t));
    }
    phase.stop();  // MPI progress is the communication event's
    if (thread == 0) progress();
  });
  // Every (batch, head, query tile) against every tile of the block.
  const std::int64_t q_tiles = std::int64_t(q_tiles_.size());
  executor.run(p.batch * p.heads * q_tiles, [&](std::int64_t item, int thread) {
    const std::int64_t b = item / (p.heads * q_tiles), h = item / q_tiles % p.heads;
    const QTile& qt = q_tiles_[std::size_t(item % q_tiles)];
    const PhaseSpan span(phases_, "tile item");
    PhaseScope phase(phases_, Phase::qk);
    const std::int64_t* limit = limit_.data() + b * lq_ + qt.rho0;
    const std::int64_t max_limit = *std::max_element(limit, limit + qt.rows);
    const std::int64_t min_limit = *std::min_element(limit, limit + qt.rows);
    const std::int64_t first = state_index(b, h, qt.rho0);
    float* s = scratch_.data() + thread * scratch_floats();  // [rows][kBc] scores, then probabilities
    float* lazy_p = s + kTileRows * kBc;                    // [rows][kBc] probabilities of the lazy update
    float* alpha = lazy_p + kTileRows * kBc;                // [rows] rescale factors of the tile
    float* sums = alpha + kTileRows;                        // [rows] row sums of the lazy update
    float* m = m_.data() + first;
    float* l = l_.data() + first;
    float* o = o_.data() + first * dvp_;
    for (std::int64_t t = 0; t < tiles; ++t) {
      const KvTile& kt = kv_tiles_[std::size_t(t)];
      if (kt.j0 >= max_limit) continue;  // no row of the tile sees a key of it
      phase.switch_to(Phase::qk);
      mk_->scores_dot(q_.data() + first * d, d, qt.rows, packed_k(b, h / group, t), d, s);  // S = Q K^T
      if (kt.n < kBc || kt.j0 + kBc > min_limit)  // a short tile, or a row that cannot see every key: S = -inf there
        for (std::int64_t r = 0; r < qt.rows; ++r) {
          const std::int64_t from = std::clamp<std::int64_t>(limit[r] - kt.j0, 0, kt.n);
          std::fill(s + r * kBc + from, s + (r + 1) * kBc, kNegInf);
        }
      const float* v_tile = packed_v(b, h / group, t);
      // The blocked kernel's lazy update: while no score exceeds a row's running max by kLazyRescale,
      // P = 2^(S - m) against the unchanged max, with no rescale of O.
      phase.switch_to(Phase::softmax);
      bool started = true;  // every row that sees a key of this tile has a finite max
      for (std::int64_t r = 0; r < qt.rows; ++r) started &= m[r] != kNegInf || limit[r] <= kt.j0;
      if (started && mk_->softmax_lazy(s, qt.rows, m, lazy_p, sums)) {
        for (std::int64_t r = 0; r < qt.rows; ++r) l[r] += sums[r];
        phase.switch_to(Phase::pv);
        mk_->accumulate_pv(lazy_p, qt.rows, v_tile, dvp_, nullptr, o);  // O += P V
        continue;
      }
      mk_->softmax_tile(s, qt.rows, m, l, alpha);            // P = 2^(S - m'), alpha = 2^(m - m')
      phase.switch_to(Phase::pv);
      mk_->accumulate_pv(s, qt.rows, v_tile, dvp_, alpha, o);  // O = alpha O + P V
    }
    phase.stop();
    if (thread == 0) progress();
  });
}

void PartialAttention::normalise_into(float* out, std::int64_t out_seq, std::int64_t width) const {
  const Problem& p = p_;
  const std::int64_t dv = p.value_dim;
  const PhaseScope phase(phases_, Phase::softmax);  // the rows' final normalisation
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t h = 0; h < p.heads; ++h)
      for (std::int64_t rho = 0; rho < lq_; ++rho) {
        const std::int64_t at = state_index(b, h, rho);
        const std::int64_t row = out_seq > 0 ? b * out_seq + global_[std::size_t(rho)] : b * lq_ + rho;
        float* dst = out + row * width + h * dv;
        const float l = l_[std::size_t(at)];
        const float inv = l > 0 ? 1.0f / l : 0.0f;  // a row that saw no key is 0
        for (std::int64_t c = 0; c < dv; ++c) dst[c] = o_[std::size_t(at * dvp_ + c)] * inv;
      }
}

}  // namespace attnbench::kernels::mpi
