// `attnbench report`, run as a user runs it: the full report from the checked-in fixture (files,
// sections, numbers against the records), hostile strings in every field, plots omitted for data
// without their axis, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report_text.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using report::fmt_ratio;
using report::fmt_seconds;
using report::fmt_sig;
using report::md_escape;
using test_support::CommandResult;
using test_support::run_command;
using test_support::shell_quote;
using test_support::slurp;
using test_support::TempDir;

const fs::path kFixtureDir = fs::path(ATTNBENCH_SOURCE_DIR) / "tests" / "data" / "report";

struct Record {
  int line;
  json j;
};

std::vector<Record> read_records(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Record> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (!line.empty()) out.push_back({n, json::parse(line)});
  return out;
}

/// Runs `attnbench report ARGS` in `cwd` (so that records are cited by their bare file name).
CommandResult report(const fs::path& cwd, const std::string& args, const TempDir& tmp) {
  return run_command("cd " + shell_quote(cwd.string()) + " && " + shell_quote(ATTNBENCH_EXE) + " report " + args, tmp.path());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// Cells of a Markdown table row: split on '|' that are not backslash-escaped.
std::vector<std::string> md_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size()) {
      cell += row.substr(i, 2);
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  cells.push_back(cell);
  return cells;
}

/// Fields of one CSV line (RFC 4180 quoting).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string f;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') f += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.push_back(f), f.clear();
    else f += c;
  }
  out.push_back(f);
  return out;
}

/// Every Markdown table has as many cells in each row as in its header (no data split a row).
void expect_tables_intact(const std::string& md) {
  std::size_t header_cells = 0;
  bool in_table = false;
  for (const std::string& l : lines_of(md)) {
    if (l.rfind("|", 0) != 0) {
      in_table = false;
      continue;
    }
    const std::size_t n = md_cells(l).size();
    if (!in_table) header_cells = n, in_table = true;
    EXPECT_EQ(n, header_cells) << "a table row has a different cell count: " << l;
  }
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ReportFromFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir("report");
    result_ = new CommandResult(report(kFixtureDir, "results.jsonl --machine machine-profile.json -o " + shell_quote((tmp_->path() / "out").string()), *tmp_));
    out_ = tmp_->path() / "out";
  }
  static void TearDownTestSuite() {
    delete result_;
    delete tmp_;
  }
  static TempDir* tmp_;
  static CommandResult* result_;
  static fs::path out_;
};
TempDir* ReportFromFixture::tmp_ = nullptr;
CommandResult* ReportFromFixture::result_ = nullptr;
fs::path ReportFromFixture::out_;

TEST_F(ReportFromFixture, WritesEveryFileWithEverySection) {
  ASSERT_EQ(result_->code, 0) << result_->err;
  for (const char* f : {"report.md", "report.html", "summary.csv"}) EXPECT_TRUE(fs::is_regular_file(out_ / f)) << f;
  const std::string md = slurp(out_ / "report.md"), html = slurp(out_ / "report.html");
  for (const char* section : {"## Provenance", "## Findings", "## Fastest kernel per regime", "## Time and GFLOP/s vs sequence length",
                              "## Speed-up over mha.naive.serial", "## Scaling with threads", "## Scaling with ranks",
                              "## Attention vs CNN vs RNN", "## Heads sweep", "## Head-dim sweep", "## Peak memory vs sequence length",
                              "## Roofline: how close each case gets", "## Every analysed case"})
    EXPECT_NE(md.find(section), std::string::npos) << section;
  // Every figure linked from the Markdown exists, and the HTML inlines the same number of plots.
  const std::regex link(R"(!\[[^\n]*\]\((fig-[0-9]+-[a-z-]+\.svg)\))");
  std::size_t figures = 0;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), link); it != std::sregex_iterator(); ++it, ++figures)
    EXPECT_TRUE(fs::is_regular_file(out_ / (*it)[1].str())) << (*it)[1];
  EXPECT_GE(figures, 10u);
  EXPECT_EQ(count(html, "<svg "), figures);
  EXPECT_EQ(count(html, "<script"), 0u) << "the report page carries no script";
  expect_tables_intact(md);
}

