#pragma once
// Measuring the network under MPI, OSU micro-benchmark style: for every message size (doubling),
// a warm-up, then repeated timed loops of many back-to-back operations, all ranks starting together
// (barrier); the time of a repetition is the maximum over ranks, and each size keeps the median of
// its repetitions. Then an alpha-beta fit per operation (alpha_beta.hpp). What each operation's
// size means: machine_profile.hpp (NetOp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "machine_profile.hpp"

namespace attnbench {

struct NetworkOptions {
  std::int64_t min_bytes = 1;
  std::int64_t max_bytes = std::int64_t{64} << 20;  ///< 64 MiB
  int repetitions = 7;                              ///< timed repetitions per size (median kept)
  /// Iterations per repetition: bytes_per_repetition / size, clamped to [1, max_iterations], so a
  /// 1-byte point averages over many messages and a 64 MiB point is one message per repetition.
  std::int64_t bytes_per_repetition = std::int64_t{16} << 20;
  int max_iterations = 1000;
  int window = 64;  ///< bandwidth test: messages in flight (capped so window x size fits max_bytes)
  std::vector<NetOp> operations{NetOp::pingpong, NetOp::allreduce, NetOp::alltoall, NetOp::sendrecv_ring};
};

/// Throws std::invalid_argument naming the field that is out of range.
void validate(const NetworkOptions& options);

/// 1, 2, 4, ... up to max (min and max included even when not powers of two).
std::vector<std::int64_t> doubling_sizes(std::int64_t min_bytes, std::int64_t max_bytes);

/// Measures every operation on `world` (collective: every rank must call it with the same options)
/// and fits each. Ping-pong and bandwidth run between rank 0 and rank 1 (the others wait). The
/// result is complete on rank 0 only. `progress` (called on rank 0, may be empty) gets one line per
/// finished operation. Throws std::runtime_error naming the MPI call that failed, and
/// std::invalid_argument for a communicator of fewer than 2 ranks.
NetworkCalibration calibrate_network(MPI_Comm world, const NetworkOptions& options,
                                     const std::function<void(const std::string&)>& progress = {});

/// A barrier that sleeps while it waits (MPI_Ibarrier polled every millisecond), so ranks that wait
/// for rank 0 to measure the compute peak do not spin on its cores as MPI_Barrier does.
void sleeping_barrier(MPI_Comm comm);

/// Host name of every rank, in rank order (on rank 0; empty elsewhere).
std::vector<std::string> gather_host_names(MPI_Comm comm);

}  // namespace attnbench
