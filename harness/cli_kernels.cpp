#include "cli_kernels.hpp"

#include <algorithm>

#include "attnbench/registry.hpp"
#include "exit_codes.hpp"

namespace attnbench {

std::vector<const Kernel*> resolve_kernels(const std::vector<std::string>& items, std::set<const Kernel*>& named) {
  std::vector<const Kernel*> chosen;
  auto add = [&](const Kernel* k) {
    if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
  };
  for (const std::string& item : items)
    for (const std::string& pattern : split_list("--kernel", item)) {
      if (const Kernel* k = find_kernel(pattern)) {
        named.insert(k);
        add(k);
        continue;
      }
      const std::vector<const Kernel*> matched = select_kernels(pattern);
      if (matched.empty()) {
        std::string close;
        for (const std::string& id : closest_kernel_ids(pattern)) close += (close.empty() ? "" : ", ") + id;
        throw UsageError("unknown kernel '" + pattern + "'; closest: " + close + " ('attnbench list' shows all)");
      }
      for (const Kernel* k : matched) add(k);
    }
  return chosen;
}

std::vector<const Kernel*> resolve_kernels(const po::variables_map& vm, std::set<const Kernel*>& named) {
  if (!vm.count("kernel")) throw UsageError("missing --kernel: name one (e.g. --kernel mha.naive.serial) or 'all'; "
                                            "'attnbench list' shows the registered kernels");
  return resolve_kernels(vm["kernel"].as<std::vector<std::string>>(), named);
}

}  // namespace attnbench
