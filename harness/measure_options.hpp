#pragma once
// How one case is measured: warm-up, the stopping rule's limits and target, and the cache state.
// Shared by the measurement loop (measure.hpp), the stopping rule (stopping_rule.hpp) and the
// command-line options (cli_measure.hpp).
#include <string>

namespace attnbench {

/// The cache state each timed repetition starts from.
///   hot   the previous repetition's data stays cached (steady-state throughput; the default)
///   cold  the caches are flushed before every repetition, outside the timed region (cache_flush.hpp),
///         so each call reads its inputs from memory as a single inference step would
enum class CacheMode { hot, cold };
const char* to_string(CacheMode mode);
/// "hot" or "cold"; std::invalid_argument naming the valid values otherwise.
CacheMode parse_cache_mode(const std::string& text);

/// How long and how often a callable is measured. All times are in seconds; a time counts the calls
/// themselves (under MPI: the slowest rank's), never the loop's own overhead.
///
/// The defaults are chosen so that a sweep of many small cases stays affordable while the 2% target
/// still means something (docs/RESULTS.md "Measurement"):
/// - min_reps 6: the fewest samples for which the median has a 95% order-statistic interval, so a
///   quiet case of any length can stop there;
/// - min_seconds 0.1: enough for >= 100 samples of a 1 ms kernel (the interval then spans the
///   middle ~20% of the samples, robust to a few preempted repetitions) and longer than the kernel's
///   10 ms scheduler tick, yet a case that meets its target costs ~0.15 s with its warm-up;
/// - max_seconds 10: a case whose median will not settle (bimodal, or a busy machine) stops there
///   and says so (target_met false), bounding a 100-case sweep on a noisy machine to ~17 minutes;
/// - max_reps 10000: only a limit for microsecond kernels (10000 samples of 10 us are 0.1 s).
struct MeasureOptions {
  int warmup_runs = 1;              ///< untimed calls before timing (>= 0)
  double warmup_min_seconds = 0.05; ///< keep warming up until this much time has passed (>= 0)
  int min_reps = 6;                 ///< at least this many timed calls (>= 1)
  int max_reps = 10000;             ///< never more than this many timed calls (>= min_reps)
  double min_seconds = 0.1;         ///< keep timing until the samples add up to this (>= 0)
  double max_seconds = 10;          ///< the per-case budget: stop once the samples add up to more (> 0)
  /// Stop once the 95% interval of the median has relative half-width <= this (0.02: +-2%);
  /// 0 disables the target (then min_reps and min_seconds alone decide). In [0, 1).
  double ci_target = 0.02;
  CacheMode cache = CacheMode::hot;
};

/// Throws std::invalid_argument naming the first field that is out of range and its rule,
/// e.g. "min_reps must be >= 1 (got 0)".
void validate(const MeasureOptions& options);

}  // namespace attnbench
