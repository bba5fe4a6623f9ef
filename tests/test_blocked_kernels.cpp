// The blocked kernels beyond the registry-wide suite (tests/test_kernels.cpp): the sizes the issue names
// (seq 1000, head_dim 128), the split-KV paths (decode and tiled), the streamed path (few rows, long
// keys), lazy rescaling falling back to the exact update in mid-row, every Q-tile height including ones
// that are not a multiple of the register block, both micro-kernel tables (generic and avx2),
// thread-count independence at 1, 2 and 3 threads, and that the workspace has nothing of size
// seq_q x seq_kv.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../kernels/attention/blocked/blocked_attention.hpp"
#include "../kernels/attention/blocked/blocked_plan.hpp"
#include "../kernels/attention/blocked/microkernels.hpp"
#include "attnbench/check.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using kernels::blocked::Isa;
using kernels::blocked::Options;
using kernels::blocked::Path;

constexpr std::uint64_t kSeed = 977;
constexpr Isa kIsas[] = {Isa::generic, Isa::avx2};

// Padding cases get one empty and one full batch entry, as in test_kernels.cpp.
TensorSet inputs_for(const Problem& p, std::uint64_t seed = kSeed) {
  return test_support::inputs_with_edge_lengths(p, seed);
}

Tensor run_blocked(const Problem& p, const TensorSet& in, Parallelism par, int threads, const Options& options = {}) {
  auto prepared = kernels::blocked::prepare_blocked(p, in, par, threads, options);
  Tensor out = make_output(p);
  std::fill(out.as<float>().begin(), out.as<float>().end(), std::numeric_limits<float>::quiet_NaN());
  prepared->run(in, out);
  return out;
}

const Tensor& reference_for(const Problem& p, const TensorSet& in) {
  static std::map<std::string, Tensor> cache;
  auto it = cache.find(p.str());
  if (it == cache.end()) it = cache.emplace(p.str(), reference_forward(p, in)).first;
  return it->second;
}

double tolerance() { return kernels::blocked_capabilities(Parallelism::serial).tolerance; }

// Shapes that reach the paths and sizes the registry suite does not: seq 1000, head_dim 128, split-KV
// in both paths (long keys, few items), direct-path causal with seq_q > 1 and grouped heads.
const std::vector<std::string> kShapes = {
    "b1_h2_sq1000_d128",
    "b1_h2_sq1000_d128_causal",
    "b2_h2_sq1000_skv333_d64_padding",
    "b1_h2_sq333_skv1000_d64_causal",
    "b1_h4_hk2_sq1_skv5000_d128",                 // direct, split into chunks
    "b2_h4_sq1_skv3000_d64_padding",              // direct, split; one entry sees no key at all
    "b1_h8_hk4_sq2_skv3000_d64_causal_multiplicative",  // direct with seq_q 2 (causal matters)
    "b1_h1_sq64_skv5000_d64_causal",              // tiled, split into chunks
    "b1_h2_sq100_skv3000_d24_additive",           // tiled additive, split
    "b1_h8_hk2_sq3_skv2000_d64_multiplicative",   // tiled, a tile spans heads of a group, split
    "b1_h3_sq1000_skv7_d128_dv80_causal",         // seq_q >> seq_kv: most rows empty
    "b2_h4_hk1_sq1_skv2000_d128_proj",
    "b1_h6_hk2_sq1_skv1000_d20_dv12",             // direct: 3 rows per kv head (a pair and a single), d % 8 != 0
    "b1_h4_sq20_skv9000_d128_causal",             // direct because the keys are long: 20 rows, causal
    "b1_h2_sq70_skv45000_d8_causal",              // streamed (few rows, long keys), split, row blocks 48 + 22
    "b2_h4_hk2_sq33_skv27000_d24_dv8_padding",    // streamed, grouped heads, one entry sees no key
    "b1_h2_sq100_skv45000_d8_multiplicative",     // streamed, row blocks 48 + 48 + 4
};

class BlockedShapes : public testing::TestWithParam<std::string> {};

