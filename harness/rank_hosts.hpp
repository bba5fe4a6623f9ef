#pragma once
// Which hosts the MPI ranks of a run were on: the provenance of multi-host results.
#include <string>
#include <vector>

namespace attnbench {

/// Where a job's ranks ran.
struct RankHosts {
  std::vector<std::string> hosts;  ///< distinct places, in order of the lowest rank on each
  std::vector<int> rank_host;      ///< rank r ran on hosts[rank_host[r]]
};

/// The name a process's place goes by: Slurm's node name (SLURMD_NODENAME) when Slurm started it,
/// because several slurmd nodes may share one host name (as on a one-machine test cluster);
/// otherwise `hostname`.
std::string node_name(const std::string& hostname);

/// Groups per-rank names (index = rank) into distinct hosts and each rank's host.
RankHosts group_rank_hosts(const std::vector<std::string>& names_by_rank);

/// Every rank's `local` name, gathered over MPI_COMM_WORLD to every rank (so all ranks hold the same
/// answer). Collective when MPI is initialised: every rank must call it at the same point. Without
/// MPI (or after MPI_Finalize) it is just {local}. Names longer than 255 bytes are cut. Throws
/// std::runtime_error if an MPI call fails.
RankHosts gather_rank_hosts(const std::string& local);

}  // namespace attnbench
