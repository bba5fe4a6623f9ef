// The round-trippable string form of a Problem: `b2_h16_sq512_skv512_d64_causal`.
#include <charconv>
#include <set>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"

namespace attnbench {

std::string Problem::str() const {
  // Built by appending (GCC 12 warns falsely, -Wrestrict, on some `"x" + std::string` chains).
  std::string s;
  auto token = [&s](std::string_view prefix, std::int64_t value) {
    if (!s.empty()) s += '_';
    s += prefix;
    s += std::to_string(value);
  };
  auto word = [&s](std::string_view w) {
    s += '_';
    s += w;
  };
  token("b", batch);
  token("h", heads);
  if (kv_heads != heads) token("hk", kv_heads);
  token("sq", seq_q);
  token("skv", seq_kv);
  token("d", head_dim);
  if (value_dim != head_dim) token("dv", value_dim);
  if (mask != Mask::none) word(to_string(mask));
  if (score != Score::scaled_dot) word(to_string(score));
  if (projections) word("proj");
  if (kernel_size != 3) token("ks", kernel_size);
  if (dilation != 1) token("dil", dilation);
  if (layers != 1) token("ly", layers);
  if (bidirectional) word("bidir");
  return s;  // fp32 is the only dtype and the default: omitted
}

namespace {

constexpr const char* kGrammar =
    "expected tokens joined by '_': b<batch> h<heads> [hk<kv_heads>] sq<seq_q> [skv<seq_kv>] d<head_dim> "
    "[dv<value_dim>] [causal|padding] [additive|multiplicative] [proj] [ks<kernel_size>] [dil<dilation>] "
    "[ly<layers>] [bidir], e.g. b2_h16_sq512_skv512_d64_causal or b1_h8_sq2048_d64_ks5_dil2_ly4";

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  throw ProblemError("problem", "bad problem string '" + std::string(text) + "': " + why + "; " + kGrammar);
}

// Split on '_', keeping "scaled_dot" (the one value name that contains the separator) whole.
std::vector<std::string_view> tokens_of(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '_') continue;
    if (s.substr(start, i - start) == "scaled" && s.substr(i, 4) == "_dot" &&
        (i + 4 == s.size() || s[i + 4] == '_'))
      i += 4;
    parts.push_back(s.substr(start, i - start));
    start = i + 1;
  }
  return parts;
}

}  // namespace

Problem parse_problem(std::string_view text) {
  if (text.empty()) bad(text, "it is empty");
  // Longest prefixes first so that "skv" is not read as "s"+"kv", "dv" not as "d"+"v", "hk" not as "h".
  static const std::vector<std::pair<std::string_view, const char*>> kSized{
      {"skv", "seq_kv"}, {"dil", "dilation"}, {"sq", "seq_q"}, {"hk", "kv_heads"}, {"dv", "value_dim"},
      {"ks", "kernel_size"}, {"ly", "layers"}, {"b", "batch"}, {"h", "heads"}, {"d", "head_dim"}};
  Problem p;
  std::set<std::string> seen;
  auto once = [&](const std::string& key, std::string_view token) {
    if (!seen.insert(key).second) bad(text, "'" + std::string(token) + "' sets " + key + " a second time");
  };
  for (std::string_view token : tokens_of(text)) {
    if (token.empty()) bad(text, "empty token (doubled or trailing '_')");
    if (token == "none" || token == "causal" || token == "padding") {
      once("mask", token);
      p.mask = parse_mask(token);
      continue;
    }
    if (token == "scaled_dot" || token == "sdp" || token == "additive" || token == "multiplicative") {
      once("score", token);
      p.score = token == "sdp" ? Score::scaled_dot : parse_score(token);
      continue;
    }
    if (token == "proj") {
      once("projections", token);
      p.projections = true;
      continue;
    }
    if (token == "bidir") {
      once("bidirectional", token);
      p.bidirectional = true;
      continue;
    }
    if (token == "fp32") {
      once("dtype", token);
      continue;
    }
    bool matched = false;
    for (const auto& [prefix, field] : kSized) {
      if (token.size() <= prefix.size() || token.substr(0, prefix.size()) != prefix) continue;
      std::string_view digits = token.substr(prefix.size());
      if (digits.front() < '0' || digits.front() > '9') continue;  // e.g. "dv" vs "d" + letters
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size())
        bad(text, "'" + std::string(token) + "': " + field + " must be a whole number");
      once(field, token);
      std::string f = field;
      if (f == "batch") p.batch = value;
      else if (f == "heads") p.heads = value;
      else if (f == "kv_heads") p.kv_heads = value;
      else if (f == "seq_q") p.seq_q = value;
      else if (f == "seq_kv") p.seq_kv = value;
      else if (f == "head_dim") p.head_dim = value;
      else if (f == "kernel_size") p.kernel_size = value;
      else if (f == "dilation") p.dilation = value;
      else if (f == "layers") p.layers = value;
      else p.value_dim = value;
      matched = true;
      break;
    }
    if (!matched) bad(text, "unknown token '" + std::string(token) + "'");
  }
  for (const char* required : {"batch", "heads", "seq_q", "head_dim"})
    if (!seen.count(required)) bad(text, std::string("missing ") + required);
  if (!seen.count("kv_heads")) p.kv_heads = p.heads;
  if (!seen.count("seq_kv")) p.seq_kv = p.seq_q;
  if (!seen.count("value_dim")) p.value_dim = p.head_dim;
  p.validate();
  return p;
}

}  // namespace attnbench
