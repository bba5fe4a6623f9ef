// Summary statistics and the order-statistic confidence interval of the median.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "stats.hpp"

namespace attnbench {
namespace {

/// 1, 2, ..., n in a shuffled-looking order, so that sample value == rank once sorted.
std::vector<double> ranks_1_to_n(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = (i * 7 % n) + 1.0;  // 7 is coprime to the n used
  return v;
}

/// C(n, i) / 2^n by Pascal's triangle in long double: independent of the library's log-space sums.
std::vector<long double> binomial_half_pmf(int n) {
  std::vector<long double> row{1.0L};
  for (int r = 1; r <= n; ++r) {
    std::vector<long double> next(row.size() + 1, 0.0L);
    for (std::size_t i = 0; i < row.size(); ++i) {
      next[i] += row[i] / 2;
      next[i + 1] += row[i] / 2;
    }
    row = std::move(next);
  }
  return row;
}

struct ExpectedCi {
  int low_rank;
  int high_rank;
  long double coverage;
};

/// The widest-j symmetric interval with coverage >= 0.95, found by brute force over all j.
ExpectedCi expected_ci(int n) {
  const std::vector<long double> pmf = binomial_half_pmf(n);
  ExpectedCi best{1, n, 0};
  for (int j = 1; j <= n + 1 - j; ++j) {
    const int k = n + 1 - j;
    long double coverage = 0;
    for (int i = j; i < k; ++i) coverage += pmf[static_cast<std::size_t>(i)];
    if (j == 1) best = {j, k, coverage};
    if (coverage >= 0.95L) best = {j, k, coverage};
  }
  return best;
}

TEST(Stats, OddCountHandComputed) {
  const SampleStats s = summarize({3, 1, 2, 5, 4});
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(2.5));  // squares 4+1+0+1+4 = 10, / (5 - 1)
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_EQ(s.repetitions, 5);
  // n = 5 cannot reach 95%: [min, max] with coverage 1 - 2/32.
  EXPECT_DOUBLE_EQ(s.ci95_low, 1);
  EXPECT_DOUBLE_EQ(s.ci95_high, 5);
  EXPECT_DOUBLE_EQ(s.ci95_confidence, 0.9375);
  EXPECT_EQ(s.samples, (std::vector<double>{3, 1, 2, 5, 4}));  // measurement order kept
}

TEST(Stats, EvenCountHandComputed) {
  const SampleStats s = summarize({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(5.0 / 3.0));  // squares 2.25+0.25+0.25+2.25 = 5, / 3
  EXPECT_DOUBLE_EQ(s.ci95_low, 1);
  EXPECT_DOUBLE_EQ(s.ci95_high, 4);
  EXPECT_DOUBLE_EQ(s.ci95_confidence, 0.875);
}

TEST(Stats, SingleSample) {
  const SampleStats s = summarize({0.25});
  EXPECT_DOUBLE_EQ(s.median, 0.25);
  EXPECT_DOUBLE_EQ(s.mean, 0.25);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_DOUBLE_EQ(s.min, 0.25);
  EXPECT_DOUBLE_EQ(s.max, 0.25);
  EXPECT_DOUBLE_EQ(s.ci95_low, 0.25);
  EXPECT_DOUBLE_EQ(s.ci95_high, 0.25);
  EXPECT_EQ(s.repetitions, 1);
  EXPECT_DOUBLE_EQ(s.ci95_confidence, 0);
  EXPECT_DOUBLE_EQ(relative_ci_halfwidth(s), 0);
}

TEST(Stats, SmallCountsUseMinMaxWithAchievedCoverage) {
  for (int n = 1; n <= 5; ++n) {
    const SampleStats s = summarize(ranks_1_to_n(n));
    EXPECT_DOUBLE_EQ(s.ci95_low, 1) << "n=" << n;
    EXPECT_DOUBLE_EQ(s.ci95_high, n) << "n=" << n;
    EXPECT_DOUBLE_EQ(s.ci95_confidence, 1 - 2 / std::pow(2.0, n)) << "n=" << n;
    EXPECT_LT(s.ci95_confidence, 0.95);
  }
}

TEST(Stats, ConfidenceIntervalRanksMatchExactBinomial) {
  // Known from tables of the sign-test interval, and recomputed by brute force below.
  const struct {
    int n, low, high;
  } known[] = {{6, 1, 6}, {10, 2, 9}, {20, 6, 15}, {100, 40, 61}};
  for (const auto& c : known) {
    const ExpectedCi expected = expected_ci(c.n);
    ASSERT_EQ(expected.low_rank, c.low) << "test's own binomial disagrees with the table, n=" << c.n;
    ASSERT_EQ(expected.high_rank, c.high) << "n=" << c.n;

    const SampleStats s = summarize(ranks_1_to_n(c.n));  // value == rank
    EXPECT_DOUBLE_EQ(s.ci95_low, c.low) << "n=" << c.n;
    EXPECT_DOUBLE_EQ(s.ci95_high, c.high) << "n=" << c.n;
    EXPECT_NEAR(s.ci95_confidence, static_cast<double>(expected.coverage), 1e-12) << "n=" << c.n;
    EXPECT_GE(s.ci95_confidence, 0.95) << "n=" << c.n;
  }
  EXPECT_DOUBLE_EQ(summarize(ranks_1_to_n(6)).ci95_confidence, 1 - 2.0 / 64);
  EXPECT_DOUBLE_EQ(summarize(ranks_1_to_n(10)).ci95_confidence, 1 - 22.0 / 1024);
  EXPECT_DOUBLE_EQ(summarize(ranks_1_to_n(20)).ci95_confidence, 1 - 2 * 21700.0 / 1048576);
}

TEST(Stats, ConfidenceIntervalRanksForEveryNUpTo300) {
  for (int n = 1; n <= 300; ++n) {
    const ExpectedCi expected = expected_ci(n);
    const MedianCiRanks got = median_ci_ranks(static_cast<std::size_t>(n));
    ASSERT_EQ(got.low_rank, static_cast<std::size_t>(expected.low_rank)) << "n=" << n;
    ASSERT_EQ(got.high_rank, static_cast<std::size_t>(expected.high_rank)) << "n=" << n;
    ASSERT_NEAR(got.confidence, static_cast<double>(expected.coverage), 1e-9) << "n=" << n;
  }
}

TEST(Stats, ConfidenceIntervalForHugeNIsNarrowAndValid) {
  // 2^-n underflows a double here; the result must still be sensible (about n/2 -+ 0.98 sqrt(n)).
  const std::size_t n = 1'000'000;
  const MedianCiRanks r = median_ci_ranks(n);
  EXPECT_EQ(r.low_rank + r.high_rank, n + 1);
  EXPECT_GE(r.confidence, 0.95);
  EXPECT_LT(r.confidence, 0.951);
  EXPECT_NEAR(static_cast<double>(r.low_rank), n / 2.0 - 1.96 * std::sqrt(n / 4.0), 3);
}

TEST(Stats, RankSequenceEqualsMedianCiRanksForEveryN) {
  MedianCiRankSequence sequence;
  for (std::size_t n = 1; n <= 100000; ++n) {
    const MedianCiRanks got = sequence.next();
    ASSERT_EQ(sequence.count(), n);
    if (n > 3000 && n % 4999 != 0 && n != 100000) continue;  // median_ci_ranks(n) costs O(n)
    const MedianCiRanks want = median_ci_ranks(n);
    ASSERT_EQ(got.low_rank, want.low_rank) << "n = " << n;
    ASSERT_EQ(got.high_rank, want.high_rank) << "n = " << n;
    ASSERT_NEAR(got.confidence, want.confidence, 1e-9) << "n = " << n;
  }
}

TEST(Stats, RelativeHalfWidth) {
  SampleStats s;
  s.median = 2;
  s.ci95_low = 1.8;
  s.ci95_high = 2.2;
  EXPECT_DOUBLE_EQ(relative_ci_halfwidth(s), 0.1);
  s.median = 0;
  EXPECT_TRUE(std::isinf(relative_ci_halfwidth(s)));
}

TEST(Stats, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(summarize({}), std::invalid_argument);
  EXPECT_THROW(summarize({1.0, std::numeric_limits<double>::quiet_NaN()}), std::invalid_argument);
  EXPECT_THROW(summarize({std::numeric_limits<double>::infinity()}), std::invalid_argument);
  EXPECT_THROW(summarize({1.0, -std::numeric_limits<double>::infinity()}), std::invalid_argument);
  EXPECT_THROW(median_ci_ranks(0), std::invalid_argument);
}

TEST(Stats, JsonHasTheRecordKeys) {
  const nlohmann::json j = to_json(summarize({3, 1, 2}));
  for (const char* key : {"median_s", "mean_s", "stddev_s", "min_s", "max_s", "ci95_low_s", "ci95_high_s",
                          "repetitions", "samples_s", "ci95_confidence"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 10u);
  EXPECT_DOUBLE_EQ(j["median_s"].get<double>(), 2);
  EXPECT_EQ(j["repetitions"].get<int>(), 3);
  EXPECT_EQ(j["samples_s"].get<std::vector<double>>(), (std::vector<double>{3, 1, 2}));
  EXPECT_DOUBLE_EQ(j["ci95_confidence"].get<double>(), 0.75);
}

}  // namespace
}  // namespace attnbench
