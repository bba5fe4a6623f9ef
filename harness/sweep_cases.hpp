#pragma once
// One sweep case from its index to its record: the part the worker (and, under an MPI launcher, every
// rank) runs, and the records the supervisor writes for a case that gave none (timeout, crash).
#include <sched.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

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

  /// The cases `group` (sweep_groups: one case, or one problem at one thread count and ranks value)
  /// with their outcomes in the group's order: each skipped (unsupported, or more memory than is
  /// available), failed (an error, the check) or measured; several side by side by
  /// execute_cases_interleaved from the --interleave seed. An mpi kernel with a --ranks value below
  /// the launch's runs on the first that many ranks; the others wait asleep (their outcomes are
  /// placeholders: rank 0 records). Test hook: ATTNBENCH_SWEEP_TEST_HANG_AT=<index> makes that case
  /// hang, as a kernel that never returns would (the timeout tests, with and without MPI).
  std::vector<CaseOutcome> run_group(const std::vector<std::size_t>& group);

  /// The outcome's record with provenance (and its pinning) and the sweep object.
  nlohmann::json record(const CaseOutcome& outcome, std::size_t index) const;

  /// The record of a case that produced none: failed with `reason` (a timeout, a crash), no times.
  nlohmann::json lost_record(std::size_t index, const std::string& reason) const;

 private:
  /// Before case `index`: its test hook, the pinning for its thread count, its problem's data; the
  /// options it runs with.
  CaseOptions prepare(std::size_t index);

  const SweepSettings& s_;
  const MpiSession& mpi_;
  std::map<int, std::unique_ptr<MpiSession>> parts_;  ///< --ranks value -> its first ranks (null: not one of them)
  std::map<int, nlohmann::json> provenance_;  ///< per --threads value (provenance is collective under MPI)
  std::optional<ProblemData> data_;           ///< the current problem's inputs and reference
  int pinned_threads_ = 0;                    ///< the thread count --pin last placed (0: none yet)
  cpu_set_t allowed_{};                       ///< the CPUs allowed before any pinning, restored before the next
  PinReport pin_;                             ///< what that placement did (provenance.pinning)
  /// Guards pin_: under MPI, rank 0's timeout watchdog writes a lost case's record (which reads pin_)
  /// while the main thread may be placing the next thread count.
  mutable std::mutex pin_mutex_;
};

}  // namespace attnbench
