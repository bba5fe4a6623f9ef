// Blocked attention (see blocked_attention.hpp): the phases of one forward pass and the work items
// they run. The per-tile math lives in the micro-kernels (microkernels_avx2.cpp / _generic.cpp); the
// scheduling in the executor. Semantics follow docs/SEMANTICS.md exactly (bottom-right causal mask,
// zeros for fully masked rows, b_o for them with projections).
//
// One pass:
//   1. projections (optional): Q, K, V = x W^T + b as blocked cblas_sgemm items
//   2. tiled path, per wave of `slots` units: Q-tile items (sorted by work), then the packing of the
//      next wave's K^T and V tiles into the other set of buffers
//      streamed path: (unit, key chunk) items packing each KV tile right before all their rows use it
//      direct path: (batch, key chunk) items reading K and V in place
//   3. merge of the split-KV partials (when the keys were split)
//   4. output projection (optional)
#include "blocked_attention.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "attnbench/blas_threads.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"
#include "executor.hpp"
#include "fast_math.hpp"

namespace attnbench::kernels {
namespace blocked {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// A zero-filled, 64-byte-aligned float buffer.
class Floats {
 public:
  Floats() = default;
  explicit Floats(std::int64_t n) : size_(n) {
    if (n <= 0) return;
    const std::size_t bytes = std::size_t(round_up(n * std::int64_t(sizeof(float)), 64));
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<float*>(p));
  }
  float* data() const { return data_.get(); }
  std::int64_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  std::int64_t size_ = 0;
};

Floats copy_of(const TensorSet& t, const char* name, float scale = 1.0f) {
  const auto src = t.at(name).as<float>();
  Floats f(std::int64_t(src.size()));
  for (std::size_t i = 0; i < src.size(); ++i) f.data()[i] = src[i] * scale;
  return f;
}

/// y[M][N] = x[M][K] W^T + b with W [N][K] (torch.nn.Linear), as blocks of C, one cblas_sgemm each.
/// The blocking depends on the shape only, so every thread count computes the same bits.
struct Linear {
  const float* x = nullptr;
  std::int64_t ldx = 0;
  const float* w = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
  std::int64_t ldy = 0;
  std::int64_t m = 0, n = 0, k = 0, mb = 1, nb = 1;

  Linear() = default;
  Linear(const float* x_, std::int64_t ldx_, const float* w_, const float* b_, float* y_, std::int64_t ldy_,
         std::int64_t m_, std::int64_t n_, std::int64_t k_)
      : x(x_), ldx(ldx_), w(w_), bias(b_), y(y_), ldy(ldy_), m(m_), n(n_), k(k_) {
    mb = std::clamp<std::int64_t>(round_up(ceil_div(m, 16), 16), 64, 512);
    nb = n <= 1024 ? n : 512;
  }
  std::int64_t items() const { return ceil_div(m, mb) * ceil_div(n, nb); }
  void run_item(std::int64_t item) const {
    const std::int64_t n_blocks = ceil_div(n, nb);
    const std::int64_t m0 = item / n_blocks * mb, n0 = item % n_blocks * nb;
    const std::int64_t rows = std::min(mb, m - m0), cols = std::min(nb, n - n0);
    for (std::int64_t r = 0; r < rows; ++r) std::memcpy(y + (m0 + r) * ldy + n0, bias + n0, std::size_t(cols) * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(cols), int(k), 1.0f, x + m0 * ldx, int(ldx),
                w + n0 * k, int(k), 1.0f, y + m0 * ldy + n0, int(ldy));
  }
};

class BlockedAttention final : public PreparedKernel {
 public:
  BlockedAttention(const Plan& plan, const TensorSet& t, std::unique_ptr<Executor> executor, Isa isa,
                   PhaseRecorder* phases)
      : plan_(plan), p_(plan.p), mk_(micro_kernels(isa)), executor_(std::move(executor)), phases_(phases) {
    const Problem& p = p_;
    const std::int64_t d = plan.d, da = additive_dim(p);
    scale_ = float(1.4426950408889634 / std::sqrt(double(d)));  // log2(e) / sqrt(d): scores in the log2 domain
    if (p.projections) {
      w_q_ = copy_of(t, "w_q"), b_q_ = copy_of(t, "b_q"), w_k_ = copy_of(t, "w_k"), b_k_ = copy_of(t, "b_k");
      w_v_ = copy_of(t, "w_v"), b_v_ = copy_of(t, "b_v"), w_o_ = copy_of(t, "w_o"), b_o_ = copy_of(t, "b_o");
      q_proj_ = Floats(p.batch * p.seq_q * p.heads * d);          // [B, Lq, H, d]
      k_proj_ = Floats(p.batch * p.seq_kv * p.kv_heads * d);      // [B, Lk, Hk, d]
      v_proj_ = Floats(p.batch * p.seq_kv * p.kv_heads * plan.dv);  // [B, Lk, Hk, dv]
      attn_ = Floats(p.batch * p.seq_q * p.heads * plan.dv);      // [B, Lq, H, dv], before w_o
    }
    if (p.score == Score::multiplicative) w_score_ = copy_of(t, "w_score");  // [H][d][d]
    if (p.score == Score::additive) {
      wa_q_ = copy_of(t, "w_score_q");                       // [H][da][d]
      wa_k_ = copy_of(t, "w_score_k");                       // [H][da][d]
      u_ = copy_of(t, "v_score", fast_math::kLog2e);         // [H][da], times log2(e)
      u_sum_.resize(std::size_t(p.heads));                   // [H]: sum_a u[h][a]
      for (std::int64_t h = 0; h < p.heads; ++h)
        for (std::int64_t a = 0; a < da; ++a) u_sum_[std::size_t(h)] += u_.data()[h * da + a];
    }
    // packed: per buffer (wave parity x slot), K^T tiles [kv_tiles][kBc/16][dk][16] and V tiles [kv_tiles][dvp/16][kBc][16]
    for (std::int64_t s = 0; s < plan.packed_buffers; ++s) {
      packed_k_.emplace_back(plan.packed_k_floats);
      packed_v_.emplace_back(plan.packed_v_floats);
    }
    // partials: [unit][row][kv_chunk][m, l, O(dvp)]
    if (plan.partial_floats > 0) partials_ = Floats(plan.partial_floats);
    scratch_.resize(std::size_t(plan.threads));
    for (Scratch& s : scratch_) s.allocate(plan);
    items_.reserve(std::size_t((plan.path == Path::tiled ? plan.slots * plan.tiles_per_unit : plan.units) * plan.chunks));
  }

