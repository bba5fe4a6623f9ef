// The cost model: visible query-key pairs, FLOP counts and boundary bytes (cost_model.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "attnbench/cost_model.hpp"
#include "attnbench/problem.hpp"
#include "attnbench/workload.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using test_support::make_problem;

// Brute force: count (i, j) with j <= i + (Lk - Lq) (bottom-right causal), or every pair otherwise.
std::int64_t count_pairs(std::int64_t lq, std::int64_t lk, bool causal) {
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < lq; ++i)
    for (std::int64_t j = 0; j < lk; ++j)
      if (!causal || j <= i + (lk - lq)) ++n;
  return n;
}

TEST(VisiblePairs, MatchesBruteForceForEveryShapeRelation) {
  for (std::int64_t lq = 1; lq <= 24; ++lq)
    for (std::int64_t lk = 1; lk <= 24; ++lk) {  // covers lq < lk, lq == lk and lq > lk
      SCOPED_TRACE("lq " + std::to_string(lq) + " lk " + std::to_string(lk));
      EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, lq, lk, 4, 4, Mask::none)), lq * lk);
      EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, lq, lk, 4, 4, Mask::padding)), lq * lk);  // lengths are data
      EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, lq, lk, 4, 4, Mask::causal)), count_pairs(lq, lk, true));
    }
}

TEST(VisiblePairs, PaddingCountsTheValidKeysOfOneBatchEntry) {
  for (std::int64_t lq = 1; lq <= 9; ++lq)
    for (std::int64_t lk = 1; lk <= 9; ++lk) {
      const Problem p = make_problem(1, 1, 1, lq, lk, 4, 4, Mask::padding);
      for (std::int64_t valid = 0; valid <= lk; ++valid) {
        std::int64_t brute = 0;
        for (std::int64_t i = 0; i < lq; ++i)
          for (std::int64_t j = 0; j < lk; ++j) brute += j < valid ? 1 : 0;
        EXPECT_EQ(visible_pairs(p, valid), brute) << p.str() << " valid " << valid;
      }
      EXPECT_EQ(visible_pairs(p), lq * lk);  // without lengths: the upper bound
    }
  // For the other masks every key is valid (kv_valid = seq_kv).
  EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, 3, 5, 4, 4, Mask::none), 5), 15);
  EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, 3, 5, 4, 4, Mask::causal), 5), 12);
}

TEST(VisiblePairs, HandCountedCausalCases) {
  // Lq = 3, Lk = 5: rows see 3, 4, 5 keys.
  EXPECT_EQ(visible_pairs(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::causal)), 12);
  // Lq = Lk = 4: 1 + 2 + 3 + 4.
  EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, 4, 4, 4, 4, Mask::causal)), 10);
  // Lq = 5, Lk = 3: rows see 0, 0, 1, 2, 3 keys (the first two rows are empty).
  EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, 5, 3, 4, 4, Mask::causal)), 6);
  // Decode: one query sees the whole cache.
  EXPECT_EQ(visible_pairs(make_problem(1, 1, 1, 1, 4096, 4, 4, Mask::causal)), 4096);
  // Per (batch, head): batch and heads do not enter.
  EXPECT_EQ(visible_pairs(make_problem(7, 12, 3, 3, 5, 4, 4, Mask::causal)), 12);
}

TEST(VisiblePairs, LargeSizesDoNotOverflow) {
  const std::int64_t n = kMaxDim;  // 2^24: Lq * Lk = 2^48
  Problem p;
  p.seq_q = p.seq_kv = n;
  p.mask = Mask::causal;
  EXPECT_EQ(visible_pairs(p), n * (n + 1) / 2);
  p.seq_q = 1;
  EXPECT_EQ(visible_pairs(p), n);
}

// The running example: b1 h2 sq3 skv5 d4 (dv 4, kv_heads 2). Visible pairs: 15 (none), 12 (causal).
TEST(Flops, ScaledDotHandComputed) {
  // score = 2*B*H*pairs*d = 2*1*2*15*4 = 240; weighting = 2*B*H*pairs*dv = 2*1*2*15*4 = 240.
  const FlopCount f = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::scaled_dot));
  EXPECT_EQ(f.score, 240);
  EXPECT_EQ(f.weighting, 240);
  EXPECT_EQ(f.projections, 0);
  EXPECT_EQ(f.total(), 480);
  // causal: 2*1*2*12*4 = 192 for each part.
  const FlopCount c = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::causal, Score::scaled_dot));
  EXPECT_EQ(c.score, 192);
  EXPECT_EQ(c.weighting, 192);
  EXPECT_EQ(c.total(), 384);
  // padding counts the full rectangle, like none.
  EXPECT_EQ(flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::padding, Score::scaled_dot)).total(), 480);
}