TEST_P(BlockedShapes, MatchReferenceOnEveryIsaAndThreadCount) {
  const Problem p = parse_problem(GetParam());
  const TensorSet in = inputs_for(p);
  const Tensor& ref = reference_for(p, in);
  const Tensor serial = run_blocked(p, in, Parallelism::serial, 1);
  const CheckResult r = compare_to_reference(serial, ref);
  EXPECT_LE(r.max_rel_error, tolerance()) << "serial, worst element " << r.worst_index;
  for (Isa isa : kIsas) {  // every micro-kernel table this CPU runs, not only the default one
    if (!kernels::blocked::isa_supported(isa)) continue;
    const CheckResult g = compare_to_reference(run_blocked(p, in, Parallelism::serial, 1, {0, isa}), ref);
    EXPECT_LE(g.max_rel_error, tolerance()) << kernels::blocked::to_string(isa) << " micro-kernels, worst element "
                                            << g.worst_index;
  }
  // The work is cut the same way for every thread count (the plan depends on the problem only), so
  // every thread count computes the same bits as the serial kernel.
  for (Parallelism par : {Parallelism::openmp, Parallelism::tbb})
    for (int threads : {1, 2, 3}) {
      const Tensor out = run_blocked(p, in, par, threads);
      EXPECT_EQ(std::memcmp(out.raw(), serial.raw(), out.bytes()), 0)
          << to_string(par) << " with " << threads << " threads differs from serial";
      const CheckResult t = compare_to_reference(out, ref);
      EXPECT_LE(t.max_rel_error, tolerance()) << to_string(par) << " " << threads << " threads";
    }
}

std::string shape_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Blocked, BlockedShapes, testing::ValuesIn(kShapes), shape_name);

TEST(BlockedPlan, PathsAndSplits) {
  using kernels::blocked::make_plan;
  EXPECT_EQ(make_plan(parse_problem("b1_h16_sq4096_d64"), 1).path, Path::tiled);
  EXPECT_EQ(make_plan(parse_problem("b1_h16_sq4096_d64"), 1).chunks, 1);
  const auto decode = make_plan(parse_problem("b1_h32_sq1_skv65536_d128"), 2);
  EXPECT_EQ(decode.path, Path::direct);
  EXPECT_GE(decode.chunks, 16) << "decode keys are split so that threads share one batch entry";
  EXPECT_EQ(make_plan(parse_problem("b1_h32_hk8_sq1_skv4096_d128"), 1).path, Path::direct);
  EXPECT_EQ(make_plan(parse_problem("b1_h32_sq1_skv4096_d128_additive"), 1).path, Path::tiled);
  EXPECT_EQ(make_plan(parse_problem("b1_h4_sq20_skv9000_d128"), 1).path, Path::direct);
  EXPECT_EQ(make_plan(parse_problem("b1_h4_sq20_skv2000_d128"), 1).path, Path::tiled);
  EXPECT_GT(make_plan(parse_problem("b1_h1_sq64_skv5000_d64"), 1).chunks, 1);
  // Few query rows against keys whose packed K/V outgrow the caches: streamed, split across items.
  const auto cross = make_plan(parse_problem("b1_h16_sq64_skv16384_d128"), 1);
  EXPECT_EQ(cross.path, Path::streamed);
  EXPECT_GE(cross.units * cross.chunks, kernels::blocked::kMinItems);
  EXPECT_EQ(make_plan(parse_problem("b1_h16_sq64_skv4096_d128"), 1).path, Path::tiled) << "K/V small enough to reuse";
  EXPECT_EQ(make_plan(parse_problem("b1_h16_sq512_skv16384_d128"), 1).path, Path::tiled) << "rows enough to reuse";
  EXPECT_EQ(make_plan(parse_problem("b1_h16_sq64_skv16384_d128_additive"), 1).path, Path::tiled);
  for (const char* s : {"b1_h2_sq70_skv45000_d8_causal", "b2_h4_hk2_sq33_skv27000_d24_dv8_padding",
                        "b1_h2_sq100_skv45000_d8_multiplicative", "b1_h2_sq40_skv45000_d8_dv16"})
    EXPECT_EQ(make_plan(parse_problem(s), 1).path, Path::streamed) << s << " (the shapes that test the streamed path)";
  for (const char* s : {"b1_h2_sq1000_d128", "b1_h8_hk2_sq3_skv2000_d64", "b3_h12_hk1_sq33_skv7_d8"}) {
    // Q tiles cover every row of a unit exactly once.
    const auto plan = make_plan(parse_problem(s), 2);
    std::int64_t next = 0;
    for (std::int64_t t = 0; t < plan.tiles_per_unit; ++t) {
      const auto [first, last] = plan.tile_rows(t);
      EXPECT_EQ(first, next) << s << " tile " << t;
      EXPECT_GT(last, first);
      EXPECT_LE(last - first, plan.br);
      next = last;
    }
    EXPECT_EQ(next, plan.rows_per_unit) << s;
  }
}