  void run(const TensorSet& in, Tensor& out) override {
    const Problem& p = p_;
    // OpenBLAS (projections, multiplicative scores) runs single-threaded inside: the executor owns the cores.
    const BlasThreads blas(1);
    Inputs io{in.at("q").as<float>().data(), in.at("k").as<float>().data(), in.at("v").as<float>().data(),
              out.as<float>().data(), p.mask == Mask::padding ? in.at("lengths").as<std::int32_t>().data() : nullptr};
    if (p.projections) {
      project_inputs(io);
      io = Inputs{q_proj_.data(), k_proj_.data(), v_proj_.data(), attn_.data(), io.lengths};
    }
    switch (plan_.path) {
      case Path::tiled: run_tiled(io); break;
      case Path::streamed: run_streamed(io); break;
      case Path::direct: run_direct(io); break;
    }
    if (plan_.chunks > 1) merge(io);
    if (p.projections) project_output(out.as<float>().data());
  }

 private:
  struct Inputs {
    const float* q;  // [B, Lq, H, d]
    const float* k;  // [B, Lk, Hk, d]
    const float* v;  // [B, Lk, Hk, dv]
    float* o;        // [B, Lq, H, dv]
    const std::int32_t* lengths;  // [B] or null
  };

  // Per-thread scratch, carved from one allocation.
  struct Scratch {
    Floats buffer;
    float* q = nullptr;      // tiled: [br][dq] prepared query rows; direct: [H*Lq][dq]
    float* s = nullptr;      // tiled: [br][kBc] scores, then probabilities (exact update)
    float* p = nullptr;      // tiled: [br][kBc] probabilities of the lazy update
    float* o = nullptr;      // [rows][dvp] unnormalised output
    float* m = nullptr;      // [rows] running max (log2 domain)
    float* l = nullptr;      // [rows] running sum
    float* alpha = nullptr;  // [rows] rescale factor of the current tile
    float* sums = nullptr;   // [br] the current tile's row sums of P (lazy update)
    float* ka = nullptr;     // additive: [kPackTiles * kBc][da] keys' Wk k before packing
    float* k_tile = nullptr;  // streamed: one packed K tile
    float* v_tile = nullptr;  // streamed: one packed V tile
    std::int64_t* rows = nullptr;     // direct: [group * Lq] rows of one kv head
    std::int64_t* visible = nullptr;  // direct: [group * Lq] keys of the block each row sees
    std::int64_t* limit = nullptr;  // [rows] (tiled) or [Lq] (direct): visible keys per row

    void allocate(const Plan& plan) {
      buffer = Floats(plan.scratch_floats);
      float* next = buffer.data();
      auto take = [&](std::int64_t floats) {
        float* at = next;
        next += round_up(floats, 16);
        return at;
      };
      const bool direct = plan.path == Path::direct;
      const std::int64_t n = plan.path == Path::tiled ? plan.br : plan.rows_per_unit;  // rows in flight
      q = take(n * plan.dq);
      if (!direct) {
        s = take(plan.br * kBc);
        p = take(plan.br * kBc);
      }
      o = take(n * plan.dvp);
      m = take(n);
      l = take(n);
      if (!direct) {
        alpha = take(plan.br);
        sums = take(plan.br);
      }
      limit = reinterpret_cast<std::int64_t*>(take(2 * (direct ? plan.p.seq_q : n)));
      if (plan.path == Path::tiled && plan.p.score == Score::additive) ka = take(kPackTiles * kBc * plan.dk);
      if (plan.path == Path::streamed) {
        k_tile = take(kBc * plan.dk);
        v_tile = take(kBc * plan.dvp);
      }
      if (direct) {
        rows = reinterpret_cast<std::int64_t*>(take(2 * plan.group * plan.p.seq_q));
        visible = reinterpret_cast<std::int64_t*>(take(2 * plan.group * plan.p.seq_q));
      }
    }
  };

