// Thread pinning: the plan on made-up topologies, and the OpenMP/TBB pools pinned on this machine.
#include <gtest/gtest.h>

#include <omp.h>
#include <sched.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <mutex>
#include <set>
#include <vector>

#include "attnbench/pool_pinning.hpp"
#include "mpi_session.hpp"
#include "thread_pinning.hpp"

namespace attnbench {
namespace {

/// `packages` x `cores` x `smt` CPUs numbered as Linux often does on x86: CPU c + k * cores*packages is
/// the k-th sibling of core c.
std::vector<CpuPlace> topology(int packages, int cores, int smt) {
  std::vector<CpuPlace> places;
  const int per_smt = packages * cores;
  for (int k = 0; k < smt; ++k)
    for (int p = 0; p < packages; ++p)
      for (int c = 0; c < cores; ++c) places.push_back({k * per_smt + p * cores + c, p, c});
  return places;
}

TEST(PinPlan, NoneIsEmpty) {
  const PinPlan plan = plan_pinning(PinMode::none, topology(1, 4, 2), 4);
  EXPECT_TRUE(plan.cpus.empty());
  EXPECT_TRUE(plan.refusal.empty());
}

TEST(PinPlan, CompactFillsACoresSiblingsFirst) {
  // 1 package, 4 cores, 2 siblings: core c holds CPUs c and c + 4.
  EXPECT_EQ(plan_pinning(PinMode::compact, topology(1, 4, 2), 4).cpus, (std::vector<int>{0, 4, 1, 5}));
}

TEST(PinPlan, SpreadPutsOneThreadPerCoreFirst) {
  EXPECT_EQ(plan_pinning(PinMode::spread, topology(1, 4, 2), 4).cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(plan_pinning(PinMode::spread, topology(1, 4, 2), 2).cpus, (std::vector<int>{0, 2}));
  // 2 packages of 2 cores: 2 threads land on different packages.
  EXPECT_EQ(plan_pinning(PinMode::spread, topology(2, 2, 1), 2).cpus, (std::vector<int>{0, 2}));
}

TEST(PinPlan, RanksOnAHostGetDisjointShares) {
  // 2 ranks sharing 4 cores x 2 siblings: whole cores each, no CPU twice.
  const std::vector<CpuPlace> cpus = topology(1, 4, 2);
  const PinPlan first = plan_pinning(PinMode::compact, cpus, 4, 0, 2);
  const PinPlan second = plan_pinning(PinMode::compact, cpus, 4, 1, 2);
  EXPECT_EQ(first.cpus, (std::vector<int>{0, 4, 1, 5}));
  EXPECT_EQ(second.cpus, (std::vector<int>{2, 6, 3, 7}));
  EXPECT_EQ(plan_pinning(PinMode::spread, cpus, 2, 1, 2).cpus, (std::vector<int>{2, 3}));
}

TEST(PinPlan, TooFewCpusIsRefusedWithTheReason) {
  const PinPlan plan = plan_pinning(PinMode::compact, topology(1, 2, 1), 3);
  EXPECT_TRUE(plan.cpus.empty());
  EXPECT_NE(plan.refusal.find("3 threads but 2 CPU(s)"), std::string::npos) << plan.refusal;
  const PinPlan shared = plan_pinning(PinMode::spread, topology(1, 2, 1), 2, 1, 2);
  EXPECT_NE(shared.refusal.find("split among 2 ranks"), std::string::npos) << shared.refusal;
}

TEST(PinPlan, BadArgumentsThrow) {
  EXPECT_THROW(plan_pinning(PinMode::compact, topology(1, 2, 1), 0), std::invalid_argument);
  EXPECT_THROW(plan_pinning(PinMode::compact, topology(1, 2, 1), 1, 2, 2), std::invalid_argument);
}

TEST(PinMode, Names) {
  EXPECT_EQ(parse_pin_mode("compact"), PinMode::compact);
  EXPECT_EQ(parse_pin_mode("spread"), PinMode::spread);
  EXPECT_EQ(parse_pin_mode("none"), PinMode::none);
  EXPECT_THROW(parse_pin_mode("close"), std::invalid_argument);
}

/// The CPUs the calling thread may run on.
std::set<int> own_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::set<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.insert(c);
  return cpus;
}

/// Restores the process's mask on the calling thread and the pools after a test that pinned them.
class PinsThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    CPU_ZERO(&saved_);
    sched_getaffinity(0, sizeof saved_, &saved_);
  }
  void TearDown() override {
    set_pool_placement({});
#pragma omp parallel num_threads(threads_)
    sched_setaffinity(0, sizeof saved_, &saved_);
  }
  cpu_set_t saved_;
  int threads_ = 2;
};