TEST_F(ReportFromFixture, MediansInTheReportAndCsvAreTheRecords) {
  ASSERT_EQ(result_->code, 0) << result_->err;
  const std::vector<Record> records = read_records(kFixtureDir / "results.jsonl");
  const std::string md = slurp(out_ / "report.md");
  std::map<std::string, std::string> row_of;  // "results.jsonl:N" -> the row of "Every analysed case"
  const std::size_t all_cases = md.find("## Every analysed case");
  ASSERT_NE(all_cases, std::string::npos);
  for (const std::string& l : lines_of(md.substr(all_cases))) {
    const auto cells = md_cells(l);
    if (cells.size() > 2) row_of[std::regex_replace(cells[cells.size() - 2], std::regex("^ +| +$"), "")] = l;
  }
  int checked = 0;
  for (const Record& r : records) {
    if (r.j["status"] != "ok") continue;
    const std::string cite = "results.jsonl:" + std::to_string(r.line);
    ASSERT_TRUE(row_of.count(cite)) << "no row cites " << cite;
    const std::string& row = row_of[cite];
    EXPECT_NE(row.find("| " + md_escape(r.j["kernel"].get<std::string>()) + " |"), std::string::npos) << row;
    EXPECT_NE(row.find("| " + fmt_seconds(r.j["time"]["median_s"].get<double>()) + " |"), std::string::npos) << row;
    EXPECT_NE(row.find("| " + fmt_sig(r.j["rate"]["gflops"].get<double>()) + " |"), std::string::npos) << row;
    ++checked;
  }
  EXPECT_GT(checked, 50);

  const std::vector<std::string> csv = lines_of(slurp(out_ / "summary.csv"));
  ASSERT_EQ(csv.size(), records.size() + 1) << "one row per record";
  const std::vector<std::string> header = csv_fields(csv[0]);
  const auto col = [&](const char* name) { return std::size_t(std::find(header.begin(), header.end(), name) - header.begin()); };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::vector<std::string> f = csv_fields(csv[i + 1]);
    ASSERT_EQ(f.size(), header.size()) << csv[i + 1];
    const json& j = records[i].j;
    EXPECT_EQ(f[col("line")], std::to_string(records[i].line));
    EXPECT_EQ(f[col("kernel")], j["kernel"].get<std::string>());
    EXPECT_EQ(f[col("status")], j["status"].get<std::string>());
    if (j["time"].is_null()) {
      EXPECT_EQ(f[col("median_s")], "");
    } else {
      EXPECT_NEAR(std::stod(f[col("median_s")]), j["time"]["median_s"].get<double>(), 1e-8 * j["time"]["median_s"].get<double>());
      EXPECT_NEAR(std::stod(f[col("ci95_high_s")]), j["time"]["ci95_high_s"].get<double>(), 1e-8 * j["time"]["ci95_high_s"].get<double>());
    }
  }
}

TEST_F(ReportFromFixture, SpeedUpsAreRatiosOfTheCitedMedians) {
  ASSERT_EQ(result_->code, 0) << result_->err;
  const std::vector<Record> records = read_records(kFixtureDir / "results.jsonl");
  const std::string md = slurp(out_ / "report.md");
  const std::string section = md.substr(md.find("## Speed-up over mha.naive.serial"));
  int checked = 0;
  for (const Record& fast : records) {
    if (fast.j["status"] != "ok" || fast.j["kernel"] != "mha.blocked.serial") continue;
    for (const Record& naive : records) {
      if (naive.j["status"] != "ok" || naive.j["kernel"] != "mha.naive.serial" || naive.j["problem_str"] != fast.j["problem_str"]) continue;
      const double ratio = naive.j["time"]["median_s"].get<double>() / fast.j["time"]["median_s"].get<double>();
      const double low = naive.j["time"]["ci95_low_s"].get<double>() / fast.j["time"]["ci95_high_s"].get<double>();
      const double high = naive.j["time"]["ci95_high_s"].get<double>() / fast.j["time"]["ci95_low_s"].get<double>();
      const std::string expected = "| " + fmt_ratio(ratio) + " (95% CI " + fmt_sig(low) + "-" + fmt_ratio(high) + ") | results.jsonl:" +
                                   std::to_string(naive.line) + " | results.jsonl:" + std::to_string(fast.line) + " |";
      EXPECT_NE(section.find(expected), std::string::npos) << expected;
      ++checked;
    }
  }
  EXPECT_GE(checked, 5);
}

