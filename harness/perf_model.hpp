#pragma once
// The alpha-beta performance model of distributed attention behind `attnbench project`: predicted
// time and parallel efficiency of each strategy (tensor-parallel, ring, Ulysses) at P ranks, from a
// single-rank compute rate and a network. Formulas and their assumptions: docs/PERFORMANCE.md
// ("The performance model"); each function below states its own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alpha_beta.hpp"
#include "attnbench/comm_volume.hpp"
#include "attnbench/problem.hpp"
#include "machine_profile.hpp"

namespace attnbench {

// ---------------------------------------------------------------------------------------------
// Collectives
// ---------------------------------------------------------------------------------------------

/// How many link latencies and what multiple of the buffer size n each rank sends in one
/// operation on P ranks, for the algorithm the model assumes:
///   pingpong, sendrecv_ring  1 message of n bytes:                  t = alpha + n beta
///   allreduce   ring (reduce-scatter + all-gather), n-byte buffer:  t = 2(P-1) alpha + 2(P-1)/P n beta
///   alltoall    pairwise exchange, n bytes per rank in all:         t = (P-1) (alpha + n/P beta)
/// (MPI libraries switch algorithms by size, e.g. recursive doubling for small all-reduces; the
/// calibration's fit residual shows how far that moves the real cost from these.)
struct CollectiveCost {
  double latencies = 1;    ///< multiple of alpha
  double byte_factor = 1;  ///< multiple of n beta
};
CollectiveCost collective_cost(NetOp op, int ranks);

/// Seconds of one operation with an n-byte buffer on P ranks over a link.
double collective_seconds(NetOp op, int ranks, double bytes, const AlphaBeta& link);

/// The link-level alpha and beta that make collective_seconds(op, ranks, n, link) equal the fitted
/// `fit` at that rank count: alpha / latencies, beta / byte_factor. This is how a collective
/// calibrated at P = 2 projects to other P: with the fitted per-message costs and the algorithm's
/// message and byte counts. Throws std::invalid_argument for ranks < 2.
AlphaBeta link_from_collective_fit(NetOp op, int ranks, const AlphaBeta& fit);

// ---------------------------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------------------------

/// The link cost each kind of communication sees.
struct NetworkModel {
  std::string name;         ///< "100GbE", "200Gb-IB", "shm", "custom", "calibrated"
  std::string description;  ///< one line: where the figures come from
  AlphaBeta pingpong, allreduce, alltoall, sendrecv_ring;  ///< link-level, see link_from_collective_fit

  const AlphaBeta& link(NetOp op) const;
};

/// The presets' names: "100GbE", "200Gb-IB", "shm".
std::vector<std::string> network_preset_names();
/// A documented preset (alpha, nominal bandwidth x efficiency; docs/PERFORMANCE.md):
///   100GbE    alpha 5 us,   12.5 GB/s x 0.80 = 10 GB/s   (MPI over TCP or RoCE on 100 Gb/s Ethernet)
///   200Gb-IB  alpha 1.5 us, 25 GB/s x 0.90 = 22.5 GB/s   (HDR InfiniBand, RDMA)
///   shm       alpha 0.5 us, 10 GB/s                     (ranks of one node, Open MPI's shared memory)
/// Throws std::invalid_argument listing the names.
NetworkModel network_preset(std::string_view name);
/// The same link for everything: alpha, nominal bandwidth in Gbit/s times efficiency (0 < e <= 1).
/// Throws std::invalid_argument for alpha < 0, bandwidth <= 0 or efficiency outside (0, 1].
NetworkModel network_custom(double alpha_us, double gbit_per_s, double efficiency);
/// From a calibrate profile: every operation's fit turned into link-level figures at the
/// calibration's rank count (link_from_collective_fit); an operation that was not calibrated uses the
/// ping-pong link. Throws std::invalid_argument when the calibration has no ping-pong fit.
NetworkModel network_from_calibration(const NetworkCalibration& net);

// ---------------------------------------------------------------------------------------------
// Compute
// ---------------------------------------------------------------------------------------------

/// What one rank computes at, and how ranks share a node's cores.
struct ComputeModel {
  double gflops = 0;          ///< one rank with `threads` threads and cores to itself
  int threads = 1;            ///< threads per rank
  int cores_per_node = 0;     ///< logical CPUs per node; 0 = unknown (no oversubscription modelled)
  int ranks_per_node = 1;     ///< ranks placed on each node (the last node may hold fewer)
  std::string source;         ///< where `gflops` came from, for the report

