// Attention composed from oneDNN 2.6 primitives (see onednn_attention.hpp). Semantics follow
// docs/SEMANTICS.md: bottom-right causal alignment, zeros for fully masked rows, query head h reads KV
// head h / (heads / kv_heads), projections in the torch.nn.Linear convention.
//
// Per (batch, head), with S the Lq x Lk score matrix:
//   S = (1/sqrt(d)) Q K^T + M     one matmul: the scale is its output scale, the additive mask M
//                                 (0 / -inf) a binary-add post-op, so S is written once
//   S = softmax(S) along keys     in place
//   O = S V                       written straight into [B, Lq, H, dv]
// Q, K, V and O are read and written where they lie in the [batch, seq, heads, dim] layout: the
// matmuls get strided memory descriptors, nothing is copied or transposed. K^T is K viewed with
// swapped strides; grouped-query heads are pointer offsets (per head) or a size-1 broadcast dimension
// (batched). Multiplicative scores first form q' = q W_h with one batched matmul, then take the
// scaled_dot path on q'. Projections are matmuls with bias on weights reordered once in prepare.
//
// Fully masked rows: oneDNN's softmax of a row that is all -inf is NaN (0/0). Such rows are known from
// the problem and the lengths alone (causal with seq_q > seq_kv: the first seq_q - seq_kv rows; padding:
// every row of a batch entry whose length is 0), and a matmul keeps rows apart (row i of S V depends
// only on row i of S), so those output rows are simply overwritten with 0 after the second matmul; with
// padding length 0 the per-head path skips the head entirely. This costs O(rows * dv), nothing per key.
#include "onednn_attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"

namespace attnbench::kernels {

const char* const kOnednnNoAdditive =
    "additive (Bahdanau) scores are not composed from oneDNN primitives: tanh(Wq q_i + Wk k_j) needs a "
    "[seq_q, seq_kv, d] tensor per head (d times the score matrix) before the reduction with v_score";

const char* to_string(OnednnStrategy s) {
  switch (s) {
    case OnednnStrategy::automatic: return "automatic";
    case OnednnStrategy::batched: return "batched";
    case OnednnStrategy::per_head: return "per_head";
  }
  return "?";
}

namespace {

using dnnl::memory;
using Dims = memory::dims;
using DT = memory::data_type;
using Tag = memory::format_tag;
using Args = std::unordered_map<int, memory>;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// oneDNN built with the OpenMP runtime (Debian's libdnnl) takes its thread count from the calling
// thread's omp_get_max_threads(): when a primitive descriptor is created (blocking, per-thread scratchpad
// sizes) and again at every execution. There is no per-primitive setting, so the kernel sets the OpenMP
// default to its own thread count for the duration of prepare and of each run, and restores the
// caller's value afterwards: the process-wide default belongs to the caller (harness, tests, other
// kernels), and creating and executing with the same count keeps oneDNN's scratchpad sizes valid.
class OmpThreadsScope {
 public:
  explicit OmpThreadsScope(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~OmpThreadsScope() { omp_set_num_threads(saved_); }
  OmpThreadsScope(const OmpThreadsScope&) = delete;
  OmpThreadsScope& operator=(const OmpThreadsScope&) = delete;

 private:
  int saved_;
};

bool is_reference_impl(const dnnl::primitive_desc& pd) {
  return std::string_view(pd.impl_info_str()).substr(0, 3) == "ref";
}

// Attributes: a user-owned scratchpad (one buffer allocated in prepare, shared by the primitives, which
// run one after another), an optional output scale and an optional binary-add post-op.
dnnl::primitive_attr make_attr(float scale = 1.0f, const memory::desc* add = nullptr) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (scale != 1.0f) attr.set_output_scales(0, {scale});
  if (add) {
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, *add);
    attr.set_post_ops(ops);
  }
  return attr;
}

// A causal mask with seq_q == 1 hides nothing (the one query is the last position), so a decode step
// runs unmasked, as a practitioner would run it.
Mask effective_mask(const Problem& p) { return p.mask == Mask::causal && p.seq_q == 1 ? Mask::none : p.mask; }

// Everything decided for a problem before any buffer exists: the strategy, the memory descriptors and
// the primitive descriptors. workspace_bytes builds one to count the bytes honestly (scratchpad and
// reordered weights included); prepare builds one and allocates from it.
struct Plan {
  OnednnStrategy strategy = OnednnStrategy::per_head;
  Mask mask = Mask::none;
  // The core: Q, K^T, S, V, O views and the mask (binary post-op source) for one call.
  memory::desc q, kt, s, v, o, mask_md;
  dnnl::matmul::primitive_desc qk, pv;
  dnnl::softmax_forward::primitive_desc softmax;
  dnnl::matmul::primitive_desc score_w;  // multiplicative: q' = q W_h for every (batch, head)
  dnnl::matmul::primitive_desc proj_q, proj_k, proj_v, proj_o;
  std::int64_t score_floats = 0;  // S: one head's Lq x Lk, or all B*H of them
  std::int64_t mask_floats = 0;   // causal: Lq x Lk; padding: B x Lk

