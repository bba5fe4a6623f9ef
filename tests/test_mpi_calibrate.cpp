// The network calibration under MPI (network_calibration.hpp), run by ctest under mpiexec with 2 and
// 3 ranks: every operation measured and fitted (results on rank 0), the hosts gathered, and the
// sleeping barrier that keeps waiting ranks off the cores rank 0 measures.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "mpi_test_support.hpp"
#include "network_calibration.hpp"

namespace attnbench {
namespace {

using test_support::world_rank;
using test_support::world_size;

NetworkOptions tiny() {
  NetworkOptions o;
  o.max_bytes = 4096;
  o.repetitions = 3;
  o.bytes_per_repetition = 16384;
  o.max_iterations = 8;
  o.window = 4;
  return o;
}

TEST(CalibrateNetwork, EveryOperationIsMeasuredAndFittedOnRank0) {
  if (world_size() < 2) GTEST_SKIP() << "needs 2 or more ranks";
  const NetworkCalibration net = calibrate_network(MPI_COMM_WORLD, tiny());
  if (world_rank() != 0) return;
  EXPECT_EQ(net.ranks, world_size());
  ASSERT_EQ(int(net.hosts.size()), world_size());
  for (const std::string& h : net.hosts) EXPECT_FALSE(h.empty());
  ASSERT_EQ(net.operations.size(), 4u);
  for (const NetOpCalibration& c : net.operations) {
    ASSERT_GE(c.points.size(), 2u) << to_string(c.op);
    for (const NetPoint& p : c.points) {
      EXPECT_GT(p.median_s, 0) << to_string(c.op) << " " << p.bytes;
      EXPECT_LE(p.min_s, p.median_s);
      EXPECT_GE(p.max_s, p.median_s);
      EXPECT_EQ(p.repetitions, 3);
      EXPECT_GE(p.iterations, 1);
      EXPECT_LE(p.iterations, 8);
      if (c.op == NetOp::alltoall) {
        EXPECT_EQ(p.bytes % world_size(), 0) << "n / P bytes to each rank";
      }
      if (c.op == NetOp::allreduce) {
        EXPECT_EQ(p.bytes % 4, 0) << "whole floats";
      }
    }
    EXPECT_EQ(c.fit.points, int(c.points.size()));
    EXPECT_GE(c.fit.model.alpha_s, 0);
    EXPECT_GE(c.fit.model.beta_s_per_byte, 0);
  }
  ASSERT_FALSE(net.bandwidth.empty());
  for (const BandwidthPoint& b : net.bandwidth) {
    EXPECT_GT(b.gbytes_per_s, 0);
    EXPECT_LE(std::int64_t(b.window) * b.bytes, std::max<std::int64_t>(4096, b.bytes)) << "window fits the buffer";
  }
}

TEST(CalibrateNetwork, OneRankIsRefused) {
  EXPECT_THROW(calibrate_network(MPI_COMM_SELF, tiny()), std::invalid_argument);
  NetworkOptions bad = tiny();
  bad.repetitions = 0;
  EXPECT_THROW(calibrate_network(MPI_COMM_WORLD, bad), std::invalid_argument) << "validated before any MPI call";
}

TEST(SleepingBarrier, WaitsForTheLastRankWithoutSpinning) {
  // Start together: the tests before end at different times on different ranks (more so on a loaded
  // machine), and a rank arriving late would wait less than rank 0's sleep.
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = std::chrono::steady_clock::now();
  timespec cpu0{}, cpu1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  if (world_rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sleeping_barrier(MPI_COMM_WORLD);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = double(cpu1.tv_sec - cpu0.tv_sec) + 1e-9 * double(cpu1.tv_nsec - cpu0.tv_nsec);
  if (world_rank() == 0) {
    EXPECT_GE(wall, 0.29);
  } else {
    EXPECT_LT(cpu, 0.5 * wall) << "the waiting rank used " << cpu << " s of CPU in " << wall << " s";
  }
}

TEST(GatherHostNames, OnePerRankOnRank0) {
  const std::vector<std::string> hosts = gather_host_names(MPI_COMM_WORLD);
  if (world_rank() == 0) EXPECT_EQ(int(hosts.size()), world_size());
  else EXPECT_TRUE(hosts.empty());
}

}  // namespace
}  // namespace attnbench

// main(): tests/mpi_gtest_main.cpp (MPI around GoogleTest).
