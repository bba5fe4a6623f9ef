// The conv1d kernels: k shifted GEMMs per layer (see conv1d.hpp for the scheme).
#include "conv1d.hpp"

#include <algorithm>
#include <cstring>

#include <omp.h>

#include "attnbench/blas_threads.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"

namespace attnbench::kernels {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

/// Intermediate activations a stack needs: none for one layer, one for two, two (ping-pong) beyond.
std::int64_t buffer_count(const Problem& p) { return std::min<std::int64_t>(p.layers - 1, 2); }

class Conv1dRun final : public PreparedKernel {
 public:
  Conv1dRun(const Problem& p, const TensorSet& t, int threads, PhaseRecorder* phases)
      : p_(p), E_(p.model_dim()), threads_(threads), phases_(phases),
        packed_(DataType::f32, {p.layers, p.kernel_size, E_, E_}),
        bias_(DataType::f32, {p.layers, E_}) {
    validate_inputs(Op::conv1d, p, t);
    // w_conv [layers, E_out, E_in, k] -> packed [layers, k, E_in, E_out]: each tap a row-major GEMM operand.
    const float* w = t.at("w_conv").as<float>().data();
    float* packed = packed_.as<float>().data();
    const std::int64_t k = p.kernel_size;
    for (std::int64_t l = 0; l < p.layers; ++l)
      for (std::int64_t o = 0; o < E_; ++o)
        for (std::int64_t c = 0; c < E_; ++c)
          for (std::int64_t j = 0; j < k; ++j)
            packed[((l * k + j) * E_ + c) * E_ + o] = w[((l * E_ + o) * E_ + c) * k + j];
    std::memcpy(bias_.raw(), t.at("b_conv").raw(), bias_.bytes());
    for (std::int64_t i = 0; i < buffer_count(p); ++i) buffers_[i] = Tensor(DataType::f32, {p.batch, p.seq_q, E_});
    // Work items: each batch entry's rows in `blocks_` contiguous blocks, enough to give every thread one.
    blocks_ = ceil_div(threads_, p.batch);
    block_rows_ = ceil_div(p.seq_q, blocks_);
  }

  void run(const TensorSet& inputs, Tensor& out) override {
    const BlasThreads single(1);
    const float* x = inputs.at("x").as<float>().data();
    float* y = out.as<float>().data();
    const std::int64_t items = p_.batch * blocks_, layers = p_.layers;
#pragma omp parallel num_threads(threads_) if (threads_ > 1)
    {
      const int me = omp_get_thread_num(), team = omp_get_num_threads();
      PhaseScope phase(phases_, Phase::gemm);  // layer_rows switches between gemm and bias_activation
      for (std::int64_t l = 0; l < layers; ++l) {
        const float* src = l == 0 ? x : buffers_[(l - 1) % 2].as<float>().data();
        float* dst = l == layers - 1 ? y : buffers_[l % 2].as<float>().data();
        for (std::int64_t item = me; item < items; item += team) {
          const std::int64_t b = item / blocks_, r0 = item % blocks_ * block_rows_;
          const std::int64_t r1 = std::min(p_.seq_q, r0 + block_rows_);
          if (r0 < r1) layer_rows(l, src, dst, b, r0, r1, phase);
        }
        // The next layer reads rows of neighbouring blocks.
        phase.switch_to(Phase::sync);
#pragma omp barrier
      }
    }
  }

 private:
  /// Rows [r0, r1) of batch entry b of layer l: bias, then one GEMM per tap over the rows whose input
  /// is inside the sequence, then ReLU unless it is the last layer.
  void layer_rows(std::int64_t l, const float* src, float* dst, std::int64_t b, std::int64_t r0, std::int64_t r1,
                  PhaseScope& phase) const {
    const std::int64_t L = p_.seq_q, E = E_, k = p_.kernel_size, dl = layer_dilation(p_, l);
    const std::int64_t pad = dl * (k - 1), left = p_.mask == Mask::causal ? pad : pad / 2;
    const float* in = src + b * L * E;
    float* o = dst + b * L * E;
    const float* bias = bias_.as<float>().data() + l * E;
    phase.switch_to(Phase::bias_activation);
    for (std::int64_t r = r0; r < r1; ++r) std::memcpy(o + r * E, bias, std::size_t(E) * sizeof(float));
    phase.switch_to(Phase::gemm);
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int64_t shift = j * dl - left;  // output row t reads input row t + shift
      const std::int64_t t0 = std::max(r0, -shift), t1 = std::min(r1, L - shift);
      if (t0 >= t1) continue;
      const float* w = packed_.as<float>().data() + (l * k + j) * E * E;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(t1 - t0), int(E), int(E), 1.0f,
                  in + (t0 + shift) * E, int(E), w, int(E), 1.0f, o + t0 * E, int(E));
    }
    if (l == p_.layers - 1) return;
    phase.switch_to(Phase::bias_activation);
    for (float* v = o + r0 * E; v < o + r1 * E; ++v) *v = std::max(*v, 0.0f);
  }

  Problem p_;
  std::int64_t E_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  Tensor packed_, bias_;  // [layers, k, E_in, E_out], [layers, E]
  Tensor buffers_[2];     // intermediate activations [B, L, E] (ping-pong)
  std::int64_t blocks_ = 1, block_rows_ = 1;
};

}  // namespace

std::int64_t Conv1dKernel::workspace_bytes(const Problem& p, const RunContext&) const {
  const std::int64_t E = p.model_dim();
  const std::int64_t floats = p.layers * (p.kernel_size * E * E + E) + buffer_count(p) * p.batch * p.seq_q * E;
  return floats * std::int64_t(sizeof(float));
}

std::unique_ptr<PreparedKernel> Conv1dKernel::prepare(const Problem& p, const TensorSet& tensors,
                                                      const RunContext& ctx) const {
  return std::make_unique<Conv1dRun>(p, tensors, effective_threads(ctx), ctx.phases);
}

}  // namespace attnbench::kernels
