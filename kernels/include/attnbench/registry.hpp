#pragma once
/// \file registry.hpp
/// The one kernel registry, enumerated alike by the harness, the Google Benchmark programs and the
/// tests. Adding a kernel: one new file defining `const Kernel& <name>()`, plus one line in
/// kernels/src/registry.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "attnbench/kernel.hpp"

namespace attnbench {

/// Every kernel, in registration order.
const std::vector<const Kernel*>& registry();

/// The kernel with this exact id, or nullptr.
const Kernel* find_kernel(std::string_view id);

/// Registered ids closest to `id` by edit distance (for "did you mean" messages), best first.
std::vector<std::string> closest_kernel_ids(std::string_view id, std::size_t count = 3);

/// Kernels whose id matches `pattern`: an exact id, a glob (`mha.*`, `*.omp`), a family name
/// (`attention`, `cnn`, `rnn`) or `all`. Empty if nothing matches.
std::vector<const Kernel*> select_kernels(std::string_view pattern);

}  // namespace attnbench
