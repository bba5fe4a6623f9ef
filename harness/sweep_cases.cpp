#include "sweep_cases.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "attnbench/cost_model.hpp"
#include "attnbench/workload.hpp"
#include "network_calibration.hpp"
#include "provenance.hpp"

namespace attnbench {

nlohmann::json sweep_json(const SweepSettings& s, std::size_t index) {
  return {{"preset", s.grid.preset},
          {"case", index},
          {"cases", s.grid.cases.size()},
          {"sources", s.grid.sources},
          {"timeout_s", s.timeout_s},
          {"default_threads", s.grid.default_threads}};
}

long test_hook_index(const char* variable) {
  const char* text = std::getenv(variable);
  return text && *text ? std::strtol(text, nullptr, 10) : -1;
}

int case_ranks(const SweepCase& c, int launch_ranks) {
  if (c.kernel->info().caps.parallelism != Parallelism::mpi) return 1;
  return c.ranks > 0 ? c.ranks : launch_ranks;
}

SweepCaseRunner::SweepCaseRunner(const SweepSettings& settings, const MpiSession& mpi) : s_(settings), mpi_(mpi) {
  if (::sched_getaffinity(0, sizeof allowed_, &allowed_) != 0) CPU_ZERO(&allowed_);
  for (const SweepCase& c : s_.grid.cases)
    if (!provenance_.count(c.threads)) provenance_.emplace(c.threads, provenance(c.threads, mpi_.size()));
}

CaseOptions SweepCaseRunner::prepare(std::size_t index) {
  const SweepCase& c = s_.grid.cases.at(index);
  if (test_hook_index("ATTNBENCH_SWEEP_TEST_HANG_AT") == long(index))
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  if (s_.pin != PinMode::none && pinned_threads_ != c.threads) {  // collective under a launcher: every rank is here
    // Pinning narrows this thread's own CPU set: widen it again, or the next thread count would be
    // planned within the previous placement.
    if (pinned_threads_ && CPU_COUNT(&allowed_) > 0) ::sched_setaffinity(0, sizeof allowed_, &allowed_);
    PinReport placed = pin_threads(s_.pin, c.threads, mpi_);
    pinned_threads_ = c.threads;
    if (!placed.applied && mpi_.is_root())
      std::cerr << "note: --pin " << to_string(s_.pin) << " not applied for " << c.threads << " threads: " << placed.reason
                << "\n";
    const std::lock_guard lock(pin_mutex_);
    pin_ = std::move(placed);
  }
  if (!data_ || data_->problem().str() != c.problem.str()) {
    data_.reset();  // the previous problem's tensors go before the next one's are made
    const std::uint64_t seed = s_.seed;
    const Problem problem = c.problem;
    data_.emplace(problem, [problem, seed](Op op) { return make_inputs(op, problem, seed); });
  }
  // An mpi kernel on fewer ranks than launched runs on the first c.ranks of them (null elsewhere).
  const MpiSession* session = &mpi_;
  if (c.ranks > 0 && c.ranks < mpi_.size()) {
    auto it = parts_.find(c.ranks);
    if (it == parts_.end()) it = parts_.emplace(c.ranks, mpi_.first_ranks(c.ranks)).first;  // collective
    session = it->second.get();
  }
  CaseOptions options;
  options.context.threads = c.threads;
  options.context.comm = session ? session->comm() : MPI_COMM_NULL;
  options.measure = s_.measure;
  options.check = s_.check;
  options.mpi = session;
  options.machine = &s_.machine;
  options.seed = s_.seed;
  return options;
}

std::vector<CaseOutcome> SweepCaseRunner::run_group(const std::vector<std::size_t>& group) {
  std::vector<const Kernel*> kernels;
  const SweepCase& first = s_.grid.cases.at(group.at(0));
  for (std::size_t index : group) {
    const SweepCase& c = s_.grid.cases.at(index);
    if (c.problem.str() != first.problem.str() || c.threads != first.threads || c.ranks != first.ranks)
      throw std::logic_error("sweep group of cases " + std::to_string(group.front()) + " and " + std::to_string(index) +
                             " mixes problems, thread counts or ranks");
    kernels.push_back(c.kernel);
  }
  CaseOptions options;
  for (std::size_t index : group) options = prepare(index);  // each case's test hook; the same options
  std::vector<CaseOutcome> outcomes;
  if (options.mpi) {
    if (group.size() == 1) outcomes.push_back(execute_case(*kernels.front(), *data_, options));
    else outcomes = execute_cases_interleaved(kernels, *data_, options, s_.interleave_seed.value_or(1));
  } else {
    // A rank beyond the case's ranks: nothing to run; only rank 0's outcomes are recorded.
    for (const Kernel* k : kernels) {
      CaseOutcome idle;
      idle.problem = first.problem, idle.kernel = k, idle.status = CaseStatus::skipped;
      idle.reason = "not on this rank";
      outcomes.push_back(idle);
    }
  }
  // The ranks left out wait here, asleep, for the ranks that ran it: the sweep's next step is collective.
  if (options.mpi != &mpi_) sleeping_barrier(mpi_.comm());
  return outcomes;
}

nlohmann::json SweepCaseRunner::record(const CaseOutcome& outcome, std::size_t index) const {
  nlohmann::json r = make_record(outcome, provenance_.at(s_.grid.cases.at(index).threads));
  {
    const std::lock_guard lock(pin_mutex_);
    r["provenance"]["pinning"] = to_json(pin_);  // as run records it (mode none without --pin)
  }
  r["sweep"] = sweep_json(s_, index);
  return r;
}

nlohmann::json SweepCaseRunner::lost_record(std::size_t index, const std::string& reason) const {
  const SweepCase& c = s_.grid.cases.at(index);
  CaseOutcome o;
  o.problem = c.problem;
  o.kernel = c.kernel;
  o.threads = c.kernel->effective_threads(RunContext{c.threads, mpi_.comm()});
  o.ranks = case_ranks(c, mpi_.size());
  o.status = CaseStatus::failed;
  o.reason = reason;
  o.seed = s_.seed;
  o.inputs = "random";
  o.work = flops(c.kernel->info().op, c.problem);
  return record(o, index);
}

}  // namespace attnbench
