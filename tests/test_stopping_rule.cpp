// The adaptive stopping rule on synthetic sample streams: no clock, so every expectation is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "stats.hpp"
#include "stopping_rule.hpp"

namespace attnbench {
namespace {

/// Limits where only the counts and the target decide (the time limits never bind).
MeasureOptions options(int min_reps, int max_reps, double ci_target) {
  MeasureOptions o;
  o.min_reps = min_reps;
  o.max_reps = max_reps;
  o.min_seconds = 0;
  o.max_seconds = 1e9;
  o.ci_target = ci_target;
  return o;
}

/// Feeds `next()` until the rule is done (or `limit` samples); returns how many it took.
template <class Next>
std::size_t feed(StoppingRule& rule, Next next, std::size_t limit = 1000000) {
  std::size_t n = 0;
  while (!rule.done() && n < limit) rule.add(next(n++));
  return n;
}

TEST(StoppingRule, ConstantSamplesMeetTheTargetAtMinReps) {
  StoppingRule rule(options(6, 1000, 0.02));
  EXPECT_EQ(feed(rule, [](std::size_t) { return 1e-3; }), 6u);
  EXPECT_EQ(rule.reason(), StopReason::ci_target);
  EXPECT_TRUE(rule.target_met());
  EXPECT_EQ(rule.relative_halfwidth(), 0);
}

TEST(StoppingRule, NoIntervalBelowSixSamplesSoTheTargetWaits) {
  // min_reps 2: constant samples still need 6 for a 95% interval before the target can be met.
  StoppingRule rule(options(2, 1000, 0.02));
  rule.add(1), rule.add(1);
  EXPECT_FALSE(rule.done());
  EXPECT_TRUE(std::isinf(rule.relative_halfwidth()));
  EXPECT_EQ(feed(rule, [](std::size_t) { return 1.0; }), 4u);
  EXPECT_EQ(rule.count(), 6u);
}

TEST(StoppingRule, LowNoiseStopsEarly) {
  // +-0.5% uniform noise: the interval is well inside 2% as soon as it exists.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> noise(-0.005, 0.005);
  StoppingRule rule(options(6, 10000, 0.02));
  const std::size_t n = feed(rule, [&](std::size_t) { return 1e-3 * (1 + noise(rng)); });
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(rule.reason(), StopReason::ci_target);
  EXPECT_LE(rule.relative_halfwidth(), 0.02);
}

TEST(StoppingRule, ModerateNoiseTakesMoreSamplesForATighterTarget) {
  // +-10% noise: 6 samples cannot give +-1%; more samples narrow the interval until they do.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> noise(-0.10, 0.10);
  StoppingRule rule(options(6, 100000, 0.01));
  const std::size_t n = feed(rule, [&](std::size_t) { return 1 + noise(rng); });
  EXPECT_GT(n, 50u);
  EXPECT_LT(n, 5000u);
  EXPECT_EQ(rule.reason(), StopReason::ci_target);
  EXPECT_TRUE(rule.target_met());
}

TEST(StoppingRule, BimodalStreamStopsAtTheBudgetWithTheTargetNotMet) {
  // Alternating 1 ms and 2 ms: the median sits between two modes, the interval spans both forever.
  MeasureOptions o = options(6, 1000000, 0.02);
  o.max_seconds = 1.0;
  StoppingRule rule(o);
  const std::size_t n = feed(rule, [](std::size_t i) { return i % 2 ? 2e-3 : 1e-3; });
  EXPECT_EQ(rule.reason(), StopReason::max_time);
  EXPECT_FALSE(rule.target_met());
  EXPECT_GT(rule.total_seconds(), 1.0);
  EXPECT_LE(rule.total_seconds(), 1.0 + 2e-3);  // stops on the first sample past the budget
  EXPECT_EQ(n, rule.count());
}

TEST(StoppingRule, HeavyTailedStreamStopsAtMaxRepsWithTheTargetNotMet) {
  // Pareto(alpha = 0.8): no finite mean, and a spread too wide for +-0.1% within 2000 samples.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  StoppingRule rule(options(6, 2000, 0.001));
  feed(rule, [&](std::size_t) { return 1e-3 * std::pow(1 - u(rng), -1 / 0.8); });
  EXPECT_EQ(rule.count(), 2000u);
  EXPECT_EQ(rule.reason(), StopReason::max_reps);
  EXPECT_FALSE(rule.target_met());
}

TEST(StoppingRule, OneSampleLongerThanTheBudgetEndsItBelowMinReps) {
  MeasureOptions o = options(6, 1000, 0.02);
  o.max_seconds = 0.5;
  StoppingRule rule(o);
  rule.add(2.0);
  EXPECT_TRUE(rule.done());
  EXPECT_EQ(rule.reason(), StopReason::max_time);
  EXPECT_FALSE(rule.target_met());
}

TEST(StoppingRule, MinRepsWinOverTheBudgetWhileEachSampleFits) {
  // 0.3 s samples against a 0.5 s budget: past the budget after 2, yet min_reps (4) are taken.
  MeasureOptions o = options(4, 1000, 0.02);
  o.max_seconds = 0.5;
  StoppingRule rule(o);
  rule.add(0.3), rule.add(0.31), rule.add(0.29);
  EXPECT_FALSE(rule.done());
  rule.add(0.3);
  EXPECT_EQ(rule.reason(), StopReason::max_time);
}

TEST(StoppingRule, UntimedWorkCountsTowardTheBudgetButNotTheSamples) {
  // 1 ms calls behind 100 ms flushes: the 0.5 s budget is spent after 5 repetitions.
  MeasureOptions o = options(2, 1000, 0.0001);
  o.max_seconds = 0.5;
  StoppingRule rule(o);
  for (int i = 0; i < 4; ++i) rule.add(1e-3 * (1 + i % 2), 0.1);
  EXPECT_FALSE(rule.done());
  rule.add(1e-3, 0.1);
  EXPECT_EQ(rule.reason(), StopReason::max_time);
  EXPECT_NEAR(rule.total_seconds(), 0.007, 1e-12);
  EXPECT_NEAR(rule.spent_seconds(), 0.507, 1e-12);
}

TEST(StoppingRule, MinSecondsKeepsGoingAfterTheTargetIsMet) {
  MeasureOptions o = options(6, 1000, 0.02);
  o.min_seconds = 0.5;  // 8 samples of 1/16 s (exact in binary, so the sum is too)
  StoppingRule rule(o);
  EXPECT_EQ(feed(rule, [](std::size_t) { return 0.0625; }), 8u);
  EXPECT_EQ(rule.reason(), StopReason::ci_target);
}

TEST(StoppingRule, WithoutATargetMinRepsAndMinSecondsDecide) {
  StoppingRule rule(options(3, 1000, 0));
  EXPECT_EQ(feed(rule, [](std::size_t i) { return i % 2 ? 2.0 : 1.0; }), 3u);
  EXPECT_EQ(rule.reason(), StopReason::minimum);
  EXPECT_FALSE(rule.target_met());  // there is no target to meet
}

TEST(StoppingRule, AddAfterDoneIsIgnored) {
  StoppingRule rule(options(1, 1, 0));
  rule.add(1);
  rule.add(5);
  EXPECT_EQ(rule.count(), 1u);
  EXPECT_EQ(rule.total_seconds(), 1);
}

TEST(StoppingRule, HalfWidthMatchesTheSummaryAfterEverySample) {
  // The rule's incremental view equals stats.hpp's summary of the same samples at every step.
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(0, 0.3);
  StoppingRule rule(options(1000, 1000, 0.0001));
  std::vector<double> samples;
  for (int i = 0; i < 300; ++i) {
    samples.push_back(dist(rng));
    rule.add(samples.back());
    const SampleStats s = summarize(samples);
    if (s.ci95_confidence >= 0.95)
      EXPECT_NEAR(rule.relative_halfwidth(), relative_ci_halfwidth(s), 1e-12) << "n = " << samples.size();
    else
      EXPECT_TRUE(std::isinf(rule.relative_halfwidth()));
  }
}

TEST(StoppingRule, RanksFedTheSameCombinedTimesDecideAlike) {
  // Under MPI each rank feeds its rule the slowest rank's time of every call: the rules then agree
  // after every sample, whatever each rank's own times were.
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> noise(0.0, 0.2);
  constexpr int kRanks = 4;
  std::vector<StoppingRule> rules(kRanks, StoppingRule(options(6, 100000, 0.01)));
  while (!rules[0].done()) {
    double slowest = 0;
    for (int r = 0; r < kRanks; ++r) slowest = std::max(slowest, 1 + noise(rng));  // each rank's own time
    for (StoppingRule& rule : rules) rule.add(slowest);
    for (const StoppingRule& rule : rules) {
      ASSERT_EQ(rule.done(), rules[0].done());
      ASSERT_EQ(rule.relative_halfwidth(), rules[0].relative_halfwidth());
    }
  }
  for (const StoppingRule& rule : rules) EXPECT_EQ(rule.reason(), rules[0].reason());
}

TEST(StoppingRule, ReasonNames) {
  EXPECT_STREQ(to_string(StopReason::ci_target), "ci_target");
  EXPECT_STREQ(to_string(StopReason::minimum), "minimum");
  EXPECT_STREQ(to_string(StopReason::max_reps), "max_reps");
  EXPECT_STREQ(to_string(StopReason::max_time), "max_time");
}

}  // namespace
}  // namespace attnbench
