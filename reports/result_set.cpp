// Loading attnbench results files and Google Benchmark JSON into one list of cases (result_set.hpp).
#include "result_set.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "gbench_json.hpp"
#include "results_file.hpp"
#include "stats.hpp"

namespace attnbench::reports {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ResultSetError(path.string() + ": is a directory; give a results file (.jsonl) or Google Benchmark JSON");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ResultSetError(path.string() + ": cannot be read (check the path and its permissions)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ResultSetError(path.string() + ": I/O error while reading");
  return text.str();
}

// Worst first: a failed round must not be hidden by good ones, and one good round beats a skip.
int status_rank(const std::string& status) {
  if (status == "failed") return 2;
  if (status == "ok") return 1;
  return 0;
}

std::string string_field(const json& record, const char* name, const std::string& where) {
  const auto it = record.find(name);
  if (it == record.end() || !it->is_string())
    throw ResultSetError(where + ": missing or non-string \"" + name + "\" (not an attnbench record?)");
  return it->get<std::string>();
}

int int_field(const json& record, const char* name, const std::string& where) {
  const auto it = record.find(name);
  if (it == record.end() || !it->is_number_integer() || it->get<long long>() < 1)
    throw ResultSetError(where + ": missing or invalid \"" + name + "\" (a positive integer)");
  return it->get<int>();
}

std::string text_of(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Provenance attnbench_provenance(const std::string& file, const json& record) {
  Provenance p;
  p.file = file;
  const auto it = record.find("provenance");
  if (it == record.end() || !it->is_object()) return p;
  const json& v = *it;
  p.raw = v;
  p.machine = text_of(v, "host") + " (" + text_of(v, "cpu") + ", " + text_of(v, "cores") + " cores)";
  p.build = text_of(v, "compiler") + " " + text_of(v, "build_type") + " [" + text_of(v, "flags") + "]";
  p.commit = text_of(v, "git_commit");
  return p;
}

void add_provenance(ResultSet& set, Provenance p) {
  for (const Provenance& q : set.provenance)
    if (q.machine == p.machine && q.build == p.build && q.commit == p.commit) return;
  set.provenance.push_back(std::move(p));
}

// Adds one record's contribution to the case with its key, creating the case on first sight.
ResultCase& case_for(ResultSet& set, std::map<CaseKey, std::size_t>& index, const CaseKey& key) {
  const auto [it, inserted] = index.try_emplace(key, set.cases.size());
  if (inserted) {
    set.cases.emplace_back();
    set.cases.back().key = key;
    set.cases.back().status = "";
  }
  return set.cases[it->second];
}

void merge_status(ResultCase& c, const std::string& status, const std::string& reason) {
  if (c.status.empty() || status_rank(status) > status_rank(c.status)) {
    c.status = status;
    c.reason = reason;
  }
}

/// Which of a file's records a later rerun replaces. `sweep --resume` runs a case again when its record
/// failed (--retry-failed) or when it belongs to a half-done --interleave group; the new record says
/// "sweep": {"rerun": true} and stands for its case (same kernel, problem, threads, ranks, commit
/// and flags) in place of every earlier record of it in the same file, so that a fixed failure does not
/// read as failed forever (the worst-status rule) and a group's rerun is not pooled with its first run.
std::vector<bool> superseded(const std::vector<json>& records) {
  const auto identity = [](const json& r) -> std::optional<std::string> {
    const auto prov = r.find("provenance");
    if (prov == r.end() || !prov->is_object()) return std::nullopt;
    const auto field = [](const json& object, const char* name) {
      const auto it = object.find(name);
      return it == object.end() ? std::string() : it->dump();
    };
    return field(r, "kernel") + '\x1f' + field(r, "problem_str") + '\x1f' + field(r, "threads") + '\x1f' +
           field(r, "ranks") + '\x1f' + field(*prov, "git_commit") + '\x1f' + field(*prov, "flags");
  };
  std::map<std::string, std::size_t> last_rerun;  // identity -> the last rerun record's position
  for (std::size_t i = 0; i < records.size(); ++i) {
    const json& r = records[i];
    const auto sweep = r.find("sweep");
    if (!r.is_object() || sweep == r.end() || !sweep->is_object()) continue;
    const auto rerun = sweep->find("rerun");  // only true marks a rerun; any other value, of any type, does not
    if (rerun == sweep->end() || *rerun != true) continue;
    if (const auto id = identity(r)) last_rerun[*id] = i;
  }
  std::vector<bool> replaced(records.size(), false);
  if (last_rerun.empty()) return replaced;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (!records[i].is_object()) continue;
    const auto id = identity(records[i]);
    const auto it = id ? last_rerun.find(*id) : last_rerun.end();
    replaced[i] = it != last_rerun.end() && i < it->second;
  }
  return replaced;
}

void load_attnbench(const std::filesystem::path& path, ResultSet& set, std::map<CaseKey, std::size_t>& index) {
  std::vector<json> records;
  try {
    records = read_results(path, &set.warnings);
  } catch (const ResultsFileError& e) {
    throw ResultSetError(e.what());
  }
  const std::string file = path.string();
  if (records.empty())
    throw ResultSetError(file + ": no attnbench record in it (expected JSON Lines written by 'attnbench run/sweep --out', "
                                "or Google Benchmark JSON from --benchmark_out)");
  const std::vector<bool> replaced = superseded(records);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (replaced[i]) continue;
    const json& r = records[i];
    const std::string where = file + ": record " + std::to_string(i + 1);
    if (const auto kind = r.find("kind"); kind != r.end())
      throw ResultSetError(where + ": is a \"" + (kind->is_string() ? kind->get<std::string>() : kind->dump()) +
                           "\" record, not a measurement (give the results file written by run or sweep)");
    const auto version = r.find("schema_version");
    if (version == r.end() || !version->is_number_integer())
      throw ResultSetError(where + ": no schema_version (not an attnbench record?)");
    if (version->get<long long>() != 1)
      throw ResultSetError(where + ": schema_version " + version->dump() +
                           " is not supported by this attnbench (it reads version 1); use the attnbench that wrote it");
    CaseKey key{string_field(r, "kernel", where), string_field(r, "problem_str", where), int_field(r, "threads", where),
                int_field(r, "ranks", where)};
    const std::string status = string_field(r, "status", where);
    if (status != "ok" && status != "skipped" && status != "failed")
      throw ResultSetError(where + ": unknown status \"" + status + "\" (ok, skipped or failed)");
    ResultCase& c = case_for(set, index, key);
    const auto reason = r.find("reason");
    if (reason != r.end() && !reason->is_string() && !reason->is_null())
      throw ResultSetError(where + ": \"reason\" is " + reason->dump() + ", not a string (not an attnbench record?)");
    merge_status(c, status, reason != r.end() && reason->is_string() ? reason->get<std::string>() : std::string());
    if (const auto time = r.find("time"); time != r.end() && time->is_object()) {
      const auto samples = time->find("samples_s");
      if (samples == time->end() || !samples->is_array())
        throw ResultSetError(where + ": \"time\" has no samples_s array");
      std::vector<double> record_samples;
      for (const json& s : *samples) {
        if (!s.is_number() || !(s.get<double>() >= 0))
          throw ResultSetError(where + ": time.samples_s holds " + s.dump() + " (expected seconds >= 0)");
        record_samples.push_back(s.get<double>());
      }
      if (!record_samples.empty()) {
        c.samples_s.insert(c.samples_s.end(), record_samples.begin(), record_samples.end());
        c.record_medians_s.push_back(summarize(std::move(record_samples)).median);
      }
    }
    if (const auto check = r.find("check"); check != r.end() && check->is_object()) {
      const auto passed_field = check->find("passed");
      if (passed_field != check->end() && !passed_field->is_boolean() && !passed_field->is_null())
        throw ResultSetError(where + ": check.passed is " + passed_field->dump() + ", not true or false");
      const bool passed = passed_field != check->end() && passed_field->is_boolean() && passed_field->get<bool>();
      c.check_passed = c.check_passed.value_or(true) && passed;
      if (const auto e = check->find("max_rel_error"); e != check->end() && e->is_number())
        c.max_rel_error = std::max(c.max_rel_error.value_or(0.0), e->get<double>());
    }
    c.records.push_back(r);
    c.sources.push_back(where);
    add_provenance(set, attnbench_provenance(file, r));
  }
}

