#pragma once
// The records a report is made from, as typed values that remember where they came from (file and
// line), so every number the report states can be traced back to its record.
//
// Reading is lenient the way the report needs: a field that is missing or of the wrong type is
// simply absent (an older or foreign record still reports what it has); a line that is not a JSON
// object, or a record without kernel/problem, is passed over with a warning naming file:line.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnbench::report {

struct CommPhase {
  std::string phase;
  double bytes = 0;
  double seconds_max = 0;  ///< the slowest rank's time inside the phase's MPI calls
};

/// `roofline` of a record (run --machine), or the one computed from `report --machine`.
struct RooflinePoint {
  bool memory_bound = false;
  double intensity = 0;          ///< flops per compulsory byte
  double ridge = 0;              ///< flops per byte where the roofs meet
  double attainable_gflops = 0;  ///< min(peak, intensity x triad)
  double peak_gflops = 0;        ///< FMA peak for the case's threads x ranks
  double triad_gbytes_per_s = 0;
  double pct_peak = 0;
};

struct CaseRecord {
  // Where it came from.
  std::string file;  ///< the file's name in citations (SourceFile::name)
  int line = 0;      ///< 1-based
  // What was measured.
  std::string kernel, family, op, problem_str;
  std::int64_t batch = 0, heads = 0, kv_heads = 0, seq_q = 0, seq_kv = 0, head_dim = 0, value_dim = 0;
  std::string mask, score;
  bool projections = false;
  std::int64_t kernel_size = 3, dilation = 1, layers = 1;
  bool bidirectional = false;
  int threads = 1, ranks = 1;
  std::string status, reason;
  // Measurements (absent when the record has none).
  std::optional<double> median_s, ci_low_s, ci_high_s;
  int repetitions = 0;
  std::optional<double> gflops, gbytes_per_s, tokens_per_s, pct_peak;
  std::optional<double> flops, bytes, sequential_steps;
  std::optional<double> peak_rss_bytes, model_bytes;
  std::optional<double> max_rel_error;
  std::optional<bool> check_passed;
  double comm_bytes = 0, comm_seconds = 0;
  std::vector<CommPhase> comm_phases;
  std::optional<RooflinePoint> roofline;
  // Provenance.
  std::string host, cpu, git_commit, build_type, compiler, flags, version, time;
  std::string preset;  ///< sweep.preset, "(sweep, no preset)", or "(attnbench run)"

  bool ok() const { return status == "ok" && median_s && *median_s > 0; }
  /// heads x head_dim: the width attention and the baselines are matched on.
  std::int64_t model_dim() const { return heads * head_dim; }
  /// "file:line", how the report cites a record.
  std::string where() const { return file + ":" + std::to_string(line); }
  /// The machine a record was measured on (host and CPU) and the build that measured it.
  std::string machine_key() const { return host + " / " + cpu; }
  std::string build_key() const { return git_commit + " " + build_type + " " + compiler + " " + flags; }
};

/// A results file as named on the command line, and the shorter name the report cites it by: its
/// file name when the files' names are distinct (results/2026-11-21/run.jsonl -> run.jsonl), else the path.
struct SourceFile {
  std::string path, name;
};

struct LoadedResults {
  std::vector<SourceFile> files;      ///< in command-line order
  std::vector<CaseRecord> cases;      ///< in file order, files in command-line order
  std::vector<std::string> warnings;  ///< lines passed over, with file:line and why
};

/// Reads every file. Throws UsageError (exit 2, one line) when a file cannot be read or holds no
/// record at all.
LoadedResults load_results(const std::vector<std::string>& files);

/// Fills each record's roofline and pct_peak from a machine profile (report --machine FILE),
/// replacing what the records carried; cases whose thread count the profile lacks keep theirs.
/// Throws UsageError when the profile cannot be read.
void apply_machine_profile(const std::string& profile_path, std::vector<CaseRecord>& cases);

}  // namespace attnbench::report
