// The oneDNN kernels beyond the generic registry suite (tests/test_kernels.cpp): both issue strategies
// (one batched call, one head at a time) against the reference, no fall-back to oneDNN's reference
// implementations on the benchmark shapes, the caller's OpenMP thread count restored after prepare and
// run, fully masked batch entries, and additive scores refused with their reason.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ostream>
#include <stdexcept>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/attention/onednn/onednn_attention.hpp"
#include "attnbench/check.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using kernels::OnednnKernel;
using kernels::OnednnStrategy;

constexpr std::uint64_t kSeed = 4242;

const Kernel& registered(const char* id) {
  const Kernel* k = find_kernel(id);
  if (!k) throw std::runtime_error(std::string(id) + " is not registered");
  return *k;
}

OnednnKernel forced(OnednnStrategy s, Parallelism par = Parallelism::serial) {
  return OnednnKernel({std::string("test.onednn_") + kernels::to_string(s) + ".serial", Family::attention, "test",
                       kernels::onednn_capabilities(par)},
                      s);
}

Tensor run_once(const Kernel& k, const Problem& p, const TensorSet& in, int threads) {
  RunContext ctx;
  ctx.threads = threads;
  std::unique_ptr<PreparedKernel> prepared = k.prepare(p, in, ctx);
  Tensor out = make_output(p);
  std::fill(out.as<float>().begin(), out.as<float>().end(), std::numeric_limits<float>::quiet_NaN());
  prepared->run(in, out);
  return out;
}

TensorSet inputs_for(const Problem& p) { return test_support::inputs_with_edge_lengths(p, kSeed); }

// --- both strategies ------------------------------------------------------------------------------

struct StrategyCase {
  OnednnStrategy strategy;
  const char* shape;
};

void PrintTo(const StrategyCase& c, std::ostream* os) { *os << kernels::to_string(c.strategy) << " on " << c.shape; }

std::vector<StrategyCase> strategy_cases() {
  const std::vector<const char*> shapes = {
      "b2_h3_sq33_d24",
      "b3_h3_sq33_skv7_d24_padding",
      "b2_h3_sq1_skv257_d80_padding",
      "b2_h12_hk3_sq33_d24",               // grouped-query: 5-D batched views
      "b2_h12_hk4_sq7_skv33_d8_padding",   // grouped-query with a padding post-op
      "b2_h12_hk1_sq1_skv257_d80",         // decode, one KV head
      "b2_h3_sq33_skv7_d24_causal",        // causal: the batched strategy runs per head
      "b2_h3_sq7_skv33_d8_dv24_multiplicative",
      "b2_h4_hk2_sq17_skv9_d8_dv24_padding_multiplicative_proj",
  };
  std::vector<StrategyCase> cases;
  for (OnednnStrategy s : {OnednnStrategy::batched, OnednnStrategy::per_head})
    for (const char* shape : shapes) cases.push_back({s, shape});
  return cases;
}

class OnednnStrategies : public ::testing::TestWithParam<StrategyCase> {};

TEST_P(OnednnStrategies, MatchReferenceAndZeroEmptyRows) {
  const Problem p = parse_problem(GetParam().shape);
  const OnednnKernel k = forced(GetParam().strategy);
  const TensorSet in = inputs_for(p);
  const Tensor out = run_once(k, p, in, 1);
  const CheckResult r = compare_to_reference(out, reference_forward(p, in));
  EXPECT_LE(r.max_rel_error, k.info().caps.tolerance) << k.plan_summary(p, RunContext{});
  if (p.mask == Mask::padding && !p.projections) {  // batch entry 0 has no valid key
    const auto o = out.as<float>();
    const std::int64_t per_batch = p.seq_q * p.heads * p.value_dim;
    for (std::int64_t i = 0; i < per_batch; ++i) ASSERT_EQ(o[std::size_t(i)], 0.0f) << "element " << i;
  }
}

TEST_P(OnednnStrategies, PlanUsesTheStrategyWhereOneDnnCan) {
  const Problem p = parse_problem(GetParam().shape);
  const std::string plan = forced(GetParam().strategy).plan_summary(p, RunContext{});
  // oneDNN 2.6 runs two batched layouts only in its reference code, so those go one head at a time: a
  // causal [Lq, Lk] post-op broadcast over the heads, and a [B, 1, 1, 1, Lk] padding post-op on the
  // 5-D grouped-query views.
  const bool batchable = !(p.mask == Mask::causal && p.seq_q > 1) && !(p.mask == Mask::padding && p.kv_heads < p.heads);
  const char* expected = GetParam().strategy == OnednnStrategy::batched && batchable ? "batched:" : "per_head:";
  EXPECT_EQ(plan.rfind(expected, 0), 0u) << plan;
}

std::string strategy_case_name(const ::testing::TestParamInfo<StrategyCase>& info) {
  std::string name = std::string(kernels::to_string(info.param.strategy)) + "__" + info.param.shape;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Onednn, OnednnStrategies, ::testing::ValuesIn(strategy_cases()), strategy_case_name);

// --- no oneDNN reference implementations on the shapes that are benchmarked -----------------------

TEST(OnednnPlan, NoReferenceImplementationsOnBenchmarkShapes) {
  for (const char* id : {"mha.onednn.serial", "mha.onednn.omp"})
    for (const char* shape : {"b1_h16_sq2048_d64", "b1_h16_sq4096_d64_causal", "b4_h12_sq512_d64_padding",
                              "b1_h12_sq1_skv1024_d64", "b1_h32_hk8_sq1024_d128", "b1_h32_sq1_skv65536_d128",
                              "b1_h16_sq16384_d64", "b2_h8_sq512_d64_multiplicative", "b1_h12_sq512_d64_proj"}) {
      const Problem p = parse_problem(shape);
      const std::string plan = dynamic_cast<const OnednnKernel&>(registered(id)).plan_summary(p, RunContext{2});
      EXPECT_EQ(plan.find("ref"), std::string::npos) << id << " on " << shape << ": " << plan;
    }
}

