// mha.tp.mpi: tensor-parallel (Megatron-LM) attention. Heads are split across ranks by KV head
// (partition.hpp: uneven counts spread, the first kv_heads % P ranks taking one more KV head and its
// query heads); each rank runs the blocked kernel on its heads with ctx.threads threads.
//
// With projections (Shoeybi et al., "Megatron-LM", 2019, section 3): the input X is replicated;
//   Q/K/V weights are split by columns   W_q = [W_q,1 ... W_q,P]   -> rank r computes its heads' Q, K, V
//   attention on the local heads          A_r = attn(Q_r, K_r, V_r)   [B, Lq, h_r * dv]
//   the output projection split by rows   Y = sum_r A_r W_o,r^T + b_o (rank 0 adds b_o)
//   one all-reduce of Y [B, Lq, E]: every rank ends with the full output.
// Attention core alone: each rank takes its heads of Q, K, V (the inputs are replicated, so this is a
// local copy, timed), and the outputs are gathered on rank 0 (phase "gather", timed: the core's result
// is one tensor, and assembling it is part of what a caller of a tensor-parallel core pays).
#include <cstring>

#include "../attention/blocked/blocked_attention.hpp"
#include "attnbench/comm_log.hpp"
#include "attnbench/workload.hpp"
#include "comm.hpp"
#include "mpi_kernel.hpp"

namespace attnbench::kernels {
namespace mpi {
namespace {

class TensorParallel final : public PreparedKernel {
 public:
  TensorParallel(const Problem& p, const TensorSet& t, const RunContext& ctx)
      : comm_(ctx.comm, ctx.phases), p_(p), threads_(std::max(1, ctx.threads)), phases_(ctx.phases) {
    const int P = comm_.size(), r = comm_.rank();
    heads_ = heads_of(p, P, r), kv_ = kv_heads_of(p, P, r);
    local_p_ = head_subproblem(p, heads_, kv_);
    const std::int64_t B = p.batch, h = heads_.size(), hk = kv_.size(), d = p.head_dim, dv = p.value_dim;
    local_ = head_score_weights(p, t, heads_);
    q_ = &local_.add("q", Tensor(DataType::f32, {B, p.seq_q, h, d}));
    k_ = &local_.add("k", Tensor(DataType::f32, {B, p.seq_kv, hk, d}));
    v_ = &local_.add("v", Tensor(DataType::f32, {B, p.seq_kv, hk, dv}));
    if (p.mask == Mask::padding) lengths_ = &local_.add("lengths", Tensor(DataType::i32, {B}));
    attn_ = Tensor(DataType::f32, {B, p.seq_q, h, dv});
    blocked::Options core;
    core.phases = ctx.phases;  // the core records its own phases
    core_ = blocked::prepare_blocked(local_p_, local_, Parallelism::openmp, threads_, core);
    if (p.projections) {
      const std::int64_t E = p.model_dim();
      // Column split of W_q, W_k, W_v: rows of the [out][in] weight; row split of W_o: its columns.
      w_q_ = slice_rows(t.at("w_q"), heads_.begin * d, h * d, E), b_q_ = slice_rows(t.at("b_q"), heads_.begin * d, h * d, 1);
      w_k_ = slice_rows(t.at("w_k"), kv_.begin * d, hk * d, E), b_k_ = slice_rows(t.at("b_k"), kv_.begin * d, hk * d, 1);
      w_v_ = slice_rows(t.at("w_v"), kv_.begin * dv, hk * dv, E), b_v_ = slice_rows(t.at("b_v"), kv_.begin * dv, hk * dv, 1);
      w_o_.resize(std::size_t(E * h * dv));  // [E][h * dv]
      copy_rows(t.at("w_o").as<float>().data() + heads_.begin * dv, p.heads * dv, w_o_.data(), h * dv, E, h * dv);
      b_o_ = slice_rows(t.at("b_o"), 0, E, 1);
    } else {
      for (int s = 0; s < P; ++s) counts_.push_back(B * p.seq_q * heads_of(p, P, s).size() * dv);
      if (r == 0) gathered_.resize(std::size_t(B * p.seq_q * p.heads * dv));
    }
  }

