#pragma once
// The measurement options shared by `run`, `sweep` and `profile`: how many repetitions, for how long.
#include "cli_parse.hpp"
#include "measure.hpp"

namespace attnbench {

/// --warmup, --min-reps, --max-reps, --min-time, --max-time.
po::options_description measurement_options();

/// The options above as MeasureOptions; UsageError naming the option for a bad value or a
/// contradictory pair (e.g. --max-reps below --min-reps).
MeasureOptions measure_options_from(const po::variables_map& vm);

}  // namespace attnbench
