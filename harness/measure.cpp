// The measurement loop: warm-up, then timed repetitions under count and time limits.
#include "measure.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

void require(bool ok, const std::string& rule, double got) {
  if (!ok) {
    throw std::invalid_argument("measure options: " + rule + " (got " + format_number(got) + ")");
  }
}

/// One call of `fn`: its time, or with `sync` the slowest rank's.
double timed_call(const std::function<void()>& fn, RepetitionSync* sync, bool timed) {
  if (sync) sync->start();
  const Clock::time_point start = Clock::now();
  fn();
  const double elapsed = seconds_since(start);
  return sync ? sync->combine(elapsed, timed) : elapsed;
}

void warm_up(const std::function<void()>& fn, const MeasureOptions& options, RepetitionSync* sync) {
  double total = 0;
  for (int calls = 0; calls < options.warmup_runs || total < options.warmup_min_seconds; ++calls)
    total += timed_call(fn, sync, false);
}

/// Whether the timed loop should stop after `samples` samples adding up to `total` seconds, the
/// slowest of which took `slowest` seconds.
bool done(const MeasureOptions& options, std::size_t samples, double total, double slowest) {
  if (samples >= static_cast<std::size_t>(options.max_reps)) return true;
  const bool enough_reps = samples >= static_cast<std::size_t>(options.min_reps);
  if (enough_reps && total >= options.min_seconds) return true;
  // Past max_seconds with min_reps samples the rule above has already stopped (validate ensures
  // min_seconds <= max_seconds). Below min_reps we keep going, except after a single call longer
  // than the whole budget: min_reps of those would take min_reps times too long, so one must do.
  return total > options.max_seconds && slowest > options.max_seconds;
}

}  // namespace

void validate(const MeasureOptions& o) {
  require(o.warmup_runs >= 0, "warmup_runs must be >= 0", o.warmup_runs);
  require(std::isfinite(o.warmup_min_seconds) && o.warmup_min_seconds >= 0,
          "warmup_min_seconds must be a finite number >= 0", o.warmup_min_seconds);
  require(o.min_reps >= 1, "min_reps must be >= 1", o.min_reps);
  require(o.max_reps >= o.min_reps, "max_reps must be >= min_reps (" + format_number(o.min_reps) + ")",
          o.max_reps);
  require(std::isfinite(o.min_seconds) && o.min_seconds >= 0, "min_seconds must be a finite number >= 0",
          o.min_seconds);
  require(std::isfinite(o.max_seconds) && o.max_seconds > 0, "max_seconds must be a finite number > 0",
          o.max_seconds);
  require(o.max_seconds >= o.min_seconds,
          "max_seconds must be >= min_seconds (" + format_number(o.min_seconds) + ")", o.max_seconds);
}

std::vector<double> measure(const std::function<void()>& fn, const MeasureOptions& options, RepetitionSync* sync) {
  validate(options);
  warm_up(fn, options, sync);

  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(options.min_reps));
  double total = 0;
  double slowest = 0;
  while (!done(options, samples.size(), total, slowest)) {
    const double elapsed = timed_call(fn, sync, true);
    samples.push_back(elapsed);
    total += elapsed;
    if (elapsed > slowest) slowest = elapsed;
  }
  return samples;
}

}  // namespace attnbench
