#pragma once
// One results record (DESIGN.md "Results"): the outcome of one (problem, kernel) case as JSON.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "attnbench/check.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/kernel.hpp"
#include "measure.hpp"
#include "rank_timing.hpp"
#include "roofline.hpp"
#include "stats.hpp"

namespace attnbench {

inline constexpr int kSchemaVersion = 1;

enum class CaseStatus { ok, skipped, failed };
const char* to_string(CaseStatus s);

struct CaseOutcome {
  Problem problem;
  const Kernel* kernel = nullptr;
  int threads = 1;  ///< threads the kernel actually used
  int ranks = 1;                       ///< ranks the kernel ran on (1 for non-mpi kernels, even under mpirun)
  CaseStatus status = CaseStatus::ok;
  std::string reason;                  ///< why skipped/failed ("" when ok)
  std::optional<SampleStats> time;     ///< absent when nothing was timed
  std::optional<TimingNotes> timing;   ///< how `time` was measured (warm-up, stop, cache); with `time`
  std::optional<CheckResult> check;    ///< absent when --check was off
  double setup_seconds = 0;            ///< prepare(): allocation and weight packing, not in `time`
  std::int64_t workspace_bytes = 0;    ///< the kernel's own estimate (Kernel::workspace_bytes)
  std::int64_t peak_rss_bytes = -1;    ///< process peak resident set after the case; -1 unknown
  std::uint64_t seed = 0;              ///< input generator seed (or 0 with --inputs)
  std::string inputs;                  ///< "random" or the --inputs directory
  FlopCount work;                      ///< useful flops of this case (padding: from its actual lengths)
  std::optional<CommSummary> comm;     ///< mpi kernels: communication and compute per forward pass
  std::optional<Spread> rank_time;     ///< mpi kernels on several ranks: each rank's median, over ranks
  std::optional<Roofline> roofline;    ///< against the machine profile (run --machine); absent without one
};

/// The record, with `provenance` (see provenance.hpp) embedded.
nlohmann::json make_record(const CaseOutcome& c, const nlohmann::json& provenance);

/// Derived rates of the case's median time, shared by the record and the console table (zeros
/// when nothing was timed).
struct Rates {
  double gflops = 0, gbytes_per_s = 0, tokens_per_s = 0;
};
Rates rates_for(const CaseOutcome& c);

}  // namespace attnbench