  void run(const TensorSet& in, Tensor& out) override {
    const Problem& p = p_;
    CommLog& log = comm_.log();
    const std::int64_t B = p.batch, Lq = p.seq_q, Lk = p.seq_kv, h = heads_.size(), hk = kv_.size();
    const std::int64_t d = p.head_dim, dv = p.value_dim, E = p.model_dim();
    float* o = out.as<float>().data();
    timed(log.compute_seconds, [&] {
      const float* q = in.at("q").as<float>().data();
      const float* k = in.at("k").as<float>().data();
      const float* v = in.at("v").as<float>().data();
      {
        // linear() runs BLAS on threads_ threads: the phase occupies them all.
        const PhaseScope phase(phases_, p.projections ? Phase::projections : Phase::layout, p.projections ? threads_ : 1);
        if (p.projections) {
          linear(q, E, B * Lq, E, w_q_.data(), E, b_q_.data(), data(*q_), h * d, h * d, threads_);
          linear(k, E, B * Lk, E, w_k_.data(), E, b_k_.data(), data(*k_), hk * d, hk * d, threads_);
          linear(v, E, B * Lk, E, w_v_.data(), E, b_v_.data(), data(*v_), hk * dv, hk * dv, threads_);
        } else {  // this rank's heads of the replicated inputs
          copy_rows(q + heads_.begin * d, p.heads * d, data(*q_), h * d, B * Lq, h * d);
          copy_rows(k + kv_.begin * d, p.kv_heads * d, data(*k_), hk * d, B * Lk, hk * d);
          copy_rows(v + kv_.begin * dv, p.kv_heads * dv, data(*v_), hk * dv, B * Lk, hk * dv);
        }
        if (lengths_) std::memcpy(lengths_->raw(), in.at("lengths").raw(), lengths_->bytes());
      }
      core_->run(local_, attn_);
      if (p.projections) {  // Y_r = A_r W_o,r^T (+ b_o on rank 0 only, so the sum has it once)
        const PhaseScope phase(phases_, Phase::projections, threads_);
        linear(data(attn_), h * dv, B * Lq, h * dv, w_o_.data(), h * dv, comm_.rank() == 0 ? b_o_.data() : nullptr, o,
               E, E, threads_);
      }
    });
    if (p.projections) {
      comm_.all_reduce_sum(o, B * Lq * E, "allreduce");
    } else {
      comm_.gather_to_root(data(attn_), counts_, gathered_.data(), "gather");
      if (comm_.rank() == 0)
        timed(log.compute_seconds, [&] {  // rank s's block [B, Lq, h_s, dv] -> its heads' columns of out
          const PhaseScope phase(phases_, Phase::layout);
          const float* block = gathered_.data();
          for (int s = 0; s < comm_.size(); ++s) {
            const Range hs = heads_of(p, comm_.size(), s);
            copy_rows(block, hs.size() * dv, o + hs.begin * dv, p.heads * dv, B * Lq, hs.size() * dv);
            block += counts_[std::size_t(s)];
          }
        });
    }
    ++log.forwards;
  }

  CommLog* comm_log() override { return &comm_.log(); }

 private:
  static float* data(Tensor& t) { return t.as<float>().data(); }
  static std::vector<float> slice_rows(const Tensor& t, std::int64_t first, std::int64_t rows, std::int64_t width) {
    const float* src = t.as<float>().data() + first * width;
    return std::vector<float>(src, src + rows * width);
  }

  Comm comm_;
  Problem p_, local_p_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  Range heads_, kv_;
  TensorSet local_;  // [B, L, h_r, d] slices of q, k, v (or their projections), lengths, score weights
  Tensor *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *lengths_ = nullptr;
  Tensor attn_;      // [B, Lq, h_r, dv]: this rank's heads of the attention output
  std::unique_ptr<PreparedKernel> core_;
  std::vector<float> w_q_, b_q_, w_k_, b_k_, w_v_, b_v_, w_o_, b_o_;  // this rank's slices
  std::vector<std::int64_t> counts_;  // floats each rank contributes to the gather
  std::vector<float> gathered_;       // rank 0: every rank's block back to back
};

class TensorParallelKernel final : public MpiKernel {
 public:
  using MpiKernel::MpiKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override {
    const int P = comm_size(ctx.comm);
    const Range h = heads_of(p, P, 0), kv = kv_heads_of(p, P, 0);  // rank 0 holds the largest share
    const Problem local = head_subproblem(p, h, kv);
    std::int64_t floats = p.batch * (p.seq_q * h.size() * (p.head_dim + 2 * p.value_dim) +
                                     p.seq_kv * kv.size() * (p.head_dim + p.value_dim));
    if (p.projections) floats += (h.size() + 2 * kv.size()) * p.head_dim * (p.model_dim() + 1) + p.model_dim() * (h.size() * p.value_dim + 1);
    else floats += p.batch * p.seq_q * p.heads * p.value_dim;  // rank 0's gather buffer
    return floats * 4 + blocked::make_plan(local, effective_threads(ctx)).workspace_bytes();
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext& ctx) const override {
    checked_ranks(p, ctx);
    return std::make_unique<TensorParallel>(p, t, ctx);
  }
};

}  // namespace
}  // namespace mpi

const Kernel& mha_tp_mpi() {
  static const mpi::TensorParallelKernel kernel(
      {"mha.tp.mpi", Family::attention,
       "tensor-parallel (Megatron): heads split across MPI ranks, blocked kernel per rank, one all-reduce",
       all_features(Parallelism::mpi, 1e-4)},
      "tp");
  return kernel;
}

}  // namespace attnbench::kernels