void load_gbench(const std::filesystem::path& path, const std::string& text, ResultSet& set,
                 std::map<CaseKey, std::size_t>& index) {
  const GbenchFile g = parse_gbench_json(path.string(), text);
  Provenance p;
  p.file = path.string();
  p.raw = g.context;
  p.machine = text_of(g.context, "host_name") + " (" +
              (g.context.contains("cpu") ? text_of(g.context, "cpu") + ", " : std::string()) +
              text_of(g.context, "num_cpus") + " cores, " + text_of(g.context, "mhz_per_cpu") + " MHz)";
  p.build = "benchmark library " + text_of(g.context, "library_build_type");
  if (g.context.contains("compiler"))
    p.build += ", " + text_of(g.context, "compiler") + " " + text_of(g.context, "build_type") + " [" +
               text_of(g.context, "flags") + "]";
  p.commit = text_of(g.context, "git_commit");
  add_provenance(set, std::move(p));
  for (const GbenchRun& run : g.runs) {
    ResultCase& c = case_for(set, index, CaseKey{run.name, "", run.threads, 1});
    merge_status(c, run.error.empty() ? "ok" : "skipped", run.error);
    c.samples_s.insert(c.samples_s.end(), run.samples_s.begin(), run.samples_s.end());
    c.record_medians_s.insert(c.record_medians_s.end(), run.samples_s.begin(), run.samples_s.end());
    if (run.aggregate_median_s && c.samples_s.empty()) c.aggregate_median_s = run.aggregate_median_s;
    for (std::size_t row : run.rows) {
      c.records.push_back(g.rows[row]);
      c.sources.push_back(path.string() + ": benchmark " + std::to_string(row + 1));
    }
  }
}

}  // namespace

