// Verdicts of `attnbench compare` on synthetic samples (reports/compare.hpp): clear regressions, pure
// noise, too few samples, correctness failures, and the per-kernel geometric means.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compare.hpp"
#include "test_compare_support.hpp"

namespace attnbench::reports {
namespace {

using ::testing::HasSubstr;

using test_compare::noisy;

ResultCase make_case(const std::string& kernel, std::vector<double> s, const std::string& status = "ok") {
  ResultCase c;
  c.key = CaseKey{kernel, "b1_h8_sq512_d64", 1, 1};
  c.samples_s = std::move(s);
  c.status = status;
  return c;
}

ResultSet set_of(std::vector<ResultCase> cases) {
  ResultSet s;
  s.cases = std::move(cases);
  s.files = {"mem.jsonl"};
  return s;
}

Comparison compare_one(ResultCase base, ResultCase fresh, const CompareOptions& o = {}) {
  return compare(set_of({std::move(base)}), set_of({std::move(fresh)}), o);
}

TEST(CompareVerdicts, ClearRegressionIsSlowerAndFailsTheGate) {
  const Comparison c = compare_one(make_case("k", noisy(1e-3, 20, 1)), make_case("k", noisy(1.10e-3, 20, 2)));
  ASSERT_EQ(c.cases.size(), 1u);
  const CaseComparison& k = c.cases[0];
  EXPECT_EQ(k.verdict, Verdict::slower);
  EXPECT_NEAR(*k.ratio, 1.10, 0.02);
  EXPECT_LT(*k.p_value, 1e-6);
  EXPECT_FALSE(k.exact_p);  // 20 and 20: normal approximation
  EXPECT_LT(*k.ratio_low, *k.ratio);
  EXPECT_GT(*k.ratio_high, *k.ratio);
  EXPECT_GT(*k.ratio_low, 1.05);
  EXPECT_THAT(k.note, HasSubstr("slower, beyond the 5% threshold"));
  EXPECT_EQ(c.exit_status(), 1);
}

TEST(CompareVerdicts, ClearSpeedUpIsFasterAndPasses) {
  const Comparison c = compare_one(make_case("k", noisy(1e-3, 10, 1)), make_case("k", noisy(0.8e-3, 10, 2)));
  EXPECT_EQ(c.cases[0].verdict, Verdict::faster);
  EXPECT_EQ(c.exit_status(), 0);
}

TEST(CompareVerdicts, PureNoiseIsSame) {
  const Comparison c = compare_one(make_case("k", noisy(1e-3, 30, 1, 0.2)), make_case("k", noisy(1e-3, 30, 2, 0.2)));
  EXPECT_EQ(c.cases[0].verdict, Verdict::same);
  EXPECT_GT(*c.cases[0].p_value, 0.05);
  EXPECT_EQ(c.exit_status(), 0);
}

TEST(CompareVerdicts, NoiseRaisesFalseAlarmsAtAboutAlpha) {
  // With no threshold, "slower or faster" is the test alone: over 400 noise-only pairs it should fire in
  // about 5% of them (binomial sd 1.1%), and with the default 5% threshold never for +-2% noise.
  CompareOptions no_threshold;
  no_threshold.threshold = 0;
  int alarms = 0, alarms_with_threshold = 0;
  for (unsigned t = 0; t < 400; ++t) {
    const ResultCase b = make_case("k", noisy(1e-3, 15, 2 * t + 100)), n = make_case("k", noisy(1e-3, 15, 2 * t + 101));
    alarms += compare_one(b, n, no_threshold).cases[0].verdict != Verdict::same;
    alarms_with_threshold += compare_one(b, n).cases[0].verdict != Verdict::same;
  }
  EXPECT_GE(alarms, 8);
  EXPECT_LE(alarms, 36);
  EXPECT_EQ(alarms_with_threshold, 0);
}

TEST(CompareVerdicts, SignificantButWithinThresholdIsSame) {
  const Comparison c =
      compare_one(make_case("k", noisy(1e-3, 20, 1, 0.002)), make_case("k", noisy(1.02e-3, 20, 2, 0.002)));
  EXPECT_EQ(c.cases[0].verdict, Verdict::same);
  EXPECT_LT(*c.cases[0].p_value, 0.05);
  EXPECT_THAT(c.cases[0].note, HasSubstr("significant but within the 5% threshold"));
  CompareOptions tight;
  tight.threshold = 0.01;
  EXPECT_EQ(compare_one(make_case("k", noisy(1e-3, 20, 1, 0.002)), make_case("k", noisy(1.02e-3, 20, 2, 0.002)), tight)
                .cases[0]
                .verdict,
            Verdict::slower);
}

TEST(CompareVerdicts, LargeButNotSignificantIsSame) {
  // 4 samples a side can reach p = 0.029 only when fully separated; these overlap.
  const Comparison c = compare_one(make_case("k", {1.0, 1.5, 2.0, 2.5}), make_case("k", {1.2, 1.7, 2.4, 3.0}));
  EXPECT_EQ(c.cases[0].verdict, Verdict::same);
  EXPECT_THAT(c.cases[0].note, HasSubstr("not significant"));
}

TEST(CompareVerdicts, TooFewSamplesIsNotComparableWithTheReason) {
  const Comparison c = compare_one(make_case("k", {1.0, 1.01, 1.02}), make_case("k", {2.0, 2.01, 2.02}));
  const CaseComparison& k = c.cases[0];
  EXPECT_EQ(k.verdict, Verdict::not_comparable);
  EXPECT_THAT(k.note, HasSubstr("too few samples (3 base, 3 new): the smallest possible p is 0.1 > alpha 0.05"));
  EXPECT_THAT(k.note, HasSubstr("at least 4 repetitions per side"));
  EXPECT_NEAR(*k.median_ratio, 2.01 / 1.01, 1e-12);  // the medians and the ratio are still shown
  EXPECT_NEAR(*k.ratio, 2.01 / 1.01, 1e-12);
  EXPECT_FALSE(k.ratio_low.has_value());
  EXPECT_FALSE(k.p_value.has_value());
  EXPECT_EQ(c.exit_status(), 0);
  EXPECT_EQ(compare_one(make_case("k", {1.0}), make_case("k", {3.0})).cases[0].verdict, Verdict::not_comparable);
  EXPECT_EQ(samples_needed(0.05), 4u);
  EXPECT_EQ(samples_needed(0.01), 5u);
}

TEST(CompareVerdicts, RatioIsTheHodgesLehmannEstimateNotTheRatioOfMedians) {
  // Pooled rounds that landed in two modes: the medians sit in different modes (ratio 2) although the
  // two sides hardly differ; the median of the 121 pairwise ratios is 1.
  std::vector<double> base(6, 1.0), fresh(5, 1.0);
  base.insert(base.end(), 5, 2.0);
  fresh.insert(fresh.end(), 6, 2.0);
  const Comparison c = compare_one(make_case("k", base), make_case("k", fresh));
  EXPECT_DOUBLE_EQ(*c.cases[0].median_ratio, 2.0);
  EXPECT_DOUBLE_EQ(*c.cases[0].ratio, 1.0);
  EXPECT_EQ(c.cases[0].verdict, Verdict::same);
  EXPECT_EQ(c.exit_status(), 0);
}

TEST(CompareVerdicts, ByRecordTestsOneMedianPerRound) {
  // Two rounds a side; one NEW round ran under a burst of load (every repetition 30% slower). Pooled,
  // its 20 repetitions make the whole side "significantly" slower; per round there are too few units
  // to say anything, and with 4 rounds a side the one bad round is not enough.
  ResultCase base = make_case("k", noisy(1e-3, 40, 1)), fresh = make_case("k", noisy(1e-3, 20, 2));
  const std::vector<double> burst = noisy(1.3e-3, 20, 3);
  fresh.samples_s.insert(fresh.samples_s.end(), burst.begin(), burst.end());
  base.record_medians_s = {1e-3, 1.001e-3};
  fresh.record_medians_s = {1.0005e-3, 1.3e-3};
  EXPECT_EQ(compare_one(base, fresh).cases[0].verdict, Verdict::slower);
  CompareOptions by_record;
  by_record.by_record = true;
  const Comparison two = compare_one(base, fresh, by_record);
  EXPECT_EQ(two.cases[0].verdict, Verdict::not_comparable);
  EXPECT_THAT(two.cases[0].note, HasSubstr("(2 base, 2 new)"));
  EXPECT_THAT(two.cases[0].note, HasSubstr("at least 4 rounds per side"));
  base.record_medians_s = {1e-3, 1.001e-3, 0.999e-3, 1.002e-3};
  fresh.record_medians_s = {1.0005e-3, 1.3e-3, 0.9995e-3, 1.0015e-3};
  const Comparison four = compare_one(base, fresh, by_record);
  EXPECT_EQ(four.cases[0].verdict, Verdict::same);
  EXPECT_EQ(four.cases[0].base_n, 4u);
  // A real slowdown shows in every round.
  fresh.record_medians_s = {1.2e-3, 1.21e-3, 1.19e-3, 1.22e-3};
  EXPECT_EQ(compare_one(base, fresh, by_record).cases[0].verdict, Verdict::slower);
}

TEST(CompareVerdicts, CorrectnessFailureInNewFailsTheGate) {
  ResultCase bad = make_case("k", noisy(1e-3, 10, 2));
  bad.check_passed = false;
  bad.max_rel_error = 0.3;
  const Comparison c = compare_one(make_case("k", noisy(1e-3, 10, 1)), bad);
  EXPECT_EQ(c.cases[0].verdict, Verdict::correctness_failed);
  EXPECT_THAT(c.cases[0].note, HasSubstr("new: check failed (max rel error 0.3)"));
  EXPECT_EQ(c.exit_status(), 1);

  ResultCase failed = make_case("k", {}, "failed");
  failed.reason = "prepare threw: out of memory";
  const Comparison f = compare_one(make_case("k", noisy(1e-3, 10, 1)), failed);
  EXPECT_EQ(f.cases[0].verdict, Verdict::correctness_failed);
  EXPECT_THAT(f.cases[0].note, HasSubstr("new failed: prepare threw: out of memory"));
  EXPECT_EQ(f.exit_status(), 1);
}

TEST(CompareVerdicts, FailureInBaseOnlyOrSkipsAreNotComparable) {
  ResultCase failed = make_case("k", {}, "failed");
  failed.reason = "boom";
  const Comparison b = compare_one(failed, make_case("k", noisy(1e-3, 10, 1)));
  EXPECT_EQ(b.cases[0].verdict, Verdict::not_comparable);
  EXPECT_EQ(b.cases[0].note, "base failed: boom");
  EXPECT_EQ(b.exit_status(), 0);
  ResultCase skipped = make_case("k", {}, "skipped");
  skipped.reason = "causal mask not supported";
  const Comparison s = compare_one(make_case("k", noisy(1e-3, 10, 1)), skipped);
  EXPECT_EQ(s.cases[0].verdict, Verdict::not_comparable);
  EXPECT_EQ(s.cases[0].note, "new skipped: causal mask not supported");
}

TEST(CompareVerdicts, AggregatesOnlyAreNotComparable) {
  ResultCase agg = make_case("BM_Tile", {});
  agg.key = CaseKey{"BM_Tile/64", "", 1, 1};
  agg.aggregate_median_s = 1e-6;
  ResultCase base = agg;
  const Comparison c = compare_one(base, agg);
  EXPECT_EQ(c.cases[0].verdict, Verdict::not_comparable);
  EXPECT_THAT(c.cases[0].note, HasSubstr("only aggregates in base (rerun Google Benchmark with --benchmark_repetitions"));
  EXPECT_DOUBLE_EQ(*c.cases[0].ratio, 1.0);
}

TEST(CompareVerdicts, CasesOnlyOnOneSide) {
  const Comparison c = compare(set_of({make_case("gone", {1}), make_case("kept", noisy(1, 5, 1))}),
                               set_of({make_case("kept", noisy(1, 5, 2)), make_case("added", {1})}), {});
  ASSERT_EQ(c.cases.size(), 3u);
  EXPECT_EQ(c.cases[0].verdict, Verdict::only_in_base);
  EXPECT_EQ(c.cases[1].verdict, Verdict::same);
  EXPECT_EQ(c.cases[2].key.kernel, "added");
  EXPECT_EQ(c.cases[2].verdict, Verdict::only_in_new);
  EXPECT_EQ(c.exit_status(), 0);
}

TEST(CompareSummary, GeometricMeanPerKernelAndOverall) {
  ResultCase a1 = make_case("a", noisy(1, 10, 1, 0)), a2 = make_case("a", noisy(1, 10, 2, 0));
  a2.key.problem = "other";
  ResultCase b1 = make_case("b", noisy(1, 10, 3, 0));
  const Comparison c = compare(set_of({a1, a2, b1}),
                               set_of({make_case("a", noisy(2, 10, 4, 0)),
                                       [] { ResultCase x = make_case("a", noisy(0.5, 10, 5, 0)); x.key.problem = "other"; return x; }(),
                                       make_case("b", noisy(4, 10, 6, 0))}),
                               {});
  ASSERT_EQ(c.groups.size(), 3u);
  EXPECT_EQ(c.groups[0].group, "a");
  EXPECT_EQ(c.groups[0].compared, 2u);
  EXPECT_NEAR(*c.groups[0].geomean_ratio, 1.0, 1e-12);  // sqrt(2 * 0.5)
  EXPECT_EQ(c.groups[0].slower, 1u);
  EXPECT_EQ(c.groups[0].faster, 1u);
  EXPECT_NEAR(*c.groups[1].geomean_ratio, 4.0, 1e-12);
  EXPECT_EQ(c.groups[2].group, "all");
  EXPECT_NEAR(*c.groups[2].geomean_ratio, std::cbrt(2.0 * 0.5 * 4.0), 1e-12);
}

TEST(CompareFilter, GlobsOnKernelOrProblemAndEveryFilterMustMatch) {
  const CaseKey key{"mha.blocked.omp", "b1_h8_sq512_d64_causal", 2, 1};
  EXPECT_TRUE(case_selected(key, {}));
  EXPECT_TRUE(case_selected(key, {"mha.blocked.*"}));
  EXPECT_TRUE(case_selected(key, {"*_causal"}));
  EXPECT_TRUE(case_selected(key, {"rnn.*,mha.*"}));
  EXPECT_FALSE(case_selected(key, {"rnn.*"}));
  EXPECT_TRUE(case_selected(key, {"mha.*", "*_causal"}));
  EXPECT_FALSE(case_selected(key, {"mha.*", "*_d128"}));
  EXPECT_TRUE(case_selected(CaseKey{"BM_Tile/64", "", 1, 1}, {"BM_Tile/*"}));
  const Comparison c = compare(set_of({make_case("mha.a", {1}), make_case("rnn.b", {1})}),
                               set_of({make_case("mha.a", {1}), make_case("rnn.b", {1})}), CompareOptions{0.05, 0.05, {"rnn.*"}});
  ASSERT_EQ(c.cases.size(), 1u);
  EXPECT_EQ(c.cases[0].key.kernel, "rnn.b");
}

TEST(CompareProvenance, WarnsWhenMachinesOrBuildsDiffer) {
  ResultSet base = set_of({make_case("k", {1})}), fresh = set_of({make_case("k", {1})});
  base.provenance = {{"b.jsonl", "vm1 (EPYC, 2 cores)", "GNU 12 Release [-O3]", "c1", {}}};
  fresh.provenance = {{"n.jsonl", "vm2 (Xeon, 8 cores)", "GNU 12 Release [-O3]", "c2", {}}};
  Comparison c = compare(base, fresh, {});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_THAT(c.warnings[0], HasSubstr("different machines (base: vm1 (EPYC, 2 cores); new: vm2 (Xeon, 8 cores))"));
  fresh.provenance[0].machine = base.provenance[0].machine;
  EXPECT_TRUE(compare(base, fresh, {}).warnings.empty());  // only the commit differs: expected
  fresh.provenance[0].build = "GNU 12 Debug [-O0]";
  c = compare(base, fresh, {});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_THAT(c.warnings[0], HasSubstr("different builds"));
}

TEST(CompareFormats, MismatchedSidesAreRejected) {
  ResultSet gbench = set_of({make_case("k", {1})});
  gbench.format = ResultFormat::gbench;
  EXPECT_THROW(compare(set_of({make_case("k", {1})}), gbench, {}), ResultSetError);
}

}  // namespace
}  // namespace attnbench::reports
