// `attnbench list [--json] [--kernel PATTERN]`: the registered kernels and what they support.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "attnbench/registry.hpp"
#include "cli_parse.hpp"
#include "commands.hpp"
#include "console_table.hpp"
#include "exit_codes.hpp"

namespace attnbench {
namespace {

template <class T>
std::string join_names(const std::vector<T>& values) {
  std::string s;
  for (const T& v : values) s += (s.empty() ? "" : ",") + std::string(to_string(v));
  return s;
}

std::string tolerance_text(double tolerance) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0e", tolerance);
  return buf;
}

nlohmann::json kernel_json(const Kernel& k) {
  const KernelInfo& i = k.info();
  nlohmann::json masks = nlohmann::json::array(), scores = nlohmann::json::array();
  for (Mask m : i.caps.masks) masks.push_back(std::string(to_string(m)));
  for (Score s : i.caps.scores) scores.push_back(std::string(to_string(s)));
  return {{"id", i.id},
          {"family", to_string(i.family)},
          {"op", std::string(to_string(i.op))},
          {"description", i.description},
          {"parallelism", to_string(i.caps.parallelism)},
          {"masks", masks},
          {"scores", scores},
          {"cross", i.caps.cross},
          {"grouped_query", i.caps.grouped_query},
          {"projections", i.caps.projections},
          {"tolerance", i.caps.tolerance}};
}

}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  po::options_description o("attnbench list: the registered kernels and their capabilities\n\nOptions");
  o.add_options()("help,h", "show this help")("json", po::bool_switch(), "print a JSON array instead of a table")(
      "kernel", po::value<std::string>()->default_value("all"),
      "only kernels matching: an id, a glob (mha.*, *.omp), a family (attention, cnn, rnn) or all");
  const po::variables_map vm = parse_args("list", args, o);
  if (vm.count("help")) {
    std::cout << "usage: attnbench list [--json] [--kernel PATTERN]\n\n" << o << "\n";
    return kExitOk;
  }
  const std::string pattern = vm["kernel"].as<std::string>();
  const std::vector<const Kernel*> kernels = select_kernels(pattern);
  if (kernels.empty()) {
    std::string close;  // a misspelled id gets its nearest ids, as run and profile give them
    if (!pattern.empty() && pattern.find_first_of("*?,") == std::string::npos)
      for (const std::string& c : closest_kernel_ids(pattern)) close += (close.empty() ? "; closest: " : ", ") + c;
    throw UsageError("no kernel matches '" + pattern + "'" + close + " (run 'attnbench list' to see all)");
  }
  if (vm["json"].as<bool>()) {
    nlohmann::json all = nlohmann::json::array();
    for (const Kernel* k : kernels) all.push_back(kernel_json(*k));
    std::cout << all.dump(2) << "\n";
    return kExitOk;
  }
  ConsoleTable table(std::cout, {{"kernel", 18, false},
                                 {"family", 9, false},
                                 {"parallel", 8, false},
                                 {"masks", 20, false},
                                 {"scores", 38, false},
                                 {"cross", 5, false},
                                 {"gqa", 3, false},
                                 {"proj", 4, false},
                                 {"tol", 7, true}});
  table.print_header();
  for (const Kernel* k : kernels) {
    const Capabilities& c = k->info().caps;
    table.print_row({k->id(), to_string(k->info().family), to_string(c.parallelism), join_names(c.masks),
                     join_names(c.scores), c.cross ? "yes" : "no", c.grouped_query ? "yes" : "no",
                     c.projections ? "yes" : "no", tolerance_text(c.tolerance)});
  }
  std::cout << "\n";
  for (const Kernel* k : kernels) std::cout << "  " << k->id() << ": " << k->info().description << "\n";
  return kExitOk;
}

}  // namespace attnbench
