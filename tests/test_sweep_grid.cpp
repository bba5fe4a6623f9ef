// The sweep grid (harness/sweep_grid.hpp): axes crossed into cases, matched baselines, deduplication,
// left-out points, config files, presets and their precedence.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attnbench/registry.hpp"
#include "cli_measure.hpp"
#include "exit_codes.hpp"
#include "sweep_grid.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test_support::usage_error;

// The sweep's options as far as the grid and the presets use them: the axes, measurement, and the one
// key of cmd_sweep.cpp's own that presets set (the real program checks them all: ProgramAcceptsEveryPreset).
po::options_description sweep_options() {
  po::options_description own;
  own.add_options()("no-check", po::bool_switch());
  po::options_description o;
  o.add(sweep_axis_options()).add(measurement_options()).add(own);
  return o;
}

po::variables_map parse(const std::vector<std::string>& args) { return parse_sweep_args(args, sweep_options()); }
SweepGrid grid_of(const std::vector<std::string>& args) { return sweep_grid_from(parse(args)); }

// "problem kernel" (and " threads" with `threads`) per case, for compact expectations.
std::vector<std::string> listing(const SweepGrid& g, bool threads = false) {
  std::vector<std::string> rows;
  for (const SweepCase& c : g.cases)
    rows.push_back(c.problem.str() + " " + c.kernel->id() + (threads ? " " + std::to_string(c.threads) : ""));
  return rows;
}

TEST(SweepGrid, CrossesTheAxesWithRunsDefaults) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.serial", "--heads", "2,4", "--head-dim", "16", "--seq", "32:64:*2"});
  EXPECT_THAT(listing(g), ElementsAre("b1_h2_sq32_skv32_d16 mha.naive.serial", "b1_h2_sq64_skv64_d16 mha.naive.serial",
                                      "b1_h4_sq32_skv32_d16 mha.naive.serial", "b1_h4_sq64_skv64_d16 mha.naive.serial"));
  EXPECT_TRUE(g.excluded.empty());
  EXPECT_TRUE(g.default_threads);
  for (const SweepCase& c : g.cases) EXPECT_EQ(c.threads, int(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_EQ(g.named, std::set<const Kernel*>{find_kernel("mha.naive.serial")});
}

TEST(SweepGrid, SeqKvAndKvHeadsFollowTheirAxesUnlessGiven) {
  EXPECT_THAT(listing(grid_of({"--kernel", "mha.naive.serial", "--heads", "4", "--kv-heads", "2", "--head-dim", "8",
                               "--seq", "1", "--seq-kv", "64,128", "--threads", "1"}), true),
              ElementsAre("b1_h4_hk2_sq1_skv64_d8 mha.naive.serial 1", "b1_h4_hk2_sq1_skv128_d8 mha.naive.serial 1"));
}

TEST(SweepGrid, KernelsOfOneProblemSideBySideThreadsInnermost) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.omp,mha.blocked.omp", "--heads", "2", "--head-dim", "16", "--seq",
                               "32,64", "--threads", "1,2"});
  EXPECT_THAT(listing(g, true), ElementsAre("b1_h2_sq32_skv32_d16 mha.naive.omp 1", "b1_h2_sq32_skv32_d16 mha.naive.omp 2",
                                      "b1_h2_sq32_skv32_d16 mha.blocked.omp 1", "b1_h2_sq32_skv32_d16 mha.blocked.omp 2",
                                      "b1_h2_sq64_skv64_d16 mha.naive.omp 1", "b1_h2_sq64_skv64_d16 mha.naive.omp 2",
                                      "b1_h2_sq64_skv64_d16 mha.blocked.omp 1", "b1_h2_sq64_skv64_d16 mha.blocked.omp 2"));
  EXPECT_FALSE(g.default_threads);
}

