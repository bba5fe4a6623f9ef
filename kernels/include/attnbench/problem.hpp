#pragma once
/// \file problem.hpp
/// The problem descriptor: one value that describes one measured case, shared by every part of
/// attnbench (kernels, harness, benchmarks, tests, reports).
///
/// Conventions (see docs/SEMANTICS.md for the full definitions):
/// - Tensors at the kernel boundary are row-major `[batch, seq, heads, dim]`.
/// - Grouped-query attention: query head `h` reads KV head `h / (heads / kv_heads)`.
/// - Causal masks are aligned bottom-right: query `i` may see key `j` iff `j <= i + (seq_kv - seq_q)`,
///   so a 1-token decode step sees the whole KV cache and `seq_q > seq_kv` leaves early rows empty.
/// - A query row with no visible key (fully masked) produces an output row of zeros.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attnbench {

enum class Mask { none, causal, padding };
enum class Score { scaled_dot, additive, multiplicative };
enum class DType { fp32 };

std::string_view to_string(Mask m);
std::string_view to_string(Score s);
std::string_view to_string(DType t);
/// Parse the names above; throw ProblemError naming `field` and listing the valid names.
Mask parse_mask(std::string_view s, std::string_view field = "mask");
Score parse_score(std::string_view s, std::string_view field = "score");
DType parse_dtype(std::string_view s, std::string_view field = "dtype");

/// A descriptor (or its string form) broke a rule. `field()` names the offending field.
class ProblemError : public std::invalid_argument {
 public:
  ProblemError(std::string field, const std::string& message);
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

struct Problem {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;   ///< = heads unless grouped-query; must divide heads
  std::int64_t seq_q = 1;
  std::int64_t seq_kv = 1;     ///< = seq_q for self-attention; seq_q = 1 with long seq_kv is decode
  std::int64_t head_dim = 1;   ///< d_k
  std::int64_t value_dim = 1;  ///< d_v
  Mask mask = Mask::none;
  Score score = Score::scaled_dot;
  bool projections = false;    ///< full module (Q/K/V/O linear layers) rather than the core alone
  // Fields of the CNN/RNN baselines (op.hpp); attention kernels refuse any non-default value.
  std::int64_t kernel_size = 3;  ///< conv1d taps k ("same" output length; even k padded as torch's 'same')
  std::int64_t dilation = 1;     ///< conv1d dilation of the first layer; layer l uses dilation * 2^l
  std::int64_t layers = 1;       ///< conv1d stack depth (ReLU between layers)
  bool bidirectional = false;    ///< RNN: a backward direction too, its outputs concatenated
  DType dtype = DType::fp32;

  /// `heads * head_dim`: the width of the module's input and output (E in torch's terms).
  std::int64_t model_dim() const { return heads * head_dim; }
  /// Query heads per KV head.
  std::int64_t group_size() const { return heads / kv_heads; }
  bool is_decode() const { return seq_q == 1 && seq_kv > 1; }
  bool is_cross() const { return seq_q != seq_kv; }
  /// Whether a baseline-only field (kernel_size, dilation, layers, bidirectional) differs from its default.
  bool has_baseline_fields() const { return kernel_size != 3 || dilation != 1 || layers != 1 || bidirectional; }

  /// Throw ProblemError for the first broken rule; the message names the field and the rule.
  void validate() const;

  /// Round-trippable name, e.g. `b2_h16_sq512_skv512_d64_causal` (see parse_problem for the grammar).
  std::string str() const;

  friend bool operator==(const Problem&, const Problem&) = default;
};

/// Parse the string form. Grammar: tokens joined by `_`, each a prefix and a value:
///   `b<batch>` `h<heads>` [`hk<kv_heads>`] `sq<seq_q>` [`skv<seq_kv>`] `d<head_dim>` [`dv<value_dim>`]
///   [`causal`|`padding`] [`additive`|`multiplicative`] [`proj`] [`fp32`]
///   [`ks<kernel_size>`] [`dil<dilation>`] [`ly<layers>`] [`bidir`]   (CNN/RNN baselines)
/// Omitted optional tokens take their defaults (kv_heads = heads, seq_kv = seq_q, value_dim = head_dim,
/// mask none, score scaled_dot, no projections, fp32, kernel_size 3, dilation 1, layers 1,
/// unidirectional). The result is validated.
/// Throws ProblemError naming the bad token.
Problem parse_problem(std::string_view text);

/// Largest size accepted for any one dimension; far beyond any real case, it keeps index
/// arithmetic (products of up to four sizes) from overflowing 64 bits.
inline constexpr std::int64_t kMaxDim = std::int64_t{1} << 24;
/// Deepest conv stack accepted (its last layer's dilation is dilation * 2^(layers-1)).
inline constexpr std::int64_t kMaxConvLayers = 24;

}  // namespace attnbench
