// The adaptive stopping rule (stopping_rule.hpp).
#include "stopping_rule.hpp"

#include <algorithm>
#include <limits>

namespace attnbench {

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::none: return "none";
    case StopReason::ci_target: return "ci_target";
    case StopReason::minimum: return "minimum";
    case StopReason::max_reps: return "max_reps";
    case StopReason::max_time: return "max_time";
  }
  return "?";
}

StoppingRule::StoppingRule(const MeasureOptions& options)
    : options_(options), halfwidth_(std::numeric_limits<double>::infinity()) {
  sorted_.reserve(static_cast<std::size_t>(std::min(options.max_reps, 4096)));
}

void StoppingRule::add(double seconds, double untimed_seconds) {
  if (done()) return;
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), seconds), seconds);
  total_ += seconds;
  spent_ += seconds + untimed_seconds;
  slowest_ = std::max(slowest_, seconds);
  const std::size_t n = sorted_.size();

  const MedianCiRanks ranks = ranks_.next();
  if (ranks.confidence >= 0.95) {
    const double median = n % 2 ? sorted_[n / 2] : sorted_[n / 2 - 1] / 2 + sorted_[n / 2] / 2;
    const double half = (sorted_[ranks.high_rank - 1] - sorted_[ranks.low_rank - 1]) / 2;
    halfwidth_ = half == 0 ? 0 : median > 0 ? half / median : std::numeric_limits<double>::infinity();
  }
  const bool has_target = options_.ci_target > 0;
  target_met_ = has_target && halfwidth_ <= options_.ci_target;

  const bool minimum = n >= static_cast<std::size_t>(options_.min_reps) && spent_ >= options_.min_seconds;
  if (minimum && (target_met_ || !has_target))
    reason_ = has_target ? StopReason::ci_target : StopReason::minimum;
  else if (n >= static_cast<std::size_t>(options_.max_reps))
    reason_ = StopReason::max_reps;
  else if (spent_ > options_.max_seconds &&
           (n >= static_cast<std::size_t>(options_.min_reps) || slowest_ > options_.max_seconds))
    reason_ = StopReason::max_time;
}

}  // namespace attnbench
