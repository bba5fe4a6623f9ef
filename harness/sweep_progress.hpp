#pragma once
// What a sweep shows while it runs. On a terminal: one line, rewritten in place, with the case in
// flight (i/N, problem_str, kernel), the elapsed time and an ETA; finished cases leave a line only
// when they failed (every case with --verbose). Elsewhere (CI logs, a pipe): one plain line per
// finished case. --quiet: failures (on stderr) and the summary only.
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep_settings.hpp"

namespace attnbench {

/// Estimates the time the remaining cases will take from the cases seen so far: a case costs
/// a + b * flops, where a is the shortest case time seen (what every case pays: warm-up, the minimum
/// measuring time, set-up, the check) and b the seconds per flop beyond a of the case's kernel (over
/// all kernels until that kernel has finished a case). So a sweep's large cases, which take most of
/// its time, weigh what they cost, not what an average case costs.
class EtaModel {
 public:
  void add(const std::string& kernel, double flops, double seconds);
  /// Seconds for `remaining` (kernel, flops) cases; nullopt before any case was seen.
  std::optional<double> estimate(const std::vector<std::pair<std::string, double>>& remaining) const;

 private:
  std::optional<double> shortest_;
  std::map<std::string, std::vector<std::pair<double, double>>> seen_;  ///< kernel -> (flops, seconds)
};

/// One case the sweep will run, as the display names it.
struct ProgressCase {
  std::size_t index = 0;  ///< in the grid
  std::string problem, kernel;
  double flops = 0;
  bool expect_skip = false;  ///< planned as skipped (unsupported, too large): no time in the ETA
};

class SweepProgress {
 public:
  SweepProgress(std::ostream& out, std::ostream& err, bool terminal, Verbosity verbosity,
                std::vector<ProgressCase> cases);
  /// Case `index` starts; with --interleave the first of `group_cases` cases measured side by side,
  /// whose records come together: the ETA model gives each an equal share of the group's time.
  void begin(std::size_t index, std::size_t group_cases = 1);
  void finished(std::size_t index, const nlohmann::json& record);
  /// Refreshes the terminal line (elapsed, ETA); at most a few times a second.
  void tick();
  /// Prints `line` on stderr without mangling the terminal line.
  void note(const std::string& line);
  /// Clears the terminal line (before the summary).
  void clear();

  std::size_t ok() const { return ok_; }
  std::size_t skipped() const { return skipped_; }
  std::size_t failed() const { return failed_; }
  std::size_t done() const { return done_; }
  double elapsed_s() const;

 private:
  void draw();
  std::string position(std::size_t index) const;

  std::ostream& out_;
  std::ostream& err_;
  bool terminal_;
  Verbosity verbosity_;
  std::vector<ProgressCase> cases_;
  std::map<std::size_t, std::size_t> position_;  ///< grid index -> position in cases_
  EtaModel eta_;
  std::chrono::steady_clock::time_point start_, case_start_, last_draw_;
  std::optional<std::size_t> current_;
  std::size_t group_cases_ = 1;  ///< cases sharing the time since case_start_
  bool line_shown_ = false;
  std::size_t ok_ = 0, skipped_ = 0, failed_ = 0, done_ = 0;
};

/// "1:05:09", "2:10", "0:03".
std::string format_duration(double seconds);

}  // namespace attnbench