TEST(SweepGrid, RanksAxisAppliesToMpiKernelsOnlyAndFitsTheLaunch) {
  SweepGrid g = grid_of({"--kernel", "mha.tp.mpi,mha.blocked.serial", "--problem", "b1_h4_sq17_d8", "--threads", "1",
                         "--ranks", "1:4:*2"});
  std::vector<std::string> rows;
  for (const SweepCase& c : g.cases) rows.push_back(c.kernel->id() + " " + std::to_string(c.ranks));
  // The serial kernel runs on rank 0 alone: once, whatever the ranks.
  EXPECT_THAT(rows, ElementsAre("mha.tp.mpi 1", "mha.tp.mpi 2", "mha.tp.mpi 4", "mha.blocked.serial 0"));
  fit_to_launch(g, 3, 3);
  ASSERT_EQ(g.cases.size(), 3u);
  EXPECT_EQ(g.cases[1].ranks, 2);
  EXPECT_EQ(g.cases[1].threads, 1);  // given: not shared
  ASSERT_EQ(g.excluded.size(), 1u);
  EXPECT_THAT(g.excluded[0], HasSubstr("1 case(s) left out: --ranks 4 is more than the 3 rank(s) launched"));
  // With --interleave the serial kernel and each ranks value are groups of their own.
  EXPECT_EQ(sweep_groups(g, true), (std::vector<std::vector<std::size_t>>{{0}, {1}, {2}}));
  SweepGrid only_four = grid_of({"--kernel", "mha.tp.mpi", "--problem", "b1_h4_sq17_d8", "--ranks", "4"});
  EXPECT_EQ(usage_error([&] { fit_to_launch(only_four, 2, 2); }),
            "no valid case in the grid: 1 case(s) left out: --ranks 4 is more than the 2 rank(s) launched (start the "
            "sweep with mpirun -n 4 or more to run them)");
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "mha.tp.mpi", "--problem", "b1_h4_sq17_d8", "--ranks", "0"}); }),
              HasSubstr("--ranks"));
}

TEST(SweepGrid, DefaultThreadsAreTheHostsCpusSharedByItsRanks) {
  const int cpus = int(std::max(1u, std::thread::hardware_concurrency()));
  SweepGrid g = grid_of({"--kernel", "mha.blocked.omp", "--problem", "b1_h4_sq17_d8"});
  fit_to_launch(g, 4, 4);
  EXPECT_EQ(g.cases.at(0).threads, std::max(1, cpus / 4));
  SweepGrid given = grid_of({"--kernel", "mha.blocked.omp", "--problem", "b1_h4_sq17_d8", "--threads", "2"});
  fit_to_launch(given, 4, 4);
  EXPECT_EQ(given.cases.at(0).threads, 2);
}

