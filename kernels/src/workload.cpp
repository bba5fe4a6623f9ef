// Tensor names/shapes of a problem and their seeded random contents.
#include "attnbench/workload.hpp"

#include <cmath>
#include <stdexcept>

#include "attnbench/random.hpp"

namespace attnbench {

namespace {

std::vector<TensorSpec> baseline_specs(Op op, const Problem& p) {
  const std::int64_t B = p.batch, L = p.seq_q, E = p.model_dim();
  const auto in = TensorRole::input, w = TensorRole::weight;
  const auto f32 = DataType::f32;
  if (op == Op::conv1d)
    return {{"x", {B, L, E}, f32, in},
            {"w_conv", {p.layers, E, E, p.kernel_size}, f32, w},
            {"b_conv", {p.layers, E}, f32, w}};
  const std::int64_t dirs = directions(p), G = gate_count(op);
  std::vector<TensorSpec> specs{{"x", {B, L, E}, f32, in},         {"h0", {dirs, B, E}, f32, in},
                                {"w_ih", {dirs, G * E, E}, f32, w}, {"w_hh", {dirs, G * E, E}, f32, w},
                                {"b_ih", {dirs, G * E}, f32, w},    {"b_hh", {dirs, G * E}, f32, w}};
  if (op == Op::lstm) specs.insert(specs.begin() + 2, {"c0", {dirs, B, E}, f32, in});
  return specs;
}

}  // namespace

std::vector<TensorSpec> input_specs(Op op, const Problem& p) {
  if (op != Op::mha) return baseline_specs(op, p);
  const std::int64_t B = p.batch, Lq = p.seq_q, Lk = p.seq_kv, H = p.heads, Hk = p.kv_heads;
  const std::int64_t d = p.head_dim, dv = p.value_dim, E = p.model_dim();
  const auto in = TensorRole::input, w = TensorRole::weight;
  const auto f32 = DataType::f32;
  std::vector<TensorSpec> specs;
  if (p.projections) {
    specs = {{"q", {B, Lq, E}, f32, in},      {"k", {B, Lk, E}, f32, in},      {"v", {B, Lk, E}, f32, in}};
  } else {
    specs = {{"q", {B, Lq, H, d}, f32, in}, {"k", {B, Lk, Hk, d}, f32, in}, {"v", {B, Lk, Hk, dv}, f32, in}};
  }
  if (p.mask == Mask::padding) specs.push_back({"lengths", {B}, DataType::i32, in});
  if (p.projections) {
    specs.push_back({"w_q", {H * d, E}, f32, w});
    specs.push_back({"b_q", {H * d}, f32, w});
    specs.push_back({"w_k", {Hk * d, E}, f32, w});
    specs.push_back({"b_k", {Hk * d}, f32, w});
    specs.push_back({"w_v", {Hk * dv, E}, f32, w});
    specs.push_back({"b_v", {Hk * dv}, f32, w});
    specs.push_back({"w_o", {E, H * dv}, f32, w});
    specs.push_back({"b_o", {E}, f32, w});
  }
  if (p.score == Score::multiplicative) specs.push_back({"w_score", {H, d, d}, f32, w});
  if (p.score == Score::additive) {
    const std::int64_t da = additive_dim(p);
    specs.push_back({"w_score_q", {H, da, d}, f32, w});
    specs.push_back({"w_score_k", {H, da, d}, f32, w});
    specs.push_back({"v_score", {H, da}, f32, w});
  }
  return specs;
}

TensorSpec output_spec(Op op, const Problem& p) {
  if (op == Op::conv1d) return {"out", {p.batch, p.seq_q, p.model_dim()}, DataType::f32, TensorRole::output};
  if (is_recurrent(op))
    return {"out", {p.batch, p.seq_q, directions(p) * p.model_dim()}, DataType::f32, TensorRole::output};
  if (p.projections) return {"out", {p.batch, p.seq_q, p.model_dim()}, DataType::f32, TensorRole::output};
  return {"out", {p.batch, p.seq_q, p.heads, p.value_dim}, DataType::f32, TensorRole::output};
}

namespace {
// FNV-1a: a fixed hash (std::hash differs between standard libraries).
std::uint64_t name_hash(const std::string& name) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  return h;
}
}  // namespace

