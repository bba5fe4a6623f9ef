// mha.ulysses.mpi: all-to-all sequence parallelism (Jacobs et al., "DeepSpeed Ulysses", 2023).
// Rank r holds the query rows rq_r and key rows rk_r of every head (contiguous even shares,
// partition.hpp). Four all-to-alls re-shard Q, K, V from sequence-sharded to head-sharded (rank r gets
// every row of its heads, split by KV head as in mha.tp.mpi), each rank runs the blocked kernel on full
// sequences of its heads, and one all-to-all brings the output back to sequence-sharded.
//   Q[rq_r, all heads] --a2a--> Q[all rows, heads_r] -> attention -> O[all rows, heads_r] --a2a--> O[rq_r, all heads]
// With projections, each rank projects its own rows with the full weights before the first
// all-to-all and applies W_o to its own rows after the last (token-wise, no further communication).
// The inputs are replicated (each rank reads its own rows in place); the output stays sequence-sharded,
// as the algorithm leaves it: collect_output gathers it on rank 0 afterwards, untimed.
#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "../attention/blocked/blocked_attention.hpp"
#include "attnbench/comm_log.hpp"
#include "attnbench/workload.hpp"
#include "comm.hpp"
#include "mpi_kernel.hpp"

namespace attnbench::kernels {
namespace mpi {
namespace {

class Ulysses final : public PreparedKernel {
 public:
  Ulysses(const Problem& p, const TensorSet& t, const RunContext& ctx)
      : comm_(ctx.comm, ctx.phases), p_(p), threads_(std::max(1, ctx.threads)), phases_(ctx.phases) {
    const int P = comm_.size(), r = comm_.rank();
    const std::int64_t B = p.batch, d = p.head_dim, dv = p.value_dim;
    for (int s = 0; s < P; ++s) {
      rq_.push_back(even_share(p.seq_q, P, s)), rk_.push_back(even_share(p.seq_kv, P, s));
      heads_.push_back(heads_of(p, P, s)), kv_.push_back(kv_heads_of(p, P, s));
      rows_of_rank_.push_back({rq_.back()});
    }
    const std::int64_t h = heads_[r].size(), hk = kv_[r].size(), lq = rq_[r].size(), lk = rk_[r].size();
    local_ = head_score_weights(p, t, heads_[r]);
    q_ = &local_.add("q", Tensor(DataType::f32, {B, p.seq_q, h, d}));
    k_ = &local_.add("k", Tensor(DataType::f32, {B, p.seq_kv, hk, d}));
    v_ = &local_.add("v", Tensor(DataType::f32, {B, p.seq_kv, hk, dv}));
    if (p.mask == Mask::padding) lengths_ = &local_.add("lengths", Tensor(DataType::i32, {B}));
    attn_ = Tensor(DataType::f32, {B, p.seq_q, h, dv});
    blocked::Options core;
    core.phases = ctx.phases;  // the core records its own phases
    core_ = blocked::prepare_blocked(head_subproblem(p, heads_[r], kv_[r]), local_, Parallelism::openmp, threads_, core);
    // Sequence-sharded blocks of my rows (all heads) and head-sharded ones of my heads (all rows).
    const std::int64_t dm = std::max(d, dv);
    const std::int64_t most = B * dm * std::max({lq * p.heads, lk * p.kv_heads, p.seq_q * h, p.seq_kv * hk});
    send_.resize(std::size_t(most)), recv_.resize(std::size_t(most));
    if (p.projections) {
      for (const char* name : {"w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o"}) {
        const auto w = t.at(name).as<float>();
        weights_[name] = std::vector<float>(w.begin(), w.end());
      }
      proj_q_.resize(std::size_t(B * lq * p.heads * d));
      proj_k_.resize(std::size_t(B * lk * p.kv_heads * d));
      proj_v_.resize(std::size_t(B * lk * p.kv_heads * dv));
      rows_out_.resize(std::size_t(B * lq * p.heads * dv));
    }
  }

