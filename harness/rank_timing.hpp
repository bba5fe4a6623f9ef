#pragma once
// MPI-safe measurement of one mpi kernel case: the ranks start every call together (a barrier), a
// call's time is the slowest rank's, and what differs between ranks (each rank's own time, its
// communication and compute) is summarised as min / mean / max over ranks for the record.
#include <mpi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attnbench/comm_log.hpp"
#include "measure.hpp"

namespace attnbench {

/// Minimum, mean and maximum of one quantity over the ranks.
struct Spread {
  double min = 0, mean = 0, max = 0;
};

/// The spread over ranks of column `at` of a gathered table: `all` holds each rank's row of `stride`
/// values, rank after rank (as MPI_Gather leaves them on rank 0).
Spread spread(const std::vector<double>& all, std::size_t stride, std::size_t at);

/// One communication phase of a forward pass, over the ranks.
struct PhaseSummary {
  std::string phase;
  std::int64_t bytes = 0;                ///< sent by all ranks together, per forward pass
  std::int64_t bytes_per_rank_max = 0;   ///< sent by the busiest rank
  std::int64_t messages_per_rank_max = 0;
  Spread seconds;                        ///< exposed (time inside the phase's MPI calls), per forward
  std::optional<double> overlap;         ///< overlapped phases: 1 - exposed / isolated (clamped to [0, 1])
};

/// The record's `comm` object (docs/RESULTS.md).
struct CommSummary {
  std::int64_t bytes = 0;   ///< all phases, all ranks, per forward pass
  double seconds = 0;       ///< the largest rank's exposed communication time per forward pass
  Spread compute_seconds;   ///< each rank's local compute per forward pass
  std::vector<PhaseSummary> phases;
  std::optional<double> overlap;  ///< over the overlapped phases; absent when none overlaps
};

/// The barrier-and-maximum RepetitionSync over `comm`; also keeps this rank's own timed samples.
class RankTiming final : public RepetitionSync {
 public:
  explicit RankTiming(MPI_Comm comm) : comm_(comm) {}
  void start() override;
  double combine(double local_seconds, bool timed) override;
  /// Min / mean / max over ranks of each rank's median timed call (collective; valid on rank 0).
  Spread rank_medians() const;

 private:
  MPI_Comm comm_;
  std::vector<double> local_;
};

/// Every rank's `log` (summed over `log.forwards` passes) summarised per forward pass (collective over
/// `comm` when MPI is initialised; valid on rank 0).
CommSummary summarize_comm(MPI_Comm comm, const CommLog& log);

}  // namespace attnbench
