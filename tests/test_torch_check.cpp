// An independent cross-check of attnbench's semantics against PyTorch: for each problem, the program
// runs the naive kernel and saves its inputs and output, and scripts/torch_check.py recomputes the
// forward pass with torch's own building blocks (masked softmax, scaled-dot-product attention,
// nn.MultiheadAttention) in float64 and compares by attnbench's metric. Skipped where Debian's
// /usr/bin/python3 cannot import torch.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "attnbench/tensor.hpp"
#include "npy.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

constexpr const char* kQuick = " --min-time 0 --min-reps 1 --warmup 0";

struct Result {
  int code = -1;       ///< exit status; -1 if killed by a signal
  std::string output;  ///< stdout and stderr together
};

using attnbench::test_support::kPython;
using attnbench::test_support::torch_available;

// Runs `cmd`; `output` is its stdout followed by its stderr (files in `dir`).
Result shell(const std::string& cmd, const fs::path& dir) {
  const attnbench::test_support::CommandResult r = attnbench::test_support::run_command(cmd, dir);
  return {r.code, r.out + r.err};
}

std::string script() { return std::string(ATTNBENCH_SOURCE_DIR) + "/scripts/torch_check.py"; }

struct Case {
  const char* name;     ///< test name suffix
  const char* problem;  ///< the problem string given to torch_check.py
  const char* args;     ///< how attnbench is told the problem; nullptr: "--problem <problem>"
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.problem; }

class TorchCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch_available())
      GTEST_SKIP() << kPython << " cannot import torch (install Debian's python3-torch) - cross-check skipped";
    dir_ = fs::temp_directory_path() / ("attnbench_torch_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    saved_ = dir_ / "saved";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs the naive kernel on the problem and saves inputs and output under saved_.
  void run_attnbench(const Case& c) {
    const std::string problem_args = c.args ? std::string(c.args) : std::string("--problem ") + c.problem;
    const Result r = shell(std::string(ATTNBENCH_EXE) + " run --kernel mha.naive.serial " + problem_args +
                               " --save-output " + saved_.string() + kQuick,
                           dir_);
    ASSERT_EQ(r.code, 0) << "attnbench failed on " << c.problem << ":\n" << r.output;
    ASSERT_TRUE(fs::exists(saved_ / "out.npy")) << r.output;
  }

  Result run_check(const Case& c) {
    return shell(std::string(kPython) + " " + script() + " " + saved_.string() + " --problem " + c.problem,
                 dir_);
  }

  fs::path dir_, saved_;
  static inline int counter_ = 0;
};

class TorchCheckAgrees : public TorchCheck, public ::testing::WithParamInterface<Case> {};

TEST_P(TorchCheckAgrees, NaiveKernelMatchesPyTorch) {
  const Case& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(run_attnbench(c));
  const Result r = run_check(c);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("PASS"), std::string::npos) << r.output;
}

// Every mask and score, cross-attention both ways (with causal), decode, grouped-query, dv != d,
// projections with and without grouped-query, and padding with a length of 0 (core and module).
const Case kCases[] = {
    {"causal_self", "b2_h4_sq16_d8_causal", nullptr},
    {"padding_random_lengths", "b3_h2_sq12_d8_padding", nullptr},
    {"multiplicative", "b2_h4_sq12_d8_multiplicative", nullptr},
    {"additive_causal", "b2_h4_sq12_d8_causal_additive", nullptr},
    {"cross_none", "b2_h2_sq10_skv17_d8", nullptr},
    {"cross_causal_sq_lt_skv", "b2_h2_sq7_skv20_d8_causal_multiplicative", nullptr},
    {"cross_causal_sq_gt_skv", "b2_h2_sq20_skv7_d8_causal", nullptr},  // first 13 rows fully masked
    {"decode", "b2_h4_sq1_skv40_d16", nullptr},
    {"decode_gqa_causal", "b1_h4_hk2_sq1_skv40_d16_causal_additive", nullptr},
    {"gqa_padding", "b2_h4_hk2_sq9_skv13_d8_padding", nullptr},
    {"value_dim", "b2_h2_sq8_skv11_d8_dv3_causal", nullptr},
    {"proj_causal_cross", "b2_h4_sq10_skv12_d8_causal_proj", nullptr},
    {"proj_gqa_dv_multiplicative", "b2_h4_hk2_sq8_skv11_d8_dv4_multiplicative_proj", nullptr},
    {"padding_zero_length", "b2_h2_sq6_skv5_d4_padding",
     "--batch 2 --heads 2 --seq 6 --seq-kv 5 --head-dim 4 --mask padding --kv-lengths 0,5"},
    {"proj_padding_zero_length", "b2_h4_sq5_skv7_d4_padding_proj",
     "--batch 2 --heads 4 --seq 5 --seq-kv 7 --head-dim 4 --mask padding --kv-lengths 7,0 --projections"},
};

INSTANTIATE_TEST_SUITE_P(Problems, TorchCheckAgrees, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// The zero-length cases must really have a zero length (else they would not test fully masked rows).
TEST_F(TorchCheck, KvLengthsZeroIsSaved) {
  const Case c = kCases[std::size(kCases) - 1];
  ASSERT_NO_FATAL_FAILURE(run_attnbench(c));
  const attnbench::Tensor lengths = attnbench::read_npy(saved_ / "lengths.npy");
  const auto l = lengths.as<std::int32_t>();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], 7);
  EXPECT_EQ(l[1], 0);
}

// The check can fail: a slightly wrong output is caught (exit 1, FAIL), whatever the formulation.
TEST_F(TorchCheck, CorruptedOutputFails) {
  const Case c{"corrupt", "b2_h4_sq10_skv12_d8_causal_proj", nullptr};
  ASSERT_NO_FATAL_FAILURE(run_attnbench(c));
  const Result corrupt = shell(std::string(kPython) + " -c \"import numpy as np; p='" + (saved_ / "out.npy").string() +
                                   "'; o=np.load(p); o[1, 3, 5] += 1e-2 * (1 + abs(o[1, 3, 5])); np.save(p, o)\"",
                               dir_);
  ASSERT_EQ(corrupt.code, 0) << corrupt.output;
  const Result r = run_check(c);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL"), std::string::npos) << r.output;
}

// Bad input is exit 2 with a message naming it, not a pass or a Python traceback.
TEST_F(TorchCheck, MissingFileIsBadInput) {
  const Case c{"missing", "b1_h2_sq4_d4", nullptr};
  ASSERT_NO_FATAL_FAILURE(run_attnbench(c));
  fs::remove(saved_ / "k.npy");
  const Result r = run_check(c);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("k.npy"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Traceback"), std::string::npos) << r.output;
}

}  // namespace
