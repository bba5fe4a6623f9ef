// Hardware counters through perf_event_open (perf_counters.hpp).
#include "perf_counters.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace attnbench {
namespace {

struct EventSpec {
  const char* name;
  std::uint64_t config;  // PERF_TYPE_HARDWARE
};

const EventSpec kEvents[] = {{"cycles", PERF_COUNT_HW_CPU_CYCLES},
                             {"instructions", PERF_COUNT_HW_INSTRUCTIONS},
                             {"cache_references", PERF_COUNT_HW_CACHE_REFERENCES},
                             {"cache_misses", PERF_COUNT_HW_CACHE_MISSES},
                             {"branch_misses", PERF_COUNT_HW_BRANCH_MISSES}};

long perf_event_open(perf_event_attr* attr, pid_t tid) {
  return syscall(SYS_perf_event_open, attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

std::vector<pid_t> threads_of_this_process() {
  std::vector<pid_t> tids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec))
    tids.push_back(pid_t(std::stol(entry.path().filename().string())));
  if (tids.empty()) tids.push_back(pid_t(syscall(SYS_gettid)));
  return tids;
}

int paranoid_level() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  int level = 0;
  return (in >> level) ? level : 99;
}

/// One counter per (event, thread), each inheriting into the threads its thread creates later.
class PerfEventReader final : public CounterReader {
 public:
  ~PerfEventReader() override { close_all(); }

  std::string begin() override {
    close_all();
    reason_.clear();
    const std::vector<pid_t> tids = threads_of_this_process();
    fds_.assign(std::size(kEvents), {});
    for (std::size_t e = 0; e < std::size(kEvents); ++e)
      for (pid_t tid : tids) {
        perf_event_attr attr{};
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_HARDWARE;
        attr.config = kEvents[e].config;
        attr.disabled = 1;
        attr.inherit = 1;         // threads created later count too
        attr.exclude_kernel = 1;  // allowed at perf_event_paranoid 2; the kernel's work is not ours
        attr.exclude_hv = 1;
        attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        const long fd = perf_event_open(&attr, tid);
        if (fd >= 0) {
          fds_[e].push_back(int(fd));
          continue;
        }
        const int err = errno;
        if (err == ESRCH) continue;  // the thread ended since it was listed
        if (e == 0) {                // no cycles counter: nothing will work
          reason_ = perf_open_failure(kEvents[e].name, err);
          close_all();
          return reason_;
        }
        for (int f : fds_[e]) ::close(f);  // this event alone is missing on this CPU
        fds_[e].clear();
        break;
      }
    for (const auto& event : fds_)
      for (int fd : event) ioctl(fd, PERF_EVENT_IOC_RESET, 0), ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    return "";
  }

  CounterReading end() override {
    CounterReading r;
    if (!reason_.empty() || fds_.empty()) {
      r.reason = reason_.empty() ? "the counters were never started" : reason_;
      return r;
    }
    r.available = true;
    for (std::size_t e = 0; e < std::size(kEvents); ++e) {
      std::optional<double> total;
      for (int fd : fds_[e]) {
        ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        std::uint64_t v[3] = {0, 0, 0};  // value, time enabled, time running
        if (::read(fd, v, sizeof v) != ssize_t(sizeof v)) continue;
        double value = double(v[0]);
        if (v[2] > 0 && v[2] < v[1]) {
          value *= double(v[1]) / double(v[2]);
          r.multiplexed = std::min(r.multiplexed, double(v[2]) / double(v[1]));
        }
        total = total.value_or(0) + value;
      }
      r.counts.emplace_back(kEvents[e].name, total);
    }
    close_all();
    return r;
  }

 private:
  void close_all() {
    for (const auto& event : fds_)
      for (int fd : event) ::close(fd);
    fds_.clear();
  }

  std::vector<std::vector<int>> fds_;  // [event][thread]
  std::string reason_;
};

std::string fixed(double x, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << x;
  return s.str();
}

}  // namespace

std::optional<double> CounterReading::count(const std::string& name) const {
  for (const auto& [n, v] : counts)
    if (n == name) return v;
  return std::nullopt;
}

const std::vector<std::string>& counter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const EventSpec& e : kEvents) n.emplace_back(e.name);
    return n;
  }();
  return names;
}

std::unique_ptr<CounterReader> make_perf_event_reader() { return std::make_unique<PerfEventReader>(); }

std::string perf_open_failure(const std::string& event, int err) {
  std::string call = "perf_event_open(" + event + ") failed: " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENODEV:
    case EOPNOTSUPP:
      return call + "; this kernel exposes no hardware performance-monitoring unit (common in VMs: the "
                    "hypervisor must offer a virtual PMU, e.g. KVM's -cpu host,pmu=on)";
    case EACCES:
    case EPERM:
      return call + "; not permitted at kernel.perf_event_paranoid = " + std::to_string(paranoid_level()) +
             " (lower it with 'sysctl kernel.perf_event_paranoid=2' or run with CAP_PERFMON)";
    case ENOSYS:
      return call + "; this kernel was built without perf events (CONFIG_PERF_EVENTS)";
    default:
      return call;
  }
}

nlohmann::json counters_json(const CounterReading& r, double forwards) {
  if (!r.available) return {{"available", false}, {"reason", r.reason}};
  nlohmann::json per_forward = nlohmann::json::object();
  for (const auto& [name, value] : r.counts)
    per_forward[name] = value ? nlohmann::json(*value / std::max(forwards, 1.0)) : nlohmann::json(nullptr);
  auto ratio = [&](const char* a, const char* b) -> nlohmann::json {
    const auto x = r.count(a), y = r.count(b);
    return x && y && *y > 0 ? nlohmann::json(*x / *y) : nlohmann::json(nullptr);
  };
  return {{"available", true},
          {"per_forward", per_forward},
          {"ipc", ratio("instructions", "cycles")},
          {"cache_miss_rate", ratio("cache_misses", "cache_references")},
          {"branch_misses_per_kilo_instruction",
           r.count("branch_misses") && r.count("instructions") && *r.count("instructions") > 0
               ? nlohmann::json(1000 * *r.count("branch_misses") / *r.count("instructions"))
               : nlohmann::json(nullptr)},
          {"multiplexed", r.multiplexed}};
}

std::string counters_line(const CounterReading& r, double forwards) {
  if (!r.available) return "hardware counters unavailable here: " + r.reason;
  const nlohmann::json j = counters_json(r, forwards);
  std::string line = "hardware counters (per forward):";
  for (const auto& [name, value] : r.counts)
    line += " " + name + " " + (value ? fixed(*value / std::max(forwards, 1.0) / 1e6, 2) + "M" : std::string("n/a"));
  if (j["ipc"].is_number()) line += "; IPC " + fixed(j["ipc"].get<double>(), 2);
  if (j["cache_miss_rate"].is_number()) line += ", cache misses " + fixed(100 * j["cache_miss_rate"].get<double>(), 1) + "% of references";
  if (r.multiplexed < 1) line += " (multiplexed: counted " + fixed(100 * r.multiplexed, 0) + "% of the time, scaled)";
  return line;
}

}  // namespace attnbench
