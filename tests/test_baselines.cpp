// The CNN/RNN baselines beyond what the registry-parameterised tests (test_kernels.cpp) check against
// the float64 reference: the equations on tiny hand-checked cases (gate order and GRU's reset gate as
// PyTorch documents them, "same"/causal/even/dilated padding), the operator's field rules, the problem
// string and JSON with the new fields, the cost model, and the command line (--model-dim, bad input).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "attnbench/cost_model.hpp"
#include "attnbench/op.hpp"
#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "problem_json.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

Problem baseline(std::int64_t batch, std::int64_t seq, std::int64_t width) {
  Problem p;
  p.batch = batch;
  p.seq_q = p.seq_kv = seq;
  p.heads = p.kv_heads = 1;
  p.head_dim = p.value_dim = width;
  return p;
}

void fill(TensorSet& in, const std::string& name, const std::vector<float>& values) {
  auto t = in.at(name).as<float>();
  ASSERT_EQ(t.size(), values.size()) << name;
  std::copy(values.begin(), values.end(), t.begin());
}

// The kernel's fp32 output, run once.
std::vector<float> run(const char* id, const Problem& p, const TensorSet& in, int threads = 1) {
  const Kernel* k = find_kernel(id);
  EXPECT_NE(k, nullptr) << id;
  const Support s = k->supports(p);
  EXPECT_TRUE(s.ok) << id << ": " << s.reason;
  RunContext ctx;
  ctx.threads = threads;
  Tensor out = make_output(k->info().op, p);
  k->prepare(p, in, ctx)->run(in, out);
  const auto o = out.as<float>();
  return {o.begin(), o.end()};
}