TEST(SweepGrid, GroupsForInterleaveAreOneProblemsKernelsAtOneThreadCount) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.omp,mha.blocked.omp", "--heads", "2", "--head-dim", "16", "--seq",
                               "32,64", "--threads", "1,2"});
  // Cases: p32 naive 1, p32 naive 2, p32 blocked 1, p32 blocked 2, then the same for p64.
  EXPECT_EQ(sweep_groups(g, true), (std::vector<std::vector<std::size_t>>{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(sweep_groups(g, false).size(), 8u);
  EXPECT_EQ(sweep_groups(g, false)[5], std::vector<std::size_t>{5});
}

TEST(SweepGrid, SerialKernelsRunOncePerProblemWhateverTheThreads) {
  EXPECT_THAT(listing(grid_of({"--kernel", "mha.naive.serial,mha.naive.omp", "--heads", "2", "--head-dim", "16", "--seq",
                               "32", "--threads", "2,1"}), true),
              ElementsAre("b1_h2_sq32_skv32_d16 mha.naive.serial 2", "b1_h2_sq32_skv32_d16 mha.naive.omp 2",
                          "b1_h2_sq32_skv32_d16 mha.naive.omp 1"));
}

TEST(SweepGrid, GlobsAndFamiliesSelectKernelsButOnlyIdsAreNamed) {
  const SweepGrid g = grid_of({"--kernel", "rnn,mha.naive.*", "--model-dim", "64", "--seq", "8", "--threads", "1"});
  std::set<std::string> ids;
  for (const SweepCase& c : g.cases) ids.insert(c.kernel->id());
  EXPECT_TRUE(ids.count("rnn.lstm.serial") && ids.count("rnn.gru.omp") && ids.count("mha.naive.omp"));
  EXPECT_FALSE(ids.count("cnn.conv1d.serial"));
  EXPECT_TRUE(g.named.empty());
  const std::string e = usage_error([] { grid_of({"--kernel", "mha.blocked.seiral", "--model-dim", "64", "--seq", "8"}); });
  EXPECT_THAT(e, HasSubstr("unknown kernel 'mha.blocked.seiral'; closest: mha.blocked.serial"));
  EXPECT_THAT(usage_error([] { grid_of({"--model-dim", "64", "--seq", "8"}); }), HasSubstr("missing --kernel"));
  EXPECT_THAT(usage_error([] { grid_of({"--model-dim", "64", "--seq", "8"}); }), HasSubstr("or use a --preset (attention-vs-cnn-rnn, "));
}

TEST(SweepGrid, BaselinesGetTheMatchedShapeOncePerWidth) {
  // Two splits of width 128, a GQA point, a padding mask and additive scores with projections: the
  // baselines read only batch, seq and width, so they run once per (batch, seq, width).
  const SweepGrid g = grid_of({"--kernel", "mha.naive.serial,cnn.conv1d.serial,rnn.gru.serial", "--model-dim", "128",
                               "--heads", "2,4", "--kv-heads", "1", "--seq", "16", "--mask", "padding", "--score",
                               "additive", "--projections", "on"});
  EXPECT_THAT(listing(g), ElementsAre("b1_h2_hk1_sq16_skv16_d64_padding_additive_proj mha.naive.serial",
                                      "b1_h2_sq16_skv16_d64 cnn.conv1d.serial", "b1_h2_sq16_skv16_d64 rnn.gru.serial",
                                      "b1_h4_hk1_sq16_skv16_d32_padding_additive_proj mha.naive.serial"));
}

TEST(SweepGrid, MatchedShapeKeepsACausalMaskForConvAndCanonicalHeads) {
  Problem a = test_support::make_problem(3, 3, 1, 20, 40, 8, 4, Mask::causal, Score::multiplicative, true);
  EXPECT_EQ(matched_problem(Op::conv1d, a, BaselineFields{}).str(), "b3_h1_sq20_skv20_d24_causal");  // width 24: one head
  // A unidirectional RNN is causal by construction: the causal case is the same computation, run once.
  EXPECT_EQ(matched_problem(Op::lstm, a, BaselineFields{}).str(), "b3_h1_sq20_skv20_d24");
  EXPECT_EQ(matched_problem(Op::mha, a, BaselineFields{}), a);
  a = test_support::make_problem(2, 16, 16, 64, 64, 32, 32);
  EXPECT_EQ(matched_problem(Op::conv1d, a, BaselineFields{}).str(), "b2_h8_sq64_skv64_d64");  // width 512: h8 d64
}

TEST(SweepGrid, BaselineAxesApplyToTheOperatorsTheyMeanSomethingFor) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.serial,cnn.conv1d.serial,rnn.lstm.serial", "--model-dim", "64",
                               "--seq", "100", "--kernel-size", "3,5", "--layers", "1,cover", "--bidirectional", "both"});
  EXPECT_THAT(listing(g), ElementsAre("b1_h1_sq100_skv100_d64 mha.naive.serial", "b1_h1_sq100_skv100_d64 cnn.conv1d.serial",
                                      "b1_h1_sq100_skv100_d64 rnn.lstm.serial",
                                      "b1_h1_sq100_skv100_d64_bidir rnn.lstm.serial",
                                      "b1_h1_sq100_skv100_d64_ly6 cnn.conv1d.serial",  // 1+2*(2^6-1) = 127 >= 100
                                      "b1_h1_sq100_skv100_d64_ks5 cnn.conv1d.serial",
                                      "b1_h1_sq100_skv100_d64_ks5_ly5 cnn.conv1d.serial"));  // 1+4*31 = 125
}

TEST(SweepGrid, CoveringLayers) {
  EXPECT_EQ(covering_layers(1, 3, 1), 1);
  EXPECT_EQ(covering_layers(3, 3, 1), 1);
  EXPECT_EQ(covering_layers(4, 3, 1), 2);
  EXPECT_EQ(covering_layers(127, 3, 1), 6);
  EXPECT_EQ(covering_layers(128, 3, 1), 7);
  EXPECT_EQ(covering_layers(16383, 3, 1), 13);  // 1 + 2*(2^13-1) = 16383
  EXPECT_EQ(covering_layers(16384, 3, 1), 14);
  EXPECT_EQ(covering_layers(16384, 2, 2), 14);  // (k-1)*dilation is what counts
  EXPECT_EQ(covering_layers(16384, 5, 1), 13);  // 1 + 4*(2^12-1) = 16381 falls short
  EXPECT_EQ(covering_layers(2, 1, 1), 0);       // kernel size 1 never widens the field
  EXPECT_EQ(covering_layers(std::int64_t{1} << 24, 2, 1), 24);
  EXPECT_EQ(covering_layers((std::int64_t{1} << 24) + 1, 2, 1), 0);
}

