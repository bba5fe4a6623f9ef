#pragma once
// The problem options shared by `run` (and later `sweep`/`profile`): either `--problem STR` (repeatable)
// or the shape flags, turned into validated descriptors.
#include <cstdint>
#include <functional>
#include <optional>
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

/// One value per shape option, as given (nullopt: not given, the option's default applies). `run`
/// reads them from its command line; `sweep` builds one per grid point.
struct ProblemFlags {
  std::optional<std::int64_t> batch, heads, kv_heads, seq, seq_kv, head_dim, value_dim, model_dim;
  std::optional<std::int64_t> kernel_size, dilation, layers;
  Mask mask = Mask::none;
  Score score = Score::scaled_dot;
  bool projections = false;
  bool bidirectional = false;
};

/// The validated problem `flags` describe: defaults applied (batch 1, kv-heads = heads, seq-kv = seq,
/// value-dim = head-dim), the width resolved from --model-dim/--heads/--head-dim. UsageError naming
/// the option for a missing or contradictory value and for any broken descriptor rule.
Problem problem_from(const ProblemFlags& flags);

/// Refuse a --problem string together with a shape option (`given(name)`: whether option --name was
/// given), with the message saying what to write in the string instead.
void refuse_shape_options_with_problem(const std::function<bool(const char*)>& given);

/// The command-line option that sets a descriptor field ("seq_kv" -> "--seq-kv").
std::string option_for_field(const std::string& field);

}  // namespace attnbench