std::vector<double> reference(Op op, const Problem& p, const TensorSet& in) {
  const Tensor r = reference_forward(op, p, in);
  const auto v = r.as<double>();
  return {v.begin(), v.end()};
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// The values as the fp32 tensors hold them, so that the hand computation in double sees the same numbers.
std::vector<double> as_f32(std::vector<double> v) {
  for (double& x : v) x = double(float(x));
  return v;
}
double as_f32(double x) { return double(float(x)); }

// ---------------------------------------------------------------------------------------------------
// Equations on hand-checked cases

// One channel, weights [1, 2, 3] on taps j = 0, 1, 2, input 1, 10, 100, 1000: each output digit names
// the tap that read it, so a wrong padding side or tap order shows at once.
struct ConvCase {
  const char* what;
  std::int64_t k, dilation;
  Mask mask;
  std::vector<double> want;
};

TEST(Conv1dEquations, PaddingAndTapOrderMatchTorch) {
  const std::vector<ConvCase> cases = {
      // same, k=3: y[t] = 1 x[t-1] + 2 x[t] + 3 x[t+1]
      {"same k3", 3, 1, Mask::none, {32, 321, 3210, 2100}},
      // causal, k=3: y[t] = 1 x[t-2] + 2 x[t-1] + 3 x[t]
      {"causal k3", 3, 1, Mask::causal, {3, 32, 321, 3210}},
      // same, even k=2 (torch's padding='same': the extra zero on the right): y[t] = 1 x[t] + 2 x[t+1]
      {"same k2", 2, 1, Mask::none, {21, 210, 2100, 1000}},
      // same, k=3, dilation 2: y[t] = 1 x[t-2] + 2 x[t] + 3 x[t+2]
      {"same k3 dil2", 3, 2, Mask::none, {302, 3020, 201, 2010}},
      // causal, k=3, dilation 2: y[t] = 1 x[t-4] + 2 x[t-2] + 3 x[t]
      {"causal k3 dil2", 3, 2, Mask::causal, {3, 30, 302, 3020}},
  };
  for (const ConvCase& c : cases) {
    Problem p = baseline(1, 4, 1);
    p.kernel_size = c.k;
    p.dilation = c.dilation;
    p.mask = c.mask;
    TensorSet in = make_inputs(Op::conv1d, p, 1);
    fill(in, "x", {1, 10, 100, 1000});
    fill(in, "w_conv", std::vector<float>{1, 2, 3}.size() == std::size_t(c.k) ? std::vector<float>{1, 2, 3}
                                                                                : std::vector<float>{1, 2});
    fill(in, "b_conv", {0});
    const std::vector<double> ref = reference(Op::conv1d, p, in);
    for (const char* id : {"cnn.conv1d.serial", "cnn.conv1d.omp"}) {
      const std::vector<float> got = run(id, p, in, 2);
      for (std::size_t t = 0; t < 4; ++t) {
        EXPECT_EQ(got[t], c.want[t]) << id << " " << c.what << " t=" << t;
        EXPECT_EQ(ref[t], c.want[t]) << "reference " << c.what << " t=" << t;
      }
    }
  }
}

TEST(Conv1dEquations, StackDoublesDilationAndAppliesReluBetweenLayers) {
  // Two layers, one channel, k=3, dilation 1 then 2; layer 0 weights [0, -1, 0] (y = -x), bias 0, then
  // ReLU; layer 1 weights [1, 0, 1] at dilation 2: z[t] = r[t-2] + r[t+2].
  Problem p = baseline(1, 5, 1);
  p.layers = 2;
  TensorSet in = make_inputs(Op::conv1d, p, 1);
  fill(in, "x", {-1, 2, -3, 4, -5});
  fill(in, "w_conv", {0, -1, 0, 1, 0, 1});
  fill(in, "b_conv", {0, 0.5f});
  // r = relu(-x) = [1, 0, 3, 0, 5]; z[t] = 0.5 + r[t-2] + r[t+2]
  const std::vector<double> want = {0.5 + 3, 0.5 + 0, 0.5 + 1 + 5, 0.5 + 0, 0.5 + 3};
  const std::vector<double> ref = reference(Op::conv1d, p, in);
  const std::vector<float> got = run("cnn.conv1d.serial", p, in);
  for (std::size_t t = 0; t < want.size(); ++t) {
    EXPECT_EQ(ref[t], want[t]) << t;
    EXPECT_EQ(got[t], want[t]) << t;
  }
}

// torch.nn.LSTM, hidden 1, two steps, distinct weights per gate so that any other gate order or a
// missing bias changes the result:
//   i = s(W_ii x + b_ii + W_hi h + b_hi)  f = s(..f..)  g = tanh(..g..)  o = s(..o..)
//   c' = f c + i g    h' = o tanh(c')
TEST(RecurrentEquations, LstmGateOrderIsIFGO) {
  Problem p = baseline(1, 2, 1);
  TensorSet in = make_inputs(Op::lstm, p, 1);
  const std::vector<double> wi = as_f32({0.5, -0.3, 0.8, 0.2}), wh = as_f32({-0.4, 0.6, 0.1, -0.7});
  const std::vector<double> bi = as_f32({0.1, 0.2, -0.1, 0.05}), bh = as_f32({-0.2, 0.3, 0.15, 0.1});
  const std::vector<double> x = as_f32({0.9, -1.2});
  const double h0 = as_f32(0.3), c0 = as_f32(-0.6);
  fill(in, "x", {float(x[0]), float(x[1])});
  fill(in, "w_ih", {0.5f, -0.3f, 0.8f, 0.2f});
  fill(in, "w_hh", {-0.4f, 0.6f, 0.1f, -0.7f});
  fill(in, "b_ih", {0.1f, 0.2f, -0.1f, 0.05f});
  fill(in, "b_hh", {-0.2f, 0.3f, 0.15f, 0.1f});
  fill(in, "h0", {float(h0)});
  fill(in, "c0", {float(c0)});
  double h = h0, c = c0;
  std::vector<double> want;
  for (double xt : x) {
    auto pre = [&](int g) { return wi[g] * xt + bi[g] + wh[g] * h + bh[g]; };
    const double i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = std::tanh(pre(2)), o = sigmoid(pre(3));
    c = f * c + i * g;
    h = o * std::tanh(c);
    want.push_back(h);
  }
  const std::vector<double> ref = reference(Op::lstm, p, in);
  for (const char* id : {"rnn.lstm.serial", "rnn.lstm.omp"}) {
    const std::vector<float> got = run(id, p, in, 2);
    for (std::size_t t = 0; t < 2; ++t) EXPECT_NEAR(got[t], want[t], 1e-6) << id << " t=" << t;
  }
  for (std::size_t t = 0; t < 2; ++t) EXPECT_NEAR(ref[t], want[t], 1e-12) << "reference t=" << t;
}

// torch.nn.GRU: r = s(W_ir x + b_ir + W_hr h + b_hr)  z = s(..z..)
//               n = tanh(W_in x + b_in + r (W_hn h + b_hn))   h' = (1 - z) n + z h
// b_hn is inside the reset gate's product: moving it outside changes the result.
TEST(RecurrentEquations, GruGateOrderIsRZNAndResetScalesTheHiddenBias) {
  Problem p = baseline(1, 2, 1);
  TensorSet in = make_inputs(Op::gru, p, 1);
  const std::vector<double> wi = as_f32({0.7, -0.5, 0.9}), wh = as_f32({0.3, 0.8, -0.6});
  const std::vector<double> bi = as_f32({-0.1, 0.25, 0.2}), bh = as_f32({0.4, -0.3, 0.9});
  const std::vector<double> x = as_f32({-0.8, 1.1});
  const double h0 = as_f32(-0.5);
  fill(in, "x", {float(x[0]), float(x[1])});
  fill(in, "w_ih", {0.7f, -0.5f, 0.9f});
  fill(in, "w_hh", {0.3f, 0.8f, -0.6f});
  fill(in, "b_ih", {-0.1f, 0.25f, 0.2f});
  fill(in, "b_hh", {0.4f, -0.3f, 0.9f});
  fill(in, "h0", {float(h0)});
  double h = h0, h_wrong = h0;
  std::vector<double> want, wrong;
  for (double xt : x) {
    const double r = sigmoid(wi[0] * xt + bi[0] + wh[0] * h + bh[0]);
    const double z = sigmoid(wi[1] * xt + bi[1] + wh[1] * h + bh[1]);
    const double n = std::tanh(wi[2] * xt + bi[2] + r * (wh[2] * h + bh[2]));
    h = (1 - z) * n + z * h;
    want.push_back(h);
    const double rw = sigmoid(wi[0] * xt + bi[0] + wh[0] * h_wrong + bh[0]);
    const double zw = sigmoid(wi[1] * xt + bi[1] + wh[1] * h_wrong + bh[1]);
    const double nw = std::tanh(wi[2] * xt + bi[2] + bh[2] + rw * (wh[2] * h_wrong));  // b_hn outside r
    h_wrong = (1 - zw) * nw + zw * h_wrong;
    wrong.push_back(h_wrong);
  }
  ASSERT_GT(std::abs(want[1] - wrong[1]), 1e-3) << "the case must tell the two conventions apart";
  const std::vector<double> ref = reference(Op::gru, p, in);
  for (const char* id : {"rnn.gru.serial", "rnn.gru.omp"}) {
    const std::vector<float> got = run(id, p, in, 2);
    for (std::size_t t = 0; t < 2; ++t) EXPECT_NEAR(got[t], want[t], 1e-6) << id << " t=" << t;
  }
  for (std::size_t t = 0; t < 2; ++t) EXPECT_NEAR(ref[t], want[t], 1e-12) << "reference t=" << t;
}

// Bidirectional: direction 1 runs from the last step back to the first and fills out[..., E:2E].
TEST(RecurrentEquations, ElmanBackwardDirectionRunsFromTheEnd) {
  Problem p = baseline(1, 3, 1);
  p.bidirectional = true;
  TensorSet in = make_inputs(Op::elman, p, 1);
  const std::vector<double> x = {0.5, -1.0, 2.0};
  fill(in, "x", {0.5f, -1.0f, 2.0f});
  fill(in, "w_ih", {0.6f, -0.9f});
  fill(in, "w_hh", {0.4f, 0.7f});
  fill(in, "b_ih", {0.1f, -0.2f});
  fill(in, "b_hh", {0.05f, 0.3f});
  fill(in, "h0", {0.2f, -0.4f});
  std::vector<double> want(6);
  double h = 0.2;
  for (int t = 0; t < 3; ++t) want[std::size_t(2 * t)] = h = std::tanh(0.6 * x[std::size_t(t)] + 0.1 + 0.4 * h + 0.05);
  h = -0.4;
  for (int t = 2; t >= 0; --t)
    want[std::size_t(2 * t + 1)] = h = std::tanh(-0.9 * x[std::size_t(t)] - 0.2 + 0.7 * h + 0.3);
  const std::vector<double> ref = reference(Op::elman, p, in);
  const std::vector<float> got = run("rnn.elman.serial", p, in);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-6) << i;
    EXPECT_NEAR(ref[i], want[i], 1e-6) << i;  // the weights are fp32 roundings of the decimals above
  }
}