  struct Item {
    std::int64_t id;    // tiled: (slot * tiles_per_unit + tile) * chunks + chunk; streamed: unit * chunks + chunk;
                        // direct: b * chunks + chunk
    std::int64_t work;  // estimated cost, for ordering
  };

  // ---- geometry -----------------------------------------------------------------------------

  std::int64_t batch_of(std::int64_t unit) const { return unit / (plan_.units / p_.batch); }
  /// The query head of row rho of `unit`.
  std::int64_t head_of(std::int64_t unit, std::int64_t rho) const {
    const std::int64_t local = rho / p_.seq_q;
    if (plan_.path == Path::direct) return local;
    if (p_.score == Score::additive) return unit % p_.heads;
    return unit % p_.kv_heads * plan_.group + local;
  }
  std::int64_t kv_head_of(std::int64_t unit) const { return head_of(unit, 0) / plan_.group; }

  /// Keys any row of batch entry b may see: the padding length, or all.
  std::int64_t valid_keys(const Inputs& io, std::int64_t b) const {
    return io.lengths ? std::clamp<std::int64_t>(io.lengths[b], 0, p_.seq_kv) : p_.seq_kv;
  }
  /// Row i of batch entry b sees keys j < limit: j < lengths[b] (padding), j <= i + Lk - Lq (causal).
  std::int64_t limit(const Inputs& io, std::int64_t b, std::int64_t i) const {
    std::int64_t lim = valid_keys(io, b);
    if (p_.mask == Mask::causal) lim = std::min(lim, i + p_.seq_kv - p_.seq_q + 1);
    return std::max<std::int64_t>(lim, 0);
  }

  float* output_row(const Inputs& io, std::int64_t unit, std::int64_t rho) const {
    const std::int64_t b = batch_of(unit), h = head_of(unit, rho), i = rho % p_.seq_q;
    return io.o + ((b * p_.seq_q + i) * p_.heads + h) * plan_.dv;
  }
  float* partial(std::int64_t unit, std::int64_t rho, std::int64_t chunk) const {
    return partials_.data() + ((unit * plan_.rows_per_unit + rho) * plan_.chunks + chunk) * (plan_.dvp + 2);
  }

  /// Rows [rho0, rho0 + rows) of `unit` are done with `chunk`: out = O / l (0 where nothing was
  /// visible), or their (m, l, O) become the chunk's partials.
  void finish_rows(const Inputs& io, std::int64_t unit, std::int64_t rho0, std::int64_t rows, std::int64_t chunk,
                   const float* m, const float* l, const float* o) const {
    const std::int64_t dv = plan_.dv, dvp = plan_.dvp;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (plan_.chunks > 1) {
        float* part = partial(unit, rho0 + r, chunk);
        part[0] = m[r];
        part[1] = l[r];
        std::memcpy(part + 2, o + r * dvp, std::size_t(dvp) * sizeof(float));
        continue;
      }
      float* out = output_row(io, unit, rho0 + r);
      if (l[r] > 0) {
        const float inv = 1.0f / l[r];
        for (std::int64_t c = 0; c < dv; ++c) out[c] = o[r * dvp + c] * inv;
      } else {
        std::fill(out, out + dv, 0.0f);  // fully masked row
      }
    }
  }

  /// Requests the query rows [rho0, rho1) of `unit` (or, `output`, their output rows) into L2 ahead of
  /// use. One head's rows are H*d floats apart ([B, L, H, d]: 4 KB at H = 16, d = 64), a stride the
  /// hardware prefetchers do not follow: without this every line of a tile's queries and outputs is a
  /// demand miss (measured: 3% of the time at b1_h16_sq1024_d64, one thread).
  void prefetch_rows(const Inputs& io, std::int64_t unit, std::int64_t rho0, std::int64_t rho1, bool output) const {
    const std::int64_t b = batch_of(unit), d = plan_.d, dv = plan_.dv;
    for (std::int64_t rho = rho0; rho < rho1; ++rho) {
      if (output) {
        const float* row = output_row(io, unit, rho);
        for (std::int64_t c = 0; c < dv; c += 16) __builtin_prefetch(row + c, 1, 2);
      } else {
        const float* row = io.q + ((b * p_.seq_q + rho % p_.seq_q) * p_.heads + head_of(unit, rho)) * d;
        for (std::int64_t c = 0; c < d; c += 16) __builtin_prefetch(row + c, 0, 2);
      }
    }
  }

  /// Requests keys and values [j0, j1) of one kv head (rows Hk*d floats apart, like the queries: see
  /// prefetch_rows) into L2, a tile ahead of their packing.
  void prefetch_kv(const float* k, std::int64_t k_stride, const float* v, std::int64_t v_stride, std::int64_t j0,
                   std::int64_t j1) const {
    for (std::int64_t j = j0; j < j1; ++j) {
      for (std::int64_t c = 0; c < plan_.d; c += 16) __builtin_prefetch(k + j * k_stride + c, 0, 2);
      for (std::int64_t c = 0; c < plan_.dv; c += 16) __builtin_prefetch(v + j * v_stride + c, 0, 2);
    }
  }

