// `attnbench compare` as CI runs it: exit statuses (0 pass, 1 regression or correctness failure, 2 bad
// input), the console, Markdown and JSON outputs, --filter, Google Benchmark input, paths with spaces.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_compare_support.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using nlohmann::json;
using test_compare::noisy;
using test_compare::record;
using test_compare::write_lines;
using test_support::CommandResult;
using test_support::shell_quote;
using test_support::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::filesystem::path kData = std::filesystem::path(ATTNBENCH_SOURCE_DIR) / "tests/data/compare";

class CompareCli : public ::testing::Test {
 protected:
  CommandResult compare(const std::string& args) {
    return test_support::run_command(std::string(ATTNBENCH_EXE) + " compare " + args, dir_.path());
  }
  std::string file(const std::string& name, const std::vector<json>& records) {
    return shell_quote(write_lines(dir_, name, records).string());
  }
  // BASE: two kernels on one problem, 12 samples each. NEW: the same, with mha.b's median scaled.
  std::pair<std::string, std::string> two_kernels(double b_scale) {
    return {file("base.jsonl", {record("mha.a", "b1_h2_sq64_d16", noisy(1e-3, 12, 1)),
                                record("mha.b", "b1_h2_sq64_d16", noisy(2e-3, 12, 2))}),
            file("new.jsonl", {record("mha.a", "b1_h2_sq64_d16", noisy(1e-3, 12, 3)),
                               record("mha.b", "b1_h2_sq64_d16", noisy(2e-3 * b_scale, 12, 4))})};
  }
  TempDir dir_{"compare-cli"};
};

TEST_F(CompareCli, RegressionExitsOneAndSaysWhich) {
  const auto [base, fresh] = two_kernels(1.2);
  const CommandResult r = compare(base + " " + fresh);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("mha.b b1_h2_sq64_d16 t1 r1"));
  EXPECT_THAT(r.out, HasSubstr("slower"));
  EXPECT_THAT(r.out, HasSubstr("geometric mean of new/base per kernel"));
  EXPECT_THAT(r.out, HasSubstr("1 slower, 1 same of 2 cases -> exit 1"));
  EXPECT_EQ(r.err, "");
}

TEST_F(CompareCli, NoChangeExitsZero) {
  const auto [base, fresh] = two_kernels(1.0);
  const CommandResult r = compare(base + " " + fresh);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 same of 2 cases -> exit 0"));
}

TEST_F(CompareCli, ThresholdAndAlphaAreOptions) {
  const auto [base, fresh] = two_kernels(1.2);
  EXPECT_EQ(compare(base + " " + fresh + " --threshold 25%").code, 0);
  EXPECT_EQ(compare(base + " " + fresh + " --threshold 25").code, 0);
  EXPECT_EQ(compare(base + " " + fresh + " --alpha 1e-9").code, 0);  // nothing is that significant
}

TEST_F(CompareCli, CorrectnessFailureExitsOne) {
  json failed = record("mha.a", "b1_h2_sq64_d16", {});
  failed["status"] = "failed";
  failed["reason"] = "check failed: max rel error 0.2 > tolerance 1e-4";
  failed["check"] = {{"passed", false}, {"max_rel_error", 0.2}};
  const CommandResult r =
      compare(file("b.jsonl", {record("mha.a", "b1_h2_sq64_d16", noisy(1e-3, 8, 1))}) + " " + file("n.jsonl", {failed}));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("correctness-failed"));
  EXPECT_THAT(r.out, HasSubstr("max rel error 0.2"));
}

