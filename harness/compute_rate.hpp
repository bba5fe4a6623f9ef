#pragma once
// The single-rank compute rate the performance model starts from: read from a results file of the
// blocked kernel, or measured here and now.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnbench/problem.hpp"

namespace attnbench {

struct ComputeRate {
  double gflops = 0;
  std::string source;  ///< one line: which records or which measurement
};

/// Whether a results record has the fields the model reads with the right types (kernel, status and
/// problem_str strings; threads and ranks whole numbers): others (a hand-edited or foreign line) are
/// passed over rather than stopping the command.
bool readable_record(const nlohmann::json& r);

/// From results records: those with status "ok", ranks 1, `threads` threads and a kernel among
/// select_kernels(kernel_pattern) (an id, a glob such as "mha.blocked.*"). The record of `problem` itself if there is one, else the
/// median rate of all of them (the blocked kernel's rate is nearly flat in the shape). Throws
/// std::invalid_argument saying what the records held when none matches.
ComputeRate compute_rate_from_records(const std::vector<nlohmann::json>& records, const std::string& kernel_pattern,
                                      int threads, const Problem& problem);

/// Why measure_compute_rate cannot measure `threads` threads here ("" when it can): more threads than
/// this machine's logical CPUs would measure time-slicing, not a node.
std::string cannot_measure(int threads);

/// Measures the blocked kernel (mha.blocked.serial on 1 thread, mha.blocked.omp on more) on a probe
/// of `problem`'s shape cut to at most 2 heads and 2048 tokens (a fraction of a second), median of
/// a few repetitions. Throws std::invalid_argument when `threads` exceeds this machine's logical CPUs
/// (the figure would describe time-slicing, not a node), std::runtime_error when the kernel fails or
/// is not registered.
ComputeRate measure_compute_rate(const Problem& problem, int threads);

}  // namespace attnbench