TEST_F(PinsThreads, OpenMpAndTbbThreadsEachGetTheirPlannedCpu) {
  const std::vector<CpuPlace> allowed = allowed_cpu_places();
  if (allowed.size() < 2) GTEST_SKIP() << "needs 2 allowed CPUs";
  int argc = 0;
  char** argv = nullptr;
  const MpiSession mpi(argc, argv);  // no launcher: one process
  const PinReport report = pin_threads(PinMode::compact, 2, mpi);
  ASSERT_TRUE(report.applied) << report.reason;
  ASSERT_EQ(report.cpus.size(), 2u);

  std::vector<std::set<int>> seen(2);
#pragma omp parallel num_threads(2)
  seen[std::size_t(omp_get_thread_num())] = own_cpus();
  EXPECT_EQ(seen[0], std::set<int>{report.cpus[0]});
  EXPECT_EQ(seen[1], std::set<int>{report.cpus[1]});

  // A kernel's own arena: each thread that joins is pinned to its slot's CPU.
  tbb::task_arena arena(2);
  arena.initialize();
  PoolPinObserver observer(arena);
  std::mutex mutex;
  std::vector<std::pair<int, std::set<int>>> tbb_seen;
  arena.execute([&] {
    tbb::parallel_for(0, 64, [&](int) {
      const std::lock_guard<std::mutex> lock(mutex);
      tbb_seen.emplace_back(tbb::this_task_arena::current_thread_index(), own_cpus());
    });
  });
  // Read under the lock too: ThreadSanitizer cannot see oneTBB's join (libtbb is not instrumented), so a
  // worker's last emplace_back would otherwise look unordered with this read (scripts/tsan.sh).
  const std::lock_guard<std::mutex> lock(mutex);
  for (const auto& [slot, cpus] : tbb_seen) EXPECT_EQ(cpus, std::set<int>{report.cpus[std::size_t(slot) % 2]}) << slot;

  const PinReport json_check = report;
  EXPECT_EQ(to_json(json_check)["mode"], "compact");
  EXPECT_EQ(to_json(json_check)["applied"], true);
}

TEST_F(PinsThreads, MoreThreadsThanCpusIsReportedNotApplied) {
  int argc = 0;
  char** argv = nullptr;
  const MpiSession mpi(argc, argv);
  const int too_many = int(allowed_cpu_places().size()) + 1;
  const PinReport report = pin_threads(PinMode::spread, too_many, mpi);
  EXPECT_FALSE(report.applied);
  EXPECT_NE(report.reason.find("threads left unpinned"), std::string::npos) << report.reason;
  EXPECT_TRUE(report.cpus.empty());
}

TEST(PinReport, NoneIsNotApplied) {
  int argc = 0;
  char** argv = nullptr;
  const MpiSession mpi(argc, argv);
  const PinReport report = pin_threads(PinMode::none, 1, mpi);
  EXPECT_FALSE(report.applied);
  EXPECT_TRUE(report.reason.empty());
  EXPECT_EQ(to_json(report), (nlohmann::json{{"mode", "none"}, {"applied", false}, {"cpus", nlohmann::json::array()},
                                             {"reason", ""}}));
}

}  // namespace
}  // namespace attnbench