// The recurrent product runs on 64-unit tiles of W_hh packed once, 6 batch rows at a time, threads
// owning whole tiles (kernels/rnn/recurrent.hpp): widths and batches that fill no tile or block
// exactly (D 24, 80, 130; B 5, 67 = 64 + 3), both directions, 1 and 2 threads (2 threads at D = 80
// give one thread a full tile and the other a partial one), against the float64 reference.
TEST(RecurrentEquations, PackedTilesMatchTheReferenceAtOddWidthsAndBatches) {
  struct Case {
    Op op;
    const char* id;
    std::int64_t batch, seq, width;
    bool bidirectional;
  };
  for (const Case& c : {Case{Op::lstm, "rnn.lstm.omp", 67, 3, 80, false}, Case{Op::gru, "rnn.gru.omp", 5, 4, 130, true},
                        Case{Op::lstm, "rnn.lstm.serial", 5, 3, 130, true}, Case{Op::gru, "rnn.gru.serial", 67, 2, 24, false},
                        Case{Op::elman, "rnn.elman.serial", 67, 3, 80, true}}) {
    Problem p = baseline(c.batch, c.seq, c.width);
    p.bidirectional = c.bidirectional;
    const TensorSet in = make_inputs(c.op, p, 7);
    const std::vector<double> ref = reference(c.op, p, in);
    for (const int threads : {1, 2}) {
      const std::vector<float> got = run(c.id, p, in, threads);
      ASSERT_EQ(got.size(), ref.size());
      double worst = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - ref[i]));
      EXPECT_LT(worst, 1e-4) << c.id << " " << p.str() << " threads=" << threads;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Operators, fields, strings, costs

TEST(Operators, FamiliesAndSequentialSteps) {
  for (const Kernel* k : registry()) {
    const Op op = k->info().op;
    const Family want = op == Op::mha ? Family::attention : op == Op::conv1d ? Family::cnn : Family::rnn;
    EXPECT_EQ(k->info().family, want) << k->id();
    EXPECT_EQ(k->id().substr(0, k->id().find('.')), op == Op::mha ? "mha" : op == Op::conv1d ? "cnn" : "rnn")
        << k->id();
  }
  Problem p = baseline(2, 100, 16);
  p.layers = 3;
  EXPECT_EQ(sequential_steps(Op::mha, baseline(2, 100, 16)), 1);
  EXPECT_EQ(sequential_steps(Op::conv1d, p), 3);
  EXPECT_EQ(sequential_steps(Op::lstm, p), 100);
  EXPECT_EQ(layer_dilation(p, 2), 4);
}

TEST(Operators, EachRefusesTheOthersFieldsWithAReason) {
  struct Refusal {
    Op op;
    Problem p;
    const char* mentions;
  };
  auto with = [](auto change) {
    Problem p = baseline(1, 16, 8);
    change(p);
    p.validate();
    return p;
  };
  const std::vector<Refusal> refusals = {
      {Op::mha, with([](Problem& p) { p.kernel_size = 5; }), "kernel_size"},
      {Op::mha, with([](Problem& p) { p.dilation = 2; }), "dilation"},
      {Op::mha, with([](Problem& p) { p.layers = 2; }), "layers"},
      {Op::mha, with([](Problem& p) { p.bidirectional = true; }), "bidirectional"},
      {Op::conv1d, with([](Problem& p) { p.kernel_size = 17; }), "longer than the sequence"},
      {Op::conv1d, with([](Problem& p) { p.bidirectional = true; }), "bidirectional"},
      {Op::conv1d, with([](Problem& p) { p.seq_kv = 32; }), "seq_kv"},
      {Op::conv1d, with([](Problem& p) { p.mask = Mask::padding; }), "padding"},
      {Op::lstm, with([](Problem& p) { p.kernel_size = 5; }), "conv1d only"},
      {Op::gru, with([](Problem& p) { p.layers = 2; }), "--layers"},
      {Op::elman, with([](Problem& p) { p.heads = 4, p.kv_heads = 2; }), "kv_heads"},
      {Op::lstm, with([](Problem& p) { p.score = Score::additive; }), "score"},
      {Op::gru, with([](Problem& p) { p.bidirectional = true, p.mask = Mask::causal; }), "causal"},
      {Op::lstm, with([](Problem& p) { p.value_dim = 4; }), "value_dim"},
  };
  for (const Refusal& r : refusals) {
    const std::string why = op_refusal(r.op, r.p);
    EXPECT_NE(why.find(r.mentions), std::string::npos) << to_string(r.op) << " on " << r.p.str() << ": '" << why << "'";
  }
  EXPECT_EQ(op_refusal(Op::conv1d, with([](Problem& p) { p.kernel_size = 16, p.mask = Mask::causal; })), "");
  EXPECT_EQ(op_refusal(Op::lstm, with([](Problem& p) { p.bidirectional = true, p.projections = true; })), "");
  EXPECT_EQ(op_refusal(Op::mha, baseline(1, 16, 8)), "");
}

TEST(ProblemString, BaselineTokensRoundTrip) {
  for (const char* text : {"b1_h8_sq2048_skv2048_d64_ks5_dil2_ly4", "b2_h1_sq7_skv7_d24_causal_bidir",
                           "b1_h16_sq128_skv128_d64_proj_ks1", "b3_h1_sq33_skv33_d80_ks4_dil3"}) {
    const Problem p = parse_problem(text);
    EXPECT_EQ(p.str(), text);
    EXPECT_EQ(parse_problem(p.str()), p);
    EXPECT_EQ(problem_from_json(problem_to_json(p)), p) << text;
  }
  const Problem p = parse_problem("ly3_bidir_sq9_dil2_b2_ks7_d8_h2");  // any order
  EXPECT_EQ(p.layers, 3);
  EXPECT_TRUE(p.bidirectional);
  EXPECT_EQ(p.dilation, 2);
  EXPECT_EQ(p.kernel_size, 7);
  EXPECT_EQ(p.head_dim, 8);  // "dil" did not take "d"'s place, nor "ks" anything
  EXPECT_EQ(parse_problem("b1_h1_sq4_d8_ks3_dil1_ly1").str(), "b1_h1_sq4_skv4_d8");  // defaults omitted
  // A record written before these fields existed reads back with their defaults.
  nlohmann::json old = problem_to_json(parse_problem("b1_h2_sq4_d8"));
  for (const char* f : {"kernel_size", "dilation", "layers", "bidirectional"}) old.erase(f);
  EXPECT_EQ(problem_from_json(old), parse_problem("b1_h2_sq4_d8"));
}

TEST(ProblemString, BadBaselineTokensNameTheField) {
  struct Bad {
    const char* text;
    const char* field;
  };
  for (const Bad& b : {Bad{"b1_h1_sq4_d8_ks0", "kernel_size"}, Bad{"b1_h1_sq4_d8_dil0", "dilation"},
                       Bad{"b1_h1_sq4_d8_ly0", "layers"}, Bad{"b1_h1_sq4_d8_ly25", "layers"},
                       Bad{"b1_h1_sq4_d8_bidir_bidir", "bidirectional"}, Bad{"b1_h1_sq4_d8_ks3_ks5", "kernel_size"},
                       Bad{"b1_h1_sq4_d8_ksx", "ksx"}, Bad{"b1_h1_sq4_d8_dil2_ly24_ks5", "dilation"}}) {
    try {
      parse_problem(b.text);
      ADD_FAILURE() << b.text << " was accepted";
    } catch (const ProblemError& e) {
      EXPECT_NE(std::string(e.what()).find(b.field), std::string::npos) << b.text << ": " << e.what();
    }
  }
}

TEST(CostModel, BaselineFormulas) {
  Problem p = baseline(2, 50, 24);
  const double B = 2, L = 50, E = 24;
  p.kernel_size = 5;
  p.layers = 3;
  const FlopCount conv = flops(Op::conv1d, p);
  EXPECT_DOUBLE_EQ(conv.convolution, 3 * (2 * B * L * 5 * E * E + B * L * E));
  EXPECT_DOUBLE_EQ(conv.total(), conv.convolution);
  p.kernel_size = 3;
  p.layers = 1;
  struct Rnn {
    Op op;
    double leading;  // the formula: LSTM 16 B L E^2, GRU 12, Elman 4
  };
  for (const Rnn r : {Rnn{Op::lstm, 16}, Rnn{Op::gru, 12}, Rnn{Op::elman, 4}}) {
    for (bool bidir : {false, true}) {
      p.bidirectional = bidir;
      const double dirs = bidir ? 2 : 1, G = double(gate_count(r.op));
      const FlopCount f = flops(r.op, p);
      EXPECT_DOUBLE_EQ(f.total(), dirs * (r.leading * B * L * E * E + 2 * B * L * G * E)) << to_string(r.op);
      EXPECT_DOUBLE_EQ(f.projections, f.recurrent);
      // io bytes: x, weights, biases, initial states, output.
      const double states = (r.op == Op::lstm ? 2 : 1) * dirs * B * E;
      const double floats = B * L * E + dirs * (2 * G * E * E + 2 * G * E) + states + B * L * dirs * E;
      EXPECT_EQ(io_bytes(r.op, p), std::int64_t(4 * floats)) << to_string(r.op);
    }
  }
  p.bidirectional = false;
  EXPECT_EQ(io_bytes(Op::conv1d, p), std::int64_t(4 * (2 * B * L * E + 3 * E * E + E)));
  EXPECT_EQ(query_tokens(p), 100);
}

// ---------------------------------------------------------------------------------------------------
// The command line

class BaselineCli : public testing::Test {
 protected:
  test_support::CommandResult run(const std::string& args) {
    return test_support::run_command(std::string(ATTNBENCH_EXE) + " " + args, dir_.path());
  }
  test_support::TempDir dir_{"baselines"};
};

constexpr const char* kQuick = " --min-time 0 --min-reps 1 --warmup 0 --threads 2";

TEST_F(BaselineCli, ModelDimDrivesAttentionAndBaselinesOnOneProblem) {
  const auto r = run("run --kernel mha.naive.serial,cnn.conv1d.serial,rnn.lstm.serial,rnn.gru.omp --model-dim 128 "
                     "--seq 9 --projections --check" + std::string(kQuick));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : {"mha.naive.serial", "cnn.conv1d.serial", "rnn.lstm.serial", "rnn.gru.omp"}) {
    EXPECT_NE(r.out.find(std::string("b1_h2_sq9_skv9_d64_proj  ") + id), std::string::npos) << id << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("skipped"), std::string::npos) << r.out;
}

