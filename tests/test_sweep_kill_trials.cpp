// SIGKILL at random points of a sweep, then --resume to the end, over many trials (issue 8, Faults).
//
// Each trial starts the same small sweep (a subset of the quick preset, a few dozen cases) and kills it
// after a random delay, one of four ways: the supervisor alone (its worker must die with it), the whole
// process group (as a batch system's kill does), the worker first and then the supervisor (a crash in
// a case, then the sweep), or the supervisor with its last line then torn in half (a kill mid-write,
// which a single small write(2) makes too rare to wait for). Then `--resume` runs to the end. After
// every trial the file must hold every case of the grid exactly once (key: problem, kernel, threads,
// ranks), every line but a torn last one must parse, the torn line must not count as a record, and the
// bytes written before the kill must still be the file's first bytes (nothing completed is lost).
//
// The delays come from a seeded generator; the seed is printed. To replay or run more trials:
//   ATTNBENCH_KILL_TRIALS_SEED=<seed> ATTNBENCH_KILL_TRIALS=<count> test_sweep_kill_trials
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "results_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;
using namespace attnbench::test_support;

namespace {

// 12 problems of the quick preset (prefill and decode, three masks, with and without projections) by
// two attention kernels: 24 cases. One thread, tiny measurements: the sweep's bookkeeping is under
// test, not the kernels.
const std::string kSweep = std::string(ATTNBENCH_EXE) +
                           " sweep --preset quick --kernel mha.naive.serial,mha.blocked.serial "
                           "--threads 1 --warmup 0 --min-reps 1 --min-time 0 --max-time 0.002";

enum class KillMode { supervisor, process_group, worker_then_supervisor, torn_write };
constexpr KillMode kModes[] = {KillMode::supervisor, KillMode::process_group, KillMode::worker_then_supervisor,
                               KillMode::torn_write};

const char* to_string(KillMode m) {
  switch (m) {
    case KillMode::supervisor: return "supervisor";
    case KillMode::process_group: return "process group";
    case KillMode::worker_then_supervisor: return "worker, then supervisor";
    case KillMode::torn_write: return "supervisor, last line torn";
  }
  return "?";
}

/// A record's identity in the grid: problem, kernel, threads, ranks.
std::string key_of(const nlohmann::json& r) {
  return r.at("problem_str").get<std::string>() + " " + r.at("kernel").get<std::string>() + " t" +
         r.at("threads").dump() + " r" + r.at("ranks").dump();
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

/// The lines of `text`; `torn` is set when the last one has no final newline.
std::vector<std::string> split_lines(const std::string& text, bool& torn) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  torn = start < text.size();
  if (torn) lines.push_back(text.substr(start));
  return lines;
}

struct Tally {
  int trials = 0, lost = 0, duplicated = 0, torn_lines = 0, killed_before_first_record = 0, finished_before_kill = 0;
  int kept_before_kill = 0;  ///< records on disk when the sweep was killed, over all trials
};

class SweepKillTrials : public ::testing::Test {
 protected:
  std::string sweep_command(const fs::path& out) const { return kSweep + " --out " + shell_quote(out.string()); }

  /// Waits for `pid` and returns its wait status.
  static int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  }

