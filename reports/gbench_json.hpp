#pragma once
// Google Benchmark's JSON output (`--benchmark_out=FILE`, or `--benchmark_format=json`), read into runs
// with their per-repetition samples.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench::reports {

/// One benchmark run (a run name, e.g. "BM_Foo/64/threads:2") and its samples.
///
/// Samples are the "iteration" rows' real_time, converted to seconds: each is one repetition's mean time
/// per iteration (real time, because the attnbench programs time with UseRealTime and a parallel
/// kernel's CPU time counts every thread). With --benchmark_repetitions=N there are N rows and so N
/// samples. Aggregate rows (mean, median, stddev, cv, user-defined) are not samples; when a file holds only
/// aggregates (--benchmark_report_aggregates_only) the "median" row is kept in `aggregate_median_s` and
/// there are no samples, so no statistical test is possible.
struct GbenchRun {
  std::string name;  ///< run_name (name without an aggregate suffix)
  int threads = 1;
  std::vector<double> samples_s;
  std::optional<double> aggregate_median_s;
  std::string error;  ///< the error or skip message of a run that did not complete; "" otherwise
  std::vector<std::size_t> rows;  ///< indices into GbenchFile::rows of this run's rows
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's destructor can allocate; not our code
struct GbenchFile {
  nlohmann::json context;          ///< the file's "context" object (machine, library, custom context)
  std::vector<nlohmann::json> rows;  ///< the "benchmarks" array as written
  std::vector<GbenchRun> runs;     ///< in order of first appearance
};

/// Whether `text` is Google Benchmark JSON rather than attnbench JSON Lines: its first line is a lone
/// "{" (Google Benchmark pretty-prints; an attnbench record is one line), or the whole text is one
/// object with a "benchmarks" member.
bool looks_like_gbench_json(const std::string& text);

/// Parses Google Benchmark JSON. `file` names the input in errors. Throws ResultSetError
/// (result_set.hpp) with a one-line message naming the file and the problem: not JSON (with the
/// parser's position), no "benchmarks" array, a row without name/real_time/time_unit, an unknown time
/// unit, a negative or non-finite time, or no benchmark at all.
GbenchFile parse_gbench_json(const std::string& file, const std::string& text);

}  // namespace attnbench::reports
