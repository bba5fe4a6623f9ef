#pragma once
// What `run` and `sweep` share for one problem: its inputs and float64 reference per operator (made on
// first use, shared by that operator's kernels), the skip decision (supports, memory), and one
// (problem, kernel) case from that decision through the measurement to its derived figures.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attnbench/kernel.hpp"
#include "attnbench/tensor.hpp"
#include "measure.hpp"
#include "mpi_session.hpp"
#include "record.hpp"
#include "roofline.hpp"

namespace attnbench {

/// The inputs and the reference of one problem, per operator (attention reads q/k/v, conv1d x and
/// w_conv, ...): each made on first use by the given maker and kept for the next kernel.
class ProblemData {
 public:
  using InputMaker = std::function<TensorSet(Op)>;
  ProblemData(const Problem& problem, InputMaker make_inputs);

  const Problem& problem() const { return problem_; }
  /// Uses `inputs` for `op` instead of making them (tensors the user supplied).
  void adopt(Op op, TensorSet inputs);
  const TensorSet& inputs(Op op);
  const Tensor& reference(Op op);
  /// The padding lengths of the inputs made for `op`; empty when none were made (then a padding
  /// mask's work is counted for every key: an upper bound).
  std::span<const std::int32_t> kv_lengths(Op op) const;

 private:
  Problem problem_;
  InputMaker make_;
  std::map<Op, TensorSet> inputs_;
  std::map<Op, Tensor> reference_;
};

struct CaseOptions {
  RunContext context;
  MeasureOptions measure;
  bool check = false;                               ///< compare with the float64 reference (on rank 0)
  std::optional<std::filesystem::path> save_output; ///< write inputs and out.npy here
  const MpiSession* mpi = nullptr;                  ///< the launcher's ranks; null: one process
  const RunMachine* machine = nullptr;              ///< roofline for rate.pct_peak; null or no peak: none
  std::uint64_t seed = 42;                          ///< recorded; 0 with user inputs
  std::string inputs_label = "random";              ///< "random" or the --inputs directory
};

/// Why `kernel` cannot run `problem` here, or "" when it can: its supports_run() answer, or the
/// memory the case needs (case_memory_bytes) above what this process may still allocate. Local to
/// this process: under a launcher, execute_case makes the ranks agree. `ranks_on_host`: the processes
/// on this host that run the case alike and share its memory (available_memory_bytes).
std::string skip_reason(const Problem& problem, const Kernel& kernel, const RunContext& ctx, bool check,
                        int ranks_on_host = 1);

/// One case: skipped with the reason (nothing allocated), or run by run_case on `data`'s inputs and
/// checked against its reference; then the work from the inputs used, seed, inputs and roofline.
/// Under a launcher every rank calls it for every case, in the same order.
CaseOutcome execute_case(const Kernel& kernel, ProblemData& data, const CaseOptions& options);

/// execute_case for all of `kernels` on `data`'s problem at once (--interleave): the skipped ones
/// are recorded as such, the others measured together by run_cases_interleaved in random-order rounds
/// from `seed`. Outcomes in the order of `kernels`. Under a launcher every rank calls it alike.
std::vector<CaseOutcome> execute_cases_interleaved(const std::vector<const Kernel*>& kernels, ProblemData& data,
                                                   const CaseOptions& options, std::uint64_t seed);

}  // namespace attnbench
