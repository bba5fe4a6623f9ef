// Summary statistics of timing samples and the order-statistic confidence interval of the median.
#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace attnbench {
namespace {

constexpr double kTargetCoverage = 0.95;

/// log of the Binomial(n, 1/2) probability of 0 successes. The later terms follow from
/// log p(i + 1) = log p(i) + log((n - i) / (i + 1)). Working in logs keeps the terms representable
/// for any n (2^-n underflows a double beyond n of about 1074); the recurrence avoids lgamma,
/// which is not thread-safe in glibc (it writes the global signgam).
double log_pmf_zero(std::size_t n) { return -static_cast<double>(n) * std::log(2.0); }

double log_pmf_next(double log_pmf_i, std::size_t n, std::size_t i) {
  return log_pmf_i + std::log(static_cast<double>(n - i)) - std::log(static_cast<double>(i + 1));
}

void check_samples(const std::vector<double>& samples) {
  if (samples.empty()) {
    throw std::invalid_argument("summarize: no samples (a measurement must produce at least one)");
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (!std::isfinite(samples[i])) {
      throw std::invalid_argument("summarize: sample " + std::to_string(i) + " is not finite (" +
                                  std::to_string(samples[i]) + "); timings must be finite numbers");
    }
  }
}

double median_of_sorted(const std::vector<double>& sorted) {
  const std::size_t n = sorted.size();
  if (n % 2 == 1) return sorted[n / 2];
  // Halve before adding so that two huge samples cannot overflow.
  return sorted[n / 2 - 1] / 2 + sorted[n / 2] / 2;
}

double sample_stddev(const std::vector<double>& samples, double mean) {
  if (samples.size() < 2) return 0;
  double sum_sq = 0;
  for (double x : samples) sum_sq += (x - mean) * (x - mean);
  return std::sqrt(sum_sq / static_cast<double>(samples.size() - 1));
}

}  // namespace

MedianCiRanks median_ci_ranks(std::size_t n) {
  if (n == 0) throw std::invalid_argument("median_ci_ranks: n must be >= 1");
  // tail = P(B <= j - 1). Grow j while the next interval, one rank narrower on each side,
  // still covers with >= 95%. Exact tails are multiples of 2^-n and 0.025 is not, so the
  // comparison never sits on an exact tie.
  std::size_t j = 1;
  double log_pmf = log_pmf_zero(n);  // log P(B = j - 1)
  double tail = std::exp(log_pmf);
  while (2 * (j + 1) <= n + 1) {
    log_pmf = log_pmf_next(log_pmf, n, j - 1);  // now log P(B = j)
    const double next_tail = tail + std::exp(log_pmf);
    if (1 - 2 * next_tail < kTargetCoverage) break;
    tail = next_tail;
    ++j;
  }
  return MedianCiRanks{j, n + 1 - j, 1 - 2 * tail};
}

MedianCiRanks MedianCiRankSequence::next() {
  if (n_ == 0) {  // n = 1: j = 1, P(B <= 0) = P(B = 0) = P(B = 1) = 1/2
    n_ = 1, j_ = 1, tail_ = 0.5, pmf_low_ = 0.5, pmf_high_ = 0.5;
    return {1, 1, 1 - 2 * tail_};
  }
  // From n to n + 1 at the same j. P(B = j - 2) = P(B = j - 1) (j - 1) / (n - j + 2), 0 when j = 1.
  const double n = static_cast<double>(n_), j = static_cast<double>(j_);
  const double pmf_below = pmf_low_ * (j - 1) / (n - j + 2);
  tail_ -= pmf_low_ / 2;
  pmf_high_ = (pmf_high_ + pmf_low_) / 2;
  pmf_low_ = (pmf_low_ + pmf_below) / 2;
  ++n_;
  // Widen while the next interval still covers >= 95% (as median_ci_ranks does).
  while (2 * (j_ + 1) <= n_ + 1) {
    const double next_tail = tail_ + pmf_high_;
    if (1 - 2 * next_tail < kTargetCoverage) break;
    tail_ = next_tail;
    pmf_low_ = pmf_high_;
    pmf_high_ *= static_cast<double>(n_ - j_) / static_cast<double>(j_ + 1);  // P(B = j + 1)
    ++j_;
  }
  return {j_, n_ + 1 - j_, 1 - 2 * tail_};
}

SampleStats summarize(std::vector<double> samples_seconds) {
  check_samples(samples_seconds);
  std::vector<double> sorted = samples_seconds;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();

  SampleStats s;
  s.repetitions = static_cast<int>(n);
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = median_of_sorted(sorted);
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(n);
  s.stddev = sample_stddev(sorted, s.mean);
  const MedianCiRanks ranks = median_ci_ranks(n);
  s.ci95_low = sorted[ranks.low_rank - 1];
  s.ci95_high = sorted[ranks.high_rank - 1];
  s.ci95_confidence = ranks.confidence;
  s.samples = std::move(samples_seconds);
  return s;
}

double relative_ci_halfwidth(const SampleStats& stats) {
  const double halfwidth = (stats.ci95_high - stats.ci95_low) / 2;
  if (halfwidth == 0) return 0;
  if (stats.median == 0) return std::numeric_limits<double>::infinity();
  return halfwidth / stats.median;
}

nlohmann::json to_json(const SampleStats& stats) {
  return nlohmann::json{{"median_s", stats.median},
                        {"mean_s", stats.mean},
                        {"stddev_s", stats.stddev},
                        {"min_s", stats.min},
                        {"max_s", stats.max},
                        {"ci95_low_s", stats.ci95_low},
                        {"ci95_high_s", stats.ci95_high},
                        {"ci95_confidence", stats.ci95_confidence},
                        {"repetitions", stats.repetitions},
                        {"samples_s", stats.samples}};
}

}  // namespace attnbench
