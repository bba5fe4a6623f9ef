#pragma once
/// \file check.hpp
/// Comparing a kernel's fp32 output with the float64 reference.
///
///   max_rel_error = max_i |out_i - ref_i| / max(|ref_i|, rms(ref))
///
/// Elements at or above the output's typical magnitude (its root mean square) are judged relative to
/// themselves; smaller ones relative to that typical magnitude, so cancellation in an element that
/// happens to be near zero does not masquerade as a large error (fp32 accumulation errors are
/// absolute, of order eps * sqrt(terms) * typical magnitude). A row that must be exactly zero (fully
/// masked) still fails if the kernel writes anything noticeable there. A non-finite output gives +inf.
/// An all-zero reference uses a floor of the smallest normal double, so any non-zero output fails.

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
