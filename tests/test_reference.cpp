// The float64 reference against tiny cases worked out by hand (the expected numbers below are written
// from the definitions in docs/SEMANTICS.md, never computed by reference code), plus properties that
// every correct attention must have.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/tensor.hpp"
#include "attnbench/workload.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::make_problem;

const double kSqrt2 = std::sqrt(2.0);

Tensor f32(const Shape& shape, const std::vector<float>& values) {
  Tensor t(DataType::f32, shape);
  EXPECT_EQ(std::size_t(t.size()), values.size()) << "literal for " << shape_str(shape);
  std::copy_n(values.begin(), std::min(values.size(), std::size_t(t.size())), t.as<float>().begin());
  return t;
}

Tensor i32(const Shape& shape, const std::vector<std::int32_t>& values) {
  Tensor t(DataType::i32, shape);
  EXPECT_EQ(std::size_t(t.size()), values.size());
  std::copy_n(values.begin(), std::min(values.size(), std::size_t(t.size())), t.as<std::int32_t>().begin());
  return t;
}

std::vector<float> repeat(const std::vector<float>& v, int times) {
  std::vector<float> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), v.begin(), v.end());
  return out;
}

// Reference output as a flat vector, checked against the output spec's shape.
std::vector<double> run_reference(const Problem& p, const TensorSet& in) {
  const Tensor out = reference_forward(p, in);
  EXPECT_EQ(out.type(), DataType::f64);
  EXPECT_EQ(out.shape(), output_spec(p).shape);
  const auto v = out.as<double>();
  return {v.begin(), v.end()};
}

void expect_values(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "element " << i;
}

// The running example (B = 1, H = 1, d = dv = 2, Lq = 2, Lk = 3), used by several cases:
//   q = [[1, 1], [0, 0]]   k = [[1, 0], [0, 1], [1, 1]]   v = [[1, 2], [3, 4], [5, 6]]
// Row 0 scores (q.k / sqrt 2): 1/sqrt2, 1/sqrt2, sqrt2; row 1 scores are all 0 (uniform weights).
const std::vector<float> kQ = {1, 1, 0, 0};
const std::vector<float> kK = {1, 0, 0, 1, 1, 1};
const std::vector<float> kV = {1, 2, 3, 4, 5, 6};

// softmax over (1/sqrt2, 1/sqrt2, sqrt2) applied to v rows (v0, v1, v2), written out.
std::vector<double> example_row0(double v00, double v01, double v10, double v11, double v20, double v21) {
  const double a = std::exp(1 / kSqrt2), c = std::exp(kSqrt2), z = 2 * a + c;
  return {(a * v00 + a * v10 + c * v20) / z, (a * v01 + a * v11 + c * v21) / z};
}

TensorSet example_inputs(const Problem& p) {
  TensorSet in;
  in.add("q", f32({1, 2, 1, 2}, kQ));
  in.add("k", f32({1, 3, 1, 2}, kK));
  in.add("v", f32({1, 3, 1, 2}, kV));
  (void)p;
  return in;
}

// ---------------------------------------------------------------------------------------------------
// Hand-computed cases

TEST(ReferenceByHand, ScaledDotNoMask) {
  const Problem p = make_problem(1, 1, 1, 2, 3, 2, 2);
  std::vector<double> want = example_row0(1, 2, 3, 4, 5, 6);
  want.insert(want.end(), {3, 4});  // row 1: uniform average of v rows
  expect_values(run_reference(p, example_inputs(p)), want);
}

TEST(ReferenceByHand, CausalIsBottomRightAligned) {
  // Lq = 2, Lk = 3: query i sees keys j <= i + 1. Row 0 sees keys 0 and 1, whose scores are equal
  // (both 1/sqrt2), so it is the plain average of v0 and v1 = [2, 3]. (Top-left alignment would give
  // v0 = [1, 2].) Row 1 sees every key with equal scores: [3, 4].
  const Problem p = make_problem(1, 1, 1, 2, 3, 2, 2, Mask::causal);
  expect_values(run_reference(p, example_inputs(p)), {2, 3, 3, 4});
}

