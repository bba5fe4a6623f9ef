#pragma once
/// \file comm_log.hpp
/// What an mpi kernel's rank spent on communication and compute, summed over the forward passes since
/// the last reset(); the harness turns it into the record's `comm` object (docs/RESULTS.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnbench {

struct PhaseLog {
  std::string phase;              ///< e.g. "allreduce", "ring_step", "alltoall", "gather"
  std::int64_t bytes = 0;         ///< bytes this rank sent (collectives: payload, see comm_volume.hpp)
  std::int64_t messages = 0;      ///< point-to-point messages with a payload (a collective counts once)
  double seconds = 0;             ///< time this rank spent inside the phase's MPI calls: the exposed cost
  double isolated_seconds = 0;    ///< overlapped phases: the same transfers timed alone (0 otherwise)
};

struct CommLog {
  std::vector<PhaseLog> phases;  ///< in order of first use
  double compute_seconds = 0;    ///< time in the rank's local attention and projections
  std::int64_t forwards = 0;     ///< forward passes summed here

  /// The entry of `name`, created on first use.
  PhaseLog& phase(std::string_view name) {
    for (PhaseLog& p : phases)
      if (p.phase == name) return p;
    return phases.emplace_back(PhaseLog{std::string(name)});
  }
  /// Zero every counter; phase names stay, so a phase that sends nothing still appears.
  void reset() {
    for (PhaseLog& p : phases) p = PhaseLog{p.phase};
    compute_seconds = 0;
    forwards = 0;
  }
};

}  // namespace attnbench
