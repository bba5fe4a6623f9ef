#pragma once
// A fixed-width text table printed row by row, so long runs show each case as it finishes.
#include <ostream>
#include <string>
#include <vector>

namespace attnbench {

class ConsoleTable {
 public:
  struct Column {
    std::string title;
    int width;
    bool align_right = true;
  };
  ConsoleTable(std::ostream& out, std::vector<Column> columns);
  void print_header();
  /// Cells longer than their column widen that line only; nothing is truncated.
  void print_row(const std::vector<std::string>& cells);

 private:
  std::ostream& out_;
  std::vector<Column> columns_;
};

/// "812 ns", "12.3 us", "4.56 ms", "1.23 s": three significant digits.
std::string format_seconds(double seconds);
/// Fixed precision with three significant digits, e.g. 1234 -> "1234", 12.345 -> "12.3", 0.01234 -> "0.0123".
std::string format_number(double value);
/// 1.2e6 -> "1.20M", 3400 -> "3.40k".
std::string format_si(double value);

}  // namespace attnbench
