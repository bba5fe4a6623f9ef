#pragma once
// `attnbench profile` for one (problem, kernel): where the time goes.
//
//   1. the unprofiled measurement (run_case: set-up, check, timed repetitions): the case's true time,
//      rates, roofline and peak memory;
//   2. the kernel prepared again with a PhaseRecorder, one untimed call, then `profiled_reps` timed
//      calls with the recorder and the hardware counters on: every phase's exact seconds per forward
//      pass, the trace events (capped), the counters; the profiled median against the unprofiled one
//      is the profiling overhead.
//
// Shares: a phase's seconds per forward are its thread-seconds / the kernel's threads, so on T threads
// a phase that keeps every thread busy for its whole duration counts its wall time; share = seconds /
// the forward pass's time; what no phase covers (scheduling, imbalance, idle threads, loop overhead)
// is `unattributed`. Communication phases come from the mpi kernels' CommLog (the trace shows the
// same intervals). Under an MPI launcher an mpi kernel is profiled on every rank (phases min / mean /
// max over ranks, one trace with a process per rank, clocks aligned at a barrier); any other kernel
// runs on rank 0 alone, as in `run`.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case_runner.hpp"
#include "machine_peak.hpp"
#include "perf_counters.hpp"
#include "rank_timing.hpp"
#include "trace_json.hpp"

namespace attnbench {

struct ProfileSettings {
  CaseSettings run;                    ///< the unprofiled measurement (context, options, check, MPI)
  int profiled_reps = 5;               ///< timed calls with the recorder on (>= 1)
  std::int64_t trace_events = 200000;  ///< trace events kept, all ranks and threads together (>= 0)
  std::optional<MachinePeak> peak;     ///< the calibrated roofline (machine_for_run), if any
};

struct PhaseFigure {
  std::string name;               ///< a Phase name, or a communication phase ("allreduce", ...)
  bool communication = false;
  Spread seconds;                 ///< per forward pass (thread-seconds / threads), over ranks
  double share = 0;               ///< seconds.mean / the ranks' mean forward time
  double calls = 0;               ///< scopes per forward pass, rank mean (0 for communication)
  std::optional<double> gflops;   ///< the cost model's flops of this phase / seconds.mean
};

struct ProfileResult {
  CaseOutcome outcome;                  ///< the unprofiled case (rates, roofline, memory, check, comm)
  std::optional<SampleStats> profiled;  ///< the profiled calls' times (the slowest rank's)
  std::optional<double> overhead;       ///< profiled median / unprofiled median - 1
  Spread forward_seconds;               ///< each rank's own mean profiled forward time, over ranks
  std::vector<PhaseFigure> phases;      ///< the phases that occurred, largest first
  double unattributed_share = 0;        ///< 1 - the sum of the shares
  CounterReading counters;              ///< over the profiled calls, summed over ranks
  int ranks = 1;
  std::vector<RankTrace> traces;        ///< on rank 0: every rank's
  std::int64_t trace_kept = 0, trace_dropped = 0, per_thread_cap = 0;
  std::int64_t unrecorded_threads = 0;  ///< threads that found every recording slot taken (0 expected)
};

/// Runs the case as above. Collective under an MPI launcher; the result is complete on rank 0 only.
/// A case that fails or is skipped in the unprofiled run comes back with only `outcome` filled.
ProfileResult profile_case(const Problem& problem, const Kernel& kernel, const TensorSet& inputs,
                           const ProfileSettings& settings, CounterReader& counters);

/// The record's `profile` object (docs/RESULTS.md).
nlohmann::json profile_json(const ProfileResult& r);

/// The human-readable report (rank 0).
void print_profile(std::ostream& out, const ProfileResult& r);

}  // namespace attnbench
