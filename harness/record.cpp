#include "record.hpp"

#include "attnbench/cost_model.hpp"
#include "problem_json.hpp"

namespace attnbench {

const char* to_string(CaseStatus s) {
  switch (s) {
    case CaseStatus::ok: return "ok";
    case CaseStatus::skipped: return "skipped";
    case CaseStatus::failed: return "failed";
  }
  return "?";
}

Rates rates_for(const CaseOutcome& c) {
  if (!c.time || !(c.time->median > 0)) return {};
  const double t = c.time->median;
  return {c.work.total() / t * 1e-9, double(io_bytes(c.kernel->info().op, c.problem)) / t * 1e-9,
          double(query_tokens(c.problem)) / t};
}

namespace {

nlohmann::json spread_json(const Spread& s) {
  return {{"min_s", s.min}, {"mean_s", s.mean}, {"max_s", s.max}, {"imbalance", s.mean > 0 ? s.max / s.mean : 1.0}};
}

nlohmann::json optional_json(const std::optional<double>& x) { return x ? nlohmann::json(*x) : nlohmann::json(nullptr); }

/// Single-process kernels communicate nothing: bytes 0, no phases.
nlohmann::json comm_json(const std::optional<CommSummary>& c) {
  if (!c) return {{"bytes", 0}, {"seconds", 0.0}, {"phases", nlohmann::json::array()}};
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseSummary& p : c->phases)
    phases.push_back({{"phase", p.phase}, {"bytes", p.bytes}, {"bytes_per_rank_max", p.bytes_per_rank_max},
                      {"messages_per_rank_max", p.messages_per_rank_max}, {"seconds", spread_json(p.seconds)},
                      {"overlap", optional_json(p.overlap)}});
  return {{"bytes", c->bytes}, {"seconds", c->seconds}, {"phases", phases},
          {"compute_s", spread_json(c->compute_seconds)}, {"overlap", optional_json(c->overlap)}};
}

}  // namespace

nlohmann::json make_record(const CaseOutcome& c, const nlohmann::json& provenance) {
  const Problem& p = c.problem;
  const FlopCount& f = c.work;
  const Op op = c.kernel->info().op;
  nlohmann::json r;
  r["schema_version"] = kSchemaVersion;
  r["kernel"] = c.kernel->id();
  r["family"] = to_string(c.kernel->info().family);
  r["op"] = std::string(to_string(op));
  r["problem"] = problem_to_json(p);
  r["problem_str"] = p.str();
  r["threads"] = c.threads;
  r["ranks"] = c.ranks;
  r["status"] = to_string(c.status);
  r["reason"] = c.reason;
  r["inputs"] = c.inputs;
  r["seed"] = c.seed;
  r["work"] = {{"flops", f.total()},
               {"flops_score", f.score},
               {"flops_weighting", f.weighting},
               {"flops_projections", f.projections},
               {"flops_convolution", f.convolution},
               {"flops_recurrent", f.recurrent},
               {"bytes", io_bytes(op, p)},
               {"query_tokens", query_tokens(p)},
               {"sequential_steps", sequential_steps(op, p)}};
  r["time"] = c.time ? to_json(*c.time) : nlohmann::json(nullptr);
  if (c.time && c.timing) r["time"].update(to_json(*c.timing));
  r["setup_s"] = c.setup_seconds;
  if (c.time) {
    const Rates rate = rates_for(c);
    // pct_peak needs the machine's measured peak (`attnbench calibrate`, `run --machine`): null without it.
    r["rate"] = {{"gflops", rate.gflops}, {"gbytes_per_s", rate.gbytes_per_s},
                 {"tokens_per_s", rate.tokens_per_s},
                 {"pct_peak", c.roofline ? nlohmann::json(c.roofline->pct_peak) : nlohmann::json(nullptr)}};
    if (c.roofline) r["roofline"] = to_json(*c.roofline);
  } else {
    r["rate"] = nullptr;
  }
  r["memory"] = {{"peak_rss_bytes", c.peak_rss_bytes >= 0 ? nlohmann::json(c.peak_rss_bytes) : nlohmann::json(nullptr)},
                 {"model_bytes", io_bytes(op, p) + c.workspace_bytes},
                 {"workspace_bytes", c.workspace_bytes}};
  if (c.check)
    r["check"] = {{"max_rel_error", c.check->max_rel_error},
                  {"max_abs_error", c.check->max_abs_error},
                  {"tolerance", c.kernel->info().caps.tolerance},
                  {"passed", c.check->max_rel_error <= c.kernel->info().caps.tolerance}};
  else
    r["check"] = nullptr;
  r["comm"] = comm_json(c.comm);
  r["rank_time"] = c.rank_time ? spread_json(*c.rank_time) : nlohmann::json(nullptr);
  r["provenance"] = provenance;
  return r;
}

}  // namespace attnbench