  // The one scratchpad is shared by every primitive (they run one after another): the largest need.
  std::int64_t scratchpad_bytes() const {
    std::int64_t most = 0;
    auto need = [&](const dnnl::primitive_desc& pd) {
      if (pd) most = std::max(most, std::int64_t(pd.scratchpad_desc().get_size()));
    };
    need(qk), need(softmax), need(pv), need(score_w), need(proj_q), need(proj_k), need(proj_v), need(proj_o);
    return most;
  }
  std::string summary() const {
    std::string text = std::string(to_string(strategy)) + ": qk=" + qk.impl_info_str() +
                       " softmax=" + softmax.impl_info_str() + " pv=" + pv.impl_info_str();
    if (score_w) text += std::string(" score_w=") + score_w.impl_info_str();
    if (proj_q) text += std::string(" proj=") + proj_q.impl_info_str() + "," + proj_k.impl_info_str() + "," +
                        proj_v.impl_info_str() + "," + proj_o.impl_info_str();
    return text;
  }
};

// The automatic choice. Measured on the 2-core AMD EPYC dev VM (B=1, H=16, d=64, seq 2048-8192): the
// batched call runs oneDNN's brgemm matmul, about 10% faster on one thread than the gemm:jit that
// oneDNN 2.6 picks for a single strided head (brgemm wants the operand tensors dense), and on par on two
// threads. So: batched, except where oneDNN cannot batch well (a causal mask: see batched_core) or where
// every head's scores at once would pass 4 GiB (B=1, H=16 beyond seq 8192), when one head at a time
// holds a 16th or less of that and lets longer sequences run at all.
OnednnStrategy choose_strategy(const Problem& p, Mask mask) {
  if (mask == Mask::causal) return OnednnStrategy::per_head;
  constexpr std::int64_t kBatchedScoreBytes = std::int64_t(4) << 30;
  const std::int64_t batched_bytes = p.batch * p.heads * p.seq_q * p.seq_kv * std::int64_t(sizeof(float));
  return batched_bytes <= kBatchedScoreBytes ? OnednnStrategy::batched : OnednnStrategy::per_head;
}

// Batched core descriptors. Without grouped-query heads: 4-D [B, H, rows, cols] with the batch
// dimensions strided over the [B, L, H, dim] tensors. With them: 5-D [B, Hk, G, rows, cols], where K
// and V have a size-1 G dimension that the matmul broadcasts over the G query heads of a group.
bool batched_core(const Problem& p, Mask mask, Plan& plan) {
  const std::int64_t B = p.batch, H = p.heads, Hk = p.kv_heads, G = p.group_size(), Lq = p.seq_q,
                     Lk = p.seq_kv, d = p.head_dim, dv = p.value_dim;
  // oneDNN 2.6 runs a [1, 1, Lq, Lk] causal-mask post-op (broadcast over batch and heads) only in its
  // reference code (ref:any, hundreds of times slower). A [B, 1, 1, Lk] padding mask is fine on the 4-D
  // views but not on the 5-D grouped-query ones: make_plan checks the implementations and falls back.
  if (mask == Mask::causal) return false;
  if (G == 1) {
    plan.q = memory::desc({B, H, Lq, d}, DT::f32, Dims{Lq * H * d, d, H * d, 1});
    plan.kt = memory::desc({B, H, d, Lk}, DT::f32, Dims{Lk * H * d, d, 1, H * d});
    plan.s = memory::desc({B, H, Lq, Lk}, DT::f32, Tag::abcd);
    plan.v = memory::desc({B, H, Lk, dv}, DT::f32, Dims{Lk * H * dv, dv, H * dv, 1});
    plan.o = memory::desc({B, H, Lq, dv}, DT::f32, Dims{Lq * H * dv, dv, H * dv, 1});
    if (mask == Mask::padding) plan.mask_md = memory::desc({B, 1, 1, Lk}, DT::f32, Tag::abcd);
  } else {
    // The stride of a size-1 dimension is never used; a zero there sends oneDNN 2.6 to ref:any.
    plan.q = memory::desc({B, Hk, G, Lq, d}, DT::f32, Dims{Lq * H * d, G * d, d, H * d, 1});
    plan.kt = memory::desc({B, Hk, 1, d, Lk}, DT::f32, Dims{Lk * Hk * d, d, d, 1, Hk * d});
    plan.s = memory::desc({B, Hk, G, Lq, Lk}, DT::f32, Tag::abcde);
    plan.v = memory::desc({B, Hk, 1, Lk, dv}, DT::f32, Dims{Lk * Hk * dv, dv, dv, Hk * dv, 1});
    plan.o = memory::desc({B, Hk, G, Lq, dv}, DT::f32, Dims{Lq * H * dv, G * dv, dv, H * dv, 1});
    if (mask == Mask::padding) plan.mask_md = memory::desc({B, 1, 1, 1, Lk}, DT::f32, Tag::abcde);
  }
  plan.score_floats = B * H * Lq * Lk;
  plan.mask_floats = mask == Mask::padding ? B * Lk : 0;
  return true;
}

// One (batch, head) at a time: 2-D views with leading dimensions H*d, Hk*d, ...
void per_head_core(const Problem& p, Mask mask, Plan& plan) {
  const std::int64_t H = p.heads, Hk = p.kv_heads, Lq = p.seq_q, Lk = p.seq_kv, d = p.head_dim, dv = p.value_dim;
  plan.q = memory::desc({Lq, d}, DT::f32, Dims{H * d, 1});
  plan.kt = memory::desc({d, Lk}, DT::f32, Dims{1, Hk * d});
  plan.s = memory::desc({Lq, Lk}, DT::f32, Tag::ab);
  plan.v = memory::desc({Lk, dv}, DT::f32, Dims{Hk * dv, 1});
  plan.o = memory::desc({Lq, dv}, DT::f32, Dims{H * dv, 1});
  plan.mask_md = memory::desc();
  if (mask == Mask::causal) plan.mask_md = memory::desc({Lq, Lk}, DT::f32, Tag::ab);
  if (mask == Mask::padding) plan.mask_md = memory::desc({1, Lk}, DT::f32, Tag::ab);
  plan.score_floats = Lq * Lk;
  plan.mask_floats = mask == Mask::causal ? Lq * Lk : mask == Mask::padding ? p.batch * Lk : 0;
}

void core_primitives(const Problem& p, Plan& plan) {
  const dnnl::engine& eng = cpu_engine();
  const float scale = 1.0f / std::sqrt(float(p.head_dim));
  const bool masked = plan.mask != Mask::none;
  plan.qk = dnnl::matmul::primitive_desc(dnnl::matmul::desc(plan.q, plan.kt, plan.s),
                                         make_attr(scale, masked ? &plan.mask_md : nullptr), eng);
  plan.softmax = dnnl::softmax_forward::primitive_desc(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, plan.s, int(plan.s.dims().size()) - 1), make_attr(), eng);
  plan.pv = dnnl::matmul::primitive_desc(dnnl::matmul::desc(plan.s, plan.v, plan.o), make_attr(), eng);
}

