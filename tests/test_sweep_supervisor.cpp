// The sweep's supervisor with stand-in workers (shell scripts speaking its protocol), the ETA model,
// and the resume scan of a results file.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "build_info.hpp"
#include "sweep_progress.hpp"
#include "sweep_resume.hpp"
#include "sweep_supervisor.hpp"
#include "test_support.hpp"

using namespace attnbench;

namespace {

struct Seen {
  std::vector<std::string> events;  ///< "begin 0", "record 0 <json>", "lost 1 <reason>"
};

WorkerEvents recording(Seen& seen) {
  return {[&](std::size_t i) { seen.events.push_back("begin " + std::to_string(i)); },
          [&](std::size_t i, const nlohmann::json& r) { seen.events.push_back("record " + std::to_string(i) + " " + r.dump()); },
          [&](std::size_t i, const std::string& why) { seen.events.push_back("lost " + std::to_string(i) + " " + why); },
          [] {}};
}

/// A worker that answers each case; case 1 hangs, case 2 crashes, case 4 sends garbage.
constexpr const char* kScript = R"(while read i; do
  echo "begin $i"
  [ "$i" = 1 ] && sleep 30
  [ "$i" = 2 ] && kill -SEGV $$
  [ "$i" = 4 ] && echo "nonsense" && continue
  echo "record $i {\"case\":$i}"
done)";

TEST(SweepSupervisor, TimeoutsAndCrashesCostOneCaseEach) {
  Seen seen;
  const auto start = std::chrono::steady_clock::now();
  const SupervisedRun run =
      supervise_cases({{0}, {1}, {2}, {3}, {4}, {5}}, SupervisorOptions{{"/bin/sh", "-c", kScript}, 0.3, 30}, recording(seen));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(run.finished, 6u);
  EXPECT_FALSE(run.interrupted);
  EXPECT_LT(seconds, 10.0) << "the hung worker was not killed at the timeout";
  const std::vector<std::string> expected{"begin 0", "record 0 {\"case\":0}",
                                          "begin 1", "lost 1 timeout after 0.3 s (--timeout)",
                                          "begin 2", "lost 2 crashed: signal 11 (SIGSEGV)",
                                          "begin 3", "record 3 {\"case\":3}",
                                          "begin 4", "lost 4 the worker sent an unexpected line: nonsense",
                                          "begin 5", "record 5 {\"case\":5}"};
  EXPECT_EQ(seen.events, expected);
}

/// A worker that answers each group (one line of indices): case 3 crashes it, case 6 hangs, and group
/// 4 5 takes 0.5 s, within its 2 x 0.3 s.
constexpr const char* kGroupScript = R"(while read line; do
  set -- $line
  echo "begin $1"
  [ "$1" = 4 ] && sleep 0.5
  for i in "$@"; do
    [ "$i" = 3 ] && kill -SEGV $$
    [ "$i" = 6 ] && sleep 30
    echo "record $i {\"case\":$i}"
  done
done)";

TEST(SweepSupervisor, AGroupSharesTheSumOfItsTimeoutsAndACrashLosesItsUnfinishedCases) {
  Seen seen;
  const auto start = std::chrono::steady_clock::now();
  const SupervisedRun run = supervise_cases({{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8}},
                                            SupervisorOptions{{"/bin/sh", "-c", kGroupScript}, 0.3, 30}, recording(seen));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(run.finished, 9u);
  EXPECT_FALSE(run.interrupted);
  EXPECT_LT(seconds, 10.0) << "the hung worker was not killed at the group's timeout";
  const std::string timeout = "timeout after 0.6 s (--timeout 0.3 s for each of the 2 cases measured side by side)";
  const std::vector<std::string> expected{"begin 0", "record 0 {\"case\":0}", "record 1 {\"case\":1}",
                                          "begin 2", "record 2 {\"case\":2}", "lost 3 crashed: signal 11 (SIGSEGV)",
                                          "begin 4", "record 4 {\"case\":4}", "record 5 {\"case\":5}",
                                          "begin 6", "lost 6 " + timeout, "lost 7 " + timeout,
                                          "begin 8", "record 8 {\"case\":8}"};
  EXPECT_EQ(seen.events, expected);
}

