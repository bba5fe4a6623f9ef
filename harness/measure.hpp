#pragma once
// Timing a callable: warm-up, then repeated timed calls until enough samples or time.
#include <functional>
#include <vector>

namespace attnbench {

/// How long and how often `measure` runs a callable. All times are in seconds.
struct MeasureOptions {
  int warmup_runs = 1;              ///< untimed calls before timing (>= 0)
  double warmup_min_seconds = 0.05; ///< keep warming up until this much time has passed (>= 0)
  int min_reps = 6;                 ///< at least this many timed calls (>= 1)
  int max_reps = 1000;              ///< never more than this many timed calls (>= min_reps)
  double min_seconds = 0.5;         ///< keep timing until the samples add up to this (>= 0)
  double max_seconds = 30;          ///< stop once the samples add up to more than this (> 0)
};

/// Throws std::invalid_argument naming the first field that is out of range and its rule,
/// e.g. "min_reps must be >= 1 (got 0)".
void validate(const MeasureOptions& options);

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

/// Times `fn`, one sample (seconds, std::chrono::steady_clock) per call.
///
/// Warm-up: calls `fn` untimed at least `warmup_runs` times and for at least
/// `warmup_min_seconds`, so caches, page tables and thread pools are hot before timing.
/// Timing: repeats until there are at least `min_reps` samples AND they add up to at least
/// `min_seconds`; stops early at `max_reps` samples, or once the samples add up to more than
/// `max_seconds` provided `min_reps` samples exist. The exception: a single call longer than
/// `max_seconds` ends the measurement right after it, even below `min_reps`. (Since validate
/// requires min_seconds <= max_seconds, the min_reps/min_seconds rule always stops first
/// otherwise; max_seconds becomes a real budget once adaptive, CI-based stopping arrives.)
/// Validates `options` first (see validate). Exceptions from `fn` propagate.
///
/// With `sync` (an MPI kernel on several ranks) every call, warm-up included, starts with
/// sync->start() and its time is sync->combine(): the slowest rank's. Time limits count call times
/// (not the loop's own overhead), so every rank stops after the same call.
std::vector<double> measure(const std::function<void()>& fn, const MeasureOptions& options,
                            RepetitionSync* sync = nullptr);

}  // namespace attnbench
