// Thread pinning (thread_pinning.hpp).
#include "thread_pinning.hpp"

#include <mpi.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include "attnbench/pool_pinning.hpp"
#include "mpi_session.hpp"

namespace attnbench {
namespace {

int read_int(const std::string& path) {
  std::ifstream in(path);
  int value = 0;
  return (in >> value) ? value : -1;
}

std::string cpu_list(const std::vector<CpuPlace>& places) {
  std::string s;
  for (const CpuPlace& p : places) s += (s.empty() ? "" : ",") + std::to_string(p.cpu);
  return s;
}

/// This process's allowed CPUs as a bit mask, for comparing the sets of the ranks on a host.
constexpr int kMaskWords = CPU_SETSIZE / 64;
std::vector<std::uint64_t> mask_of(const std::vector<CpuPlace>& places) {
  std::vector<std::uint64_t> mask(kMaskWords, 0);
  for (const CpuPlace& p : places)
    if (p.cpu >= 0 && p.cpu < CPU_SETSIZE) mask[std::size_t(p.cpu / 64)] |= std::uint64_t(1) << (p.cpu % 64);
  return mask;
}

/// How the ranks on this host share CPUs: {index, count} of this rank's share, or count 0 with the
/// reason in `why` when their sets partly overlap.
struct Share {
  int index = 0, count = 1;
  std::string why;
};
Share host_share(const MpiSession& mpi, const std::vector<CpuPlace>& allowed) {
  if (!mpi.active() || mpi.ranks_on_host() == 1) return {};
  MPI_Comm host;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi.rank(), MPI_INFO_NULL, &host);
  int local = 0, ranks = 1;
  MPI_Comm_rank(host, &local);
  MPI_Comm_size(host, &ranks);
  const std::vector<std::uint64_t> mine = mask_of(allowed);
  std::vector<std::uint64_t> all(mine.size() * std::size_t(ranks));
  MPI_Allgather(mine.data(), kMaskWords, MPI_UINT64_T, all.data(), kMaskWords, MPI_UINT64_T, host);
  MPI_Comm_free(&host);
  bool identical = true, disjoint = true;
  for (int r = 0; r < ranks; ++r) {
    if (r == local) continue;
    for (int w = 0; w < kMaskWords; ++w) {
      const std::uint64_t other = all[std::size_t(r) * kMaskWords + std::size_t(w)];
      identical &= other == mine[std::size_t(w)];
      disjoint &= (other & mine[std::size_t(w)]) == 0;
    }
  }
  if (identical) return {local, ranks, ""};
  if (disjoint) return {};
  return {0, 0, "the " + std::to_string(ranks) + " ranks on this host have partly overlapping CPU sets (the "
                "launcher's binding); bind each rank to its own cores or to none (mpirun --bind-to none)"};
}

/// Pins OpenMP thread i of a team of cpus.size() to cpus[i]; "" or what went wrong.
std::string pin_openmp_pool(const std::vector<int>& cpus) {
  const int threads = int(cpus.size());
  std::atomic<int> failures{0}, team{0};
#pragma omp parallel num_threads(threads)
  {
    if (omp_get_thread_num() == 0) team = omp_get_num_threads();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[std::size_t(omp_get_thread_num())], &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) ++failures;
  }
  if (failures > 0) return "sched_setaffinity failed for " + std::to_string(failures.load()) + " OpenMP thread(s)";
  if (team != threads)
    return "the OpenMP runtime gave " + std::to_string(team.load()) + " threads instead of " + std::to_string(threads);
  return "";
}

}  // namespace

const char* to_string(PinMode mode) {
  switch (mode) {
    case PinMode::none: return "none";
    case PinMode::compact: return "compact";
    case PinMode::spread: return "spread";
  }
  return "?";
}

PinMode parse_pin_mode(const std::string& text) {
  for (PinMode m : {PinMode::none, PinMode::compact, PinMode::spread})
    if (text == to_string(m)) return m;
  throw std::invalid_argument("unknown pinning '" + text + "' (valid: none, compact, spread)");
}

std::vector<CpuPlace> allowed_cpu_places() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<CpuPlace> places;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return places;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) {
      const std::string topology = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
      places.push_back({cpu, read_int(topology + "physical_package_id"), read_int(topology + "core_id")});
    }
  return places;
}

PinPlan plan_pinning(PinMode mode, std::vector<CpuPlace> allowed, int threads, int share_index, int share_count) {
  if (mode == PinMode::none) return {};
  if (threads < 1) throw std::invalid_argument("plan_pinning: threads must be >= 1");
  if (share_count < 1 || share_index < 0 || share_index >= share_count)
    throw std::invalid_argument("plan_pinning: share_index must be in [0, share_count)");
  std::sort(allowed.begin(), allowed.end(), [](const CpuPlace& a, const CpuPlace& b) {
    return std::tie(a.package, a.core, a.cpu) < std::tie(b.package, b.core, b.cpu);
  });
  const std::size_t n = allowed.size(), shares = std::size_t(share_count);
  const std::vector<CpuPlace> mine(allowed.begin() + std::ptrdiff_t(n * std::size_t(share_index) / shares),
                                   allowed.begin() + std::ptrdiff_t(n * std::size_t(share_index + 1) / shares));
  if (mine.size() < std::size_t(threads)) {
    std::string why = std::to_string(threads) + " threads but " + std::to_string(mine.size()) + " CPU(s) to pin them to";
    why += share_count > 1 ? " (this rank's share of the " + std::to_string(n) + " allowed CPUs " + cpu_list(allowed) +
                                 ", split among " + std::to_string(share_count) + " ranks on this host)"
                           : " (allowed: " + cpu_list(allowed) + ")";
    return {{}, why + "; threads left unpinned"};
  }
  PinPlan plan;
  for (std::size_t i = 0; i < std::size_t(threads); ++i) {
    const std::size_t at = mode == PinMode::compact ? i : i * mine.size() / std::size_t(threads);
    plan.cpus.push_back(mine[at].cpu);
  }
  return plan;
}

nlohmann::json to_json(const PinReport& r) {
  return {{"mode", to_string(r.mode)}, {"applied", r.applied}, {"cpus", r.cpus}, {"reason", r.reason}};
}

PinReport pin_threads(PinMode mode, int threads, const MpiSession& mpi) {
  PinReport report;
  report.mode = mode;
  if (mode == PinMode::none) return report;
  const std::vector<CpuPlace> allowed = allowed_cpu_places();
  const Share share = host_share(mpi, allowed);  // collective under a launcher: every rank gets here
  if (share.count == 0) {
    report.reason = share.why;
    return report;
  }
  PinPlan plan = plan_pinning(mode, allowed, threads, share.index, share.count);
  if (!plan.refusal.empty()) {
    report.reason = plan.refusal;
    return report;
  }
  report.reason = pin_openmp_pool(plan.cpus);
  set_pool_placement(plan.cpus);  // TBB arenas owned by kernels pin their threads as they join
  report.applied = report.reason.empty();
  report.cpus = std::move(plan.cpus);
  return report;
}

}  // namespace attnbench
