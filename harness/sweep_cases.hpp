#pragma once
// One sweep case from its index to its record: the part the worker (and, under an MPI launcher, every
// rank) runs, and the records the supervisor writes for a case that gave none (timeout, crash).
#include <sched.h>

#include <cstddef>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "case_execution.hpp"
#include "mpi_session.hpp"
#include "record.hpp"
#include "sweep_settings.hpp"

namespace attnbench {

/// The record's "sweep" object: {"preset", "case" (0-based index in the grid), "cases" (the grid's
/// size), "sources" (config files read), "timeout_s"} (docs/RESULTS.md).
nlohmann::json sweep_json(const SweepSettings& s, std::size_t index);

/// The case index a test hook's environment variable names (e.g. ATTNBENCH_SWEEP_TEST_CRASH_AT=3), or -1.
long test_hook_index(const char* variable);

/// The MPI ranks case `c` runs on under a launch of `launch_ranks` (as CaseOutcome::ranks).
int case_ranks(const SweepCase& c, int launch_ranks);

/// Runs cases by index, keeping the inputs and reference of the current problem for the next kernel.
/// Under a launcher every rank constructs it and runs the same cases in the same order.
class SweepCaseRunner {
 public:
  SweepCaseRunner(const SweepSettings& settings, const MpiSession& mpi);

  /// Case `index`: skipped (unsupported, or more memory than is available), failed (an error, the
  /// check) or measured. Test hook: ATTNBENCH_SWEEP_TEST_HANG_AT=<index> makes that case hang, as a
  /// kernel that never returns would (the timeout tests, with and without MPI).
  CaseOutcome run(std::size_t index);

  /// The outcome's record with provenance (and its pinning) and the sweep object.
  nlohmann::json record(const CaseOutcome& outcome, std::size_t index) const;

  /// The record of a case that produced none: failed with `reason` (a timeout, a crash), no times.
  nlohmann::json lost_record(std::size_t index, const std::string& reason) const;

 private:
  const SweepSettings& s_;
  const MpiSession& mpi_;
  std::map<int, nlohmann::json> provenance_;  ///< per --threads value (provenance is collective under MPI)
  std::optional<ProblemData> data_;           ///< the current problem's inputs and reference
  int pinned_threads_ = 0;                    ///< the thread count --pin last placed (0: none yet)
  cpu_set_t allowed_{};                       ///< the CPUs allowed before any pinning, restored before the next
  PinReport pin_;                             ///< what that placement did (provenance.pinning)
};

}  // namespace attnbench
