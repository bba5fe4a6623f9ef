#pragma once
/// \file tensor_dir.hpp
/// A problem's tensors as a directory of `.npy` files named after workload.hpp's tensor names
/// (`q.npy`, `k.npy`, `v.npy`, `lengths.npy`, `w_q.npy`, ..., `out.npy`): what
/// `attnbench run --inputs DIR` reads and `--save-output DIR` writes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "attnbench/op.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/tensor.hpp"
#include "npy.hpp"

namespace attnbench {

/// What load_inputs found.
struct LoadedInputs {
  TensorSet tensors;                   ///< every input spec of the problem, validated
  std::vector<std::string> generated;  ///< weights filled from the seed because the directory lacked them
};

/// Read every tensor of `input_specs(op, p)` from `dir/<name>.npy`. Activations (role input: q, k, v
/// and, for padding masks, lengths; x, h0, c0 for the baselines) are required; weights that are absent are filled as
/// make_inputs would with `seed` and listed in `generated`. Dtypes are never converted (a float64
/// file for a float32 tensor is an error, since converting would hide precision differences), except
/// that int64 lengths are narrowed to int32 by read_npy. Throws NpyError naming the directory or file,
/// what it holds and what was expected.
LoadedInputs load_inputs(Op op, const Problem& p, const std::filesystem::path& dir, std::uint64_t seed);

/// Write every tensor of `inputs` as `dir/<name>.npy` and, if `out` is not null, `*out` as
/// `dir/out.npy`. Creates `dir` (and its parents) if missing. Throws NpyError if a directory or
/// file cannot be created or written.
void save_tensors(const std::filesystem::path& dir, const TensorSet& inputs, const Tensor* out);

}  // namespace attnbench
