#include "case_execution.hpp"

#include <utility>

#include "attnbench/cost_model.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/workload.hpp"
#include "case_runner.hpp"
#include "memory_info.hpp"

namespace attnbench {

ProblemData::ProblemData(const Problem& problem, InputMaker make_inputs)
    : problem_(problem), make_(std::move(make_inputs)) {}

void ProblemData::adopt(Op op, TensorSet inputs) { inputs_.insert_or_assign(op, std::move(inputs)); }

const TensorSet& ProblemData::inputs(Op op) {
  auto it = inputs_.find(op);
  if (it == inputs_.end()) it = inputs_.emplace(op, make_(op)).first;
  return it->second;
}

const Tensor& ProblemData::reference(Op op) {
  auto it = reference_.find(op);
  if (it == reference_.end()) it = reference_.emplace(op, reference_forward(op, problem_, inputs(op))).first;
  return it->second;
}

std::span<const std::int32_t> ProblemData::kv_lengths(Op op) const {
  const auto it = inputs_.find(op);
  return it == inputs_.end() ? std::span<const std::int32_t>{} : kv_lengths_of(problem_, it->second);
}

std::string skip_reason(const Problem& p, const Kernel& kernel, const RunContext& ctx, bool check,
                        int ranks_on_host) {
  const Support support = kernel.supports_run(p, ctx);
  if (!support.ok) return support.reason;
  const std::int64_t available = available_memory_bytes(ranks_on_host);
  const std::int64_t need = case_memory_bytes(p, kernel, ctx, check);
  if (available >= 0 && need > available)
    return "needs " + format_bytes(need) + " (inputs, output, workspace" + (check ? ", reference" : "") +
           ") but only " + format_bytes(available) + " is available" +
           (ranks_on_host > 1 ? " to each of the " + std::to_string(ranks_on_host) + " ranks on this host" : "");
  return "";
}

namespace {

/// The skipped outcome of `kernel`, or nothing when it runs: skip_reason, agreed by the ranks (or one
/// would wait in a collective the others never enter).
std::optional<CaseOutcome> agreed_skip(const Kernel& kernel, const ProblemData& data, const CaseOptions& o) {
  const bool launched = o.mpi && o.mpi->size() > 1;
  // An mpi kernel's ranks on one host allocate together; any other kernel runs on rank 0 alone.
  const int sharing = launched && kernel.info().caps.parallelism == Parallelism::mpi ? o.mpi->ranks_on_host() : 1;
  std::string reason = skip_reason(data.problem(), kernel, o.context, o.check, sharing);
  if (launched && !o.mpi->all_ok(reason.empty()) && reason.empty()) reason = "does not fit in memory on another rank";
  if (reason.empty()) return std::nullopt;
  CaseOutcome c;
  c.problem = data.problem(), c.kernel = &kernel, c.threads = kernel.effective_threads(o.context);
  c.status = CaseStatus::skipped, c.reason = reason;
  return c;
}

/// How run_case measures `kernel` on `data`: rank 0 checks (the output is collected there).
CaseSettings settings_for(const Kernel& kernel, ProblemData& data, const CaseOptions& o) {
  const bool check = o.check && (!o.mpi || o.mpi->is_root());
  return CaseSettings{o.context, o.measure, check ? &data.reference(kernel.info().op) : nullptr, o.save_output, o.mpi};
}

/// The figures derived from a measured (or skipped) case: work, seed, inputs, roofline.
void complete(CaseOutcome& c, const ProblemData& data, const CaseOptions& o) {
  const Op op = c.kernel->info().op;
  // A padding mask's work counts only the valid keys of the inputs used.
  c.work = flops(op, data.problem(), data.kv_lengths(op));
  c.seed = o.seed;
  c.inputs = o.inputs_label;
  const Rates achieved = rates_for(c);  // zeros when nothing was timed: then no roofline
  if (o.machine && o.machine->peak)
    c.roofline = roofline(*o.machine->peak, c.threads, c.ranks, achieved.gflops, achieved.gbytes_per_s);
}

}  // namespace

CaseOutcome execute_case(const Kernel& kernel, ProblemData& data, const CaseOptions& o) {
  std::optional<CaseOutcome> c = agreed_skip(kernel, data, o);
  if (!c) c = run_case(data.problem(), kernel, data.inputs(kernel.info().op), settings_for(kernel, data, o));
  complete(*c, data, o);
  return *c;
}

std::vector<CaseOutcome> execute_cases_interleaved(const std::vector<const Kernel*>& kernels, ProblemData& data,
                                                   const CaseOptions& o, std::uint64_t seed) {
  std::vector<std::optional<CaseOutcome>> outcomes;
  std::vector<InterleavedCase> cases;
  for (const Kernel* k : kernels) {
    outcomes.push_back(agreed_skip(*k, data, o));
    if (!outcomes.back()) cases.push_back({k, &data.inputs(k->info().op), settings_for(*k, data, o)});
  }
  std::vector<CaseOutcome> measured = run_cases_interleaved(data.problem(), cases, seed);
  std::vector<CaseOutcome> result;
  std::size_t next = 0;
  // cppcheck-suppress constVariable ; *c is moved from: a const reference would silently copy it
  for (std::optional<CaseOutcome>& c : outcomes) {
    result.push_back(c ? std::move(*c) : std::move(measured[next++]));
    complete(result.back(), data, o);
  }
  return result;
}

}  // namespace attnbench