TEST(SweepGrid, InvalidPointsAreLeftOutAndReportedOncePerReason) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.serial", "--heads", "4", "--kv-heads", "1,3,2", "--head-dim", "8",
                               "--seq", "8,16"});
  EXPECT_THAT(listing(g), ElementsAre("b1_h4_hk1_sq8_skv8_d8 mha.naive.serial", "b1_h4_hk1_sq16_skv16_d8 mha.naive.serial",
                                      "b1_h4_hk2_sq8_skv8_d8 mha.naive.serial", "b1_h4_hk2_sq16_skv16_d8 mha.naive.serial"));
  ASSERT_EQ(g.excluded.size(), 1u);
  EXPECT_THAT(g.excluded[0], HasSubstr("2 grid point(s) left out: --kv-heads"));
  EXPECT_THAT(g.excluded[0], HasSubstr("(first: --heads 4 --kv-heads 3 --head-dim 8 --seq 8)"));
  // Nothing valid: an error, not an empty sweep.
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "mha.naive.serial", "--heads", "4", "--kv-heads", "3", "--head-dim",
                                        "8", "--seq", "8"}); }),
              HasSubstr("no valid case in the grid: 1 grid point(s) left out: --kv-heads"));
}

TEST(SweepGrid, AnUncoverableStackIsLeftOutForConvOnly) {
  const SweepGrid g = grid_of({"--kernel", "cnn.conv1d.serial,rnn.elman.serial", "--model-dim", "32", "--seq", "1,9",
                               "--kernel-size", "1", "--layers", "cover"});
  EXPECT_THAT(listing(g), ElementsAre("b1_h1_sq1_skv1_d32_ks1 cnn.conv1d.serial", "b1_h1_sq1_skv1_d32 rnn.elman.serial",
                                      "b1_h1_sq9_skv9_d32 rnn.elman.serial"));
  ASSERT_EQ(g.excluded.size(), 1u);
  EXPECT_THAT(g.excluded[0], HasSubstr("--layers cover: no stack"));
  EXPECT_THAT(g.excluded[0], HasSubstr("kernel size 1 never widens the field"));
}

TEST(SweepGrid, ZipsPairValues) {
  EXPECT_THAT(listing(grid_of({"--kernel", "mha.naive.serial", "--model-dim", "64", "--seq", "64:256:*2", "--batch",
                               "4,2,1", "--zip", "seq,batch"})),
              ElementsAre("b4_h1_sq64_skv64_d64 mha.naive.serial", "b2_h1_sq128_skv128_d64 mha.naive.serial",
                          "b1_h1_sq256_skv256_d64 mha.naive.serial"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "mha.naive.serial", "--model-dim", "64", "--seq", "64:256:*2",
                                        "--batch", "4,2", "--zip", "seq,batch"}); }),
              HasSubstr("equal lengths"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "mha.naive.serial", "--model-dim", "64", "--seq", "64",
                                        "--zip", "seq,batch"}); }),
              HasSubstr("--batch has no values to zip"));
}

TEST(SweepGrid, ProblemStringsInsteadOfShapeAxes) {
  const SweepGrid g = grid_of({"--kernel", "mha.naive.serial,cnn.conv1d.serial", "--problem",
                               "b1_h2_sq16_d32_causal,b2_h1_sq8_d64_ks5", "--threads", "1"});
  EXPECT_THAT(listing(g, true), ElementsAre("b1_h2_sq16_skv16_d32_causal mha.naive.serial 1",
                                      "b1_h1_sq16_skv16_d64_causal cnn.conv1d.serial 1",
                                      "b2_h1_sq8_skv8_d64 mha.naive.serial 1", "b2_h1_sq8_skv8_d64_ks5 cnn.conv1d.serial 1"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "all", "--problem", "b1_h2_sq16_d32", "--seq", "8"}); }),
              HasSubstr("--problem and --seq both given"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "all", "--problem", "b1_h2_sq16_d32", "--mask", "causal"}); }),
              HasSubstr("put the mask in the problem string"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "all", "--problem", "b1_h2_sq16_d32", "--layers", "cover"}); }),
              HasSubstr("--problem and --layers both given"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "all", "--problem", "b1_h2_sq16_x32"}); }), HasSubstr("--problem:"));
}

