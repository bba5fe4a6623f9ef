#pragma once
// The append-only JSON Lines results store: one record per line, synced to disk as it is written.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench {

/// A results file could not be opened or written. The message is one line naming the path, the
/// OS reason and what to do about it.
class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An open results file. Records are only ever appended: an existing file is never truncated or
/// rewritten, so a killed sweep loses nothing already measured and can resume.
class ResultsFile {
 public:
  /// Opens `path` for appending, creating it (mode 0644) if missing. Construct it before any
  /// measurement so that a bad --out fails in a second, not after an hour of benchmarking.
  /// Throws ResultsFileError (e.g. the directory does not exist, permission denied, the path is
  /// a directory). If the file's last line is torn (no final '\n', a previous run killed
  /// mid-write), the next append starts a fresh line so the new record stays readable.
  explicit ResultsFile(std::filesystem::path path);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;
  ResultsFile(ResultsFile&& other) noexcept;
  ResultsFile& operator=(ResultsFile&& other) noexcept;

  /// Writes `record` as one compact line and fsyncs it, so it survives a crash or power loss
  /// once this returns. Throws ResultsFileError naming the path and the OS reason (e.g. no space
  /// left on device, file too large, I/O error); records written before stay intact.
  void append(const nlohmann::json& record);

  /// The path given at construction.
  const std::filesystem::path& path() const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  /// Whether the file may end in a torn line; checked (and repaired) on the next append.
  bool check_tail_ = true;
};

/// Reads every record of a JSON Lines results file. Empty lines, torn lines and lines that are
/// not a JSON object are skipped; for each, a message with the path and 1-based line number is
/// added to `*warnings` (when not null). Throws ResultsFileError when the file cannot be read.
std::vector<nlohmann::json> read_results(const std::filesystem::path& path,
                                         std::vector<std::string>* warnings);

}  // namespace attnbench
