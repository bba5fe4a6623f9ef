// The recurrent kernels: input projection as one GEMM, then per step the recurrent product and the
// fused cell (see recurrent.hpp for the scheme and the packed layout, baseline_reference.cpp for the
// equations).
#include "recurrent.hpp"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "../attention/blocked/fast_math.hpp"
#include "attnbench/blas_threads.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"

namespace attnbench::kernels {
namespace {

namespace fm = blocked::fast_math;

constexpr std::int64_t kUnits = 16;  // hidden units per packed block: one AVX-512 vector per gate

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// sigmoid(x) = 1 / (1 + e^-x) = 1 / (1 + 2^(-x log2 e)).
inline float sigmoid(float x) { return fm::recip_one_plus_exp2(-fm::kLog2e * x); }

/// Packed row of (unit j, gate g): blocks of kUnits units, gate-major inside a block.
inline std::int64_t packed_row(std::int64_t j, std::int64_t g, std::int64_t G, std::int64_t E) {
  const std::int64_t block = j / kUnits, first = block * kUnits, width = std::min(kUnits, E - first);
  return first * G + g * width + (j - first);
}

/// One block of `n` units of the cell. xw/hw point at the block's packed pre-activations (gate g at
/// + g*n); h_prev, c, h_out, b_hn at the block's first unit.
template <Op op>
inline void cell_block(std::int64_t n, const float* xw, const float* hw, const float* b_hn, const float* h_prev,
                       float* c, float* h_out) {
  // NOLINTNEXTLINE(bugprone-branch-clone): clang-tidy 14 compares the '#pragma omp simd' loops as equal
  if constexpr (op == Op::lstm) {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) {
      const float i = sigmoid(xw[u] + hw[u]), f = sigmoid(xw[n + u] + hw[n + u]);
      const float g = fm::tanh(xw[2 * n + u] + hw[2 * n + u]), o = sigmoid(xw[3 * n + u] + hw[3 * n + u]);
      const float cn = f * c[u] + i * g;  // c' = f*c + i*g
      c[u] = cn;
      h_out[u] = o * fm::tanh(cn);        // h' = o * tanh(c')
    }
  } else if constexpr (op == Op::gru) {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) {
      const float r = sigmoid(xw[u] + hw[u]), z = sigmoid(xw[n + u] + hw[n + u]);
      const float nn = fm::tanh(xw[2 * n + u] + r * (hw[2 * n + u] + b_hn[u]));  // n = tanh(W_in x + b_in + r*(W_hn h + b_hn))
      h_out[u] = (1.0f - z) * nn + z * h_prev[u];                                // h' = (1-z)*n + z*h
    }
  } else {
#pragma omp simd
    for (std::int64_t u = 0; u < n; ++u) h_out[u] = fm::tanh(xw[u] + hw[u]);  // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
  }
}

