// `attnbench profile` under mpirun (2 ranks): rank 0 alone prints and writes, the phases are given
// min / mean / max over the ranks, and the one trace has a process per rank with the mpi kernel's
// communication phases (the intervals its CommLog times) on each.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::run_command;
using test_support::shell_quote;
using test_support::TempDir;

const std::string kMpirun = std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 ") +
                            "LSAN_OPTIONS=suppressions=" ATTNBENCH_SOURCE_DIR
                            "/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0:print_suppressions=0 " +
                            MPIEXEC_EXECUTABLE + " -n 2 " + ATTNBENCH_EXE +
                            " profile --warmup 0 --min-reps 2 --min-time 0 --threads 1 --profile-reps 2 ";

TEST(ProfileMpi, TensorParallelPhasesOfEveryRankAndCommunicationInTheTrace) {
  TempDir dir("profile-mpi");
  const auto trace = dir / "t.json", out = dir / "r.jsonl";
  const auto r = run_command(kMpirun + "--kernel mha.tp.mpi --problem b1_h4_sq64_d16_proj --trace " +
                                 shell_quote(trace.string()) + " --out " + shell_quote(out.string()),
                             dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("profile: "), r.out.rfind("profile: ")) << "rank 0 alone prints\n" << r.out;
  EXPECT_NE(r.out.find("x 2 ranks"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("comm: allreduce"), std::string::npos) << r.out;
  for (const char* column : {"min", "mean", "max"}) EXPECT_NE(r.out.find(column), std::string::npos) << column;

  const nlohmann::json rec = nlohmann::json::parse(test_support::slurp(out));
  EXPECT_EQ(rec["ranks"], 2);
  std::set<std::string> kinds;
  for (const nlohmann::json& p : rec["profile"]["phases"]) {
    kinds.insert(p["phase"].get<std::string>());
    EXPECT_LE(p["seconds"]["min"].get<double>(), p["seconds"]["max"].get<double>());
  }
  for (const char* phase : {"allreduce", "projections", "qk", "pv"}) EXPECT_TRUE(kinds.count(phase)) << phase;

  const nlohmann::json t = nlohmann::json::parse(test_support::slurp(trace));
  std::set<int> named, with_allreduce;
  for (const nlohmann::json& e : t["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") named.insert(e["pid"].get<int>());
    if (e["ph"] == "X" && e["cat"] == "communication" && e["name"] == "allreduce") with_allreduce.insert(e["pid"].get<int>());
  }
  EXPECT_EQ(named, (std::set<int>{0, 1})) << "a process per rank";
  EXPECT_EQ(with_allreduce, (std::set<int>{0, 1})) << "each rank's all-reduce calls";
}

TEST(ProfileMpi, NonMpiKernelRunsOnRankZeroAlone) {
  TempDir dir("profile-mpi");
  const auto r = run_command(kMpirun + "--kernel mha.naive.serial --problem b1_h2_sq32_d8", dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("profile: "), r.out.rfind("profile: ")) << r.out;
  EXPECT_EQ(r.out.find("ranks"), std::string::npos) << "one rank ran it\n" << r.out;
}

}  // namespace
}  // namespace attnbench