// y[rows, out] = x[rows, in] W^T + b: weights in whatever layout oneDNN prefers (reordered in prepare).
dnnl::matmul::primitive_desc linear_pd(std::int64_t rows, std::int64_t in, std::int64_t out) {
  const memory::desc x({rows, in}, DT::f32, Tag::ab), w({in, out}, DT::f32, Tag::any),
      b({1, out}, DT::f32, Tag::ab), y({rows, out}, DT::f32, Tag::ab);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, w, b, y), make_attr(), cpu_engine());
}

Plan make_plan(const Problem& p, OnednnStrategy wanted) {
  Plan plan;
  plan.mask = effective_mask(p);
  plan.strategy = wanted == OnednnStrategy::automatic ? choose_strategy(p, plan.mask) : wanted;
  bool built = false;
  if (plan.strategy == OnednnStrategy::batched && batched_core(p, plan.mask, plan)) {
    core_primitives(p, plan);
    built = !is_reference_impl(plan.qk) && !is_reference_impl(plan.softmax) && !is_reference_impl(plan.pv);
  }
  if (!built) {  // per head, also where a batched layout would only get oneDNN's reference code
    plan.strategy = OnednnStrategy::per_head;
    per_head_core(p, plan.mask, plan);
    core_primitives(p, plan);
  }
  const std::int64_t B = p.batch, H = p.heads, Hk = p.kv_heads, Lq = p.seq_q, Lk = p.seq_kv, d = p.head_dim,
                     dv = p.value_dim, E = p.model_dim();
  if (p.score == Score::multiplicative) {
    // q'[b, i, h, :] = q[b, i, h, :] W_h for every (b, h) at once; W broadcast over the batch.
    const memory::desc qv({B, H, Lq, d}, DT::f32, Dims{Lq * H * d, d, H * d, 1}),
        w({1, H, d, d}, DT::f32, Tag::any);
    plan.score_w = dnnl::matmul::primitive_desc(dnnl::matmul::desc(qv, w, qv), make_attr(), cpu_engine());
  }
  if (p.projections) {
    plan.proj_q = linear_pd(B * Lq, E, H * d);
    plan.proj_k = linear_pd(B * Lk, E, Hk * d);
    plan.proj_v = linear_pd(B * Lk, E, Hk * dv);
    plan.proj_o = linear_pd(B * Lq, H * dv, E);
  }
  return plan;
}

