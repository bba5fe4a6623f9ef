// Memory limits and usage of this process, read from /proc, cgroups and rlimits.
#include "memory_info.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace attnbench {
namespace {

namespace fs = std::filesystem;
using Bytes = std::optional<std::int64_t>;

/// cgroup v1 reports "no limit" as a huge page-aligned number near 2^63; anything this large
/// is not a real limit.
constexpr std::int64_t kNoLimitAbove = std::int64_t{1} << 60;

/// The value in kB of a "Key:   123 kB" line of a /proc file, in bytes.
Bytes proc_kb_field(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream rest(line.substr(key.size() + 1));
    std::int64_t kb = 0;
    if (rest >> kb && kb >= 0) return kb * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

/// A file holding a single integer (cgroup files); nullopt when missing, "max" or unparsable.
Bytes read_integer_file(const fs::path& file) {
  std::ifstream in(file);
  std::int64_t value = 0;
  if (!(in >> value) || value < 0) return std::nullopt;
  return value;
}

Bytes min_known(Bytes a, Bytes b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

/// The cgroup path of this process for one hierarchy from /proc/self/cgroup:
/// the "0::/path" line for v2, the line listing the "memory" controller for v1.
std::optional<std::string> own_cgroup(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (v2 && line.substr(0, first) == "0" && controllers.empty()) return path;
    if (!v2) {
      std::istringstream names(controllers);
      for (std::string name; std::getline(names, name, ',');) {
        if (name == "memory") return path;
      }
    }
  }
  return std::nullopt;
}

/// The smallest (limit - usage) over the process's cgroup and its ancestors under `mount`. A
/// parent's limit caps its children, and inside a container the process's own path may not
/// exist (the container sees its cgroup as the mount root), so every level is tried.
Bytes cgroup_headroom(const fs::path& mount, const char* limit_file, const char* usage_file, bool v2) {
  const std::optional<std::string> own = own_cgroup(v2);
  const fs::path relative = fs::path(own.value_or("/")).relative_path();
  fs::path dir = relative.empty() ? mount : mount / relative;
  Bytes headroom;
  while (true) {
    const Bytes limit = read_integer_file(dir / limit_file);
    const Bytes usage = read_integer_file(dir / usage_file);
    if (limit && *limit < kNoLimitAbove) {
      headroom = min_known(headroom, std::max<std::int64_t>(0, *limit - usage.value_or(0)));
    }
    if (dir == mount || !dir.has_relative_path() || dir.parent_path() == dir) break;
    dir = dir.parent_path();
  }
  return headroom;
}

/// Address space left under RLIMIT_AS, if one is set.
Bytes address_space_headroom() {
  rlimit lim{};
  if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return std::nullopt;
  const rlim_t capped = std::min<rlim_t>(lim.rlim_cur, std::numeric_limits<std::int64_t>::max());
  const auto limit = static_cast<std::int64_t>(capped);
  const Bytes used = proc_kb_field("/proc/self/status", "VmSize");
  return std::max<std::int64_t>(0, limit - used.value_or(0));
}

}  // namespace

std::int64_t available_memory_bytes(int processes_sharing) {
  Bytes best = proc_kb_field("/proc/meminfo", "MemAvailable");
  best = min_known(best, cgroup_headroom("/sys/fs/cgroup", "memory.max", "memory.current", true));
  best = min_known(best, cgroup_headroom("/sys/fs/cgroup/memory", "memory.limit_in_bytes",
                                         "memory.usage_in_bytes", false));
  if (best && processes_sharing > 1) *best /= processes_sharing;
  best = min_known(best, address_space_headroom());
  return best.value_or(-1);
}

std::int64_t peak_rss_bytes() {
  if (const Bytes hwm = proc_kb_field("/proc/self/status", "VmHWM")) return *hwm;
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // kB on Linux
  return -1;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::string format_bytes(std::int64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  // Work on the magnitude as unsigned so that INT64_MIN has one.
  const std::uint64_t magnitude =
      bytes < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(bytes) : static_cast<std::uint64_t>(bytes);
  const std::string sign = bytes < 0 ? "-" : "";
  std::size_t unit = 0;
  while (unit + 1 < std::size(kUnits) && magnitude >= (std::uint64_t{1} << (10 * (unit + 1)))) ++unit;

  char buf[48];
  const std::uint64_t scale = std::uint64_t{1} << (10 * unit);
  if (magnitude % scale == 0) {
    std::snprintf(buf, sizeof buf, "%s%llu %s", sign.c_str(),
                  static_cast<unsigned long long>(magnitude / scale), kUnits[unit]);
  } else {
    double value = static_cast<double>(magnitude) / static_cast<double>(scale);
    // 1023.999 KiB would print as "1024.00 KiB"; say "1.00 MiB" instead.
    if (value >= 1023.995 && unit + 1 < std::size(kUnits)) {
      value /= 1024;
      ++unit;
    }
    std::snprintf(buf, sizeof buf, "%s%.2f %s", sign.c_str(), value, kUnits[unit]);
  }
  return buf;
}

}  // namespace attnbench
