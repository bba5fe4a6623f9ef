// `attnbench sweep` as users drive it: the quick preset end to end, resume after a crash, Ctrl-C, the
// per-case timeout, a crashing kernel, the memory refusal and bad options.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "results_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using attnbench::test_support::CommandResult;
using attnbench::test_support::shell_quote;
using attnbench::test_support::slurp;
using attnbench::test_support::TempDir;

namespace {

// Short measurements: these tests check the sweep's behaviour, not speed.
constexpr const char* kShort = " --warmup 0 --min-reps 2 --min-time 0 --max-time 0.02";
// Four small cases: two problems, two kernels.
constexpr const char* kFour =
    " --kernel mha.naive.serial,mha.blocked.serial --problem b1_h2_sq33_d16 --problem b2_h2_sq17_d16_causal";

class SweepCli : public ::testing::Test {
 protected:
  CommandResult sweep(const std::string& args, const std::string& env = "") {
    return test_support::run_command(env + " " + std::string(ATTNBENCH_EXE) + " sweep " + args, dir_.path());
  }
  std::vector<nlohmann::json> records(const fs::path& file, std::vector<std::string>* warnings = nullptr) {
    return read_results(file, warnings);
  }
  fs::path out() const { return dir_ / "out.jsonl"; }
  std::string out_arg() const { return " --out " + shell_quote(out().string()); }