TEST_F(BaselineCli, ModelDimMapsToHeads) {
  struct Case {
    const char* flags;
    const char* problem;
  };
  for (const Case& c : {Case{"--model-dim 24", "b1_h1_sq4_skv4_d24"}, Case{"--model-dim 256", "b1_h4_sq4_skv4_d64"},
                        Case{"--model-dim 256 --heads 8", "b1_h8_sq4_skv4_d32"},
                        Case{"--model-dim 96 --head-dim 16", "b1_h6_sq4_skv4_d16"}}) {
    const auto r = run(std::string("run --kernel cnn.conv1d.serial --seq 4 ") + c.flags + kQuick);
    ASSERT_EQ(r.code, 0) << c.flags << ": " << r.err;
    EXPECT_NE(r.out.find(c.problem), std::string::npos) << c.flags << "\n" << r.out;
  }
}

TEST_F(BaselineCli, BadInputExitsTwoWithTheReason) {
  struct Case {
    const char* args;
    const char* mentions;
  };
  for (const Case& c :
       {Case{"--kernel cnn.conv1d.serial --model-dim 0 --seq 8", "--model-dim"},
        Case{"--kernel cnn.conv1d.serial --model-dim 16 --seq 4 --kernel-size 5", "longer than the sequence"},
        Case{"--kernel cnn.conv1d.serial --model-dim 16 --seq 8 --kernel-size 0", "--kernel-size"},
        Case{"--kernel mha.naive.serial --model-dim 16 --seq 8 --kernel-size 5", "conv1d only"},
        Case{"--kernel rnn.lstm.serial --model-dim 16 --seq 8 --layers 2", "--layers"},
        Case{"--kernel rnn.gru.serial --model-dim 16 --seq 8 --bidirectional --mask causal", "causal"},
        Case{"--kernel cnn.conv1d.serial --model-dim 100 --heads 3 --seq 8", "multiple of --heads"},
        Case{"--kernel cnn.conv1d.serial --model-dim 128 --heads 2 --head-dim 32 --seq 8", "disagree"},
        Case{"--kernel cnn.conv1d.serial --problem b1_h1_sq8_d8 --layers 2", "--problem and --layers"},
        Case{"--kernel cnn.conv1d.serial --seq 8", "--model-dim"}}) {
    const auto r = run(std::string("run ") + c.args + kQuick);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << c.args << ": " << r.err;
  }
}