TEST(ReferenceByHand, CausalWithMoreQueriesThanKeysLeavesLeadingRowsEmpty) {
  // Lq = 3, Lk = 2: query i sees j <= i - 1. Row 0 sees nothing (zeros), row 1 sees key 0 alone
  // (weight 1 whatever its score: exactly v0), row 2 sees both keys with scores 0 (q2 = 0): average.
  const Problem p = make_problem(1, 1, 1, 3, 2, 2, 2, Mask::causal);
  TensorSet in;
  in.add("q", f32({1, 3, 1, 2}, {0.7f, -1.3f, 2.5f, 0.25f, 0, 0}));
  in.add("k", f32({1, 2, 1, 2}, {1, -2, 0.5f, 3}));
  in.add("v", f32({1, 2, 1, 2}, {1, 2, 3, 4}));
  expect_values(run_reference(p, in), {0, 0, 1, 2, 2, 3});
}

TEST(ReferenceByHand, PaddingMasksKeysAtAndBeyondTheLength) {
  // Three batch entries with the running example's data and lengths 2, 0, 3.
  //   b0 (2 valid keys): row 0 sees keys 0, 1 with equal scores -> [2, 3]; row 1 (q = 0) -> [2, 3].
  //   b1 (no valid key): both rows are exactly 0.
  //   b2 (all keys): the unmasked result.
  const Problem p = make_problem(3, 1, 1, 2, 3, 2, 2, Mask::padding);
  TensorSet in;
  in.add("q", f32({3, 2, 1, 2}, repeat(kQ, 3)));
  in.add("k", f32({3, 3, 1, 2}, repeat(kK, 3)));
  in.add("v", f32({3, 3, 1, 2}, repeat(kV, 3)));
  in.add("lengths", i32({3}, {2, 0, 3}));
  std::vector<double> want = {2, 3, 2, 3, 0, 0, 0, 0};
  const std::vector<double> row0 = example_row0(1, 2, 3, 4, 5, 6);
  want.insert(want.end(), row0.begin(), row0.end());
  want.insert(want.end(), {3, 4});
  const std::vector<double> got = run_reference(p, in);
  expect_values(got, want);
  for (int e = 4; e < 8; ++e) EXPECT_EQ(got[std::size_t(e)], 0.0) << "fully masked rows are exactly 0";
}

TEST(ReferenceByHand, MultiplicativeUsesQTransposeWK) {
  // s(i, j) = q_i^T W k_j / sqrt(d), W = w_score[0] = [[0, a], [0, 0]] with a = sqrt2 * ln 3.
  //   q0 = [1, 0]: q0^T W = [0, a]; k = [[0, 1], [1, 0], [0, 0]] -> scores ln 3, 0, 0 -> weights 3:1:1
  //       -> (3*[1, 2] + [3, 4] + [5, 6]) / 5 = [2.2, 3.2]
  //   q1 = [0, 1]: q1^T W = [0, 0] -> uniform -> [3, 4]
  // Using W^T instead of W would swap the two rows' behaviour; dropping 1/sqrt(d) gives weights 9:1:1.
  const Problem p = make_problem(1, 1, 1, 2, 3, 2, 2, Mask::none, Score::multiplicative);
  const float a = float(kSqrt2 * std::log(3.0));
  TensorSet in;
  in.add("q", f32({1, 2, 1, 2}, {1, 0, 0, 1}));
  in.add("k", f32({1, 3, 1, 2}, {0, 1, 1, 0, 0, 0}));
  in.add("v", f32({1, 3, 1, 2}, kV));
  in.add("w_score", f32({1, 2, 2}, {0, a, 0, 0}));
  expect_values(run_reference(p, in), {2.2, 3.2, 3, 4}, 1e-6);  // a is rounded to float
}

