#include "sweep_resume.hpp"

#include "build_info.hpp"
#include "record.hpp"
#include "results_file.hpp"
#include "sweep_cases.hpp"

namespace attnbench {

std::string resume_key(const std::string& problem_str, const std::string& kernel, int threads, int ranks,
                       const std::string& git_commit, const std::string& flags) {
  // '\x1f' (unit separator) cannot occur in any of the fields.
  const char sep = '\x1f';
  return problem_str + sep + kernel + sep + std::to_string(threads) + sep + std::to_string(ranks) + sep +
         git_commit + sep + flags;
}

std::string planned_key(const SweepCase& c, int launch_ranks) {
  const BuildInfo& b = build_info();
  return resume_key(c.problem.str(), c.kernel->id(), c.kernel->effective_threads(RunContext{c.threads}),
                    case_ranks(c, launch_ranks), b.git_commit, b.flags);
}

std::optional<std::string> record_key(const nlohmann::json& r) {
  const auto text = [&](const nlohmann::json& object, const char* key) -> const nlohmann::json* {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? &*it : nullptr;
  };
  const auto number = [&](const char* key) -> const nlohmann::json* {
    const auto it = r.find(key);
    return it != r.end() && it->is_number_integer() ? &*it : nullptr;
  };
  const auto prov = r.find("provenance");
  if (prov == r.end() || !prov->is_object()) return std::nullopt;
  const nlohmann::json *problem = text(r, "problem_str"), *kernel = text(r, "kernel"), *threads = number("threads"),
                       *ranks = number("ranks"), *commit = text(*prov, "git_commit"), *flags = text(*prov, "flags");
  if (!problem || !kernel || !threads || !ranks || !commit || !flags) return std::nullopt;
  return resume_key(problem->get<std::string>(), kernel->get<std::string>(), threads->get<int>(), ranks->get<int>(),
                    commit->get<std::string>(), flags->get<std::string>());
}

ResumeScan scan_for_resume(const std::filesystem::path& path, bool retry_failed) {
  ResumeScan scan;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return scan;
  const BuildInfo& b = build_info();
  std::set<std::string> failed;
  for (const nlohmann::json& r : read_results(path, &scan.warnings)) {
    ++scan.records;
    // Appending this build's records to a file of another schema would mix two formats in one file.
    if (const auto version = r.find("schema_version");
        version != r.end() && version->is_number_integer() && *version != kSchemaVersion)
      throw ResultsFileError(path.string() + ": record " + std::to_string(scan.records) + " has schema_version " +
                             version->dump() + " but this attnbench writes " + std::to_string(kSchemaVersion) +
                             " (a newer or older attnbench wrote it); resume with that attnbench, or give a new --out");
    const std::optional<std::string> key = record_key(r);
    if (!key) {
      scan.warnings.push_back(path.string() + ": a record without problem_str, kernel, threads, ranks or provenance; "
                              "not counted as done");
      continue;
    }
    const nlohmann::json& prov = r["provenance"];
    if (prov["git_commit"] != b.git_commit || prov["flags"] != b.flags) {
      ++scan.other_build;
      continue;
    }
    scan.recorded.insert(*key);
    const auto status_field = r.find("status");  // not a string: not a record of a finished case
    const std::string status = status_field != r.end() && status_field->is_string() ? status_field->get<std::string>() : "";
    if (status != "ok" && status != "skipped" && status != "failed") {
      scan.warnings.push_back(path.string() + ": record " + std::to_string(scan.records) + " has status " +
                              (status_field == r.end() ? std::string("missing") : status_field->dump()) +
                              ", not ok, skipped or failed; not counted as done");
      continue;
    }
    if (status == "failed" && retry_failed) {
      failed.insert(*key);
      continue;
    }
    if (status == "ok" || status == "skipped" || status == "failed") scan.done.insert(*key);
  }
  for (const std::string& key : failed) scan.failed_to_retry += !scan.done.count(key);  // unless a retry succeeded
  return scan;
}

}  // namespace attnbench
