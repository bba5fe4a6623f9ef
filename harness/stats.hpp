#pragma once
// Summary statistics of a set of timing samples, as stored in a result record's "time" object.
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench {

/// Statistics of one measured case. All times are in seconds.
///
/// The 95% interval is a distribution-free confidence interval for the MEDIAN, built from order
/// statistics (timing samples are skewed and often multi-modal, so a mean +- t*s interval would
/// mislead). With the samples sorted as x(1) <= ... <= x(n), the interval is [x(j), x(k)] with
/// k = n + 1 - j (symmetric ranks). For a continuous distribution with median m, the number B of
/// samples below m is Binomial(n, 1/2), and [x(j), x(k)] covers m exactly when j <= B < k, so the
/// coverage is P(j <= B <= k - 1) = 1 - 2 * P(B <= j - 1). The largest j whose coverage is >= 0.95
/// is chosen, the binomial probabilities computed exactly (summed term by term, no normal
/// approximation) for any n.
///
/// For n <= 5 no pair of ranks reaches 95%; the interval is then [min, max] (j = 1) and
/// `ci95_confidence` reports the coverage actually achieved, 1 - 2 / 2^n (0.9375 for n = 5,
/// 0 for n = 1). Otherwise `ci95_confidence` is the exact achieved coverage (>= 0.95).
struct SampleStats {
  double median = 0;     ///< middle sample (mean of the two middle ones when n is even)
  double mean = 0;       ///< arithmetic mean
  double stddev = 0;     ///< sample standard deviation (n - 1 in the denominator; 0 when n = 1)
  double min = 0;        ///< fastest sample
  double max = 0;        ///< slowest sample
  double ci95_low = 0;   ///< lower end of the median's confidence interval, x(j)
  double ci95_high = 0;  ///< upper end of the median's confidence interval, x(k)
  int repetitions = 0;   ///< number of samples, n
  double ci95_confidence = 0;  ///< exact coverage of [ci95_low, ci95_high] (see above)
  std::vector<double> samples;  ///< the samples in the order they were measured
};

/// The 1-based order-statistic ranks of the median's confidence interval for n samples, and the
/// exact coverage they achieve (see SampleStats). Exposed so that adaptive stopping rules can ask
/// how wide the interval would be without summarizing. Throws std::invalid_argument when n == 0.
struct MedianCiRanks {
  std::size_t low_rank = 0;   ///< j: the interval starts at the j-th smallest sample
  std::size_t high_rank = 0;  ///< k = n + 1 - j: the interval ends at the k-th smallest sample
  double confidence = 0;      ///< P(j <= B < k) for B ~ Binomial(n, 1/2)
};
MedianCiRanks median_ci_ranks(std::size_t n);

/// median_ci_ranks(n) for n = 1, 2, 3, ... in O(1) per step, for a stopping rule that asks after
/// every sample (median_ci_ranks(n) sums O(n) terms: ~25 us at n = 1000, which would be 2.5% of a
/// 1 ms repetition). It carries P(B <= j - 1) and the two binomial terms around it from n to n + 1:
/// P(B' <= k) = P(B <= k) - P(B = k) / 2 and P(B' = k) = (P(B = k) + P(B = k - 1)) / 2 for
/// B' ~ Binomial(n + 1, 1/2), then widens j while the coverage stays >= 95%. The ranks equal
/// median_ci_ranks(n) (tests/test_stats.cpp checks every n up to 3000 and some up to 100000).
class MedianCiRankSequence {
 public:
  /// The ranks for one more sample than the previous call (n = 1 on the first call).
  MedianCiRanks next();
  std::size_t count() const { return n_; }  ///< n of the last next(); 0 before the first

 private:
  std::size_t n_ = 0;
  std::size_t j_ = 1;
  double tail_ = 1;        ///< P(B <= j - 1) for B ~ Binomial(n, 1/2)
  double pmf_low_ = 1;     ///< P(B = j - 1)
  double pmf_high_ = 0;    ///< P(B = j)
};

/// Summarizes timing samples (seconds). Throws std::invalid_argument when `samples_seconds` is
/// empty or holds a NaN or infinity. The samples are kept, unsorted, in the result.
SampleStats summarize(std::vector<double> samples_seconds);

/// Half the width of the 95% interval relative to the median: (ci95_high - ci95_low) / 2 / median.
/// 0.02 means "the median is known to within about +-2%". Returns 0 when the interval has zero
/// width and +infinity when the median is 0 but the interval is not.
double relative_ci_halfwidth(const SampleStats& stats);

/// The record's "time" object: median_s, mean_s, stddev_s, min_s, max_s, ci95_low_s, ci95_high_s,
/// repetitions, samples_s (measurement order) and ci95_confidence.
nlohmann::json to_json(const SampleStats& stats);

}  // namespace attnbench