TEST(ReferenceByHand, AdditiveBahdanau) {
  // s(i, j) = v . tanh(Wq q_i + Wk k_j), no scale, da = d = 2, with
  //   Wq = [[0, 1], [0.5, 0]]   Wk = [[2, 0], [1, -1]]   v = [1, 0.5]
  // so s(i, j) = tanh(q_i1 + 2 k_j0) + 0.5 tanh(0.5 q_i0 + k_j0 - k_j1).
  const Problem p = make_problem(1, 1, 1, 2, 3, 2, 2, Mask::none, Score::additive);
  const std::vector<float> q = {0.5f, -1, 1, 2}, k = {0, 0, 1, 0.5f, -0.5f, 1};
  TensorSet in;
  in.add("q", f32({1, 2, 1, 2}, q));
  in.add("k", f32({1, 3, 1, 2}, k));
  in.add("v", f32({1, 3, 1, 2}, kV));
  in.add("w_score_q", f32({1, 2, 2}, {0, 1, 0.5f, 0}));
  in.add("w_score_k", f32({1, 2, 2}, {2, 0, 1, -1}));
  in.add("v_score", f32({1, 2}, {1, 0.5f}));
  auto s = [](double q0, double q1, double k0, double k1) {
    return std::tanh(q1 + 2 * k0) + 0.5 * std::tanh(0.5 * q0 + k0 - k1);
  };
  std::vector<double> want;
  for (int i = 0; i < 2; ++i) {
    const double q0 = q[std::size_t(2 * i)], q1 = q[std::size_t(2 * i + 1)];
    const double w0 = std::exp(s(q0, q1, 0, 0)), w1 = std::exp(s(q0, q1, 1, 0.5)), w2 = std::exp(s(q0, q1, -0.5, 1));
    const double z = w0 + w1 + w2;
    want.push_back((w0 * 1 + w1 * 3 + w2 * 5) / z);
    want.push_back((w0 * 2 + w1 * 4 + w2 * 6) / z);
  }
  expect_values(run_reference(p, in), want);
}

TEST(ReferenceByHand, GroupedQueryBothHeadsReadKvHeadZero) {
  // H = 2, Hk = 1, Lq = 1: head 0 has q = [1, 1] (the running example's row 0), head 1 has q = [0, 0]
  // (uniform). Both read the single KV head.
  const Problem p = make_problem(1, 2, 1, 1, 3, 2, 2);
  TensorSet in;
  in.add("q", f32({1, 1, 2, 2}, {1, 1, 0, 0}));
  in.add("k", f32({1, 3, 1, 2}, kK));
  in.add("v", f32({1, 3, 1, 2}, kV));
  std::vector<double> want = example_row0(1, 2, 3, 4, 5, 6);
  want.insert(want.end(), {3, 4});
  expect_values(run_reference(p, in), want);
}

TEST(ReferenceByHand, GroupedQueryMapsHeadToHeadOverGroupSize) {
  // H = 4, Hk = 2: heads 0, 1 read KV head 0 and heads 2, 3 read KV head 1 (h / 2, not h % 2).
  // All keys are 0, so each head averages its KV head's values: KV head 0 has v rows [1, 2], [3, 4]
  // (mean [2, 3]); KV head 1 has [10, 20], [30, 40] (mean [20, 30]).
  const Problem p = make_problem(1, 4, 2, 1, 2, 1, 2);
  TensorSet in;
  in.add("q", f32({1, 1, 4, 1}, {0.5f, -1, 2, 3}));
  in.add("k", f32({1, 2, 2, 1}, {0, 0, 0, 0}));
  in.add("v", f32({1, 2, 2, 2}, {1, 2, 10, 20, 3, 4, 30, 40}));  // [b, j, hk, c]
  expect_values(run_reference(p, in), {2, 3, 2, 3, 20, 30, 20, 30});
}

