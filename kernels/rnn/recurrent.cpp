// The recurrent kernels: input projection as one GEMM, then per step the recurrent product and the
// fused cell (see recurrent.hpp for the scheme and the packed layout, baseline_reference.cpp for the
// equations).
#include "recurrent.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <omp.h>

#include "../attention/blocked/fast_math.hpp"
#include "attnbench/blas_threads.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"
#include "recurrent_weights.hpp"

namespace attnbench::kernels {
namespace {

namespace fm = blocked::fast_math;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// sigmoid(x) = 1 / (1 + e^-x) = 1 / (1 + 2^(-x log2 e)).
inline float sigmoid(float x) { return fm::recip_one_plus_exp2(-fm::kLog2e * x); }

/// Column of (unit j, gate g) in the packed pre-activation rows (XW, the biases): unit tiles of
/// kUnitTile units, gate-major inside a tile, the last tile padded (see recurrent.hpp).
inline std::int64_t packed_col(std::int64_t j, std::int64_t g, std::int64_t G) {
  return ((j / kUnitTile) * G + g) * kUnitTile + j % kUnitTile;
}

/// `n` units of the cell. Gate g of the pre-activations is at xw + g*xs and hw + g*hs; b_hn, h_prev,
/// c, h_out at the first unit. h_out is written to both outputs (the layer's output row and the next
/// step's contiguous state).
template <Op op>
inline void cell_block(std::int64_t n, const float* xw, std::int64_t xs, const float* hw, std::int64_t hs,
                       const float* b_hn, const float* h_prev, float* c, float* y, float* h_next) {
  // NOLINTNEXTLINE(bugprone-branch-clone): clang-tidy 14 compares the '#pragma omp simd' loops as equal
  if constexpr (op == Op::lstm) {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) {
      const float i = sigmoid(xw[u] + hw[u]), f = sigmoid(xw[xs + u] + hw[hs + u]);
      const float g = fm::tanh(xw[2 * xs + u] + hw[2 * hs + u]), o = sigmoid(xw[3 * xs + u] + hw[3 * hs + u]);
      const float cn = f * c[u] + i * g;  // c' = f*c + i*g
      c[u] = cn;
      y[u] = h_next[u] = o * fm::tanh(cn);  // h' = o * tanh(c')
    }
  } else if constexpr (op == Op::gru) {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) {
      const float r = sigmoid(xw[u] + hw[u]), z = sigmoid(xw[xs + u] + hw[hs + u]);
      const float nn = fm::tanh(xw[2 * xs + u] + r * (hw[2 * hs + u] + b_hn[u]));  // n = tanh(W_in x + b_in + r*(W_hn h + b_hn))
      y[u] = h_next[u] = (1.0f - z) * nn + z * h_prev[u];                          // h' = (1-z)*n + z*h
    }
  } else {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) y[u] = h_next[u] = fm::tanh(xw[u] + hw[u]);  // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
  }
}

class RecurrentRun final : public PreparedKernel {
 public:
  RecurrentRun(Op op, const Problem& p, const TensorSet& t, int threads, PhaseRecorder* phases)
      : op_(op), p_(p), E_(p.model_dim()), G_(gate_count(op)), dirs_(directions(p)), tiles_(ceil_div(E_, kUnitTile)),
        GEp_(tiles_ * G_ * kUnitTile), threads_(threads), phases_(phases),
        w_ih_(DataType::f32, {dirs_, GEp_, E_}), bias_x_(DataType::f32, {dirs_, GEp_}),
        b_hn_(DataType::f32, {dirs_, tiles_ * kUnitTile}), xw_(DataType::f32, {dirs_, p.batch * p.seq_q, GEp_}),
        hw_(DataType::f32, {p.batch, GEp_}), c_(DataType::f32, {p.batch, E_}), h_(DataType::f32, {2, p.batch, E_}) {
    validate_inputs(op, p, t);
    const float* wi = t.at("w_ih").as<float>().data();
    const float* wh = t.at("w_hh").as<float>().data();
    const float* bi = t.at("b_ih").as<float>().data();
    const float* bh = t.at("b_hh").as<float>().data();
    const auto& mk = blocked::micro_kernels(blocked::select_isa());
    for (std::int64_t d = 0; d < dirs_; ++d) {
      w_hh_.emplace_back(wh + d * G_ * E_ * E_, G_, E_, p.batch, mk);
      for (std::int64_t g = 0; g < G_; ++g)
        for (std::int64_t j = 0; j < E_; ++j) {
          const std::int64_t src = (d * G_ + g) * E_ + j, dst = d * GEp_ + packed_col(j, g, G_);
          std::memcpy(w_ih_.as<float>().data() + dst * E_, wi + src * E_, std::size_t(E_) * sizeof(float));
          // b_hh joins b_ih except in GRU's n gate, where r multiplies (W_hn h + b_hn).
          const bool gru_n = op == Op::gru && g == 2;
          bias_x_.as<float>()[std::size_t(dst)] = bi[src] + (gru_n ? 0.0f : bh[src]);
          if (gru_n) b_hn_.as<float>()[std::size_t(d * tiles_ * kUnitTile + j)] = bh[src];
        }
    }
  }

  void run(const TensorSet& inputs, Tensor& out) override {
    switch (op_) {
      case Op::lstm: return run_as<Op::lstm>(inputs, out);
      case Op::gru: return run_as<Op::gru>(inputs, out);
      default: return run_as<Op::elman>(inputs, out);
    }
  }