TEST(BlockedPlan, WorkspaceHasNothingQuadratic) {
  // Issue 3, memory: seq 65536, H 16, d 64 must stay within 1.25x of Q+K+V+O.
  const Problem p = parse_problem("b1_h16_sq65536_d64");
  for (const char* id : {"mha.blocked.serial", "mha.blocked.omp", "mha.blocked.tbb"}) {
    const Kernel* k = find_kernel(id);
    ASSERT_NE(k, nullptr) << id;
    for (int threads : {1, 2, 4}) {
      const std::int64_t ws = k->workspace_bytes(p, RunContext{threads});
      EXPECT_LE(double(ws), 0.25 * double(io_bytes(p))) << id << " threads " << threads;
    }
  }
  // Doubling seq_q at fixed seq_kv barely changes the workspace (no seq_q x seq_kv buffer; only the
  // list of Q tiles, 16 bytes each, grows).
  const Kernel* k = find_kernel("mha.blocked.serial");
  const std::int64_t short_q = k->workspace_bytes(parse_problem("b1_h4_sq4096_skv8192_d64"), RunContext{1});
  const std::int64_t long_q = k->workspace_bytes(parse_problem("b1_h4_sq8192_skv8192_d64"), RunContext{1});
  EXPECT_LE(long_q - short_q, short_q / 1000);
}

// Q tile heights that leave every remainder of the 6-row register block, and tiles that span heads.
TEST(BlockedTiles, AnyTileHeightMatchesTheReference) {
  for (const char* s : {"b2_h4_hk2_sq37_skv45_d24_causal", "b2_h3_sq20_skv70_d8_dv24_padding", "b1_h2_sq50_d16_additive"}) {
    const Problem p = parse_problem(s);
    const TensorSet in = inputs_for(p);
    const Tensor& ref = reference_for(p, in);
    for (std::int64_t rows : {1, 2, 5, 6, 7, 11, 13, 48, 100}) {
      const CheckResult r = compare_to_reference(run_blocked(p, in, Parallelism::serial, 1, {rows, std::nullopt}), ref);
      EXPECT_LE(r.max_rel_error, tolerance()) << s << " with " << rows << "-row Q tiles";
    }
  }
}

