#pragma once
// --resume: which cases of a sweep are already in its results file. A case is the same when its
// problem_str, kernel, threads, ranks and build (git commit and compile flags, from the record's
// provenance) all match: a record from another build measured other code and does not count.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep_grid.hpp"

namespace attnbench {

/// The identity of a case on resume.
std::string resume_key(const std::string& problem_str, const std::string& kernel, int threads, int ranks,
                       const std::string& git_commit, const std::string& flags);

/// The key a planned case will have when run by this build under a launch of `launch_ranks`.
std::string planned_key(const SweepCase& c, int launch_ranks);

/// The key of a record, or nullopt when a field it needs is missing or of the wrong type.
std::optional<std::string> record_key(const nlohmann::json& record);

struct ResumeScan {
  std::set<std::string> done;         ///< keys of cases that need not run again
  std::set<std::string> recorded;     ///< keys of cases this build has any record of (a rerun's record says so)
  std::size_t records = 0;            ///< records read
  std::size_t failed_to_retry = 0;    ///< failed cases (without a later ok record) that --retry-failed runs again
  std::size_t other_build = 0;        ///< records of another build (their cases run again)
  std::vector<std::string> warnings;  ///< lines that are not records, e.g. a torn last line
};

/// Reads `path` (a missing file is an empty scan). ok and skipped records count as done, failed ones
/// too unless `retry_failed`. Throws ResultsFileError when the file cannot be read.
ResumeScan scan_for_resume(const std::filesystem::path& path, bool retry_failed);

}  // namespace attnbench