 private:
  template <Op op>
  void run_as(const TensorSet& inputs, Tensor& out) {
    const BlasThreads single(1);
    const std::int64_t B = p_.batch, L = p_.seq_q, E = E_, G = G_, GEp = GEp_;
    const float* x = inputs.at("x").as<float>().data();
    const float* h0 = inputs.at("h0").as<float>().data();
    const float* c0 = op == Op::lstm ? inputs.at("c0").as<float>().data() : nullptr;
    float* y = out.as<float>().data();
    const std::int64_t ld_out = dirs_ * E;  // between time steps of one batch entry in out: L * ld_out
#pragma omp parallel num_threads(threads_) if (threads_ > 1)
    {
      const std::int64_t me = omp_get_thread_num(), team = omp_get_num_threads();
      // This thread's units: tiles [jt0, jt1), i.e. units [j0, j1).
      const std::int64_t jt0 = tiles_ * me / team, jt1 = tiles_ * (me + 1) / team;
      const std::int64_t j0 = std::min(E, jt0 * kUnitTile), j1 = std::min(E, jt1 * kUnitTile);
      // 1. XW = x W_ih^T + bias for all B*L rows, rows split over threads.
      PhaseScope phase(phases_, Phase::input_projection);
      const std::int64_t rows = B * L, r0 = rows * me / team, r1 = rows * (me + 1) / team;
      for (std::int64_t d = 0; d < dirs_; ++d) {
        float* xw = xw_.as<float>().data() + d * rows * GEp;
        const float* bias = bias_x_.as<float>().data() + d * GEp;
        for (std::int64_t r = r0; r < r1; ++r) std::memcpy(xw + r * GEp, bias, std::size_t(GEp) * sizeof(float));
        if (r1 > r0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(r1 - r0), int(GEp), int(E), 1.0f, x + r0 * E, int(E),
                      w_ih_.as<float>().data() + d * GEp * E, int(E), 1.0f, xw + r0 * GEp, int(GEp));
      }
      phase.switch_to(Phase::sync);
#pragma omp barrier
      // 2. The recurrence, one direction after the other.
      for (std::int64_t d = 0; d < dirs_; ++d) {
        const float* xw = xw_.as<float>().data() + d * rows * GEp;
        const float* b_hn = b_hn_.as<float>().data() + d * tiles_ * kUnitTile;
        float* hw = hw_.as<float>().data();
        float* c = c_.as<float>().data();
        phase.switch_to(Phase::gates);  // the cell state's initialisation
        if (c0)
          for (std::int64_t b = 0; b < B; ++b)
            std::memcpy(c + b * E + j0, c0 + (d * B + b) * E + j0, std::size_t(j1 - j0) * sizeof(float));
        for (std::int64_t s = 0; s < L; ++s) {
          const std::int64_t t = d == 0 ? s : L - 1 - s;
          // h_{t-1} [B, E]: h0[d] at the first step, then the state the previous step wrote (two buffers:
          // other threads still read the previous state while this one writes the next).
          const float* h_prev = s == 0 ? h0 + d * B * E : h_.as<float>().data() + ((s - 1) % 2) * B * E;
          float* h_next = h_.as<float>().data() + (s % 2) * B * E;
          if (j1 > j0) {
            phase.switch_to(Phase::recurrent);
            w_hh_[std::size_t(d)].multiply(h_prev, E, B, jt0, jt1, hw);  // HW tiles (jt, g) = h_prev . W_hh^T
            phase.switch_to(Phase::gates);
            for (std::int64_t b = 0; b < B; ++b)
              for (std::int64_t jt = jt0; jt < jt1; ++jt) {
                const std::int64_t first = jt * kUnitTile, n = std::min(kUnitTile, E - first);
                cell_block<op>(n, xw + (b * L + t) * GEp + jt * G * kUnitTile, kUnitTile,
                               hw + (jt * G * B + b) * kUnitTile, B * kUnitTile, b_hn + first, h_prev + b * E + first,
                               c + b * E + first, y + (b * L + t) * ld_out + d * E + first, h_next + b * E + first);
              }
          }
          phase.switch_to(Phase::sync);
#pragma omp barrier
        }
      }
    }
  }

  Op op_;
  Problem p_;
  std::int64_t E_, G_, dirs_, tiles_, GEp_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  std::vector<RecurrentWeights> w_hh_;  // per direction, packed once (recurrent_weights.hpp)
  Tensor w_ih_;         // [dirs, GEp, E]: rows in packed_col order (zero rows for the padding units)
  Tensor bias_x_;       // [dirs, GEp] packed: b_ih + b_hh (GRU's n gate: b_in only)
  Tensor b_hn_;         // [dirs, tiles * kUnitTile]: GRU's b_hn (zeros otherwise)
  Tensor xw_;           // [dirs, B*L, GEp] packed: the input projection of every step
  Tensor hw_;           // [tiles * G, B, kUnitTile]: this step's recurrent product (RecurrentWeights::multiply)
  Tensor c_;            // [B, E]: the LSTM cell state
  Tensor h_;            // [2, B, E]: the hidden state, contiguous, alternating between steps
};

}  // namespace

std::int64_t RecurrentKernel::workspace_bytes(const Problem& p, const RunContext&) const {
  const std::int64_t E = p.model_dim(), Ep = ceil_div(E, kUnitTile) * kUnitTile, dirs = directions(p);
  const std::int64_t GEp = gate_count(info().op) * Ep;  // packed rows: whole unit tiles
  const std::int64_t floats =
      dirs * (2 * GEp * E + GEp + Ep) + dirs * p.batch * p.seq_q * GEp + p.batch * (GEp + 3 * E);
  return floats * std::int64_t(sizeof(float));
}

std::unique_ptr<PreparedKernel> RecurrentKernel::prepare(const Problem& p, const TensorSet& tensors,
                                                         const RunContext& ctx) const {
  return std::make_unique<RecurrentRun>(info().op, p, tensors, effective_threads(ctx), ctx.phases);
}

}  // namespace attnbench::kernels
