// The blocked kernels' fast exp, exp2 and tanh against std:: in double, over a dense sweep of the whole
// float range (every 16th bit pattern of both signs, plus every float near the thresholds), for each
// instruction set this CPU runs; and the online-softmax tile update that uses the hot exp2.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../kernels/attention/blocked/fast_math.hpp"
#include "../kernels/attention/blocked/microkernels.hpp"

namespace attnbench::kernels::blocked {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::generic};
  if (isa_supported(Isa::avx2)) v.push_back(Isa::avx2);
  return v;
}

std::string isa_name(const testing::TestParamInfo<Isa>& info) { return to_string(info.param); }

// Calls `check(x, y)` for the sweep: every 16th finite float of both signs whose magnitude is at most
// `limit`, and every float within 2^16 ulps of each of `points`.
template <class Fn, class Check>
void sweep(const MicroKernels& mk, Fn fn, float limit, std::vector<float> points, Check check) {
  std::vector<float> x, y;
  x.reserve(1 << 20);
  auto flush = [&] {
    y.resize(x.size());
    (mk.*fn)(x.data(), y.data(), std::int64_t(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) check(x[i], y[i]);
    x.clear();
  };
  auto add = [&](float v) {
    if (std::isnan(v)) return;  // NaN is checked in SpecialValues
    x.push_back(v);
    if (x.size() == x.capacity()) flush();
  };
  std::uint32_t top;
  std::memcpy(&top, &limit, sizeof top);
  for (std::uint32_t u = 0; u <= top; u += 16) {
    add(from_bits(u));
    add(from_bits(u | 0x80000000u));
  }
  for (float p : points) {
    std::uint32_t c;
    std::memcpy(&c, &p, sizeof c);
    for (std::uint32_t u = c - 65536; u != c + 65536; ++u) add(from_bits(u));
  }
  flush();
}

class FastMath : public testing::TestWithParam<Isa> {
 protected:
  const MicroKernels& mk() const { return micro_kernels(GetParam()); }
};

// Where the true value is a normal float: relative error <= bound. Below FLT_MIN: exactly 0 (flush to
// zero). Above FLT_MAX: +inf.
struct RangeChecker {
  double bound;
  double worst = 0;
  float worst_x = 0;
  int failures = 0;
  void operator()(double truth, float x, float y) {
    if (truth < double(FLT_MIN)) {
      if (y != 0.0f && ++failures < 5) ADD_FAILURE() << "x = " << x << ": " << y << ", want 0 (true " << truth << ")";
      return;
    }
    if (truth > double(FLT_MAX)) {
      if (y != kInf && ++failures < 5) ADD_FAILURE() << "x = " << x << ": " << y << ", want inf";
      return;
    }
    const double rel = std::fabs(double(y) - truth) / truth;
    if (!(rel <= worst)) worst = rel, worst_x = x;  // also catches NaN
  }
};

TEST_P(FastMath, ExpRelativeErrorOverTheWholeRange) {
  RangeChecker c{2.5e-7};
  sweep(mk(), &MicroKernels::exp, 104.0f, {fast_math::kExpMin, fast_math::kExpMax, 0.0f},
        [&](float x, float y) { c(std::exp(double(x)), x, y); });
  std::cout << "[ exp, " << to_string(GetParam()) << " ] max relative error " << c.worst << " at x = " << c.worst_x
            << "\n";
  EXPECT_LE(c.worst, c.bound) << "at x = " << c.worst_x;
  EXPECT_EQ(c.failures, 0);
}

TEST_P(FastMath, Exp2RelativeErrorOverTheWholeRange) {
  RangeChecker c{2.5e-7};
  sweep(mk(), &MicroKernels::exp2, 150.0f, {-126.0f, 128.0f, 0.0f},
        [&](float x, float y) { c(std::exp2(double(x)), x, y); });
  std::cout << "[ exp2, " << to_string(GetParam()) << " ] max relative error " << c.worst << " at x = " << c.worst_x
            << "\n";
  EXPECT_LE(c.worst, c.bound) << "at x = " << c.worst_x;
  EXPECT_EQ(c.failures, 0);
}

TEST_P(FastMath, TanhAbsoluteErrorOverTheWholeRange) {
  double worst = 0;
  float worst_x = 0;
  sweep(mk(), &MicroKernels::tanh, 1e4f, {0.0f, 9.0f, -9.0f}, [&](float x, float y) {
    const double err = std::fabs(double(y) - std::tanh(double(x)));
    if (!(err <= worst)) worst = err, worst_x = x;
  });
  std::cout << "[ tanh, " << to_string(GetParam()) << " ] max absolute error " << worst << " at x = " << worst_x << "\n";
  EXPECT_LE(worst, 3e-7) << "at x = " << worst_x;
}

TEST_P(FastMath, SpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-kInf, kInf, nan, 0.0f, -0.0f, -1e30f, 1e30f, -200.0f, 200.0f, -FLT_MAX, FLT_MAX};
  std::vector<float> e(x.size()), e2(x.size()), t(x.size());
  mk().exp(x.data(), e.data(), std::int64_t(x.size()));
  mk().exp2(x.data(), e2.data(), std::int64_t(x.size()));
  mk().tanh(x.data(), t.data(), std::int64_t(x.size()));
  for (const std::vector<float>* y : {&e, &e2}) {
    EXPECT_EQ((*y)[0], 0.0f) << "-inf";
    EXPECT_EQ((*y)[1], kInf) << "+inf";
    EXPECT_TRUE(std::isnan((*y)[2])) << "NaN";
    EXPECT_EQ((*y)[3], 1.0f) << "0 gives exactly 1";
    EXPECT_EQ((*y)[4], 1.0f) << "-0 gives exactly 1";
    EXPECT_EQ((*y)[5], 0.0f);
    EXPECT_EQ((*y)[6], kInf);
    EXPECT_EQ((*y)[7], 0.0f);
    EXPECT_EQ((*y)[8], kInf);
    EXPECT_EQ((*y)[9], 0.0f);
    EXPECT_EQ((*y)[10], kInf);
  }
  EXPECT_EQ(t[0], -1.0f);
  EXPECT_EQ(t[1], 1.0f);
  EXPECT_TRUE(std::isnan(t[2]));
  EXPECT_LE(std::fabs(t[3]), 1e-7f);
  EXPECT_EQ(t[5], -1.0f);
  EXPECT_EQ(t[6], 1.0f);
}

