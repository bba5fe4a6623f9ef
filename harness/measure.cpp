// The measurement loop: warm-up, then timed repetitions until the stopping rule is done.
#include "measure.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cache_flush.hpp"

namespace attnbench {
namespace {

using Clock = std::chrono::steady_clock;

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

const MeasureOptions& validated(const MeasureOptions& options) {
  validate(options);
  return options;
}

}  // namespace

const char* to_string(CacheMode mode) { return mode == CacheMode::cold ? "cold" : "hot"; }

CacheMode parse_cache_mode(const std::string& text) {
  if (text == "hot") return CacheMode::hot;
  if (text == "cold") return CacheMode::cold;
  throw std::invalid_argument("unknown cache mode '" + text + "' (valid: hot, cold)");
}

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
  require(o.ci_target >= 0 && o.ci_target < 1, "ci_target must be in [0, 1)", o.ci_target);
}

nlohmann::json to_json(const TimingNotes& n) {
  const bool has_target = n.ci_target > 0;
  return {{"warmup_calls", n.warmup_calls},
          {"warmup_s", n.warmup_seconds},
          {"ci_target", has_target ? nlohmann::json(n.ci_target) : nlohmann::json(nullptr)},
          {"target_met", has_target ? nlohmann::json(n.target_met) : nlohmann::json(nullptr)},
          {"stop", to_string(n.stop)},
          {"cache", to_string(n.cache)},
          {"cache_flush_bytes", n.cache_flush_bytes},
          {"interleave", n.interleave ? nlohmann::json{{"seed", n.interleave->seed},
                                                       {"kernels", n.interleave->kernels},
                                                       {"rounds", n.interleave->rounds}}
                                      : nlohmann::json(nullptr)}};
}

RepetitionLoop::RepetitionLoop(std::function<void()> fn, const MeasureOptions& options, RepetitionSync* sync)
    : fn_(std::move(fn)), options_(validated(options)), sync_(sync), rule_(options) {
  samples_.reserve(static_cast<std::size_t>(options.min_reps));
  notes_.ci_target = options.ci_target;
  notes_.cache = options.cache;
  if (options.cache == CacheMode::cold) notes_.cache_flush_bytes = cache_flush_bytes();
}

double RepetitionLoop::call(bool timed, double* flush_seconds) {
  if (timed && options_.cache == CacheMode::cold) {
    const Clock::time_point flush_start = Clock::now();
    flush_caches();
    const double flushed = std::chrono::duration<double>(Clock::now() - flush_start).count();
    *flush_seconds = sync_ ? sync_->combine(flushed, false) : flushed;
  }
  if (sync_) sync_->start();
  const Clock::time_point start = Clock::now();
  fn_();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return sync_ ? sync_->combine(elapsed, timed) : elapsed;
}

void RepetitionLoop::warm_up() {
  while (notes_.warmup_calls < options_.warmup_runs || notes_.warmup_seconds < options_.warmup_min_seconds) {
    notes_.warmup_seconds += call(false);
    ++notes_.warmup_calls;
  }
}

void RepetitionLoop::repeat() {
  if (done()) throw std::logic_error("RepetitionLoop::repeat after the stopping rule was done");
  double flush_seconds = 0;
  const double elapsed = call(true, &flush_seconds);
  samples_.push_back(elapsed);
  rule_.add(elapsed, flush_seconds);  // NOLINT(readability-suspicious-call-argument): (seconds, untimed_seconds)
}

Measurement RepetitionLoop::result() const {
  Measurement m{samples_, notes_};
  m.notes.target_met = rule_.target_met();
  m.notes.stop = rule_.reason();
  return m;
}

Measurement measure(const std::function<void()>& fn, const MeasureOptions& options, RepetitionSync* sync) {
  RepetitionLoop loop(fn, options, sync);
  loop.warm_up();
  while (!loop.done()) loop.repeat();
  return loop.result();
}

}  // namespace attnbench