  TempDir dir_{"sweep-cli"};
};

std::string key(const nlohmann::json& r) { return r["problem_str"].get<std::string>() + " " + r["kernel"].get<std::string>(); }

TEST_F(SweepCli, QuickPresetEndToEnd) {
  const CommandResult r = sweep("--preset quick --warmup 0 --min-reps 1 --min-time 0 --max-time 0.005" + out_arg());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_GT(all.size(), 100u);
  std::set<std::string> families, keys;
  for (const nlohmann::json& rec : all) {
    EXPECT_TRUE(rec["status"] == "ok" || rec["status"] == "skipped") << rec.dump();
    EXPECT_EQ(rec["sweep"]["preset"], "quick");
    EXPECT_EQ(rec["sweep"]["cases"], all.size());
    if (rec["status"] == "ok") {
      EXPECT_TRUE(rec["check"]["passed"].get<bool>()) << key(rec);  // checked by default
    }
    families.insert(rec["family"].get<std::string>());
    keys.insert(key(rec) + " " + rec["threads"].dump());
  }
  EXPECT_EQ(keys.size(), all.size()) << "a case was recorded twice";
  EXPECT_EQ(families, (std::set<std::string>{"attention", "cnn", "rnn"}));
  // Not a terminal: one line per case, then the summary.
  EXPECT_NE(r.out.find("/" + std::to_string(all.size()) + "] ok "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sweep done"), std::string::npos) << r.out;
}

TEST_F(SweepCli, ResumeAfterATornLastLineRunsOnlyTheMissingCases) {
  ASSERT_EQ(sweep(std::string(kFour) + kShort + out_arg()).code, 0);
  // Simulate a crash: keep two records and half of the third.
  std::ifstream in(out());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  {
    std::ofstream cut(out(), std::ios::trunc | std::ios::binary);
    cut << lines[0] << "\n" << lines[1] << "\n" << lines[2].substr(0, lines[2].size() / 2);
  }
  const CommandResult r = sweep(std::string(kFour) + kShort + out_arg() + " --resume");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("torn last line"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("2 cases to run (2 of 4 already in the file)"), std::string::npos) << r.out;
  std::vector<std::string> warnings;
  const std::vector<nlohmann::json> all = records(out(), &warnings);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(warnings.size(), 1u);  // the torn line, now terminated, stays and is skipped by readers
  std::set<std::string> keys;
  for (const nlohmann::json& rec : all) keys.insert(key(rec));
  EXPECT_EQ(keys.size(), 4u);
  // Complete: a further resume runs nothing.
  const CommandResult again = sweep(std::string(kFour) + kShort + out_arg() + " --resume");
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(records(out()).size(), 4u);
}

TEST_F(SweepCli, RetryFailedRunsFailedCasesAgain) {
  ASSERT_EQ(sweep(std::string(kFour) + kShort + out_arg(), "ATTNBENCH_SWEEP_TEST_CRASH_AT=2").code, 1);
  const CommandResult r = sweep(std::string(kFour) + kShort + out_arg() + " --resume --retry-failed");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[2]["status"], "failed");
  EXPECT_EQ(all[4]["status"], "ok");
  EXPECT_EQ(all[4]["sweep"]["case"], 2);
  EXPECT_TRUE(all[4]["sweep"]["rerun"].get<bool>());  // it replaces the failed record (docs/RESULTS.md)
  EXPECT_FALSE(all[3]["sweep"]["rerun"].get<bool>());
  // compare reads the case as the retry found it, not as failed (the worst status of both records).
  const CommandResult same = test_support::run_command(
      std::string(ATTNBENCH_EXE) + " compare " + shell_quote(out().string()) + " " + shell_quote(out().string()),
      dir_.path());
  EXPECT_EQ(same.code, 0) << same.out << same.err;
}

TEST_F(SweepCli, CrashingKernelGivesAFailedRecordAndTheSweepGoesOn) {
  const CommandResult r = sweep(std::string(kFour) + kShort + out_arg(), "ATTNBENCH_SWEEP_TEST_CRASH_AT=1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1]["status"], "failed");
  EXPECT_EQ(all[1]["reason"], "crashed: signal 11 (SIGSEGV)");
  EXPECT_TRUE(all[1]["time"].is_null());
  for (int i : {0, 2, 3}) EXPECT_EQ(all[i]["status"], "ok") << all[i].dump();
}

TEST_F(SweepCli, CaseOverrunningTheTimeoutIsFailedAndTheSweepGoesOn) {
  // Seconds of naive attention, then a tiny case.
  const CommandResult r = sweep("--kernel mha.naive.serial --problem b1_h16_sq4096_d64 --problem b1_h2_sq33_d16 "
                                "--no-check --timeout 0.3" + std::string(kShort) + out_arg());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["status"], "failed");
  EXPECT_EQ(all[0]["reason"].get<std::string>().rfind("timeout", 0), 0u) << all[0]["reason"];
  EXPECT_EQ(all[0]["problem_str"], "b1_h16_sq4096_skv4096_d64");
  EXPECT_EQ(all[1]["status"], "ok");
}

TEST_F(SweepCli, InterleaveMeasuresEachProblemsKernelsSideBySideFromOneSeed) {
  const CommandResult r = sweep(std::string(kFour) + kShort + " --interleave --interleave-seed 7" + out_arg());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("4 cases to run in 2 groups measured side by side (--interleave-seed 7)"), std::string::npos)
      << r.out;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 4u);
  for (const nlohmann::json& rec : all) {
    ASSERT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_EQ(rec["time"]["interleave"]["seed"], 7) << key(rec);
    EXPECT_EQ(rec["time"]["interleave"]["kernels"], 2) << key(rec);  // a group: one problem's two kernels
    EXPECT_FALSE(rec["sweep"]["rerun"].get<bool>());
  }
  EXPECT_EQ(all[0]["problem_str"], all[1]["problem_str"]);
  EXPECT_EQ(all[2]["problem_str"], all[3]["problem_str"]);
  EXPECT_NE(all[0]["problem_str"], all[2]["problem_str"]);
}

