#pragma once
// --pin: where the kernels' threads run. libgomp reads OMP_PROC_BIND/OMP_PLACES only when it loads,
// so setting them in main() is too late; instead the OpenMP pool's threads pin themselves
// (sched_setaffinity inside a parallel region of the run's thread count, whose threads libgomp then
// reuses), and TBB arenas owned by kernels pin each joining thread through the pool placement
// (attnbench/pool_pinning.hpp). Placement stays within the CPUs the process may use (its affinity
// mask, e.g. from taskset, Slurm or mpirun --bind-to), and under MPI the ranks sharing a host get
// disjoint shares of them.
//
// Modes (T threads, the CPUs ordered by package, core, CPU number, so a core's SMT siblings are
// neighbours):
//   none     nothing is pinned; the OS scheduler places and migrates threads (the default)
//   compact  thread i on the i-th CPU: threads fill a core's siblings, then the next core
//   spread   thread i on CPU floor(i * N / T) of the N CPUs: as far apart as possible (one per
//            core before any sibling when T <= cores; across packages)
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench {

class MpiSession;

enum class PinMode { none, compact, spread };
const char* to_string(PinMode mode);
/// "none", "compact" or "spread"; std::invalid_argument otherwise.
PinMode parse_pin_mode(const std::string& text);

/// One logical CPU and where it sits (sysfs topology; package and core -1 when unknown).
struct CpuPlace {
  int cpu = 0;
  int package = -1;
  int core = -1;
};

/// The CPUs this process may run on (sched_getaffinity), each with its sysfs topology.
std::vector<CpuPlace> allowed_cpu_places();

/// Which CPU each thread gets, or why none: the pure part of pinning, tested on made-up topologies.
struct PinPlan {
  std::vector<int> cpus;  ///< cpus[i]: the CPU of thread i; empty when not pinned
  std::string refusal;    ///< why not pinned ("" when pinned, or for mode none)
};
/// `allowed` is this rank's set; when `share_count` > 1 ranks on the host hold the same set, this
/// rank gets the `share_index`-th of `share_count` equal consecutive parts of it (in package/core
/// order, so ranks get whole cores when the counts allow). Refuses (with the reason) when the share
/// has fewer CPUs than `threads`.
PinPlan plan_pinning(PinMode mode, std::vector<CpuPlace> allowed, int threads, int share_index = 0,
                     int share_count = 1);

/// What --pin did, for the record (provenance.pinning): mode, applied, cpus (per thread), reason.
struct PinReport {
  PinMode mode = PinMode::none;
  bool applied = false;
  std::vector<int> cpus;
  std::string reason;  ///< why not applied ("" when applied or not requested)
};
nlohmann::json to_json(const PinReport& report);

/// Plans and applies `mode` for `threads` threads: pins the OpenMP pool (thread 0 is the calling
/// thread, which serial kernels then run on) and sets the TBB pool placement. Under a launcher it is
/// collective over the ranks: ranks on a host with the same allowed set split it; ranks already
/// bound to disjoint sets (mpirun --bind-to) keep their own; partly overlapping sets are refused.
/// Never throws for a placement it cannot make: the report says why.
PinReport pin_threads(PinMode mode, int threads, const MpiSession& mpi);

}  // namespace attnbench
