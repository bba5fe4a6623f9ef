// The statistics behind `attnbench compare` (reports/mann_whitney.hpp): Mann-Whitney U p-values
// against scipy's, the exact null distribution, and the Hodges-Lehmann/Moses interval.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mann_whitney.hpp"

namespace attnbench::reports {
namespace {

// Reference values: scipy 1.10.1, scipy.stats.mannwhitneyu(x, y, alternative="two-sided") (method
// "auto": exact when a sample has <= 8 values and there are no ties, else normal with tie and
// continuity correction).
struct Reference {
  const char* name;
  std::vector<double> x, y;
  double u1, p;
  bool exact;
};

const std::vector<Reference>& references() {
  static const std::vector<Reference> r = {
      {"separated, exact", {1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, 0.0, 0.007936507936507936, true},
      {"interleaved, exact", {1.1, 2.3, 0.7, 4.5, 3.2}, {2.0, 5.1, 3.9, 6.2, 4.8, 5.5}, 4.0, 0.05194805194805195, true},
      {"3 against 12, exact",
       {0.5, 1.5, 2.5},
       {0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3},
       28.0,
       0.18021978021978025,
       true},
      {"ties, normal", {1, 2, 2, 3, 3, 3, 4, 5, 6, 7}, {3, 4, 4, 5, 6, 7, 8, 8, 9, 10}, 17.0, 0.01334199410434861, false},
      {"all tied", std::vector<double>(9, 2.0), std::vector<double>(9, 2.0), 40.5, 1.0, false},
      {"20 against 25, normal",
       {10.0012, 10.2987, 9.7259, 9.1094, 9.5453, 9.0084, 10.0601, 11.3402, 9.5078, 9.3795,
        10.4898, 10.3569, 10.1054, 9.0695, 9.9707, 10.6953, 8.6558, 9.5424, 8.0988, 8.7105},
       {8.9583,  10.5649, 9.5326,  11.0713, 10.9568, 10.6131, 8.2832,  10.2613, 10.7515,
        10.9133, 9.2699,  10.3222, 9.8215,  9.9912,  11.8609, 9.9925,  10.7675, 11.6844,
        10.2164, 10.6883, 10.9105, 10.8638, 9.5749,  10.8761, 12.1588},
       125.0,
       0.004458176291700363,
       false},
  };
  return r;
}

TEST(MannWhitney, MatchesScipy) {
  for (const Reference& r : references()) {
    SCOPED_TRACE(r.name);
    const MannWhitneyResult m = mann_whitney_u(r.x, r.y);
    EXPECT_DOUBLE_EQ(m.u1, r.u1);
    EXPECT_NEAR(m.p_value, r.p, 1e-12 + 1e-9 * r.p);
    EXPECT_EQ(m.exact, r.exact);
    // Two-sided: swapping the samples changes U1 into n1 n2 - U1 and nothing else.
    const MannWhitneyResult swapped = mann_whitney_u(r.y, r.x);
    EXPECT_DOUBLE_EQ(swapped.u1, double(r.x.size() * r.y.size()) - r.u1);
    EXPECT_NEAR(swapped.p_value, m.p_value, 1e-14);
  }
}

TEST(MannWhitney, RejectsEmptyAndNaN) {
  EXPECT_THROW(mann_whitney_u({}, {1.0}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({1.0, std::nan("")}, {1.0}), std::invalid_argument);
}

TEST(MannWhitney, ExactDistributionIsTheGaussianBinomial) {
  // m = n = 2: the 6 orderings give U = 0, 1, 2, 2, 3, 4.
  const auto pmf = exact_u_distribution(2, 2);
  ASSERT_TRUE(pmf.has_value());
  const std::vector<double> expected = {1 / 6.0, 1 / 6.0, 2 / 6.0, 1 / 6.0, 1 / 6.0};
  ASSERT_EQ(pmf->size(), expected.size());
  for (std::size_t u = 0; u < expected.size(); ++u) EXPECT_NEAR((*pmf)[u], expected[u], 1e-15);
  // Symmetric, sums to 1, and P(U = 0) = 1 / C(m + n, m) for a lopsided, large case.
  const auto big = exact_u_distribution(8, 2000);
  ASSERT_TRUE(big.has_value());
  double total = 0;
  for (double p : *big) total += p;
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_NEAR((*big)[3], (*big)[big->size() - 4], 1e-20);
  const double choose = std::exp(std::lgamma(2009.0) - std::lgamma(9.0) - std::lgamma(2001.0));
  EXPECT_NEAR((*big)[0] * choose, 1.0, 1e-9);
  EXPECT_FALSE(exact_u_distribution(200, 200).has_value());  // C(400, 200) ~ 1e119
}

TEST(MannWhitney, SmallestPossiblePValue) {
  EXPECT_NEAR(smallest_p_value(3, 3), 0.1, 1e-15);
  EXPECT_NEAR(smallest_p_value(4, 4), 2 / 70.0, 1e-15);
  EXPECT_NEAR(smallest_p_value(5, 5), mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}).p_value, 1e-15);
  EXPECT_EQ(smallest_p_value(1, 1), 1.0);
}

TEST(NormalQuantile, KnownValues) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232306167813, 1e-10);
}

