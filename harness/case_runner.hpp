#pragma once
// Runs one (problem, kernel) case in a fixed order, as benchdnn does: set-up -> execute once ->
// compare with the reference -> (save output) -> measure. Failures become the case's status; they are
// never thrown, so one bad case cannot stop a run or lose what was measured before it.
#include <filesystem>
#include <optional>

#include "attnbench/kernel.hpp"
#include "attnbench/tensor.hpp"
#include "measure.hpp"
#include "record.hpp"

namespace attnbench {

struct CaseSettings {
  RunContext context;
  MeasureOptions measure;
  const Tensor* reference = nullptr;                ///< f64 reference output; null: no correctness check
  std::optional<std::filesystem::path> save_output; ///< write inputs and out.npy here after the first run
};

/// Run `kernel` on `problem` with `inputs`. The outcome's status says ok, or failed with the reason
/// (set-up or run threw, or the check exceeded the kernel's tolerance; a failed check is not timed).
CaseOutcome run_case(const Problem& problem, const Kernel& kernel, const TensorSet& inputs,
                     const CaseSettings& settings);

/// Bytes the case will need: boundary tensors, the kernel's workspace, and the reference if checking.
std::int64_t case_memory_bytes(const Problem& problem, const Kernel& kernel, const RunContext& ctx, bool check);

}  // namespace attnbench
