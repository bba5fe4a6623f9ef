// The float64 reference forward pass: the executable definition of every descriptor feature.
// Written for clarity: two-pass softmax per query row, everything in double. It is threaded over
// (batch, head) only so that `run --check` stays quick on long sequences; the arithmetic of each row
// is independent of the thread count.
//
// Definitions (docs/SEMANTICS.md):
//   scaled_dot:      s(i,j) = q_i . k_j / sqrt(d)
//   multiplicative:  s(i,j) = q_i^T W_h k_j / sqrt(d)                 W_h = w_score[h]   (Luong "general")
//   additive:        s(i,j) = v_h . tanh(Wq_h q_i + Wk_h k_j)         (Bahdanau), da = d
//   visible(i,j):    j < lengths[b] (padding) and j <= i + (Lk - Lq) (causal, bottom-right aligned)
//   o_i = sum_j softmax_j(s(i,j) over visible j) v_j; a row with no visible key is 0.
//   With projections: q = x_q W_q^T + b_q (and k, v alike), out = concat_h(o) W_o^T + b_o.
#include "attnbench/reference.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "attnbench/workload.hpp"
#include "baseline_reference.hpp"

namespace attnbench {
namespace {

// y[rows, out] = x[rows, in] W^T + b, with W [out, in] (torch.nn.Linear convention).
template <class In>
std::vector<double> linear(const In* x, std::int64_t rows, std::int64_t in, const Tensor& w, const Tensor& b) {
  const std::int64_t out = w.shape()[0];
  const auto W = w.as<float>();
  const auto bias = b.as<float>();
  std::vector<double> y(std::size_t(rows * out));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < out; ++o) {
      double acc = bias[std::size_t(o)];
      for (std::int64_t c = 0; c < in; ++c) acc += double(x[r * in + c]) * double(W[std::size_t(o * in + c)]);
      y[std::size_t(r * out + o)] = acc;
    }
  return y;
}

std::vector<double> to_double(const Tensor& t) {
  const auto f = t.as<float>();
  return {f.begin(), f.end()};
}

Tensor attention_forward(const Problem& p, const TensorSet& in) {
  p.validate();
  const std::int64_t B = p.batch, Lq = p.seq_q, Lk = p.seq_kv, H = p.heads, Hk = p.kv_heads;
  const std::int64_t d = p.head_dim, dv = p.value_dim, E = p.model_dim(), group = p.group_size();
  validate_inputs(p, in);

  // Q, K, V as double, [B, L, heads, dim].
  std::vector<double> q, k, v;
  if (p.projections) {
    q = linear(in.at("q").as<float>().data(), B * Lq, E, in.at("w_q"), in.at("b_q"));
    k = linear(in.at("k").as<float>().data(), B * Lk, E, in.at("w_k"), in.at("b_k"));
    v = linear(in.at("v").as<float>().data(), B * Lk, E, in.at("w_v"), in.at("b_v"));
  } else {
    q = to_double(in.at("q"));
    k = to_double(in.at("k"));
    v = to_double(in.at("v"));
  }
  const View4<const double> Q{q.data(), B, Lq, H, d}, K{k.data(), B, Lk, Hk, d}, V{v.data(), B, Lk, Hk, dv};
  std::vector<double> attn(std::size_t(B * Lq * H * dv), 0.0);  // concat_h(o): [B, Lq, H, dv]
  const View4<double> O{attn.data(), B, Lq, H, dv};

  const float* w_score = p.score == Score::multiplicative ? in.at("w_score").as<float>().data() : nullptr;
  const float* wa_q = p.score == Score::additive ? in.at("w_score_q").as<float>().data() : nullptr;
  const float* wa_k = p.score == Score::additive ? in.at("w_score_k").as<float>().data() : nullptr;
  const float* va = p.score == Score::additive ? in.at("v_score").as<float>().data() : nullptr;
  const std::int64_t da = additive_dim(p);
  const std::int32_t* lengths = p.mask == Mask::padding ? in.at("lengths").as<std::int32_t>().data() : nullptr;
  const double inv_sqrt_d = 1.0 / std::sqrt(double(d));

#pragma omp parallel for collapse(2) schedule(dynamic)
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t g = h / group;  // the KV head this query head reads
      const std::int64_t valid = lengths ? lengths[b] : Lk;
      // Additive scoring: Wk_h k_j for every key, once per (b, h). [Lk][da]
      std::vector<double> key_hidden;
      if (va) {
        key_hidden.resize(std::size_t(Lk * da));
        for (std::int64_t j = 0; j < Lk; ++j)
          for (std::int64_t a = 0; a < da; ++a) {
            double acc = 0;
            for (std::int64_t c = 0; c < d; ++c) acc += double(wa_k[(h * da + a) * d + c]) * K(b, j, g, c);
            key_hidden[std::size_t(j * da + a)] = acc;
          }
      }
      std::vector<double> query(static_cast<std::size_t>(std::max(d, da)));
      std::vector<double> score(static_cast<std::size_t>(Lk));
      for (std::int64_t i = 0; i < Lq; ++i) {
        // The query-side vector: q_i itself, W_h^T q_i (multiplicative) or Wq_h q_i (additive).
        for (std::int64_t c = 0; c < d; ++c) query[std::size_t(c)] = Q(b, i, h, c);
        if (w_score)
          for (std::int64_t c = 0; c < d; ++c) {
            double acc = 0;
            for (std::int64_t a = 0; a < d; ++a) acc += Q(b, i, h, a) * double(w_score[(h * d + a) * d + c]);
            query[std::size_t(c)] = acc;
          }
        if (va)
          for (std::int64_t a = 0; a < da; ++a) {
            double acc = 0;
            for (std::int64_t c = 0; c < d; ++c) acc += double(wa_q[(h * da + a) * d + c]) * Q(b, i, h, c);
            query[std::size_t(a)] = acc;
          }
        const std::int64_t last = std::min(valid, p.mask == Mask::causal ? i + (Lk - Lq) + 1 : Lk);  // keys [0, last)
        if (last <= 0) continue;  // fully masked row: stays 0
        double max_score = -std::numeric_limits<double>::infinity();
        for (std::int64_t j = 0; j < last; ++j) {
          double s = 0;
          if (va) {
            for (std::int64_t a = 0; a < da; ++a)
              s += double(va[h * da + a]) * std::tanh(query[std::size_t(a)] + key_hidden[std::size_t(j * da + a)]);
          } else {
            for (std::int64_t c = 0; c < d; ++c) s += query[std::size_t(c)] * K(b, j, g, c);
            s *= inv_sqrt_d;
          }
          score[std::size_t(j)] = s;
          max_score = std::max(max_score, s);
        }
        double sum = 0;
        for (std::int64_t j = 0; j < last; ++j) sum += (score[std::size_t(j)] = std::exp(score[std::size_t(j)] - max_score));
        for (std::int64_t j = 0; j < last; ++j) {
          const double weight = score[std::size_t(j)] / sum;
          for (std::int64_t c = 0; c < dv; ++c) O(b, i, h, c) += weight * V(b, j, g, c);
        }
      }
    }

  const TensorSpec out_spec = output_spec(p);
  Tensor out(DataType::f64, out_spec.shape);
  auto result = out.as<double>();
  if (!p.projections) {
    std::copy(attn.begin(), attn.end(), result.begin());
    return out;
  }
  // out = attn W_o^T + b_o, attn viewed as [B*Lq, H*dv].
  const std::vector<double> projected = linear(attn.data(), B * Lq, H * dv, in.at("w_o"), in.at("b_o"));
  std::copy(projected.begin(), projected.end(), result.begin());
  return out;
}

}  // namespace

Tensor reference_forward(Op op, const Problem& p, const TensorSet& in) {
  switch (op) {
    case Op::mha: return attention_forward(p, in);
    case Op::conv1d: return conv1d_reference(p, in);
    case Op::lstm:
    case Op::gru:
    case Op::elman: return rnn_reference(op, p, in);
  }
  throw std::logic_error("reference_forward: unknown operator");
}

}  // namespace attnbench