// Bytes of the weights as oneDNN holds them after the reorder in prepare (plus biases).
std::int64_t packed_weight_bytes(const Plan& plan) {
  std::int64_t bytes = 0;
  if (plan.score_w) bytes += std::int64_t(plan.score_w.weights_desc().get_size());
  for (const dnnl::matmul::primitive_desc* pd : {&plan.proj_q, &plan.proj_k, &plan.proj_v, &plan.proj_o})
    if (*pd) bytes += std::int64_t(pd->weights_desc().get_size() + pd->bias_desc().get_size());
  return bytes;
}

// 64-byte-aligned float scratch (attnbench's Tensor), never smaller than one cache line so that every
// oneDNN memory object gets a real address.
Tensor float_buffer(std::int64_t n) { return Tensor(DataType::f32, {std::max<std::int64_t>(n, 16)}); }

float* data(Tensor& t) { return t.as<float>().data(); }
void* mutable_ptr(const float* p) { return const_cast<float*>(p); }  // oneDNN takes void*; sources are only read

class OnednnAttention final : public PreparedKernel {
 public:
  OnednnAttention(const Problem& p, const TensorSet& t, int threads, OnednnStrategy wanted, PhaseRecorder* phases)
      : p_(p), threads_(threads), phases_(phases) {
    OmpThreadsScope scope(threads_);
    const dnnl::engine& eng = cpu_engine();
    plan_ = make_plan(p, wanted);
    stream_ = dnnl::stream(eng);
    const std::int64_t B = p.batch, H = p.heads, Hk = p.kv_heads, Lq = p.seq_q, Lk = p.seq_kv, d = p.head_dim,
                       dv = p.value_dim;

    scratchpad_ = float_buffer((plan_.scratchpad_bytes() + 3) / 4);
    scratchpad_mem_ = memory({{std::int64_t(scratchpad_.bytes())}, DT::u8, Tag::a}, eng, scratchpad_.raw());
    scores_ = float_buffer(plan_.score_floats);
    mask_ = float_buffer(plan_.mask_floats);

    // The core: memory objects whose data handles run() points at the right (batch, head).
    q_mem_ = memory(plan_.q, eng, nullptr);
    kt_mem_ = memory(plan_.kt, eng, nullptr);
    v_mem_ = memory(plan_.v, eng, nullptr);
    o_mem_ = memory(plan_.o, eng, nullptr);
    s_mem_ = memory(plan_.s, eng, scores_.raw());
    qk_ = dnnl::matmul(plan_.qk);
    softmax_ = dnnl::softmax_forward(plan_.softmax);
    pv_ = dnnl::matmul(plan_.pv);
    qk_args_ = {{DNNL_ARG_SRC, q_mem_}, {DNNL_ARG_WEIGHTS, kt_mem_}, {DNNL_ARG_DST, s_mem_},
                {DNNL_ARG_SCRATCHPAD, scratchpad_mem_}};
    if (plan_.mask != Mask::none) {
      mask_mem_ = memory(plan_.mask_md, eng, mask_.raw());
      qk_args_[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] = mask_mem_;
    }
    softmax_args_ = {{DNNL_ARG_SRC, s_mem_}, {DNNL_ARG_DST, s_mem_}, {DNNL_ARG_SCRATCHPAD, scratchpad_mem_}};
    pv_args_ = {{DNNL_ARG_SRC, s_mem_}, {DNNL_ARG_WEIGHTS, v_mem_}, {DNNL_ARG_DST, o_mem_},
                {DNNL_ARG_SCRATCHPAD, scratchpad_mem_}};
    if (plan_.mask == Mask::causal) {  // additive mask, bottom-right aligned: key j visible from query i iff j <= i + Lk - Lq
      float* m = data(mask_);
      for (std::int64_t i = 0; i < Lq; ++i)
        for (std::int64_t j = 0; j < Lk; ++j)
          m[i * Lk + j] = j <= i + (Lk - Lq) ? 0.0f : -std::numeric_limits<float>::infinity();
    }

    if (plan_.score_w) {
      query_side_ = float_buffer(B * Lq * H * d);
      score_w_ = dnnl::matmul(plan_.score_w);
      score_w_weights_ = packed(t.at("w_score"), memory::desc({1, H, d, d}, DT::f32, Tag::abcd), plan_.score_w.weights_desc());
      score_w_src_ = memory(plan_.score_w.src_desc(), eng, nullptr);
      score_w_args_ = {{DNNL_ARG_SRC, score_w_src_}, {DNNL_ARG_WEIGHTS, score_w_weights_},
                       {DNNL_ARG_DST, memory(plan_.score_w.dst_desc(), eng, query_side_.raw())},
                       {DNNL_ARG_SCRATCHPAD, scratchpad_mem_}};
    }
    if (p.projections) {
      q_ = float_buffer(B * Lq * H * d);
      k_ = float_buffer(B * Lk * Hk * d);
      v_ = float_buffer(B * Lk * Hk * dv);
      attn_ = float_buffer(B * Lq * H * dv);
      proj_q_ = Linear(plan_.proj_q, t.at("w_q"), t.at("b_q"), data(q_), scratchpad_mem_);
      proj_k_ = Linear(plan_.proj_k, t.at("w_k"), t.at("b_k"), data(k_), scratchpad_mem_);
      proj_v_ = Linear(plan_.proj_v, t.at("w_v"), t.at("b_v"), data(v_), scratchpad_mem_);
      proj_o_ = Linear(plan_.proj_o, t.at("w_o"), t.at("b_o"), nullptr, scratchpad_mem_);
      proj_o_.x.set_data_handle(attn_.raw());
    }
    stream_.wait();
  }

