#pragma once
// Command-line helpers shared by the Google Benchmark programs: our own `--name=value` flags are taken
// out of argv before Google Benchmark parses the rest.
#include <cstring>
#include <string>
#include <vector>

namespace attnbench::bench {

/// The value of `--name=value` (removed from argv), or `fallback` if absent.
inline std::string take_flag(int& argc, char** argv, const char* name, const char* fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      std::string value = argv[i] + prefix.size();
      for (int j = i; j < argc - 1; ++j) argv[j] = argv[j + 1];
      --argc;
      return value;
    }
  return fallback;
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

}  // namespace attnbench::bench
