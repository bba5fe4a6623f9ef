#pragma once
// Result sets: attnbench results files (JSON Lines, docs/RESULTS.md) and Google Benchmark JSON
// (`--benchmark_out`) loaded into one in-memory list of cases, each with its timing samples, keyed by
// case. `attnbench compare` and `attnbench report` read their inputs through this.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench::reports {

/// A file that cannot be used: unreadable, malformed, or of the wrong kind. The message is one line
/// that names the file and the problem (and what to do when that is not obvious).
class ResultSetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ResultFormat {
  attnbench,  ///< attnbench results file: JSON Lines, one record per (case, kernel) (docs/RESULTS.md)
  gbench,     ///< Google Benchmark JSON: one object with "context" and "benchmarks"
};
const char* to_string(ResultFormat f);

/// What identifies a case across result sets.
/// attnbench records: (kernel, problem_str, threads, ranks).
/// Google Benchmark rows: the benchmark's run name (its name without an aggregate suffix) in `kernel`,
/// `problem` empty, `threads` the row's thread count, `ranks` 1.
struct CaseKey {
  std::string kernel;
  std::string problem;
  int threads = 1;
  int ranks = 1;
  auto operator<=>(const CaseKey&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 on defaulted <=>
  /// "mha.blocked.omp b1_h8_sq512_d64 t2 r1" for attnbench keys; the benchmark name for gbench keys
  /// (Google Benchmark already puts "/threads:N" in it when a benchmark runs on several threads).
  std::string str() const;
};

/// One case of a result set, every record or repetition of it pooled.
///
/// Pooling: a file may hold the same case several times (interleaved rounds of a regression check, a
/// resumed sweep, several files given for one side). Their timing samples are concatenated in file
/// order, since each round measured the same build on the same machine and more samples narrow the
/// comparison. The status is the worst one seen (failed > ok > skipped) and `check_passed` is false
/// when any record's check failed, so one bad round is never hidden by good ones. One exception: a
/// sweep record marked "sweep": {"rerun": true} (a case `sweep --resume` ran again: a failure retried,
/// a half-done --interleave group) replaces the earlier records of its case from the same build in the
/// same file, which are not pooled.
struct ResultCase {
  CaseKey key;
  std::string status = "ok";  ///< "ok", "skipped" or "failed" (gbench: an error_occurred/skipped row is "skipped")
  std::string reason;         ///< why skipped/failed, from the worst record; "" when ok
  std::vector<double> samples_s;        ///< seconds per run of the case, pooled over records/repetitions
  /// One value per pooled record that has samples: the median of its samples (attnbench), or the
  /// repetition's time (gbench, where each row is one repetition). The independent units when the
  /// records are rounds (CompareOptions::by_record).
  std::vector<double> record_medians_s;
  std::optional<bool> check_passed;     ///< correctness check (attnbench --check); absent when never checked
  std::optional<double> max_rel_error;  ///< the largest error any pooled record reported
  /// gbench only: the "median" aggregate row's real time when the file holds aggregates but no
  /// per-repetition rows (`--benchmark_report_aggregates_only`): a median without samples.
  std::optional<double> aggregate_median_s;
  std::vector<nlohmann::json> records;  ///< the records pooled here (attnbench) or the rows (gbench), in file order
  std::vector<std::string> sources;     ///< "FILE:record N" (attnbench) or "FILE:benchmark N" (gbench), as records
};

/// Where one file's results came from, reduced to what tells whether two sets can be compared.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's destructor can allocate; not our code
struct Provenance {
  std::string file;
  std::string machine;  ///< host, CPU model and logical cores, e.g. "vm (AMD EPYC 9B14, 2 cores)"
  std::string build;    ///< compiler, build type and flags; not the commit, which a comparison expects to differ
  std::string commit;   ///< git commit ("" when the input does not say, e.g. gbench without our context)
  nlohmann::json raw;   ///< the first record's "provenance" (attnbench) or the file's "context" (gbench)
};

/// Every case of one or several files of the same format.
struct ResultSet {
  ResultFormat format = ResultFormat::attnbench;
  std::vector<std::string> files;
  std::vector<ResultCase> cases;       ///< in order of first appearance
  std::vector<Provenance> provenance;  ///< one per distinct (machine, build, commit), in order of appearance
  std::vector<std::string> warnings;   ///< lines skipped as unreadable (torn last line, ...), with file and line

  /// The case with this key, or null.
  const ResultCase* find(const CaseKey& key) const;
};

/// The format of `path`, from its content: one JSON object with a "benchmarks" array is Google
/// Benchmark's; anything else is read as attnbench JSON Lines. Throws ResultSetError when the file
/// cannot be read or is empty.
ResultFormat detect_format(const std::filesystem::path& path);

/// Loads `files` (at least one) into one set, pooling repeated cases (see ResultCase). All files must
/// have the same format. Throws ResultSetError, naming the file, when a file cannot be read, holds no
/// usable record, holds records of another kind (projections, model validations, a machine profile),
/// a record lacks a required field or has an unknown schema_version, or the formats differ.
ResultSet load_result_set(const std::vector<std::filesystem::path>& files);

}  // namespace attnbench::reports
