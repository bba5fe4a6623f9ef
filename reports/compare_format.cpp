// Console, Markdown and JSON output of `attnbench compare` (compare_format.hpp).
#include "compare_format.hpp"

#include <algorithm>
#include <cstdio>

#include "console_table.hpp"
#include "report_text.hpp"

namespace attnbench::reports {
namespace {

using nlohmann::json;

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string general(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string p_text(const CaseComparison& c) {
  if (!c.p_value) return "-";
  if (*c.p_value < 1e-4) return "<1e-4";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", *c.p_value);
  return buf;
}

std::string median_text(const std::optional<double>& s) { return s ? format_seconds(*s) : "-"; }

std::string ratio_text(const std::optional<double>& r) { return r ? fixed(*r, 3) : "-"; }

std::string ci_text(const CaseComparison& c) {
  if (!c.ratio_low) return "-";
  return "[" + fixed(*c.ratio_low, 3) + ", " + fixed(*c.ratio_high, 3) + "]";
}

std::string n_text(const CaseComparison& c) { return std::to_string(c.base_n) + "/" + std::to_string(c.new_n); }

struct Counts {
  std::size_t by_verdict[7] = {};
  std::size_t total = 0;
};

Counts count(const Comparison& c) {
  Counts n;
  for (const CaseComparison& k : c.cases) ++n.by_verdict[int(k.verdict)], ++n.total;
  return n;
}

constexpr Verdict kAllVerdicts[] = {Verdict::slower, Verdict::correctness_failed, Verdict::faster, Verdict::same,
                                    Verdict::not_comparable, Verdict::only_in_base, Verdict::only_in_new};

// "1 slower, 2 faster, 9 same of 12 cases" (verdicts that occur, worst first).
std::string outcome_text(const Comparison& c) {
  const Counts n = count(c);
  std::string s;
  for (Verdict v : kAllVerdicts)
    if (n.by_verdict[int(v)]) s += (s.empty() ? "" : ", ") + std::to_string(n.by_verdict[int(v)]) + " " + to_string(v);
  if (s.empty()) s = "no case";
  return s + " of " + std::to_string(n.total) + " case" + (n.total == 1 ? "" : "s");
}

std::string side_text(const ResultSet& set) {
  std::string files;
  for (const std::string& f : set.files) files += (files.empty() ? "" : ", ") + f;
  std::string commits;
  for (const Provenance& p : set.provenance)
    if (!p.commit.empty() && commits.find(p.commit) == std::string::npos)
      commits += (commits.empty() ? "" : ", ") + p.commit;
  return files + (commits.empty() ? "" : " (commit " + commits + ")");
}

std::string method_text(const Comparison& c) {
  return "ratio: new/base, the median of all new/base sample ratios (Hodges-Lehmann); CI: its " +
         general((1 - c.options.alpha) * 100) + "% interval; p: two-sided Mann-Whitney U; slower/faster: p <= " +
         general(c.options.alpha) + " and the ratio beyond 1 +- " + general(c.options.threshold * 100) + "%" +
         (c.options.by_record ? "; samples: one per record (its median)" : "");
}

std::string geomean_text(const GroupSummary& g) { return g.geomean_ratio ? fixed(*g.geomean_ratio, 3) : "-"; }

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }


}  // namespace

void print_console(std::ostream& out, const Comparison& c, const CompareInputs& in) {
  out << "base: " << side_text(in.base) << "\nnew:  " << side_text(in.fresh) << "\n" << method_text(c) << "\n";
  for (const std::string& w : c.warnings) out << "warning: " << w << "\n";
  int case_width = 4;
  for (const CaseComparison& k : c.cases) case_width = std::max(case_width, int(k.key.str().size()));
  out << "\n";
  ConsoleTable table(out, {{"case", case_width, false},
                           {"base", 9},
                           {"new", 9},
                           {"ratio", 6},
                           {"CI", 16},
                           {"p", 6},
                           {"n", 7},
                           {"verdict", 18, false},
                           {"note", 0, false}});
  table.print_header();
  for (const CaseComparison& k : c.cases)
    table.print_row({k.key.str(), median_text(k.base_median_s), median_text(k.new_median_s), ratio_text(k.ratio),
                     ci_text(k), p_text(k), n_text(k), to_string(k.verdict), k.note});
  out << "\ngeometric mean of new/base per kernel:\n";
  int group_width = 6;
  for (const GroupSummary& g : c.groups) group_width = std::max(group_width, int(g.group.size()));
  ConsoleTable summary(out, {{"kernel", group_width, false},
                             {"cases", 5},
                             {"geomean", 7},
                             {"faster", 6},
                             {"slower", 6},
                             {"same", 5},
                             {"failed", 6},
                             {"other", 5}});
  summary.print_header();
  for (const GroupSummary& g : c.groups)
    summary.print_row({g.group, std::to_string(g.compared), geomean_text(g), std::to_string(g.faster),
                       std::to_string(g.slower), std::to_string(g.same), std::to_string(g.failed), std::to_string(g.other)});
  out << "\n" << outcome_text(c) << " -> exit " << c.exit_status() << "\n";
}

void print_markdown(std::ostream& out, const Comparison& c, const CompareInputs& in) {
  out << "### attnbench compare: " << (c.exit_status() ? "regression" : "no regression") << "\n\n";
  out << "**" << report::md_escape(outcome_text(c)) << "** (exit " << c.exit_status() << ")\n\n";
  out << "- base: " << report::md_escape(side_text(in.base)) << "\n";
  out << "- new: " << report::md_escape(side_text(in.fresh)) << "\n";
  out << "- " << report::md_escape(method_text(c)) << "\n\n";
  for (const std::string& w : c.warnings) out << "> **Warning:** " << report::md_escape(w) << "\n>\n";
  if (!c.warnings.empty()) out << "\n";
  out << "| case | base | new | ratio | CI | p | n | verdict | note |\n";
  out << "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |\n";
  for (const CaseComparison& k : c.cases) {
    const bool bad = k.verdict == Verdict::slower || k.verdict == Verdict::correctness_failed;
    const std::string verdict = bad ? "**" + std::string(to_string(k.verdict)) + "**" : report::md_escape(to_string(k.verdict));
    out << "| " << report::md_escape(k.key.str()) << " | " << report::md_escape(median_text(k.base_median_s)) << " | "
        << report::md_escape(median_text(k.new_median_s)) << " | " << report::md_escape(ratio_text(k.ratio)) << " | "
        << report::md_escape(ci_text(k)) << " | " << report::md_escape(p_text(k)) << " | " << report::md_escape(n_text(k))
        << " | " << verdict << " | " << report::md_escape(k.note) << " |\n";
  }
  out << "\n| kernel | cases | geomean new/base | faster | slower | same | failed | other |\n";
  out << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const GroupSummary& g : c.groups)
    out << "| " << (g.group == "all" ? "**all**" : report::md_escape(g.group)) << " | " << g.compared << " | "
        << report::md_escape(geomean_text(g)) << " | " << g.faster << " | " << g.slower << " | " << g.same << " | "
        << g.failed << " | " << g.other << " |\n";
}

