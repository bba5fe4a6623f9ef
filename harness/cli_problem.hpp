#pragma once
// The problem options shared by `run` (and later `sweep`/`profile`): either `--problem STR` (repeatable)
// or the shape flags, turned into validated descriptors.
#include <vector>

#include "attnbench/problem.hpp"
#include "cli_parse.hpp"

namespace attnbench {

/// --problem, --batch, --heads, --kv-heads, --seq, --seq-kv, --head-dim, --value-dim, --model-dim, --mask,
/// --score, --projections, and the baselines' --kernel-size, --dilation, --layers, --bidirectional.
po::options_description problem_options();

/// The problems the options describe, validated. UsageError (naming the option) for a bad or missing
/// value, for mixing --problem with shape flags, and for any broken descriptor rule.
std::vector<Problem> problems_from(const po::variables_map& vm);

/// The command-line option that sets a descriptor field ("seq_kv" -> "--seq-kv").
std::string option_for_field(const std::string& field);

}  // namespace attnbench
