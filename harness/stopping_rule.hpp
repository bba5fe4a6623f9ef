#pragma once
// When to stop repeating a measurement: a pure decision, fed one sample at a time, with no clock
// inside, so that it is tested on synthetic sample streams (tests/test_stopping_rule.cpp) and so
// that MPI ranks fed the same combined times make the same decision after the same sample.
#include <cstddef>
#include <vector>

#include "measure_options.hpp"
#include "stats.hpp"

namespace attnbench {

/// Why a measurement stopped (the record's `time.stop`).
///   ci_target  the median's 95% interval reached the target (and min_reps / min_seconds were met)
///   minimum    no target (ci_target 0): min_reps samples adding up to min_seconds
///   max_reps   max_reps samples before the target was met
///   max_time   the per-case budget (max_seconds) was spent before the target was met
enum class StopReason { none, ci_target, minimum, max_reps, max_time };
const char* to_string(StopReason reason);

/// The stopping rule of MeasureOptions. After each add():
/// 1. the target is met when there are enough samples for a 95% interval (6) and its relative
///    half-width, (x(k) - x(j)) / 2 / median with stats.hpp's exact order-statistic ranks, is
///    <= ci_target;
/// 2. it stops with `ci_target` (or `minimum` when ci_target is 0) once min_reps samples add up to
///    min_seconds and the target is met;
/// 3. otherwise with `max_reps` at max_reps samples;
/// 4. otherwise with `max_time` once the samples add up to more than max_seconds, provided min_reps
///    samples exist or one sample alone was longer than max_seconds (min_reps of those would take
///    min_reps times the budget, so one must do).
/// "Add up" counts each sample plus the untimed work its repetition needed (a cold-cache flush), so
/// that min_seconds and max_seconds bound the time spent on the case, not only inside the kernel.
/// Each add() costs O(n) for a sorted insert (a memmove: ~0.2 us at n = 1000) and O(1) for the ranks.
class StoppingRule {
 public:
  /// Uses min_reps, max_reps, min_seconds, max_seconds and ci_target; validate(options) first.
  explicit StoppingRule(const MeasureOptions& options);

  /// One timed sample in seconds (under MPI the combined time every rank sees) and the untimed
  /// seconds its repetition cost besides (a cache flush; combined likewise). Ignored once done().
  void add(double seconds, double untimed_seconds = 0);

  bool done() const { return reason_ != StopReason::none; }
  StopReason reason() const { return reason_; }
  /// Whether the interval is within ci_target after the last sample (false while it has < 95%
  /// coverage; always false when ci_target is 0, as there is no target to meet).
  bool target_met() const { return target_met_; }
  /// The interval's relative half-width after the last sample; +infinity below 6 samples.
  double relative_halfwidth() const { return halfwidth_; }
  std::size_t count() const { return sorted_.size(); }
  double total_seconds() const { return total_; }   ///< the samples' sum
  double spent_seconds() const { return spent_; }   ///< the samples' and their untimed work's sum

 private:
  MeasureOptions options_;
  std::vector<double> sorted_;
  MedianCiRankSequence ranks_;
  double total_ = 0, spent_ = 0, slowest_ = 0;
  double halfwidth_;
  bool target_met_ = false;
  StopReason reason_ = StopReason::none;
};

}  // namespace attnbench
