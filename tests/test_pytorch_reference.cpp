// scripts/pytorch_reference.py: PyTorch's attention (torch.sdpa, torch.mha, torch.naive) measured on
// attnbench problems and written as attnbench records. These tests hold it to the results contract
// (docs/RESULTS.md): every record parses, carries schema_version 1 and the contract's keys, has the
// same key set as a record attnbench itself writes for the same problem and is read by attnbench's
// own reader; statuses, checks, the cost model and the timing statistics agree with attnbench's; bad
// input is exit 2 with one line. Skipped where Debian's /usr/bin/python3 cannot import torch.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "problem_json.hpp"
#include "results_file.hpp"
#include "stats.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The three problems of the main run: a causal core, a cross-attention padding core, a full module.
constexpr const char* kProblems = "b1_h2_sq16_d8_causal,b2_h2_sq9_skv13_d8_padding,b1_h4_sq8_d8_proj";
constexpr const char* kQuick = " --min-time 0 --min-reps 2";

using Result = attnbench::test_support::CommandResult;
using attnbench::test_support::kPython;
using attnbench::test_support::slurp;
using attnbench::test_support::torch_available;
std::string quote(const std::string& s) { return attnbench::test_support::shell_quote(s); }
Result shell(const std::string& cmd, const fs::path& dir) { return attnbench::test_support::run_command(cmd, dir); }

std::string script() { return std::string(ATTNBENCH_SOURCE_DIR) + "/scripts/pytorch_reference.py"; }

Result pytorch_reference(const std::string& args, const fs::path& dir) {
  return shell(std::string(kPython) + " " + quote(script()) + " " + args, dir);
}

Result attnbench(const std::string& args, const fs::path& dir) {
  return shell(quote(ATTNBENCH_EXE) + " " + args, dir);
}

std::vector<json> parse_lines(const std::string& text) {
  std::vector<json> records;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    EXPECT_FALSE(line.empty()) << "empty line in the results file";
    json r = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(r.is_object()) << "not a JSON object: " << line;
    records.push_back(std::move(r));
  }
  return records;
}

/// Every key path of a record ("time.median_s"), descending into objects. The contents of
/// provenance.libraries name the libraries of each tool (boost, tbb vs torch, numpy), so only the
/// key itself is compared there.
std::set<std::string> key_paths(const json& j, const std::string& prefix = "") {
  std::set<std::string> keys;
  for (const auto& [key, value] : j.items()) {
    const std::string path = prefix + key;
    keys.insert(path);
    if (value.is_object() && path != "provenance.libraries") keys.merge(key_paths(value, path + "."));
  }
  return keys;
}

// The contract of docs/RESULTS.md (and DESIGN.md's minimum), field by field.
const std::vector<std::string> kContractKeys = {
    "schema_version", "kernel", "family", "problem", "problem_str", "threads", "ranks", "status", "reason",
    "inputs", "seed", "work", "time", "setup_s", "rate", "memory", "check", "comm", "provenance",
    "problem.batch", "problem.heads", "problem.kv_heads", "problem.seq_q", "problem.seq_kv", "problem.head_dim",
    "problem.value_dim", "problem.mask", "problem.score", "problem.projections", "problem.dtype",
    "work.flops", "work.flops_score", "work.flops_weighting", "work.flops_projections", "work.bytes",
    "work.query_tokens", "memory.peak_rss_bytes", "memory.model_bytes", "memory.workspace_bytes", "comm.bytes",
    "comm.seconds", "provenance.version", "provenance.git_commit", "provenance.compiler", "provenance.flags",
    "provenance.build_type", "provenance.cpu", "provenance.cores", "provenance.cpu_flags", "provenance.host",
    "provenance.os", "provenance.threads", "provenance.ranks", "provenance.time", "provenance.libraries"};
const std::vector<std::string> kTimedKeys = {
    "time.median_s", "time.mean_s", "time.stddev_s", "time.min_s", "time.max_s", "time.ci95_low_s",
    "time.ci95_high_s", "time.ci95_confidence", "time.repetitions", "time.samples_s", "rate.gflops",
    "rate.gbytes_per_s", "rate.tokens_per_s", "rate.pct_peak", "check.max_rel_error", "check.max_abs_error",
    "check.tolerance", "check.passed"};

