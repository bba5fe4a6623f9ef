// FLOP and byte counts of a Problem. Formulas: docs/SEMANTICS.md, "Cost model".
#include "attnbench/cost_model.hpp"

#include <algorithm>
#include <stdexcept>

#include <omp.h>

#include "attnbench/workload.hpp"

namespace attnbench {

std::int64_t visible_pairs(const Problem& p, std::int64_t kv_valid) {
  const std::int64_t lq = p.seq_q, lk = p.seq_kv;
  // Masks are exclusive: kv_valid < lk only arises with padding, never together with causal.
  if (p.mask != Mask::causal) return lq * std::clamp<std::int64_t>(kv_valid, 0, lk);
  // Row i sees keys j <= i + (lk - lq): i + (lk - lq) + 1 of them, never more than lk (the last row
  // sees all), none for the first lq - lk rows when lq > lk.
  if (lq <= lk) return lq * lk - lq * (lq - 1) / 2;
  return lk * (lk + 1) / 2;
}

std::int64_t visible_pairs(const Problem& p) { return visible_pairs(p, p.seq_kv); }

namespace {

FlopCount baseline_flops(Op op, const Problem& p) {
  const double B = double(p.batch), L = double(p.seq_q), E = double(p.model_dim());
  FlopCount f;
  if (op == Op::conv1d) {  // every tap counts, also where it reads the zero padding (as torch's profiler does)
    f.convolution = double(p.layers) * (2 * B * L * double(p.kernel_size) * E * E + B * L * E);
    return f;
  }
  // Per direction and step: G*E outputs of x W_ih^T + b_ih and as many of h W_hh^T + b_hh, E inputs each.
  const double outputs = double(directions(p)) * B * L * double(gate_count(op)) * E;
  f.projections = outputs * (2 * E + 1);
  f.recurrent = outputs * (2 * E + 1);
  return f;
}

}  // namespace

FlopCount flops(Op op, const Problem& p, std::span<const std::int32_t> kv_lengths) {
  if (op != Op::mha) return baseline_flops(op, p);
  const double B = double(p.batch), H = double(p.heads), Hk = double(p.kv_heads);
  const double Lq = double(p.seq_q), Lk = double(p.seq_kv), d = double(p.head_dim), dv = double(p.value_dim);
  const double E = double(p.model_dim());
  // Visible pairs per head, summed over the batch.
  double batch_pairs = 0;
  if (p.mask == Mask::padding && !kv_lengths.empty() && std::int64_t(kv_lengths.size()) != p.batch)
    throw std::invalid_argument("flops: got " + std::to_string(kv_lengths.size()) + " valid lengths for batch " +
                                std::to_string(p.batch));
  if (p.mask == Mask::padding && !kv_lengths.empty())
    for (std::int32_t valid : kv_lengths) batch_pairs += double(visible_pairs(p, valid));
  else
    batch_pairs = B * double(visible_pairs(p));
  FlopCount f;
  switch (p.score) {
    case Score::scaled_dot:
      f.score = 2 * H * batch_pairs * d;
      break;
    case Score::multiplicative:  // q' = W q once per query row, then q'.k per pair
      f.score = 2 * B * H * Lq * d * d + 2 * H * batch_pairs * d;
      break;
    case Score::additive: {  // W_q q and W_k k once per row, then per pair and hidden unit: add, tanh, mul-add
      const double da = double(additive_dim(p));
      f.score = 2 * B * H * (Lq + Lk) * d * da + 4 * H * batch_pairs * da;
      break;
    }
  }
  f.weighting = 2 * H * batch_pairs * dv;
  if (p.projections) {
    const double q = B * Lq * H * d, k = B * Lk * Hk * d, v = B * Lk * Hk * dv;  // outputs of each layer
    f.projections = (2 * E + 1) * (q + k + v)          // Q, K, V: E inputs per output, plus bias
                    + (2 * H * dv + 1) * (B * Lq * E);  // O: H*dv inputs per output, plus bias
  }
  return f;
}

std::int64_t io_bytes(Op op, const Problem& p) {
  std::int64_t bytes = 0;
  for (const TensorSpec& s : input_specs(op, p)) bytes += element_count(s.shape) * std::int64_t(size_of(s.type));
  const TensorSpec out = output_spec(op, p);
  return bytes + element_count(out.shape) * std::int64_t(size_of(out.type));
}

std::int64_t reference_bytes(Op op, const Problem& p) {
  const std::int64_t activations = p.batch * p.seq_q * p.model_dim();
  // conv1d: a layer's input and output in double; RNNs: the output plus each direction's h and c.
  if (op == Op::conv1d) return 2 * activations * std::int64_t(sizeof(double));
  if (is_recurrent(op))
    return (directions(p) * activations + 2 * directions(p) * p.batch * p.model_dim() +
            gate_count(op) * p.model_dim()) * std::int64_t(sizeof(double));
  std::int64_t doubles = element_count(output_spec(p).shape);
  doubles += p.batch * p.seq_q * p.heads * p.value_dim;  // the attention output before any projection
  // Q, K, V in double (projected, or converted from the fp32 inputs).
  doubles += p.batch * (p.seq_q * p.heads * p.head_dim + p.seq_kv * p.kv_heads * (p.head_dim + p.value_dim));
  // Per thread: one row of scores, the query-side vector and (additive) the key-side hidden [Lk][da].
  const std::int64_t per_thread = p.seq_kv + std::max(p.head_dim, additive_dim(p)) +
                                  (p.score == Score::additive ? p.seq_kv * additive_dim(p) : 0);
  return (doubles + per_thread * std::int64_t(omp_get_max_threads())) * std::int64_t(sizeof(double));
}

std::int64_t query_tokens(const Problem& p) { return p.batch * p.seq_q; }

}  // namespace attnbench