TEST(ReferenceByHand, ProjectionsTorchLinearConventionAndMaskedRowsGiveOutputBias) {
  // B = 2, H = 1, d = dv = E = 2, Lq = 2, Lk = 3, padding lengths [3, 0]. y = x W^T + b, W [out, in]:
  //   W_q = I, b_q = [0.5, 0.5]: x_q rows [0.5, 0.5], [-0.5, -0.5] -> q = [1, 1], [0, 0]
  //   W_k = [[1, 1], [0, 1]], b_k = [0.25, -0.75]: x_k rows [1, 0], [-1, 1], [0, 1] -> k = running example's
  //       keys + b_k; a bias shared by all keys shifts every score of a row by q.b_k/sqrt2 and cancels in
  //       the softmax, so the core output is that of the running example's keys.
  //   W_v = I, b_v = [1, -1]: x_v = [[1, 2], [3, 4], [5, 6]] -> v = [[2, 1], [4, 3], [6, 5]]
  //   W_o = [[1, 2], [0, 1]], b_o = [0.25, -0.25]: y = [o0 + 2 o1 + 0.25, o1 - 0.25]
  // b0: o(row 0) = example_row0 on the projected v; o(row 1) = [4, 3] -> y = [10.25, 2.75].
  // b1: no valid key: o = 0, so y = b_o on both rows.
  const Problem p = make_problem(2, 1, 1, 2, 3, 2, 2, Mask::padding, Score::scaled_dot, true);
  TensorSet in;
  in.add("q", f32({2, 2, 2}, repeat({0.5f, 0.5f, -0.5f, -0.5f}, 2)));
  in.add("k", f32({2, 3, 2}, repeat({1, 0, -1, 1, 0, 1}, 2)));
  in.add("v", f32({2, 3, 2}, repeat(kV, 2)));
  in.add("lengths", i32({2}, {3, 0}));
  in.add("w_q", f32({2, 2}, {1, 0, 0, 1}));
  in.add("b_q", f32({2}, {0.5f, 0.5f}));
  in.add("w_k", f32({2, 2}, {1, 1, 0, 1}));
  in.add("b_k", f32({2}, {0.25f, -0.75f}));
  in.add("w_v", f32({2, 2}, {1, 0, 0, 1}));
  in.add("b_v", f32({2}, {1, -1}));
  in.add("w_o", f32({2, 2}, {1, 2, 0, 1}));
  in.add("b_o", f32({2}, {0.25f, -0.25f}));
  const std::vector<double> o = example_row0(2, 1, 4, 3, 6, 5);
  const std::vector<double> want = {o[0] + 2 * o[1] + 0.25, o[1] - 0.25, 10.25, 2.75, 0.25, -0.25, 0.25, -0.25};
  const std::vector<double> got = run_reference(p, in);
  expect_values(got, want);
  for (int e = 4; e < 8; ++e) EXPECT_EQ(got[std::size_t(e)], want[std::size_t(e)]) << "masked row is exactly b_o";
}

