// The sweep's axis grammar: any text either expands to values inside the bounds (at most
// kMaxAxisValues of them) or throws UsageError. Anything else (a crash, an overflow, a hang on a
// range that never ends, another exception) is a bug. The input is split at its first newline into a
// numeric axis item and a --zip item.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "exit_codes.hpp"
#include "sweep_axes.hpp"

namespace {

constexpr std::int64_t kMin = 1, kMax = std::int64_t{1} << 24;

void numbers(const std::string& item) {
  try {
    const std::vector<std::string> values = attnbench::expand_numbers("--seq", {item}, kMin, kMax, {"cover"});
    if (values.size() > attnbench::kMaxAxisValues) std::abort();
    for (const std::string& v : values)
      if (v != "cover" && (std::stoll(v) < kMin || std::stoll(v) > kMax)) std::abort();
  } catch (const attnbench::UsageError&) {
  }
}

void zips(const std::string& item) {
  try {
    const auto groups = attnbench::parse_zips({item}, {"seq", "seq-kv", "batch", "heads"});
    std::vector<attnbench::AxisSize> axes{{"seq", 3}, {"seq-kv", 3}, {"batch", 2}, {"heads", 3}};
    attnbench::grid_points(axes, groups);
  } catch (const attnbench::UsageError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = text.find('\n');
  numbers(std::string(text.substr(0, newline)));
  if (newline != std::string_view::npos) zips(std::string(text.substr(newline + 1)));
  return 0;
}