  /// The fraction of its rate one rank keeps when `ranks` ranks run: the ranks on one node,
  /// min(ranks, ranks_per_node), times `threads` threads share cores_per_node cores, so each rank
  /// keeps min(1, cores_per_node / (ranks_on_node x threads)). 1 when cores_per_node is 0.
  double share(int ranks) const;
};

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

enum class Strategy { tp, ring, ulysses };
const char* to_string(Strategy s);
/// "tp", "ring", "ulysses"; throws std::invalid_argument listing them.
Strategy strategy_from_string(std::string_view name);
inline constexpr Strategy kAllStrategies[] = {Strategy::tp, Strategy::ring, Strategy::ulysses};
/// The MPI kernel each strategy models: mha.tp.mpi, mha.ring.mpi, mha.ulysses.mpi.
std::string kernel_id(Strategy s);

/// How a phase's volume turns into time (the volumes are comm_volume.hpp's: what the busiest rank sends).
///   sent_per_rank   every rank sends its messages at once:  messages x alpha + bytes x beta
///                   (ring steps, all-to-all blocks)
///   ring_allreduce  bytes is the all-reduce's payload n and messages the calls; each call costs
///                   collective_seconds(allreduce, P, n): 2(P-1) alpha + 2(P-1)/P n beta
///   into_root       every rank but 0 sends to rank 0, whose link takes the P - 1 messages one after
///                   another: (P - 1) x (messages x alpha + bytes x beta)   (tp's gather)
enum class Pricing { sent_per_rank, ring_allreduce, into_root };

/// One communication phase as the model sees it.
struct CommTerm {
  std::string phase;
  NetOp op = NetOp::pingpong;  ///< whose link cost applies
  Pricing pricing = Pricing::sent_per_rank;
  std::int64_t bytes_sent_per_rank = 0;
  std::int64_t messages_per_rank = 0;
  bool overlapped = false;  ///< only ring steps: sent while the previous block is computed
};

/// The model's view of a phase recorded by the MPI kernels, by its name: "allreduce" -> allreduce
/// link, ring_allreduce pricing; "alltoall" -> alltoall link; "ring_step" -> sendrecv_ring link,
/// overlapped with compute; "gather" -> ping-pong link, into_root; anything else -> ping-pong link,
/// sent_per_rank.
CommTerm comm_term(std::string phase, std::int64_t bytes_sent_per_rank, std::int64_t messages_per_rank);

/// The communication of `strategy` on P ranks for `p`: comm_volume.hpp's phases as CommTerms.
std::vector<CommTerm> strategy_comm(Strategy strategy, const Problem& p, int ranks);

/// Why the strategy cannot run p on P ranks (partition.hpp's partition_refusal: e.g. more ranks than
/// KV heads for tp and ulysses, than sequence chunks for the ring), or nullopt.
std::optional<std::string> impossible_reason(Strategy strategy, const Problem& p, int ranks);

/// Useful flops of the busiest rank under partition.hpp's splits (uneven splits give it the larger share):
///   tp       (attention + projections) x max heads of a rank / H
///   ulysses  attention x max heads of a rank / H + projections x max query rows of a rank / Lq
///   ring     (attention + projections) x max query rows of a rank / Lq; causal masks assume the
///            zig-zag balance (a rank's share of the visible pairs = its share of the rows)
struct RankFlops {
  double attention = 0;    ///< score + weighting
  double projections = 0;  ///< Q/K/V/O linear layers
  double total() const { return attention + projections; }
};
RankFlops busiest_rank_flops(Strategy strategy, const Problem& p, int ranks);

struct PhaseTime {
  CommTerm term;
  double seconds = 0;        ///< the phase's time (see Pricing)
  double latency_s = 0;      ///< the alpha part of it
};

struct Projection {
  Strategy strategy = Strategy::tp;
  int ranks = 1;
  bool possible = true;
  std::string reason;           ///< why not possible
  double flops_per_rank = 0;    ///< busiest_rank_flops
  double share = 1;             ///< ComputeModel::share
  double compute_s = 0;         ///< flops_per_rank / (gflops x share)
  double comm_s = 0;            ///< sum of the phases' seconds
  double exposed_comm_s = 0;    ///< the part not hidden behind compute
  double time_s = 0;            ///< compute_s + exposed_comm_s
  double speedup = 0;           ///< single-rank time (total flops / gflops) / time_s
  double efficiency = 0;        ///< speedup / P
  std::string dominant;         ///< "compute", or the largest exposed phase and "(latency)"/"(bandwidth)"
  std::vector<PhaseTime> phases;
};

/// The model's prediction for `strategy` on P ranks. Time is compute of the busiest rank plus the
/// exposed communication. Ring phases overlap: with P steps of compute c = compute_s / P each and
/// P - 1 transfers of m = (ring phases' seconds) / (P - 1), time = c + (P - 1) max(c, m) + other
/// phases, i.e. exposed ring communication is (P - 1) max(0, m - c), where c counts attention only
/// (projections run before and after the ring loop). Every other phase is exposed.
/// Throws std::invalid_argument for ranks < 1 or a ComputeModel with gflops <= 0 or threads < 1.
Projection project(Strategy strategy, const Problem& p, int ranks, const ComputeModel& compute,
                   const NetworkModel& net);

/// The same with the communication given (for tests and for records whose volumes are known).
Projection project_with(Strategy strategy, const Problem& p, int ranks, const ComputeModel& compute,
                        const NetworkModel& net, const std::vector<CommTerm>& comm);

}  // namespace attnbench