TEST(ShiftInterval, ExactRanksForFiveAndFive) {
  // n1 = n2 = 5: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so k = 3 and the interval is the 3rd
  // smallest to the 3rd largest of the 25 differences, covering 1 - 8/252 = 0.96825 (R's wilcox.test
  // reports the same achieved level).
  const std::vector<double> x = {0, 10, 20, 30, 40}, y = {1, 2, 3, 4, 5};
  const ShiftInterval s = shift_interval(x, y, 0.05);
  // Differences y - x: {1..5} - {0,10,20,30,40}; sorted: -39,-38,-37,-36,-35,-29,..., 1,2,3,4,5.
  EXPECT_DOUBLE_EQ(s.low, -37);
  EXPECT_DOUBLE_EQ(s.high, 3);
  EXPECT_NEAR(s.confidence, 1 - 8 / 252.0, 1e-12);
  EXPECT_DOUBLE_EQ(s.estimate, -17);  // the 13th of 25: 3 - 20
}

TEST(ShiftInterval, TinySamplesSayWhatTheyCover) {
  const ShiftInterval s = shift_interval({1, 2}, {3, 4}, 0.05);
  EXPECT_DOUBLE_EQ(s.low, 1);
  EXPECT_DOUBLE_EQ(s.high, 3);
  EXPECT_NEAR(s.confidence, 1 - 2 / 6.0, 1e-12);
}

TEST(ShiftInterval, CoversATrueShiftAtTheNominalRate) {
  // 300 trials of y = x + 0.3 with normal noise, 12 samples each (normal-approximation ranks): the 95%
  // interval should miss 0.3 in about 5% of trials (binomial sd 1.3%).
  std::mt19937 gen(11);
  std::normal_distribution<double> noise(0, 1);
  int misses = 0;
  const int trials = 300;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> x(12), y(12);
    for (double& v : x) v = noise(gen);
    for (double& v : y) v = noise(gen) + 0.3;
    const ShiftInterval s = shift_interval(x, y, 0.05);
    EXPECT_GE(s.confidence, 0.95);
    misses += (0.3 < s.low || 0.3 > s.high);
  }
  EXPECT_GE(misses, 3);
  EXPECT_LE(misses, 30);
}

TEST(ShiftInterval, AgreesWithTheTest) {
  // The interval excludes 0 exactly when the exact test rejects (no ties, small samples).
  const std::vector<double> base = {1.00, 1.02, 0.99, 1.01, 1.03, 0.98};
  const std::vector<double> slower = {1.10, 1.12, 1.09, 1.11, 1.13, 1.08};
  EXPECT_LT(mann_whitney_u(slower, base).p_value, 0.05);
  EXPECT_GT(shift_interval(base, slower, 0.05).low, 0);
  const std::vector<double> overlapping = {1.005, 1.025, 0.985, 1.015, 1.035, 0.975};
  EXPECT_GT(mann_whitney_u(overlapping, base).p_value, 0.05);
  const ShiftInterval s = shift_interval(base, overlapping, 0.05);
  EXPECT_LT(s.low, 0);
  EXPECT_GT(s.high, 0);
}

TEST(ShiftInterval, ThinsHugeSamplesInsteadOfExhaustingMemory) {
  std::vector<double> x(5000), y(5000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = double(i), y[i] = double(i) + 100;
  const ShiftInterval s = shift_interval(x, y, 0.05);
  EXPECT_NEAR(s.estimate, 100, 2);
  EXPECT_LT(s.low, 100);
  EXPECT_GT(s.high, 100);
}

}  // namespace
}  // namespace attnbench::reports
