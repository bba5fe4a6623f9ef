// The problem descriptor: validation rules, the string form (str / parse_problem) and enum parsing.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"

namespace attnbench {
namespace {

// A valid problem that uses every non-default shape feature (grouped-query, cross, dv != d).
Problem base_problem() {
  Problem p;
  p.batch = 2;
  p.heads = 4;
  p.kv_heads = 2;
  p.seq_q = 8;
  p.seq_kv = 16;
  p.head_dim = 8;
  p.value_dim = 4;
  return p;
}

// Run `f`, expect a ProblemError whose field() is `field` and whose message mentions `mention`.
template <class F>
void expect_problem_error(F&& f, const std::string& field, const std::string& mention, const std::string& context) {
  SCOPED_TRACE(context);
  try {
    f();
    ADD_FAILURE() << "expected ProblemError for field '" << field << "', nothing was thrown";
  } catch (const ProblemError& e) {
    EXPECT_EQ(e.field(), field) << "message: " << e.what();
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos)
        << "message does not mention '" << mention << "': " << e.what();
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation

TEST(ProblemValidate, DefaultAndBaseProblemsAreValid) {
  EXPECT_NO_THROW(Problem{}.validate());
  EXPECT_NO_THROW(base_problem().validate());
}

struct SizeField {
  const char* name;
  std::int64_t Problem::*member;
};

const std::vector<SizeField> kSizeFields = {
    {"batch", &Problem::batch},     {"heads", &Problem::heads},         {"kv_heads", &Problem::kv_heads},
    {"seq_q", &Problem::seq_q},     {"seq_kv", &Problem::seq_kv},       {"head_dim", &Problem::head_dim},
    {"value_dim", &Problem::value_dim}};

TEST(ProblemValidate, EverySizeBelowOneIsRejectedNamingTheField) {
  for (const SizeField& f : kSizeFields)
    for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{-1000}, INT64_MIN}) {
      Problem p = base_problem();
      p.*f.member = bad;
      expect_problem_error([&] { p.validate(); }, f.name, f.name, std::string(f.name) + " = " + std::to_string(bad));
    }
}

TEST(ProblemValidate, EverySizeAboveMaxDimIsRejectedNamingTheField) {
  for (const SizeField& f : kSizeFields)
    for (std::int64_t bad : {kMaxDim + 1, kMaxDim * 4, INT64_MAX}) {
      Problem p = base_problem();
      p.*f.member = bad;
      expect_problem_error([&] { p.validate(); }, f.name, f.name, std::string(f.name) + " = " + std::to_string(bad));
    }
}

TEST(ProblemValidate, MaxDimItselfIsAcceptedForASmallProblem) {
  // kMaxDim is inclusive: one huge batch or sequence with everything else tiny is a legal descriptor.
  for (auto member : {&Problem::batch, &Problem::seq_q, &Problem::seq_kv}) {
    Problem p;
    p.*member = kMaxDim;
    EXPECT_NO_THROW(p.validate()) << p.str();
  }
}

TEST(ProblemValidate, KvHeadsMustDivideHeads) {
  for (auto [heads, kv] : std::vector<std::pair<int, int>>{{4, 3}, {12, 5}, {6, 4}, {7, 2}}) {
    Problem p = base_problem();
    p.heads = heads;
    p.kv_heads = kv;
    expect_problem_error([&] { p.validate(); }, "kv_heads", "kv_heads",
                         "heads " + std::to_string(heads) + " kv_heads " + std::to_string(kv));
  }
}

TEST(ProblemValidate, KvHeadsMustNotExceedHeads) {
  for (auto [heads, kv] : std::vector<std::pair<int, int>>{{1, 2}, {4, 8}, {3, 6}}) {
    Problem p = base_problem();
    p.heads = heads;
    p.kv_heads = kv;
    expect_problem_error([&] { p.validate(); }, "kv_heads", "kv_heads",
                         "heads " + std::to_string(heads) + " kv_heads " + std::to_string(kv));
  }
}

TEST(ProblemValidate, GroupedQueryDivisorsAreValid) {
  for (auto [heads, kv] : std::vector<std::pair<int, int>>{{12, 1}, {12, 2}, {12, 3}, {12, 4}, {12, 6}, {12, 12}}) {
    Problem p = base_problem();
    p.heads = heads;
    p.kv_heads = kv;
    EXPECT_NO_THROW(p.validate()) << p.str();
    EXPECT_EQ(p.group_size(), heads / kv);
  }
}

TEST(ProblemValidate, TooLargeProblemIsRejected) {
  // Every size is within kMaxDim, but one tensor would hold more than 2^40 elements.
  Problem activations;  // q: 2^20 * 2^16 * 2^8 * 2^8 = 2^52 elements
  activations.batch = 1 << 20;
  activations.seq_q = activations.seq_kv = 1 << 16;
  activations.heads = activations.kv_heads = 1 << 8;
  activations.head_dim = activations.value_dim = 1 << 8;
  expect_problem_error([&] { activations.validate(); }, "batch", "too large", "2^52-element activations");

  Problem scores;  // one head's score matrix: 2^21 * 2^21 = 2^42 elements
  scores.seq_q = scores.seq_kv = 1 << 21;
  expect_problem_error([&] { scores.validate(); }, "seq_q", "too large", "2^42-element score matrix");

  Problem weights;  // a projection weight (H d)^2 = 2^44 elements
  weights.heads = weights.kv_heads = 1 << 11;
  weights.head_dim = weights.value_dim = 1 << 11;
  expect_problem_error([&] { weights.validate(); }, "heads", "too large", "2^44-element weights");

  // The message names what to reduce ("seq" stands for seq_q / seq_kv).
  for (const Problem* p : {&activations, &scores, &weights}) {
    try {
      p->validate();
    } catch (const ProblemError& e) {
      const std::string stem = e.field() == "seq_q" ? "seq" : e.field();
      EXPECT_NE(std::string(e.what()).find(stem), std::string::npos) << e.what();
    }
  }
}

// Realistic long-context cases are far below the 2^40-element limit. (The first version of the rule
// multiplied three sequence lengths together and refused all but the last.)
TEST(ProblemValidate, RealisticLongContextProblemsAreValid) {
  for (const char* text : {"b1_h16_sq16384_d64",             // 16k context: q/k/v 2^24, scores/head 2^28
                           "b1_h32_sq32768_d128_causal",      // 32k context: q/k/v 2^27, scores/head 2^30
                           "b2_h32_hk8_sq1_skv1048576_d128",  // 1M-token KV cache decode: k 2^31 elements
                           "b8_h32_sq4096_d128_proj"}) {      // 4k training shape
    EXPECT_NO_THROW((void)parse_problem(text)) << text;
  }
}

// ---------------------------------------------------------------------------------------------------
// String form

std::vector<Problem> generated_problems() {
  std::vector<Problem> out;
  for (Mask mask : {Mask::none, Mask::causal, Mask::padding})
    for (Score score : {Score::scaled_dot, Score::additive, Score::multiplicative})
      for (bool projections : {false, true})
        for (int kv : {12, 3, 1})
          for (int dv : {64, 80})
            for (auto [sq, skv] : std::vector<std::pair<int, int>>{{512, 512}, {1, 4096}, {33, 7}}) {
              Problem p;
              p.batch = 3;
              p.heads = 12;
              p.kv_heads = kv;
              p.seq_q = sq;
              p.seq_kv = skv;
              p.head_dim = 64;
              p.value_dim = dv;
              p.mask = mask;
              p.score = score;
              p.projections = projections;
              out.push_back(p);
            }
  return out;
}

TEST(ProblemString, RoundTripsOverEveryFeature) {
  const std::vector<Problem> problems = generated_problems();
  ASSERT_EQ(problems.size(), 3u * 3u * 2u * 3u * 2u * 3u);
  for (const Problem& p : problems) {
    ASSERT_NO_THROW(p.validate()) << p.str();
    const std::string s = p.str();
    SCOPED_TRACE(s);
    Problem back;
    ASSERT_NO_THROW(back = parse_problem(s));
    EXPECT_EQ(back, p);
    EXPECT_EQ(back.str(), s);  // the string form is canonical
  }
}

TEST(ProblemString, DocumentedExample) {
  Problem p;
  p.batch = 2;
  p.heads = p.kv_heads = 16;
  p.seq_q = p.seq_kv = 512;
  p.head_dim = p.value_dim = 64;
  p.mask = Mask::causal;
  EXPECT_EQ(p.str(), "b2_h16_sq512_skv512_d64_causal");
  EXPECT_EQ(parse_problem("b2_h16_sq512_skv512_d64_causal"), p);
}

TEST(ProblemString, OptionalTokensTakeTheirDefaults) {
  const Problem p = parse_problem("b1_h2_sq8_d4");
  EXPECT_EQ(p.batch, 1);
  EXPECT_EQ(p.heads, 2);
  EXPECT_EQ(p.kv_heads, 2);  // = heads
  EXPECT_EQ(p.seq_q, 8);
  EXPECT_EQ(p.seq_kv, 8);  // = seq_q
  EXPECT_EQ(p.head_dim, 4);
  EXPECT_EQ(p.value_dim, 4);  // = head_dim
  EXPECT_EQ(p.mask, Mask::none);
  EXPECT_EQ(p.score, Score::scaled_dot);
  EXPECT_FALSE(p.projections);
  EXPECT_EQ(p.dtype, DType::fp32);
}

TEST(ProblemString, TokensInAnyOrderAndExplicitDefaults) {
  const Problem a = parse_problem("b1_h2_sq8_d4");
  EXPECT_EQ(parse_problem("d4_sq8_h2_b1"), a);
  EXPECT_EQ(parse_problem("b1_h2_hk2_sq8_skv8_d4_dv4_none_fp32"), a);
  EXPECT_EQ(parse_problem("b1_h2_sq8_d4_sdp"), a);  // alias of scaled_dot
  const Problem b = parse_problem("proj_multiplicative_padding_dv3_d5_skv9_sq1_hk1_h6_b2");
  EXPECT_EQ(b.batch, 2);
  EXPECT_EQ(b.heads, 6);
  EXPECT_EQ(b.kv_heads, 1);
  EXPECT_EQ(b.seq_q, 1);
  EXPECT_EQ(b.seq_kv, 9);
  EXPECT_EQ(b.head_dim, 5);
  EXPECT_EQ(b.value_dim, 3);
  EXPECT_EQ(b.mask, Mask::padding);
  EXPECT_EQ(b.score, Score::multiplicative);
  EXPECT_TRUE(b.projections);
  EXPECT_TRUE(b.is_decode());
  EXPECT_TRUE(b.is_cross());
}

// "scaled_dot" contains the token separator; the parser keeps it whole.
TEST(ProblemString, ExplicitScaledDotScoreToken) {
  EXPECT_EQ(parse_problem("b1_h2_sq8_d4_scaled_dot"), parse_problem("b1_h2_sq8_d4"));
}

struct Malformed {
  const char* text;
  const char* field;    // expected ProblemError::field()
  const char* mention;  // a substring the message must contain
};

TEST(ProblemString, MalformedStringsThrowProblemError) {
  const std::vector<Malformed> table = {
      {"", "problem", "empty"},
      {"b1_h2_sq8_d4_foo", "problem", "'foo'"},                       // unknown token
      {"b1_h2_sq8_d4_flash", "problem", "'flash'"},                   // unknown word
      {"b1_h2_sq8_d4_s8", "problem", "'s8'"},                         // unknown prefix
      {"b1_b2_h2_sq8_d4", "problem", "b2"},                           // duplicate size
      {"b1_h2_sq8_sq9_d4", "problem", "sq9"},                         // duplicate size
      {"b1_h2_sq8_d4_causal_padding", "problem", "padding"},          // two masks
      {"b1_h2_sq8_d4_causal_causal", "problem", "causal"},            // same mask twice
      {"b1_h2_sq8_d4_additive_multiplicative", "problem", "multiplicative"},  // two scores
      {"b1_h2_sq8_d4_proj_proj", "problem", "proj"},                  // proj twice
      {"b1_h2_sq8_d4_fp32_fp32", "problem", "fp32"},                  // dtype twice
      {"b0_h2_sq8_d4", "batch", "batch"},                             // parses, fails validation
      {"b1_h0_sq8_d4", "heads", "heads"},
      {"b1_h2_sq0_d4", "seq_q", "seq_q"},
      {"b1_h2_sq8_skv0_d4", "seq_kv", "seq_kv"},
      {"b1_h2_sq8_d0", "head_dim", "head_dim"},
      {"b1_h2_sq8_d4_dv0", "value_dim", "value_dim"},
      {"b1_h4_hk3_sq8_d4", "kv_heads", "kv_heads"},                  // kv_heads does not divide heads
      {"b1_h2_hk4_sq8_d4", "kv_heads", "kv_heads"},                  // kv_heads > heads
      {"b1_h2_sq8_d16777217", "head_dim", "head_dim"},               // > kMaxDim
      {"bX_h2_sq8_d4", "problem", "bX"},                              // non-numeric
      {"b1x_h2_sq8_d4", "problem", "b1x"},                            // trailing garbage
      {"b1_h2_sq8_d4_dvx", "problem", "dvx"},
      {"b_h2_sq8_d4", "problem", "'b'"},                              // prefix without value
      {"b1__h2_sq8_d4", "problem", "empty token"},                    // doubled '_'
      {"b1_h2_sq8_d4_", "problem", "empty token"},                    // trailing '_'
      {"_b1_h2_sq8_d4", "problem", "empty token"},                    // leading '_'
      {"b-1_h2_sq8_d4", "problem", "b-1"},                            // negative
      {"b1_h2_sq8_d-4", "problem", "d-4"},
      {"b+1_h2_sq8_d4", "problem", "b+1"},
      {"b99999999999999999999_h2_sq8_d4", "problem", "whole number"},  // overflows int64
      {"h2_sq8_d4", "problem", "batch"},                              // missing required tokens
      {"b1_sq8_d4", "problem", "heads"},
      {"b1_h2_d4", "problem", "seq_q"},
      {"b1_h2_sq8", "problem", "head_dim"},
      {"b1_h2_skv8_d4", "problem", "seq_q"},                          // skv is not sq
      {"B1_H2_SQ8_D4", "problem", "B1"},                              // case-sensitive
      {" b1_h2_sq8_d4", "problem", " b1"},
  };
  for (const Malformed& m : table)
    expect_problem_error([&] { parse_problem(m.text); }, m.field, m.mention, std::string("'") + m.text + "'");
}

TEST(ProblemString, ProblemErrorIsAnInvalidArgument) {
  EXPECT_THROW(parse_problem("nonsense"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------
// Enum names

TEST(ProblemEnums, NamesRoundTrip) {
  for (Mask m : {Mask::none, Mask::causal, Mask::padding}) EXPECT_EQ(parse_mask(to_string(m)), m);
  for (Score s : {Score::scaled_dot, Score::additive, Score::multiplicative}) EXPECT_EQ(parse_score(to_string(s)), s);
  EXPECT_EQ(parse_dtype(to_string(DType::fp32)), DType::fp32);
  EXPECT_EQ(to_string(Mask::causal), "causal");
  EXPECT_EQ(to_string(Score::scaled_dot), "scaled_dot");
  EXPECT_EQ(to_string(DType::fp32), "fp32");
}

TEST(ProblemEnums, ParseErrorsNameTheFieldAndListValidNames) {
  try {
    parse_mask("diagonal");
    ADD_FAILURE() << "parse_mask accepted 'diagonal'";
  } catch (const ProblemError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.field(), "mask");
    for (const char* name : {"mask", "diagonal", "none", "causal", "padding"})
      EXPECT_NE(msg.find(name), std::string::npos) << name << " missing from: " << msg;
  }
  try {
    parse_score("dot", "--score");
    ADD_FAILURE() << "parse_score accepted 'dot'";
  } catch (const ProblemError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.field(), "--score");  // the caller's name for the field
    for (const char* name : {"--score", "'dot'", "scaled_dot", "additive", "multiplicative"})
      EXPECT_NE(msg.find(name), std::string::npos) << name << " missing from: " << msg;
  }
  try {
    parse_dtype("bf16");
    ADD_FAILURE() << "parse_dtype accepted 'bf16'";
  } catch (const ProblemError& e) {
    EXPECT_EQ(e.field(), "dtype");
    EXPECT_NE(std::string(e.what()).find("fp32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_mask(""), ProblemError);
  EXPECT_THROW(parse_mask("Causal"), ProblemError);
}

TEST(ProblemDerived, ModelDimGroupSizeDecodeCross) {
  Problem p = base_problem();
  EXPECT_EQ(p.model_dim(), 4 * 8);
  EXPECT_EQ(p.group_size(), 2);
  EXPECT_TRUE(p.is_cross());
  EXPECT_FALSE(p.is_decode());
  p.seq_q = 1;
  EXPECT_TRUE(p.is_decode());
  p.seq_kv = 1;
  EXPECT_FALSE(p.is_decode());  // a single token against a single key is not decode
  EXPECT_FALSE(p.is_cross());
}

}  // namespace
}  // namespace attnbench
