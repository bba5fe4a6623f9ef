#include "cli_problem.hpp"

#include <functional>
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
      ("model-dim", po::value<std::string>(), "model width E = heads * head-dim, instead of either (CNN/RNN "
                                              "baselines: channels / hidden size); alone it means heads = E/64 "
                                              "when 64 divides E, else 1 head of E")
      ("value-dim", po::value<std::string>(), "value head dimension d_v (default --head-dim)")
      ("mask", po::value<std::string>()->default_value("none"), "none | causal | padding")
      ("score", po::value<std::string>()->default_value("scaled_dot"), "scaled_dot | additive | multiplicative")
      ("projections", po::bool_switch(), "measure the full module with Q/K/V/O linear layers, not the core alone")
      ("kernel-size", po::value<std::string>(), "conv1d: taps k (default 3); output length = input length")
      ("dilation", po::value<std::string>(), "conv1d: dilation of the first layer (default 1)")
      ("layers", po::value<std::string>(), "conv1d: stacked layers, dilation doubling per layer (default 1)")
      ("bidirectional", po::bool_switch(), "RNNs: run a backward direction too and concatenate the outputs");
  return o;
}

std::string option_for_field(const std::string& field) {
  static const std::map<std::string, std::string> kOptions{
      {"batch", "--batch"},       {"heads", "--heads"},         {"kv_heads", "--kv-heads"},
      {"seq_q", "--seq"},         {"seq_kv", "--seq-kv"},       {"head_dim", "--head-dim"},
      {"value_dim", "--value-dim"}, {"mask", "--mask"},         {"score", "--score"},
      {"projections", "--projections"}, {"problem", "--problem"}, {"dtype", "--dtype"},
      {"kernel_size", "--kernel-size"}, {"dilation", "--dilation"}, {"layers", "--layers"},
      {"bidirectional", "--bidirectional"}};
  auto it = kOptions.find(field);
  return it == kOptions.end() ? field : it->second;
}

namespace {

// A descriptor rule broken: say it in terms of the command-line option.
[[noreturn]] void rethrow_as_usage(const ProblemError& e, bool from_string) {
  if (from_string) throw UsageError(std::string("--problem: ") + e.what());
  throw UsageError(option_for_field(e.field()) + ": " + e.what());
}

// heads and head_dim from --heads/--head-dim, or from --model-dim E with either of them or alone
// (heads = E/64 when 64 divides E, the usual head width, else one head of E), so that one command
// line gives attention and the CNN/RNN baselines (which read only E) the same problem string.
void set_width(const po::variables_map& vm, Problem& p, const std::function<std::int64_t(const char*)>& size) {
  if (!vm.count("model-dim")) {
    for (const char* required : {"heads", "head-dim"})
      if (!vm.count(required))
        throw UsageError(std::string("missing --") + required +
                         ": give --heads and --head-dim, or --model-dim (or a --problem string such as "
                         "b1_h16_sq1024_d64)");
    p.heads = size("heads");
    p.head_dim = size("head-dim");
    return;
  }
  const std::int64_t E = size("model-dim");
  auto divide = [&](std::int64_t by, const char* what) {
    if (E % by != 0)
      throw UsageError("--model-dim " + std::to_string(E) + " is not a multiple of " + what + " " +
                       std::to_string(by) + "; model_dim = heads * head_dim");
    return E / by;
  };
  if (vm.count("heads")) {
    p.heads = size("heads");
    p.head_dim = divide(p.heads, "--heads");
    if (vm.count("head-dim") && size("head-dim") != p.head_dim)
      throw UsageError("--model-dim, --heads and --head-dim disagree: " + std::to_string(E) + " != " +
                       std::to_string(p.heads) + " * " + std::to_string(size("head-dim")) + "; give two of them");
  } else if (vm.count("head-dim")) {
    p.head_dim = size("head-dim");
    p.heads = divide(p.head_dim, "--head-dim");
  } else {
    p.heads = E % 64 == 0 ? E / 64 : 1;
    p.head_dim = E / p.heads;
  }
}

Problem problem_from_flags(const po::variables_map& vm) {
  if (!vm.count("seq"))
    throw UsageError("missing --seq: give --seq and the width (--heads and --head-dim, or --model-dim), or a "
                     "--problem string such as b1_h16_sq1024_d64");
  auto size_or = [&](const char* name, std::int64_t fallback) {
    return vm.count(name) ? parse_int(std::string("--") + name, vm[name].as<std::string>(), 1, kMaxDim) : fallback;
  };
  auto size = [&](const char* name) { return size_or(name, 0); };
  Problem p;
  try {
    p.mask = parse_mask(vm["mask"].as<std::string>(), "--mask");
    p.score = parse_score(vm["score"].as<std::string>(), "--score");
  } catch (const ProblemError& e) {
    throw UsageError(e.what());
  }
  p.batch = size_or("batch", 1);
  set_width(vm, p, size);
  p.kv_heads = size_or("kv-heads", p.heads);
  p.seq_q = size("seq");
  p.seq_kv = size_or("seq-kv", p.seq_q);
  p.value_dim = size_or("value-dim", p.head_dim);
  p.projections = vm["projections"].as<bool>();
  p.kernel_size = size_or("kernel-size", p.kernel_size);
  p.dilation = size_or("dilation", p.dilation);
  p.layers = size_or("layers", p.layers);
  p.bidirectional = vm["bidirectional"].as<bool>();
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
  for (const char* flag : {"batch", "heads", "kv-heads", "seq", "seq-kv", "head-dim", "value-dim", "model-dim",
                           "kernel-size", "dilation", "layers"})
    if (vm.count(flag))
      throw UsageError(std::string("--problem and --") + flag +
                       " both given: a problem string already fixes the shape; use one or the other");
  for (const char* flag : {"mask", "score"})
    if (!vm[flag].defaulted())
      throw UsageError(std::string("--problem and --") + flag + " both given: put the " + flag +
                       " in the problem string (e.g. ..._causal, ..._additive)");
  if (vm["projections"].as<bool>())
    throw UsageError("--problem and --projections both given: add '_proj' to the problem string instead");
  if (vm["bidirectional"].as<bool>())
    throw UsageError("--problem and --bidirectional both given: add '_bidir' to the problem string instead");
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