  /// Query rows [rho0, rho0 + rows) of `unit`, ready for the score micro-kernel, into dst [rows][ld]:
  ///   scaled_dot      q * log2(e)/sqrt(d)
  ///   multiplicative  (q W_h) * log2(e)/sqrt(d)          one GEMM per head segment
  ///   additive        (q Wq_h^T) * 2 log2(e)               one GEMM per head segment
  void prepare_queries(const Inputs& io, std::int64_t unit, std::int64_t rho0, std::int64_t rows, float* dst,
                       std::int64_t ld) const {
    const Problem& p = p_;
    const std::int64_t b = batch_of(unit), d = plan_.d, da = additive_dim(p), ldq = p.heads * d;
    for (std::int64_t r = 0; r < rows;) {
      const std::int64_t rho = rho0 + r, h = head_of(unit, rho), i = rho % p.seq_q;
      const std::int64_t seg = std::min(rows - r, p.seq_q - i);  // rows of the same head
      const float* src = io.q + ((b * p.seq_q + i) * p.heads + h) * d;
      float* out = dst + r * ld;
      switch (p.score) {
        case Score::scaled_dot:
          for (std::int64_t s = 0; s < seg; ++s)
            for (std::int64_t c = 0; c < d; ++c) out[s * ld + c] = src[s * ldq + c] * scale_;
          break;
        case Score::multiplicative:
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(seg), int(d), int(d), scale_, src, int(ldq),
                      w_score_.data() + h * d * d, int(d), 0.0f, out, int(ld));
          break;
        case Score::additive:
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(seg), int(da), int(d), 2.0f * fast_math::kLog2e,
                      src, int(ldq), wa_q_.data() + h * da * d, int(d), 0.0f, out, int(ld));
          break;
      }
      r += seg;
    }
  }

  // ---- projections ----------------------------------------------------------------------------

  void project_inputs(const Inputs& io) {
    const Problem& p = p_;
    const std::int64_t E = p.model_dim(), d = plan_.d, dv = plan_.dv;
    const Linear lin[3] = {
        Linear(io.q, E, w_q_.data(), b_q_.data(), q_proj_.data(), p.heads * d, p.batch * p.seq_q, p.heads * d, E),
        Linear(io.k, E, w_k_.data(), b_k_.data(), k_proj_.data(), p.kv_heads * d, p.batch * p.seq_kv, p.kv_heads * d, E),
        Linear(io.v, E, w_v_.data(), b_v_.data(), v_proj_.data(), p.kv_heads * dv, p.batch * p.seq_kv, p.kv_heads * dv,
               E)};
    const std::int64_t n0 = lin[0].items(), n1 = lin[1].items();
    executor_->run(n0 + n1 + lin[2].items(), [&](std::int64_t item, int) {
      const PhaseScope phase(phases_, Phase::projections);
      if (item < n0)
        lin[0].run_item(item);
      else if (item < n0 + n1)
        lin[1].run_item(item - n0);
      else
        lin[2].run_item(item - n0 - n1);
    });
  }

  void project_output(float* out) {
    const Problem& p = p_;
    const std::int64_t E = p.model_dim(), width = p.heads * plan_.dv;
    const Linear lin(attn_.data(), width, w_o_.data(), b_o_.data(), out, E, p.batch * p.seq_q, E, width);
    executor_->run(lin.items(), [&](std::int64_t item, int) {
      const PhaseScope phase(phases_, Phase::projections);
      lin.run_item(item);
    });
  }

  // ---- tiled path -----------------------------------------------------------------------------

  /// Packs KV tiles [block * kPackTiles, ...) of `unit` into packed buffer `slot` (tiles no row can see
  /// are skipped).
  void pack_block(const Inputs& io, std::int64_t unit, std::int64_t slot, std::int64_t block, int thread) {
    const Problem& p = p_;
    const std::int64_t b = batch_of(unit), g = kv_head_of(unit), Lk = p.seq_kv, dk = plan_.dk;
    const std::int64_t needed = ceil_div(valid_keys(io, b), kBc);
    const std::int64_t t0 = block * kPackTiles, t1 = std::min(needed, t0 + kPackTiles);
    if (t0 >= t1) return;
    const PhaseScope phase(phases_, Phase::packing);
    const std::int64_t k_stride = p.kv_heads * plan_.d, v_stride = p.kv_heads * plan_.dv;
    const float* k_src = io.k + (b * Lk * p.kv_heads + g) * plan_.d;  // key j at + j * k_stride
    const float* v_src = io.v + (b * Lk * p.kv_heads + g) * plan_.dv;
    const float* ka = nullptr;  // additive: Wk k for keys [t0 * kBc, ...), [keys][da]
    if (p.score == Score::additive) {
      const std::int64_t h = head_of(unit, 0), keys = std::min(Lk, t1 * kBc) - t0 * kBc, d = plan_.d;
      float* tmp = scratch_[std::size_t(thread)].ka;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(keys), int(dk), int(d), 2.0f * fast_math::kLog2e,
                  k_src + t0 * kBc * k_stride, int(k_stride), wa_k_.data() + h * dk * d, int(d), 0.0f, tmp, int(dk));
      ka = tmp;
    }
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t j0 = t * kBc, n = std::min(kBc, Lk - j0);
      prefetch_kv(k_src, k_stride, v_src, v_stride, j0 + kBc, std::min(Lk, j0 + 2 * kBc));
      float* k_dst = packed_k_[std::size_t(slot)].data() + t * kBc * dk;
      if (ka)
        mk_.pack_k(ka + (t - t0) * kBc * dk, dk, n, dk, k_dst);
      else
        mk_.pack_k(k_src + j0 * k_stride, k_stride, n, dk, k_dst);
      mk_.pack_v(v_src + j0 * v_stride, v_stride, n, plan_.dv, plan_.dvp,
                 packed_v_[std::size_t(slot)].data() + t * kBc * plan_.dvp);
    }
  }

  /// One Q tile of `unit` against the keys of `chunk`.
  void tile_item(const Inputs& io, std::int64_t unit, std::int64_t slot, std::int64_t tile, std::int64_t chunk,
                 int thread) {
    const Problem& p = p_;
    Scratch& s = scratch_[std::size_t(thread)];
    const PhaseSpan span(phases_, "tile item");
    PhaseScope phase(phases_, Phase::packing);  // the queries' preparation; kv_tile_step switches on
    const auto [rho0, rho1] = plan_.tile_rows(tile);
    const std::int64_t rows = rho1 - rho0, b = batch_of(unit), dvp = plan_.dvp, dk = plan_.dk;
    std::int64_t max_limit = 0, min_limit = p.seq_kv;
    for (std::int64_t r = 0; r < rows; ++r) {
      s.limit[r] = limit(io, b, (rho0 + r) % p.seq_q);
      max_limit = std::max(max_limit, s.limit[r]);
      min_limit = std::min(min_limit, s.limit[r]);
    }
    prepare_queries(io, unit, rho0, rows, s.q, plan_.dq);
    if (tile + 1 < plan_.tiles_per_unit) {  // most often this thread's next item
      const auto [next0, next1] = plan_.tile_rows(tile + 1);
      prefetch_rows(io, unit, next0, next1, false);
    }
    if (plan_.chunks == 1) prefetch_rows(io, unit, rho0, rho1, true);  // written by finish_rows
    std::fill(s.m, s.m + rows, kNegInf);
    std::fill(s.l, s.l + rows, 0.0f);
    std::fill(s.o, s.o + rows * dvp, 0.0f);
    const float* u = nullptr;
    float u_sum = 0;
    if (p.score == Score::additive) {
      const std::int64_t h = head_of(unit, 0);
      u = u_.data() + h * dk, u_sum = u_sum_[std::size_t(h)];
    }
    const std::int64_t key_begin = chunk * plan_.chunk_keys;
    const std::int64_t key_end = std::min({p.seq_kv, key_begin + plan_.chunk_keys, max_limit});
    for (std::int64_t j0 = key_begin; j0 < key_end; j0 += kBc) {  // KV tiles past every row's limit are skipped
      const std::int64_t t = j0 / kBc;
      const TileRows tr{s.q, rows, s.limit, min_limit, s.m, s.l, s.o};
      kv_tile_step(s, tr, packed_k_[std::size_t(slot)].data() + t * kBc * dk,
                   packed_v_[std::size_t(slot)].data() + t * kBc * dvp, j0, u, u_sum, phase);
    }
    phase.switch_to(finish_phase());
    finish_rows(io, unit, rho0, rows, chunk, s.m, s.l, s.o);
  }

  /// A block of query rows with their online-softmax state (all arrays indexed by the block's row).
  struct TileRows {
    const float* q;  // [rows][dq] prepared queries
    std::int64_t rows;
    const std::int64_t* limit;  // [rows] keys each row sees
    std::int64_t min_limit;     // min over the rows of limit
    float* m;
    float* l;
    float* o;  // [rows][dvp]
  };

  /// One KV tile (keys j0 .. j0 + kBc, packed) into the state of a block of rows (at most br rows):
  /// S = Q K^T, masked; then the lazy update (P against the rows' current maxima, O += P V with no
  /// rescale: kLazyRescale) where every row that sees a key of the tile has a max already and no score
  /// is above it by more than the slack, else the exact update (new maxima, O = alpha O + P V).
  /// `phase` is switched to qk, softmax and pv as the step goes (it ends in pv).
  void kv_tile_step(Scratch& s, const TileRows& tr, const float* k_tile, const float* v_tile, std::int64_t j0,
                    const float* u, float u_sum, PhaseScope& phase) const {
    const std::int64_t rows = tr.rows, dvp = plan_.dvp, dk = plan_.dk;
    phase.switch_to(Phase::qk);
    if (u)
      mk_.scores_additive(tr.q, plan_.dq, rows, k_tile, dk, u, u_sum, s.s);
    else
      mk_.scores_dot(tr.q, plan_.dq, rows, k_tile, dk, s.s);  // S = Q K^T (log2 domain)
    if (j0 + kBc > tr.min_limit)  // some row cannot see every key of this tile: S = -inf there
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t from = std::clamp<std::int64_t>(tr.limit[r] - j0, 0, kBc);
        std::fill(s.s + r * kBc + from, s.s + (r + 1) * kBc, kNegInf);
      }
    phase.switch_to(Phase::softmax);
    bool started = true;  // every row that sees a key of this tile has a finite max
    for (std::int64_t r = 0; r < rows; ++r) started &= tr.m[r] != kNegInf || tr.limit[r] <= j0;
    if (started && mk_.softmax_lazy(s.s, rows, tr.m, s.p, s.sums)) {  // P = 2^(S - m), m unchanged
      for (std::int64_t r = 0; r < rows; ++r) tr.l[r] += s.sums[r];
      phase.switch_to(Phase::pv);
      mk_.accumulate_pv(s.p, rows, v_tile, dvp, nullptr, tr.o);  // O += P V
      return;
    }
    mk_.softmax_tile(s.s, rows, tr.m, tr.l, s.alpha);           // P = 2^(S - m_new), alpha = 2^(m_old - m_new)
    phase.switch_to(Phase::pv);
    mk_.accumulate_pv(s.s, rows, v_tile, dvp, s.alpha, tr.o);  // O = alpha O + P V
  }

  void run_tiled(const Inputs& io) {
    const Plan& plan = plan_;
    const std::int64_t pack_blocks = ceil_div(plan.kv_tiles, kPackTiles);
    const std::int64_t waves = ceil_div(plan.units, plan.slots);
    auto wave_size = [&](std::int64_t w) { return std::min(plan.slots, plan.units - w * plan.slots); };
    auto buffer = [&](std::int64_t w, std::int64_t slot) { return (w % 2) * plan.slots + slot; };
    executor_->run(wave_size(0) * pack_blocks, [&](std::int64_t item, int thread) {
      pack_block(io, item / pack_blocks, buffer(0, item / pack_blocks), item % pack_blocks, thread);
    });
    for (std::int64_t w = 0; w < waves; ++w) {
      const std::int64_t u0 = w * plan.slots, size = wave_size(w);
      // This wave's Q tiles, largest first (causal and padding make them differ), so the last items
      // to start are short ones and threads finish together; then the next wave's packing.
      items_.clear();
      for (std::int64_t slot = 0; slot < size; ++slot)
        for (std::int64_t t = 0; t < plan.tiles_per_unit; ++t) {
          const auto [rho0, rho1] = plan.tile_rows(t);
          std::int64_t max_limit = 0;
          for (std::int64_t rho = rho0; rho < rho1; ++rho)
            max_limit = std::max(max_limit, limit(io, batch_of(u0 + slot), rho % p_.seq_q));
          for (std::int64_t c = 0; c < plan.chunks; ++c) {
            const std::int64_t begin = c * plan.chunk_keys, end = std::min(begin + plan.chunk_keys, max_limit);
            const std::int64_t tiles = end > begin ? ceil_div(end - begin, kBc) : 0;
            items_.push_back({(slot * plan.tiles_per_unit + t) * plan.chunks + c, (rho1 - rho0) * tiles});
          }
        }
      std::sort(items_.begin(), items_.end(),
                [](const Item& a, const Item& b) { return a.work != b.work ? a.work > b.work : a.id < b.id; });
      const std::int64_t compute = std::int64_t(items_.size());
      const std::int64_t packs = w + 1 < waves ? wave_size(w + 1) * pack_blocks : 0;
      executor_->run(compute + packs, [&](std::int64_t k, int thread) {
        if (k >= compute) {  // packing for the next wave, into the other buffers
          const std::int64_t item = k - compute, slot = item / pack_blocks;
          pack_block(io, u0 + plan.slots + slot, buffer(w + 1, slot), item % pack_blocks, thread);
          return;
        }
        const std::int64_t id = items_[std::size_t(k)].id, chunk = id % plan.chunks, rest = id / plan.chunks;
        const std::int64_t slot = rest / plan.tiles_per_unit, tile = rest % plan.tiles_per_unit;
        tile_item(io, u0 + slot, buffer(w, slot), tile, chunk, thread);
      });
    }
  }

  // ---- streamed path --------------------------------------------------------------------------

  /// Every query row of `unit` against the keys of `chunk`: each KV tile is packed once, into this
  /// thread's buffers, and used by all row blocks while it is in L1/L2.
  void streamed_item(const Inputs& io, std::int64_t unit, std::int64_t chunk, int thread) {
    const Problem& p = p_;
    Scratch& s = scratch_[std::size_t(thread)];
    const PhaseSpan span(phases_, "streamed item");
    PhaseScope phase(phases_, Phase::packing);
    const std::int64_t rows = plan_.rows_per_unit, br = plan_.br, b = batch_of(unit), g = kv_head_of(unit);
    const std::int64_t dq = plan_.dq, dvp = plan_.dvp, Lk = p.seq_kv;
    std::int64_t max_limit = 0;
    for (std::int64_t r = 0; r < rows; ++r) max_limit = std::max(max_limit, s.limit[r] = limit(io, b, r % p.seq_q));
    prepare_queries(io, unit, 0, rows, s.q, dq);
    std::fill(s.m, s.m + rows, kNegInf);
    std::fill(s.l, s.l + rows, 0.0f);
    std::fill(s.o, s.o + rows * dvp, 0.0f);
    const std::int64_t k_stride = p.kv_heads * plan_.d, v_stride = p.kv_heads * plan_.dv;
    const float* k_src = io.k + (b * Lk * p.kv_heads + g) * plan_.d;  // key j at + j * k_stride
    const float* v_src = io.v + (b * Lk * p.kv_heads + g) * plan_.dv;
    const std::int64_t key_begin = chunk * plan_.chunk_keys;
    const std::int64_t key_end = std::min({Lk, key_begin + plan_.chunk_keys, max_limit});
    for (std::int64_t j0 = key_begin; j0 < key_end; j0 += kBc) {
      const std::int64_t n = std::min(kBc, Lk - j0);
      phase.switch_to(Phase::packing);
      // K and V come from memory exactly once here, each key's row in a different page: the next tile
      // is requested a tile ahead (measured: 133 -> 110 ms CPU time at b1_h16_sq64_skv16384_d128).
      prefetch_kv(k_src, k_stride, v_src, v_stride, j0 + kBc, std::min(key_end, j0 + 2 * kBc));
      mk_.pack_k(k_src + j0 * k_stride, k_stride, n, plan_.dk, s.k_tile);
      mk_.pack_v(v_src + j0 * v_stride, v_stride, n, plan_.dv, dvp, s.v_tile);
      for (std::int64_t r0 = 0; r0 < rows; r0 += br) {
        const std::int64_t block = std::min(br, rows - r0);
        const auto [lo, hi] = std::minmax_element(s.limit + r0, s.limit + r0 + block);
        if (*hi <= j0) continue;  // no row of the block sees this tile
        const TileRows tr{s.q + r0 * dq, block, s.limit + r0, *lo, s.m + r0, s.l + r0, s.o + r0 * dvp};
        kv_tile_step(s, tr, s.k_tile, s.v_tile, j0, nullptr, 0.0f, phase);
      }
    }
    phase.switch_to(finish_phase());
    finish_rows(io, unit, 0, rows, chunk, s.m, s.l, s.o);
  }

  void run_streamed(const Inputs& io) {
    const Plan& plan = plan_;
    items_.clear();
    for (std::int64_t unit = 0; unit < plan.units; ++unit) {
      const std::int64_t visible = valid_keys(io, batch_of(unit));
      for (std::int64_t c = 0; c < plan.chunks; ++c) {
        const std::int64_t begin = c * plan.chunk_keys, end = std::min(begin + plan.chunk_keys, visible);
        items_.push_back({unit * plan.chunks + c, std::max<std::int64_t>(end - begin, 0)});
      }
    }
    std::sort(items_.begin(), items_.end(),
              [](const Item& a, const Item& b) { return a.work != b.work ? a.work > b.work : a.id < b.id; });
    executor_->run(std::int64_t(items_.size()), [&](std::int64_t k, int thread) {
      const std::int64_t id = items_[std::size_t(k)].id;
      streamed_item(io, id / plan.chunks, id % plan.chunks, thread);
    });
  }

  // ---- direct path ----------------------------------------------------------------------------

  /// Every query row of batch entry b against the keys of `chunk`, K and V read in place.
  void direct_item(const Inputs& io, std::int64_t b, std::int64_t chunk, int thread) {
    const Problem& p = p_;
    Scratch& s = scratch_[std::size_t(thread)];
    const PhaseSpan span(phases_, "direct item");
    PhaseScope phase(phases_, Phase::packing);
    const std::int64_t rows = plan_.rows_per_unit;
    prepare_queries(io, b, 0, rows, s.q, plan_.dq);  // columns d..dq stay 0 from the allocation
    for (std::int64_t i = 0; i < p.seq_q; ++i) s.limit[i] = limit(io, b, i);
    std::fill(s.m, s.m + rows, kNegInf);
    std::fill(s.l, s.l + rows, 0.0f);
    std::fill(s.o, s.o + rows * plan_.dvp, 0.0f);
    DecodeArgs a;
    a.q = s.q;
    a.dq = plan_.dq;
    a.k_stride = p.kv_heads * plan_.d;
    a.v_stride = p.kv_heads * plan_.dv;
    a.k = io.k + b * p.seq_kv * a.k_stride;
    a.v = io.v + b * p.seq_kv * a.v_stride;
    a.heads = p.heads, a.kv_heads = p.kv_heads, a.seq_q = p.seq_q;
    a.d = plan_.d, a.dv = plan_.dv, a.dvp = plan_.dvp;
    a.limit = s.limit;
    a.key_begin = chunk * plan_.chunk_keys;
    a.key_end = std::min(p.seq_kv, a.key_begin + plan_.chunk_keys);
    a.m = s.m, a.l = s.l, a.o = s.o, a.rows = s.rows, a.visible = s.visible;
    phase.switch_to(Phase::fused);
    mk_.decode(a);
    phase.switch_to(finish_phase());
    finish_rows(io, b, 0, rows, chunk, s.m, s.l, s.o);
  }

  void run_direct(const Inputs& io) {
    const Plan& plan = plan_;
    items_.clear();
    for (std::int64_t b = 0; b < p_.batch; ++b) {
      const std::int64_t visible = valid_keys(io, b);
      for (std::int64_t c = 0; c < plan.chunks; ++c) {
        const std::int64_t begin = c * plan.chunk_keys, end = std::min(begin + plan.chunk_keys, visible);
        items_.push_back({b * plan.chunks + c, std::max<std::int64_t>(end - begin, 0)});
      }
    }
    std::sort(items_.begin(), items_.end(),
              [](const Item& a, const Item& b) { return a.work != b.work ? a.work > b.work : a.id < b.id; });
    executor_->run(std::int64_t(items_.size()), [&](std::int64_t k, int thread) {
      const std::int64_t id = items_[std::size_t(k)].id;
      direct_item(io, id / plan.chunks, id % plan.chunks, thread);
    });
  }

  // ---- split-KV merge -------------------------------------------------------------------------

  /// Combines each row's chunk partials (online-softmax merge rule):
  ///   m = max_c m_c;  l = sum_c l_c 2^(m_c - m);  O = sum_c O_c 2^(m_c - m);  out = O / l.
  void merge(const Inputs& io) {
    const Plan& plan = plan_;
    const std::int64_t total = plan.units * plan.rows_per_unit, per_item = 64, dv = plan.dv;
    executor_->run(ceil_div(total, per_item), [&](std::int64_t item, int) {
      const PhaseScope phase(phases_, Phase::merge);
      for (std::int64_t row = item * per_item; row < std::min(total, (item + 1) * per_item); ++row) {
        const std::int64_t unit = row / plan.rows_per_unit, rho = row % plan.rows_per_unit;
        float* out = output_row(io, unit, rho);
        float m = kNegInf;
        for (std::int64_t c = 0; c < plan.chunks; ++c) m = std::max(m, partial(unit, rho, c)[0]);
        std::fill(out, out + dv, 0.0f);
        if (m == kNegInf) continue;  // fully masked row
        float l = 0;
        for (std::int64_t c = 0; c < plan.chunks; ++c) {
          const float* part = partial(unit, rho, c);
          const float w = fast_math::exp2(part[0] - m);  // 2^(m_c - m); 0 for a chunk that saw nothing
          l += part[1] * w;
          for (std::int64_t x = 0; x < dv; ++x) out[x] += part[2 + x] * w;
        }
        const float inv = 1.0f / l;
        for (std::int64_t x = 0; x < dv; ++x) out[x] *= inv;
      }
    });
  }

  /// finish_rows: the rows' normalisation (softmax), or with split keys their partials (merge).
  Phase finish_phase() const { return plan_.chunks > 1 ? Phase::merge : Phase::softmax; }

  Plan plan_;
  Problem p_;
  const MicroKernels& mk_;
  std::unique_ptr<Executor> executor_;
  PhaseRecorder* phases_;  // null unless profiling
  float scale_ = 1;
  Floats w_q_, b_q_, w_k_, b_k_, w_v_, b_v_, w_o_, b_o_;  // projection weights, as given
  Floats q_proj_, k_proj_, v_proj_, attn_;                 // projected Q, K, V; attention output before w_o
  Floats w_score_, wa_q_, wa_k_, u_;                       // score weights (u times log2 e)
  std::vector<float> u_sum_;
  std::vector<Floats> packed_k_, packed_v_;  // per slot
  Floats partials_;
  std::vector<Scratch> scratch_;  // per thread
  std::vector<Item> items_;
};

}  // namespace

