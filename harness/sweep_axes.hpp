#pragma once
// The axis grammar of `attnbench sweep`, pure text in and values out (no problems, no kernels):
//   lists   --heads 1,4,8,16          (repeatable: --heads 1 --heads 4 is the same as --heads 1,4)
//   ranges  --seq 256:16384:*2        geometric: 256, 512, ..., 16384
//           --seq 128:1024:+128       arithmetic: 128, 256, ..., 1024
//           START <= STOP; STOP is included when a step lands on it; a factor must be >= 2 and an
//           increment >= 1, so every range ends
//   zips    --zip seq,batch           the named axes advance together (i-th value with i-th value)
//                                     instead of being crossed; equal lengths required; repeatable;
//                                     --zip none: no zips (overrides a preset's)
// Every other axis is crossed with the rest (Cartesian product), the first axis outermost.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnbench {

/// Most values one axis may expand to, and most points a grid may have: far above any useful sweep,
/// low enough that a typo (`1:100000000:+1`) is an error at once rather than hours of planning.
inline constexpr std::size_t kMaxAxisValues = 10000;
inline constexpr std::size_t kMaxGridPoints = 1000000;

/// The numbers a range item denotes, e.g. "256:16384:*2". UsageError naming `option` for a malformed
/// range, an end outside [min, max], START > STOP, a step that makes no progress (*1, +0) or too many values.
std::vector<std::int64_t> expand_range(const std::string& option, const std::string& item, std::int64_t min,
                                       std::int64_t max);

/// A numeric axis: `items` (each a comma-separated list of numbers, ranges, or one of `words`) expanded in
/// order. Numbers come back in decimal, words as written. UsageError naming `option` otherwise.
std::vector<std::string> expand_numbers(const std::string& option, const std::vector<std::string>& items,
                                        std::int64_t min, std::int64_t max,
                                        const std::vector<std::string>& words = {});

/// A word axis (e.g. --mask none,causal): each entry must be one of `allowed` (UsageError with a
/// "did you mean" otherwise).
std::vector<std::string> expand_words(const std::string& option, const std::vector<std::string>& items,
                                      const std::vector<std::string>& allowed);

/// The groups of --zip items: each "a,b[,c...]" names two or more axes among `zippable` (option names
/// without "--"); an axis appears in at most one group. A single item "none" means no zips (to undo
/// a preset's). UsageError otherwise.
std::vector<std::vector<std::string>> parse_zips(const std::vector<std::string>& items,
                                                 const std::vector<std::string>& zippable);

/// One axis of a grid: its option name (without "--") and how many values it has.
struct AxisSize {
  std::string name;
  std::size_t size = 0;
};

/// The grid's points in order, each the index of every axis's value (aligned with `axes`). Axes are
/// crossed, the first outermost, except the members of a zip, which advance together at the place of
/// the zip's first member. UsageError for a zip naming an axis not in `axes` (not given), zipped axes of
/// unequal lengths, or more than kMaxGridPoints points.
std::vector<std::vector<std::size_t>> grid_points(const std::vector<AxisSize>& axes,
                                                  const std::vector<std::vector<std::string>>& zips);

}  // namespace attnbench