TEST_F(BaselineCli, ListNamesEachKernelsOperator) {
  const auto r = run("list --json");
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::string> op_of;
  for (const auto& k : nlohmann::json::parse(r.out)) op_of[k["id"]] = k["op"];
  EXPECT_EQ(op_of.at("mha.naive.serial"), "mha");
  EXPECT_EQ(op_of.at("cnn.conv1d.omp"), "conv1d");
  EXPECT_EQ(op_of.at("rnn.lstm.serial"), "lstm");
  EXPECT_EQ(op_of.at("rnn.gru.omp"), "gru");
  EXPECT_EQ(op_of.at("rnn.elman.serial"), "elman");
}

TEST_F(BaselineCli, RecordsCarryOperatorStepsAndFlops) {
  const fs::path out = dir_ / "r.jsonl";
  const auto r = run("run --kernel rnn.lstm.serial,cnn.conv1d.omp --model-dim 16 --seq 12 --layers 1 --out " +
                     out.string() + kQuick);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out);
  std::string line;
  int records = 0;
  while (std::getline(f, line)) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    ++records;
    const bool lstm = rec["kernel"] == "rnn.lstm.serial";
    EXPECT_EQ(rec["op"], lstm ? "lstm" : "conv1d");
    EXPECT_EQ(rec["work"]["sequential_steps"], lstm ? 12 : 1);
    EXPECT_GT(rec["work"][lstm ? "flops_recurrent" : "flops_convolution"].get<double>(), 0);
    EXPECT_EQ(rec["status"], "ok");
  }
  EXPECT_EQ(records, 2);
}

