#pragma once
// Runs one (problem, kernel) case in a fixed order, as benchdnn does: set-up -> execute once ->
// compare with the reference -> (save output) -> measure (measure.hpp: warm-up, then repetitions
// until the stopping rule is done). run_cases_interleaved times several cases of one problem in
// random-order rounds instead. Failures become the case's status; they are
// never thrown, so one bad case cannot stop a run or lose what was measured before it.
//
// Under an MPI launcher (CaseSettings::mpi with several ranks):
// - an mpi kernel runs on every rank over MPI_COMM_WORLD; rank 0 checks the output (collected on it),
//   the ranks agree on the outcome, and every call is timed by RankTiming (barrier, slowest rank).
//   A rank whose set-up or run throws cannot tell the others, which may already wait in a collective:
//   it ends the whole job with MPI_Abort and a message naming the rank, the kernel and the reason
//   (records already written are complete on disk).
// - any other kernel runs on rank 0 alone while the other ranks sleep, so it is measured as one rank
//   (`ranks`: 1) side by side with the mpi kernels, e.g. `mpirun -n 2 attnbench run --kernel
//   mha.tp.mpi,mha.blocked.serial --threads 1` compares 2 ranks with 1.
#include <filesystem>
#include <cstdint>
#include <optional>
#include <vector>

#include "attnbench/kernel.hpp"
#include "attnbench/tensor.hpp"
#include "measure.hpp"
#include "mpi_session.hpp"
#include "record.hpp"

namespace attnbench {

struct CaseSettings {
  RunContext context;
  MeasureOptions measure;
  const Tensor* reference = nullptr;                ///< f64 reference output; null: no correctness check
  std::optional<std::filesystem::path> save_output; ///< write inputs and out.npy here after the first run
  const MpiSession* mpi = nullptr;                  ///< the launcher's ranks; null: one process
};

/// Run `kernel` on `problem` with `inputs`. The outcome's status says ok, or failed with the reason
/// (set-up or run threw, or the check exceeded the kernel's tolerance; a failed check is not timed).
CaseOutcome run_case(const Problem& problem, const Kernel& kernel, const TensorSet& inputs,
                     const CaseSettings& settings);

/// One case of run_cases_interleaved: a kernel with its inputs and settings (each its own reference,
/// which depends on the operator). Every case's settings.mpi must be the same.
struct InterleavedCase {
  const Kernel* kernel = nullptr;
  const TensorSet* inputs = nullptr;
  CaseSettings settings;
};

/// The kernels of one problem measured side by side (--interleave), so that slow drift (thermal,
/// a noisy neighbour, frequency) cannot favour the kernel that happened to run first:
/// 1. every case is set up, run once and checked, in the given order, exactly as run_case does;
/// 2. each one that passed is warmed up;
/// 3. then rounds: each round times one repetition of every case whose stopping rule is not yet
///    done, in the order interleave_round_order(cases, seed, round), until every rule is done.
/// Outcomes come back in the given order, with time.interleave = {seed, kernels, rounds}. A case
/// that throws while timed fails alone (the others go on), as in run_case. memory.peak_rss_bytes
/// is the peak of the whole group, since all were set up at once.
/// Under a launcher the ranks agree on every step: the order comes from the seed, an mpi kernel's
/// rule sees the slowest rank's times (RankTiming) on every rank, and after each step of a kernel
/// that rank 0 runs alone, rank 0 tells the others (which wait in MpiSession::wait_for_root: a short
/// spin, then sleep) whether it goes on. A step longer than the spin leaves them asleep, and on a
/// loaded machine the mpi kernel timed next then waits for them to be scheduled (docs/RESULTS.md,
/// "Measurement").
std::vector<CaseOutcome> run_cases_interleaved(const Problem& problem, const std::vector<InterleavedCase>& cases,
                                               std::uint64_t seed);

/// The order of `round` among `cases` cases: a Fisher-Yates shuffle of 0..cases-1 with
/// std::mt19937_64 seeded by seed + round (exposed so that a record's seed can be replayed).
std::vector<std::size_t> interleave_round_order(std::size_t cases, std::uint64_t seed, std::uint64_t round);

/// Bytes the case will need: boundary tensors, the kernel's workspace, and the reference if checking.
std::int64_t case_memory_bytes(const Problem& problem, const Kernel& kernel, const RunContext& ctx, bool check);

}  // namespace attnbench