TEST(Flops, PaddingCountsOnlyValidKeysWhenGivenTheLengths) {
  // b2 h2 sq3 skv5 d4 with lengths {2, 0}: pairs 3*2 + 3*0 = 6 over the batch.
  const Problem p = make_problem(2, 2, 2, 3, 5, 4, 4, Mask::padding, Score::scaled_dot);
  const std::vector<std::int32_t> lengths = {2, 0};
  const FlopCount f = flops(p, lengths);
  EXPECT_EQ(f.score, 2 * 2 * 6 * 4);      // 2*H*pairs*d = 96
  EXPECT_EQ(f.weighting, 2 * 2 * 6 * 4);  // 2*H*pairs*dv = 96
  // Without lengths every key counts: 2*B*H*Lq*Lk*d = 2*2*2*15*4 = 480.
  EXPECT_EQ(flops(p).score, 480);
  const std::vector<std::int32_t> full = {5, 5};
  EXPECT_EQ(flops(p, full).total(), flops(p).total());
  // Additive: the per-row products are independent of the lengths, the per-pair part is not:
  // 2*B*H*(Lq+Lk)*d*da = 2*2*2*8*4*4 = 1024, plus 4*H*pairs*da = 4*2*6*4 = 192.
  const Problem a = make_problem(2, 2, 2, 3, 5, 4, 4, Mask::padding, Score::additive);
  EXPECT_EQ(flops(a, lengths).score, 1024 + 192);
  // Lengths are ignored for the other masks.
  EXPECT_EQ(flops(make_problem(2, 2, 2, 3, 5, 4, 4, Mask::causal), lengths).total(),
            flops(make_problem(2, 2, 2, 3, 5, 4, 4, Mask::causal)).total());
}

TEST(Flops, MultiplicativeHandComputed) {
  // W_h^T q once per query row: 2*B*H*Lq*d*d = 2*1*2*3*4*4 = 192; then q'.k per pair: 240.
  const FlopCount f = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::multiplicative));
  EXPECT_EQ(f.score, 192 + 240);
  EXPECT_EQ(f.weighting, 240);
  EXPECT_EQ(f.total(), 672);
  // causal: the per-row product is unchanged (192), the per-pair part is 2*1*2*12*4 = 192.
  const FlopCount c = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::causal, Score::multiplicative));
  EXPECT_EQ(c.score, 192 + 192);
  EXPECT_EQ(c.weighting, 192);
}

TEST(Flops, AdditiveHandComputed) {
  // da = d = 4. Wq q and Wk k once per row: 2*B*H*(Lq+Lk)*d*da = 2*1*2*8*4*4 = 512;
  // per pair and hidden unit add + tanh + multiply-add = 4: 4*B*H*pairs*da = 4*1*2*15*4 = 480.
  const FlopCount f = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::additive));
  EXPECT_EQ(f.score, 512 + 480);
  EXPECT_EQ(f.weighting, 240);
  EXPECT_EQ(f.total(), 1232);
  // causal: 512 + 4*1*2*12*4 = 512 + 384.
  const FlopCount c = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::causal, Score::additive));
  EXPECT_EQ(c.score, 512 + 384);
  EXPECT_EQ(c.weighting, 192);
}

TEST(Flops, ProjectionsHandComputed) {
  // E = H*d = 8. Q outputs B*Lq*H*d = 24, K outputs B*Lk*Hk*d = 40, V outputs B*Lk*Hk*dv = 40, each
  // costing 2E + 1 = 17 (E multiply-adds + bias): 17 * 104 = 1768. O: B*Lq*E = 24 outputs costing
  // 2*H*dv + 1 = 17: 408. Total 2176.
  const FlopCount f = flops(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::scaled_dot, true));
  EXPECT_EQ(f.projections, 2176);
  EXPECT_EQ(f.score, 240);
  EXPECT_EQ(f.weighting, 240);
  EXPECT_EQ(f.total(), 2656);
}

TEST(Flops, ProjectionsGroupedQueryAndValueDim) {
  // b1 h2 hk1 sq3 skv5 d4 dv2: E = 8. Q 24 outputs, K 1*5*1*4 = 20, V 1*5*1*2 = 10: 17 * 54 = 918.
  // O: 24 outputs costing 2*H*dv + 1 = 9: 216. Projections 1134; score 240; weighting 2*1*2*15*2 = 120.
  const FlopCount f = flops(make_problem(1, 2, 1, 3, 5, 4, 2, Mask::none, Score::scaled_dot, true));
  EXPECT_EQ(f.projections, 1134);
  EXPECT_EQ(f.score, 240);
  EXPECT_EQ(f.weighting, 120);
}

