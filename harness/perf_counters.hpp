#pragma once
// Hardware counters (cycles, instructions, cache references and misses, branch misses) of this
// process's threads over an interval, through Linux perf_event_open, for `attnbench profile`.
//
// Many VMs expose no PMU (this project's dev VM among them): then opening the first counter fails and
// the reading says why, in words a user can act on (no PMU, perf_event_paranoid, no perf support),
// instead of zeros. The reader is an interface so that tests can inject a fake one for the path
// where counters are available.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench {

/// One counted interval.
struct CounterReading {
  bool available = false;
  std::string reason;  ///< !available: why ("perf_event_open(cycles) failed: ...; ...")
  /// Per event name (cycles, instructions, cache_references, cache_misses, branch_misses): the count
  /// over the interval, scaled by time_enabled / time_running when the kernel multiplexed it; nullopt
  /// for an event this CPU does not count while others work.
  std::vector<std::pair<std::string, std::optional<double>>> counts;
  double multiplexed = 1;  ///< the smallest time_running / time_enabled over the events (1: never multiplexed)
  std::optional<double> count(const std::string& name) const;
};

/// The events, in the order readings hold them.
const std::vector<std::string>& counter_names();

class CounterReader {
 public:
  virtual ~CounterReader() = default;
  /// Opens and starts the counters on every thread of the process (and threads they create later).
  /// Returns "" on success, else the reason they are unavailable (then end() repeats it).
  virtual std::string begin() = 0;
  /// Stops counting and returns the counts since begin().
  virtual CounterReading end() = 0;
};

/// The perf_event_open reader.
std::unique_ptr<CounterReader> make_perf_event_reader();

/// The reason for a failed perf_event_open of `event` with errno `err`, naming the cause and the
/// remedy (no PMU in a VM, kernel.perf_event_paranoid, missing kernel support).
std::string perf_open_failure(const std::string& event, int err);

/// Derived figures of a reading and `forwards` forward passes: IPC, miss rates, per-forward counts.
/// {"available": true, "per_forward": {...}, "ipc", "cache_miss_rate", "multiplexed"} or
/// {"available": false, "reason": "..."}.
nlohmann::json counters_json(const CounterReading& r, double forwards);

/// One line for the console: "hardware counters: IPC 2.31, ..." or
/// "hardware counters unavailable here: <reason>".
std::string counters_line(const CounterReading& r, double forwards);

}  // namespace attnbench