// ---------------------------------------------------------------------------------------------------
// PyTorch: torch.nn.Conv1d / LSTM / GRU / RNN on the very tensors attnbench saved (scripts/pytorch_reference.py
// validate --op), and the torch.* baselines measured in attnbench's schema.

class BaselineTorch : public BaselineCli {
 protected:
  void SetUp() override {
    if (!test_support::torch_available()) GTEST_SKIP() << test_support::kPython << " cannot import torch - skipped";
  }
  test_support::CommandResult script(const std::string& args) {
    return test_support::run_command(std::string(test_support::kPython) + " " + ATTNBENCH_SOURCE_DIR +
                                         "/scripts/pytorch_reference.py " + args,
                                     dir_.path());
  }
};

TEST_F(BaselineTorch, OutputsMatchTorchModulesOnTheSameInputs) {
  struct Case {
    const char* kernel;
    const char* op;
    const char* problem;
  };
  for (const Case& c : {Case{"cnn.conv1d.serial", "conv1d", "b2_h1_sq33_d24_ks5_dil2_ly2"},
                        Case{"cnn.conv1d.omp", "conv1d", "b1_h1_sq17_d8_ks4_causal"},
                        Case{"rnn.lstm.omp", "lstm", "b2_h1_sq9_d24_bidir"},
                        Case{"rnn.lstm.serial", "lstm", "b3_h1_sq7_d80_causal"},
                        Case{"rnn.gru.omp", "gru", "b3_h1_sq7_d16_bidir"},
                        Case{"rnn.gru.serial", "gru", "b1_h1_sq1_d8"},
                        Case{"rnn.elman.serial", "elman", "b2_h2_sq5_d8_bidir"}}) {
    const fs::path saved = dir_ / c.kernel;
    const auto a = run(std::string("run --kernel ") + c.kernel + " --problem " + c.problem + " --save-output " +
                       saved.string() + kQuick);
    ASSERT_EQ(a.code, 0) << a.err;
    const auto v = script("validate " + saved.string() + " --problem " + c.problem + " --op " + c.op);
    EXPECT_EQ(v.code, 0) << c.kernel << ": " << v.out << v.err;
    EXPECT_NE(v.out.find("PASS"), std::string::npos) << v.out;
  }
  // The wrong operator's module on the same files is bad input (other tensors), not a pass.
  const auto wrong = script("validate " + (dir_ / "rnn.lstm.omp").string() + " --problem b2_h1_sq9_d24_bidir --op gru");
  EXPECT_EQ(wrong.code, 2) << wrong.out << wrong.err;
}

