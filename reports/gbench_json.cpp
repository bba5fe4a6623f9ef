// Google Benchmark JSON into runs with samples (gbench_json.hpp).
#include "gbench_json.hpp"

#include <cmath>
#include <map>
#include <type_traits>

#include "result_set.hpp"

namespace attnbench::reports {
namespace {

using nlohmann::json;

double seconds_per_unit(const std::string& unit, const std::string& where) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  throw ResultSetError(where + ": unknown time_unit \"" + unit + "\" (ns, us, ms or s)");
}

std::string required_string(const json& row, const char* name, const std::string& where) {
  const auto it = row.find(name);
  if (it == row.end() || !it->is_string())
    throw ResultSetError(where + ": missing or non-string \"" + name + "\"");
  return it->get<std::string>();
}

// The row's time per iteration in seconds.
double real_time_s(const json& row, const std::string& where) {
  const auto t = row.find("real_time");
  if (t == row.end() || !t->is_number())
    throw ResultSetError(where + ": missing or non-numeric \"real_time\"");
  const double value = t->get<double>() * seconds_per_unit(required_string(row, "time_unit", where), where);
  if (!std::isfinite(value) || value < 0)
    throw ResultSetError(where + ": real_time " + t->dump() + " is not a time");
  return value;
}

// An optional member of `row` that must have one JSON type: absent gives `fallback`; another type is an
// error naming the member (json::value would throw a type_error that names neither file nor field).
template <typename T>
T optional_member(const json& row, const char* name, T fallback, const std::string& where) {
  const auto it = row.find(name);
  if (it == row.end()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) throw ResultSetError(where + ": \"" + name + "\" is " + it->dump() + ", not true or false");
  } else {
    if (!it->is_string()) throw ResultSetError(where + ": \"" + name + "\" is " + it->dump() + ", not a string");
  }
  return it->get<T>();
}

// The error of a run that did not complete: SkipWithError (error_occurred/error_message in every
// version) or, from Google Benchmark 1.8, SkipWithMessage (skipped/skip_message).
std::string row_error(const json& row, const std::string& where) {
  if (optional_member(row, "error_occurred", false, where)) {
    const std::string message = optional_member(row, "error_message", std::string(), where);
    return message.empty() ? "the benchmark reported an error" : message;
  }
  if (const auto skipped = row.find("skipped"); skipped != row.end() && (skipped->is_boolean() ? skipped->get<bool>() : true)) {
    const std::string message = optional_member(row, "skip_message", std::string(), where);
    return message.empty() ? "skipped by the benchmark" : message;
  }
  return "";
}

}  // namespace

bool looks_like_gbench_json(const std::string& text) {
  const std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || text[start] != '{') return false;
  const std::size_t eol = text.find('\n', start);
  const std::string first = text.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
  if (first.find_first_not_of(" \t\r", 1) == std::string::npos) return true;
  const json whole = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return whole.is_object() && whole.contains("benchmarks");
}

GbenchFile parse_gbench_json(const std::string& file, const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 5: ..."; a number
    // too large for a double ("2e329") is an out_of_range error, found by fuzzing (tests/fuzz).
    std::string what = e.what();
    const std::size_t at = what.find("] ");
    throw ResultSetError(file + ": not valid Google Benchmark JSON: " +
                         (at == std::string::npos ? what : what.substr(at + 2)) + " (truncated by a killed run?)");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw ResultSetError(file + ": no \"benchmarks\" array (not Google Benchmark JSON?)");
  GbenchFile g;
  g.context = doc.value("context", json::object());
  const json& rows = doc["benchmarks"];
  if (rows.empty())
    throw ResultSetError(file + ": holds no benchmark (did --benchmark_filter match nothing?)");
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    const std::string where = file + ": benchmark " + std::to_string(i + 1);
    if (!row.is_object()) throw ResultSetError(where + ": is not an object");
    const std::string name = required_string(row, "name", where);
    const std::string run_name = row.contains("run_name") ? required_string(row, "run_name", where) : name;
    const auto [it, inserted] = index.try_emplace(run_name, g.runs.size());
    if (inserted) {
      g.runs.emplace_back();
      g.runs.back().name = run_name;
    }
    GbenchRun& run = g.runs[it->second];
    // A user counter named "threads" is written under the same key as Google Benchmark's own, and the
    // last one wins: anything but a positive whole number is taken for such a counter and ignored.
    if (const auto threads = row.find("threads"); threads != row.end() && threads->is_number()) {
      const double t = threads->get<double>();
      if (t >= 1 && t <= 1e6 && t == std::floor(t)) run.threads = int(t);
    }
    run.rows.push_back(i);
    g.rows.push_back(row);
    const std::string error = row_error(row, where);
    if (!error.empty()) {
      run.error = error;
      continue;
    }
    const std::string type = optional_member(row, "run_type", std::string("iteration"), where);
    if (type == "iteration") {
      run.samples_s.push_back(real_time_s(row, where));
    } else if (type == "aggregate") {
      if (optional_member(row, "aggregate_name", std::string(), where) == "median") run.aggregate_median_s = real_time_s(row, where);
    } else {
      throw ResultSetError(where + ": unknown run_type \"" + type + "\" (iteration or aggregate)");
    }
  }
  return g;
}

}  // namespace attnbench::reports
