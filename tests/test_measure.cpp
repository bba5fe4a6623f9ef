// The measurement loop. Only counts and orderings are asserted, never durations, so a noisy
// machine cannot make these fail: a sleep gives a guaranteed LOWER bound on a call's time, but
// nothing bounds it from above (a loaded machine can stretch a 3 ms sleep past 10 ms). Where an
// expectation needs calls to stay short, it is checked only when the samples show they did.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "measure.hpp"

namespace attnbench {
namespace {

using namespace std::chrono_literals;

/// Options with no time-driven behaviour: the counts alone decide.
MeasureOptions counts_only(int warmup_runs, int min_reps, int max_reps) {
  MeasureOptions o;
  o.warmup_runs = warmup_runs;
  o.warmup_min_seconds = 0;
  o.min_reps = min_reps;
  o.max_reps = max_reps;
  o.min_seconds = 0;
  o.max_seconds = 1000;
  o.ci_target = 0;
  return o;
}

/// The samples of measure(...).
std::vector<double> samples_of(const std::function<void()>& fn, const MeasureOptions& o, RepetitionSync* sync = nullptr) {
  return measure(fn, o, sync).samples;
}

TEST(Measure, WarmupThenMinRepsWhenNoTimeIsRequired) {
  int calls = 0;
  const auto samples = samples_of([&] { ++calls; }, counts_only(2, 3, 10));
  EXPECT_EQ(samples.size(), 3u);
  EXPECT_EQ(calls, 2 + 3);
  for (double s : samples) EXPECT_GE(s, 0);
}

TEST(Measure, NoWarmupWhenBothWarmupLimitsAreZero) {
  int calls = 0;
  const auto samples = samples_of([&] { ++calls; }, counts_only(0, 4, 4));
  EXPECT_EQ(samples.size(), 4u);
  EXPECT_EQ(calls, 4);
}

/// The slowest sample.
double slowest(const std::vector<double>& samples) { return *std::max_element(samples.begin(), samples.end()); }

TEST(Measure, WarmupCallsAreNotTimed) {
  // The first call is longer than max_seconds. Were it timed, measuring would stop after that
  // one sample; as a warm-up call it must not count, so min_reps fast samples follow.
  MeasureOptions o = counts_only(1, 3, 100);
  o.max_seconds = 0.1;
  int calls = 0;
  const auto samples = samples_of([&] { if (++calls == 1) std::this_thread::sleep_for(200ms); }, o);
  ASSERT_FALSE(samples.empty());
  EXPECT_EQ(calls, 1 + static_cast<int>(samples.size()));
  if (slowest(samples) <= o.max_seconds) {
    EXPECT_EQ(samples.size(), 3u);
  }
}

TEST(Measure, WarmupLastsAtLeastWarmupMinSeconds) {
  // 5 ms per call and 20 ms of warm-up: at least 1 call (warmup_runs), at most 4.
  int calls = 0;
  MeasureOptions o = counts_only(1, 1, 1);
  o.warmup_min_seconds = 0.02;
  const auto samples = samples_of([&] { ++calls; std::this_thread::sleep_for(5ms); }, o);
  ASSERT_EQ(samples.size(), 1u);
  const int warmup_calls = calls - 1;
  EXPECT_GE(warmup_calls, 1);
  EXPECT_LE(warmup_calls, 4);
}

TEST(Measure, KeepsGoingUntilMinSeconds) {
  MeasureOptions o = counts_only(0, 1, 1000);
  o.min_seconds = 0.03;
  const auto samples = samples_of([] { std::this_thread::sleep_for(2ms); }, o);
  const double total = std::accumulate(samples.begin(), samples.end(), 0.0);
  EXPECT_GE(total, 0.03);
  EXPECT_LE(samples.size(), 16u);  // >= 2 ms each: 15 calls already make 30 ms
  EXPECT_GE(samples.size(), 1u);
}

TEST(Measure, StopsAtMaxRepsEvenBelowMinSeconds) {
  MeasureOptions o = counts_only(0, 2, 7);
  o.min_seconds = 1000;  // never reached by 7 empty calls
  int calls = 0;
  const auto samples = samples_of([&] { ++calls; }, o);
  EXPECT_EQ(samples.size(), 7u);
  EXPECT_EQ(calls, 7);
}

TEST(Measure, MinRepsWinOverMaxSecondsWhileEachCallFits) {
  // Every call takes >= 20 ms, so 3 calls exceed max_seconds (50 ms), yet min_reps (4) must be met
  // as long as no single call exceeds max_seconds on its own.
  MeasureOptions o = counts_only(0, 4, 100);
  o.min_seconds = 0.05;
  o.max_seconds = 0.05;
  const auto samples = samples_of([] { std::this_thread::sleep_for(20ms); }, o);
  ASSERT_FALSE(samples.empty());
  EXPECT_LE(samples.size(), 4u);
  if (slowest(samples) <= o.max_seconds) {
    EXPECT_EQ(samples.size(), 4u);
  } else {
    EXPECT_GT(samples.back(), o.max_seconds) << "stopped early only right after an over-long call";
  }
}

TEST(Measure, OneCallLongerThanMaxSecondsStopsAfterOneSample) {
  MeasureOptions o = counts_only(0, 5, 100);
  o.max_seconds = 0.01;
  int calls = 0;
  const auto samples = samples_of([&] { ++calls; std::this_thread::sleep_for(20ms); }, o);
  EXPECT_EQ(samples.size(), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(Measure, ExceptionsFromTheCallablePropagate) {
  EXPECT_THROW(measure([] { throw std::runtime_error("kernel failed"); }, counts_only(1, 1, 1)),
               std::runtime_error);
}

/// The invalid_argument message of validate(o), or "" if it accepts o.
std::string rejection(const MeasureOptions& o) {
  try {
    validate(o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Measure, ValidationNamesTheField) {
  EXPECT_EQ(rejection(MeasureOptions{}), "");
  MeasureOptions o;
  o.min_reps = 0;
  EXPECT_NE(rejection(o).find("min_reps must be >= 1"), std::string::npos) << rejection(o);
  o = {};
  o.max_reps = 3;
  EXPECT_NE(rejection(o).find("max_reps"), std::string::npos) << rejection(o);
  o = {};
  o.warmup_runs = -1;
  EXPECT_NE(rejection(o).find("warmup_runs"), std::string::npos) << rejection(o);
  o = {};
  o.warmup_min_seconds = -0.1;
  EXPECT_NE(rejection(o).find("warmup_min_seconds"), std::string::npos) << rejection(o);
  o = {};
  o.min_seconds = -1;
  EXPECT_NE(rejection(o).find("min_seconds"), std::string::npos) << rejection(o);
  o = {};
  o.max_seconds = 0;
  EXPECT_NE(rejection(o).find("max_seconds"), std::string::npos) << rejection(o);
  o = {};
  o.min_seconds = 60;  // above the default max_seconds of 10
  EXPECT_NE(rejection(o).find("max_seconds must be >= min_seconds"), std::string::npos) << rejection(o);

  o = {};
  o.ci_target = 1;
  EXPECT_NE(rejection(o).find("ci_target must be in [0, 1)"), std::string::npos) << rejection(o);
  o.ci_target = -0.01;
  EXPECT_NE(rejection(o).find("ci_target"), std::string::npos) << rejection(o);

  int calls = 0;
  o = {};
  o.min_reps = 0;
  EXPECT_THROW(measure([&] { ++calls; }, o), std::invalid_argument);
  EXPECT_EQ(calls, 0);  // rejected before any call
}

// The MPI path's contract, with a stand-in for the ranks: every call (warm-up too) is preceded by
// start(), its sample is what combine() returns (the slowest rank's time), and the time limits count
// those values, so ranks that see the same combined times stop after the same call.
class FakeRanks final : public RepetitionSync {
 public:
  explicit FakeRanks(double slowest) : slowest_(slowest) {}
  void start() override { ++starts; }
  double combine(double local_seconds, bool timed) override {
    EXPECT_EQ(starts, ++combines) << "combine() follows each start()";
    EXPECT_GE(local_seconds, 0);
    timed_calls += timed ? 1 : 0;
    return slowest_;
  }
  int starts = 0, combines = 0, timed_calls = 0;

 private:
  double slowest_;
};

TEST(Measure, UnderRanksEachSampleIsTheCombinedTimeAndLimitsCountIt) {
  MeasureOptions o = counts_only(1, 2, 1000);
  o.warmup_min_seconds = 0.25;  // two warm-up calls of a combined 0.2 s
  o.min_seconds = 1.0;          // five timed calls of a combined 0.2 s
  FakeRanks ranks(0.2);
  int calls = 0;
  const auto samples = samples_of([&] { ++calls; }, o, &ranks);
  EXPECT_EQ(samples, std::vector<double>(5, 0.2));
  EXPECT_EQ(ranks.timed_calls, 5);
  EXPECT_EQ(calls, 2 + 5);
  EXPECT_EQ(ranks.starts, calls);
}

TEST(Measure, NotesSayHowTheSamplesWereTaken) {
  MeasureOptions o = counts_only(1, 2, 1000);
  o.warmup_min_seconds = 0.25;  // two warm-up calls of a combined 0.2 s
  o.ci_target = 0.02;
  FakeRanks ranks(0.2);
  const Measurement m = measure([] {}, o, &ranks);
  EXPECT_EQ(m.notes.warmup_calls, 2);
  EXPECT_DOUBLE_EQ(m.notes.warmup_seconds, 0.4);
  // Constant combined times: the interval has zero width once it exists (6 samples).
  EXPECT_EQ(m.samples.size(), 6u);
  EXPECT_EQ(m.notes.stop, StopReason::ci_target);
  EXPECT_TRUE(m.notes.target_met);
  EXPECT_DOUBLE_EQ(m.notes.ci_target, 0.02);
  EXPECT_EQ(m.notes.cache, CacheMode::hot);
  EXPECT_EQ(m.notes.cache_flush_bytes, 0);
}

/// Combined times alternating between two modes, as a bimodal kernel on several ranks would show.
class BimodalRanks final : public RepetitionSync {
 public:
  void start() override {}
  double combine(double, bool) override { return ++calls_ % 2 ? 0.01 : 0.02; }

 private:
  int calls_ = 0;
};

TEST(Measure, UnderRanksABimodalKernelStopsAtTheBudgetWithTheTargetNotMet) {
  MeasureOptions o = counts_only(0, 6, 100000);
  o.ci_target = 0.02;
  o.max_seconds = 0.5;  // of combined time: 34 calls of 10-20 ms, whatever the calls really took
  BimodalRanks ranks;
  const Measurement m = measure([] {}, o, &ranks);
  EXPECT_EQ(m.notes.stop, StopReason::max_time);
  EXPECT_FALSE(m.notes.target_met);
  EXPECT_EQ(m.samples.size(), 34u);
}

TEST(Measure, ColdCacheFlushesBeforeEachCallAndSaysSo) {
  MeasureOptions o = counts_only(1, 3, 3);
  o.cache = CacheMode::cold;
  int calls = 0;
  const Measurement m = measure([&] { ++calls; }, o);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(m.notes.cache, CacheMode::cold);
  EXPECT_GE(m.notes.cache_flush_bytes, 4096);
  EXPECT_EQ(m.notes.cache_flush_bytes % 4096, 0);
}

/// Logs the order of start() and combine() calls: S, T (timed) and U (untimed).
class LoggingRanks final : public RepetitionSync {
 public:
  void start() override { log += "S"; }
  double combine(double local_seconds, bool timed) override {
    log += timed ? "T" : "U";
    return local_seconds;
  }
  std::string log;
};

TEST(Measure, ColdUnderRanksTheFlushIsCombinedBeforeTheBarrierAndWarmUpIsNotFlushed) {
  MeasureOptions o = counts_only(1, 2, 2);
  o.cache = CacheMode::cold;
  LoggingRanks ranks;
  measure([] {}, o, &ranks);
  EXPECT_EQ(ranks.log, "SU" "UST" "UST");  // warm-up call; then per repetition: flush, barrier, call
}

TEST(Measure, RepetitionLoopStepsUntilDoneAndRefusesMore) {
  int calls = 0;
  RepetitionLoop loop([&] { ++calls; }, counts_only(2, 3, 3));
  loop.warm_up();
  EXPECT_EQ(calls, 2);
  while (!loop.done()) loop.repeat();
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(loop.result().samples.size(), 3u);
  EXPECT_EQ(loop.result().notes.stop, StopReason::minimum);
  EXPECT_THROW(loop.repeat(), std::logic_error);
}

TEST(Measure, NotesJson) {
  TimingNotes n;
  n.warmup_calls = 3;
  n.warmup_seconds = 0.05;
  n.stop = StopReason::max_time;
  nlohmann::json j = to_json(n);
  EXPECT_EQ(j["warmup_calls"], 3);
  EXPECT_EQ(j["warmup_s"], 0.05);
  EXPECT_TRUE(j["ci_target"].is_null());   // no target
  EXPECT_TRUE(j["target_met"].is_null());
  EXPECT_EQ(j["stop"], "max_time");
  EXPECT_EQ(j["cache"], "hot");
  EXPECT_TRUE(j["interleave"].is_null());
  n.ci_target = 0.02;
  n.cache = CacheMode::cold;
  n.interleave = InterleaveNote{7, 3, 40};
  j = to_json(n);
  EXPECT_EQ(j["ci_target"], 0.02);
  EXPECT_EQ(j["target_met"], false);
  EXPECT_EQ(j["cache"], "cold");
  EXPECT_EQ(j["interleave"], (nlohmann::json{{"seed", 7}, {"kernels", 3}, {"rounds", 40}}));
}

TEST(Measure, CacheModeNames) {
  EXPECT_EQ(parse_cache_mode("hot"), CacheMode::hot);
  EXPECT_EQ(parse_cache_mode("cold"), CacheMode::cold);
  EXPECT_THROW(parse_cache_mode("warm"), std::invalid_argument);
}

}  // namespace
}  // namespace attnbench
