#include "sweep_cases.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "attnbench/cost_model.hpp"
#include "attnbench/workload.hpp"
#include "provenance.hpp"

namespace attnbench {

nlohmann::json sweep_json(const SweepSettings& s, std::size_t index) {
  return {{"preset", s.grid.preset},
          {"case", index},
          {"cases", s.grid.cases.size()},
          {"sources", s.grid.sources},
          {"timeout_s", s.timeout_s}};
}

long test_hook_index(const char* variable) {
  const char* text = std::getenv(variable);
  return text && *text ? std::strtol(text, nullptr, 10) : -1;
}

int case_ranks(const SweepCase& c, int launch_ranks) {
  return c.kernel->info().caps.parallelism == Parallelism::mpi ? launch_ranks : 1;
}

SweepCaseRunner::SweepCaseRunner(const SweepSettings& settings, const MpiSession& mpi) : s_(settings), mpi_(mpi) {
  if (::sched_getaffinity(0, sizeof allowed_, &allowed_) != 0) CPU_ZERO(&allowed_);
  for (const SweepCase& c : s_.grid.cases)
    if (!provenance_.count(c.threads)) provenance_.emplace(c.threads, provenance(c.threads, mpi_.size()));
}

CaseOutcome SweepCaseRunner::run(std::size_t index) {
  const SweepCase& c = s_.grid.cases.at(index);
  if (test_hook_index("ATTNBENCH_SWEEP_TEST_HANG_AT") == long(index))
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  if (s_.pin != PinMode::none && pinned_threads_ != c.threads) {  // collective under a launcher: every rank is here
    // Pinning narrows this thread's own CPU set: widen it again, or the next thread count would be
    // planned within the previous placement.
    if (pinned_threads_ && CPU_COUNT(&allowed_) > 0) ::sched_setaffinity(0, sizeof allowed_, &allowed_);
    pin_ = pin_threads(s_.pin, c.threads, mpi_);
    pinned_threads_ = c.threads;
    if (!pin_.applied && mpi_.is_root())
      std::cerr << "note: --pin " << to_string(s_.pin) << " not applied for " << c.threads << " threads: " << pin_.reason
                << "\n";
  }
  if (!data_ || data_->problem().str() != c.problem.str()) {
    data_.reset();  // the previous problem's tensors go before the next one's are made
    const std::uint64_t seed = s_.seed;
    const Problem problem = c.problem;
    data_.emplace(problem, [problem, seed](Op op) { return make_inputs(op, problem, seed); });
  }
  CaseOptions options;
  options.context.threads = c.threads;
  options.context.comm = mpi_.comm();
  options.measure = s_.measure;
  options.check = s_.check;
  options.mpi = &mpi_;
  options.machine = &s_.machine;
  options.seed = s_.seed;
  return execute_case(*c.kernel, *data_, options);
}

nlohmann::json SweepCaseRunner::record(const CaseOutcome& outcome, std::size_t index) const {
  nlohmann::json r = make_record(outcome, provenance_.at(s_.grid.cases.at(index).threads));
  r["provenance"]["pinning"] = to_json(pin_);  // as run records it (mode none without --pin)
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