json comparison_json(const Comparison& c, const CompareInputs& in) {
  const auto side = [](const ResultSet& set) {
    json provenance = json::array();
    for (const Provenance& p : set.provenance)
      provenance.push_back({{"file", p.file}, {"machine", p.machine}, {"build", p.build}, {"commit", p.commit}});
    return json{{"files", set.files}, {"provenance", provenance}};
  };
  json cases = json::array();
  for (const CaseComparison& k : c.cases) {
    json ci = nullptr;
    if (k.ratio_low) ci = {{"low", *k.ratio_low}, {"high", *k.ratio_high}, {"confidence", optional_json(k.ci_confidence)}};
    cases.push_back({{"name", k.key.str()},
                     {"kernel", k.key.kernel},
                     {"problem", k.key.problem},
                     {"threads", k.key.threads},
                     {"ranks", k.key.ranks},
                     {"verdict", to_string(k.verdict)},
                     {"note", k.note},
                     {"base", {{"n", k.base_n}, {"median_s", optional_json(k.base_median_s)}}},
                     {"new", {{"n", k.new_n}, {"median_s", optional_json(k.new_median_s)}}},
                     {"ratio", optional_json(k.ratio)},
                     {"median_ratio", optional_json(k.median_ratio)},
                     {"ratio_ci", ci},
                     {"p_value", optional_json(k.p_value)},
                     {"p_exact", k.p_value ? json(k.exact_p) : json(nullptr)}});
  }
  json groups = json::array();
  for (const GroupSummary& g : c.groups)
    groups.push_back({{"group", g.group},
                      {"compared", g.compared},
                      {"geomean_ratio", optional_json(g.geomean_ratio)},
                      {"faster", g.faster},
                      {"slower", g.slower},
                      {"same", g.same},
                      {"correctness_failed", g.failed},
                      {"other", g.other}});
  json counts = json::object();
  const Counts n = count(c);
  for (Verdict v : kAllVerdicts) counts[to_string(v)] = n.by_verdict[int(v)];
  return {{"schema", "attnbench.compare"},
          {"version", 1},
          {"format", to_string(in.base.format)},
          {"threshold", c.options.threshold},
          {"alpha", c.options.alpha},
          {"filters", c.options.filters},
          {"by_record", c.options.by_record},
          {"base", side(in.base)},
          {"new", side(in.fresh)},
          {"warnings", c.warnings},
          {"cases", cases},
          {"summary", groups},
          {"counts", counts},
          {"exit_status", c.exit_status()}};
}

}  // namespace attnbench::reports
