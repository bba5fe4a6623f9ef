#include "cli_problem.hpp"

#include <map>

#include "exit_codes.hpp"

namespace attnbench {

po::options_description problem_options() {
  po::options_description o("Problem (either --problem, or the shape options)");
  // Sizes are taken as text and converted by parse_int so errors can say exactly what was wrong.
  o.add_options()
      ("problem", po::value<std::vector<std::string>>()->composing(),
       "problem string, e.g. b1_h16_sq4096_skv4096_d64_causal (repeatable, or comma-separated)")
      ("batch", po::value<std::string>(), "batch size B (default 1)")
      ("heads", po::value<std::string>(), "query heads H")
      ("kv-heads", po::value<std::string>(), "key/value heads (grouped-query); must divide --heads (default --heads)")
      ("seq", po::value<std::string>(), "query sequence length Lq")
      ("seq-kv", po::value<std::string>(), "key/value sequence length Lk (default --seq; --seq 1 with a long "
                                           "--seq-kv is a decode step)")
      ("head-dim", po::value<std::string>(), "head dimension d_k")
      ("value-dim", po::value<std::string>(), "value head dimension d_v (default --head-dim)")
      ("mask", po::value<std::string>()->default_value("none"), "none | causal | padding")
      ("score", po::value<std::string>()->default_value("scaled_dot"), "scaled_dot | additive | multiplicative")
      ("projections", po::bool_switch(), "measure the full module with Q/K/V/O linear layers, not the core alone");
  return o;
}

std::string option_for_field(const std::string& field) {
  static const std::map<std::string, std::string> kOptions{
      {"batch", "--batch"},       {"heads", "--heads"},         {"kv_heads", "--kv-heads"},
      {"seq_q", "--seq"},         {"seq_kv", "--seq-kv"},       {"head_dim", "--head-dim"},
      {"value_dim", "--value-dim"}, {"mask", "--mask"},         {"score", "--score"},
      {"projections", "--projections"}, {"problem", "--problem"}, {"dtype", "--dtype"}};
  auto it = kOptions.find(field);
  return it == kOptions.end() ? field : it->second;
}

namespace {

// A descriptor rule broken: say it in terms of the command-line option.
[[noreturn]] void rethrow_as_usage(const ProblemError& e, bool from_string) {
  if (from_string) throw UsageError(std::string("--problem: ") + e.what());
  throw UsageError(option_for_field(e.field()) + ": " + e.what());
}

Problem problem_from_flags(const po::variables_map& vm) {
  for (const char* required : {"heads", "seq", "head-dim"})
    if (!vm.count(required))
      throw UsageError(std::string("missing --") + required +
                       ": give --heads, --seq and --head-dim (or a --problem string such as b1_h16_sq1024_d64)");
  auto size = [&](const char* name, std::int64_t fallback) {
    return vm.count(name) ? parse_int(std::string("--") + name, vm[name].as<std::string>(), 1, kMaxDim) : fallback;
  };
  Problem p;
  try {
    p.mask = parse_mask(vm["mask"].as<std::string>(), "--mask");
    p.score = parse_score(vm["score"].as<std::string>(), "--score");
  } catch (const ProblemError& e) {
    throw UsageError(e.what());
  }
  p.batch = size("batch", 1);
  p.heads = size("heads", 0);
  p.kv_heads = size("kv-heads", p.heads);
  p.seq_q = size("seq", 0);
  p.seq_kv = size("seq-kv", p.seq_q);
  p.head_dim = size("head-dim", 0);
  p.value_dim = size("value-dim", p.head_dim);
  p.projections = vm["projections"].as<bool>();
  try {
    p.validate();
  } catch (const ProblemError& e) {
    rethrow_as_usage(e, false);
  }
  return p;
}

}  // namespace

std::vector<Problem> problems_from(const po::variables_map& vm) {
  if (!vm.count("problem")) return {problem_from_flags(vm)};
  for (const char* flag : {"batch", "heads", "kv-heads", "seq", "seq-kv", "head-dim", "value-dim"})
    if (vm.count(flag))
      throw UsageError(std::string("--problem and --") + flag +
                       " both given: a problem string already fixes the shape; use one or the other");
  for (const char* flag : {"mask", "score"})
    if (!vm[flag].defaulted())
      throw UsageError(std::string("--problem and --") + flag + " both given: put the " + flag +
                       " in the problem string (e.g. ..._causal, ..._additive)");
  if (vm["projections"].as<bool>())
    throw UsageError("--problem and --projections both given: add '_proj' to the problem string instead");
  std::vector<Problem> problems;
  for (const std::string& item : vm["problem"].as<std::vector<std::string>>())
    for (const std::string& text : split_list("--problem", item)) try {
        problems.push_back(parse_problem(text));
      } catch (const ProblemError& e) {
        rethrow_as_usage(e, true);
      }
  return problems;
}

}  // namespace attnbench