TEST_P(FastMath, TailsOfArraysAreHandled) {
  for (std::int64_t n = 0; n <= 19; ++n) {
    std::vector<float> x(std::size_t(n) + 1, 0.5f), y(std::size_t(n) + 1, -7.0f);
    mk().exp(x.data(), y.data(), n);
    for (std::int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[std::size_t(i)], std::exp(0.5f), 1e-6f);
    EXPECT_EQ(y[std::size_t(n)], -7.0f) << "wrote past the end, n = " << n;
  }
}

// The additive score's inner term as the micro-kernel evaluates it (u_sum - 2 u / (1 + 2^t), one unit,
// u = 1): tanh(x) with t = 2x log2(e), compared with std::tanh over t in [-80, 80].
TEST_P(FastMath, AdditiveTermAbsoluteError) {
  alignas(64) float k_tile[kBc], s[kBc];
  const float q = 0.0f, u = 1.0f;
  double worst = 0;
  float worst_t = 0;
  for (int block = 0; block < (1 << 14); ++block) {
    for (std::int64_t j = 0; j < kBc; ++j) k_tile[j] = -80.0f + 160.0f * float(block * kBc + j) / float(kBc << 14);
    mk().scores_additive(&q, 1, 1, k_tile, 1, &u, u, s);  // depth 1: the packed tile is the 64 keys in order
    for (std::int64_t j = 0; j < kBc; ++j) {
      const double err = std::fabs(double(s[j]) - std::tanh(double(k_tile[j]) / (2.0 * 1.4426950408889634)));
      if (!(err <= worst)) worst = err, worst_t = k_tile[j];
    }
  }
  std::cout << "[ additive term, " << to_string(GetParam()) << " ] max absolute error " << worst << " at t = " << worst_t
            << "\n";
  EXPECT_LE(worst, 4e-7) << "at t = " << worst_t;
}

// The online-softmax update of one tile, with masked (-inf) entries and fully masked rows, against
// double arithmetic: P = 2^(S - m_new), alpha = 2^(m_old - m_new), l = l alpha + sum P.
TEST_P(FastMath, SoftmaxTileMatchesDouble) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 8.0f);
  const std::int64_t rows = 9;
  alignas(64) float s[rows * kBc];
  std::vector<double> s0(rows * kBc);
  for (std::int64_t i = 0; i < rows * kBc; ++i) {
    s[i] = (i % 7 == 3 || i / kBc == 4 || i / kBc == 5) ? -kInf : normal(gen);  // rows 4 and 5 fully masked
    s0[std::size_t(i)] = s[i];
  }
  float m[rows], l[rows], alpha[rows];
  for (std::int64_t r = 0; r < rows; ++r) m[r] = r % 2 ? -kInf : 5.0f, l[r] = r % 2 ? 0.0f : 3.0f;
  const std::vector<float> m0(m, m + rows), l0(l, l + rows);
  mk().softmax_tile(s, rows, m, l, alpha);
  for (std::int64_t r = 0; r < rows; ++r) {
    double mx = m0[std::size_t(r)];
    for (std::int64_t j = 0; j < kBc; ++j) mx = std::max(mx, s0[std::size_t(r * kBc + j)]);
    ASSERT_EQ(double(m[r]), mx) << "row " << r;
    const double use = std::isinf(mx) ? 0.0 : mx;
    EXPECT_NEAR(alpha[r], std::exp2(double(m0[std::size_t(r)]) - use), 3e-7) << "row " << r;
    double sum = 0;
    for (std::int64_t j = 0; j < kBc; ++j) {
      // The kernel subtracts in fp32 (the rounding of S - m is the caller's, not the exp's).
      const double want = std::exp2(double(float(s0[std::size_t(r * kBc + j)] - use)));
      sum += want;
      EXPECT_NEAR(s[r * kBc + j], want, 3e-7 * std::max(want, 1e-30)) << "row " << r << " col " << j;
    }
    EXPECT_NEAR(l[r], l0[std::size_t(r)] * std::exp2(double(m0[std::size_t(r)]) - use) + sum, 1e-5 * (1 + sum));
  }
  EXPECT_EQ(m[5], -kInf) << "row 5 has seen nothing yet";
  EXPECT_EQ(l[5], 0.0f) << "row 5 has seen nothing yet";
  EXPECT_EQ(l[4], 3.0f) << "row 4: a fully masked tile leaves the state as it was";
}

INSTANTIATE_TEST_SUITE_P(Isas, FastMath, testing::ValuesIn(isas()), isa_name);

}  // namespace
}  // namespace attnbench::kernels::blocked
