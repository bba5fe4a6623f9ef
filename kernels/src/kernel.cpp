// Default capability check shared by every kernel.
#include "attnbench/kernel.hpp"

#include <algorithm>

namespace attnbench {

const char* to_string(Family f) {
  switch (f) {
    case Family::attention: return "attention";
    case Family::cnn: return "cnn";
    case Family::rnn: return "rnn";
  }
  return "?";
}

const char* to_string(Parallelism p) {
  switch (p) {
    case Parallelism::serial: return "serial";
    case Parallelism::openmp: return "openmp";
    case Parallelism::tbb: return "tbb";
    case Parallelism::mpi: return "mpi";
  }
  return "?";
}

Capabilities all_features(Parallelism parallelism, double tolerance) {
  Capabilities c;
  c.masks = {Mask::none, Mask::causal, Mask::padding};
  c.scores = {Score::scaled_dot, Score::additive, Score::multiplicative};
  c.cross = c.grouped_query = c.projections = true;
  c.parallelism = parallelism;
  c.tolerance = tolerance;
  return c;
}

Capabilities baseline_features(Parallelism parallelism, double tolerance) {
  Capabilities c;
  c.masks = {Mask::none, Mask::causal};
  c.projections = true;
  c.parallelism = parallelism;
  c.tolerance = tolerance;
  return c;
}

Support Kernel::supports(const Problem& p) const {
  if (std::string refusal = op_refusal(info().op, p); !refusal.empty()) return Support::no(std::move(refusal));
  const Capabilities& c = info().caps;
  auto has = [](const auto& list, auto value) { return std::find(list.begin(), list.end(), value) != list.end(); };
  if (!has(c.masks, p.mask)) return Support::no("mask '" + std::string(to_string(p.mask)) + "' not implemented");
  if (!has(c.scores, p.score))
    return Support::no("score '" + std::string(to_string(p.score)) + "' not implemented");
  if (p.seq_q != p.seq_kv && !c.cross) return Support::no("cross-attention/decode (seq_q != seq_kv) not implemented");
  if (p.kv_heads != p.heads && !c.grouped_query) return Support::no("grouped-query heads (kv_heads < heads) not implemented");
  if (p.projections && !c.projections) return Support::no("Q/K/V/O projections not implemented");
  return Support::yes();
}

int Kernel::effective_threads(const RunContext& ctx) const {
  return info().caps.parallelism == Parallelism::serial ? 1 : std::max(1, ctx.threads);
}

}  // namespace attnbench
