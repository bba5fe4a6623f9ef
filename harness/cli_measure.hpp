#pragma once
// The measurement options shared by `run`, `sweep` and `profile`: how many repetitions and for how
// long (the stopping rule), the cache state, thread pinning and interleaving.
#include <cstdint>
#include <optional>

#include "cli_parse.hpp"
#include "measure.hpp"
#include "thread_pinning.hpp"

namespace attnbench {

/// --warmup, --min-reps, --max-reps, --min-time, --max-time, --ci-target, --cache: everything
/// measure_options_from reads, so any command that measures through MeasureOptions honours them all.
po::options_description measurement_options();

/// --pin, --interleave, --interleave-seed: only for commands that act on them (pin_threads once
/// before measuring, run_cases_interleaved per problem), so no command accepts one and ignores it.
po::options_description placement_options();

/// The stopping rule's and cache options as MeasureOptions; UsageError naming the option for a bad
/// value or a contradictory pair (e.g. --max-reps below --min-reps).
MeasureOptions measure_options_from(const po::variables_map& vm);

/// --pin (none when absent); UsageError listing the valid modes otherwise.
PinMode pin_mode_from(const po::variables_map& vm);

/// With --interleave, the seed of the rounds' orders (--interleave-seed, default 1); nothing without
/// it. UsageError for --interleave-seed without --interleave or a bad number.
std::optional<std::uint64_t> interleave_seed_from(const po::variables_map& vm);

}  // namespace attnbench
