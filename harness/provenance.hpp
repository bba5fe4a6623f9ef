#pragma once
// Where a result came from: the build, the machine, the libraries, the time.
#include <string>

#include <nlohmann/json.hpp>

namespace attnbench {

/// The record's "provenance" object. Keys:
///   version, git_commit, compiler, flags, build_type  (from build_info())
///   cpu             CPU model name from /proc/cpuinfo, or "unknown"
///   cores           logical CPUs online (null if the OS will not say)
///   physical_cores  distinct (physical id, core id) pairs in /proc/cpuinfo; absent when unknown
///   cpu_flags       {"avx2": bool, "fma": bool, "avx512f": bool} as the running CPU reports them
///   host, os        gethostname(); uname() sysname and release, e.g. "Linux 6.1.0-18-amd64"
///   hosts, nodes    the distinct places the MPI ranks ran on (Slurm node name, else host name) and
///                   their count; rank_hosts[r] indexes the host of rank r (rank_hosts.hpp)
///   slurm_job_id    SLURM_JOB_ID, only when Slurm started the run
///   threads, ranks  as given
///   time            UTC, ISO-8601, e.g. "2026-11-21T10:03:00Z"
///   libraries       {"boost", "tbb", "openmp" (the _OPENMP date number), "mpi", "nlohmann_json"}
/// Never throws for a missing or unreadable /proc file: the field becomes "unknown" (or is left
/// out, for physical_cores). Strings from the OS are made ASCII-safe so the record always dumps.
/// Safe to call before MPI_Init. Collective once MPI is initialised (it gathers the ranks' hosts):
/// every rank must call it at the same point.
nlohmann::json provenance(int threads, int ranks);

/// The CPU model name ("model name" in /proc/cpuinfo), or "unknown". For the console header.
std::string cpu_model();

}  // namespace attnbench