TEST_F(CompareCli, BadInputExitsTwoWithOneLineNamingTheFile) {
  const auto [base, fresh] = two_kernels(1.0);
  const auto expect_bad = [&](const std::string& args, const std::string& message) {
    const CommandResult r = compare(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "") << args;
  };
  expect_bad(base + " " + shell_quote((dir_ / "nope.jsonl").string()), "nope.jsonl: cannot be read");
  expect_bad(base + " " + shell_quote((kData / "gbench_truncated.json").string()), "gbench_truncated.json: not valid Google Benchmark JSON");
  expect_bad(base + " " + shell_quote((kData / "gbench_repetitions.json").string()),
             "base.jsonl) is attnbench results but NEW (" + (kData / "gbench_repetitions.json").string() +
                 ") is Google Benchmark JSON");
  expect_bad(base, "compare needs BASE and NEW result files");
  expect_bad(base + " " + fresh + " " + fresh, "compare takes two files");
  expect_bad(base + " " + fresh + " --format html", "--format: 'html' is not console, md or json");
  expect_bad(base + " " + fresh + " --threshold lots", "--threshold: expected a number");
  expect_bad(base + " " + fresh + " --alpha 0.9", "--alpha: 0.9 is out of range");
  expect_bad(base + " " + fresh + " --filter 'rnn.*'", "no case to compare after --filter");
  expect_bad(base + " " + fresh + " --filter 'a,,b'", "--filter");
  std::ofstream(dir_ / "junk.jsonl") << "not json\n";
  expect_bad(base + " " + shell_quote((dir_ / "junk.jsonl").string()), "junk.jsonl: no attnbench record");
}

TEST_F(CompareCli, MarkdownPutsTheOutcomeFirstAndEscapesNames) {
  const std::string base = file("b.jsonl", {record("mha.x|<b>*y*", "b1_h2_sq64_d16", noisy(1e-3, 10, 1))});
  const std::string fresh = file("n.jsonl", {record("mha.x|<b>*y*", "b1_h2_sq64_d16", noisy(1.3e-3, 10, 2))});
  const CommandResult r = compare(base + " " + fresh + " --format md");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.out, StartsWith("### attnbench compare: regression\n\n**1 slower of 1 case** (exit 1)\n"));
  EXPECT_THAT(r.out, HasSubstr("| case | base | new | ratio | CI | p | n | verdict | note |\n| --- |"));
  EXPECT_THAT(r.out, HasSubstr("| mha.x\\|\\<b\\>\\*y\\* b1_h2_sq64_d16 t1 r1 | "));
  EXPECT_THAT(r.out, HasSubstr("| **slower** |"));
  EXPECT_THAT(r.out, HasSubstr("| **all** | 1 |"));
  EXPECT_THAT(r.out, Not(HasSubstr("<b>")));
  // Every table row has as many cell borders as its table's header (no name broke one).
  const auto borders = [](const std::string& line) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < line.size(); ++i) n += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    return n;
  };
  std::istringstream lines(r.out);
  std::size_t header = 0, rows = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("| ", 0) != 0) {
      header = 0;
      continue;
    }
    if (header == 0) {
      header = borders(line);
      continue;
    }
    EXPECT_EQ(borders(line), header) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 2u + 3u);  // separator and one case; separator, the kernel and "all"
}

TEST_F(CompareCli, JsonIsOneDocumentForTools) {
  const auto [base, fresh] = two_kernels(1.2);
  const CommandResult r = compare(base + " " + fresh + " --format json");
  EXPECT_EQ(r.code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["schema"], "attnbench.compare");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["exit_status"], 1);
  EXPECT_DOUBLE_EQ(doc["threshold"].get<double>(), 0.05);
  EXPECT_EQ(doc["counts"]["slower"], 1);
  EXPECT_EQ(doc["counts"]["same"], 1);
  ASSERT_EQ(doc["cases"].size(), 2u);
  const json& b = doc["cases"][1];
  EXPECT_EQ(b["kernel"], "mha.b");
  EXPECT_EQ(b["problem"], "b1_h2_sq64_d16");
  EXPECT_EQ(b["verdict"], "slower");
  EXPECT_EQ(b["base"]["n"], 12);
  EXPECT_NEAR(b["ratio"].get<double>(), 1.2, 0.03);
  EXPECT_LT(b["ratio_ci"]["low"].get<double>(), b["ratio"].get<double>());
  EXPECT_LT(b["p_value"].get<double>(), 0.05);
  EXPECT_EQ(b["p_exact"], false);
  EXPECT_EQ(doc["summary"].back()["group"], "all");
  EXPECT_EQ(doc["base"]["provenance"][0]["commit"], "c1");
}

