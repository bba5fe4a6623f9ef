// The attnbench program as users drive it: exit codes, messages for bad input, records written.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "attnbench/problem.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "npy.hpp"
#include "tensor_dir.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace attnbench;

namespace {

using attnbench::test_support::slurp;
using CliResult = attnbench::test_support::CommandResult;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attnbench_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the program with `args` (a shell word list).
  CliResult run(const std::string& args) {
    return attnbench::test_support::run_command(std::string(ATTNBENCH_EXE) + " " + args, dir_);
  }

  fs::path dir_;
};

constexpr const char* kQuick = " --min-time 0 --min-reps 2 --warmup 0";

// --- bad input: exit 2 and a one-line message naming the problem ------------------------------

struct BadInput {
  const char* name;
  const char* args;
  const char* expected;  ///< substring of the message
};

class CliBadInput : public Cli, public ::testing::WithParamInterface<BadInput> {};

TEST_P(CliBadInput, ExitsTwoWithOneLineMessage) {
  const BadInput& c = GetParam();
  const CliResult r = run(c.args);
  EXPECT_EQ(r.code, 2) << c.args << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << r.err;
  EXPECT_NE(r.err.find("error"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
}

const BadInput kBadInputs[] = {
    {"unknown_command", "rnu", "did you mean 'run'"},
    {"missing_kernel", "run --heads 2 --seq 8 --head-dim 8", "missing --kernel"},
    {"unknown_kernel", "run --kernel mha.naive.seral --problem b1_h1_sq8_d8", "closest: mha.naive.serial"},
    {"unknown_glob", "run --kernel 'zzz.*' --problem b1_h1_sq8_d8", "unknown kernel"},
    {"heads_zero", "run --kernel mha.naive.serial --heads 0 --seq 8 --head-dim 8", "--heads"},
    {"heads_negative", "run --kernel mha.naive.serial --heads=-3 --seq 8 --head-dim 8", "--heads"},
    {"heads_not_number", "run --kernel mha.naive.serial --heads abc --seq 8 --head-dim 8", "whole number"},
    {"seq_fraction", "run --kernel mha.naive.serial --heads 2 --seq 1.5 --head-dim 8", "--seq"},
    {"seq_kv_zero", "run --kernel mha.naive.serial --heads 2 --seq 4 --seq-kv 0 --head-dim 8", "--seq-kv"},
    {"head_dim_huge", "run --kernel mha.naive.serial --heads 2 --seq 4 --head-dim 99999999999", "--head-dim"},
    {"kv_heads_not_dividing", "run --kernel mha.naive.serial --heads 8 --kv-heads 3 --seq 8 --head-dim 8",
     "must divide heads"},
    {"missing_heads", "run --kernel mha.naive.serial --seq 8 --head-dim 8", "missing --heads"},
    {"misspelled_option", "run --kernel mha.naive.serial --hedas 2 --seq 8 --head-dim 8", "did you mean '--heads'"},
    {"bad_mask", "run --kernel mha.naive.serial --heads 2 --seq 8 --head-dim 8 --mask diagonal",
     "valid: none|causal|padding"},
    {"bad_score", "run --kernel mha.naive.serial --heads 2 --seq 8 --head-dim 8 --score cosine", "--score"},
    {"bad_problem_token", "run --kernel mha.naive.serial --problem b1_h16_sq64_d64_causl", "unknown token 'causl'"},
    {"bad_problem_number", "run --kernel mha.naive.serial --problem b1_hX_sq64_d64", "--problem"},
    {"problem_missing_size", "run --kernel mha.naive.serial --problem b1_h16_d64", "missing seq_q"},
    {"problem_and_flags", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --heads 2", "both given"},
    {"positional", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 extra", "positional"},
    {"too_much_memory", "run --kernel mha.naive.serial --batch 64 --heads 16 --seq 65536 --head-dim 128",
     "is available"},
    {"unwritable_out", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --out /nonexistent/dir/r.jsonl",
     "/nonexistent/dir/r.jsonl"},
    {"out_is_directory", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --out /tmp", "--out"},
    {"inputs_missing_dir", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --inputs /nonexistent/in",
     "/nonexistent/in"},
    {"kv_lengths_without_padding",
     "run --kernel mha.naive.serial --heads 2 --seq 8 --head-dim 8 --kv-lengths 3", "--mask padding"},
    {"kv_lengths_count", "run --kernel mha.naive.serial --batch 2 --heads 2 --seq 8 --head-dim 8 --mask padding "
                         "--kv-lengths 3", "one per batch entry"},
    {"kv_lengths_range", "run --kernel mha.naive.serial --heads 2 --seq 8 --head-dim 8 --mask padding "
                         "--kv-lengths 9", "--kv-lengths"},
    {"save_output_two_kernels", "run --kernel all --problem b1_h1_sq8_d8 --save-output /tmp/x", "exactly one kernel"},
    {"reps_contradict", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --min-reps 10 --max-reps 5",
     "--max-reps"},
    {"time_contradict", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --min-time 5 --max-time 1",
     "--max-time"},
    {"threads_zero", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --threads 0", "--threads"},
    {"min_time_text", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --min-time soon", "--min-time"},
    {"max_time_zero", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --max-time 0", "--max-time"},
    {"ci_target_negative", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --ci-target=-0.01", "--ci-target"},
    {"ci_target_too_wide", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --ci-target 0.9", "--ci-target"},
    {"ci_target_text", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --ci-target tight", "--ci-target"},
    {"cache_mode", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --cache warm", "valid: hot|cold"},
    {"pin_mode", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --pin close", "valid: none|compact|spread"},
    {"interleave_seed_alone", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --interleave-seed 3",
     "add --interleave"},
    {"interleave_seed_text", "run --kernel mha.naive.serial --problem b1_h1_sq8_d8 --interleave --interleave-seed x",
     "--interleave-seed"},
    {"list_no_match", "list --kernel 'nothing.*'", "no kernel matches"},
    {"list_bad_option", "list --jsno", "did you mean '--json'"},
};

INSTANTIATE_TEST_SUITE_P(All, CliBadInput, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) { return std::string(info.param.name); });

// --- bad input files ----------------------------------------------------------------------------

TEST_F(Cli, InputsWithWrongShapeAreRefused) {
  const Problem p = parse_problem("b1_h2_sq8_d8");
  save_tensors(dir_ / "in", make_inputs(parse_problem("b1_h2_sq9_d8"), 1), nullptr);
  const CliResult r = run("run --kernel mha.naive.serial --problem " + p.str() + " --inputs " + (dir_ / "in").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("q.npy"), std::string::npos) << r.err;
}

TEST_F(Cli, PaddingInputsWithoutLengthsAreRefused) {
  save_tensors(dir_ / "in", make_inputs(parse_problem("b2_h2_sq8_d8"), 1), nullptr);
  const CliResult r = run("run --kernel mha.naive.serial --problem b2_h2_sq8_d8_padding --inputs " + (dir_ / "in").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("lengths"), std::string::npos) << r.err;
}

TEST_F(Cli, TruncatedAndWrongDtypeInputsAreRefused) {
  const Problem p = parse_problem("b1_h2_sq8_d8");
  save_tensors(dir_ / "in", make_inputs(p, 1), nullptr);
  fs::resize_file(dir_ / "in" / "k.npy", fs::file_size(dir_ / "in" / "k.npy") - 10);
  CliResult r = run("run --kernel mha.naive.serial --problem " + p.str() + " --inputs " + (dir_ / "in").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("k.npy"), std::string::npos) << r.err;

  save_tensors(dir_ / "in", make_inputs(p, 1), nullptr);
  write_npy(dir_ / "in" / "v.npy", Tensor(DataType::f64, {1, 8, 2, 8}));
  r = run("run --kernel mha.naive.serial --problem " + p.str() + " --inputs " + (dir_ / "in").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("v.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("float64"), std::string::npos) << r.err;
}

TEST_F(Cli, NonFiniteInputsAreRefused) {
  const Problem p = parse_problem("b1_h2_sq8_d8");
  TensorSet in = make_inputs(p, 1);
  in.at("q").as<float>()[5] = NAN;
  save_tensors(dir_ / "in", in, nullptr);
  const CliResult r = run("run --kernel mha.naive.serial --problem " + p.str() + " --inputs " + (dir_ / "in").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("non-finite"), std::string::npos) << r.err;
}

TEST_F(Cli, ExistingResultsAreNeverDamagedByBadInput) {
  const fs::path results = dir_ / "r.jsonl";
  std::ofstream(results) << "{\"schema_version\":1,\"kernel\":\"earlier\"}\n";
  const std::string before = slurp(results);
  const CliResult r = run("run --kernel mha.naive.serial --heads 0 --seq 8 --head-dim 8 --out " + results.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(slurp(results), before);
}

// --- what works ---------------------------------------------------------------------------------

TEST_F(Cli, HelpAndVersion) {
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("--version").code, 0);
  const CliResult r = run("run --help");
  EXPECT_EQ(r.code, 0);
  for (const char* option : {"--kernel", "--problem", "--check", "--out", "--inputs", "--save-output", "--threads"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  EXPECT_EQ(run("").code, 2);  // no command: usage on stderr
}

TEST_F(Cli, ListShowsEveryKernelAsTableAndJson) {
  CliResult r = run("list");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("mha.naive.serial"), std::string::npos);
  r = run("list --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json all = nlohmann::json::parse(r.out);
  ASSERT_TRUE(all.is_array());
  bool found = false;
  for (const auto& k : all) {
    EXPECT_TRUE(k.contains("id") && k.contains("family") && k.contains("masks") && k.contains("tolerance"));
    found |= k["id"] == "mha.naive.serial";
  }
  EXPECT_TRUE(found);
}

TEST_F(Cli, RunWithCheckWritesOneRecordPerKernel) {
  const fs::path results = dir_ / "r.jsonl";
  std::ofstream(results) << "{\"schema_version\":1,\"kernel\":\"earlier\"}";  // torn last line, no newline
  const CliResult r =
      run("run --kernel all --problem b2_h3_hk1_sq7_skv33_d24_dv8_padding --check --out " + results.string() + kQuick);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(results);
  std::string line;
  int records = 0, skipped = 0;
  std::getline(f, line);  // the earlier record, kept intact
  EXPECT_EQ(line, "{\"schema_version\":1,\"kernel\":\"earlier\"}");
  while (std::getline(f, line)) {
    const nlohmann::json rec = nlohmann::json::parse(line);
    ++records;
    EXPECT_EQ(rec["schema_version"], 1);
    if (rec["status"] == "skipped") {  // e.g. the CNN/RNN baselines on an attention-only shape: recorded, with why
      EXPECT_FALSE(rec["reason"].get<std::string>().empty()) << rec["kernel"];
      ++skipped;
      continue;
    }
    EXPECT_EQ(rec["status"], "ok");
    EXPECT_EQ(rec["problem_str"], "b2_h3_hk1_sq7_skv33_d24_dv8_padding");
    EXPECT_EQ(rec["problem"]["kv_heads"], 1);
    EXPECT_TRUE(rec["check"]["passed"].get<bool>());
    EXPECT_GT(rec["time"]["median_s"].get<double>(), 0);
    EXPECT_GE(rec["time"]["repetitions"].get<int>(), 2);
    EXPECT_GT(rec["rate"]["gflops"].get<double>(), 0);
    for (const char* key : {"version", "git_commit", "compiler", "flags", "cpu", "cores", "host", "time"})
      EXPECT_TRUE(rec["provenance"].contains(key)) << key;
  }
  int supporting = 0;
  for (const Kernel* k : registry()) supporting += k->supports(parse_problem("b2_h3_hk1_sq7_skv33_d24_dv8_padding")).ok;
  EXPECT_EQ(records - skipped, supporting);  // one ok record per registered kernel that supports the problem
  EXPECT_EQ(records, int(registry().size()));
  EXPECT_NE(r.out.find("mha.naive.serial"), std::string::npos);
}

TEST_F(Cli, SaveOutputThenInputsReproducesTheOutput) {
  const std::string problem = " --problem b2_h4_sq9_skv13_d8_causal_multiplicative_proj";
  CliResult r = run("run --kernel mha.naive.serial" + problem + " --save-output " + (dir_ / "a").string() + kQuick);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"q", "k", "v", "w_q", "b_o", "w_score", "out"})
    EXPECT_TRUE(fs::exists(dir_ / "a" / (std::string(name) + ".npy"))) << name;
  fs::remove(dir_ / "a" / "w_score.npy");  // a missing weight is regenerated from the same seed
  r = run("run --kernel mha.naive.serial" + problem + " --check --inputs " + (dir_ / "a").string() + " --save-output " +
          (dir_ / "b").string() + kQuick);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("w_score"), std::string::npos) << "the regenerated weight is reported";
  const Tensor a = read_npy(dir_ / "a" / "out.npy"), b = read_npy(dir_ / "b" / "out.npy");
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.bytes()), 0);
}

TEST_F(Cli, CheckFailureExitsOne) {
  // Inputs near the top of the fp32 range: the fp32 projections overflow, the float64 reference
  // does not, so the check must fail (exit 1) and the record says why.
  const Problem p = parse_problem("b1_h2_sq4_d4_proj");
  TensorSet in = make_inputs(p, 3);
  for (float& x : in.at("q").as<float>()) x = 3e38f;
  save_tensors(dir_ / "in", in, nullptr);
  const fs::path results = dir_ / "r.jsonl";
  const CliResult r = run("run --kernel mha.naive.serial --problem " + p.str() + " --check --inputs " +
                          (dir_ / "in").string() + " --out " + results.string() + kQuick);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const nlohmann::json rec = nlohmann::json::parse(slurp(results));
  EXPECT_EQ(rec["status"], "failed");
  EXPECT_FALSE(rec["check"]["passed"].get<bool>());
  EXPECT_NE(rec["reason"].get<std::string>().find("check failed"), std::string::npos);
}

}  // namespace
