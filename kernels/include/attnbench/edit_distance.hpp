#pragma once
/// \file edit_distance.hpp
/// Levenshtein distance, for "did you mean" suggestions (kernel ids here, option names in the CLI).
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

namespace attnbench {

/// Insertions, deletions and substitutions needed to turn `a` into `b`.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);  // row[j]: distance between a[0, i) and b[0, j)
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace attnbench
