#include "report_model.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "exit_codes.hpp"
#include "machine_profile.hpp"
#include "result_set.hpp"
#include "roofline.hpp"

namespace attnbench::report {

namespace {

using nlohmann::json;

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& j, const char* key) {
  const json* v = member(j, key);
  return v && v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
}

std::string text(const json& j, const char* key) {
  const json* v = member(j, key);
  if (!v) return "";
  return v->is_string() ? v->get<std::string>() : v->dump();
}

template <typename Int>
void integer(const json& j, const char* key, Int& out) {
  if (const json* v = member(j, key); v && v->is_number_integer()) out = Int(v->get<std::int64_t>());
}

void boolean(const json& j, const char* key, bool& out) {
  if (const json* v = member(j, key); v && v->is_boolean()) out = v->get<bool>();
}

std::optional<RooflinePoint> roofline_of(const json& rec) {
  const json* r = member(rec, "roofline");
  if (!r) return std::nullopt;
  RooflinePoint p;
  p.memory_bound = text(*r, "bound") == "memory";
  p.intensity = number(*r, "arithmetic_intensity").value_or(0);
  p.ridge = number(*r, "ridge_flops_per_byte").value_or(0);
  p.attainable_gflops = number(*r, "attainable_gflops").value_or(0);
  p.peak_gflops = number(*r, "peak_gflops").value_or(0);
  p.triad_gbytes_per_s = number(*r, "triad_gbytes_per_s").value_or(0);
  if (p.attainable_gflops <= 0 || p.peak_gflops <= 0) return std::nullopt;
  return p;
}

CaseRecord case_from_json(const json& rec) {
  CaseRecord c;
  c.kernel = text(rec, "kernel");
  c.family = text(rec, "family");
  c.op = text(rec, "op");
  c.problem_str = text(rec, "problem_str");
  const json& p = rec.at("problem");
  integer(p, "batch", c.batch);
  integer(p, "heads", c.heads);
  integer(p, "kv_heads", c.kv_heads);
  integer(p, "seq_q", c.seq_q);
  integer(p, "seq_kv", c.seq_kv);
  integer(p, "head_dim", c.head_dim);
  integer(p, "value_dim", c.value_dim);
  c.mask = text(p, "mask");
  c.score = text(p, "score");
  boolean(p, "projections", c.projections);
  integer(p, "kernel_size", c.kernel_size);
  integer(p, "dilation", c.dilation);
  integer(p, "layers", c.layers);
  boolean(p, "bidirectional", c.bidirectional);
  integer(rec, "threads", c.threads);
  integer(rec, "ranks", c.ranks);
  c.status = text(rec, "status");
  c.reason = text(rec, "reason");
  if (const json* t = member(rec, "time")) {
    c.median_s = number(*t, "median_s");
    c.ci_low_s = number(*t, "ci95_low_s");
    c.ci_high_s = number(*t, "ci95_high_s");
    integer(*t, "repetitions", c.repetitions);
  }
  if (const json* r = member(rec, "rate")) {
    c.gflops = number(*r, "gflops");
    c.gbytes_per_s = number(*r, "gbytes_per_s");
    c.tokens_per_s = number(*r, "tokens_per_s");
    c.pct_peak = number(*r, "pct_peak");
  }
  if (const json* w = member(rec, "work")) {
    c.flops = number(*w, "flops");
    c.bytes = number(*w, "bytes");
    c.sequential_steps = number(*w, "sequential_steps");
  }
  if (const json* m = member(rec, "memory")) {
    c.peak_rss_bytes = number(*m, "peak_rss_bytes");
    c.model_bytes = number(*m, "model_bytes");
  }
  if (const json* k = member(rec, "check")) {
    c.max_rel_error = number(*k, "max_rel_error");
    if (const json* passed = member(*k, "passed"); passed && passed->is_boolean()) c.check_passed = passed->get<bool>();
  }
  if (const json* comm = member(rec, "comm")) {
    c.comm_bytes = number(*comm, "bytes").value_or(0);
    c.comm_seconds = number(*comm, "seconds").value_or(0);
    if (const json* phases = member(*comm, "phases"); phases && phases->is_array())
      for (const json& ph : *phases) {
        CommPhase phase{text(ph, "phase"), number(ph, "bytes").value_or(0), 0};
        if (const json* s = member(ph, "seconds")) phase.seconds_max = number(*s, "max_s").value_or(0);
        c.comm_phases.push_back(phase);
      }
  }
  c.roofline = roofline_of(rec);
  if (c.roofline && c.pct_peak) c.roofline->pct_peak = *c.pct_peak;
  if (const json* prov = member(rec, "provenance")) {
    c.host = text(*prov, "host");
    c.cpu = text(*prov, "cpu");
    c.git_commit = text(*prov, "git_commit");
    c.build_type = text(*prov, "build_type");
    c.compiler = text(*prov, "compiler");
    c.flags = text(*prov, "flags");
    c.version = text(*prov, "version");
    c.time = text(*prov, "time");
  }
  // Which preset measured it: sweep records carry {"sweep": {"preset": ...}}; run records no sweep.
  if (const json* sweep = member(rec, "sweep")) {
    c.preset = text(*sweep, "preset");
    if (c.preset.empty()) c.preset = "(sweep, no preset)";
  } else {
    c.preset = "(attnbench run)";
  }
  return c;
}

}  // namespace

