// Problem descriptor: enum names and validation rules.
#include "attnbench/problem.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace attnbench {

ProblemError::ProblemError(std::string field, const std::string& message)
    : std::invalid_argument(message), field_(std::move(field)) {}

namespace {

template <class E, std::size_t N>
E parse_enum(std::string_view s, std::string_view field, const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names)
    if (s == name) return value;
  std::string valid;
  for (const auto& [value, name] : names) valid += std::string(valid.empty() ? "" : "|") + name;
  throw ProblemError(std::string(field), std::string(field) + ": unknown value '" + std::string(s) +
                                             "' (valid: " + valid + ")");
}

template <class E, std::size_t N>
std::string_view enum_name(E v, const std::array<std::pair<E, const char*>, N>& names) {
  for (const auto& [value, name] : names)
    if (value == v) return name;
  return "?";
}

constexpr std::array<std::pair<Mask, const char*>, 3> kMasks{
    {{Mask::none, "none"}, {Mask::causal, "causal"}, {Mask::padding, "padding"}}};
constexpr std::array<std::pair<Score, const char*>, 3> kScores{{{Score::scaled_dot, "scaled_dot"},
                                                                 {Score::additive, "additive"},
                                                                 {Score::multiplicative, "multiplicative"}}};
constexpr std::array<std::pair<DType, const char*>, 1> kDTypes{{{DType::fp32, "fp32"}}};

void require_size(const char* field, std::int64_t value) {
  if (value < 1)
    throw ProblemError(field, std::string(field) + " must be >= 1 (got " + std::to_string(value) + ")");
  if (value > kMaxDim)
    throw ProblemError(field, std::string(field) + " must be <= " + std::to_string(kMaxDim) + " (got " +
                                  std::to_string(value) + ")");
}

}  // namespace

std::string_view to_string(Mask m) { return enum_name(m, kMasks); }
std::string_view to_string(Score s) { return enum_name(s, kScores); }
std::string_view to_string(DType t) { return enum_name(t, kDTypes); }
Mask parse_mask(std::string_view s, std::string_view field) { return parse_enum(s, field, kMasks); }
Score parse_score(std::string_view s, std::string_view field) { return parse_enum(s, field, kScores); }
DType parse_dtype(std::string_view s, std::string_view field) { return parse_enum(s, field, kDTypes); }

void Problem::validate() const {
  require_size("batch", batch);
  require_size("heads", heads);
  require_size("kv_heads", kv_heads);
  require_size("seq_q", seq_q);
  require_size("seq_kv", seq_kv);
  require_size("head_dim", head_dim);
  require_size("value_dim", value_dim);
  require_size("kernel_size", kernel_size);
  require_size("dilation", dilation);
  if (layers < 1 || layers > kMaxConvLayers)
    throw ProblemError("layers", "layers must be in [1, " + std::to_string(kMaxConvLayers) + "] (got " +
                                     std::to_string(layers) + ")");
  // The widest layer's span dilation * 2^(layers-1) * (kernel_size-1) must stay an exact index.
  if ((long double)(dilation) * (long double)(std::int64_t{1} << (layers - 1)) * (long double)(kernel_size) >
      (long double)(kMaxDim))
    throw ProblemError("dilation", "dilation * 2^(layers-1) * kernel_size must be <= " + std::to_string(kMaxDim) +
                                       " (got dilation " + std::to_string(dilation) + ", layers " +
                                       std::to_string(layers) + ", kernel_size " + std::to_string(kernel_size) + ")");
  if (kv_heads > heads || heads % kv_heads != 0)
    throw ProblemError("kv_heads", "kv_heads (" + std::to_string(kv_heads) + ") must divide heads (" +
                                       std::to_string(heads) +
                                       "): each KV head serves heads/kv_heads query heads");
  // Every tensor of a case (activations [B, L, H, d], one head's score matrix Lq x Lk, projection
  // weights (H d)^2) must stay far inside 64-bit index arithmetic; the harness's memory check
  // refuses much smaller cases on real machines.
  using wide = long double;
  const wide limit = wide(std::int64_t{1} << 40);
  const wide activations = wide(batch) * wide(std::max(seq_q, seq_kv)) * wide(heads) * wide(std::max(head_dim, value_dim));
  const wide scores = wide(seq_q) * wide(seq_kv);
  // Attention's Q/K/V/O weights; a conv stack's [layers, E, E, k]; an LSTM's [2, 4E, E].
  const wide weights = wide(heads) * wide(std::max(head_dim, value_dim)) * wide(heads) * wide(head_dim) *
                       std::max<wide>(wide(layers) * wide(kernel_size), 8);
  if (activations > limit || scores > limit || weights > limit)
    throw ProblemError(activations > limit ? "batch" : scores > limit ? "seq_q" : "heads",
                       "problem too large: one of its tensors would hold more than 2^40 elements; "
                       "reduce batch, seq, heads or head_dim");
}

}  // namespace attnbench
