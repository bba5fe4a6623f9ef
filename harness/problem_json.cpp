#include "problem_json.hpp"

namespace attnbench {

nlohmann::json problem_to_json(const Problem& p) {
  return {{"batch", p.batch},         {"heads", p.heads},
          {"kv_heads", p.kv_heads},   {"seq_q", p.seq_q},
          {"seq_kv", p.seq_kv},       {"head_dim", p.head_dim},
          {"value_dim", p.value_dim}, {"mask", std::string(to_string(p.mask))},
          {"score", std::string(to_string(p.score))}, {"projections", p.projections},
          {"dtype", std::string(to_string(p.dtype))}, {"kernel_size", p.kernel_size},
          {"dilation", p.dilation},   {"layers", p.layers},
          {"bidirectional", p.bidirectional}};
}

Problem problem_from_json(const nlohmann::json& j) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(name)) throw ProblemError(name, std::string("problem: missing field '") + name + "'");
    return j.at(name);
  };
  auto size = [&](const char* name) {
    const auto& v = field(name);
    if (!v.is_number_integer()) throw ProblemError(name, std::string("problem: '") + name + "' must be an integer");
    return v.get<std::int64_t>();
  };
  auto text = [&](const char* name) {
    const auto& v = field(name);
    if (!v.is_string()) throw ProblemError(name, std::string("problem: '") + name + "' must be a string");
    return v.get<std::string>();
  };
  Problem p;
  p.batch = size("batch");
  p.heads = size("heads");
  p.kv_heads = size("kv_heads");
  p.seq_q = size("seq_q");
  p.seq_kv = size("seq_kv");
  p.head_dim = size("head_dim");
  p.value_dim = size("value_dim");
  p.mask = parse_mask(text("mask"));
  p.score = parse_score(text("score"));
  const auto& proj = field("projections");
  if (!proj.is_boolean()) throw ProblemError("projections", "problem: 'projections' must be true or false");
  p.projections = proj.get<bool>();
  p.dtype = parse_dtype(text("dtype"));
  // The baselines' fields came later: a record without them has their defaults.
  if (j.contains("kernel_size")) p.kernel_size = size("kernel_size");
  if (j.contains("dilation")) p.dilation = size("dilation");
  if (j.contains("layers")) p.layers = size("layers");
  if (j.contains("bidirectional")) {
    if (!j.at("bidirectional").is_boolean())
      throw ProblemError("bidirectional", "problem: 'bidirectional' must be true or false");
    p.bidirectional = j.at("bidirectional").get<bool>();
  }
  p.validate();
  return p;
}

}  // namespace attnbench