// Keys whose scores grow along the sequence: each row's maximum keeps rising by more than
// kLazyRescale, so the fused fast path must hand tiles back to the exact path in mid-row (not only on a
// row's first tile), on every path that uses it (tiled, split tiled, streamed) and both ISAs.
TEST(BlockedLazyRescale, GrowingScoresMatchTheReference) {
  for (const char* s : {"b1_h2_sq50_skv700_d16", "b1_h1_sq64_skv5000_d64_causal", "b1_h2_sq40_skv45000_d8_dv16"}) {
    const Problem p = parse_problem(s);
    TensorSet in = inputs_for(p);
    auto k = in.at("k").as<float>();  // [B, Lk, Hk, d]: key j scaled by 1 + j / 32
    const std::int64_t per_key = p.kv_heads * p.head_dim;
    for (std::int64_t j = 0; j < p.seq_kv; ++j)
      for (std::int64_t c = 0; c < per_key; ++c) k[std::size_t(j * per_key + c)] *= 1.0f + float(j % 2000) / 32.0f;
    const Tensor ref = reference_forward(p, in);
    for (Isa isa : kIsas) {
      if (!kernels::blocked::isa_supported(isa)) continue;
      const CheckResult r = compare_to_reference(run_blocked(p, in, Parallelism::serial, 1, {0, isa}), ref);
      EXPECT_LE(r.max_rel_error, tolerance()) << s << " " << kernels::blocked::to_string(isa);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The AVX2 micro-kernels against the portable ones on random data.

class MicroKernelsAgree : public testing::Test {
 protected:
  void SetUp() override {
    if (!kernels::blocked::isa_supported(Isa::avx2)) GTEST_SKIP() << "no AVX2+FMA on this CPU";
  }
  const kernels::blocked::MicroKernels& avx2 = kernels::blocked::avx2_micro_kernels();
  const kernels::blocked::MicroKernels& generic = kernels::blocked::generic_micro_kernels();
  std::mt19937 gen{11};
  std::vector<float> random(std::int64_t n) {
    std::normal_distribution<float> normal;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& x : v) x = normal(gen);
    return v;
  }
  // 64-byte aligned copies (the micro-kernels use aligned loads on packed data).
  struct Aligned {
    explicit Aligned(std::int64_t n) : data(static_cast<float*>(std::aligned_alloc(64, std::size_t(round(n))))) {
      std::fill(data, data + n, 0.0f);
    }
    ~Aligned() { std::free(data); }
    static std::int64_t round(std::int64_t n) { return (n * 4 + 63) / 64 * 64; }
    float* data;
  };
  static void expect_close(const float* a, const float* b, std::int64_t n, double tol, const char* what) {
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << what << " element " << i;
  }
};

TEST_F(MicroKernelsAgree, PackScoresSoftmaxAndPv) {
  using kernels::blocked::kBc;
  for (std::int64_t depth : {1, 7, 8, 24, 64, 80, 128})
    for (std::int64_t keys : {1, 9, 37, 64})
      for (std::int64_t rows : {1, 5, 6, 13}) {
        const std::int64_t dv = depth + 3, dvp = (dv + 15) / 16 * 16, stride = depth + 5, vstride = dv + 2;
        const std::vector<float> k = random(keys * stride), v = random(keys * vstride), q = random(rows * depth);
        Aligned ka(kBc * depth), kg(kBc * depth), va(kBc * dvp), vg(kBc * dvp);
        avx2.pack_k(k.data(), stride, keys, depth, ka.data);
        generic.pack_k(k.data(), stride, keys, depth, kg.data);
        ASSERT_EQ(std::memcmp(ka.data, kg.data, std::size_t(kBc * depth) * 4), 0) << "pack_k depth " << depth;
        avx2.pack_v(v.data(), vstride, keys, dv, dvp, va.data);
        generic.pack_v(v.data(), vstride, keys, dv, dvp, vg.data);
        ASSERT_EQ(std::memcmp(va.data, vg.data, std::size_t(kBc * dvp) * 4), 0) << "pack_v dv " << dv;

        Aligned sa(rows * kBc), sg(rows * kBc), oa(rows * dvp), og(rows * dvp);
        avx2.scores_dot(q.data(), depth, rows, ka.data, depth, sa.data);
        generic.scores_dot(q.data(), depth, rows, kg.data, depth, sg.data);
        expect_close(sa.data, sg.data, rows * kBc, 1e-5, "scores_dot");

        const std::vector<float> u = random(depth);
        float u_sum = 0;
        for (float x : u) u_sum += x;
        avx2.scores_additive(q.data(), depth, rows, ka.data, depth, u.data(), u_sum, sa.data);
        generic.scores_additive(q.data(), depth, rows, kg.data, depth, u.data(), u_sum, sg.data);
        expect_close(sa.data, sg.data, rows * kBc, 1e-5 * double(depth), "scores_additive");

        std::vector<float> ma(static_cast<std::size_t>(rows), 0.5f), la(static_cast<std::size_t>(rows), 2.0f),
            aa(static_cast<std::size_t>(rows));
        std::vector<float> mg = ma, lg = la, ag = aa;
        std::copy(sg.data, sg.data + rows * kBc, sa.data);
        avx2.softmax_tile(sa.data, rows, ma.data(), la.data(), aa.data());
        generic.softmax_tile(sg.data, rows, mg.data(), lg.data(), ag.data());
        expect_close(sa.data, sg.data, rows * kBc, 1e-6, "softmax_tile P");
        expect_close(la.data(), lg.data(), rows, 1e-5, "softmax_tile l");  // summation order differs
        expect_close(aa.data(), ag.data(), rows, 1e-6, "softmax_tile alpha");

        // The lazy update: against stale maxima (m = row max - 1), masked keys (-inf) and a row with no
        // visible key yet (m = -inf), equal to 2^(S - m) and its row sums; refused once a score is
        // above m + kLazyRescale.
        Aligned sd(rows * kBc);
        generic.scores_dot(q.data(), depth, rows, kg.data, depth, sd.data);
        std::vector<float> m_ref(static_cast<std::size_t>(rows));
        for (std::int64_t r = 0; r < rows; ++r) {
          const std::int64_t visible = r == 0 ? 0 : (r * 23) % (kBc + 1);
          std::fill(sd.data + r * kBc + visible, sd.data + (r + 1) * kBc, -std::numeric_limits<float>::infinity());
          m_ref[std::size_t(r)] = visible > 0 ? *std::max_element(sd.data + r * kBc, sd.data + (r + 1) * kBc) - 1.0f
                                              : -std::numeric_limits<float>::infinity();
        }
        Aligned pa(rows * kBc), pg(rows * kBc);
        std::vector<float> suma(static_cast<std::size_t>(rows)), sumg(static_cast<std::size_t>(rows));
        EXPECT_TRUE(generic.softmax_lazy(sd.data, rows, m_ref.data(), pg.data, sumg.data()));
        for (const kernels::blocked::MicroKernels* mk : {&avx2, &generic}) {
          const char* isa = kernels::blocked::to_string(mk->isa);
          EXPECT_TRUE(mk->softmax_lazy(sd.data, rows, m_ref.data(), pa.data, suma.data())) << isa;
          for (std::int64_t i = 0; i < rows * kBc; ++i) {
            const double x = sd.data[i], m = m_ref[std::size_t(i / kBc)];
            const double want = x == -INFINITY ? 0.0 : std::exp2(x - m);
            // exp2's bound plus the rounding of x - m in fp32 (2^-24 |x - m| ln 2 relative).
            const double tol = want > 0 ? (2.5e-7 + 4.2e-8 * std::fabs(x - m)) * want : 1.2e-38;
            ASSERT_NEAR(pa.data[i], want, tol) << isa << " lazy P element " << i;
          }
          EXPECT_EQ(suma[0], 0.0f) << isa << ": a row with no visible key";
          expect_close(suma.data(), sumg.data(), rows, 1e-5, "softmax_lazy sums");
        }
        if (rows > 1) {
          m_ref[std::size_t(rows - 1)] -= kernels::blocked::kLazyRescale;  // now 9 below the row's max
          for (const kernels::blocked::MicroKernels* mk : {&avx2, &generic})
            EXPECT_FALSE(mk->softmax_lazy(sd.data, rows, m_ref.data(), pa.data, suma.data()))
                << kernels::blocked::to_string(mk->isa);
        }

        const std::vector<float> o0 = random(rows * dvp);
        std::copy(o0.begin(), o0.end(), oa.data);
        std::copy(o0.begin(), o0.end(), og.data);
        avx2.accumulate_pv(sg.data, rows, va.data, dvp, ag.data(), oa.data);
        generic.accumulate_pv(sg.data, rows, vg.data, dvp, ag.data(), og.data);
        expect_close(oa.data, og.data, rows * dvp, 1e-5, "accumulate_pv");
      }
}

}  // namespace
}  // namespace attnbench
