#include "compute_rate.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <thread>

#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "case_runner.hpp"
#include "console_table.hpp"

namespace attnbench {

bool readable_record(const nlohmann::json& r) {
  auto is = [&](const char* key, bool (nlohmann::json::*type)() const noexcept) {
    return r.contains(key) && (r[key].*type)();
  };
  return r.is_object() && is("kernel", &nlohmann::json::is_string) && is("status", &nlohmann::json::is_string) &&
         is("problem_str", &nlohmann::json::is_string) && is("threads", &nlohmann::json::is_number_integer) &&
         is("ranks", &nlohmann::json::is_number_integer);
}

ComputeRate compute_rate_from_records(const std::vector<nlohmann::json>& records, const std::string& kernel_pattern,
                                      int threads, const Problem& problem) {
  std::set<std::string> ids;
  for (const Kernel* k : select_kernels(kernel_pattern)) ids.insert(k->id());
  std::vector<double> rates;
  std::set<std::string> seen;  // what the file held, for the error message
  for (const nlohmann::json& r : records) {
    if (!readable_record(r)) continue;
    const std::string kernel = r.value("kernel", "");
    if (!ids.count(kernel)) continue;
    seen.insert(kernel + " x" + std::to_string(r.value("threads", 0)) + " threads, " +
                std::to_string(r.value("ranks", 0)) + " ranks, " + r.value("status", "?"));
    if (r.value("status", "") != "ok" || r.value("threads", 0) != threads || r.value("ranks", 1) != 1) continue;
    const nlohmann::json& rate = r.contains("rate") ? r["rate"] : nlohmann::json();
    if (!rate.is_object() || !rate.contains("gflops") || !rate["gflops"].is_number()) continue;
    const double gflops = rate["gflops"].get<double>();
    if (!(gflops > 0)) continue;
    if (r.value("problem_str", "") == problem.str())
      return {gflops, kernel + " on " + problem.str() + " with " + std::to_string(threads) + " thread(s): " +
                          format_number(gflops) + " GFLOP/s (from the results file)"};
    rates.push_back(gflops);
  }
  if (rates.empty()) {
    std::string held;
    for (const std::string& s : seen) held += (held.empty() ? "" : "; ") + s;
    throw std::invalid_argument("no record of " + kernel_pattern + " with status ok, 1 rank and " +
                                std::to_string(threads) + " thread(s)" +
                                (held.empty() ? " (the file has no such kernel)" : " (it has: " + held + ")") +
                                "; measure one with 'attnbench run --kernel mha.blocked.serial --threads " +
                                std::to_string(threads) + " --out FILE'");
  }
  std::sort(rates.begin(), rates.end());
  const std::size_t n = rates.size();
  const double median = n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
  return {median, "median of " + std::to_string(n) + " " + kernel_pattern + " record(s) with " +
                      std::to_string(threads) + " thread(s): " + format_number(median) + " GFLOP/s (from the results file)"};
}

std::string cannot_measure(int threads) {
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus == 0 || unsigned(threads) <= cpus) return "";
  return "cannot measure a " + std::to_string(threads) + "-thread rank on this " + std::to_string(cpus) +
         "-CPU machine; pass --gflops or --compute-from with a record measured on the target node";
}

ComputeRate measure_compute_rate(const Problem& problem, int threads) {
  if (const std::string why = cannot_measure(threads); !why.empty()) throw std::invalid_argument(why);
  const std::string id = threads > 1 ? "mha.blocked.omp" : "mha.blocked.serial";
  const Kernel* kernel = find_kernel(id);
  if (!kernel) throw std::runtime_error(id + " is not registered in this build; pass --compute-from or --gflops");
  // A probe of the same shape per head, small enough to measure in well under a second.
  Problem probe = problem;
  probe.batch = 1;
  probe.kv_heads = std::min<std::int64_t>(problem.kv_heads, 2);
  probe.heads = probe.kv_heads * problem.group_size();
  probe.seq_q = std::min<std::int64_t>(problem.seq_q, 2048);
  probe.seq_kv = std::min<std::int64_t>(problem.seq_kv, 2048);
  probe.validate();
  const Support support = kernel->supports(probe);
  if (!support.ok) throw std::runtime_error(id + " cannot run " + probe.str() + ": " + support.reason);
  CaseSettings settings;
  settings.context.threads = threads;
  settings.measure.min_reps = 3;
  settings.measure.min_seconds = 0.2;
  settings.measure.max_seconds = 5;
  const TensorSet inputs = make_inputs(probe, 42);
  const CaseOutcome c = run_case(probe, *kernel, inputs, settings);
  if (c.status != CaseStatus::ok || !c.time) throw std::runtime_error(id + " failed on " + probe.str() + ": " + c.reason);
  // Padding masks: only the keys inside the random valid lengths are work.
  const double gflops = flops(probe, kv_lengths_of(probe, inputs)).total() / c.time->median * 1e-9;
  return {gflops, id + " measured now on " + probe.str() + " with " + std::to_string(threads) +
                      " thread(s): " + format_number(gflops) + " GFLOP/s (median of " +
                      std::to_string(c.time->repetitions) + ")"};
}

}  // namespace attnbench