  /// One trial: start, kill after `delay_s` as `mode`, check the file, resume, check again.
  void trial(int n, KillMode mode, double delay_s, double second_delay_s, Tally& tally) {
    SCOPED_TRACE("trial " + std::to_string(n) + ": kill " + to_string(mode) + " after " + std::to_string(delay_s) + " s");
    const fs::path out = dir_ / ("trial-" + std::to_string(n) + ".jsonl");
    const std::string worker_tag = out.string() + " --worker";
    const pid_t sweep = spawn_shell("exec " + sweep_command(out) + " >/dev/null 2>&1", /*own_group=*/true);
    ASSERT_GT(sweep, 0);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay_s));
    switch (mode) {
      case KillMode::supervisor:
      case KillMode::torn_write: ::kill(sweep, SIGKILL); break;
      case KillMode::process_group: ::kill(-sweep, SIGKILL); break;
      case KillMode::worker_then_supervisor:
        for (const pid_t worker : pids_with(worker_tag)) ::kill(worker, SIGKILL);
        std::this_thread::sleep_for(std::chrono::duration<double>(second_delay_s));
        ::kill(sweep, SIGKILL);
        break;
    }
    const int status = reap(sweep);
    if (WIFEXITED(status)) ++tally.finished_before_kill;  // the kill came after the last case: still checked
    // The worker dies with its supervisor (PR_SET_PDEATHSIG), however the supervisor ended.
    EXPECT_TRUE(wait_until([&] { return pids_with(worker_tag).empty(); }, std::chrono::seconds(5)))
        << "a worker outlived the killed sweep";

    std::string before = slurp(out);
    bool torn = false;
    std::vector<std::string> lines = split_lines(before, torn);
    if (mode == KillMode::torn_write && !lines.empty() && !torn) {
      // As if the kill had cut the last write in half: keep its first half, without the newline.
      const std::string half = lines.back().substr(0, lines.back().size() / 2);
      before.resize(before.size() - lines.back().size() - 1);
      before += half;
      lines.back() = half;
      torn = !half.empty();
      std::ofstream(out, std::ios::binary | std::ios::trunc) << before;
    }
    tally.torn_lines += torn;
    // Every line but a torn last one is a whole record; the torn one is not one.
    std::map<std::string, int> kept;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const nlohmann::json r = nlohmann::json::parse(lines[i], nullptr, false);
      if (torn && i + 1 == lines.size()) {
        EXPECT_TRUE(r.is_discarded()) << "a torn line parsed as a record: " << lines[i];
        continue;
      }
      ASSERT_TRUE(r.is_object()) << "line " << i + 1 << " is not a whole record: " << lines[i];
      ++kept[key_of(r)];
    }
    tally.kept_before_kill += int(lines.size()) - int(torn);
    tally.killed_before_first_record += kept.empty();

    const CommandResult resumed = run_command(sweep_command(out) + " --resume", dir_.path());
    EXPECT_EQ(resumed.code, 0) << resumed.out << resumed.err;

    const std::string after = slurp(out);
    const bool prefix_kept = after.compare(0, before.size(), before) == 0;
    EXPECT_TRUE(prefix_kept) << "the resume rewrote what was on disk before the kill";
    std::vector<std::string> warnings;
    const std::vector<nlohmann::json> records = read_results(out, &warnings);
    EXPECT_EQ(warnings.size(), std::size_t(torn)) << (warnings.empty() ? "" : warnings.front());
    std::map<std::string, int> count;
    for (const nlohmann::json& r : records) ++count[key_of(r)];
    for (const auto& [key, times] : count) EXPECT_TRUE(grid_.count(key)) << "a record outside the grid: " << key;
    int lost = 0, duplicated = 0;
    for (const std::string& key : grid_) {
      const int times = count.count(key) ? count[key] : 0;
      lost += times == 0 || (kept.count(key) && !prefix_kept);
      duplicated += times > 1 ? times - 1 : 0;
    }
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    tally.lost += lost;
    tally.duplicated += duplicated;
    ++tally.trials;
    std::printf("trial %2d: kill %-27s after %.3f s: %2d records on disk%s; resume exit %d; lost %d, duplicated %d\n", n,
                to_string(mode), delay_s, int(lines.size()) - int(torn), torn ? " + 1 torn line" : "", resumed.code,
                lost, duplicated);
  }

  TempDir dir_{"sweep-kill"};
  std::set<std::string> grid_;  ///< every case's key, from an uninterrupted run
};

TEST_F(SweepKillTrials, EveryCaseExactlyOnceAfterRandomKillsAndResume) {
  const std::uint64_t seed = env_number("ATTNBENCH_KILL_TRIALS_SEED", std::random_device{}());
  const int trials = int(env_number("ATTNBENCH_KILL_TRIALS", 20));
  std::printf("seed %llu (replay: ATTNBENCH_KILL_TRIALS_SEED=%llu), %d trials\n", (unsigned long long)seed,
              (unsigned long long)seed, trials);
  RecordProperty("seed", std::to_string(seed));

  // An uninterrupted run gives the grid and how long a whole sweep takes: the kills fall within it.
  const auto start = std::chrono::steady_clock::now();
  const CommandResult whole = run_command(sweep_command(dir_ / "whole.jsonl"), dir_.path());
  const double whole_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(whole.code, 0) << whole.out << whole.err;
  const std::vector<nlohmann::json> all = read_results(dir_ / "whole.jsonl", nullptr);
  for (const nlohmann::json& r : all) grid_.insert(key_of(r));
  ASSERT_GE(all.size(), 24u);
  ASSERT_EQ(grid_.size(), all.size()) << "the grid itself has a case twice";
  ASSERT_EQ(all.front()["sweep"]["cases"], all.size());
  std::printf("grid: %zu cases, a whole sweep %.2f s\n", all.size(), whole_s);

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> delay(0.0, whole_s), second_delay(0.0, 0.2);
  Tally tally;
  for (int n = 0; n < trials && !HasFatalFailure(); ++n) {
    const KillMode mode = kModes[n % std::size(kModes)];
    const double d1 = delay(rng), d2 = second_delay(rng);
    trial(n, mode, d1, d2, tally);
  }
  std::printf("kill/resume trials: %d (%d killed before the first record, %d finished before the kill); records on "
              "disk at the kills: %d; torn last lines: %d; records lost: %d; duplicated: %d\n",
              tally.trials, tally.killed_before_first_record, tally.finished_before_kill, tally.kept_before_kill,
              tally.torn_lines, tally.lost, tally.duplicated);
  EXPECT_EQ(tally.trials, trials);
  EXPECT_EQ(tally.lost, 0);
  EXPECT_EQ(tally.duplicated, 0);
}

}  // namespace
