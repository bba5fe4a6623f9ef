// The RNN kernels' per-step product on W_hh packed once (kernels/rnn/recurrent_weights.hpp) against a
// float64 product on random inputs: gate counts 1, 3, 4; widths that are not multiples of the 64-unit
// tile or the micro-kernel's 16-column panel (8, 24, 80, 130); batches that are not multiples of its
// 6-row block (1, 5, 67 = 64 + 3); an h stride wider than E; a range of tiles (a thread's share)
// writing only its own tiles; both layouts (rows for sgemv at B = 1, the micro-kernel's K tiles) and both
// micro-kernel tables (generic and, where the CPU has it, AVX2+FMA).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../kernels/rnn/recurrent_weights.hpp"

namespace attnbench::kernels {
namespace {

namespace bk = blocked;

std::vector<float> random_floats(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

struct Shape {
  std::int64_t gates, units, batch;
};

class RecurrentWeightsTest : public ::testing::TestWithParam<bk::Isa> {
 protected:
  void SetUp() override {
    if (!bk::isa_supported(GetParam())) GTEST_SKIP() << "this CPU lacks " << bk::to_string(GetParam());
  }
  const bk::MicroKernels& mk() const { return bk::micro_kernels(GetParam()); }
};

// hw[((jt*G + g)*B + b)*64 + u] against sum_c h[b][c] W[g*E + 64 jt + u][c] in double, within the fp32
// accumulation bound E * 2^-23 * sum_c |h W| (plus a little); padded units must be exactly 0.
void expect_product(const RecurrentWeights& packed, const std::vector<float>& w, const std::vector<float>& h,
                    std::int64_t ld_h, const Shape& s, std::int64_t jt0, std::int64_t jt1, const std::vector<float>& hw) {
  const std::int64_t G = s.gates, E = s.units, B = s.batch;
  for (std::int64_t jt = 0; jt < packed.tiles(); ++jt)
    for (std::int64_t g = 0; g < G; ++g)
      for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t u = 0; u < kUnitTile; ++u) {
          const float got = hw[std::size_t(((jt * G + g) * B + b) * kUnitTile + u)];
          const std::int64_t j = jt * kUnitTile + u;
          if (jt < jt0 || jt >= jt1) {
            ASSERT_TRUE(std::isnan(got)) << "tile " << jt << " is outside [" << jt0 << ", " << jt1 << ") but was written";
            continue;
          }
          if (j >= E) {
            ASSERT_EQ(got, 0.0f) << "padding unit " << j << " of E = " << E;
            continue;
          }
          double want = 0, mag = 0;
          for (std::int64_t c = 0; c < E; ++c) {
            const double term = double(h[std::size_t(b * ld_h + c)]) * double(w[std::size_t((g * E + j) * E + c)]);
            want += term;
            mag += std::fabs(term);
          }
          ASSERT_NEAR(got, want, double(E) * 0x1p-23 * mag + 1e-6)
              << "G=" << G << " E=" << E << " B=" << B << " gate " << g << " unit " << j << " batch " << b;
        }
}

TEST_P(RecurrentWeightsTest, ProductMatchesFloat64OnEveryShape) {
  std::mt19937 rng(20261121);
  for (const Shape s : {Shape{4, 8, 1}, Shape{4, 24, 5}, Shape{3, 80, 67}, Shape{1, 130, 5}, Shape{3, 130, 1},
                        Shape{4, 64, 6}, Shape{1, 80, 67}, Shape{4, 130, 7}}) {
    const std::int64_t G = s.gates, E = s.units, B = s.batch, ld_h = E + 3;
    const std::vector<float> w = random_floats(std::size_t(G * E * E), rng);
    const std::vector<float> h = random_floats(std::size_t(B * ld_h), rng);
    // Packed for batch 1 (rows, sgemv) and for a batch (the micro-kernel's tiles): each must be right at any B.
    for (const std::int64_t layout : {std::int64_t{1}, std::int64_t{64}}) {
      const RecurrentWeights packed(w.data(), G, E, layout, mk());
      ASSERT_EQ(packed.tiles(), (E + kUnitTile - 1) / kUnitTile);
      Tensor hw(DataType::f32, {packed.tiles() * G * B * kUnitTile});  // 64-byte aligned, as multiply needs
      // Every split of the tiles into two threads' shares, each share on its own.
      for (std::int64_t split = 0; split <= packed.tiles(); ++split)
        for (const auto& [jt0, jt1] : {std::pair{std::int64_t{0}, split}, std::pair{split, packed.tiles()}}) {
          std::fill(hw.as<float>().begin(), hw.as<float>().end(), std::numeric_limits<float>::quiet_NaN());
          packed.multiply(h.data(), ld_h, B, jt0, jt1, hw.as<float>().data());
          const auto out = hw.as<float>();
          expect_product(packed, w, h, ld_h, s, jt0, jt1, {out.begin(), out.end()});
          if (HasFatalFailure()) return;
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, RecurrentWeightsTest, ::testing::Values(bk::Isa::generic, bk::Isa::avx2),
                         [](const auto& info) { return std::string(bk::to_string(info.param)); });

}  // namespace
}  // namespace attnbench::kernels