  void run(const TensorSet& in, Tensor& out) override {
    OmpThreadsScope scope(threads_);
    const Problem& p = p_;
    const float *q = in.at("q").as<float>().data(), *k = in.at("k").as<float>().data(),
                *v = in.at("v").as<float>().data();
    float* o = out.as<float>().data();
    if (p.projections) {
      const PhaseScope phase(phases_, Phase::projections, threads_);  // primitives run on the whole team
      proj_q_.run(stream_, q);
      proj_k_.run(stream_, k);
      proj_v_.run(stream_, v);
      if (phases_) stream_.wait();  // profiling: the phase ends when its primitives do
      q = data(q_), k = data(k_), v = data(v_), o = data(attn_);
    }
    if (score_w_) {
      const PhaseScope phase(phases_, Phase::qk, threads_);
      score_w_src_.set_data_handle(mutable_ptr(q));
      score_w_.execute(stream_, score_w_args_);
      if (phases_) stream_.wait();
      q = data(query_side_);
    }
    const std::int32_t* lengths = p.mask == Mask::padding ? in.at("lengths").as<std::int32_t>().data() : nullptr;
    if (lengths) fill_padding_mask(lengths);
    if (plan_.strategy == OnednnStrategy::batched)
      run_batched(q, k, v, o, lengths);
    else
      run_per_head(q, k, v, o, lengths);
    if (p.projections) {
      const PhaseScope phase(phases_, Phase::projections, threads_);
      proj_o_.y.set_data_handle(out.raw());
      proj_o_.run(stream_, data(attn_));
      if (phases_) stream_.wait();
    }
    stream_.wait();
  }