TEST_F(CompareCli, FilterKeepsMatchingCases) {
  const auto [base, fresh] = two_kernels(1.2);
  const CommandResult r = compare(base + " " + fresh + " --filter 'mha.a'");
  EXPECT_EQ(r.code, 0) << r.out << r.err;  // the slower mha.b is filtered out
  EXPECT_THAT(r.out, Not(HasSubstr("mha.b")));
  EXPECT_EQ(compare(base + " " + fresh + " --filter 'mha.*' --filter '*_sq64_*'").code, 1);
}

TEST_F(CompareCli, SeveralFilesPerSideAndPathsWithSpaces) {
  std::filesystem::create_directories(dir_ / "with space");
  const std::string b1 = shell_quote(write_lines(dir_, "with space/base 1.jsonl",
                                                 {record("mha.a", "p", noisy(1e-3, 3, 1))}).string());
  const std::string b2 = shell_quote(write_lines(dir_, "with space/base 2.jsonl",
                                                 {record("mha.a", "p", noisy(1e-3, 3, 2))}).string());
  const std::string n1 = shell_quote(write_lines(dir_, "with space/new 1.jsonl",
                                                 {record("mha.a", "p", noisy(1.5e-3, 6, 3))}).string());
  // 3 + 3 pooled base samples against 6: enough for the test (3 and 6 alone would be too).
  const CommandResult r = compare("--base " + b1 + " --base " + b2 + " --new " + n1);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("6/6"));
  EXPECT_THAT(r.out, HasSubstr("base 1.jsonl, "));
}

TEST_F(CompareCli, ByRecordPoolsRoundsAsOneValueEach) {
  std::vector<json> base, fresh;
  for (unsigned r = 0; r < 4; ++r) {
    base.push_back(record("mha.a", "p", noisy(1e-3, 10, 10 + r)));
    fresh.push_back(record("mha.a", "p", noisy(1.2e-3, 10, 20 + r)));
  }
  const CommandResult r = compare(file("b.jsonl", base) + " " + file("n.jsonl", fresh) + " --by-record --format json");
  EXPECT_EQ(r.code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["by_record"], true);
  EXPECT_EQ(doc["cases"][0]["base"]["n"], 4);
  EXPECT_EQ(doc["cases"][0]["verdict"], "slower");
  EXPECT_EQ(doc["cases"][0]["p_exact"], true);
}

TEST_F(CompareCli, ProvenanceDifferencesAreWarnedOnStderrForMachineFormats) {
  json other = record("mha.a", "p", noisy(1e-3, 8, 2));
  other["provenance"]["host"] = "elsewhere";
  const std::string base = file("b.jsonl", {record("mha.a", "p", noisy(1e-3, 8, 1))}), fresh = file("n.jsonl", {other});
  const CommandResult r = compare(base + " " + fresh + " --format json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: BASE and NEW come from different machines"));
  EXPECT_THAT(json::parse(r.out)["warnings"][0].get<std::string>(), HasSubstr("different machines"));
  EXPECT_THAT(compare(base + " " + fresh).out, HasSubstr("warning: BASE and NEW come from different machines"));
}

TEST_F(CompareCli, GoogleBenchmarkJsonAgainstItselfIsAllSame) {
  const std::string gb = shell_quote((kData / "gbench_repetitions.json").string());
  const CommandResult r = compare(gb + " " + gb);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("BM_Tile/64"));
  EXPECT_THAT(r.out, HasSubstr("too few samples (2 base, 2 new)"));  // BM_Kernel has 2 repetitions
  EXPECT_THAT(r.out, HasSubstr("base skipped: kernel does not support causal"));
  EXPECT_THAT(r.out, HasSubstr("1 same"));
  const std::string agg = shell_quote((kData / "gbench_aggregates_only.json").string());
  const CommandResult a = compare(agg + " " + agg);
  EXPECT_EQ(a.code, 0);
  EXPECT_THAT(a.out, HasSubstr("only aggregates in base"));
}

}  // namespace
}  // namespace attnbench
