#pragma once
/// \file comm_volume.hpp
/// The analytic communication volume of each distributed attention strategy: what one rank sends
/// in one forward pass, per phase, in fp32 bytes. The MPI kernels' measured bytes equal these
/// exactly (tests/test_mpi_kernels.cpp), and the performance model prices them.
///
/// Phases (the names the MPI kernels record; see kernels/mpi/comm.hpp):
///   tp, core alone     `gather`    every rank but 0 sends its heads' output [B, Lq, h_r, dv] to rank 0
///   tp, --projections  `allreduce` one all-reduce of the partial output projection [B, Lq, E]
///   ring               `ring_step` P-1 steps, each sending the K/V block in hand to the next rank:
///                                  every block but the one arriving last, (P-1)/P of K and V when even
///   ulysses            `alltoall`  four all-to-alls: Q, K, V from sequence- to head-sharded, and the
///                                  output back; a rank sends every block but its own
/// Splits follow partition.hpp. On one rank every volume is 0 (the communication layer is a no-op).
///
/// bytes_sent_per_rank of an all-reduce is its payload, the bytes each rank contributes: the bytes
/// on the wire depend on the MPI library's algorithm (the bandwidth-optimal ring all-reduce sends
/// 2(P-1)/P of the payload from each rank in 2(P-1) messages; messages_per_rank counts the call as 1).
/// Elsewhere messages_per_rank counts point-to-point messages with a non-empty payload.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attnbench/problem.hpp"

namespace attnbench {

struct PhaseVolume {
  std::string phase;
  std::int64_t bytes_sent_per_rank = 0;
  std::int64_t messages_per_rank = 0;
  friend bool operator==(const PhaseVolume&, const PhaseVolume&) = default;
};

/// The phases of `strategy` ("tp", "ring", "ulysses") for `p` on `ranks` ranks, as sent by the rank
/// that sends the most (every rank sends the same when the split is even). Throws
/// std::invalid_argument for an unknown strategy or a split partition_refusal rejects.
std::vector<PhaseVolume> comm_volume(std::string_view strategy, const Problem& p, int ranks);

/// The same for one rank.
std::vector<PhaseVolume> comm_volume_of_rank(std::string_view strategy, const Problem& p, int ranks, int rank);

}  // namespace attnbench
