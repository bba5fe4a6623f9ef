// mha.ring.mpi: sequence-parallel ring attention (Liu et al., "Ring Attention with Blockwise
// Transformers", 2023; zig-zag load balance as in Brandon et al., "Striped Attention", 2023 and
// zhuzilin/ring-flash-attention). Queries and keys/values are split by sequence (partition.hpp:
// P contiguous chunks, or for a causal mask 2P chunks with rank r holding chunks r and 2P-1-r, so
// every rank sees the same number of unmasked pairs). Each rank keeps its query rows; the K/V blocks
// travel around the ring: at step s rank r holds the block of rank r - s, posts MPI_Isend/MPI_Irecv of
// that block to r + 1 / from r - 1, and meanwhile runs the blocked kernel's micro-kernels on it
// (partial_attention.hpp), updating each query row's online-softmax state; the exchange is then waited
// for. P steps, P - 1 exchanges; out = O / l at the end.
//
// With projections each rank projects its own rows (token-wise) and applies W_o to its own output rows.
// The inputs are replicated (a rank reads its rows in place); the output stays sequence-sharded, as the
// algorithm leaves it: collect_output gathers it on rank 0 afterwards, untimed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>

#include "../attention/blocked/executor.hpp"
#include "attnbench/comm_log.hpp"
#include "attnbench/workload.hpp"
#include "comm.hpp"
#include "mpi_kernel.hpp"
#include "partial_attention.hpp"

namespace attnbench::kernels {
namespace mpi {
namespace {

std::int64_t rows_in(const std::vector<Range>& ranges) {
  std::int64_t n = 0;
  for (const Range& r : ranges) n += r.size();
  return n;
}

class Ring final : public PreparedKernel {
 public:
  Ring(const Problem& p, const TensorSet& t, const RunContext& ctx)
      : comm_(ctx.comm, ctx.phases), p_(p), threads_(std::max(1, ctx.threads)), phases_(ctx.phases),
        executor_(blocked::make_executor(Parallelism::openmp, threads_)) {
    const int P = comm_.size(), r = comm_.rank();
    for (int s = 0; s < P; ++s) {
      q_rows_.push_back(ring_rows(p, p.seq_q, P, s));
      kv_rows_.push_back(ring_rows(p, p.seq_kv, P, s));
    }
    std::int64_t largest = 0;
    for (int s = 0; s < P; ++s) largest = std::max(largest, block_floats(s));
    for (std::vector<float>& b : blocks_) b.resize(std::size_t(largest));
    const std::int64_t lq = rows_in(q_rows_[r]);
    std::int64_t max_keys = 0;
    for (int s = 0; s < P; ++s) max_keys = std::max(max_keys, rows_in(kv_rows_[s]));
    state_ = PartialAttention(p, q_rows_[r], max_keys, threads_,
                              p.score == Score::multiplicative ? t.at("w_score").as<float>().data() : nullptr,
                              ctx.phases);
    if (p.projections) {
      for (const char* name : {"w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o"}) {
        const auto w = t.at(name).as<float>();
        weights_[name] = std::vector<float>(w.begin(), w.end());
      }
      proj_q_.resize(std::size_t(p.batch * lq * p.heads * p.head_dim));
      rows_out_.resize(std::size_t(p.batch * lq * p.heads * p.value_dim));
    }
    if (P > 1) {  // one exchange timed alone, for the overlap: the fastest of 3 after one that pays set-up
      isolated_step_ = std::numeric_limits<double>::infinity();
      for (int i = 0; i < 4; ++i) {
        const auto start = std::chrono::steady_clock::now();
        comm_.ring_shift_start(blocks_[0].data(), block_floats(r), blocks_[1].data(), block_floats((r + P - 1) % P),
                               "ring_step");
        comm_.ring_shift_finish();
        const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (i > 0) isolated_step_ = std::min(isolated_step_, took);
      }
      comm_.log().reset();
    }
  }

  void run(const TensorSet& in, Tensor& out) override {
    const Problem& p = p_;
    CommLog& log = comm_.log();
    const int P = comm_.size(), r = comm_.rank();
    const std::int32_t* lengths = p.mask == Mask::padding ? in.at("lengths").as<std::int32_t>().data() : nullptr;
    timed(log.compute_seconds, [&] {
      state_.start(own_queries(in), !p.projections, lengths);
      own_block(in, blocks_[0].data());
    });
    int cur = 0;
    for (int step = 0; step < P; ++step) {
      const int src = (r - step + P) % P, prev = (src + P - 1) % P;
      const bool exchange = step + 1 < P;
      if (exchange) comm_.ring_shift_start(blocks_[cur].data(), block_floats(src), blocks_[1 - cur].data(),
                                           block_floats(prev), "ring_step");
      timed(log.compute_seconds, [&] {
        state_.add_block(blocks_[cur].data(), kv_rows_[src], *executor_, [&] { comm_.ring_shift_progress(); });
      });
      if (exchange) comm_.ring_shift_finish();
      cur = 1 - cur;
    }
    timed(log.compute_seconds, [&] { finish(out); });
    log.phase("ring_step").isolated_seconds += isolated_step_ * (P - 1);
    ++log.forwards;
  }

  void collect_output(Tensor& out) override {
    const std::int64_t width = p_.projections ? p_.model_dim() : p_.heads * p_.value_dim;
    collect_rows(comm_, out, p_.batch, p_.seq_q, width, q_rows_);
  }

  CommLog* comm_log() override { return &comm_.log(); }

 private:
  /// Floats of rank s's K/V block: [K: B][rows][Hk][d] then [V: B][rows][Hk][dv].
  std::int64_t block_floats(int s) const {
    return p_.batch * rows_in(kv_rows_[std::size_t(s)]) * p_.kv_heads * (p_.head_dim + p_.value_dim);
  }