Tensor make_tensor(const Problem& p, const TensorSpec& spec, std::uint64_t seed) {
  // Each tensor gets its own stream, derived from the seed and its name, so adding a tensor to a
  // problem never changes the contents of the others.
  Random rng(seed ^ name_hash(spec.name));
  Tensor t(spec.type, spec.shape);
  if (spec.type == DataType::i32) {  // lengths: valid keys per batch entry
    for (auto& x : t.as<std::int32_t>()) x = std::int32_t(rng.uniform_int(1, p.seq_kv));
    return t;
  }
  double scale = 1.0;  // activations ~ N(0, 1)
  if (spec.role == TensorRole::weight) {
    if (spec.name.rfind("b_", 0) == 0) scale = 0.1;                          // biases
    else if (spec.name == "v_score") scale = 2.0 / std::sqrt(double(spec.shape.back()));
    else if (spec.name == "w_conv") scale = 1.0 / std::sqrt(double(spec.shape[2] * spec.shape[3]));  // E*k inputs
    else scale = 1.0 / std::sqrt(double(spec.shape.back()));                 // N(0, 1/fan_in)
  }
  for (auto& x : t.as<float>()) x = float(scale * rng.normal());
  return t;
}

TensorSet make_inputs(Op op, const Problem& p, std::uint64_t seed) {
  TensorSet set;
  for (const TensorSpec& spec : input_specs(op, p)) set.add(spec.name, make_tensor(p, spec, seed));
  return set;
}

void validate_inputs(Op op, const Problem& p, const TensorSet& tensors) {
  for (const TensorSpec& spec : input_specs(op, p)) {
    if (!tensors.has(spec.name))
      throw std::invalid_argument("missing tensor '" + spec.name + "' (" + to_string(spec.type) + " " +
                                  shape_str(spec.shape) + ") required by " + p.str());
    const Tensor& t = tensors.at(spec.name);
    if (t.type() != spec.type || t.shape() != spec.shape)
      throw std::invalid_argument("tensor '" + spec.name + "' is " + to_string(t.type()) + " " + shape_str(t.shape()) +
                                  ", expected " + to_string(spec.type) + " " + shape_str(spec.shape) + " for " +
                                  p.str());
    // A NaN or infinity would make every comparison with the reference meaningless.
    if (t.type() == DataType::f32) {
      const auto values = t.as<float>();
      for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
          throw std::invalid_argument("tensor '" + spec.name + "' holds a non-finite value (" +
                                      std::to_string(values[i]) + ") at flat index " + std::to_string(i) +
                                      "; inputs must be finite");
    }
  }
  if (op == Op::mha && p.mask == Mask::padding) {
    const auto lengths = tensors.at("lengths").as<std::int32_t>();
    for (std::size_t b = 0; b < lengths.size(); ++b)
      if (lengths[b] < 0 || lengths[b] > p.seq_kv)
        throw std::invalid_argument("lengths[" + std::to_string(b) + "] = " + std::to_string(lengths[b]) +
                                    " is outside [0, seq_kv = " + std::to_string(p.seq_kv) + "]");
  }
}

std::span<const std::int32_t> kv_lengths_of(const Problem& p, const TensorSet& tensors) {
  if (p.mask != Mask::padding) return {};
  return tensors.at("lengths").as<std::int32_t>();
}

Tensor make_output(Op op, const Problem& p) {
  const TensorSpec s = output_spec(op, p);
  return Tensor(s.type, s.shape);
}

}  // namespace attnbench
