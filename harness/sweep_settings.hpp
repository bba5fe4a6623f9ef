#pragma once
// What one `attnbench sweep` was asked to do, parsed once (cmd_sweep.cpp) and read by the planner,
// the supervisor, the worker and the progress display.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "measure.hpp"
#include "roofline.hpp"
#include "sweep_grid.hpp"
#include "thread_pinning.hpp"

namespace attnbench {

enum class Verbosity { quiet, normal, verbose };

struct SweepSettings {
  SweepGrid grid;
  MeasureOptions measure;
  bool check = true;             ///< compare every case with the float64 reference (--no-check: off)
  std::uint64_t seed = 42;       ///< random inputs
  double timeout_s = 600;        ///< per case, wall clock (--timeout)
  RunMachine machine;            ///< --machine: the roofline of rate.pct_peak
  PinMode pin = PinMode::none;   ///< --pin: thread placement, applied before the first case of each thread count
  std::optional<std::uint64_t> interleave_seed;  ///< --interleave: each group (sweep_groups) in random-order rounds
  std::filesystem::path out;     ///< the results file
  bool resume = false;           ///< skip the cases already in `out`
  bool retry_failed = false;     ///< with resume: run failed cases again
  bool dry_run = false;          ///< print the plan, run nothing
  Verbosity verbosity = Verbosity::normal;
  std::vector<std::string> args; ///< the words after `sweep`, for the worker and the resume command
};

}  // namespace attnbench
