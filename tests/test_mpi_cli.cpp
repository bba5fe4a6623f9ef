// `attnbench run` under mpirun, and what happens when a rank fails. A plain GoogleTest program that
// launches mpirun itself (2 ranks, about 0.5 s a launch); with `--rank-program MODE FILE` it is instead
// the MPI program those tests launch to make one rank fail.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../kernels/mpi/comm.hpp"
#include "attnbench/comm_volume.hpp"
#include "attnbench/workload.hpp"
#include "case_runner.hpp"
#include "mpi_session.hpp"
#include "results_file.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::run_command;
using test_support::shell_quote;
using test_support::TempDir;

using test_support::kMpiEnv;
const std::string kMpirun = kMpiEnv + MPIEXEC_EXECUTABLE + " -n 2 ";
const std::string kRun = std::string(" ") + ATTNBENCH_EXE + " run --warmup 0 --min-reps 2 --min-time 0 --threads 1 ";

std::vector<nlohmann::json> records(const std::filesystem::path& path) {
  std::vector<nlohmann::json> r;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) r.push_back(nlohmann::json::parse(line));
  return r;
}

TEST(MpiRun, MpiKernelsOnAllRanksOthersOnRankZeroAlone) {
  TempDir dir("mpi-run");
  const auto out = dir / "r.jsonl";
  const Problem p = parse_problem("b1_h3_sq33_d8");
  const auto r = run_command(kMpirun + kRun + "--kernel mha.tp.mpi,mha.ring.mpi,mha.blocked.serial --problem " +
                                 p.str() + " --check --out " + shell_quote(out.string()), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto recs = records(out);
  ASSERT_EQ(recs.size(), 3u) << "only rank 0 writes";
  for (const auto& rec : recs) {
    EXPECT_EQ(rec["status"], "ok") << rec["reason"];
    EXPECT_TRUE(rec["check"]["passed"].get<bool>());
    EXPECT_EQ(rec["provenance"]["ranks"], 2);
  }
  const auto& tp = recs[0];
  EXPECT_EQ(tp["ranks"], 2);
  ASSERT_EQ(tp["comm"]["phases"].size(), 1u);
  const auto& gather = tp["comm"]["phases"][0];
  EXPECT_EQ(gather["phase"], "gather");
  EXPECT_EQ(gather["bytes_per_rank_max"], comm_volume("tp", p, 2)[0].bytes_sent_per_rank);
  EXPECT_EQ(tp["comm"]["bytes"], gather["bytes"]);
  EXPECT_TRUE(tp["comm"]["overlap"].is_null()) << "blocking collectives hide nothing";
  for (const char* k : {"min_s", "mean_s", "max_s"}) {
    EXPECT_GT(tp["rank_time"][k].get<double>(), 0) << k;
    EXPECT_GT(tp["comm"]["compute_s"][k].get<double>(), 0) << k;
  }
  EXPECT_LE(tp["rank_time"]["min_s"].get<double>(), tp["rank_time"]["max_s"].get<double>());
  const auto& ring = recs[1];
  EXPECT_EQ(ring["comm"]["phases"][0]["phase"], "ring_step");
  EXPECT_EQ(ring["comm"]["bytes"], comm_volume_of_rank("ring", p, 2, 0)[0].bytes_sent_per_rank +
                                       comm_volume_of_rank("ring", p, 2, 1)[0].bytes_sent_per_rank);  // 17 + 16 rows
  EXPECT_TRUE(ring["comm"]["overlap"].is_number());
  const auto& blocked = recs[2];
  EXPECT_EQ(blocked["ranks"], 1) << "a non-mpi kernel runs on rank 0 alone";
  EXPECT_TRUE(blocked["rank_time"].is_null());
  EXPECT_EQ(blocked["comm"]["bytes"], 0);
}

TEST(MpiRun, RankZeroCommandLineWins) {
  // MPMD: rank 1 is given other options; it must run rank 0's.
  TempDir dir("mpi-mpmd");
  const auto out = dir / "r.jsonl";
  const auto r = run_command(kMpiEnv + MPIEXEC_EXECUTABLE + " -n 1" + kRun + "--kernel mha.ulysses.mpi --problem b1_h2_sq9_d8 --check --out " +
                                 shell_quote(out.string()) + " : -n 1" + kRun + "--kernel mha.tp.mpi --problem b2_h4_sq5_d8",
                             dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto recs = records(out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["kernel"], "mha.ulysses.mpi");
  EXPECT_EQ(recs[0]["ranks"], 2);
  EXPECT_TRUE(recs[0]["check"]["passed"].get<bool>());
}

TEST(MpiRun, RefusesMoreRanksThanHeadsOrChunksWithExitTwo) {
  TempDir dir("mpi-refuse");
  auto r = run_command(kMpirun + kRun + "--kernel mha.tp.mpi --problem b1_h1_sq16_d8", dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mha.tp.mpi cannot run b1_h1_sq16_skv16_d8: 2 ranks but only 1 KV heads"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("error"), r.err.rfind("error")) << "printed once, by rank 0:\n" << r.err;
  r = run_command(kMpirun + kRun + "--kernel mha.ring.mpi --problem b1_h2_sq3_d8_causal", dir.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("4 chunks (2 per rank, zig-zag, for a causal mask) but seq 3"), std::string::npos) << r.err;
}

TEST(MpiRun, WithoutALauncherMpiKernelsRunAsOneRank) {
  TempDir dir("mpi-single");
  const auto out = dir / "r.jsonl";
  const auto r = run_command(kRun + "--kernel mha.tp.mpi,mha.ring.mpi,mha.ulysses.mpi --problem b2_h3_sq17_d8_causal --check --out " +
                                 shell_quote(out.string()), dir.path());
  ASSERT_EQ(r.code, 0) << r.err;
  for (const auto& rec : records(out)) {
    EXPECT_EQ(rec["ranks"], 1);
    EXPECT_TRUE(rec["check"]["passed"].get<bool>());
    EXPECT_EQ(rec["comm"]["bytes"], 0);
  }
}

// A failing rank ends the whole job within seconds, with a message naming it; records written before
// stay intact. The rank program (below) hangs rank 0 in a barrier that rank 1 never reaches.
void expect_quick_abort(const std::string& mode, const std::string& message) {
  TempDir dir("mpi-abort");
  const auto out = dir / "r.jsonl";
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_command("timeout 60 env " + kMpirun + TEST_MPI_CLI_EXE + " --rank-program " + mode + " " +
                                 shell_quote(out.string()), dir.path());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "the job hung until timeout killed it";
  EXPECT_LT(seconds, 15.0);
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  const auto recs = records(out);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["written_before"], "the failure");
}

TEST(MpiFailure, ARankThatThrowsAbortsTheJob) {
  expect_quick_abort("throw", "attnbench: rank 1: test.throws.mpi on b1_h2_sq8_skv8_d8 failed: injected failure on "
                              "rank 1; aborting the job");
}

TEST(MpiFailure, AFailedMpiCallAbortsTheJobNamingTheCall) {
  expect_quick_abort("mpi-error", "attnbench: rank 1: MPI_Send failed: MPI_ERR_RANK: invalid rank; aborting the job");
}

// ---- the rank program --------------------------------------------------------------------------

/// An mpi kernel whose set-up fails on rank 1 while rank 0 waits for it in a barrier.
class ThrowsOnRankOne final : public Kernel {
 public:
  const KernelInfo& info() const override {
    static const KernelInfo i{"test.throws.mpi", Family::attention, "fails on rank 1", all_features(Parallelism::mpi, 1e-4)};
    return i;
  }
  std::int64_t workspace_bytes(const Problem&, const RunContext&) const override { return 0; }
  std::unique_ptr<PreparedKernel> prepare(const Problem&, const TensorSet&, const RunContext& ctx) const override {
    int rank = 0;
    MPI_Comm_rank(ctx.comm, &rank);
    if (rank == 1) throw std::runtime_error("injected failure on rank 1");
    MPI_Barrier(ctx.comm);
    return nullptr;
  }
};

int rank_program(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  if (mpi.is_root()) ResultsFile(argv[3]).append({{"written_before", "the failure"}});
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string mode = argv[2];
  if (mode == "throw") {
    const Problem p = parse_problem("b1_h2_sq8_d8");
    CaseSettings settings;
    settings.context.comm = mpi.comm();
    settings.measure.warmup_runs = 0;
    settings.mpi = &mpi;
    run_case(p, ThrowsOnRankOne(), make_inputs(p, 1), settings);
  } else {  // a real MPI error on rank 1 only, through the kernels' checked-call path
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    float x = 0;
    if (mpi.rank() == 1) kernels::mpi::check(MPI_Send(&x, 1, MPI_FLOAT, 99, 0, comm), "MPI_Send");
    MPI_Barrier(comm);
  }
  return 0;  // not reached: the job is aborted
}

}  // namespace
}  // namespace attnbench

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--rank-program") return attnbench::rank_program(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
