#pragma once
// Command-line helpers shared by the Google Benchmark programs: our own `--name=value` flags are taken
// out of argv before Google Benchmark parses the rest.
#include <cmath>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "attnbench/registry.hpp"

namespace attnbench::bench {

/// The value of `--name=value` (removed from argv), or nothing if the flag is absent.
inline std::optional<std::string> take_flag(int& argc, char** argv, const char* name) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      std::string value = argv[i] + prefix.size();
      for (int j = i; j < argc - 1; ++j) argv[j] = argv[j + 1];
      --argc;
      return value;
    }
  return std::nullopt;
}

/// `text` as a whole number >= `minimum`, or nothing when it is not one (letters, trailing characters,
/// a fraction, out of range): the programs' flags refuse such values instead of reading a prefix of them.
inline std::optional<long long> whole_number(const std::string& text, long long minimum) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size() || v < minimum) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// `text` as a finite number > 0, or nothing.
inline std::optional<double> positive_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !(v > 0) || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// "a,b,,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ',') {
      if (i > start) items.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return items;
}

/// The registered kernels matching each comma-separated pattern of `--kernels=` (ids, globs,
/// families, all). A pattern matching nothing is reported on stderr as `program` and gives false.
inline bool kernels_matching(const std::string& text, const char* program, std::vector<const Kernel*>& out) {
  for (const std::string& pattern : split_commas(text)) {
    const auto matched = select_kernels(pattern);
    if (matched.empty()) {
      std::cerr << program << ": --kernels: no kernel matches '" << pattern << "' (attnbench list shows all)\n";
      return false;
    }
    out.insert(out.end(), matched.begin(), matched.end());
  }
  return true;
}

}  // namespace attnbench::bench