const char* to_string(ResultFormat f) {
  return f == ResultFormat::gbench ? "Google Benchmark JSON" : "attnbench results";
}

std::string CaseKey::str() const {
  if (problem.empty()) return kernel;
  return kernel + " " + problem + " t" + std::to_string(threads) + " r" + std::to_string(ranks);
}

const ResultCase* ResultSet::find(const CaseKey& key) const {
  for (const ResultCase& c : cases)
    if (c.key == key) return &c;
  return nullptr;
}

ResultFormat detect_format(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  return looks_like_gbench_json(text) ? ResultFormat::gbench : ResultFormat::attnbench;
}

ResultSet load_result_set(const std::vector<std::filesystem::path>& files) {
  if (files.empty()) throw ResultSetError("no result file given");
  ResultSet set;
  std::map<CaseKey, std::size_t> index;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string text = read_text(files[i]);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw ResultSetError(files[i].string() + ": is empty (did the run that should have written it fail?)");
    const ResultFormat format = looks_like_gbench_json(text) ? ResultFormat::gbench : ResultFormat::attnbench;
    if (i == 0) {
      set.format = format;
    } else if (format != set.format) {
      throw ResultSetError(files[i].string() + ": is " + to_string(format) + " but " + files[0].string() + " is " +
                           to_string(set.format) + "; give files of one kind per side");
    }
    if (format == ResultFormat::gbench) {
      load_gbench(files[i], text, set, index);
    } else {
      load_attnbench(files[i], set, index);
    }
    set.files.push_back(files[i].string());
  }
  for (ResultCase& c : set.cases)
    if (c.status.empty()) c.status = "ok";
  return set;
}

}  // namespace attnbench::reports
