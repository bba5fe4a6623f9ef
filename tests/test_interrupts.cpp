// SIGINT and SIGTERM, once and twice, at `sweep`, `run` and `profile` (issue 8, Faults): the case in
// flight is finished and recorded (one signal) or abandoned at once (a second one), every line of the
// results file stays whole, and the exit status is 128 + signal. A single signal at a sweep is covered
// by test_sweep_cli's SweepInterrupt.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "results_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using namespace attnbench::test_support;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

/// Whether process `pid` has a handler installed for `signal` (SigCgt in /proc/PID/status): it is past
/// start-up, where a signal would still kill it outright.
bool catches(pid_t pid, int signal) {
  std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("SigCgt:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (signal - 1)) & 1;
  return false;
}

/// The exit status of `pid` once it ends within `limit`, else nullopt (then it is killed and reaped).
std::optional<int> exit_within(pid_t pid, milliseconds limit) {
  int status = 0;
  const bool ended = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, limit);
  if (!ended) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return std::nullopt;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

class Interrupts : public ::testing::TestWithParam<int> {
 protected:
  /// Starts `args` of attnbench as a shell job (its own process group: a terminal's Ctrl-C reaches all of it).
  pid_t start(const std::string& args, const std::string& env = "") {
    const pid_t pid = spawn_shell(env + " exec " + std::string(ATTNBENCH_EXE) + " " + args + " >" +
                                      shell_quote((dir_ / "o.log").string()) + " 2>" +
                                      shell_quote((dir_ / "e.log").string()),
                                  /*own_group=*/true);
    EXPECT_GT(pid, 0);
    return pid;
  }
  /// Waits until `pid` has its handlers and `out` its first record.
  void wait_for_first_record(pid_t pid) {
    ASSERT_TRUE(wait_until([&] { return catches(pid, GetParam()) && has_a_line(out()); }, seconds(60)))
        << slurp(dir_ / "e.log");
  }
  /// The records of out(), expecting every line whole.
  std::vector<nlohmann::json> whole_records() {
    std::vector<std::string> warnings;
    std::vector<nlohmann::json> all = read_results(out(), &warnings);
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    return all;
  }
  std::string log() const { return slurp(dir_ / "o.log") + slurp(dir_ / "e.log"); }
  fs::path out() const { return dir_ / "out.jsonl"; }
  std::string out_arg() const { return " --out " + shell_quote(out().string()); }

  TempDir dir_{"interrupts"};
};

// Six cases of at least 0.3 s each.
constexpr const char* kSixCases =
    " --kernel mha.naive.serial,mha.blocked.serial --problem b1_h2_sq33_d16 --problem b1_h2_sq40_d16 "
    "--problem b1_h2_sq48_d16 --warmup 0 --min-time 0.3 --max-time 0.3";
// A tiny case, then one of naive attention that takes tens of seconds.
constexpr const char* kThenALongCase = " --kernel mha.naive.serial --problem b1_h2_sq33_d16 --problem b1_h16_sq4096_d64 "
                                       "--warmup 0 --min-reps 1 --min-time 0 --max-time 0.01";

using SweepInterruptTwice = Interrupts;

TEST_P(SweepInterruptTwice, AbandonsTheCaseInFlightAtOnceAndTheResumeRunsIt) {
  const std::string args = std::string("sweep") + kSixCases + out_arg();
  // Case 1 never ends: the first signal waits for it, the second must not.
  const pid_t sweep = start(args, "ATTNBENCH_SWEEP_TEST_HANG_AT=1");
  wait_for_first_record(sweep);
  std::this_thread::sleep_for(milliseconds(500));  // into case 1 (a signal between cases stops before the next)
  ASSERT_EQ(::kill(-sweep, GetParam()), 0);
  std::this_thread::sleep_for(milliseconds(600));
  int status = 0;
  ASSERT_EQ(::waitpid(sweep, &status, WNOHANG), 0) << "one signal must let the case in flight finish\n" << log();
  ASSERT_EQ(::kill(-sweep, GetParam()), 0);
  EXPECT_EQ(exit_within(sweep, seconds(10)), 128 + GetParam()) << log();
  const std::string printed = slurp(dir_ / "o.log");
  EXPECT_NE(printed.find("sweep interrupted"), std::string::npos) << printed;
  EXPECT_NE(printed.find("5 cases not run; resume with:"), std::string::npos) << printed;
  EXPECT_EQ(whole_records().size(), 1u) << "the abandoned case has no record";
  EXPECT_TRUE(pids_with(out().string() + " --worker").empty()) << "the worker outlived the sweep";
  const CommandResult resumed = run_command(std::string(ATTNBENCH_EXE) + " " + args + " --resume", dir_.path());
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(whole_records().size(), 6u);
}

using RunInterrupt = Interrupts;

TEST_P(RunInterrupt, FinishesAndRecordsTheCaseInFlightThenExits128PlusSignal) {
  const pid_t run = start(std::string("run") + kSixCases + out_arg());
  wait_for_first_record(run);
  ASSERT_EQ(::kill(-run, GetParam()), 0);
  EXPECT_EQ(exit_within(run, seconds(30)), 128 + GetParam()) << log();
  // The case in flight (if the signal came during one, not between two) is finished and recorded.
  const std::size_t kept = whole_records().size();
  EXPECT_GE(kept, 1u);
  EXPECT_LT(kept, 6u) << "the run went on after the signal";
  const std::string err = slurp(dir_ / "e.log");
  EXPECT_NE(err.find("interrupted: finishing the case in flight"), std::string::npos) << err;
  EXPECT_NE(err.find("interrupted: " + std::to_string(kept) + " of 6 cases done"), std::string::npos) << err;
}

TEST_P(RunInterrupt, ASecondSignalStopsAtOnceAndLeavesEveryLineWhole) {
  const pid_t run = start(std::string("run") + kThenALongCase + out_arg());
  wait_for_first_record(run);
  std::this_thread::sleep_for(milliseconds(200));  // into the long case
  ASSERT_EQ(::kill(-run, GetParam()), 0);
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_EQ(::kill(-run, GetParam()), 0);
  EXPECT_EQ(exit_within(run, seconds(5)), 128 + GetParam()) << log();
  EXPECT_NE(slurp(dir_ / "e.log").find("interrupted again: stopped at once"), std::string::npos) << log();
  EXPECT_EQ(whole_records().size(), 1u);
}

using ProfileInterrupt = Interrupts;

TEST_P(ProfileInterrupt, OneSignalFinishesTheProfileAndWritesItsOutputs) {
  const fs::path trace = dir_ / "t.json";
  const pid_t profile = start("profile --kernel mha.blocked.serial --problem b1_h2_sq33_d16 --warmup 0 --min-time 1 "
                              "--max-time 1 --profile-reps 2 --trace " + shell_quote(trace.string()) + out_arg());
  ASSERT_TRUE(wait_until([&] { return catches(profile, GetParam()); }, seconds(60)));
  ASSERT_EQ(::kill(-profile, GetParam()), 0);
  EXPECT_EQ(exit_within(profile, seconds(30)), 128 + GetParam()) << log();
  EXPECT_EQ(whole_records().size(), 1u);
  EXPECT_TRUE(nlohmann::json::accept(slurp(trace))) << "the trace is whole";
}

TEST_P(ProfileInterrupt, ASecondSignalStopsAtOnceAndKeepsAnEarlierTrace) {
  const fs::path trace = dir_ / "t.json";
  std::ofstream(trace) << "{\"traceEvents\": [], \"earlier\": true}";
  const pid_t profile = start("profile --kernel mha.naive.serial --problem b1_h16_sq4096_d64 --warmup 0 --min-reps 1 "
                              "--min-time 0 --profile-reps 1 --trace " + shell_quote(trace.string()) + out_arg());
  ASSERT_TRUE(wait_until([&] { return catches(profile, GetParam()); }, seconds(60)));
  ASSERT_EQ(::kill(-profile, GetParam()), 0);
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_EQ(::kill(-profile, GetParam()), 0);
  EXPECT_EQ(exit_within(profile, seconds(5)), 128 + GetParam()) << log();
  EXPECT_EQ(slurp(trace), "{\"traceEvents\": [], \"earlier\": true}") << "the earlier trace was overwritten";
  EXPECT_TRUE(whole_records().empty());
}

std::string signal_name(const ::testing::TestParamInfo<int>& info) { return info.param == SIGINT ? "SIGINT" : "SIGTERM"; }

INSTANTIATE_TEST_SUITE_P(IntAndTerm, SweepInterruptTwice, ::testing::Values(SIGINT, SIGTERM), signal_name);
INSTANTIATE_TEST_SUITE_P(IntAndTerm, RunInterrupt, ::testing::Values(SIGINT, SIGTERM), signal_name);
INSTANTIATE_TEST_SUITE_P(IntAndTerm, ProfileInterrupt, ::testing::Values(SIGINT, SIGTERM), signal_name);

}  // namespace