TEST(SweepSupervisor, AWorkerThatCannotStartStopsTheSweep) {
  Seen seen;
  EXPECT_THROW(supervise_cases({{0}, {1}}, SupervisorOptions{{"/bin/sh", "-c", "exit 3"}, 1, 5}, recording(seen)),
               std::runtime_error);
  EXPECT_TRUE(seen.events.empty());
}

TEST(SweepSupervisor, DescribesHowAWorkerEnded) {
  EXPECT_EQ(describe_worker_end(SIGSEGV), "crashed: signal 11 (SIGSEGV)");  // WIFSIGNALED encoding
  EXPECT_EQ(describe_worker_end(3 << 8), "worker exited with status 3");
}

TEST(EtaModel, WeighsRemainingCasesByTheirFlops) {
  EtaModel eta;
  EXPECT_FALSE(eta.estimate({{"a", 1e9}}));
  eta.add("a", 1e6, 0.1);  // the fixed cost every case pays
  eta.add("a", 1e9, 1.1);  // plus 1 s per GFLOP
  // One big case costs ten small ones' worth of time, not an average case's.
  EXPECT_NEAR(*eta.estimate({{"a", 2e9}}), 0.1 + 2e9 * 1.0 / (1e9 + 1e6), 1e-9);
  EXPECT_NEAR(*eta.estimate({{"a", 0}, {"a", 0}}), 0.2, 1e-12);
  // A kernel not seen yet is estimated at the rate of all kernels seen.
  eta.add("b", 1e9, 0.6);
  EXPECT_NEAR(*eta.estimate({{"c", 1e9}}), 0.1 + 1e9 * 1.5 / (2e9 + 1e6), 1e-9);
  EXPECT_NEAR(*eta.estimate({{"b", 1e9}}), 0.6, 1e-9);
}

TEST(FormatDuration, MinutesAndHours) {
  EXPECT_EQ(format_duration(3.4), "0:03");
  EXPECT_EQ(format_duration(130), "2:10");
  EXPECT_EQ(format_duration(3909), "1:05:09");
}

nlohmann::json record(const std::string& problem, const std::string& status, const std::string& commit) {
  return {{"problem_str", problem}, {"kernel", "mha.naive.serial"}, {"threads", 1}, {"ranks", 1}, {"status", status},
          {"provenance", {{"git_commit", commit}, {"flags", build_info().flags}}}};
}

TEST(SweepResume, CountsThisBuildsCasesAndSkipsTornLines) {
  test_support::TempDir dir("sweep-resume");
  const std::string commit = build_info().git_commit;
  {
    std::ofstream f(dir / "r.jsonl");
    f << record("p_ok", "ok", commit).dump() << "\n"
      << record("p_skip", "skipped", commit).dump() << "\n"
      << record("p_fail", "failed", commit).dump() << "\n"
      << record("p_old", "ok", "0000000").dump() << "\n"
      << R"({"problem_str": "p_torn", "kern)";
  }
  const auto k = [&](const char* p) { return resume_key(p, "mha.naive.serial", 1, 1, commit, build_info().flags); };
  const ResumeScan plain = scan_for_resume(dir / "r.jsonl", false);
  EXPECT_EQ(plain.records, 4u);
  EXPECT_EQ(plain.other_build, 1u);
  EXPECT_EQ(plain.done, (std::set<std::string>{k("p_ok"), k("p_skip"), k("p_fail")}));
  ASSERT_EQ(plain.warnings.size(), 1u);
  EXPECT_NE(plain.warnings[0].find("r.jsonl:5: torn last line"), std::string::npos) << plain.warnings[0];
  const ResumeScan retry = scan_for_resume(dir / "r.jsonl", true);
  EXPECT_EQ(retry.done, (std::set<std::string>{k("p_ok"), k("p_skip")}));
  EXPECT_EQ(retry.failed_to_retry, 1u);
  EXPECT_TRUE(scan_for_resume(dir / "missing.jsonl", false).done.empty());
}

TEST(SweepResume, RecordKeyNeedsEveryField) {
  nlohmann::json r = record("p", "ok", "abc");
  EXPECT_TRUE(record_key(r));
  r.erase("ranks");
  EXPECT_FALSE(record_key(r));
  EXPECT_FALSE(record_key(nlohmann::json::object()));
}

}  // namespace
