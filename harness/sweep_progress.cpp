#include "sweep_progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ostream>

#include "console_table.hpp"

namespace attnbench {

void EtaModel::add(const std::string& kernel, double flops, double seconds) {
  shortest_ = shortest_ ? std::min(*shortest_, seconds) : seconds;
  seen_[kernel].emplace_back(flops, seconds);
}

std::optional<double> EtaModel::estimate(const std::vector<std::pair<std::string, double>>& remaining) const {
  if (!shortest_) return std::nullopt;
  const double fixed = *shortest_;
  // Seconds per flop beyond the fixed cost, of the cases in `cases`.
  const auto rate = [fixed](const std::vector<std::pair<double, double>>& cases) -> std::optional<double> {
    double flops = 0, seconds = 0;
    for (const auto& [f, s] : cases) flops += f, seconds += std::max(0.0, s - fixed);
    return flops > 0 ? std::optional<double>(seconds / flops) : std::nullopt;
  };
  std::vector<std::pair<double, double>> all;
  for (const auto& [kernel, cases] : seen_) all.insert(all.end(), cases.begin(), cases.end());
  const double overall = rate(all).value_or(0);
  double total = 0;
  for (const auto& [kernel, flops] : remaining) {
    const auto it = seen_.find(kernel);
    const double per_flop = it != seen_.end() ? rate(it->second).value_or(overall) : overall;
    total += fixed + per_flop * flops;
  }
  return total;
}

std::string format_duration(double seconds) {
  const long s = std::max(0L, std::lround(seconds));
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

namespace {

int terminal_width() {
  winsize w{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 20) return w.ws_col;
  return 100;
}

/// "1.23 ms +-0.4%  45.2 GFLOP/s" for a measured record; with `verbose` also the repetitions, the
/// check's error, set-up time and peak memory.
std::string measured_text(const nlohmann::json& r, bool verbose) {
  std::string text;
  const nlohmann::json& time = r.value("time", nlohmann::json());
  if (time.is_object()) {
    const double median = time.value("median_s", 0.0);
    text += format_seconds(median);
    const double low = time.value("ci95_low_s", median), high = time.value("ci95_high_s", median);
    if (median > 0) {
      char spread[32];
      std::snprintf(spread, sizeof spread, " +-%.1f%%", 50.0 * (high - low) / median);
      text += spread;
    }
    const nlohmann::json& rate = r.value("rate", nlohmann::json());
    if (rate.is_object()) text += "  " + format_number(rate.value("gflops", 0.0)) + " GFLOP/s";
    if (verbose) text += "  reps " + std::to_string(time.value("repetitions", 0));
  }
  if (verbose) {
    const nlohmann::json& check = r.value("check", nlohmann::json());
    if (check.is_object()) {
      char err[48];
      std::snprintf(err, sizeof err, "  check %.1e", check.value("max_rel_error", 0.0));
      text += err;
    }
    text += "  setup " + format_seconds(r.value("setup_s", 0.0));
    const nlohmann::json& memory = r.value("memory", nlohmann::json());
    if (memory.is_object() && memory.value("peak_rss_bytes", nlohmann::json()).is_number())
      text += "  peak RSS " + format_si(memory["peak_rss_bytes"].get<double>()) + "B";
  }
  return text;
}

}  // namespace

SweepProgress::SweepProgress(std::ostream& out, std::ostream& err, bool terminal, Verbosity verbosity,
                             std::vector<ProgressCase> cases)
    : out_(out), err_(err), terminal_(terminal), verbosity_(verbosity), cases_(std::move(cases)),
      start_(std::chrono::steady_clock::now()), case_start_(start_), last_draw_(start_) {
  for (std::size_t i = 0; i < cases_.size(); ++i) position_[cases_[i].index] = i;
}

double SweepProgress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string SweepProgress::position(std::size_t index) const {
  const std::string total = std::to_string(cases_.size());
  std::string i = std::to_string(position_.at(index) + 1);
  i.insert(0, total.size() - std::min(total.size(), i.size()), ' ');
  return "[" + i + "/" + total + "]";
}

void SweepProgress::begin(std::size_t index, std::size_t group_cases) {
  current_ = index;
  group_cases_ = std::max<std::size_t>(1, group_cases);
  case_start_ = std::chrono::steady_clock::now();
  draw();
}

void SweepProgress::finished(std::size_t index, const nlohmann::json& record) {
  const ProgressCase& c = cases_.at(position_.at(index));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - case_start_).count() /
                        double(group_cases_);
  const std::string status = record.value("status", "failed");
  ++done_;
  if (status == "ok") ++ok_, eta_.add(c.kernel, c.flops, seconds);
  else if (status == "skipped") ++skipped_;
  else ++failed_;
  if (current_ == index) current_.reset();

  const bool failed = status != "ok" && status != "skipped";
  std::string line = position(index) + " " + status + std::string(std::max<int>(1, 8 - int(status.size())), ' ') +
                     c.problem + "  " + c.kernel;
  const std::string reason = record.value("reason", "");
  if (status == "ok") line += "  " + measured_text(record, verbosity_ == Verbosity::verbose);
  else if (!reason.empty()) line += ": " + reason;

  if (verbosity_ == Verbosity::quiet) {
    if (failed) note(line);
    return;
  }
  // On a terminal only what needs attention stays on screen (and everything with --verbose).
  if (!terminal_ || failed || verbosity_ == Verbosity::verbose) {
    clear();
    out_ << line << "\n";
  }
  draw();
}

void SweepProgress::tick() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(500)) draw();
}

void SweepProgress::note(const std::string& line) {
  clear();
  out_.flush();
  err_ << line << "\n";
  err_.flush();
  draw();
}

void SweepProgress::clear() {
  if (!line_shown_) return;
  out_ << "\r\x1b[K";
  out_.flush();
  line_shown_ = false;
}

void SweepProgress::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  if (!terminal_ || verbosity_ == Verbosity::quiet) {
    out_.flush();
    return;
  }
  std::vector<std::pair<std::string, double>> remaining;
  for (std::size_t i = done_; i < cases_.size(); ++i)
    if (!cases_[i].expect_skip && cases_[i].index != current_) remaining.emplace_back(cases_[i].kernel, cases_[i].flops);
  std::string line;
  if (current_) {
    const ProgressCase& c = cases_.at(position_.at(*current_));
    line = position(*current_) + " " + c.problem + "  " + c.kernel;
  } else {
    line = "[" + std::to_string(done_) + "/" + std::to_string(cases_.size()) + "]";
  }
  line += "  elapsed " + format_duration(elapsed_s());
  std::optional<double> eta = eta_.estimate(remaining);
  if (eta && current_) {
    // The case in flight: its own estimate, less the time it has run already.
    const ProgressCase& c = cases_.at(position_.at(*current_));
    const double ran = std::chrono::duration<double>(last_draw_ - case_start_).count();
    *eta += std::max(0.0, eta_.estimate({{c.kernel, c.flops}}).value_or(0) - ran);
  }
  line += "  ETA " + (eta ? format_duration(*eta) : std::string("--"));
  const std::size_t width = std::size_t(terminal_width()) - 1;
  if (line.size() > width) line.resize(width);
  out_ << "\r\x1b[K" << line;
  out_.flush();
  line_shown_ = true;
}

}  // namespace attnbench