TEST_F(ReportFromFixture, ProvenanceAndFindingsComeFromTheRecords) {
  ASSERT_EQ(result_->code, 0) << result_->err;
  const json first = read_records(kFixtureDir / "results.jsonl").front().j;
  const std::string md = slurp(out_ / "report.md");
  const std::string provenance = md.substr(md.find("## Provenance"), md.find("## Findings") - md.find("## Provenance"));
  EXPECT_NE(provenance.find(md_escape(first["provenance"]["host"].get<std::string>())), std::string::npos);
  EXPECT_NE(provenance.find(md_escape(first["provenance"]["git_commit"].get<std::string>())), std::string::npos);
  const std::string findings = md.substr(md.find("## Findings"), md.find("\n## ", md.find("## Findings") + 3) - md.find("## Findings"));
  // Findings cite their records and state the crossovers or leads between families.
  EXPECT_GE(count(findings, "results.jsonl:"), 10u) << findings;
  EXPECT_TRUE(findings.find("overtakes") != std::string::npos || findings.find("no crossover in the measured range") != std::string::npos)
      << findings;
  EXPECT_NE(findings.find("mha.tp.mpi"), std::string::npos) << "rank scaling finding";
}

TEST(Report, HostileStringsInEveryFieldStayData) {
  TempDir tmp("report-hostile");
  const std::string rlo = "\xE2\x80\xAE";
  const std::string evil = "<script>alert(\"x\")</script>|a|b\n# heading\r\n[l](javascript:x) *b* `c` &amp; ='=1+1" + rlo + "exe.txt";
  // Two records of one hostile kernel at two lengths (so it is plotted), with every string field hostile.
  std::vector<Record> records = read_records(kFixtureDir / "results.jsonl");
  const fs::path file = tmp / ("evil<b>|" + rlo + ".jsonl");
  std::ofstream out(file);
  int written = 0;
  for (Record& r : records) {
    if (r.j["status"] != "ok" || r.j["kernel"] != "mha.blocked.serial" || r.j["threads"] != 1) continue;
    json& j = r.j;
    // The first two stay attention records that are measured (so the hostile kernel is plotted); the
    // third has a hostile family, operator and status as well.
    for (const char* k : {"kernel", "problem_str", "reason"}) j[k] = evil;
    j["problem_str"] = evil + std::to_string(written);  // distinct cases, not repeats of one
    if (written == 2)
      for (const char* k : {"family", "op", "status"}) j[k] = evil;
    for (const char* k : {"mask", "score"}) j["problem"][k] = evil;
    for (const char* k : {"host", "cpu", "git_commit", "build_type", "compiler", "flags", "version", "time"}) j["provenance"][k] = evil;
    j["sweep"] = {{"preset", evil}, {"case", written}, {"cases", 3}};
    j["provenance"]["host"] = "=cmd|' /C calc'!A0";
    if (j["comm"].is_object()) j["comm"]["phases"] = json::array({{{"phase", evil}, {"bytes", 1}}});
    out << j.dump() << "\n";
    if (++written == 3) break;
  }
  out.close();
  ASSERT_EQ(written, 3);
  const CommandResult r = report(tmp.path(), shell_quote(file.filename().string()) + " -o out", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = slurp(tmp / "out" / "report.html"), md = slurp(tmp / "out" / "report.md"),
                    csv = slurp(tmp / "out" / "summary.csv");
  std::string svgs;
  for (const auto& e : fs::directory_iterator(tmp / "out"))
    if (e.path().extension() == ".svg") svgs += slurp(e.path());
  EXPECT_FALSE(svgs.empty()) << "the hostile kernel is plotted";
  for (const std::string* text : std::vector<const std::string*>{&html, &svgs}) {
    EXPECT_EQ(text->find("<script"), std::string::npos);
    EXPECT_EQ(text->find("<b>"), std::string::npos);
  }
  // In Markdown a backslash makes '<' literal: every '<' from the data must carry one.
  EXPECT_EQ(count(md, "<script"), count(md, "\\<script"));
  EXPECT_EQ(count(md, "<b>"), 0u);
  EXPECT_GT(count(md, "\\<b\\>"), 0u) << "the file name is cited, escaped";
  for (const std::string* text : std::vector<const std::string*>{&html, &md, &svgs, &csv})
    EXPECT_EQ(text->find(rlo), std::string::npos) << "the override character must not reach the output";
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;U+202E&gt;"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>"), std::string::npos);
  expect_tables_intact(md);
  for (const std::string& l : lines_of(md)) {
    EXPECT_NE(l.rfind("# heading", 0), 0u) << "a record started a Markdown heading";
    EXPECT_EQ(count(l, "](javascript"), count(l, "\\](javascript")) << "an unescaped link: " << l;
  }
  const std::vector<std::string> rows = lines_of(csv);
  ASSERT_EQ(rows.size(), 4u);
  for (const std::string& row : rows) EXPECT_EQ(csv_fields(row).size(), csv_fields(rows[0]).size()) << row;
  EXPECT_NE(csv.find(",'=cmd"), std::string::npos) << "a formula-like field is defused for spreadsheets";
}

