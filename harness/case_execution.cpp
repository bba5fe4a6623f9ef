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

std::string skip_reason(const Problem& p, const Kernel& kernel, const RunContext& ctx, bool check) {
  const Support support = kernel.supports_run(p, ctx);
  if (!support.ok) return support.reason;
  const std::int64_t available = available_memory_bytes();
  const std::int64_t need = case_memory_bytes(p, kernel, ctx, check);
  if (available >= 0 && need > available)
    return "needs " + format_bytes(need) + " (inputs, output, workspace" + (check ? ", reference" : "") +
           ") but only " + format_bytes(available) + " is available";
  return "";
}

CaseOutcome execute_case(const Kernel& kernel, ProblemData& data, const CaseOptions& o) {
  const Problem& p = data.problem();
  const Op op = kernel.info().op;
  const bool launched = o.mpi && o.mpi->size() > 1;
  const bool root = !o.mpi || o.mpi->is_root();
  std::string reason = skip_reason(p, kernel, o.context, o.check);
  // The ranks must agree, or one would wait in a collective the others never enter.
  if (launched && !o.mpi->all_ok(reason.empty()) && reason.empty()) reason = "does not fit in memory on another rank";
  CaseOutcome c;
  if (!reason.empty()) {
    c.problem = p, c.kernel = &kernel, c.threads = kernel.effective_threads(o.context);
    c.status = CaseStatus::skipped, c.reason = reason;
  } else {
    const TensorSet& inputs = data.inputs(op);
    const bool check = o.check && root;  // rank 0 checks (the output is collected there)
    CaseSettings cs{o.context, o.measure, check ? &data.reference(op) : nullptr, o.save_output, o.mpi};
    c = run_case(p, kernel, inputs, cs);
  }
  // A padding mask's work counts only the valid keys of the inputs used.
  c.work = flops(op, p, data.kv_lengths(op));
  c.seed = o.seed;
  c.inputs = o.inputs_label;
  const Rates achieved = rates_for(c);  // zeros when nothing was timed: then no roofline
  if (o.machine && o.machine->peak)
    c.roofline = roofline(*o.machine->peak, c.threads, c.ranks, achieved.gflops, achieved.gbytes_per_s);
  return c;
}

}  // namespace attnbench