TEST(SweepGrid, BadAxisValuesNameTheOption) {
  auto error = [](std::vector<std::string> extra) {
    std::vector<std::string> args{"--kernel", "mha.naive.serial", "--model-dim", "64", "--seq", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error([&] { grid_of(args); });
  };
  EXPECT_THAT(error({"--mask", "casual"}), HasSubstr("--mask: 'casual' is not one of"));
  EXPECT_THAT(error({"--score", "dot"}), HasSubstr("--score:"));
  EXPECT_THAT(error({"--projections", "yes"}), HasSubstr("--projections: 'yes' is not one of on | off | both"));
  EXPECT_THAT(error({"--threads", "0"}), HasSubstr("--threads: 0 is out of range"));
  EXPECT_THAT(error({"--layers", "25"}), HasSubstr("--layers: 25 is out of range"));
  EXPECT_THAT(error({"--batch", "1,,2"}), HasSubstr("--batch: empty item"));
  EXPECT_THAT(error({"--heads", "x"}), HasSubstr("--heads: expected a whole number"));
  EXPECT_THAT(error({"--batch", "8:1:*2"}), HasSubstr("start 8 is above the stop 1"));
  EXPECT_THAT(error({"--zip", "seq,bacth"}), HasSubstr("did you mean 'batch'?"));
  EXPECT_THAT(error({"--zip", "kernel,seq"}), HasSubstr("'kernel' is not an axis that can be zipped"));
  EXPECT_THAT(usage_error([] { grid_of({"--kernel", "mha.naive.serial", "--heads", "2", "--seq", "8"}); }),
              HasSubstr("missing --head-dim"));
}

// Config files and presets.

class SweepConfig : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string path = (dir_ / ("sweep" + std::to_string(files_++) + ".cfg")).string();
    std::ofstream(path) << text;
    return path;
  }
  test_support::TempDir dir_{"sweep-config"};
  int files_ = 0;
};

TEST_F(SweepConfig, AConfigFileGivesEveryAxis) {
  const std::string path = write("# a comment\nkernel = mha.naive.serial\nmodel-dim = 64  # E\nseq = 8:16:*2\n\n"
                                 "threads = 1\nmin-time = 0.01\n");
  const po::variables_map vm = parse({"--config", path});
  EXPECT_EQ(vm["min-time"].as<std::string>(), "0.01");  // measurement keys pass through to the sweep
  const SweepGrid g = sweep_grid_from(vm);
  EXPECT_THAT(listing(g, true), ElementsAre("b1_h1_sq8_skv8_d64 mha.naive.serial 1", "b1_h1_sq16_skv16_d64 mha.naive.serial 1"));
  EXPECT_THAT(g.sources, ElementsAre(path));
}

TEST_F(SweepConfig, CommandLineOverridesConfigOverridesPreset) {
  // bert-base sets kernel and shapes; the config replaces (not extends) its kernel list and seq.
  const std::string path = write("kernel = mha.naive.serial\nseq = 24\nmin-time = 0.02\n");
  const SweepGrid from_config = grid_of({"--preset", "bert-base", "--config", path});
  for (const SweepCase& c : from_config.cases) {
    EXPECT_EQ(c.kernel->id(), "mha.naive.serial");
    EXPECT_EQ(c.problem.seq_q, 24);
  }
  EXPECT_THAT(from_config.sources, ElementsAre("preset:bert-base", path));
  EXPECT_EQ(from_config.preset, "bert-base");
  const po::variables_map vm = parse({"--preset", "bert-base", "--config", path, "--seq", "12,20", "--min-time", "0.03"});
  EXPECT_EQ(vm["min-time"].as<std::string>(), "0.03");
  std::set<std::int64_t> seqs;
  for (const SweepCase& c : sweep_grid_from(vm).cases) seqs.insert(c.problem.seq_q);
  EXPECT_EQ(seqs, (std::set<std::int64_t>{12, 20}));
  // Unset keys keep the preset's value and the options' defaults stay defaults.
  EXPECT_EQ(parse({"--preset", "bert-base", "--config", path})["min-time"].as<std::string>(), "0.02");
  EXPECT_TRUE(parse({"--config", write("kernel = all\n")})["min-time"].defaulted());
}