// --- OpenMP thread count --------------------------------------------------------------------------

TEST(OnednnThreads, CallersThreadCountIsRestoredAfterPrepareAndRun) {
  const Problem p = parse_problem("b2_h4_sq64_d16_causal");
  const TensorSet in = make_inputs(p, kSeed);
  const int saved = omp_get_max_threads();
  for (const char* id : {"mha.onednn.serial", "mha.onednn.omp"})
    for (int caller : {1, 3}) {
      omp_set_num_threads(caller);
      RunContext ctx;
      ctx.threads = 2;
      const Kernel& k = registered(id);
      (void)k.workspace_bytes(p, ctx);
      EXPECT_EQ(omp_get_max_threads(), caller) << id << " workspace_bytes";
      std::unique_ptr<PreparedKernel> prepared = k.prepare(p, in, ctx);
      EXPECT_EQ(omp_get_max_threads(), caller) << id << " prepare";
      Tensor out = make_output(p);
      prepared->run(in, out);
      EXPECT_EQ(omp_get_max_threads(), caller) << id << " run";
    }
  omp_set_num_threads(saved);
}

TEST(OnednnThreads, SerialResultDoesNotDependOnTheCallersThreadCount) {
  // The serial kernel runs oneDNN on one thread whatever the caller's OpenMP default (and whatever
  // RunContext::threads says): bitwise the same output under a caller with 1 and with 2 threads.
  const Problem p = parse_problem("b2_h4_sq96_d32");
  const TensorSet in = make_inputs(p, kSeed);
  const int saved = omp_get_max_threads();
  const Kernel& k = registered("mha.onednn.serial");
  omp_set_num_threads(1);
  const Tensor one = run_once(k, p, in, 4);
  omp_set_num_threads(2);
  const Tensor two = run_once(k, p, in, 4);
  omp_set_num_threads(saved);
  EXPECT_EQ(std::memcmp(one.raw(), two.raw(), one.bytes()), 0);
}

// --- fully masked batch entries -------------------------------------------------------------------

TEST(OnednnMasks, AllLengthsZeroGiveZerosOrTheOutputBias) {
  for (const char* id : {"mha.onednn.serial", "mha.onednn.omp"})
    for (const char* shape : {"b2_h4_sq16_skv24_d8_padding", "b2_h4_hk2_sq1_skv24_d8_padding", "b2_h4_sq5_d8_padding_proj",
                              "b2_h4_sq16_d8_padding_multiplicative"}) {
      const Problem p = parse_problem(shape);
      TensorSet in = make_inputs(p, kSeed);
      for (std::int32_t& len : in.at("lengths").as<std::int32_t>()) len = 0;
      const Tensor out = run_once(registered(id), p, in, 2);
      const auto o = out.as<float>();
      const std::int64_t width = output_spec(p).shape.back();
      for (std::int64_t i = 0; i < out.size(); ++i) {
        const float want = p.projections ? in.at("b_o").as<float>()[std::size_t(i % width)] : 0.0f;
        ASSERT_EQ(o[std::size_t(i)], want) << id << " on " << shape << ", element " << i;
      }
    }
}

TEST(OnednnMasks, CausalWithMoreQueriesThanKeysHasZeroLeadingRows) {
  const Problem p = parse_problem("b1_h2_sq40_skv8_d16_causal");
  const TensorSet in = make_inputs(p, kSeed);
  const Tensor out = run_once(registered("mha.onednn.omp"), p, in, 2);
  const auto o = out.as<float>();
  for (std::int64_t i = 0; i < (p.seq_q - p.seq_kv) * p.heads * p.value_dim; ++i) ASSERT_EQ(o[std::size_t(i)], 0.0f);
  EXPECT_LE(compare_to_reference(out, reference_forward(p, in)).max_rel_error, 1e-4);
}

// --- additive scores ------------------------------------------------------------------------------

TEST(OnednnSupports, AdditiveIsRefusedWithTheReason) {
  for (const char* id : {"mha.onednn.serial", "mha.onednn.omp"}) {
    const Kernel& k = registered(id);
    const Support s = k.supports(parse_problem("b1_h4_sq64_d32_additive"));
    EXPECT_FALSE(s.ok);
    EXPECT_NE(s.reason.find("additive"), std::string::npos) << s.reason;
    EXPECT_NE(s.reason.find("tanh"), std::string::npos) << s.reason;
    EXPECT_NE(k.info().description.find("no additive"), std::string::npos) << k.info().description;
    EXPECT_TRUE(k.supports(parse_problem("b1_h4_sq64_d32_multiplicative")).ok);
  }
}

// --- memory ---------------------------------------------------------------------------------------

TEST(OnednnMemory, WorkspaceHoldsTheScoreMatrix) {
  const Kernel& k = registered("mha.onednn.serial");
  const Problem big = parse_problem("b1_h16_sq65536_d64");  // per head: 16 GiB of scores
  EXPECT_GE(k.workspace_bytes(big, RunContext{}), std::int64_t(65536) * 65536 * 4);
  const Problem small = parse_problem("b2_h4_sq64_d16");  // batched: every head's scores at once
  EXPECT_GE(k.workspace_bytes(small, RunContext{}), std::int64_t(2) * 4 * 64 * 64 * 4);
}

}  // namespace
}  // namespace attnbench