TEST_F(BaselineTorch, TorchBaselinesWriteRecordsInTheSchema) {
  const fs::path out = dir_ / "torch.jsonl";
  const auto r = script("run --problem b1_h2_sq12_d8_proj --kernel cnn,rnn --check --min-time 0 --min-reps 2 "
                        "--warmup 0 --threads 1 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::ifstream f(out);
  std::string line;
  std::map<std::string, nlohmann::json> by_kernel;
  while (std::getline(f, line)) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    by_kernel[rec["kernel"]] = rec;
  }
  ASSERT_EQ(by_kernel.size(), 4u);
  for (const auto& [kernel, op, family, steps] :
       {std::tuple{"torch.conv1d", "conv1d", "cnn", 1}, std::tuple{"torch.lstm", "lstm", "rnn", 12},
        std::tuple{"torch.gru", "gru", "rnn", 12}, std::tuple{"torch.rnn", "elman", "rnn", 12}}) {
    const nlohmann::json& rec = by_kernel.at(kernel);
    EXPECT_EQ(rec["status"], "ok") << rec.dump();
    EXPECT_EQ(rec["op"], op);
    EXPECT_EQ(rec["family"], family);
    EXPECT_EQ(rec["work"]["sequential_steps"], steps);
    EXPECT_TRUE(rec["check"]["passed"].get<bool>());
    // The same cost model as attnbench's.
    EXPECT_DOUBLE_EQ(rec["work"]["flops"].get<double>(),
                     flops(std::string(op) == "conv1d" ? Op::conv1d
                           : std::string(op) == "lstm" ? Op::lstm
                           : std::string(op) == "gru"  ? Op::gru
                                                        : Op::elman,
                           parse_problem("b1_h2_sq12_d8_proj"))
                         .total());
  }
}

}  // namespace
}  // namespace attnbench