// (problem_str as attnbench prints it, kernel) -> expected status of the main run.
const std::map<std::pair<std::string, std::string>, std::string> kExpected = {
    {{"b1_h2_sq16_skv16_d8_causal", "torch.sdpa"}, "ok"},
    {{"b1_h2_sq16_skv16_d8_causal", "torch.mha"}, "skipped"},  // the core: no projections to give the module
    {{"b1_h2_sq16_skv16_d8_causal", "torch.naive"}, "ok"},
    {{"b2_h2_sq9_skv13_d8_padding", "torch.sdpa"}, "ok"},
    {{"b2_h2_sq9_skv13_d8_padding", "torch.mha"}, "skipped"},
    {{"b2_h2_sq9_skv13_d8_padding", "torch.naive"}, "ok"},
    {{"b1_h4_sq8_skv8_d8_proj", "torch.sdpa"}, "skipped"},  // the full module is torch.mha's
    {{"b1_h4_sq8_skv8_d8_proj", "torch.mha"}, "ok"},
    {{"b1_h4_sq8_skv8_d8_proj", "torch.naive"}, "skipped"},
};

class PytorchReference : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch_available())
      GTEST_SKIP() << kPython << " cannot import torch (install Debian's python3-torch) - skipped";
    tmp_ = std::make_unique<attnbench::test_support::TempDir>("pytorch-ref");
  }

  /// The main run: the three problems, every attention kernel, checked, into torch.jsonl.
  fs::path main_run() {
    const fs::path out = dir() / "torch.jsonl";
    const Result r = pytorch_reference(std::string("run --problem ") + kProblems + " --kernel attention --check" + kQuick +
                                           " --out " + quote(out.string()),
                                       dir());
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
    for (const auto& [key, status] : kExpected) EXPECT_NE(r.out.find(key.first), std::string::npos) << r.out;
    return out;
  }

  const fs::path& dir() const { return tmp_->path(); }

  std::unique_ptr<attnbench::test_support::TempDir> tmp_;
};

TEST_F(PytorchReference, RunWritesContractRecordsWithExpectedStatusesAndPassingChecks) {
  const fs::path out = main_run();
  const std::vector<json> records = parse_lines(slurp(out));
  ASSERT_EQ(records.size(), kExpected.size());
  std::set<std::pair<std::string, std::string>> seen;
  for (const json& r : records) {
    SCOPED_TRACE(r.dump());
    EXPECT_EQ(r.value("schema_version", 0), 1);
    const std::set<std::string> keys = key_paths(r);
    for (const std::string& k : kContractKeys) EXPECT_TRUE(keys.count(k)) << "missing " << k;
    const auto id = std::make_pair(r.value("problem_str", ""), r.value("kernel", ""));
    ASSERT_TRUE(kExpected.count(id)) << "unexpected case " << id.first << " " << id.second;
    seen.insert(id);
    EXPECT_EQ(r["status"], kExpected.at(id));
    EXPECT_EQ(r["family"], "attention");
    EXPECT_EQ(r["ranks"], 1);
    EXPECT_EQ(r["inputs"], "random");
    EXPECT_EQ(r["seed"], 42);
    EXPECT_EQ(r["comm"]["bytes"], 0);
    EXPECT_GE(r["threads"].get<int>(), 1);
    EXPECT_TRUE(r["provenance"]["version"].get<std::string>().rfind("torch-", 0) == 0);
    EXPECT_TRUE(r["provenance"]["libraries"].contains("torch"));
    EXPECT_TRUE(r["provenance"]["libraries"].contains("numpy"));
    EXPECT_GT(r["work"]["flops"].get<double>(), 0);
    if (r["status"] == "ok") {
      for (const std::string& k : kTimedKeys) EXPECT_TRUE(keys.count(k)) << "missing " << k;
      EXPECT_EQ(r["reason"], "");
      EXPECT_TRUE(r["check"]["passed"].get<bool>());
      EXPECT_LE(r["check"]["max_rel_error"].get<double>(), r["check"]["tolerance"].get<double>());
      EXPECT_GE(r["time"]["repetitions"].get<int>(), 2);
      EXPECT_EQ(r["time"]["samples_s"].size(), r["time"]["repetitions"].get<std::size_t>());
      EXPECT_GT(r["rate"]["gflops"].get<double>(), 0);
      EXPECT_GT(r["memory"]["peak_rss_bytes"].get<std::int64_t>(), 0);
      EXPECT_GT(r["memory"]["model_bytes"].get<std::int64_t>(), r["work"]["bytes"].get<std::int64_t>());
    } else {
      EXPECT_FALSE(r["reason"].get<std::string>().empty());
      EXPECT_TRUE(r["time"].is_null());
      EXPECT_TRUE(r["rate"].is_null());
      EXPECT_TRUE(r["check"].is_null());
    }
  }
  EXPECT_EQ(seen.size(), kExpected.size());
}