TEST(ReferenceByHand, DecodeSeesTheWholeCache) {
  // Lq = 1, Lk = 4, causal: the single query sees j <= 0 + 3, every key. q = 0 gives uniform weights:
  // the mean of v rows [1, 2], [3, 4], [5, 6], [7, 8] = [4, 5]. (Top-left alignment would give [1, 2].)
  const Problem p = make_problem(1, 1, 1, 1, 4, 2, 2, Mask::causal);
  TensorSet in;
  in.add("q", f32({1, 1, 1, 2}, {0, 0}));
  in.add("k", f32({1, 4, 1, 2}, {1, -1, 2, 0.5f, -3, 1, 0.25f, 2}));
  in.add("v", f32({1, 4, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  expect_values(run_reference(p, in), {4, 5});
}

TEST(ReferenceByHand, DecodeScaledDot) {
  // Lq = 1, Lk = 3, no mask: the running example's row 0.
  const Problem p = make_problem(1, 1, 1, 1, 3, 2, 2);
  TensorSet in;
  in.add("q", f32({1, 1, 1, 2}, {1, 1}));
  in.add("k", f32({1, 3, 1, 2}, kK));
  in.add("v", f32({1, 3, 1, 2}, kV));
  expect_values(run_reference(p, in), example_row0(1, 2, 3, 4, 5, 6));
}

TEST(ReferenceByHand, ValueDimDiffersFromHeadDim) {
  // d = 2, dv = 3, q = 0: uniform average of v rows [1, 2, 3], [4, 5, 6], [7, 8, 9] = [4, 5, 6].
  const Problem p = make_problem(1, 1, 1, 1, 3, 2, 3);
  TensorSet in;
  in.add("q", f32({1, 1, 1, 2}, {0, 0}));
  in.add("k", f32({1, 3, 1, 2}, kK));
  in.add("v", f32({1, 3, 1, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  expect_values(run_reference(p, in), {4, 5, 6});
}

TEST(ReferenceInputs, MalformedInputsAreRejected) {
  const Problem p = make_problem(1, 1, 1, 2, 3, 2, 2, Mask::padding);
  TensorSet in = example_inputs(p);
  EXPECT_THROW(reference_forward(p, in), std::invalid_argument);  // no lengths
  in.add("lengths", i32({1}, {4}));                                // > seq_kv
  EXPECT_THROW(reference_forward(p, in), std::invalid_argument);
  in.add("lengths", i32({1}, {-1}));
  EXPECT_THROW(reference_forward(p, in), std::invalid_argument);
  in.add("lengths", i32({1}, {3}));
  EXPECT_NO_THROW(reference_forward(p, in));
  in.add("q", f32({1, 2, 1, 2}, {1, 1, std::numeric_limits<float>::quiet_NaN(), 0}));  // non-finite
  EXPECT_THROW(reference_forward(p, in), std::invalid_argument);
  in.add("q", f32({1, 2, 1, 2}, kQ));
  in.add("k", f32({1, 3, 2}, kK));  // wrong rank
  EXPECT_THROW(reference_forward(p, in), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------
// Properties on random inputs

// Inputs from make_inputs rounded to multiples of 1/64 (and clamped), so that the sums formed by the
// shift tests below are exact in float.
TensorSet quantised_inputs(const Problem& p, std::uint64_t seed) {
  TensorSet in = make_inputs(p, seed);
  for (const TensorSpec& s : input_specs(p))
    if (s.type == DataType::f32)
      for (float& x : in.at(s.name).as<float>()) x = std::clamp(std::round(x * 64.0f) / 64.0f, -8.0f, 8.0f);
  return in;
}

bool visible(const Problem& p, const TensorSet& in, std::int64_t b, std::int64_t i, std::int64_t j) {
  if (p.mask == Mask::padding && j >= in.at("lengths").as<std::int32_t>()[std::size_t(b)]) return false;
  if (p.mask == Mask::causal && j > i + (p.seq_kv - p.seq_q)) return false;
  return true;
}

std::vector<Problem> property_problems() {
  std::vector<Problem> out;
  for (Mask m : {Mask::none, Mask::causal, Mask::padding})
    for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative}) {
      out.push_back(make_problem(2, 4, 2, 9, 9, 8, 5, m, s));
      out.push_back(make_problem(3, 2, 1, 11, 6, 4, 4, m, s));  // seq_q > seq_kv
      out.push_back(make_problem(2, 3, 3, 1, 17, 8, 8, m, s));  // decode
    }
  return out;
}

TEST(ReferenceProperties, RowsAreConvexCombinationsOfVisibleValues) {
  for (const Problem& p : property_problems()) {
    SCOPED_TRACE(p.str());
    TensorSet in = make_inputs(p, 7);
    if (p.mask == Mask::padding) in.at("lengths").as<std::int32_t>()[0] = 0;  // one empty batch entry
    const std::vector<double> out = run_reference(p, in);
    const auto v = in.at("v").as<float>();
    const View4<const float> V{v.data(), p.batch, p.seq_kv, p.kv_heads, p.value_dim};
    const View4<const double> O{out.data(), p.batch, p.seq_q, p.heads, p.value_dim};
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t i = 0; i < p.seq_q; ++i)
        for (std::int64_t h = 0; h < p.heads; ++h)
          for (std::int64_t c = 0; c < p.value_dim; ++c) {
            double lo = INFINITY, hi = -INFINITY;
            for (std::int64_t j = 0; j < p.seq_kv; ++j)
              if (visible(p, in, b, i, j)) {
                lo = std::min(lo, double(V(b, j, h / p.group_size(), c)));
                hi = std::max(hi, double(V(b, j, h / p.group_size(), c)));
              }
            const double o = O(b, i, h, c);
            if (lo > hi) {
              EXPECT_EQ(o, 0.0) << "fully masked row b" << b << " i" << i << " h" << h;
            } else {
              EXPECT_GE(o, lo - 1e-12) << "b" << b << " i" << i << " h" << h << " c" << c;
              EXPECT_LE(o, hi + 1e-12) << "b" << b << " i" << i << " h" << h << " c" << c;
            }
          }
  }
}

TEST(ReferenceProperties, ConstantValuesGiveThatConstant) {
  // If every value row is the same vector u, every non-empty output row is u (weights sum to 1).
  for (const Problem& p : property_problems()) {
    SCOPED_TRACE(p.str());
    TensorSet in = make_inputs(p, 11);
    auto v = in.at("v").as<float>();
    for (std::size_t e = 0; e < v.size(); ++e) v[e] = 0.25f * float(e % std::size_t(p.value_dim)) - 1.0f;
    const std::vector<double> out = run_reference(p, in);
    const View4<const double> O{out.data(), p.batch, p.seq_q, p.heads, p.value_dim};
    for (std::int64_t b = 0; b < p.batch; ++b)
      for (std::int64_t i = 0; i < p.seq_q; ++i) {
        bool any = false;
        for (std::int64_t j = 0; j < p.seq_kv; ++j) any = any || visible(p, in, b, i, j);
        for (std::int64_t h = 0; h < p.heads; ++h)
          for (std::int64_t c = 0; c < p.value_dim; ++c)
            EXPECT_NEAR(O(b, i, h, c), any ? 0.25 * double(c) - 1.0 : 0.0, 1e-12);
      }
  }
}

TEST(ReferenceProperties, SoftmaxShiftInvarianceUnderAConstantKeyOffset) {
  // Adding the same vector u to every key adds q_i.u/sqrt(d) (scaled_dot) or q_i^T W u/sqrt(d)
  // (multiplicative) to every score of row i: a per-row constant, which the softmax cancels.
  for (const Problem& p : property_problems()) {
    if (p.score == Score::additive) continue;  // tanh is not shift-equivariant: no such invariant
    SCOPED_TRACE(p.str());
    TensorSet in = quantised_inputs(p, 5);
    const std::vector<double> before = run_reference(p, in);
    for (std::int64_t e = 0; auto& x : in.at("k").as<float>()) x += 0.5f * float(e++ % p.head_dim) - 1.0f;
    expect_values(run_reference(p, in), before, 1e-12);
  }
}

TEST(ReferenceProperties, AdditiveWithZeroScoreVectorAveragesVisibleValues) {
  // v_score = 0 makes every visible score 0: uniform weights over the visible keys.
  const Problem p = make_problem(2, 2, 1, 5, 7, 4, 3, Mask::causal, Score::additive);
  TensorSet in = make_inputs(p, 3);
  for (float& x : in.at("v_score").as<float>()) x = 0;
  const std::vector<double> out = run_reference(p, in);
  const auto v = in.at("v").as<float>();
  const View4<const float> V{v.data(), p.batch, p.seq_kv, p.kv_heads, p.value_dim};
  const View4<const double> O{out.data(), p.batch, p.seq_q, p.heads, p.value_dim};
  for (std::int64_t b = 0; b < p.batch; ++b)
    for (std::int64_t i = 0; i < p.seq_q; ++i)
      for (std::int64_t h = 0; h < p.heads; ++h)
        for (std::int64_t c = 0; c < p.value_dim; ++c) {
          const std::int64_t n = i + (p.seq_kv - p.seq_q) + 1;  // visible keys of row i
          double sum = 0;
          for (std::int64_t j = 0; j < n; ++j) sum += V(b, j, 0, c);
          EXPECT_NEAR(O(b, i, h, c), sum / double(n), 1e-12);
        }
}

TEST(ReferenceProperties, MultiplicativeWithIdentityEqualsScaledDot) {
  for (Mask m : {Mask::none, Mask::causal, Mask::padding}) {
    const Problem mult = make_problem(2, 4, 2, 6, 9, 8, 4, m, Score::multiplicative);
    Problem dot = mult;
    dot.score = Score::scaled_dot;
    SCOPED_TRACE(mult.str());
    TensorSet in = make_inputs(mult, 9);
    auto w = in.at("w_score").as<float>();
    for (std::size_t e = 0; e < w.size(); ++e) w[e] = (e % 64) % 9 == 0 ? 1.0f : 0.0f;  // I_8 per head
    expect_values(run_reference(mult, in), run_reference(dot, in), 1e-12);
  }
}

TEST(ReferenceProperties, GroupedQueryEqualsMultiHeadWithSharedKvCopied) {
  // kv_heads = 2 of heads = 6 is multi-head attention whose KV heads 0, 1, 2 are copies of KV head 0
  // and 3, 4, 5 copies of KV head 1.
  for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative}) {
    const Problem gqa = make_problem(2, 6, 2, 5, 8, 4, 3, Mask::causal, s);
    Problem mha = gqa;
    mha.kv_heads = 6;
    SCOPED_TRACE(gqa.str());
    const TensorSet g = make_inputs(gqa, 21);
    TensorSet m;
    for (const auto& [name, t] : g.all()) {
      if (name != "k" && name != "v") {
        Tensor copy(t.type(), t.shape());
        std::memcpy(copy.raw(), t.raw(), t.bytes());
        m.add(name, std::move(copy));
        continue;
      }
      const std::int64_t dim = t.shape()[3];
      Tensor wide(DataType::f32, {2, 8, 6, dim});
      const View4<const float> src{t.as<float>().data(), 2, 8, 2, dim};
      const View4<float> dst{wide.as<float>().data(), 2, 8, 6, dim};
      for (std::int64_t b = 0; b < 2; ++b)
        for (std::int64_t j = 0; j < 8; ++j)
          for (std::int64_t h = 0; h < 6; ++h)
            for (std::int64_t c = 0; c < dim; ++c) dst(b, j, h, c) = src(b, j, h / 3, c);
      m.add(name, std::move(wide));
    }
    expect_values(run_reference(gqa, g), run_reference(mha, m), 1e-12);
  }
}

TEST(ReferenceProperties, PermutingKeysWithValuesChangesNothingWithoutAMask) {
  for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative}) {
    const Problem p = make_problem(1, 2, 2, 4, 6, 4, 3, Mask::none, s);
    SCOPED_TRACE(p.str());
    TensorSet in = make_inputs(p, 13);
    const std::vector<double> before = run_reference(p, in);
    // Reverse the key order of k and v together ([B, Lk, Hk, dim]: whole sequence positions).
    for (const char* name : {"k", "v"}) {
      auto x = in.at(name).as<float>();
      const std::size_t row = x.size() / 6;
      for (std::size_t j = 0; j < 3; ++j)
        std::swap_ranges(x.begin() + std::ptrdiff_t(j * row), x.begin() + std::ptrdiff_t((j + 1) * row),
                         x.begin() + std::ptrdiff_t((5 - j) * row));
    }
    expect_values(run_reference(p, in), before, 1e-12);
  }
}

}  // namespace
}  // namespace attnbench