TEST_F(SweepCli, InterleaveCrashFailsEveryUnfinishedCaseOfItsGroupAndTheSweepGoesOn) {
  const CommandResult r =
      sweep(std::string(kFour) + kShort + " --interleave" + out_arg(), "ATTNBENCH_SWEEP_TEST_CRASH_AT=1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 4u);
  for (int i : {0, 1}) {
    EXPECT_EQ(all[i]["sweep"]["case"], i);
    EXPECT_EQ(all[i]["status"], "failed");
    EXPECT_EQ(all[i]["reason"], "crashed: signal 11 (SIGSEGV)");
  }
  for (int i : {2, 3}) EXPECT_EQ(all[i]["status"], "ok") << all[i].dump();  // a fresh worker for the next group
}

TEST_F(SweepCli, InterleaveResumeRunsAHalfDoneGroupWholeAndMarksTheRerun) {
  const std::string args = std::string(kFour) + kShort + " --interleave" + out_arg();
  ASSERT_EQ(sweep(args).code, 0);
  // Killed between the records of the second group: its first case is in the file, its second not.
  std::ifstream in(out());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  std::ofstream(out(), std::ios::trunc | std::ios::binary) << lines[0] << "\n" << lines[1] << "\n" << lines[2] << "\n";
  const CommandResult r = sweep(args + " --resume");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 cases to run (2 of 4 already in the file)"), std::string::npos) << r.out;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3]["sweep"]["case"], 2);  // run again, beside case 3
  EXPECT_TRUE(all[3]["sweep"]["rerun"].get<bool>());  // so compare and report use it instead of record 3
  EXPECT_EQ(all[4]["sweep"]["case"], 3);
  EXPECT_FALSE(all[4]["sweep"]["rerun"].get<bool>());
  EXPECT_EQ(all[3]["time"]["interleave"]["kernels"], 2);
  // Complete now: nothing runs again.
  const CommandResult again = sweep(args + " --resume");
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(records(out()).size(), 5u);
}

TEST_F(SweepCli, ProblemBeyondMemoryIsSkippedNotRun) {
  const std::string args = "--kernel mha.naive.serial,mha.blocked.serial --problem b64_h64_sq65536_d128";
  const CommandResult plan = sweep(args + " --dry-run" + out_arg());
  EXPECT_EQ(plan.code, 0);
  EXPECT_NE(plan.out.find("skip: needs"), std::string::npos) << plan.out;
  EXPECT_FALSE(fs::exists(out())) << "a dry run writes nothing";
  const CommandResult r = sweep(args + out_arg());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 2u);
  for (const nlohmann::json& rec : all) {
    EXPECT_EQ(rec["status"], "skipped");
    EXPECT_NE(rec["reason"].get<std::string>().find("is available"), std::string::npos) << rec["reason"];
  }
}

class SweepInterrupt : public SweepCli, public ::testing::WithParamInterface<int> {};

