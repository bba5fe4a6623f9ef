#pragma once
// Helpers of the `attnbench compare` tests: attnbench records with chosen samples, written as JSON Lines.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace attnbench::test_compare {

using nlohmann::json;

/// A minimal schema-1 record of one case with these timing samples (time null when there are none).
inline json record(const std::string& kernel, const std::string& problem, std::vector<double> samples,
                   const std::string& status = "ok", int threads = 1) {
  json r = {{"schema_version", 1}, {"kernel", kernel},   {"problem_str", problem}, {"threads", threads},
            {"ranks", 1},          {"status", status},   {"reason", status == "ok" ? "" : "because"},
            {"provenance", {{"host", "vm"}, {"cpu", "EPYC"}, {"cores", 2}, {"compiler", "GNU 12"},
                            {"build_type", "Release"}, {"flags", "-O3"}, {"git_commit", "c1"}}}};
  r["time"] = samples.empty() ? json(nullptr) : json{{"median_s", samples[0]}, {"samples_s", samples}};
  return r;
}

/// `records` as a JSON Lines file `name` in `dir`.
inline std::filesystem::path write_lines(const test_support::TempDir& dir, const std::string& name,
                                         const std::vector<json>& records) {
  const std::filesystem::path path = dir / name;
  std::ofstream out(path);
  for (const json& r : records) out << r.dump() << "\n";
  return path;
}

/// n samples around `median` with +-`spread` relative uniform noise (mt19937's output is fixed by the
/// standard, so these samples are the same everywhere).
inline std::vector<double> noisy(double median, std::size_t n, unsigned seed, double spread = 0.02) {
  std::mt19937 gen(seed);
  std::vector<double> s(n);
  for (double& v : s) v = median * (1 + spread * (2 * (double(gen()) / 4294967296.0) - 1));
  return s;
}

}  // namespace attnbench::test_compare
