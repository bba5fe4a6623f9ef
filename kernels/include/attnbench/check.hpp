#pragma once
/// \file check.hpp
/// Comparing a kernel's fp32 output with the float64 reference.
///
///   max_rel_error = max_i |out_i - ref_i| / max(|ref_i|, floor),  floor = 1e-3 * max_j |ref_j|
///
/// The floor keeps elements far smaller than the output's scale from dominating through cancellation,
/// while a row that must be exactly zero (fully masked) still fails if the kernel writes anything
/// noticeable there. Non-finite outputs give +inf.

#include <cstdint>

#include "attnbench/tensor.hpp"

namespace attnbench {

struct CheckResult {
  double max_rel_error = 0;
  double max_abs_error = 0;
  std::int64_t worst_index = -1;  ///< flat index of the element with the largest relative error
};

/// `out` is f32, `ref` f64, same shape (throws std::invalid_argument otherwise).
CheckResult compare_to_reference(const Tensor& out, const Tensor& ref);

}  // namespace attnbench