TEST_P(SweepInterrupt, FinishesTheCaseInFlightPrintsTheResumeCommandAndExits128PlusSignal) {
  const std::string args = std::string(" --kernel mha.naive.serial,mha.blocked.serial --problem b1_h2_sq33_d16 "
                                       "--problem b1_h2_sq40_d16 --problem b1_h2_sq48_d16 --warmup 0 --min-time 0.3 "
                                       "--max-time 0.3") + out_arg();
  const std::string command = "exec " + std::string(ATTNBENCH_EXE) + " sweep" + args + " >" +
                              shell_quote((dir_ / "o.log").string()) + " 2>" + shell_quote((dir_ / "e.log").string());
  // Its own process group, as a shell job: Ctrl-C at a terminal signals the whole group.
  const pid_t shell = test_support::spawn_shell(command, /*own_group=*/true);
  ASSERT_GT(shell, 0);
  test_support::wait_until([&] { return test_support::has_a_line(out()); }, std::chrono::seconds(60));
  ASSERT_EQ(::kill(-shell, GetParam()), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(shell, &status, 0), shell);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + GetParam()) << slurp(dir_ / "o.log") << slurp(dir_ / "e.log");
  const std::string log = slurp(dir_ / "o.log");
  const std::size_t at = log.find("resume with:\n  ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string resume = log.substr(at + 15, log.find('\n', at + 15) - at - 15);
  EXPECT_NE(resume.find("--resume"), std::string::npos) << resume;
  std::vector<std::string> warnings;
  const std::size_t before = records(out(), &warnings).size();
  EXPECT_TRUE(warnings.empty()) << warnings.front();  // every line whole
  EXPECT_GE(before, 1u);
  EXPECT_LT(before, 6u);
  const CommandResult r = test_support::run_command(resume, dir_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::set<std::string> keys;
  for (const nlohmann::json& rec : records(out())) keys.insert(key(rec));
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_EQ(records(out()).size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(CtrlCAndTerm, SweepInterrupt, ::testing::Values(SIGINT, SIGTERM));

/// How many processes have `text` in their command line.
int processes_with(const std::string& text) { return int(test_support::pids_with(text).size()); }

TEST_F(SweepCli, KillMinusNineLosesAtMostTheCaseInFlightAndTakesTheWorkerWithIt) {
  const std::string args = std::string(" sweep --kernel mha.naive.serial,mha.blocked.serial --problem b1_h2_sq33_d16 "
                                       "--problem b1_h2_sq40_d16 --problem b1_h2_sq48_d16 --warmup 0 --min-time 0.3 "
                                       "--max-time 0.3") + out_arg();
  // Case 1 hangs in the worker: without PR_SET_PDEATHSIG the worker would outlive the sweep there.
  const std::string command =
      "ATTNBENCH_SWEEP_TEST_HANG_AT=1 exec " + std::string(ATTNBENCH_EXE) + args + " >/dev/null 2>&1";
  const pid_t sweep_pid = test_support::spawn_shell(command);
  ASSERT_GT(sweep_pid, 0);
  test_support::wait_until([&] { return test_support::has_a_line(out()); }, std::chrono::seconds(60));
  // The worker (the same arguments and --worker) has case 1 and hangs in it.
  const std::string worker = out().string() + " --worker";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(processes_with(worker), 1);
  ASSERT_EQ(::kill(sweep_pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(sweep_pid, &status, 0), sweep_pid);
  // It dies with its supervisor.
  for (int i = 0; i < 100 && processes_with(worker) > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(processes_with(worker), 0) << "the worker outlived the killed sweep";
  std::vector<std::string> warnings;
  const std::size_t kept = records(out(), &warnings).size();
  EXPECT_GE(kept, 1u);
  const CommandResult r = test_support::run_command(std::string(ATTNBENCH_EXE) + args + " --resume", dir_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::set<std::string> keys;
  for (const nlohmann::json& rec : records(out())) keys.insert(key(rec));
  EXPECT_EQ(keys.size(), 6u);
  EXPECT_EQ(records(out()).size(), 6u);
}

using test_support::kMpiEnv;
const std::string kMpiSweep = " " ATTNBENCH_EXE " sweep --threads 1 --kernel mha.tp.mpi,mha.blocked.serial "
                              "--problem b1_h2_sq33_d16 --problem b1_h4_sq17_d8";

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

TEST_F(SweepCli, UnderMpirunWithOneRankTheCasesRunInProcess) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun on PATH";
  // A forked worker would start MPI as a process the launcher does not know.
  const CommandResult r = test_support::run_command(kMpiEnv + "mpirun -n 1" + kMpiSweep + kShort + out_arg(), dir_.path());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(records(out()).size(), 4u);
}

TEST_F(SweepCli, UnderMpirunATimeoutWritesItsRecordAndEndsTheJobWithTheResumeCommand) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun on PATH";
  const std::string mpirun = kMpiEnv + "mpirun -n 2" + kMpiSweep + kShort + out_arg();
  const CommandResult hung = test_support::run_command("ATTNBENCH_SWEEP_TEST_HANG_AT=1 " + mpirun + " --timeout 1",
                                                       dir_.path());
  EXPECT_NE(hung.code, 0);
  EXPECT_NE(hung.err.find("--resume"), std::string::npos) << hung.err;
  const std::vector<nlohmann::json> first = records(out());
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]["status"], "ok");
  EXPECT_EQ(first[0]["ranks"], 2);  // the mpi kernel ran on both ranks
  EXPECT_EQ(first[1]["status"], "failed");
  EXPECT_EQ(first[1]["reason"], "timeout after 1 s (--timeout)");
  const CommandResult rest = test_support::run_command(mpirun + " --timeout 60 --resume", dir_.path());
  EXPECT_EQ(rest.code, 0) << rest.out << rest.err;
  EXPECT_EQ(records(out()).size(), 4u);
}

TEST_F(SweepCli, UnderMpirunInterleaveMeasuresAGroupSideBySideOnEveryRank) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun on PATH";
  const CommandResult r = test_support::run_command(
      kMpiEnv + "mpirun -n 2" + kMpiSweep + kShort + " --interleave --interleave-seed 5" + out_arg(), dir_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 4u);
  for (const nlohmann::json& rec : all) {
    ASSERT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_EQ(rec["time"]["interleave"]["seed"], 5);
    EXPECT_EQ(rec["time"]["interleave"]["kernels"], 2);
    EXPECT_EQ(rec["ranks"], rec["kernel"] == "mha.tp.mpi" ? 2 : 1) << key(rec);
  }
}

TEST_F(SweepCli, UnderMpirunTheRanksAxisRunsMpiKernelsOnTheFirstRanks) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun on PATH";
  const std::string mpirun = kMpiEnv + "mpirun -n 3 --oversubscribe " ATTNBENCH_EXE
                             " sweep --threads 1 --kernel mha.tp.mpi,mha.blocked.serial --problem b1_h4_sq17_d8 "
                             "--ranks 1,2,4" + std::string(kShort) + out_arg();
  const CommandResult r = test_support::run_command(mpirun, dir_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // 4 ranks do not fit the launch: left out with a note, not an error in the middle of the sweep.
  EXPECT_NE(r.err.find("--ranks 4 is more than the 3 rank(s) launched"), std::string::npos) << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 3u);
  std::vector<std::string> seen;
  for (const nlohmann::json& rec : all) {
    EXPECT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_TRUE(rec["check"]["passed"].get<bool>()) << key(rec);
    EXPECT_EQ(rec["provenance"]["ranks"], 3);  // the launch
    seen.push_back(rec["kernel"].get<std::string>() + " " + rec["ranks"].dump());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"mha.tp.mpi 1", "mha.tp.mpi 2", "mha.blocked.serial 1"}));
  EXPECT_EQ(all[1]["rank_time"].is_object(), true);  // timed over its 2 ranks
  // Resume knows each case by its ranks.
  const CommandResult again = test_support::run_command(mpirun + " --resume", dir_.path());
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 cases to run (3 of 3 already in the file)"), std::string::npos) << again.out;
}