// attnbench's reader reads every record, and an ok record has exactly the key set of the record
// attnbench itself writes for the same problem (a skipped one: the same top-level keys).
TEST_F(PytorchReference, RecordsAreReadByAttnbenchAndMatchItsKeys) {
  const fs::path torch_out = main_run();
  const fs::path ab_out = dir() / "attnbench.jsonl";
  const Result ab = attnbench(std::string("run --kernel mha.naive.serial --problem ") + kProblems + " --check" +
                                  kQuick + " --out " + quote(ab_out.string()),
                              dir());
  ASSERT_EQ(ab.code, 0) << ab.out << ab.err;

  std::vector<std::string> warnings;
  const std::vector<json> torch_records = attnbench::read_results(torch_out, &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  ASSERT_EQ(torch_records.size(), kExpected.size());
  std::map<std::string, json> by_problem;
  for (const json& r : attnbench::read_results(ab_out, nullptr)) by_problem[r["problem_str"]] = r;
  ASSERT_EQ(by_problem.size(), 3u);

  for (const json& r : torch_records) {
    SCOPED_TRACE(r.value("problem_str", "") + " " + r.value("kernel", ""));
    ASSERT_TRUE(by_problem.count(r["problem_str"]));
    const json& a = by_problem.at(r["problem_str"]);
    EXPECT_EQ(r["problem"], a["problem"]);  // the same descriptor object, field for field
    // The problem object is attnbench's: its own parser accepts it and prints the same name.
    EXPECT_EQ(attnbench::problem_from_json(r["problem"]).str(), r["problem_str"].get<std::string>());
    if (r["status"] == "ok") {
      EXPECT_EQ(key_paths(r), key_paths(a));
    } else {
      std::set<std::string> top_r, top_a;
      for (const auto& [k, v] : r.items()) top_r.insert(k);
      for (const auto& [k, v] : a.items()) top_a.insert(k);
      EXPECT_EQ(top_r, top_a);
    }
  }
}

// Given attnbench's own inputs (--inputs DIR from --save-output), the work figures are attnbench's to
// the flop (the padding lengths counted, not the upper bound), and `validate` passes its output.
TEST_F(PytorchReference, AttnbenchInputsGiveItsWorkAndValidatePasses) {
  const std::string problem = "b2_h2_sq9_skv13_d8_padding";
  const fs::path saved = dir() / "saved", ab_out = dir() / "attnbench.jsonl", torch_out = dir() / "torch.jsonl";
  const Result ab = attnbench("run --kernel mha.naive.serial --problem " + problem + " --kv-lengths 13,4" + kQuick +
                                  " --save-output " + quote(saved.string()) + " --out " + quote(ab_out.string()),
                              dir());
  ASSERT_EQ(ab.code, 0) << ab.out << ab.err;
  const Result r = pytorch_reference("run --problem " + problem + " --kernel torch.sdpa,torch.naive --check" +
                                         kQuick + " --inputs " + quote(saved.string()) + " --out " +
                                         quote(torch_out.string()),
                                     dir());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<json> a = attnbench::read_results(ab_out, nullptr);
  const std::vector<json> t = attnbench::read_results(torch_out, nullptr);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(t.size(), 2u);
  for (const json& rec : t) {
    EXPECT_EQ(rec["status"], "ok");
    EXPECT_EQ(rec["work"], a[0]["work"]);
    EXPECT_EQ(rec["inputs"], saved.string());
    EXPECT_EQ(rec["seed"], 0);
    EXPECT_TRUE(rec["check"]["passed"].get<bool>());
  }
  // 9*(13+4) = 153 visible pairs, 2 heads, d = dv = 8: 2*2*153*8 for the scores and again for P V.
  EXPECT_DOUBLE_EQ(t[0]["work"]["flops"].get<double>(), 2 * (2.0 * 2 * 153 * 8));

  const Result v = pytorch_reference("validate " + quote(saved.string()) + " --problem " + problem, dir());
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("PASS"), std::string::npos) << v.out;
}

