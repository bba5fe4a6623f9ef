// Loading result sets (reports/result_set.hpp): attnbench JSON Lines and Google Benchmark JSON, pooling
// of repeated cases, and one-line errors for malformed or mismatched input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "result_set.hpp"
#include "test_compare_support.hpp"
#include "test_support.hpp"

namespace attnbench::reports {
namespace {

using nlohmann::json;
using test_support::TempDir;
using test_compare::record;
using test_compare::write_lines;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::filesystem::path kData = std::filesystem::path(ATTNBENCH_SOURCE_DIR) / "tests/data/compare";

std::string load_error(const std::vector<std::filesystem::path>& files) {
  try {
    load_result_set(files);
  } catch (const ResultSetError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ResultSet, PoolsRepeatedCasesInFileOrder) {
  TempDir dir("rs");
  const auto path = write_lines(dir, "a.jsonl",
                                {record("mha.x", "b1_h2_sq8_d4", {3, 4}), record("mha.y", "b1_h2_sq8_d4", {9}),
                                 record("mha.x", "b1_h2_sq8_d4", {5}), record("mha.x", "b1_h2_sq8_d4", {6}, "ok", 2)});
  const ResultSet set = load_result_set({path});
  EXPECT_EQ(set.format, ResultFormat::attnbench);
  ASSERT_EQ(set.cases.size(), 3u);
  EXPECT_EQ(set.cases[0].key.str(), "mha.x b1_h2_sq8_d4 t1 r1");
  EXPECT_THAT(set.cases[0].samples_s, ElementsAre(3, 4, 5));
  EXPECT_THAT(set.cases[0].record_medians_s, ElementsAre(3.5, 5));  // one per record
  EXPECT_EQ(set.cases[0].records.size(), 2u);
  EXPECT_THAT(set.cases[0].sources[1], HasSubstr("a.jsonl: record 3"));
  EXPECT_EQ(set.cases[2].key.threads, 2);
  ASSERT_EQ(set.provenance.size(), 1u);
  EXPECT_EQ(set.provenance[0].machine, "vm (EPYC, 2 cores)");
  EXPECT_EQ(set.provenance[0].commit, "c1");
  EXPECT_NE(set.find(CaseKey{"mha.y", "b1_h2_sq8_d4", 1, 1}), nullptr);
  EXPECT_EQ(set.find(CaseKey{"mha.y", "b1_h2_sq8_d4", 2, 1}), nullptr);
}

TEST(ResultSet, WorstStatusAndAnyFailedCheckWin) {
  TempDir dir("rs");
  json passed = record("mha.x", "p", {1, 2}), failed_check = record("mha.x", "p", {}, "failed");
  passed["check"] = {{"passed", true}, {"max_rel_error", 1e-6}};
  failed_check["check"] = {{"passed", false}, {"max_rel_error", 0.5}};
  const auto a = write_lines(dir, "a.jsonl", {passed, failed_check, record("mha.x", "p", {3})});
  const ResultSet set = load_result_set({a});
  ASSERT_EQ(set.cases.size(), 1u);
  EXPECT_EQ(set.cases[0].status, "failed");
  EXPECT_EQ(set.cases[0].reason, "because");
  EXPECT_EQ(set.cases[0].check_passed, false);
  EXPECT_DOUBLE_EQ(*set.cases[0].max_rel_error, 0.5);
  EXPECT_THAT(set.cases[0].samples_s, ElementsAre(1, 2, 3));

  const auto b = write_lines(dir, "b.jsonl", {record("mha.x", "p", {}, "skipped"), record("mha.x", "p", {7})});
  EXPECT_EQ(load_result_set({b}).cases[0].status, "ok");
}

TEST(ResultSet, ASweepRerunReplacesTheEarlierRecordsOfItsCase) {
  // `sweep --resume --retry-failed`: the failed record, then the retry that passed.
  TempDir dir("rs");
  json retry = record("mha.x", "p", {4, 5});
  retry["sweep"] = {{"case", 0}, {"rerun", true}};
  json other_build = record("mha.x", "p", {9});
  other_build["provenance"]["git_commit"] = "c0";
  const auto a = write_lines(dir, "a.jsonl", {other_build, record("mha.x", "p", {}, "failed"), record("mha.y", "p", {1}),
                                              retry});
  const ResultSet set = load_result_set({a});
  ASSERT_EQ(set.cases.size(), 2u);
  EXPECT_EQ(set.cases[0].status, "ok");  // the fixed failure no longer reads as failed
  EXPECT_EQ(set.cases[0].reason, "");
  EXPECT_THAT(set.cases[0].samples_s, ElementsAre(9, 4, 5));  // another build's record is not replaced
  EXPECT_EQ(set.cases[0].records.size(), 2u);
  EXPECT_THAT(set.cases[0].sources[1], HasSubstr("record 4"));
  // A rerun that failed in turn is what the case is now; records after it pool as usual.
  json failed_retry = record("mha.x", "p", {}, "failed");
  failed_retry["sweep"] = {{"rerun", true}};
  const auto b = write_lines(dir, "b.jsonl", {record("mha.x", "p", {1}), failed_retry, record("mha.x", "p", {2})});
  const ResultSet later = load_result_set({b});
  EXPECT_EQ(later.cases[0].status, "failed");
  EXPECT_THAT(later.cases[0].samples_s, ElementsAre(2));
  // Without the mark, repeated records pool (worst status wins).
  const auto c = write_lines(dir, "c.jsonl", {record("mha.x", "p", {}, "failed"), record("mha.x", "p", {3})});
  EXPECT_EQ(load_result_set({c}).cases[0].status, "failed");
  // A mark of another type (a hand-edited or foreign file) is not a rerun, and not an error either.
  json odd = record("mha.x", "p", {4});
  odd["sweep"] = {{"rerun", "yes"}};
  const auto d = write_lines(dir, "d.jsonl", {record("mha.x", "p", {}, "failed"), odd});
  EXPECT_EQ(load_result_set({d}).cases[0].status, "failed");
}

TEST(ResultSet, SeveralFilesPoolIntoOneSet) {
  TempDir dir("rs");
  const auto a = write_lines(dir, "a.jsonl", {record("mha.x", "p", {1})});
  const auto b = write_lines(dir, "b.jsonl", {record("mha.x", "p", {2})});
  const ResultSet set = load_result_set({a, b});
  EXPECT_THAT(set.cases.at(0).samples_s, ElementsAre(1, 2));
  EXPECT_EQ(set.files.size(), 2u);
}

TEST(ResultSet, TornLastLineIsAWarningNotAnError) {
  TempDir dir("rs");
  const auto path = write_lines(dir, "a.jsonl", {record("mha.x", "p", {1})});
  std::ofstream(path, std::ios::app) << R"({"schema_version": 1, "kern)";
  const ResultSet set = load_result_set({path});
  EXPECT_EQ(set.cases.size(), 1u);
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_THAT(set.warnings[0], HasSubstr("a.jsonl:2: torn last line"));
}

TEST(ResultSet, RejectsMalformedAttnbenchInputWithFileAndRecord) {
  TempDir dir("rs");
  json no_kernel = record("mha.x", "p", {1});
  no_kernel.erase("kernel");
  EXPECT_THAT(load_error({write_lines(dir, "k.jsonl", {record("a", "p", {1}), no_kernel})}),
              HasSubstr("k.jsonl: record 2: missing or non-string \"kernel\""));
  json v2 = record("mha.x", "p", {1});
  v2["schema_version"] = 2;
  EXPECT_THAT(load_error({write_lines(dir, "v.jsonl", {v2})}), HasSubstr("v.jsonl: record 1: schema_version 2"));
  json projection = {{"kind", "projection"}, {"schema_version", 1}};
  EXPECT_THAT(load_error({write_lines(dir, "p.jsonl", {projection})}), HasSubstr("\"projection\" record"));
  json bad_sample = record("mha.x", "p", {1});
  bad_sample["time"]["samples_s"] = {1.0, "x"};
  EXPECT_THAT(load_error({write_lines(dir, "s.jsonl", {bad_sample})}), HasSubstr("samples_s holds \"x\""));
  std::ofstream(dir / "garbage.jsonl") << "hello\nworld\n";
  EXPECT_THAT(load_error({dir / "garbage.jsonl"}), HasSubstr("garbage.jsonl: no attnbench record"));
  std::ofstream(dir / "empty.jsonl") << "\n";
  EXPECT_THAT(load_error({dir / "empty.jsonl"}), HasSubstr("empty.jsonl: is empty"));
  EXPECT_THAT(load_error({dir / "missing.jsonl"}), HasSubstr("missing.jsonl: cannot be read"));
  EXPECT_THAT(load_error({dir.path()}), HasSubstr("is a directory"));
}

TEST(ResultSet, RejectsMixedFormatsOnOneSide) {
  TempDir dir("rs");
  const auto a = write_lines(dir, "a.jsonl", {record("mha.x", "p", {1})});
  EXPECT_THAT(load_error({a, kData / "gbench_repetitions.json"}),
              HasSubstr("gbench_repetitions.json: is Google Benchmark JSON but"));
}

TEST(GbenchJson, IterationRowsAreSamplesAggregatesAreNot) {
  const ResultSet set = load_result_set({kData / "gbench_repetitions.json"});
  EXPECT_EQ(set.format, ResultFormat::gbench);
  ASSERT_EQ(set.cases.size(), 3u);
  const ResultCase& tile = set.cases[0];
  EXPECT_EQ(tile.key.str(), "BM_Tile/64");
  ASSERT_EQ(tile.samples_s.size(), 4u);
  EXPECT_EQ(tile.record_medians_s, tile.samples_s);  // each row is one repetition
  EXPECT_NEAR(tile.samples_s[1], 1.1e-6, 1e-18);
  EXPECT_FALSE(tile.aggregate_median_s.has_value());  // samples exist: the aggregate is not needed
  EXPECT_EQ(tile.records.size(), 6u);
  const ResultCase& kernel = set.cases[1];
  EXPECT_EQ(kernel.key.threads, 2);
  EXPECT_NEAR(kernel.samples_s[0], 2.5e-3, 1e-15);  // real time, not the two threads' CPU time
  EXPECT_EQ(set.cases[2].status, "skipped");
  EXPECT_EQ(set.cases[2].reason, "kernel does not support causal");
  EXPECT_TRUE(set.cases[2].samples_s.empty());
  ASSERT_EQ(set.provenance.size(), 1u);
  EXPECT_EQ(set.provenance[0].machine, "dev-vm (2 cores, 2450 MHz)");
  EXPECT_EQ(set.provenance[0].commit, "abc123");
}

TEST(GbenchJson, AggregatesOnlyGiveAMedianWithoutSamples) {
  const ResultSet set = load_result_set({kData / "gbench_aggregates_only.json"});
  ASSERT_EQ(set.cases.size(), 1u);
  EXPECT_TRUE(set.cases[0].samples_s.empty());
  EXPECT_NEAR(*set.cases[0].aggregate_median_s, 0.98e-6, 1e-18);
}

TEST(GbenchJson, MalformedFilesAreOneLineErrors) {
  const std::string truncated = load_error({kData / "gbench_truncated.json"});
  EXPECT_THAT(truncated, HasSubstr("gbench_truncated.json: not valid Google Benchmark JSON: parse error at line"));
  EXPECT_EQ(truncated.find('\n'), std::string::npos);
  EXPECT_THAT(load_error({kData / "gbench_bad_unit.json"}), HasSubstr("benchmark 1: unknown time_unit \"fortnights\""));
  TempDir dir("gb");
  std::ofstream(dir / "nobench.json") << "{\n \"context\": {}\n}\n";
  EXPECT_THAT(load_error({dir / "nobench.json"}), HasSubstr("nobench.json: no \"benchmarks\" array"));
  std::ofstream(dir / "none.json") << "{\n \"context\": {}, \"benchmarks\": []\n}\n";
  EXPECT_THAT(load_error({dir / "none.json"}), HasSubstr("holds no benchmark"));
  std::ofstream(dir / "noname.json") << R"({"benchmarks": [{"real_time": 1, "time_unit": "ns"}]})";
  EXPECT_THAT(load_error({dir / "noname.json"}), HasSubstr("benchmark 1: missing or non-string \"name\""));
  // A number beyond a double's range is nlohmann's out_of_range, not a parse_error (found by fuzzing).
  std::ofstream(dir / "huge.json") << "{\n \"context\": {\"mhz_per_cpu\": 2e329}, \"benchmarks\": []\n}\n";
  EXPECT_THAT(load_error({dir / "huge.json"}), HasSubstr("huge.json: not valid Google Benchmark JSON: number overflow"));
}

TEST(GbenchJson, AUserCounterNamedThreadsDoesNotBreakTheRow) {
  // Google Benchmark writes a counter named "threads" under the same key as its own; the last wins.
  TempDir dir("gb");
  std::ofstream(dir / "counter.json") << R"({"benchmarks": [
    {"name": "a", "run_type": "iteration", "threads": 1, "real_time": 1, "time_unit": "ns", "threads": 0.0},
    {"name": "b/threads:2", "run_type": "iteration", "threads": 2.0, "real_time": 1, "time_unit": "ns"}]})";
  const ResultSet set = load_result_set({dir / "counter.json"});
  ASSERT_EQ(set.cases.size(), 2u);
  EXPECT_EQ(set.cases[0].key.threads, 1);
  EXPECT_EQ(set.cases[1].key.threads, 2);
}

TEST(GbenchJson, DetectsFormatFromContent) {
  TempDir dir("gb");
  std::ofstream(dir / "compact.txt") << R"({"benchmarks": [{"name": "x", "real_time": 1, "time_unit": "ns"}]})";
  EXPECT_EQ(detect_format(dir / "compact.txt"), ResultFormat::gbench);
  EXPECT_EQ(detect_format(kData / "gbench_truncated.json"), ResultFormat::gbench);
  std::ofstream(dir / "one.jsonl") << record("mha.x", "p", {1}).dump() << "\n";
  EXPECT_EQ(detect_format(dir / "one.jsonl"), ResultFormat::attnbench);
}

}  // namespace
}  // namespace attnbench::reports
