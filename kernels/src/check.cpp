// Comparison of a kernel's output with the float64 reference (definition in check.hpp).
#include "attnbench/check.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attnbench {

CheckResult compare_to_reference(const Tensor& out, const Tensor& ref) {
  if (out.shape() != ref.shape())
    throw std::invalid_argument("output shape " + shape_str(out.shape()) + " differs from reference shape " +
                                shape_str(ref.shape()));
  const auto o = out.as<float>();
  const auto r = ref.as<double>();
  double sum_squares = 0;
  for (double x : r) sum_squares += x * x;
  const double rms = r.empty() ? 0 : std::sqrt(sum_squares / double(r.size()));
  const double floor = std::max(rms, std::numeric_limits<double>::min());
  CheckResult result;
  for (std::size_t i = 0; i < o.size(); ++i) {
    const double abs_err = std::isfinite(o[i]) ? std::abs(double(o[i]) - r[i]) : std::numeric_limits<double>::infinity();
    const double rel_err = abs_err / std::max(std::abs(r[i]), floor);
    result.max_abs_error = std::max(result.max_abs_error, abs_err);
    if (rel_err > result.max_rel_error || result.worst_index < 0) {
      result.max_rel_error = rel_err;
      result.worst_index = std::int64_t(i);
    }
  }
  return result;
}

}  // namespace attnbench