TEST_F(SweepConfig, AlternativesOverrideAsAWhole) {
  // Problem strings replace a preset's shape axes, and shape axes a file's problem strings.
  const SweepGrid strings = grid_of({"--preset", "bert-base", "--problem", "b1_h2_sq16_d32", "--kernel", "mha.naive.serial"});
  EXPECT_THAT(listing(strings), ElementsAre("b1_h2_sq16_skv16_d32 mha.naive.serial"));
  const std::string path = write("problem = b1_h2_sq16_d32\nkernel = mha.naive.serial\n");
  EXPECT_THAT(listing(grid_of({"--config", path, "--model-dim", "64", "--seq", "8"})),
              ElementsAre("b1_h1_sq8_skv8_d64 mha.naive.serial"));
  // A width replaces a lower source's split: 1024 is 16 heads of 64, not 1024 over bert-base's 12 heads.
  std::set<std::string> widths;
  for (const SweepCase& c : grid_of({"--preset", "bert-base", "--model-dim", "1024"}).cases)
    widths.insert("h" + std::to_string(c.problem.heads) + "_d" + std::to_string(c.problem.head_dim));
  EXPECT_EQ(widths, std::set<std::string>{"h16_d64"});
  // A split keeps a lower source's width unless it gives both halves.
  widths.clear();
  for (const SweepCase& c : grid_of({"--preset", "attention-vs-cnn-rnn", "--heads", "4", "--kernel", "mha.blocked.omp"}).cases)
    widths.insert("h" + std::to_string(c.problem.heads) + "_d" + std::to_string(c.problem.head_dim));
  EXPECT_EQ(widths, (std::set<std::string>{"h4_d128", "h4_d256"}));
  widths.clear();
  for (const SweepCase& c : grid_of({"--preset", "attention-vs-cnn-rnn", "--heads", "4", "--head-dim", "8", "--kernel",
                                     "mha.blocked.omp"}).cases)
    widths.insert("h" + std::to_string(c.problem.heads) + "_d" + std::to_string(c.problem.head_dim));
  EXPECT_EQ(widths, std::set<std::string>{"h4_d8"});
  // A preset's zip binds its axes' lengths; --zip none undoes it.
  EXPECT_THAT(usage_error([] { grid_of({"--preset", "quick", "--seq", "8,16,24"}); }), HasSubstr("equal lengths"));
  std::set<std::int64_t> seqs;
  for (const SweepCase& c : grid_of({"--preset", "quick", "--seq", "8,16,24", "--zip", "none"}).cases) seqs.insert(c.problem.seq_q);
  EXPECT_EQ(seqs, (std::set<std::int64_t>{8, 16, 24}));
}

TEST_F(SweepConfig, RepeatedKeysInOneFileCompose) {
  const std::string path = write("kernel = mha.naive.serial\nmodel-dim = 64\nseq = 8\nseq = 16\n");
  EXPECT_EQ(grid_of({"--config", path}).cases.size(), 2u);
}