  void run(const TensorSet& in, Tensor& out) override {
    const Problem& p = p_;
    CommLog& log = comm_.log();
    const int r = comm_.rank();
    const std::int64_t B = p.batch, d = p.head_dim, dv = p.value_dim, E = p.model_dim();
    const std::int64_t lq = rq_[r].size(), lk = rk_[r].size();
    // Where this rank's rows of Q, K, V start for batch entry b, and their row stride.
    const float *q = in.at("q").as<float>().data(), *k = in.at("k").as<float>().data(), *v = in.at("v").as<float>().data();
    std::int64_t q_stride = p.heads * d, k_stride = p.kv_heads * d, v_stride = p.kv_heads * dv;
    std::int64_t q_batch = p.seq_q * q_stride, k_batch = p.seq_kv * k_stride, v_batch = p.seq_kv * v_stride;
    if (p.projections)
      timed(log.compute_seconds, [&] {  // own rows [B, l, E], full weights -> [B, l, H*d] (K, V: Hk*d, Hk*dv)
        const PhaseScope phase(phases_, Phase::projections, threads_);  // BLAS on threads_ threads
        for (std::int64_t b = 0; b < B; ++b) {
          project(q + (b * p.seq_q + rq_[r].begin) * E, lq, "w_q", "b_q", proj_q_.data() + b * lq * q_stride, q_stride);
          project(k + (b * p.seq_kv + rk_[r].begin) * E, lk, "w_k", "b_k", proj_k_.data() + b * lk * k_stride, k_stride);
          project(v + (b * p.seq_kv + rk_[r].begin) * E, lk, "w_v", "b_v", proj_v_.data() + b * lk * v_stride, v_stride);
        }
        q = proj_q_.data(), k = proj_k_.data(), v = proj_v_.data();
        q_batch = lq * q_stride, k_batch = lk * k_stride, v_batch = lk * v_stride;
      });
    else
      q += rq_[r].begin * q_stride, k += rk_[r].begin * k_stride, v += rk_[r].begin * v_stride;
    // Sequence-sharded -> head-sharded.
    to_heads(q, q_batch, lq, heads_, d, p.heads, rq_, *q_);
    to_heads(k, k_batch, lk, kv_, d, p.kv_heads, rk_, *k_);
    to_heads(v, v_batch, lk, kv_, dv, p.kv_heads, rk_, *v_);
    timed(log.compute_seconds, [&] {
      if (lengths_) std::memcpy(lengths_->raw(), in.at("lengths").raw(), lengths_->bytes());
      core_->run(local_, attn_);
    });
    // Head-sharded -> sequence-sharded: my heads of rank s's rows go to s.
    const std::int64_t h = heads_[r].size(), width = h * dv;
    std::vector<std::int64_t> send_counts, recv_counts;
    timed(log.compute_seconds, [&] {
      const PhaseScope phase(phases_, Phase::layout);
      float* at = send_.data();
      for (int s = 0; s < comm_.size(); ++s) {
        for (std::int64_t b = 0; b < B; ++b, at += rq_[s].size() * width)
          std::memcpy(at, attn_.as<float>().data() + (b * p.seq_q + rq_[s].begin) * width,
                      std::size_t(rq_[s].size() * width) * sizeof(float));
        send_counts.push_back(B * rq_[s].size() * width), recv_counts.push_back(B * lq * heads_[s].size() * dv);
      }
    });
    comm_.all_to_all(send_.data(), send_counts, recv_.data(), recv_counts, "alltoall");
    timed(log.compute_seconds, [&] {
      // Block from s: [B, lq, h_s, dv] -> columns heads_s of my rows, in out (core) or rows_out_ (before W_o).
      PhaseScope phase(phases_, Phase::layout);
      float* o = out.as<float>().data();
      float* dst = p.projections ? rows_out_.data() : o + rq_[r].begin * p.heads * dv;
      const std::int64_t dst_batch = p.projections ? lq * p.heads * dv : p.seq_q * p.heads * dv;
      const float* block = recv_.data();
      for (int s = 0; s < comm_.size(); ++s) {
        const std::int64_t hs = heads_[s].size() * dv;
        for (std::int64_t b = 0; b < B; ++b, block += lq * hs)
          copy_rows(block, hs, dst + b * dst_batch + heads_[s].begin * dv, p.heads * dv, lq, hs);
      }
      phase.stop();
      if (p.projections) {
        const PhaseScope projections(phases_, Phase::projections, threads_);
        for (std::int64_t b = 0; b < B; ++b)
          linear(rows_out_.data() + b * lq * p.heads * dv, p.heads * dv, lq, p.heads * dv, weights_["w_o"].data(),
                 p.heads * dv, weights_["b_o"].data(), o + (b * p.seq_q + rq_[r].begin) * E, E, E, threads_);
      }
    });
    ++log.forwards;
  }

  void collect_output(Tensor& out) override {
    const std::int64_t width = p_.projections ? p_.model_dim() : p_.heads * p_.value_dim;
    collect_rows(comm_, out, p_.batch, p_.seq_q, width, rows_of_rank_);
  }

  CommLog* comm_log() override { return &comm_.log(); }

 private:
  void project(const float* x, std::int64_t rows, const char* w, const char* bias, float* y, std::int64_t n) {
    linear(x, p_.model_dim(), rows, p_.model_dim(), weights_[w].data(), p_.model_dim(), weights_[bias].data(), y, n, n,
           threads_);
  }

