#include "console_table.hpp"

#include <cmath>
#include <cstdio>
#include <iomanip>

namespace attnbench {

ConsoleTable::ConsoleTable(std::ostream& out, std::vector<Column> columns) : out_(out), columns_(std::move(columns)) {}

void ConsoleTable::print_header() {
  std::vector<std::string> titles;
  std::size_t total = 0;
  for (const Column& c : columns_) titles.push_back(c.title), total += std::size_t(c.width) + 2;
  print_row(titles);
  out_ << std::string(total > 2 ? total - 2 : 0, '-') << '\n';
}

void ConsoleTable::print_row(const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const std::string& cell = i < cells.size() ? cells[i] : std::string();
    if (i) out_ << "  ";
    out_ << (c.align_right ? std::right : std::left) << std::setw(c.width) << cell;
  }
  out_ << std::endl;  // flushed: a row is visible as soon as its case finishes
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return "-";
  const double magnitude = std::abs(value);
  const int decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : magnitude >= 0.1 ? 3 : 4;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  if (seconds < 1e-6) return format_number(seconds * 1e9) + " ns";
  if (seconds < 1e-3) return format_number(seconds * 1e6) + " us";
  if (seconds < 1) return format_number(seconds * 1e3) + " ms";
  return format_number(seconds) + " s";
}

std::string format_si(double value) {
  if (!std::isfinite(value)) return "-";
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (std::abs(value) >= 1000 && i < 4) value /= 1000, ++i;
  char buf[64];
  std::snprintf(buf, sizeof buf, i ? "%.2f%s" : "%.0f%s", value, suffix[i]);
  return buf;
}

}  // namespace attnbench