TEST_F(SweepConfig, BadFilesNameTheFileAndLine) {
  std::string path = write("kernel = all\n\n# fine so far\nseqs = 8\n");
  std::string e = usage_error([&] { parse({"--config", path}); });
  EXPECT_THAT(e, HasSubstr(path + ":4: unknown key 'seqs'; did you mean 'seq'?"));
  path = write("kernel = all\nseq 8\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":2: expected 'key = value'"));
  path = write("[axes]\nseq = 8\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":2: unknown key 'axes.seq'"));
  path = write("preset = quick\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":1: 'preset' cannot be set in a file"));
  path = write("min-time = 1\nmin-time = 2\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ": option 'min-time' cannot be specified more than once"));
  // Values are checked as the file is read, so the message says where the bad one is.
  path = write("kernel = all\nseq = 64\nseq = 256:128:*2\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":3: --seq (range '256:128:*2'): the start"));
  path = write("kernel = mha.blocked.seiral\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":1: unknown kernel 'mha.blocked.seiral'"));
  path = write("heads =\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":1: --heads: empty item"));
  path = write("# zip\n\nzip = seq,sqe\n");
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr(path + ":3: --zip seq,sqe: 'sqe' is not an axis"));
  EXPECT_THAT(usage_error([&] { parse({"--config", write("[x]\nkernel = all\n")}); }), HasSubstr(":2: unknown key 'x.kernel'"));
  path = (dir_ / "missing.cfg").string();
  EXPECT_THAT(usage_error([&] { parse({"--config", path}); }), HasSubstr("--config: cannot read '" + path + "'"));
}

TEST(SweepPreset, UnknownPresetListsTheAvailableOnes) {
  const std::string e = usage_error([] { parse({"--preset", "quik"}); });
  EXPECT_THAT(e, HasSubstr("unknown preset 'quik'; did you mean 'quick'?"));
  EXPECT_THAT(e, HasSubstr("presets: "));
  for (const std::string& name : preset_names()) EXPECT_THAT(e, HasSubstr(name));
}

TEST(SweepPreset, TheProgramCarriesEveryFileOfHarnessInputs) {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(ATTNBENCH_SOURCE_DIR) + "/harness/inputs"))
    if (entry.path().extension() == ".cfg") {
      on_disk.insert(entry.path().stem().string());
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(preset_text(entry.path().stem().string()), text) << entry.path();
    }
  const std::vector<std::string> names = preset_names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), on_disk);
  for (const char* required : {"quick", "default", "bert-base", "gpt2-decode", "long-context", "attention-vs-cnn-rnn"})
    EXPECT_TRUE(on_disk.count(required)) << required;
}

TEST(SweepPreset, EveryPresetExpandsToValidCases) {
  for (const std::string& name : preset_names()) {
    SCOPED_TRACE(name);
    const SweepGrid g = grid_of({"--preset", name});
    EXPECT_FALSE(g.cases.empty());
    EXPECT_TRUE(g.excluded.empty()) << g.excluded.front();
    std::size_t supported = 0;
    for (const SweepCase& c : g.cases) {
      EXPECT_NO_THROW(c.problem.validate());
      supported += c.kernel->supports(c.problem).ok;
    }
    EXPECT_GT(supported, 0u);
  }
}

TEST(SweepPreset, ProgramAcceptsEveryPreset) {
  test_support::TempDir dir("sweep-presets");
  for (const std::string& name : preset_names()) {
    const auto r = test_support::run_command(std::string(ATTNBENCH_EXE) + " sweep --dry-run --preset " + name +
                                                 " --out " + (dir / (name + ".jsonl")).string(), dir.path());
    EXPECT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.err.find("left out"), std::string::npos) << name << ": " << r.err;
  }
}

TEST(SweepGrid, TheProgramReportsLeftOutPoints) {
  test_support::TempDir dir("sweep-left-out");
  const auto r = test_support::run_command(std::string(ATTNBENCH_EXE) + " sweep --dry-run --kernel mha.naive.serial "
                                           "--heads 4 --kv-heads 1,3 --head-dim 8 --seq 8 --out " +
                                               (dir / "out.jsonl").string(), dir.path());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("note: 1 grid point(s) left out: --kv-heads"));
}

TEST(SweepPreset, QuickRunsEveryFamilyAndTheMpiKernels) {
  const SweepGrid g = grid_of({"--preset", "quick"});
  std::map<Family, int> supported;
  std::set<std::string> mpi;
  for (const SweepCase& c : g.cases)
    if (c.kernel->supports(c.problem).ok) {
      ++supported[c.kernel->info().family];
      if (c.kernel->info().caps.parallelism == Parallelism::mpi) mpi.insert(c.kernel->id());
    }
  EXPECT_GT(supported[Family::attention], 0);
  EXPECT_GT(supported[Family::cnn], 0);
  EXPECT_GT(supported[Family::rnn], 0);
  EXPECT_EQ(mpi, (std::set<std::string>{"mha.tp.mpi", "mha.ring.mpi", "mha.ulysses.mpi"}));
}

}  // namespace
}  // namespace attnbench
