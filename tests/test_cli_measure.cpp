// `attnbench run` with the measurement options end to end: what the records say about how they were
// measured (stopping rule, warm-up, cache, interleaving, pinning). Counts and fields only, no timings.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

class CliMeasure : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attnbench_cli_measure_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Runs `attnbench run` with `args` writing to out.jsonl; returns the records (fails on exit != 0).
  std::vector<nlohmann::json> run(const std::string& args) {
    const auto r = attnbench::test_support::run_command(
        std::string(ATTNBENCH_EXE) + " run " + args + " --out " + (dir_ / "out.jsonl").string(), dir_);
    EXPECT_EQ(r.code, 0) << r.err;
    last_err_ = r.err;
    std::vector<nlohmann::json> records;
    std::ifstream in(dir_ / "out.jsonl");
    for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
    return records;
  }

  fs::path dir_;
  std::string last_err_;
};

TEST_F(CliMeasure, RecordsSayHowTheyWereMeasured) {
  const auto records = run("--kernel mha.naive.serial --problem b1_h2_sq9_d8 --warmup 2 --min-reps 3 --max-reps 3 "
                           "--min-time 0 --ci-target 0");
  ASSERT_EQ(records.size(), 1u);
  const nlohmann::json& t = records[0]["time"];
  EXPECT_EQ(t["repetitions"], 3);
  EXPECT_GE(t["warmup_calls"].get<int>(), 2);
  EXPECT_GT(t["warmup_s"].get<double>(), 0);
  EXPECT_TRUE(t["ci_target"].is_null());
  EXPECT_TRUE(t["target_met"].is_null());
  EXPECT_EQ(t["stop"], "minimum");
  EXPECT_EQ(t["cache"], "hot");
  EXPECT_EQ(t["cache_flush_bytes"], 0);
  EXPECT_TRUE(t["interleave"].is_null());
  EXPECT_EQ(records[0]["provenance"]["pinning"]["mode"], "none");
}

TEST_F(CliMeasure, TheBudgetEndsAnUnmetTargetAndTheRecordSaysSo) {
  // An unreachable target (+-0.0001%) within 3 repetitions: max_reps ends it.
  const auto records = run("--kernel mha.naive.serial --problem b1_h2_sq9_d8 --warmup 0 --min-reps 1 --max-reps 3 "
                           "--min-time 0 --ci-target 0.000001");
  ASSERT_EQ(records.size(), 1u);
  const nlohmann::json& t = records[0]["time"];
  EXPECT_EQ(t["stop"], "max_reps");
  EXPECT_EQ(t["target_met"], false);
  EXPECT_EQ(t["ci_target"], 0.000001);
}

TEST_F(CliMeasure, InterleavedColdPinnedRun) {
  const auto records = run("--kernel mha.naive.serial,mha.blocked.serial,mha.blocked.omp --problem b1_h2_sq9_d8 "
                           "--threads 1 --check --warmup 0 --min-reps 4 --max-reps 4 --min-time 0 --ci-target 0 "
                           "--cache cold --interleave --interleave-seed 11 --pin compact");
  ASSERT_EQ(records.size(), 3u);
  for (const nlohmann::json& r : records) {
    ASSERT_EQ(r["status"], "ok") << r["reason"];
    const nlohmann::json& t = r["time"];
    EXPECT_EQ(t["interleave"], (nlohmann::json{{"seed", 11}, {"kernels", 3}, {"rounds", 4}}));
    EXPECT_EQ(t["cache"], "cold");
    EXPECT_GT(t["cache_flush_bytes"].get<long long>(), 0);
    const nlohmann::json& pin = r["provenance"]["pinning"];
    EXPECT_EQ(pin["mode"], "compact");
    EXPECT_EQ(pin["applied"], true) << pin["reason"];  // 1 thread: any machine has a CPU for it
    EXPECT_EQ(pin["cpus"].size(), 1u);
  }
  EXPECT_EQ(records[0]["kernel"], "mha.naive.serial");  // outcomes in the order given
  EXPECT_EQ(records[2]["kernel"], "mha.blocked.omp");
}

TEST_F(CliMeasure, PinningMoreThreadsThanCpusIsReportedNotFatal) {
  const auto records = run("--kernel mha.blocked.omp --problem b1_h2_sq9_d8 --threads 4096 --warmup 0 "
                           "--min-reps 1 --max-reps 1 --min-time 0 --ci-target 0 --pin spread");
  ASSERT_EQ(records.size(), 1u);
  const nlohmann::json& pin = records[0]["provenance"]["pinning"];
  EXPECT_EQ(pin["applied"], false);
  EXPECT_NE(pin["reason"].get<std::string>().find("4096 threads"), std::string::npos) << pin;
  EXPECT_NE(last_err_.find("--pin spread not applied"), std::string::npos) << last_err_;
}

}  // namespace