 private:
  // One linear layer: its primitive, the reordered weight and a copy of the bias.
  struct Linear {
    Linear() = default;
    Linear(const dnnl::matmul::primitive_desc& pd, const Tensor& w, const Tensor& b, float* y_data, const memory& scratchpad) {
      const dnnl::engine& eng = cpu_engine();
      // W is [out, in] row-major: as the matmul's [in, out] operand that is the transposed ("ba") view.
      weights = packed(w, memory::desc(pd.weights_desc().dims(), DT::f32, Tag::ba), pd.weights_desc());
      bias_copy = Tensor(DataType::f32, {b.size()});
      std::memcpy(bias_copy.raw(), b.raw(), b.bytes());
      prim = dnnl::matmul(pd);
      x = memory(pd.src_desc(), eng, nullptr);
      y = memory(pd.dst_desc(), eng, y_data);
      args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, weights},
              {DNNL_ARG_BIAS, memory(pd.bias_desc(), eng, bias_copy.raw())}, {DNNL_ARG_DST, y},
              {DNNL_ARG_SCRATCHPAD, scratchpad}};
    }
    void run(dnnl::stream& s, const float* src) {
      x.set_data_handle(mutable_ptr(src));
      prim.execute(s, args);
    }
    dnnl::matmul prim;
    memory weights, x, y;
    Tensor bias_copy;
    Args args;
  };

  // A user weight tensor reordered once into the layout `packed_md` the primitive asked for.
  static memory packed(const Tensor& w, const memory::desc& user_md, const memory::desc& packed_md) {
    const dnnl::engine& eng = cpu_engine();
    memory user(user_md, eng, const_cast<void*>(w.raw()));
    memory result(packed_md, eng);
    dnnl::stream s(eng);
    dnnl::reorder(user, result).execute(s, user, result);
    s.wait();
    return result;
  }

  void fill_padding_mask(const std::int32_t* lengths) {
    const std::int64_t Lk = p_.seq_kv;
    float* m = data(mask_);
    for (std::int64_t b = 0; b < p_.batch; ++b) {
      const std::int64_t valid = lengths[b];
      std::fill(m + b * Lk, m + b * Lk + valid, 0.0f);
      std::fill(m + b * Lk + valid, m + (b + 1) * Lk, -std::numeric_limits<float>::infinity());
    }
  }

  void run_batched(const float* q, const float* k, const float* v, float* o, const std::int32_t* lengths) {
    q_mem_.set_data_handle(mutable_ptr(q));
    kt_mem_.set_data_handle(mutable_ptr(k));
    v_mem_.set_data_handle(mutable_ptr(v));
    o_mem_.set_data_handle(o);
    execute_core();
    stream_.wait();
    // Batch entries with no valid key: their softmax rows were NaN; the output is 0 (a causal mask never
    // takes this path).
    const std::int64_t per_batch = p_.seq_q * p_.heads * p_.value_dim;
    if (lengths)
      for (std::int64_t b = 0; b < p_.batch; ++b)
        if (lengths[b] == 0) std::fill(o + b * per_batch, o + (b + 1) * per_batch, 0.0f);
  }

  void run_per_head(const float* q, const float* k, const float* v, float* o, const std::int32_t* lengths) {
    const Problem& p = p_;
    const std::int64_t H = p.heads, Hk = p.kv_heads, Lq = p.seq_q, Lk = p.seq_kv, d = p.head_dim, dv = p.value_dim;
    // Causal with Lq > Lk: the first Lq - Lk query rows see no key.
    const std::int64_t empty_rows = plan_.mask == Mask::causal ? std::max<std::int64_t>(Lq - Lk, 0) : 0;
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t h = 0; h < H; ++h) {
        float* o_head = o + b * Lq * H * dv + h * dv;
        if (lengths && lengths[b] == 0) {  // every row of this batch entry is fully masked
          zero_rows(o_head, Lq);
          continue;
        }
        const std::int64_t g = h / p.group_size();  // the KV head this query head reads
        q_mem_.set_data_handle(mutable_ptr(q + b * Lq * H * d + h * d));
        kt_mem_.set_data_handle(mutable_ptr(k + b * Lk * Hk * d + g * d));
        v_mem_.set_data_handle(mutable_ptr(v + b * Lk * Hk * dv + g * dv));
        o_mem_.set_data_handle(o_head);
        if (lengths) mask_mem_.set_data_handle(data(mask_) + b * Lk);
        execute_core();
        if (empty_rows) {
          stream_.wait();
          zero_rows(o_head, empty_rows);
        }
      }
  }

  // S = Q K^T (+ mask), P = softmax(S), O = P V on the current handles. When profiling the stream is
  // waited on after each primitive, so that each phase's time is its own.
  void execute_core() {
    PhaseScope phase(phases_, Phase::qk, threads_);
    const bool profiling = phases_ != nullptr;
    qk_.execute(stream_, qk_args_);
    if (profiling) stream_.wait(), phase.switch_to(Phase::softmax);
    softmax_.execute(stream_, softmax_args_);
    if (profiling) stream_.wait(), phase.switch_to(Phase::pv);
    pv_.execute(stream_, pv_args_);
    if (profiling) stream_.wait();
  }

  // Rows 0..rows-1 of one head's output (leading dimension H * dv).
  void zero_rows(float* o_head, std::int64_t rows) const {
    const std::int64_t ld = p_.heads * p_.value_dim;
    for (std::int64_t i = 0; i < rows; ++i) std::fill(o_head + i * ld, o_head + i * ld + p_.value_dim, 0.0f);
  }

  Problem p_;
  int threads_;
  PhaseRecorder* phases_;  // null unless profiling
  Plan plan_;
  dnnl::stream stream_;
  Tensor scratchpad_, scores_, mask_, query_side_, q_, k_, v_, attn_;
  memory scratchpad_mem_, q_mem_, kt_mem_, v_mem_, o_mem_, s_mem_, mask_mem_, score_w_src_, score_w_weights_;
  dnnl::matmul qk_, pv_, score_w_;
  dnnl::softmax_forward softmax_;
  Args qk_args_, softmax_args_, pv_args_, score_w_args_;
  Linear proj_q_, proj_k_, proj_v_, proj_o_;
};

}  // namespace

