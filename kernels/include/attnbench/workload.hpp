#pragma once
/// \file workload.hpp
/// Which tensors a problem reads and writes, by name and shape, and seeded random contents for them.
/// The same names are the `.npy` file names of `attnbench run --inputs DIR / --save-output DIR`.
///
/// Attention core (no projections), E = heads * head_dim:
///   q [B, Lq, H, d]   k [B, Lk, Hk, d]   v [B, Lk, Hk, dv]            -> out [B, Lq, H, dv]
/// Full module (--projections), torch.nn.Linear convention y = x W^T + b:
///   q [B, Lq, E]  k [B, Lk, E]  v [B, Lk, E]
///   w_q [H*d, E] b_q [H*d]  w_k [Hk*d, E] b_k [Hk*d]  w_v [Hk*dv, E] b_v [Hk*dv]
///   w_o [E, H*dv] b_o [E]                                             -> out [B, Lq, E]
/// Padding mask:            lengths [B] int32, valid keys per batch entry, 0 <= len <= Lk
/// Multiplicative scoring:  w_score [H, d, d]
/// Additive scoring:        w_score_q [H, da, d]  w_score_k [H, da, d]  v_score [H, da], da = d
///
/// Baselines (op.hpp), E = model_dim, torch layouts (docs/SEMANTICS.md "Baselines"):
///   conv1d:          x [B, L, E]  w_conv [layers, E, E, k]  b_conv [layers, E]             -> out [B, L, E]
///   lstm/gru/elman:  x [B, L, E]  w_ih [dirs, G*E, E]  w_hh [dirs, G*E, E]  b_ih [dirs, G*E]
///                    b_hh [dirs, G*E]  h0 [dirs, B, E]  (lstm) c0 [dirs, B, E]             -> out [B, L, dirs*E]
///   with G the gate count (lstm 4, gru 3, elman 1) and dirs 2 when bidirectional.
///
/// Every function takes the operator; the forms without one are attention's (Op::mha).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attnbench/op.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"

namespace attnbench {

enum class TensorRole { input, weight, output };

struct TensorSpec {
  std::string name;
  Shape shape;
  DataType type;
  TensorRole role;
};

/// Every tensor the problem reads, in a fixed order (inputs first, then weights).
std::vector<TensorSpec> input_specs(Op op, const Problem& p);
/// The output tensor ("out").
TensorSpec output_spec(Op op, const Problem& p);
/// Hidden width of additive (Bahdanau) scoring; fixed to head_dim.
inline std::int64_t additive_dim(const Problem& p) { return p.head_dim; }

/// Allocate and fill every input spec from a deterministic generator (same seed, same data on every
/// platform): activations ~ N(0, 1); weights ~ N(0, 1/fan_in) so scores stay O(1); biases ~ N(0, 0.1²);
/// lengths uniform in [1, Lk].
TensorSet make_inputs(Op op, const Problem& p, std::uint64_t seed);
/// Fill one tensor as make_inputs would (used when a user's --inputs directory lacks a weight).
Tensor make_tensor(const Problem& p, const TensorSpec& spec, std::uint64_t seed);
/// Check that `tensors` holds every input spec of `p` with its exact shape and type, that float
/// values are finite, and that padding lengths lie in [0, seq_kv]. Throws std::invalid_argument naming the tensor, what it holds and what
/// was expected. Kernels and the reference may then assume well-formed inputs.
void validate_inputs(Op op, const Problem& p, const TensorSet& tensors);
/// The padding mask's per-batch valid lengths in `tensors`, or an empty span for other masks.
std::span<const std::int32_t> kv_lengths_of(const Problem& p, const TensorSet& tensors);
/// A zeroed output tensor of output_spec(op, p).
Tensor make_output(Op op, const Problem& p);

// Attention's workload (Op::mha).
inline std::vector<TensorSpec> input_specs(const Problem& p) { return input_specs(Op::mha, p); }
inline TensorSpec output_spec(const Problem& p) { return output_spec(Op::mha, p); }
inline TensorSet make_inputs(const Problem& p, std::uint64_t seed) { return make_inputs(Op::mha, p, seed); }
inline void validate_inputs(const Problem& p, const TensorSet& t) { validate_inputs(Op::mha, p, t); }
inline Tensor make_output(const Problem& p) { return make_output(Op::mha, p); }

}  // namespace attnbench