/// The fixture's records of `kernel` at one thread on the b1 h8 d64 self-attention shapes (seq 64..1024).
std::vector<json> one_thread_series(const std::string& kernel) {
  std::vector<json> out;
  for (const Record& r : read_records(kFixtureDir / "results.jsonl"))
    if (r.j["kernel"] == kernel && r.j["threads"] == 1 && r.j["ranks"] == 1 && r.j["status"] == "ok" &&
        r.j["problem"]["heads"] == 8 && r.j["problem"]["head_dim"] == 64 && r.j["problem"]["seq_q"] == r.j["problem"]["seq_kv"] &&
        r.j["problem"]["score"] == "scaled_dot")
      out.push_back(r.j);
  return out;
}

void set_median(json& j, double t) {
  for (const char* k : {"median_s", "ci95_low_s", "ci95_high_s", "min_s", "max_s", "mean_s"}) j["time"][k] = t;
  j["time"]["samples_s"] = json::array({t, t, t, t, t, t});
}

TEST(Report, CrossoverIsInterpolatedOnLogScaleBetweenBracketingLengths) {
  // Attention t = 1 us (L/64)^2, LSTM t = 5 us (L/64): equal at L/64 = 5, L = 320, between 256 and 512.
  TempDir tmp("report-crossover");
  std::ofstream out(tmp / "x.jsonl");
  std::vector<json> attention = one_thread_series("mha.blocked.serial"), rnn = one_thread_series("rnn.lstm.serial");
  ASSERT_EQ(attention.size(), 5u);
  ASSERT_EQ(rnn.size(), 5u);
  for (json& j : attention) {
    const double l = j["problem"]["seq_kv"].get<double>() / 64;
    set_median(j, 1e-6 * l * l);
    out << j.dump() << "\n";
  }
  for (json& j : rnn) {
    set_median(j, 5e-6 * j["problem"]["seq_kv"].get<double>() / 64);
    out << j.dump() << "\n";
  }
  out.close();
  const CommandResult r = report(tmp.path(), "x.jsonl -o out", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string md = slurp(tmp / "out" / "report.md");
  EXPECT_NE(md.find("rnn (rnn.lstm.serial) overtakes attention (mha.blocked.serial) at a sequence length of about 320, "
                    "between the measured 256 and 512 (x.jsonl:3, x.jsonl:8, x.jsonl:4, x.jsonl:9)"),
            std::string::npos)
      << md.substr(md.find("## Findings"), 2000);
  // Without a bracket (attention measured only up to 256) no crossover is claimed.
  std::ofstream short_out(tmp / "y.jsonl");
  for (std::size_t i = 0; i < 3; ++i) short_out << attention[i].dump() << "\n" << rnn[i].dump() << "\n";
  short_out.close();
  ASSERT_EQ(report(tmp.path(), "y.jsonl -o out2", tmp).code, 0);
  const std::string md2 = slurp(tmp / "out2" / "report.md");
  EXPECT_EQ(md2.find("overtakes"), std::string::npos);
  EXPECT_NE(md2.find("attention is faster than rnn at every measured length (64-256), by 1.25x to 5.00x; no crossover"), std::string::npos)
      << md2.substr(md2.find("## Findings"), 2000);
  // A tie measured exactly at a length (RNN t = 2 us (L/64): equal at 128) is the crossover, at that length.
  std::ofstream tie_out(tmp / "z.jsonl");
  for (std::size_t i = 0; i < 5; ++i) {
    set_median(rnn[i], 2e-6 * rnn[i]["problem"]["seq_kv"].get<double>() / 64);
    tie_out << attention[i].dump() << "\n" << rnn[i].dump() << "\n";
  }
  tie_out.close();
  ASSERT_EQ(report(tmp.path(), "z.jsonl -o out3", tmp).code, 0);
  const std::string md3 = slurp(tmp / "out3" / "report.md");
  EXPECT_NE(md3.find("rnn (rnn.lstm.serial) overtakes attention (mha.blocked.serial) at a sequence length of about 128, "
                     "between the measured 64 and 256"),
            std::string::npos)
      << md3.substr(md3.find("## Findings"), 2000);
}

TEST(Report, ConvStacksAreComparedApartFromSingleLayers) {
  // A covering conv stack sees the whole sequence as attention does; a single k=3 layer does not. Pooled
  // under "cnn", the cheap layer would hide the stack: attention t = 1 us (L/64)^2, one layer 0.75 us (L/64),
  // a 4-layer stack 4x the layer. The stack overtakes attention at L/64 = 3, L = 192.
  TempDir tmp("report-stack");
  std::ofstream out(tmp / "x.jsonl");
  std::vector<json> attention = one_thread_series("mha.blocked.serial"), conv = one_thread_series("cnn.conv1d.serial");
  ASSERT_EQ(conv.size(), 5u);
  for (json& j : attention) {
    const double l = j["problem"]["seq_kv"].get<double>() / 64;
    set_median(j, 1e-6 * l * l);
    out << j.dump() << "\n";
  }
  for (json& j : conv) {
    const double l = j["problem"]["seq_kv"].get<double>() / 64;
    set_median(j, 0.75e-6 * l);
    out << j.dump() << "\n";
    j["problem"]["layers"] = 4;
    j["problem_str"] = j["problem_str"].get<std::string>() + "_ly4";
    set_median(j, 3e-6 * l);
    out << j.dump() << "\n";
  }
  out.close();
  const CommandResult r = report(tmp.path(), "x.jsonl -o out", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string md = slurp(tmp / "out" / "report.md");
  const std::string findings = md.substr(md.find("## Findings"), md.find("\n## ", md.find("## Findings") + 3) - md.find("## Findings"));
  EXPECT_NE(findings.find("cnn stack (cnn.conv1d.serial) overtakes attention (mha.blocked.serial) at a sequence length of about 192"),
            std::string::npos)
      << findings;
  EXPECT_NE(findings.find("cnn is faster than attention at every measured length"), std::string::npos) << findings;
  // A layer and its own stack are not one of the section's comparisons.
  EXPECT_EQ(findings.find("cnn is faster than cnn stack"), std::string::npos) << findings;
  EXPECT_EQ(findings.find("cnn stack is faster than cnn"), std::string::npos) << findings;
}

TEST(Report, ResultsFromTwoMachinesAreLabelledAndWarnedAbout) {
  TempDir tmp("report-machines");
  for (const char* host : {"node-a", "node-b"}) {
    std::ofstream out(tmp / (std::string(host) + ".jsonl"));
    for (json j : one_thread_series("mha.blocked.serial")) {
      j["provenance"]["host"] = host;
      out << j.dump() << "\n";
    }
  }
  const CommandResult r = report(tmp.path(), "node-a.jsonl node-b.jsonl -o out", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string md = slurp(tmp / "out" / "report.md");
  EXPECT_NE(md.find("> **Warning:** these results come from 2 different machines"), std::string::npos);
  EXPECT_NE(md.find("mha.blocked.serial @node-a"), std::string::npos);
  EXPECT_NE(md.find("mha.blocked.serial @node-b"), std::string::npos);
}

TEST(Report, DataWithoutAxesOmitsThePlotsAndSaysWhy) {
  TempDir tmp("report-sparse");
  std::ofstream out(tmp / "one.jsonl");
  for (const Record& r : read_records(kFixtureDir / "results.jsonl"))
    if (r.j["status"] == "ok") {
      out << r.j.dump() << "\n";
      break;
    }
  out.close();
  // A full report first, into the same directory: its figures must not linger.
  ASSERT_EQ(report(tmp.path(), shell_quote((kFixtureDir / "results.jsonl").string()) + " -o out", tmp).code, 0);
  const CommandResult r = report(tmp.path(), "one.jsonl -o out", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string html = slurp(tmp / "out" / "report.html"), md = slurp(tmp / "out" / "report.md");
  EXPECT_EQ(count(html, "<svg"), 0u);
  for (const auto& e : fs::directory_iterator(tmp / "out")) EXPECT_NE(e.path().extension(), ".svg") << e.path();
  EXPECT_NE(md.find("## Sections omitted for lack of data"), std::string::npos);
  for (const char* omitted : {"Time and GFLOP/s vs sequence length: no attention kernel", "Scaling with threads: ", "Scaling with ranks: ",
                              "Attention vs CNN vs RNN: ", "Heads sweep: ", "Head-dim sweep: ", "Peak memory vs sequence length: "})
    EXPECT_NE(md.find(omitted), std::string::npos) << omitted;
  EXPECT_NE(md.find("## Every analysed case"), std::string::npos);
}

TEST(Report, BadInputExitsTwoWithOneLine) {
  TempDir tmp("report-bad");
  std::ofstream(tmp / "empty.jsonl").close();
  std::ofstream(tmp / "a-file") << "x";
  std::ofstream(tmp / "projection.jsonl") << R"({"schema_version": 1, "kind": "projection", "kernel": "mha.tp.mpi", "problem": {}})" << "\n";
  std::ofstream(tmp / "v2.jsonl") << R"({"schema_version": 2, "kernel": "k", "problem": {}})" << "\n";
  std::ofstream(tmp / "gbench.json") << R"({"context": {"host_name": "h"}, "benchmarks": []})" << "\n";
  const std::string fixture = shell_quote((kFixtureDir / "results.jsonl").string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing.jsonl -o out", "missing.jsonl"},
      {"empty.jsonl -o out", "holds no records"},
      {"projection.jsonl -o out", "projection.jsonl:1: is a \"projection\" record, not a measurement"},
      {"v2.jsonl -o out", "schema_version 2 is not supported"},
      {"gbench.json -o out", "Google Benchmark JSON"},
      {". -o out", "is a directory"},
      {fixture + " -o a-file/sub", "cannot create report directory"},
      {fixture, "missing -o"},
      {"-o out", "name at least one results file"},
      {fixture + " -o out --machine missing-profile.json", "--machine"},
      {fixture + " -o out --colour", "colour"},
  };
  for (const auto& [args, message] : cases) {
    const CommandResult r = report(tmp.path(), args, tmp);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(count(r.err, "\n"), 1u) << args << ": " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << ": " << r.err;
  }
}

}  // namespace
}  // namespace attnbench