Support OnednnKernel::supports(const Problem& p) const {
  Support s = Kernel::supports(p);  // not const: returned, so moved
  if (!s.ok && p.score == Score::additive) return Support::no(kOnednnNoAdditive);
  return s;
}

std::int64_t OnednnKernel::workspace_bytes(const Problem& p, const RunContext& ctx) const {
  OmpThreadsScope scope(effective_threads(ctx));  // primitive descriptors depend on the thread count
  const Plan plan = make_plan(p, strategy_);
  const std::int64_t B = p.batch, Lq = p.seq_q, Lk = p.seq_kv;
  std::int64_t floats = plan.score_floats + plan.mask_floats;
  if (p.score == Score::multiplicative) floats += B * Lq * p.heads * p.head_dim;  // q'
  if (p.projections)                                                            // projected Q, K, V, attention output
    floats += B * (Lq * p.heads * (p.head_dim + p.value_dim) + Lk * p.kv_heads * (p.head_dim + p.value_dim));
  return floats * std::int64_t(sizeof(float)) + plan.scratchpad_bytes() + packed_weight_bytes(plan);
}

std::unique_ptr<PreparedKernel> OnednnKernel::prepare(const Problem& p, const TensorSet& tensors,
                                                      const RunContext& ctx) const {
  return std::make_unique<OnednnAttention>(p, tensors, effective_threads(ctx), strategy_, ctx.phases);
}

std::string OnednnKernel::plan_summary(const Problem& p, const RunContext& ctx) const {
  OmpThreadsScope scope(effective_threads(ctx));
  return make_plan(p, strategy_).summary();
}

Capabilities onednn_capabilities(Parallelism parallelism) {
  Capabilities c;
  c.masks = {Mask::none, Mask::causal, Mask::padding};
  c.scores = {Score::scaled_dot, Score::multiplicative};  // additive: see kOnednnNoAdditive
  c.cross = c.grouped_query = c.projections = true;
  c.parallelism = parallelism;
  c.tolerance = 1e-4;
  return c;
}

}  // namespace attnbench::kernels