  /// One all-to-all from sequence- to head-sharded: `src` holds my `rows` rows of every head (batch
  /// stride src_batch, row stride heads * dim); `dst` [B, L, h_r, dim] receives every rank's rows of
  /// my heads (`split` gives each rank's heads, `seq` each rank's rows).
  void to_heads(const float* src, std::int64_t src_batch, std::int64_t rows, const std::vector<Range>& split,
                std::int64_t dim, std::int64_t heads, const std::vector<Range>& seq, Tensor& dst) {
    const int r = comm_.rank();
    const std::int64_t B = p_.batch, mine = split[r].size() * dim;
    std::vector<std::int64_t> send_counts, recv_counts;
    timed(comm_.log().compute_seconds, [&] {  // block to s: [B, rows, h_s, dim]
      const PhaseScope phase(phases_, Phase::layout);
      float* at = send_.data();
      for (int s = 0; s < comm_.size(); ++s) {
        const std::int64_t width = split[s].size() * dim;
        for (std::int64_t b = 0; b < B; ++b, at += rows * width)
          copy_rows(src + b * src_batch + split[s].begin * dim, heads * dim, at, width, rows, width);
        send_counts.push_back(B * rows * width), recv_counts.push_back(B * seq[s].size() * mine);
      }
    });
    comm_.all_to_all(send_.data(), send_counts, recv_.data(), recv_counts, "alltoall");
    timed(comm_.log().compute_seconds, [&] {  // block from s: [B, rows_s, h_r, dim] -> rows seq[s] of dst
      const PhaseScope phase(phases_, Phase::layout);
      const float* block = recv_.data();
      float* d = dst.as<float>().data();
      const std::int64_t L = dst.shape()[1];
      for (int s = 0; s < comm_.size(); ++s)
        for (std::int64_t b = 0; b < B; ++b, block += seq[s].size() * mine)
          std::memcpy(d + (b * L + seq[s].begin) * mine, block, std::size_t(seq[s].size() * mine) * sizeof(float));
    });
  }

  Comm comm_;
  Problem p_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  std::vector<Range> rq_, rk_, heads_, kv_;  // per rank: query rows, key rows, heads, KV heads
  std::vector<std::vector<Range>> rows_of_rank_;
  TensorSet local_;  // head-sharded q, k, v [B, L, h_r, dim], lengths, score weights
  Tensor *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *lengths_ = nullptr;
  Tensor attn_;      // [B, Lq, h_r, dv]
  std::unique_ptr<PreparedKernel> core_;
  std::vector<float> send_, recv_;  // all-to-all blocks, back to back by rank
  std::map<std::string, std::vector<float>> weights_;  // projections
  std::vector<float> proj_q_, proj_k_, proj_v_;  // my rows projected [B, l, H*d]
  std::vector<float> rows_out_;                  // my rows of the attention output before W_o [B, lq, H*dv]
};

class UlyssesKernel final : public MpiKernel {
 public:
  using MpiKernel::MpiKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override {
    const int P = comm_size(ctx.comm);
    const Range h = heads_of(p, P, 0), kv = kv_heads_of(p, P, 0);
    const std::int64_t lq = even_share(p.seq_q, P, 0).size(), lk = even_share(p.seq_kv, P, 0).size();
    const std::int64_t d = p.head_dim, dv = p.value_dim, dm = std::max(d, dv);
    std::int64_t floats = p.batch * (p.seq_q * h.size() * (d + dv) + p.seq_kv * kv.size() * (d + dv));
    floats += 2 * p.batch * dm * std::max({lq * p.heads, lk * p.kv_heads, p.seq_q * h.size(), p.seq_kv * kv.size()});
    if (p.projections)
      floats += p.model_dim() * (p.heads * (2 * d + dv) + 2 * p.kv_heads * (d + dv)) +
                p.batch * (lq * p.heads * (d + dv) + lk * p.kv_heads * (d + dv));
    return floats * 4 + blocked::make_plan(head_subproblem(p, h, kv), effective_threads(ctx)).workspace_bytes();
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext& ctx) const override {
    checked_ranks(p, ctx);
    return std::make_unique<Ulysses>(p, t, ctx);
  }
};

}  // namespace
}  // namespace mpi

const Kernel& mha_ulysses_mpi() {
  static const mpi::UlyssesKernel kernel(
      {"mha.ulysses.mpi", Family::attention,
       "DeepSpeed-Ulysses: sequence-sharded inputs re-sharded to heads by all-to-all, blocked kernel per rank",
       all_features(Parallelism::mpi, 1e-4)},
      "ulysses");
  return kernel;
}

}  // namespace attnbench::kernels