std::unique_ptr<PreparedKernel> prepare_blocked(const Problem& p, const TensorSet& tensors, Parallelism parallelism,
                                                int threads, const Options& options) {
  const Plan plan = make_plan(p, parallelism == Parallelism::serial ? 1 : threads, options.tile_rows);
  const Isa isa = options.isa.value_or(select_isa());
  return std::make_unique<BlockedAttention>(plan, tensors, make_executor(parallelism, plan.threads), isa,
                                            options.phases);
}

}  // namespace blocked

std::int64_t BlockedKernel::workspace_bytes(const Problem& p, const RunContext& ctx) const {
  return blocked::make_plan(p, effective_threads(ctx)).workspace_bytes();
}

std::unique_ptr<PreparedKernel> BlockedKernel::prepare(const Problem& p, const TensorSet& tensors,
                                                       const RunContext& ctx) const {
  blocked::Options options;
  options.phases = ctx.phases;
  return blocked::prepare_blocked(p, tensors, info().caps.parallelism, effective_threads(ctx), options);
}

Capabilities blocked_capabilities(Parallelism parallelism) {
  // Measured <= 1.1e-5 at seq 8192 (fast exp rel. error < 1e-7): docs/SEMANTICS.md section 6.
  return all_features(parallelism, 1e-4);
}

}  // namespace attnbench::kernels