LoadedResults load_results(const std::vector<std::string>& files) {
  LoadedResults out;
  std::set<std::string> names;
  for (const std::string& file : files) names.insert(std::filesystem::path(file).filename().string());
  const bool short_names = names.size() == files.size();
  for (const std::string& file : files) {
    const std::string name = short_names ? std::filesystem::path(file).filename().string() : file;
    out.files.push_back({file, name});
    try {
      if (reports::detect_format(file) == reports::ResultFormat::gbench)
        throw UsageError("'" + file + "' is Google Benchmark JSON; 'report' reads attnbench results files "
                         "('attnbench compare' reads both)");
    } catch (const reports::ResultSetError& e) {
      throw UsageError(e.what());
    }
    std::ifstream in(file);
    if (!in) throw UsageError("cannot read results file '" + file + "': " + std::strerror(errno));
    std::string line;
    int number_of_line = 0, records = 0;
    while (std::getline(in, line)) {
      ++number_of_line;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const json rec = json::parse(line, nullptr, /*allow_exceptions=*/false);
      const std::string where = name + ":" + std::to_string(number_of_line);
      if (!rec.is_object()) {
        out.warnings.push_back(where + ": not a JSON object (a torn or foreign line); passed over");
        continue;
      }
      // Another kind of JSON Lines (projection, model validation) or another schema would be misread.
      if (const json* kind = member(rec, "kind"))
        throw UsageError(where + ": is a " + kind->dump() + " record, not a measurement; give the results file that "
                                 "'attnbench run/sweep --out' wrote");
      if (const json* version = member(rec, "schema_version"); version && *version != json(1))
        throw UsageError(where + ": schema_version " + version->dump() + " is not supported (this attnbench reads 1); "
                                 "use the attnbench that wrote it");
      if (!member(rec, "kernel") || !member(rec, "problem") || !rec.at("problem").is_object()) {
        out.warnings.push_back(where + ": no 'kernel' or 'problem' (not a results record); passed over");
        continue;
      }
      CaseRecord c = case_from_json(rec);
      c.file = name;
      c.line = number_of_line;
      out.cases.push_back(std::move(c));
      ++records;
    }
    if (in.bad()) throw UsageError("cannot read results file '" + file + "': " + std::strerror(errno));
    if (records == 0)
      throw UsageError("results file '" + file + "' holds no records (" + std::to_string(number_of_line) +
                       " lines); give the JSON Lines file 'attnbench run --out' or 'sweep --out' wrote");
  }
  return out;
}

void apply_machine_profile(const std::string& profile_path, std::vector<CaseRecord>& cases) {
  MachineProfile profile;
  try {
    profile = load_machine_profile(profile_path);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--machine: ") + e.what());
  }
  for (CaseRecord& c : cases) {
    if (!c.gflops || !c.gbytes_per_s) continue;
    const auto r = roofline(profile.compute, c.threads, c.ranks, *c.gflops, *c.gbytes_per_s);
    if (!r) continue;
    c.roofline = RooflinePoint{r->memory_bound, r->intensity, r->ridge, r->attainable_gflops,
                               r->peak_gflops, r->triad_gbytes_per_s, r->pct_peak};
    c.pct_peak = r->pct_peak;
  }
}

}  // namespace attnbench::report