  /// This rank's query rows [B][lq][H*d]: read in place when there is one range and no projection.
  const float* own_queries(const TensorSet& in) {
    const Problem& p = p_;
    const float* q = in.at("q").as<float>().data();
    if (!p.projections) return q;  // PartialAttention reads rows by global index
    const PhaseScope phase(phases_, Phase::projections, threads_);  // BLAS on threads_ threads
    const std::int64_t E = p.model_dim(), lq = rows_in(q_rows_[comm_.rank()]);
    for (std::int64_t b = 0; b < p.batch; ++b) {
      std::int64_t at = 0;  // local row
      for (const Range& range : q_rows_[comm_.rank()]) {
        linear(q + (b * p.seq_q + range.begin) * E, E, range.size(), E, weights_["w_q"].data(), E,
               weights_["b_q"].data(), proj_q_.data() + (b * lq + at) * E, E, E, threads_);
        at += range.size();
      }
    }
    return proj_q_.data();
  }

  /// This rank's K and V rows (projected if need be) in block layout.
  void own_block(const TensorSet& in, float* block) {
    const Problem& p = p_;
    const int r = comm_.rank();
    const std::int64_t rows = rows_in(kv_rows_[r]), d = p.head_dim, dv = p.value_dim, E = p.model_dim();
    const std::int64_t kw = p.kv_heads * d, vw = p.kv_heads * dv;
    float* k_dst = block;
    float* v_dst = block + p.batch * rows * kw;
    const float* k = in.at("k").as<float>().data();
    const float* v = in.at("v").as<float>().data();
    const PhaseScope phase(phases_, p.projections ? Phase::projections : Phase::layout, p.projections ? threads_ : 1);
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (const Range& range : kv_rows_[r]) {
        if (p.projections) {
          linear(k + (b * p.seq_kv + range.begin) * E, E, range.size(), E, weights_["w_k"].data(), E,
                 weights_["b_k"].data(), k_dst, kw, kw, threads_);
          linear(v + (b * p.seq_kv + range.begin) * E, E, range.size(), E, weights_["w_v"].data(), E,
                 weights_["b_v"].data(), v_dst, vw, vw, threads_);
        } else {
          std::memcpy(k_dst, k + (b * p.seq_kv + range.begin) * kw, std::size_t(range.size() * kw) * sizeof(float));
          std::memcpy(v_dst, v + (b * p.seq_kv + range.begin) * vw, std::size_t(range.size() * vw) * sizeof(float));
        }
        k_dst += range.size() * kw, v_dst += range.size() * vw;
      }
  }

  /// out = O / l for this rank's rows (then W_o with projections).
  void finish(Tensor& out) {
    const Problem& p = p_;
    const int r = comm_.rank();
    const std::int64_t width = p.heads * p.value_dim, lq = rows_in(q_rows_[r]), E = p.model_dim();
    float* o = out.as<float>().data();
    if (!p.projections) return state_.normalise_into(o, p.seq_q, width);
    state_.normalise_into(rows_out_.data(), -1, width);  // [B][lq][H*dv]
    const PhaseScope phase(phases_, Phase::projections, threads_);
    for (std::int64_t b = 0; b < p.batch; ++b) {
      std::int64_t at = 0;  // local row
      for (const Range& range : q_rows_[r]) {
        linear(rows_out_.data() + (b * lq + at) * width, width, range.size(), width, weights_["w_o"].data(), width,
               weights_["b_o"].data(), o + (b * p.seq_q + range.begin) * E, E, E, threads_);
        at += range.size();
      }
    }
  }

  Comm comm_;
  Problem p_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  std::unique_ptr<blocked::Executor> executor_;
  std::vector<std::vector<Range>> q_rows_, kv_rows_;  // per rank
  std::vector<float> blocks_[2];  // the K/V block in hand and the one arriving (block layout above)
  PartialAttention state_;
  std::map<std::string, std::vector<float>> weights_;
  std::vector<float> proj_q_, rows_out_;  // projections: my rows of Q [B][lq][E], of the output before W_o
  double isolated_step_ = 0;
};

class RingKernel final : public MpiKernel {
 public:
  using MpiKernel::MpiKernel;
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override {
    const int P = comm_size(ctx.comm);
    std::int64_t lq = 0, lk = 0;
    for (const Range& r : ring_rows(p, p.seq_q, P, 0)) lq += r.size();
    for (const Range& r : ring_rows(p, p.seq_kv, P, 0)) lk += r.size();
    std::int64_t floats = 2 * p.batch * (lk + 1) * p.kv_heads * (p.head_dim + p.value_dim);
    if (p.projections)
      floats += p.model_dim() * (p.heads * (2 * p.head_dim + p.value_dim) + 2 * p.kv_heads * (p.head_dim + p.value_dim)) +
                p.batch * lq * p.heads * (p.head_dim + p.value_dim);
    return floats * 4 + PartialAttention::workspace_bytes(p, lq, lk, effective_threads(ctx));
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext& ctx) const override {
    checked_ranks(p, ctx);
    return std::make_unique<Ring>(p, t, ctx);
  }
};

Capabilities ring_capabilities() {
  Capabilities c = all_features(Parallelism::mpi, 1e-4);
  c.scores = {Score::scaled_dot, Score::multiplicative};  // additive would need its per-head key packing here
  return c;
}

}  // namespace
}  // namespace mpi

const Kernel& mha_ring_mpi() {
  static const mpi::RingKernel kernel(
      {"mha.ring.mpi", Family::attention,
       "ring attention: sequence split across MPI ranks, K/V blocks passed around the ring overlapped with compute",
       mpi::ring_capabilities()},
      "ring");
  return kernel;
}

}  // namespace attnbench::kernels
