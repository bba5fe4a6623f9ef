#pragma once
// Comparing two result sets case by case: the statistics and verdicts of `attnbench compare`, without
// any printing (compare_format.hpp prints them).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "result_set.hpp"

namespace attnbench::reports {

/// Verdicts, from the point of view of NEW against BASE.
enum class Verdict {
  faster,              ///< significantly faster (p <= alpha) by more than the threshold
  slower,              ///< significantly slower (p <= alpha) by more than the threshold: fails CI
  same,                ///< not significant, or within the threshold
  only_in_base,        ///< the case disappeared
  only_in_new,         ///< a new case
  correctness_failed,  ///< NEW failed (status failed, or its check failed): fails CI
  not_comparable,      ///< skipped, failed in BASE, no samples, or too few samples for the test (the note says which)
};
const char* to_string(Verdict v);

struct CompareOptions {
  double threshold = 0.05;  ///< relative change of the median below which a case is "same" even if significant
  double alpha = 0.05;      ///< significance level of the two-sided Mann-Whitney U test
  /// Glob filters; a case is kept when every filter matches its kernel (or benchmark name) or its
  /// problem string; within one filter, comma-separated globs are alternatives.
  std::vector<std::string> filters;
  /// Test one value per record (each record's median: one per round or run) instead of every
  /// repetition. Repetitions of one run share the machine's state (load, frequency, memory placement),
  /// so they are not independent and a round that ran under a burst of load can make pooled repetitions
  /// "significant"; records are the independent units, and at least 4 per side are needed.
  bool by_record = false;
};

/// One case of the comparison. Times in seconds.
///
/// The ratio new/base is the Hodges-Lehmann estimate when both sides have samples: the median of all
/// n_base x n_new ratios new_j / base_i (the shift of log times). It is what the U test and the interval
/// are about, and unlike the ratio of the two medians it does not jump when pooled rounds make a side's
/// samples bimodal; for a plain change of speed the two agree. Without samples on both sides (Google
/// Benchmark aggregates only) it is the ratio of the medians.
struct CaseComparison {
  CaseKey key;
  Verdict verdict = Verdict::same;
  std::string note;  ///< why the verdict (the reason for not-comparable, the failure, "within threshold", ...)
  std::size_t base_n = 0, new_n = 0;  ///< samples per side (records with by_record)
  std::optional<double> base_median_s, new_median_s;
  std::optional<double> ratio;         ///< new/base: Hodges-Lehmann estimate (see above)
  std::optional<double> median_ratio;  ///< new median / base median
  /// Confidence interval for the ratio at level 1 - alpha: exp of the Moses interval of log(new) -
  /// log(base) (mann_whitney.hpp); `ci_confidence` is its exact coverage. Absent with too few samples.
  std::optional<double> ratio_low, ratio_high, ci_confidence;
  std::optional<double> p_value;  ///< two-sided Mann-Whitney U, NEW samples against BASE samples
  bool exact_p = false;
};

/// Geometric mean of the ratios of one kernel's (or benchmark family's) cases that have a ratio (failed
/// cases excluded: their times measured something else or nothing).
struct GroupSummary {
  std::string group;          ///< kernel id (attnbench), benchmark name up to its first '/' (gbench), or "all"
  std::size_t compared = 0;   ///< cases with a ratio
  std::optional<double> geomean_ratio;
  std::size_t faster = 0, slower = 0, same = 0, failed = 0, other = 0;  ///< other: only-in-*, not-comparable
};

struct Comparison {
  CompareOptions options;
  std::vector<CaseComparison> cases;  ///< BASE's order, then cases only in NEW
  std::vector<GroupSummary> groups;   ///< per group in order of appearance, then "all"
  std::vector<std::string> warnings;  ///< provenance differences and skipped input lines
  /// 1 when any case is slower or correctness-failed, else 0 (the CI gate).
  int exit_status() const;
};

/// Compares NEW against BASE. Both sets must have the same format (throws ResultSetError otherwise).
Comparison compare(const ResultSet& base, const ResultSet& fresh, const CompareOptions& options);

/// Whether `key` passes `filters` (see CompareOptions::filters).
bool case_selected(const CaseKey& key, const std::vector<std::string>& filters);

/// The smallest equal sample size per side whose exact test can reach p <= alpha (4 for alpha 0.05).
std::size_t samples_needed(double alpha);

}  // namespace attnbench::reports
