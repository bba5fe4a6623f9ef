// Gathers the host of every MPI rank, so a record says which machines produced it.
#include "rank_hosts.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

namespace attnbench {
namespace {

// Host and Slurm node names are at most 64 bytes on Linux; a fixed slot keeps the gather to one call.
constexpr int kNameSlot = 256;

void check_mpi(int rc, const char* call) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("gathering the ranks' hosts: ") + call + " failed");
}

bool mpi_running() {
  int initialized = 0, finalized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  check_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
  return initialized && !finalized;
}

}  // namespace

std::string node_name(const std::string& hostname) {
  const char* slurm_node = std::getenv("SLURMD_NODENAME");
  return slurm_node && *slurm_node ? slurm_node : hostname;
}

RankHosts group_rank_hosts(const std::vector<std::string>& names_by_rank) {
  RankHosts out;
  std::map<std::string, int> index;
  for (const std::string& name : names_by_rank) {
    const auto [it, inserted] = index.emplace(name, static_cast<int>(out.hosts.size()));
    if (inserted) out.hosts.push_back(name);
    out.rank_host.push_back(it->second);
  }
  return out;
}

RankHosts gather_rank_hosts(const std::string& local) {
  if (!mpi_running()) return group_rank_hosts({local});
  int size = 1;
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  std::vector<char> mine(kNameSlot, '\0');
  std::memcpy(mine.data(), local.data(), std::min(local.size(), static_cast<std::size_t>(kNameSlot - 1)));
  std::vector<char> all(static_cast<std::size_t>(size) * kNameSlot);
  check_mpi(MPI_Allgather(mine.data(), kNameSlot, MPI_CHAR, all.data(), kNameSlot, MPI_CHAR, MPI_COMM_WORLD),
            "MPI_Allgather");
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    const char* slot = all.data() + static_cast<std::size_t>(r) * kNameSlot;
    names.emplace_back(slot, ::strnlen(slot, kNameSlot));
  }
  return group_rank_hosts(names);
}

}  // namespace attnbench
