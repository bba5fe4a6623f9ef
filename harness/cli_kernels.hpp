#pragma once
// The --kernel option shared by `run`, `sweep` and `profile`: ids, globs, families or `all`, turned into
// registered kernels with a "closest" suggestion for a name that matches nothing.
#include <set>
#include <string>
#include <vector>

#include "attnbench/kernel.hpp"
#include "cli_parse.hpp"

namespace attnbench {

/// The kernels that `items` (each an id, a glob such as mha.*, a family attention/cnn/rnn, or all;
/// comma-separated lists allowed) select, in order of first mention, each once. Kernels named by exact
/// id are added to `named` (an unsupported case is then an error rather than a skip). UsageError for an
/// empty item or a pattern that matches nothing, listing the closest ids.
std::vector<const Kernel*> resolve_kernels(const std::vector<std::string>& items, std::set<const Kernel*>& named);

/// The same for the --kernel option of `vm`; UsageError when it is missing.
std::vector<const Kernel*> resolve_kernels(const po::variables_map& vm, std::set<const Kernel*>& named);

}  // namespace attnbench
