// Provenance of a result: build facts, the machine (from /proc and POSIX calls), libraries, time.
#include "provenance.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <boost/version.hpp>
// Only the C API is needed; the MPI C++ bindings would only add compile time and warnings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <oneapi/tbb/version.h>

#include "build_info.hpp"
#include "rank_hosts.hpp"

namespace attnbench {
namespace {

const char* const kUnknown = "unknown";

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

/// nlohmann::json refuses to dump invalid UTF-8, and a record that cannot be dumped is a lost
/// measurement, so strings from the OS are reduced to printable ASCII.
std::string ascii_safe(std::string s) {
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) c = '?';
  }
  return s;
}

/// What /proc/cpuinfo says; fields stay empty when the file is missing or lacks them.
struct CpuInfo {
  std::string model;
  std::set<std::string> flags;
  std::set<std::pair<std::string, std::string>> cores;  // (physical id, core id)
};

/// Splits "key\t: value" into trimmed key and value; false for lines without a colon.
bool split_field(const std::string& line, std::string& key, std::string& value) {
  const auto colon = line.find(':');
  if (colon == std::string::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

CpuInfo read_cpuinfo() {
  CpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line, key, value;
  // Each processor is a block of lines ended by a blank line; its ids are paired at the end.
  std::string physical_id = "0", core_id;
  auto end_block = [&] {
    if (!core_id.empty()) info.cores.emplace(physical_id, core_id);
    physical_id = "0";
    core_id.clear();
  };
  while (std::getline(in, line)) {
    if (trim(line).empty()) {
      end_block();
      continue;
    }
    if (!split_field(line, key, value)) continue;
    if (key == "model name" && info.model.empty()) info.model = value;
    if (key == "flags" && info.flags.empty()) {
      std::istringstream words(value);
      for (std::string w; words >> w;) info.flags.insert(w);
    }
    if (key == "physical id") physical_id = value;
    if (key == "core id") core_id = value;
  }
  end_block();
  return info;
}

bool has_cpu_flag(const CpuInfo& info, const std::string& proc_name) {
  if (!info.flags.empty()) return info.flags.count(proc_name) > 0;
#if defined(__x86_64__) || defined(__i386__)
  // No /proc: ask the CPU directly (cpuid via the compiler's runtime).
  if (proc_name == "avx2") return __builtin_cpu_supports("avx2");
  if (proc_name == "fma") return __builtin_cpu_supports("fma");
  if (proc_name == "avx512f") return __builtin_cpu_supports("avx512f");
#endif
  return false;
}

nlohmann::json logical_cores() {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0) return online;
  const unsigned hc = std::thread::hardware_concurrency();
  if (hc > 0) return hc;
  return nullptr;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return kUnknown;
  return ascii_safe(buf);
}

std::string os_name() {
  utsname u{};
  if (uname(&u) != 0) return kUnknown;
  return ascii_safe(std::string(u.sysname) + " " + u.release);
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  char buf[32];
  if (gmtime_r(&now, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return kUnknown;
  }
  return buf;
}

std::string mpi_library_version() {
  // Legal before MPI_Init (MPI-3), so provenance works whether or not MPI is up.
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  if (MPI_Get_library_version(buf, &len) != MPI_SUCCESS) return kUnknown;
  // Some libraries count the terminating NUL in len; stop at the first NUL either way.
  const auto limit = static_cast<std::size_t>(std::clamp(len, 0, MPI_MAX_LIBRARY_VERSION_STRING));
  const std::string text(buf, ::strnlen(buf, limit));
  const std::string first = trim(text.substr(0, text.find('\n')));
  return first.empty() ? kUnknown : ascii_safe(first);
}

nlohmann::json library_versions() {
  nlohmann::json libs;
  libs["boost"] = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) +
                  "." + std::to_string(BOOST_VERSION % 100);
  libs["tbb"] = TBB_VERSION_STRING;
#ifdef _OPENMP
  libs["openmp"] = _OPENMP;
#else
  libs["openmp"] = nullptr;  // built without OpenMP
#endif
  libs["mpi"] = mpi_library_version();
  libs["nlohmann_json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                          std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                          std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  return libs;
}

}  // namespace

std::string cpu_model() {
  const std::string model = read_cpuinfo().model;
  return model.empty() ? kUnknown : ascii_safe(model);
}

nlohmann::json provenance(int threads, int ranks) {
  const BuildInfo& build = build_info();
  const CpuInfo cpu = read_cpuinfo();
  nlohmann::json p;
  p["version"] = build.version;
  p["git_commit"] = build.git_commit;
  p["compiler"] = build.compiler;
  p["flags"] = build.flags;
  p["build_type"] = build.build_type;
  p["cpu"] = cpu.model.empty() ? kUnknown : ascii_safe(cpu.model);
  p["cores"] = logical_cores();
  if (!cpu.cores.empty()) p["physical_cores"] = cpu.cores.size();
  p["cpu_flags"] = {{"avx2", has_cpu_flag(cpu, "avx2")},
                    {"fma", has_cpu_flag(cpu, "fma")},
                    {"avx512f", has_cpu_flag(cpu, "avx512f")}};
  const std::string host = host_name();
  p["host"] = host;
  // Which machines the ranks ran on (collective under MPI: every rank calls provenance()).
  const RankHosts where = gather_rank_hosts(ascii_safe(node_name(host)));
  p["hosts"] = where.hosts;
  p["nodes"] = where.hosts.size();
  p["rank_hosts"] = where.rank_host;
  if (const char* job = std::getenv("SLURM_JOB_ID")) p["slurm_job_id"] = ascii_safe(job);
  p["os"] = os_name();
  p["threads"] = threads;
  p["ranks"] = ranks;
  p["time"] = utc_now_iso8601();
  p["libraries"] = library_versions();
  return p;
}

}  // namespace attnbench
