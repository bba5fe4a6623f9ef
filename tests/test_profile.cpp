// `attnbench profile`: the phase recorder (per-thread slots, exact totals, the trace cap), the kernels'
// phases, the trace JSON, the hardware counters (the unavailable path for real, the available one
// through an injected reader) and the command line.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "attnbench/phase_recorder.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "profile_case.hpp"
#include "test_support.hpp"
#include "trace_json.hpp"

namespace attnbench {
namespace {

using test_support::run_command;
using test_support::shell_quote;
using test_support::TempDir;

// ---- the recorder -------------------------------------------------------------------------------

TEST(PhaseRecorder, NullRecorderRecordsNothing) {
  PhaseScope scope(nullptr, Phase::qk);
  scope.switch_to(Phase::pv);
  scope.stop();
  const PhaseSpan span(nullptr, "item");
}

TEST(PhaseRecorder, EachThreadGetsItsOwnSlotAndTotalsAreExact) {
  PhaseRecorder recorder(8, 1000);
  constexpr int kThreads = 4, kScopes = 100;
#pragma omp parallel num_threads(kThreads)
  for (int i = 0; i < kScopes; ++i) {
    PhaseScope scope(&recorder, Phase::qk);
    scope.switch_to(Phase::softmax);
  }
  std::thread plain([&] { const PhaseScope scope(&recorder, Phase::packing); });
  plain.join();
  std::set<long> tids;
  for (int i = 0; i < recorder.threads(); ++i) tids.insert(recorder.thread(i).os_tid);
  EXPECT_EQ(int(tids.size()), recorder.threads()) << "one slot per OS thread";
  const auto calls = recorder.total_calls();
  const int team = recorder.threads() - 1;  // the OpenMP team, then the plain thread
  EXPECT_GE(team, 1);
  EXPECT_EQ(calls[std::size_t(Phase::qk)], std::int64_t(team) * kScopes);
  EXPECT_EQ(calls[std::size_t(Phase::softmax)], std::int64_t(team) * kScopes);
  EXPECT_EQ(calls[std::size_t(Phase::packing)], 1);
  EXPECT_EQ(recorder.unregistered(), 0);
}

TEST(PhaseRecorder, TraceCapKeepsCoarseEventsAfterFineOnesStopAndTotalsStayExact) {
  // Fine events are kept while the buffer is under half full (5 of 10), coarse ones until it is full.
  PhaseRecorder recorder(2, 10);
  for (int i = 0; i < 20; ++i) {
    const PhaseSpan span(&recorder, "item");
    const PhaseScope scope(&recorder, Phase::pv);  // ends first: pv, item, pv, item, ...
  }
  const PhaseRecorder::ThreadSlot& s = recorder.thread(0);
  EXPECT_EQ(s.calls[std::size_t(Phase::pv)], 20) << "totals count every scope";
  int fine = 0, spans = 0;
  for (const auto& e : s.events) (e.span ? spans : fine) += 1;
  EXPECT_EQ(fine, 3) << "pv at sizes 0, 2, 4";
  EXPECT_EQ(spans, 7) << "spans fill the rest of the capacity";
  EXPECT_EQ(s.dropped_fine, 17);
  EXPECT_EQ(s.dropped_coarse, 13);
  recorder.reset();
  EXPECT_EQ(recorder.thread(0).events.size(), 0u);
  EXPECT_EQ(recorder.total_calls()[std::size_t(Phase::pv)], 0);
}

TEST(PhaseRecorder, ThreadsBeyondTheSlotsAreCountedNotRecorded) {
  PhaseRecorder recorder(1, 10);
  { const PhaseScope scope(&recorder, Phase::qk); }
  std::thread other([&] { const PhaseScope scope(&recorder, Phase::qk); });
  other.join();
  EXPECT_EQ(recorder.threads(), 1);
  EXPECT_EQ(recorder.unregistered(), 1);
  EXPECT_EQ(recorder.total_calls()[std::size_t(Phase::qk)], 1);
}

// ---- kernels' phases ------------------------------------------------------------------------------

/// A reader that reports fixed counts: the path where the machine exposes counters.
class FakeCounters final : public CounterReader {
 public:
  std::string begin() override { return ""; }
  CounterReading end() override {
    CounterReading r;
    r.available = true;
    r.counts = {{"cycles", 4e9}, {"instructions", 8e9}, {"cache_references", 1e8}, {"cache_misses", 1e7},
                {"branch_misses", 4e6}};
    r.multiplexed = 0.5;
    return r;
  }
};

ProfileResult profile(const std::string& kernel, const std::string& problem, int threads = 1, int reps = 3,
                      std::int64_t trace_events = 200000) {
  const Kernel* k = find_kernel(kernel);
  EXPECT_NE(k, nullptr) << kernel;
  const Problem p = parse_problem(problem);
  const TensorSet inputs = make_inputs(k->info().op, p, 7);
  ProfileSettings s;
  s.run.context.threads = threads;
  s.run.measure.warmup_runs = 1;
  s.run.measure.warmup_min_seconds = 0;
  s.run.measure.min_reps = 3;
  s.run.measure.max_reps = 3;
  s.run.measure.min_seconds = 0;
  s.profiled_reps = reps;
  s.trace_events = trace_events;
  FakeCounters counters;
  return profile_case(p, *k, inputs, s, counters);
}

std::set<std::string> phase_names(const ProfileResult& r) {
  std::set<std::string> names;
  for (const PhaseFigure& f : r.phases) names.insert(f.name);
  return names;
}

/// On one thread the phases cover the forward pass: what no phase covers (the loop around the work
/// items, scheduling) stays under 10% of the measured time, and the phases never add up to more.
void expect_phases_cover_the_time(const ProfileResult& r) {
  EXPECT_LT(r.unattributed_share, 0.10) << "phases cover at least 90% of the forward pass";
  EXPECT_GT(r.unattributed_share, -0.01) << "phases never add up to more than the forward pass";
  double sum = 0;
  for (const PhaseFigure& f : r.phases) sum += f.seconds.mean;
  EXPECT_NEAR(sum / r.forward_seconds.mean, 1 - r.unattributed_share, 1e-9);
}

TEST(KernelPhases, NaiveSerialHasQkSoftmaxPvAndProjections) {
  const ProfileResult r = profile("mha.naive.serial", "b1_h2_sq100_skv130_d24_proj");
  ASSERT_EQ(r.outcome.status, CaseStatus::ok) << r.outcome.reason;
  EXPECT_EQ(phase_names(r), (std::set<std::string>{"qk", "softmax", "pv", "projections"}));
  expect_phases_cover_the_time(r);
  ASSERT_TRUE(r.overhead.has_value());
  for (const PhaseFigure& f : r.phases)
    if (f.name == "qk" || f.name == "pv" || f.name == "projections") {
      EXPECT_GT(f.gflops.value_or(0), 0) << f.name;
    }
}

TEST(KernelPhases, BlockedSerialHasPackingQkSoftmaxPv) {
  const ProfileResult r = profile("mha.blocked.serial", "b1_h3_sq200_skv150_d40");
  ASSERT_EQ(r.outcome.status, CaseStatus::ok) << r.outcome.reason;
  EXPECT_EQ(phase_names(r), (std::set<std::string>{"packing", "qk", "softmax", "pv"}));
  expect_phases_cover_the_time(r);
}

TEST(KernelPhases, BlockedDecodeHasTheFusedPhase) {
  const ProfileResult r = profile("mha.blocked.serial", "b2_h4_sq1_skv300_d32");
  ASSERT_EQ(r.outcome.status, CaseStatus::ok) << r.outcome.reason;
  EXPECT_TRUE(phase_names(r).count("fused_qk_softmax_pv")) << "decode runs one fused micro-kernel";
}

TEST(KernelPhases, BlockedOmpAndTbbRecordPerThread) {
  for (const char* kernel : {"mha.blocked.omp", "mha.blocked.tbb"}) {
    const ProfileResult r = profile(kernel, "b2_h4_sq150_d32", 2);
    ASSERT_EQ(r.outcome.status, CaseStatus::ok) << kernel << ": " << r.outcome.reason;
    EXPECT_TRUE(phase_names(r).count("qk")) << kernel;
    ASSERT_EQ(r.traces.size(), 1u);
    EXPECT_GE(r.traces[0].threads.size(), 1u) << kernel;
    for (const RankTrace::Thread& t : r.traces[0].threads) EXPECT_GT(t.os_tid, 0) << kernel;
  }
}

TEST(KernelPhases, BaselinesHaveTheirOwnPhases) {
  const ProfileResult conv = profile("cnn.conv1d.serial", "b1_h2_sq90_d16_ks3");
  ASSERT_EQ(conv.outcome.status, CaseStatus::ok) << conv.outcome.reason;
  EXPECT_TRUE(phase_names(conv).count("gemm"));
  EXPECT_TRUE(phase_names(conv).count("bias_activation"));
  const ProfileResult lstm = profile("rnn.lstm.serial", "b2_h2_sq40_d16");
  ASSERT_EQ(lstm.outcome.status, CaseStatus::ok) << lstm.outcome.reason;
  for (const char* phase : {"input_projection", "recurrent", "gates"}) EXPECT_TRUE(phase_names(lstm).count(phase)) << phase;
  const ProfileResult gru = profile("rnn.gru.omp", "b1_h2_sq8_d16", 2);
  ASSERT_EQ(gru.outcome.status, CaseStatus::ok) << gru.outcome.reason;
  EXPECT_TRUE(phase_names(gru).count("sync")) << "the per-step barrier";
  for (const PhaseFigure& f : lstm.phases)
    if (f.name == "recurrent") {
      EXPECT_GT(f.gflops.value_or(0), 0);
    }
}

TEST(KernelPhases, ATinyTraceCapDropsEventsButNotTotals) {
  const ProfileResult full = profile("mha.blocked.serial", "b1_h2_sq300_d32", 1, 2);
  const ProfileResult capped = profile("mha.blocked.serial", "b1_h2_sq300_d32", 1, 2, 50);
  ASSERT_TRUE(full.profiled && capped.profiled);
  EXPECT_EQ(full.trace_dropped, 0);
  EXPECT_GT(capped.trace_dropped, 0);
  EXPECT_LE(capped.trace_kept, 50);
  auto calls = [](const ProfileResult& r, const std::string& name) {
    for (const PhaseFigure& f : r.phases)
      if (f.name == name) return f.calls;
    return -1.0;
  };
  EXPECT_EQ(calls(full, "qk"), calls(capped, "qk")) << "totals count every scope whatever the cap";
}

// ---- counters -------------------------------------------------------------------------------------

TEST(Counters, RealReaderOnThisMachine) {
  const auto reader = make_perf_event_reader();
  const std::string why = reader->begin();
  volatile double x = 0;
  for (int i = 0; i < 100000; ++i) x = x + i;
  const CounterReading r = reader->end();
  if (!why.empty()) {  // this VM: no PMU
    EXPECT_FALSE(r.available);
    EXPECT_EQ(r.reason, why);
    EXPECT_NE(why.find("perf_event_open(cycles) failed"), std::string::npos) << why;
    EXPECT_EQ(counters_line(r, 1).rfind("hardware counters unavailable here: perf_event_open", 0), 0u);
    EXPECT_EQ(counters_json(r, 1)["available"], false);
    EXPECT_EQ(counters_json(r, 1)["reason"], why);
  } else {  // a machine with counters
    ASSERT_TRUE(r.available);
    EXPECT_GT(r.count("cycles").value_or(0), 0);
    EXPECT_GT(r.count("instructions").value_or(0), 100000);
  }
}

TEST(Counters, FailureReasonsNameTheCauseAndTheRemedy) {
  EXPECT_NE(perf_open_failure("cycles", ENOENT).find("no hardware performance-monitoring unit"), std::string::npos);
  EXPECT_NE(perf_open_failure("cycles", EACCES).find("perf_event_paranoid"), std::string::npos);
  EXPECT_NE(perf_open_failure("cycles", ENOSYS).find("CONFIG_PERF_EVENTS"), std::string::npos);
}

TEST(Counters, AvailablePathThroughAnInjectedReader) {
  const ProfileResult r = profile("mha.naive.serial", "b1_h1_sq40_d16", 1, 2);
  ASSERT_TRUE(r.counters.available);
  const nlohmann::json j = profile_json(r)["counters"];
  EXPECT_EQ(j["available"], true);
  EXPECT_DOUBLE_EQ(j["ipc"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["cache_miss_rate"].get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(j["per_forward"]["cycles"].get<double>(), 2e9) << "4e9 over 2 profiled calls";
  EXPECT_DOUBLE_EQ(j["multiplexed"].get<double>(), 0.5);
  const std::string line = counters_line(r.counters, 2);
  EXPECT_NE(line.find("IPC 2.00"), std::string::npos) << line;
  EXPECT_NE(line.find("multiplexed"), std::string::npos) << line;
  std::ostringstream printed;
  print_profile(printed, r);
  EXPECT_NE(printed.str().find("IPC 2.00"), std::string::npos) << printed.str();
}

// ---- the trace ------------------------------------------------------------------------------------

TEST(TraceJson, ParsesWithEventsAndMetadataPerThread) {
  const ProfileResult r = profile("mha.blocked.omp", "b1_h4_sq200_d32_causal", 2, 2);
  ASSERT_TRUE(r.profiled);
  std::ostringstream out;
  write_trace_json(out, r.traces, {{"kernel", "mha.blocked.omp"}});
  const nlohmann::json t = nlohmann::json::parse(out.str());
  EXPECT_EQ(t["otherData"]["kernel"], "mha.blocked.omp");
  std::set<int> threads_with_events, named_threads;
  bool process_named = false, item_seen = false;
  for (const nlohmann::json& e : t["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("tid") && e.contains("name")) << e.dump();
    EXPECT_EQ(e["pid"], 0);
    if (e["ph"] == "M") {
      if (e["name"] == "thread_name") named_threads.insert(e["tid"].get<int>());
      if (e["name"] == "process_name") process_named = e["args"]["name"].get<std::string>().rfind("rank 0", 0) == 0;
      continue;
    }
    ASSERT_EQ(e["ph"], "X");
    EXPECT_GE(e["ts"].get<double>(), 0) << "times count from the origin taken before the profiled calls";
    EXPECT_GE(e["dur"].get<double>(), 0);
    item_seen |= e["cat"] == "item";
    threads_with_events.insert(e["tid"].get<int>());
  }
  EXPECT_TRUE(process_named);
  EXPECT_TRUE(item_seen) << "work items are spans";
  EXPECT_FALSE(threads_with_events.empty());
  for (int tid : threads_with_events) EXPECT_TRUE(named_threads.count(tid)) << "thread " << tid << " has a name";
}

TEST(TraceJson, SerialisationRoundTripsAndRejectsGarbage) {
  RankTrace t;
  t.rank = 3, t.host = "n1", t.names = {"qk", "allreduce"};
  t.threads = {{0, 123, "attnbench", 7}};
  t.events = {{10, 20, 0, 0, 0}, {40, 5, 0, 1, 2}};
  const RankTrace u = deserialize(serialize(t));
  EXPECT_EQ(u.rank, 3);
  EXPECT_EQ(u.host, "n1");
  EXPECT_EQ(u.names, t.names);
  ASSERT_EQ(u.threads.size(), 1u);
  EXPECT_EQ(u.threads[0].os_tid, 123);
  EXPECT_EQ(u.threads[0].dropped, 7);
  ASSERT_EQ(u.events.size(), 2u);
  EXPECT_EQ(u.events[1].category, 2);
  EXPECT_THROW(deserialize("nonsense"), std::runtime_error);
  const std::string bytes = serialize(t);
  EXPECT_THROW(deserialize(std::string_view(bytes).substr(0, bytes.size() - 3)), std::runtime_error);
}

// ---- the command line ---------------------------------------------------------------------------

const std::string kProfile = std::string(ATTNBENCH_EXE) + " profile --warmup 0 --min-reps 2 --min-time 0 --threads 1 ";

TEST(ProfileCli, BadInputExitsTwoWithOneLine) {
  TempDir dir("profile-cli");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--problem b1_h2_sq16_d8", "missing --kernel"},
      {"--kernel mha.nope --problem b1_h2_sq16_d8", "unknown kernel 'mha.nope'"},
      {"--kernel 'mha.*' --problem b1_h2_sq16_d8", "one kernel id"},
      {"--kernel mha.naive.serial --problem b1_h2_sq16_d8 --problem b1_h2_sq32_d8", "exactly one problem"},
      {"--kernel mha.naive.serial --problem b1_h2_sq16_d8 --profile-reps 0", "--profile-reps"},
      {"--kernel mha.naive.serial --problem b1_h2_sq16_d8 --trace-events -1", "--trace-events"},
      {"--kernel mha.naive.serial --problem b1_h2_sq16_d8 --trace /nonexistent-dir/t.json", "--trace"},
      {"--kernel rnn.lstm.serial --problem b1_h2_sq16_d8_padding", "rnn.lstm.serial cannot run"},
  };
  for (const auto& [args, expect] : cases) {
    const auto r = run_command(kProfile + args, dir.path());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
}

TEST(ProfileCli, PrintsPhasesWritesTheRecordAndTheTrace) {
  TempDir dir("profile-cli");
  const auto out = dir / "r.jsonl", trace = dir / "t.json";
  const auto r = run_command(kProfile + "--kernel mha.blocked.serial --problem b1_h2_sq100_d32 --check --out " +
                                 shell_quote(out.string()) + " --trace " + shell_quote(trace.string()),
                             dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* text : {"profiling overhead", "arithmetic intensity", "peak RSS", "qk", "softmax", "pv",
                           "(unattributed)", "hardware counters", "ui.perfetto.dev"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  std::ifstream f(out);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  const nlohmann::json rec = nlohmann::json::parse(line);
  EXPECT_EQ(rec["schema_version"], 1);
  EXPECT_EQ(rec["status"], "ok");
  EXPECT_TRUE(rec["check"]["passed"].get<bool>());
  const nlohmann::json& prof = rec["profile"];
  ASSERT_TRUE(prof.is_object());
  EXPECT_TRUE(prof["overhead"].is_number());
  EXPECT_TRUE(prof["counters"].contains("available"));
  EXPECT_TRUE(prof["counters"]["available"].get<bool>() || prof["counters"]["reason"].get<std::string>() != "");
  double shares = prof["unattributed_share"].get<double>();
  for (const nlohmann::json& p : prof["phases"]) shares += p["share"].get<double>();
  EXPECT_NEAR(shares, 1.0, 1e-9);
  const nlohmann::json t = nlohmann::json::parse(test_support::slurp(trace));
  EXPECT_GT(t["traceEvents"].size(), 4u);
}

}  // namespace
}  // namespace attnbench
