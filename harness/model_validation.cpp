#include "model_validation.hpp"

#include <cmath>

#include "console_table.hpp"
#include "problem_json.hpp"

namespace attnbench {
namespace {

bool is_ok_timed(const nlohmann::json& r) {
  return r.value("status", "") == "ok" && r.contains("time") && r["time"].is_object() &&
         r["time"].contains("median_s") && r["time"]["median_s"].is_number() && r["time"]["median_s"].get<double>() > 0;
}

double median_of(const nlohmann::json& r) { return r["time"]["median_s"].get<double>(); }

/// Single-rank GFLOP/s of `kernel` (exact id, or any mha.blocked.* when "blocked") on the problem.
std::optional<ComputeRate> single_rank_rate(const std::vector<nlohmann::json>& records, const std::string& kernel,
                                            const std::string& problem_str, int threads) {
  for (const nlohmann::json& r : records) {
    if (!readable_record(r)) continue;
    const std::string id = r.value("kernel", "");
    const bool match = kernel == "blocked" ? id.rfind("mha.blocked.", 0) == 0 : id == kernel;
    if (!match || !is_ok_timed(r) || r.value("ranks", 0) != 1 || r.value("threads", 0) != threads ||
        r.value("problem_str", "") != problem_str)
      continue;
    if (!r.contains("work") || !r["work"].contains("flops") || !r["work"]["flops"].is_number()) continue;
    const double gflops = r["work"]["flops"].get<double>() / median_of(r) * 1e-9;
    return ComputeRate{gflops, id + " on " + problem_str + " at 1 rank, " + std::to_string(threads) +
                                   " thread(s): " + format_number(gflops) + " GFLOP/s"};
  }
  return std::nullopt;
}

/// The slowest rank's seconds in `phase`, from the record's comm.phases (absent in older records).
std::optional<double> measured_phase_seconds(const nlohmann::json& r, const std::string& phase) {
  if (!r.contains("comm") || !r["comm"].is_object() || !r["comm"].contains("phases") || !r["comm"]["phases"].is_array())
    return std::nullopt;
  for (const nlohmann::json& p : r["comm"]["phases"]) {
    if (!p.is_object() || p.value("phase", "") != phase || !p.contains("seconds")) continue;
    const nlohmann::json& s = p["seconds"];
    if (s.is_number()) return s.get<double>();
    if (s.is_object() && s.contains("max_s") && s["max_s"].is_number()) return s["max_s"].get<double>();
  }
  return std::nullopt;
}

}  // namespace

std::vector<ValidationRow> validate_model(const std::vector<nlohmann::json>& records, const ValidationOptions& options,
                                          std::vector<std::string>* skipped) {
  std::vector<ValidationRow> rows;
  auto skip = [&](const std::string& why) {
    if (skipped) skipped->push_back(why);
  };
  for (const nlohmann::json& r : records) {
    if (!readable_record(r)) continue;
    const std::string kernel = r.value("kernel", "");
    std::optional<Strategy> strategy;
    for (Strategy s : kAllStrategies)
      if (kernel == kernel_id(s)) strategy = s;
    if (!strategy || !is_ok_timed(r)) continue;
    ValidationRow row;
    row.kernel = kernel;
    row.strategy = *strategy;
    try {
      row.problem = problem_from_json(r.at("problem"));
    } catch (const std::exception& e) {
      skip(kernel + ": unreadable problem (" + e.what() + ")");
      continue;
    }
    row.ranks = r.value("ranks", 1);
    row.threads = r.value("threads", 1);
    row.measured_s = median_of(r);
    if (r.contains("comm") && r["comm"].is_object() && r["comm"].contains("seconds") && r["comm"]["seconds"].is_number())
      row.measured_comm_s = r["comm"]["seconds"].get<double>();
    const nlohmann::json prov = r.contains("provenance") && r["provenance"].is_object() ? r["provenance"] : nlohmann::json::object();
    row.nodes = prov.contains("nodes") && prov["nodes"].is_number_integer() ? std::max(1, prov["nodes"].get<int>()) : 1;
    row.cores_per_node = prov.contains("cores") && prov["cores"].is_number_integer() ? prov["cores"].get<int>()
                                                                                      : options.cores_per_node;
    std::optional<ComputeRate> rate = single_rank_rate(records, kernel, row.problem.str(), row.threads);
    if (!rate) rate = single_rank_rate(records, "blocked", row.problem.str(), row.threads);
    if (!rate) rate = options.fallback;
    if (!rate) {
      skip(kernel + " " + row.problem.str() + " x" + std::to_string(row.ranks) + ": no single-rank record of it (or of "
           "mha.blocked.*) with " + std::to_string(row.threads) + " thread(s) in the file; add one, or pass --gflops/--compute-from");
      continue;
    }
    row.rate_source = rate->source;
    ComputeModel compute;
    compute.gflops = rate->gflops;
    compute.threads = row.threads;
    compute.cores_per_node = row.cores_per_node;
    compute.ranks_per_node = (row.ranks + row.nodes - 1) / row.nodes;
    compute.source = rate->source;
    row.predicted = project(row.strategy, row.problem, row.ranks, compute, options.network);
    if (!row.predicted.possible) {
      skip(kernel + " " + row.problem.str() + " x" + std::to_string(row.ranks) + ": the model says impossible (" +
           row.predicted.reason + ") but the file has a measurement");
      continue;
    }
    for (const PhaseTime& t : row.predicted.phases)
      row.phases.push_back({t.term.phase, measured_phase_seconds(r, t.term.phase), t.seconds});
    row.error = (row.predicted.time_s - row.measured_s) / row.measured_s;
    row.oversubscribed = row.predicted.share < 1;
    if (row.oversubscribed)
      row.note = std::to_string(compute.ranks_per_node) + " ranks x " + std::to_string(row.threads) + " thread(s) on " +
                 std::to_string(row.cores_per_node) + " cores: each rank's rate x " + format_number(row.predicted.share) +
                 " (modelled); time-slicing also delays the partner of every message, which the model does not price";
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json to_json(const ValidationRow& row) {
  nlohmann::json phases = nlohmann::json::array();
  for (const ValidationRow::Phase& p : row.phases)
    phases.push_back({{"phase", p.phase},
                      {"measured_s", p.measured_s ? nlohmann::json(*p.measured_s) : nlohmann::json(nullptr)},
                      {"predicted_s", p.predicted_s}});
  return {{"kind", "model_validation"},
          {"schema_version", 1},
          {"kernel", row.kernel},
          {"strategy", to_string(row.strategy)},
          {"problem", problem_to_json(row.problem)},
          {"problem_str", row.problem.str()},
          {"ranks", row.ranks},
          {"threads", row.threads},
          {"nodes", row.nodes},
          {"cores_per_node", row.cores_per_node},
          {"measured_s", row.measured_s},
          {"measured_comm_s", row.measured_comm_s ? nlohmann::json(*row.measured_comm_s) : nlohmann::json(nullptr)},
          {"predicted_s", row.predicted.time_s},
          {"predicted_compute_s", row.predicted.compute_s},
          {"predicted_comm_s", row.predicted.comm_s},
          {"predicted_exposed_comm_s", row.predicted.exposed_comm_s},
          {"phases", phases},
          {"error", row.error},
          {"oversubscribed", row.oversubscribed},
          {"rate_source", row.rate_source},
          {"note", row.note}};
}

}  // namespace attnbench