class RecurrentRun final : public PreparedKernel {
 public:
  RecurrentRun(Op op, const Problem& p, const TensorSet& t, int threads, PhaseRecorder* phases)
      : op_(op), p_(p), E_(p.model_dim()), G_(gate_count(op)), dirs_(directions(p)), threads_(threads), phases_(phases),
        w_ih_(DataType::f32, {dirs_, G_ * E_, E_}), w_hh_(DataType::f32, {dirs_, G_ * E_, E_}),
        bias_x_(DataType::f32, {dirs_, G_ * E_}), b_hn_(DataType::f32, {dirs_, E_}),
        xw_(DataType::f32, {dirs_, p.batch * p.seq_q, G_ * E_}), hw_(DataType::f32, {p.batch, G_ * E_}),
        c_(DataType::f32, {p.batch, E_}) {
    validate_inputs(op, p, t);
    const float* wi = t.at("w_ih").as<float>().data();
    const float* wh = t.at("w_hh").as<float>().data();
    const float* bi = t.at("b_ih").as<float>().data();
    const float* bh = t.at("b_hh").as<float>().data();
    for (std::int64_t d = 0; d < dirs_; ++d)
      for (std::int64_t g = 0; g < G_; ++g)
        for (std::int64_t j = 0; j < E_; ++j) {
          const std::int64_t src = (d * G_ + g) * E_ + j, dst = d * G_ * E_ + packed_row(j, g, G_, E_);
          std::memcpy(w_ih_.as<float>().data() + dst * E_, wi + src * E_, std::size_t(E_) * sizeof(float));
          std::memcpy(w_hh_.as<float>().data() + dst * E_, wh + src * E_, std::size_t(E_) * sizeof(float));
          // b_hh joins b_ih except in GRU's n gate, where r multiplies (W_hn h + b_hn).
          const bool gru_n = op == Op::gru && g == 2;
          bias_x_.as<float>()[std::size_t(dst)] = bi[src] + (gru_n ? 0.0f : bh[src]);
          if (gru_n) b_hn_.as<float>()[std::size_t(d * E_ + j)] = bh[src];
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
    const std::int64_t B = p_.batch, L = p_.seq_q, E = E_, G = G_, GE = G_ * E_;
    const float* x = inputs.at("x").as<float>().data();
    const float* h0 = inputs.at("h0").as<float>().data();
    const float* c0 = op == Op::lstm ? inputs.at("c0").as<float>().data() : nullptr;
    float* y = out.as<float>().data();
    const std::int64_t ld_out = dirs_ * E;  // between time steps of one batch entry in out: L * ld_out
    const std::int64_t blocks = ceil_div(E, kUnits);
#pragma omp parallel num_threads(threads_) if (threads_ > 1)
    {
      const std::int64_t me = omp_get_thread_num(), team = omp_get_num_threads();
      // This thread's units: blocks [jb0, jb1), i.e. units [j0, j1) and packed rows [j0*G, j1*G).
      const std::int64_t jb0 = blocks * me / team, jb1 = blocks * (me + 1) / team;
      const std::int64_t j0 = std::min(E, jb0 * kUnits), j1 = std::min(E, jb1 * kUnits);
      // 1. XW = x W_ih^T + bias for all B*L rows, rows split over threads.
      PhaseScope phase(phases_, Phase::input_projection);
      const std::int64_t rows = B * L, r0 = rows * me / team, r1 = rows * (me + 1) / team;
      for (std::int64_t d = 0; d < dirs_; ++d) {
        float* xw = xw_.as<float>().data() + d * rows * GE;
        const float* bias = bias_x_.as<float>().data() + d * GE;
        for (std::int64_t r = r0; r < r1; ++r) std::memcpy(xw + r * GE, bias, std::size_t(GE) * sizeof(float));
        if (r1 > r0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(r1 - r0), int(GE), int(E), 1.0f, x + r0 * E, int(E),
                      w_ih_.as<float>().data() + d * GE * E, int(E), 1.0f, xw + r0 * GE, int(GE));
      }
      phase.switch_to(Phase::sync);
#pragma omp barrier
      // 2. The recurrence, one direction after the other.
      for (std::int64_t d = 0; d < dirs_; ++d) {
        const float* w_hh = w_hh_.as<float>().data() + d * GE * E;
        const float* xw = xw_.as<float>().data() + d * rows * GE;
        const float* b_hn = b_hn_.as<float>().data() + d * E;
        float* hw = hw_.as<float>().data();
        float* c = c_.as<float>().data();
        phase.switch_to(Phase::gates);  // the cell state's initialisation
        if (c0)
          for (std::int64_t b = 0; b < B; ++b)
            std::memcpy(c + b * E + j0, c0 + (d * B + b) * E + j0, std::size_t(j1 - j0) * sizeof(float));
        for (std::int64_t s = 0; s < L; ++s) {
          const std::int64_t t = d == 0 ? s : L - 1 - s, t_prev = d == 0 ? t - 1 : t + 1;
          // h_{t-1}[b] = out[b, t_prev, d*E : (d+1)*E], or h0[d, b] at the first step.
          const float* h_prev = s == 0 ? h0 + d * B * E : y + t_prev * ld_out + d * E;
          const std::int64_t ld_h = s == 0 ? E : L * ld_out;
          if (j1 > j0) {
            phase.switch_to(Phase::recurrent);
            // HW[b, rows of my units] = h_prev[b] . W_hh[rows]^T
            if (B == 1)
              cblas_sgemv(CblasRowMajor, CblasNoTrans, int((j1 - j0) * G), int(E), 1.0f, w_hh + j0 * G * E, int(E),
                          h_prev, 1, 0.0f, hw + j0 * G, 1);
            else
              cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(B), int((j1 - j0) * G), int(E), 1.0f, h_prev,
                          int(ld_h), w_hh + j0 * G * E, int(E), 0.0f, hw + j0 * G, int(GE));
            phase.switch_to(Phase::gates);
            for (std::int64_t b = 0; b < B; ++b)
              for (std::int64_t jb = jb0; jb < jb1; ++jb) {
                const std::int64_t first = jb * kUnits, n = std::min(kUnits, E - first);
                cell_block<op>(n, xw + (b * L + t) * GE + first * G, hw + b * GE + first * G, b_hn + first,
                               h_prev + b * ld_h + first, c + b * E + first, y + (b * L + t) * ld_out + d * E + first);
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
  std::int64_t E_, G_, dirs_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  Tensor w_ih_, w_hh_;  // packed [dirs, G*E (unit blocks, gate-major inside), E]
  Tensor bias_x_;       // [dirs, G*E] packed: b_ih + b_hh (GRU's n gate: b_in only)
  Tensor b_hn_;         // [dirs, E]: GRU's b_hn (zeros otherwise)
  Tensor xw_;           // [dirs, B*L, G*E] packed: the input projection of every step
  Tensor hw_;           // [B, G*E] packed: this step's recurrent product
  Tensor c_;            // [B, E]: the LSTM cell state
};

}  // namespace

std::int64_t RecurrentKernel::workspace_bytes(const Problem& p, const RunContext&) const {
  const std::int64_t E = p.model_dim(), GE = gate_count(info().op) * E, dirs = directions(p);
  const std::int64_t floats = dirs * (2 * GE * E + GE + E) + dirs * p.batch * p.seq_q * GE + p.batch * (GE + E);
  return floats * std::int64_t(sizeof(float));
}

std::unique_ptr<PreparedKernel> RecurrentKernel::prepare(const Problem& p, const TensorSet& tensors,
                                                         const RunContext& ctx) const {
  return std::make_unique<RecurrentRun>(info().op, p, tensors, effective_threads(ctx), ctx.phases);
}

}  // namespace attnbench::kernels