TEST(Flops, MatchesTheDesignFormulaForTheCore) {
  // DESIGN.md: attention core forward = 4*B*H*Lq*Lk*d (dv = d, no mask).
  const Problem p = make_problem(2, 16, 16, 512, 512, 64, 64);
  EXPECT_EQ(flops(p).total(), 4.0 * 2 * 16 * 512 * 512 * 64);
  // A causal self-attention does a little more than half the useful work: Lq(Lq+1)/2 pairs.
  const Problem c = make_problem(2, 16, 16, 512, 512, 64, 64, Mask::causal);
  EXPECT_EQ(flops(c).total(), 4.0 * 2 * 16 * (512.0 * 513 / 2) * 64);
}

TEST(Flops, LinearInBatch) {
  for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative})
    for (Mask m : {Mask::none, Mask::causal})
      for (bool proj : {false, true}) {
        const FlopCount one = flops(make_problem(1, 6, 2, 7, 33, 8, 24, m, s, proj));
        const FlopCount three = flops(make_problem(3, 6, 2, 7, 33, 8, 24, m, s, proj));
        EXPECT_EQ(three.score, 3 * one.score);
        EXPECT_EQ(three.weighting, 3 * one.weighting);
        EXPECT_EQ(three.projections, 3 * one.projections);
      }
}

std::int64_t spec_bytes(const TensorSpec& s) { return element_count(s.shape) * std::int64_t(size_of(s.type)); }

TEST(IoBytes, HandComputed) {
  // b1 h2 sq3 skv5 d4: q 1*3*2*4 = 24, k 40, v 40, out 24 floats = 128 * 4 bytes.
  EXPECT_EQ(io_bytes(make_problem(1, 2, 2, 3, 5, 4, 4)), 512);
  // padding adds lengths: one int32.
  EXPECT_EQ(io_bytes(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::padding)), 516);
  // multiplicative adds w_score [2, 4, 4] = 32 floats.
  EXPECT_EQ(io_bytes(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::multiplicative)), 512 + 128);
  // additive adds w_score_q, w_score_k [2, 4, 4] and v_score [2, 4]: 72 floats.
  EXPECT_EQ(io_bytes(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::additive)), 512 + 288);
  // projections: q [1,3,8] 24, k [1,5,8] 40, v 40, four 8x8 weights 256, four 8-biases 32, out [1,3,8] 24
  // = 416 floats.
  EXPECT_EQ(io_bytes(make_problem(1, 2, 2, 3, 5, 4, 4, Mask::none, Score::scaled_dot, true)), 1664);
}

TEST(IoBytes, EqualsTheSumOfInputSpecsPlusOutput) {
  for (Mask m : {Mask::none, Mask::causal, Mask::padding})
    for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative})
      for (bool proj : {false, true})
        for (auto [hk, dv] : std::vector<std::pair<int, int>>{{6, 8}, {2, 8}, {1, 24}}) {
          const Problem p = make_problem(3, 6, hk, 7, 33, 8, dv, m, s, proj);
          std::int64_t expected = spec_bytes(output_spec(p));
          for (const TensorSpec& spec : input_specs(p)) expected += spec_bytes(spec);
          EXPECT_EQ(io_bytes(p), expected) << p.str();
        }
}

TEST(QueryTokens, IsBatchTimesSeqQ) {
  EXPECT_EQ(query_tokens(make_problem(3, 2, 2, 7, 33, 4, 4)), 21);
  EXPECT_EQ(query_tokens(make_problem(8, 2, 2, 1, 4096, 4, 4)), 8);  // decode: one token per sequence
}

TEST(ReferenceBytes, CoversTheDoubleOutput) {
  for (bool proj : {false, true}) {
    const Problem p = make_problem(2, 4, 2, 7, 33, 8, 24, Mask::none, Score::scaled_dot, proj);
    EXPECT_GE(reference_bytes(p), element_count(output_spec(p).shape) * 8) << p.str();
  }
}

// The additive reference keeps a [Lk][da] double buffer per thread.
TEST(ReferenceBytes, CoversTheAdditiveKeySideBuffer) {
  const Problem p = make_problem(1, 1, 1, 1, 4096, 64, 64, Mask::none, Score::additive);
  const std::int64_t key_hidden = p.seq_kv * additive_dim(p) * 8;  // one thread's [Lk][da] doubles
  EXPECT_GE(reference_bytes(p), element_count(output_spec(p).shape) * 8 + key_hidden);
}

}  // namespace
}  // namespace attnbench