TEST_F(SweepCli, UnderMpirunTheDefaultThreadsShareTheHostsCpusAmongItsRanks) {
  if (!have_mpirun()) GTEST_SKIP() << "no mpirun on PATH";
  const CommandResult r = test_support::run_command(
      kMpiEnv + "mpirun -n 2 " ATTNBENCH_EXE " sweep --kernel mha.blocked.omp --problem b1_h2_sq33_d16" +
          std::string(kShort) + out_arg(),
      dir_.path());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const int shared = std::max(1, int(std::thread::hardware_concurrency()) / 2);
  EXPECT_NE(r.out.find("threads: " + std::to_string(shared) + " per rank (no --threads: this host's logical CPUs "
                       "shared by its 2 ranks)"), std::string::npos) << r.out;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["threads"], shared);
  EXPECT_TRUE(all[0]["sweep"]["default_threads"].get<bool>());
}

TEST_F(SweepCli, PinPlacesEachThreadCountAfresh) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 CPUs";
  const CommandResult r = sweep("--kernel mha.blocked.omp --problem b1_h2_sq33_d16 --threads 1,2 --pin compact" +
                                std::string(kShort) + out_arg());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<nlohmann::json> all = records(out());
  ASSERT_EQ(all.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const nlohmann::json& pinning = all[i]["provenance"]["pinning"];
    EXPECT_TRUE(pinning["applied"].get<bool>()) << pinning;  // the 1-thread placement did not confine the 2-thread one
    EXPECT_EQ(pinning["cpus"].size(), i + 1) << pinning;
  }
}

struct BadSweep {
  const char* args;
  const char* expected;  ///< substring of the message
};

class SweepBadInput : public SweepCli, public ::testing::WithParamInterface<BadSweep> {};

TEST_P(SweepBadInput, ExitsTwoWithOneLine) {
  const CommandResult r = sweep(std::string(kFour) + " " + GetParam().args);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

const BadSweep kBadSweeps[] = {
    {"--timeout 0", "--timeout"},
    {"--timeout soon", "--timeout"},
    {"--resume", "--resume needs --out"},
    {"--out x.jsonl --retry-failed", "--retry-failed needs --resume"},
    {"--quiet --verbose", "--quiet and --verbose"},
    {"--seed -1", "--seed"},
    {"--out /proc/nonexistent/dir/x.jsonl", "--out"},
    {"--no-such-option", "no-such-option"},
    {"--pin sideways", "--pin"},
    {"--interleave-seed 3", "--interleave-seed without --interleave"},
};
INSTANTIATE_TEST_SUITE_P(All, SweepBadInput, ::testing::ValuesIn(kBadSweeps));

}  // namespace
