#pragma once
// Timing a callable: warm-up, then timed repetitions until the stopping rule (stopping_rule.hpp)
// says the median is known well enough or the budget is spent.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "measure_options.hpp"
#include "stopping_rule.hpp"

namespace attnbench {

/// How the ranks of an MPI job time a call together (rank_timing.hpp implements it over MPI).
class RepetitionSync {
 public:
  virtual ~RepetitionSync() = default;
  /// Before each call: returns once every rank is ready, so the ranks start together (a barrier).
  virtual void start() = 0;
  /// The call's time as every rank must see it, given this rank's own: the maximum over ranks, so
  /// every rank makes the same stopping decisions. `timed` is false for warm-up calls.
  virtual double combine(double local_seconds, bool timed) = 0;
};

/// With --interleave: the kernels of one problem were timed in rounds, each round in a random order
/// drawn from `seed` (case_runner.hpp, run_cases_interleaved).
struct InterleaveNote {
  std::uint64_t seed = 0;
  int kernels = 0;  ///< kernels timed together
  int rounds = 0;   ///< rounds in which this kernel was timed (its repetitions)
};

/// What a reader needs to trust the samples, stored beside them in the record's `time` object.
struct TimingNotes {
  int warmup_calls = 0;
  double warmup_seconds = 0;       ///< the warm-up calls' time (under MPI the slowest rank's)
  double ci_target = 0;            ///< MeasureOptions::ci_target (0: none)
  bool target_met = false;         ///< see StoppingRule::target_met
  StopReason stop = StopReason::none;
  CacheMode cache = CacheMode::hot;
  std::int64_t cache_flush_bytes = 0;  ///< bytes streamed before each repetition (cold); 0 when hot
  std::optional<InterleaveNote> interleave;
};

/// `time`'s fields beyond the statistics: warmup_calls, warmup_s, ci_target (null when 0),
/// target_met (null without a target), stop, cache, cache_flush_bytes, interleave (null or
/// {seed, kernels, rounds}). docs/RESULTS.md describes them.
nlohmann::json to_json(const TimingNotes& notes);

struct Measurement {
  std::vector<double> samples;  ///< seconds per timed call, in the order measured
  TimingNotes notes;
};

/// One callable's measurement taken step by step, so that several can be interleaved
/// (run_cases_interleaved); `measure` below runs one to the end.
///
/// Warm-up: calls `fn` untimed at least `warmup_runs` times and for at least `warmup_min_seconds`,
/// so page tables, thread pools and lazy set-up are done before timing (without flushes: they would
/// only lengthen it). Each timed call is preceded, outside the timed region, by a cache flush when
/// options.cache is cold (cache_flush.hpp); its time goes to the StoppingRule together with the
/// flush's, which counts toward the time limits (a 5 us kernel behind a 4 ms flush would otherwise
/// need 20000 flushes, 80 s, to time 0.1 s). Exceptions from `fn` propagate.
///
/// With `sync` (an MPI kernel on several ranks) every call, warm-up included, starts with
/// sync->start() (after the flush) and its time is sync->combine(): the slowest rank's; so is a
/// flush's (combine(seconds, false)). Time limits count those combined times (not the loop's own
/// overhead), so every rank stops after the same call.
class RepetitionLoop {
 public:
  /// Validates `options` (std::invalid_argument, see validate) before any call.
  RepetitionLoop(std::function<void()> fn, const MeasureOptions& options, RepetitionSync* sync = nullptr);
  void warm_up();
  /// One timed call; must not be called once done().
  void repeat();
  bool done() const { return rule_.done(); }
  /// The samples so far and how they were taken.
  Measurement result() const;

 private:
  /// One call (flushed first when timed and cold): its time, and the flush's in `flush_seconds`.
  double call(bool timed, double* flush_seconds = nullptr);

  std::function<void()> fn_;
  MeasureOptions options_;
  RepetitionSync* sync_;
  StoppingRule rule_;
  std::vector<double> samples_;
  TimingNotes notes_;
};

/// Warm-up, then repetitions until the stopping rule is done (RepetitionLoop).
Measurement measure(const std::function<void()>& fn, const MeasureOptions& options, RepetitionSync* sync = nullptr);

}  // namespace attnbench