// The time object is attnbench's summary of the record's own samples (harness/stats.cpp): median,
// mean, sample stddev, min, max, and the order-statistic interval with its exact coverage.
TEST_F(PytorchReference, TimeStatisticsAreAttnbenchs) {
  const fs::path out = dir() / "torch.jsonl";
  const Result r = pytorch_reference("run --problem b1_h2_sq8_d8 --kernel torch.naive --min-time 0 --min-reps 9 "
                                     "--max-reps 9 --out " + quote(out.string()),
                                     dir());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::vector<json> records = attnbench::read_results(out, nullptr);
  ASSERT_EQ(records.size(), 1u);
  const json& t = records[0]["time"];
  const attnbench::SampleStats s = attnbench::summarize(t["samples_s"].get<std::vector<double>>());
  ASSERT_EQ(s.repetitions, 9);
  EXPECT_EQ(t["repetitions"], 9);
  EXPECT_DOUBLE_EQ(t["median_s"].get<double>(), s.median);
  EXPECT_NEAR(t["mean_s"].get<double>(), s.mean, 1e-12 * s.mean);
  EXPECT_NEAR(t["stddev_s"].get<double>(), s.stddev, 1e-9 * s.mean);
  EXPECT_DOUBLE_EQ(t["min_s"].get<double>(), s.min);
  EXPECT_DOUBLE_EQ(t["max_s"].get<double>(), s.max);
  EXPECT_DOUBLE_EQ(t["ci95_low_s"].get<double>(), s.ci95_low);  // n = 9: the 2nd and 8th samples
  EXPECT_DOUBLE_EQ(t["ci95_high_s"].get<double>(), s.ci95_high);
  EXPECT_DOUBLE_EQ(t["ci95_confidence"].get<double>(), s.ci95_confidence);

  // The interval's ranks and coverage for every n up to 300, against attnbench's median_ci_ranks.
  const Result ranks = shell(std::string(kPython) + " -c " +
                                 quote("import sys; sys.path.insert(0, '" + std::string(ATTNBENCH_SOURCE_DIR) +
                                       "/scripts'); from pytorch_reference import median_ci_ranks; "
                                       "[print(n, *median_ci_ranks(n)) for n in range(1, 301)]"),
                             dir());
  ASSERT_EQ(ranks.code, 0) << ranks.err;
  std::istringstream in(ranks.out);
  std::size_t n = 0, low = 0, high = 0, lines = 0;
  double coverage = 0;
  while (in >> n >> low >> high >> coverage) {
    const attnbench::MedianCiRanks want = attnbench::median_ci_ranks(n);
    EXPECT_EQ(low, want.low_rank) << "n = " << n;
    EXPECT_EQ(high, want.high_rank) << "n = " << n;
    EXPECT_NEAR(coverage, want.confidence, 1e-12) << "n = " << n;
    ++lines;
  }
  EXPECT_EQ(lines, 300u);
}

// Bad input: exit 2, nothing on stdout, one line on stderr naming what is wrong, no traceback.
struct BadCase {
  const char* name;
  const char* args;    ///< after "run"; {out} is replaced by a path in the test's directory
  const char* names;   ///< the message must contain this
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

class PytorchReferenceBadInput : public PytorchReference, public ::testing::WithParamInterface<BadCase> {};

TEST_P(PytorchReferenceBadInput, IsExit2WithOneLine) {
  const BadCase& c = GetParam();
  std::string args = c.args;
  const fs::path missing_dir = dir() / "no" / "such" / "dir";
  if (const auto at = args.find("{out}"); at != std::string::npos) args.replace(at, 5, (missing_dir / "r.jsonl").string());
  if (const auto at = args.find("{dir}"); at != std::string::npos) args.replace(at, 5, dir().string());
  const Result r = pytorch_reference("run " + args + kQuick, dir());
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(missing_dir));
}

const BadCase kBadCases[] = {
    {"unknown_kernel", "--problem b1_h2_sq4_d4 --kernel torch.sdpa,torch.flash", "unknown kernel 'torch.flash'"},
    {"malformed_problem", "--problem b1_h2_sq4_dx4", "bad problem string 'b1_h2_sq4_dx4'"},
    {"kv_heads_not_dividing", "--problem b1_h3_hk2_sq4_d4", "kv_heads (2) must divide heads (3)"},
    {"out_in_missing_directory", "--problem b1_h2_sq4_d4 --out {out}", "--out"},
    {"out_is_a_directory", "--problem b1_h2_sq4_d4 --out {dir}", "Is a directory"},
    {"zero_threads", "--problem b1_h2_sq4_d4 --threads 0", "--threads"},
    {"missing_problem", "--kernel all", "--problem"},
};

INSTANTIATE_TEST_SUITE_P(Cases, PytorchReferenceBadInput, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

}  // namespace
