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
void set_width(const ProblemFlags& f, Problem& p) {
  if (!f.model_dim) {
    if (!f.heads || !f.head_dim)
      throw UsageError(std::string("missing --") + (f.heads ? "head-dim" : "heads") +
                       ": give --heads and --head-dim, or --model-dim (or a --problem string such as "
                       "b1_h16_sq1024_d64)");
    p.heads = *f.heads;
    p.head_dim = *f.head_dim;
    return;
  }
  const std::int64_t E = *f.model_dim;
  auto divide = [&](std::int64_t by, const char* what) {
    if (E % by != 0)
      throw UsageError("--model-dim " + std::to_string(E) + " is not a multiple of " + what + " " +
                       std::to_string(by) + "; model_dim = heads * head_dim");
    return E / by;
  };
  if (f.heads) {
    p.heads = *f.heads;
    p.head_dim = divide(p.heads, "--heads");
    if (f.head_dim && *f.head_dim != p.head_dim)
      throw UsageError("--model-dim, --heads and --head-dim disagree: " + std::to_string(E) + " != " +
                       std::to_string(p.heads) + " * " + std::to_string(*f.head_dim) + "; give two of them");
  } else if (f.head_dim) {
    p.head_dim = *f.head_dim;
    p.heads = divide(p.head_dim, "--head-dim");
  } else {
    p.heads = E % 64 == 0 ? E / 64 : 1;
    p.head_dim = E / p.heads;
  }
}

ProblemFlags flags_from(const po::variables_map& vm) {
  auto size = [&](const char* name) -> std::optional<std::int64_t> {
    if (!vm.count(name)) return std::nullopt;
    return parse_int(std::string("--") + name, vm[name].as<std::string>(), 1, kMaxDim);
  };
  ProblemFlags f;
  try {
    f.mask = parse_mask(vm["mask"].as<std::string>(), "--mask");
    f.score = parse_score(vm["score"].as<std::string>(), "--score");
  } catch (const ProblemError& e) {
    throw UsageError(e.what());
  }
  f.batch = size("batch"), f.heads = size("heads"), f.kv_heads = size("kv-heads"), f.seq = size("seq");
  f.seq_kv = size("seq-kv"), f.head_dim = size("head-dim"), f.value_dim = size("value-dim");
  f.model_dim = size("model-dim"), f.kernel_size = size("kernel-size"), f.dilation = size("dilation");
  f.layers = size("layers");
  f.projections = vm["projections"].as<bool>();
  f.bidirectional = vm["bidirectional"].as<bool>();
  return f;
}

}  // namespace

Problem problem_from(const ProblemFlags& f) {
  if (!f.seq)
    throw UsageError("missing --seq: give --seq and the width (--heads and --head-dim, or --model-dim), or a "
                     "--problem string such as b1_h16_sq1024_d64");
  Problem p;
  p.mask = f.mask;
  p.score = f.score;
  p.batch = f.batch.value_or(1);
  set_width(f, p);
  p.kv_heads = f.kv_heads.value_or(p.heads);
  p.seq_q = *f.seq;
  p.seq_kv = f.seq_kv.value_or(p.seq_q);
  p.value_dim = f.value_dim.value_or(p.head_dim);
  p.projections = f.projections;
  p.kernel_size = f.kernel_size.value_or(p.kernel_size);
  p.dilation = f.dilation.value_or(p.dilation);
  p.layers = f.layers.value_or(p.layers);
  p.bidirectional = f.bidirectional;
  try {
    p.validate();
  } catch (const ProblemError& e) {
    rethrow_as_usage(e, false);
  }
  return p;
}

void refuse_shape_options_with_problem(const std::function<bool(const char*)>& given) {
  for (const char* flag : {"batch", "heads", "kv-heads", "seq", "seq-kv", "head-dim", "value-dim", "model-dim",
                           "kernel-size", "dilation", "layers"})
    if (given(flag))
      throw UsageError(std::string("--problem and --") + flag +
                       " both given: a problem string already fixes the shape; use one or the other");
  for (const char* flag : {"mask", "score"})
    if (given(flag))
      throw UsageError(std::string("--problem and --") + flag + " both given: put the " + flag +
                       " in the problem string (e.g. ..._causal, ..._additive)");
  if (given("projections"))
    throw UsageError("--problem and --projections both given: add '_proj' to the problem string instead");
  if (given("bidirectional"))
    throw UsageError("--problem and --bidirectional both given: add '_bidir' to the problem string instead");
}

std::vector<Problem> problems_from(const po::variables_map& vm) {
  if (!vm.count("problem")) return {problem_from(flags_from(vm))};
  // Switches and options with a default are stored even when not given: only an explicit one conflicts.
  refuse_shape_options_with_problem([&](const char* name) { return vm.count(name) && !vm[name].defaulted(); });
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
