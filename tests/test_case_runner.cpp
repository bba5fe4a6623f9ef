// run_case and run_cases_interleaved on real kernels wrapped to log their calls: the order of the
// rounds, each case's stopping rule, a failure mid-timing, and what the outcomes record.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "case_runner.hpp"

namespace attnbench {
namespace {

/// mha.naive.serial under another id, appending its id to `log` on every run; throws on its
/// `throw_on_call`-th run (1-based; 0: never).
class LoggingKernel final : public DescribedKernel {
 public:
  LoggingKernel(std::string id, std::vector<std::string>& log, int throw_on_call = 0)
      : DescribedKernel({std::move(id), Family::attention, "logs its calls", all_features(Parallelism::serial, 1e-4)}),
        log_(log), throw_on_call_(throw_on_call) {}
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override {
    return inner().workspace_bytes(p, ctx);
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext& ctx) const override {
    return std::make_unique<Prepared>(*this, inner().prepare(p, t, ctx));
  }

 private:
  static const Kernel& inner() { return *find_kernel("mha.naive.serial"); }
  struct Prepared final : PreparedKernel {
    Prepared(const LoggingKernel& k, std::unique_ptr<PreparedKernel> inner) : k(k), inner(std::move(inner)) {}
    void run(const TensorSet& inputs, Tensor& out) override {
      k.log_.push_back(k.id());
      if (++calls == k.throw_on_call_) throw std::runtime_error("injected failure on call " + std::to_string(calls));
      inner->run(inputs, out);
    }
    const LoggingKernel& k;
    std::unique_ptr<PreparedKernel> inner;
    int calls = 0;
  };
  std::vector<std::string>& log_;
  int throw_on_call_;
};

/// Exactly `reps` repetitions after one warm-up call: no time limit or target binds.
CaseSettings fixed_reps(const Tensor& reference, int reps) {
  CaseSettings s;
  s.measure.warmup_runs = 1;
  s.measure.warmup_min_seconds = 0;
  s.measure.min_reps = reps;
  s.measure.max_reps = reps;
  s.measure.min_seconds = 0;
  s.measure.ci_target = 0;
  s.reference = &reference;
  return s;
}

class CaseRunner : public ::testing::Test {
 protected:
  const Problem p = parse_problem("b1_h2_sq9_skv11_d8");
  const TensorSet inputs = make_inputs(p, 3);
  const Tensor reference = reference_forward(p, inputs);
  std::vector<std::string> log;
};

TEST(InterleaveOrder, EachRoundIsASeededPermutation) {
  std::map<std::size_t, int> first;
  for (std::uint64_t round = 0; round < 3000; ++round) {
    std::vector<std::size_t> order = interleave_round_order(3, 42, round);
    EXPECT_EQ(order, interleave_round_order(3, 42, round)) << "reproducible from the seed";
    ++first[order[0]];
    std::sort(order.begin(), order.end());
    ASSERT_EQ(order, (std::vector<std::size_t>{0, 1, 2}));
  }
  for (const auto& [kernel, count] : first) EXPECT_NEAR(count, 1000, 150) << "kernel " << kernel << " first";
  EXPECT_NE(interleave_round_order(8, 1, 0), interleave_round_order(8, 2, 0));
  EXPECT_TRUE(interleave_round_order(0, 1, 0).empty());
}

TEST_F(CaseRunner, RunCaseChecksWarmsUpThenTimesUntilTheRuleIsDone) {
  const LoggingKernel k("test.a", log);
  const CaseOutcome c = run_case(p, k, inputs, fixed_reps(reference, 4));
  ASSERT_EQ(c.status, CaseStatus::ok) << c.reason;
  EXPECT_EQ(log.size(), 1u + 1u + 4u);  // check, warm-up, repetitions
  ASSERT_TRUE(c.time && c.timing && c.check);
  EXPECT_EQ(c.time->repetitions, 4);
  EXPECT_EQ(c.timing->warmup_calls, 1);
  EXPECT_EQ(c.timing->stop, StopReason::minimum);
  EXPECT_FALSE(c.timing->interleave);
}

TEST_F(CaseRunner, InterleavedRoundsFollowTheSeededOrder) {
  const LoggingKernel a("test.a", log), b("test.b", log), c("test.c", log);
  const CaseSettings s = fixed_reps(reference, 5);
  const std::vector<InterleavedCase> cases{{&a, &inputs, s}, {&b, &inputs, s}, {&c, &inputs, s}};
  const std::vector<CaseOutcome> out = run_cases_interleaved(p, cases, 77);
  ASSERT_EQ(out.size(), 3u);
  // Set-up and check of each in order, then a warm-up of each in order, then 5 shuffled rounds.
  const std::vector<std::string> ids{"test.a", "test.b", "test.c"};
  std::vector<std::string> expected = {ids[0], ids[1], ids[2], ids[0], ids[1], ids[2]};
  for (std::uint64_t round = 0; round < 5; ++round)
    for (std::size_t i : interleave_round_order(3, 77, round)) expected.push_back(ids[i]);
  EXPECT_EQ(log, expected);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(out[i].status, CaseStatus::ok) << out[i].reason;
    EXPECT_EQ(out[i].kernel->id(), ids[i]);
    ASSERT_TRUE(out[i].time && out[i].timing && out[i].timing->interleave);
    EXPECT_EQ(out[i].time->repetitions, 5);
    EXPECT_EQ(out[i].timing->interleave->seed, 77u);
    EXPECT_EQ(out[i].timing->interleave->kernels, 3);
    EXPECT_EQ(out[i].timing->interleave->rounds, 5);
  }
}

TEST_F(CaseRunner, EachCaseStopsByItsOwnRuleAndAFailureStopsOnlyItsCase) {
  const LoggingKernel a("test.a", log), fails("test.fails", log, 4), b("test.b", log);
  // test.fails: call 1 is the check, 2 the warm-up, 3 the first repetition, 4 throws.
  const std::vector<InterleavedCase> cases{{&a, &inputs, fixed_reps(reference, 2)},
                                           {&fails, &inputs, fixed_reps(reference, 6)},
                                           {&b, &inputs, fixed_reps(reference, 6)}};
  const std::vector<CaseOutcome> out = run_cases_interleaved(p, cases, 5);
  EXPECT_EQ(out[0].status, CaseStatus::ok);
  EXPECT_EQ(out[0].time->repetitions, 2);
  EXPECT_EQ(out[1].status, CaseStatus::failed);
  EXPECT_NE(out[1].reason.find("injected failure on call 4"), std::string::npos) << out[1].reason;
  EXPECT_FALSE(out[1].time);
  EXPECT_EQ(out[2].status, CaseStatus::ok);
  EXPECT_EQ(out[2].time->repetitions, 6);
  EXPECT_EQ(std::count(log.begin(), log.end(), "test.fails"), 4);
  EXPECT_EQ(std::count(log.begin(), log.end(), "test.a"), 1 + 1 + 2);
}

TEST_F(CaseRunner, ACaseFailingItsCheckIsNotTimedInTheRounds) {
  const LoggingKernel a("test.a", log), bad("test.bad", log, 1);  // throws in the checked first run
  const std::vector<InterleavedCase> cases{{&bad, &inputs, fixed_reps(reference, 3)},
                                           {&a, &inputs, fixed_reps(reference, 3)}};
  const std::vector<CaseOutcome> out = run_cases_interleaved(p, cases, 1);
  EXPECT_EQ(out[0].status, CaseStatus::failed);
  EXPECT_EQ(out[1].status, CaseStatus::ok);
  EXPECT_EQ(std::count(log.begin(), log.end(), "test.bad"), 1);
}

}  // namespace
}  // namespace attnbench
