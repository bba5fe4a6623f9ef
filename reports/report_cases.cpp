// Record-level sections: provenance (and the warnings when machines or builds differ), the roofline
// and why cases fall below it, skipped and failed cases, and every analysed case.
#include <algorithm>
#include <map>
#include <set>

#include "report_sections.hpp"
#include "report_text.hpp"

namespace attnbench::report {

namespace {

std::string join(const std::set<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : items)
    if (!s.empty()) out += (out.empty() ? "" : sep) + s;
  return out.empty() ? "(not recorded)" : out;
}

std::string pct(double v) { return fmt_sig(v, 3) + "%"; }

/// Why a case reaches only part of its roofline, from what the records say (not from kernel names).
std::string shortfall_reasons(const ReportContext& ctx, const CaseRecord& c) {
  std::vector<std::string> why;
  const RooflinePoint& r = *c.roofline;
  if (r.memory_bound)
    why.push_back("memory-bound: intensity " + fmt_sig(r.intensity) + " flop/B below the ridge " + fmt_sig(r.ridge) +
                  (c.seq_q == 1 ? " (decode: one query row streams all of K and V)" : ""));
  if (c.median_s && c.comm_seconds > 0.1 * *c.median_s) {
    const CommPhase* top = nullptr;
    for (const CommPhase& ph : c.comm_phases)
      if (!top || ph.seconds_max > top->seconds_max) top = &ph;
    why.push_back("communication " + pct(100 * c.comm_seconds / *c.median_s) + " of the time" + (top ? " (mostly " + top->phase + ")" : ""));
  }
  if (c.sequential_steps && *c.sequential_steps > 8)
    why.push_back(fmt_sig(*c.sequential_steps, 6) + " sequential steps, each a small product");
  if (c.median_s && *c.median_s < 50e-6) why.push_back("short case (" + fmt_seconds(*c.median_s) + "): fixed per-call costs weigh");
  // The same problem on the same resources done better by another kernel: the gap is this kernel's.
  const CaseRecord* better = nullptr;
  for (const CaseRecord* o : ctx.ok())
    if (o != &c && o->op == c.op && o->problem_str == c.problem_str && o->threads == c.threads && o->ranks == c.ranks && o->pct_peak &&
        ctx.origin(*o) == ctx.origin(c) && (!better || *o->pct_peak > *better->pct_peak))
      better = o;
  if (better && *better->pct_peak > 1.5 * r.pct_peak)
    why.push_back(better->kernel + " reaches " + pct(*better->pct_peak) + " on the same problem (" + cite(*better) + ")");
  if (why.empty()) why.push_back(r.memory_bound ? "below the triad bandwidth" : "compute-bound, below the FMA peak");
  std::string out;
  for (const std::string& w : why) out += (out.empty() ? "" : "; ") + w;
  return out;
}

}  // namespace

void section_provenance(ReportContext& ctx, const std::vector<SourceFile>& files, const std::vector<std::string>& warnings,
                        std::vector<Block>& out) {
  out.push_back(Heading{2, "Provenance", "provenance"});
  Table table{{"file", "records (ok/skipped/failed)", "hosts", "CPU", "commits", "build", "compiler", "version", "measured (UTC)", "presets"},
              {false, true, false, false, false, false, false, false, false, false},
              {}};
  std::set<std::string> machines, builds, dirty;
  for (const SourceFile& file : files) {
    std::set<std::string> hosts, cpus, commits, types, compilers, versions, presets;
    std::string first_time, last_time;
    int ok = 0, skipped = 0, failed = 0;
    for (const CaseRecord& c : ctx.all()) {
      if (c.file != file.name) continue;
      hosts.insert(c.host), cpus.insert(c.cpu), commits.insert(c.git_commit), types.insert(c.build_type);
      compilers.insert(c.compiler), versions.insert(c.version), presets.insert(c.preset);
      machines.insert(c.machine_key()), builds.insert(c.build_key());
      if (c.git_commit.find("-dirty") != std::string::npos) dirty.insert(c.git_commit);
      if (!c.time.empty() && (first_time.empty() || c.time < first_time)) first_time = c.time;
      if (!c.time.empty() && c.time > last_time) last_time = c.time;
      (c.status == "ok" ? ok : c.status == "skipped" ? skipped : failed)++;
    }
    table.rows.push_back({file.name == file.path ? file.path : file.name + " (" + file.path + ")", std::to_string(ok) + "/" + std::to_string(skipped) + "/" + std::to_string(failed), join(hosts), join(cpus),
                          join(commits), join(types), join(compilers), join(versions),
                          first_time == last_time ? first_time : first_time + " to " + last_time, join(presets)});
  }
  out.push_back(std::move(table));
  if (machines.size() > 1)
    out.push_back(Callout{Text("these results come from " + std::to_string(machines.size()) + " different machines (" + join(machines, "; ") +
                               "). A ratio between cases of different machines measures the hardware as well as the kernels; "
                               "series and rows are labelled @host.")});
  if (builds.size() > 1)
    out.push_back(Callout{Text("these results come from " + std::to_string(builds.size()) + " different builds (commit, build type, "
                               "compiler or flags differ: " + join(builds, "; ") + "). Differences between them may come from the build.")});
  if (!dirty.empty())
    out.push_back(Callout{Text("built from a working tree with uncommitted changes (" + join(dirty) + "): the commit alone does not "
                               "identify the code that was measured.")});
  if (!warnings.empty()) {
    std::string list;
    for (std::size_t i = 0; i < warnings.size() && i < 5; ++i) list += (i ? "; " : "") + warnings[i];
    out.push_back(Callout{Text(std::to_string(warnings.size()) + " line(s) were passed over: " + list + (warnings.size() > 5 ? "; ..." : ""))});
  }
  if (ctx.superseded() > 0)
    out.push_back(Paragraph{Text(std::to_string(ctx.superseded()) + " measurement(s) were repeated later in the files; the report "
                                 "analyses the last record of each case, summary.csv lists them all.")});
}

void section_roofline(ReportContext& ctx, std::vector<Block>& out) {
  std::vector<const CaseRecord*> rated;
  for (const CaseRecord* c : ctx.ok())
    if (c->roofline) rated.push_back(c);
  if (rated.empty()) {
    ctx.omit("Roofline", "no record carries a roofline (run with 'attnbench run --machine PROFILE', or pass 'report --machine PROFILE')");
    return;
  }
  std::stable_sort(rated.begin(), rated.end(), [](auto* a, auto* b) { return a->roofline->pct_peak < b->roofline->pct_peak; });
  out.push_back(Heading{2, "Roofline: how close each case gets", "roofline"});
  out.push_back(Paragraph{Text("Each case against the calibrated roof that applies to it: the FMA peak when its arithmetic intensity "
                               "(work.flops / work.bytes) is above the ridge point, the triad bandwidth x intensity below it. "
                               "Lowest first; the reasons are read from the records.")});
  Table table{{"kernel", "problem", "threads", "ranks", "GFLOP/s", "bound", "intensity (flop/B)", "attainable GFLOP/s", "% of roof",
               "why below", "record"},
              {false, false, true, true, true, false, true, true, true, false, false},
              {}};
  int below_half = 0;
  for (const CaseRecord* c : rated) {
    const RooflinePoint& r = *c->roofline;
    const bool low = r.pct_peak < 50;
    below_half += low;
    table.rows.push_back({c->kernel, c->problem_str, std::to_string(c->threads), std::to_string(c->ranks), fmt_sig(c->gflops.value_or(0)),
                          r.memory_bound ? "memory" : "compute", fmt_sig(r.intensity), fmt_sig(r.attainable_gflops), pct(r.pct_peak),
                          low ? shortfall_reasons(ctx, *c) : "", cite(*c)});
  }
  out.push_back(std::move(table));
  const CaseRecord& best = *rated.back();
  // Above 100% the roof is wrong, not the kernel: say so rather than let it pass as a result.
  const auto above = std::count_if(rated.begin(), rated.end(), [](auto* c) { return c->roofline->pct_peak > 105; });
  if (above > 0) {
    Text warn(std::to_string(above) + " case(s) exceed their calibrated roof, up to " + pct(best.roofline->pct_peak) + " (");
    warn.code(cite(best)).plain("): the machine profile underestimates this machine (measured with --quick or under load?). "
                                "Run 'attnbench calibrate' on a quiet machine before trusting the percentages.");
    out.insert(out.end() - 1, Callout{warn});
    ctx.finding(warn);
  }
  const CaseRecord& worst = *rated.front();
  Text t;
  t.plain(std::to_string(rated.size() - std::size_t(below_half)) + " of " + std::to_string(rated.size()) +
          " cases reach half their roofline or more; highest ").code(best.kernel).plain(" on ").code(best.problem_str)
      .plain(" at " + pct(best.roofline->pct_peak) + " (").code(cite(best)).plain(")");
  if (worst.roofline->pct_peak < 50)
    t.plain("; lowest ").code(worst.kernel).plain(" on ").code(worst.problem_str).plain(" at " + pct(worst.roofline->pct_peak) + ": " +
                                                                                       shortfall_reasons(ctx, worst) + " (")
        .code(cite(worst)).plain(")");
  ctx.finding(t);
}

void section_problems(ReportContext& ctx, std::vector<Block>& out) {
  Table table{{"kernel", "problem", "threads", "ranks", "status", "reason", "record"}, {false, false, true, true, false, false, false}, {}};
  std::map<std::string, int> reasons;
  int failed = 0;
  for (const CaseRecord& c : ctx.all()) {
    if (c.ok()) continue;
    const std::string reason = c.reason.empty() ? (c.status == "ok" ? "no timing in the record" : "(no reason given)") : c.reason;
    table.rows.push_back({c.kernel, c.problem_str, std::to_string(c.threads), std::to_string(c.ranks), c.status, reason, cite(c)});
    ++reasons[c.status + ": " + reason];
    failed += c.status == "failed";
  }
  if (table.rows.empty()) return;
  out.push_back(Heading{2, "Skipped and failed cases", "problems"});
  if (failed > 0)
    out.push_back(Callout{Text(std::to_string(failed) + " case(s) failed (set-up or run raised an error, or the output missed the "
                               "reference's tolerance); their figures are not in the plots.")});
  Text t(std::to_string(table.rows.size()) + " case(s) not measured: ");
  out.push_back(std::move(table));
  bool first = true;
  for (const auto& [reason, n] : reasons) {
    t.plain(std::string(first ? "" : "; ") + std::to_string(n) + " x ").code(reason);
    first = false;
  }
  ctx.finding(t);
}

void section_all_cases(ReportContext& ctx, std::vector<Block>& out) {
  if (ctx.ok().empty()) return;
  out.push_back(Heading{2, "Every analysed case", "cases"});
  out.push_back(Paragraph{Text("Medians with the 95% confidence interval of the median (order statistics), as recorded. "
                               "summary.csv holds every record with full precision.")});
  Table table{{"kernel", "problem", "threads", "ranks", "median", "95% CI", "reps", "GFLOP/s", "tokens/s", "% of roof", "peak RSS", "record"},
              {false, false, true, true, true, true, true, true, true, true, true, false},
              {}};
  for (const CaseRecord* c : ctx.ok())
    table.rows.push_back({c->kernel + ctx.origin(*c), c->problem_str, std::to_string(c->threads), std::to_string(c->ranks), fmt_seconds(*c->median_s),
                          c->ci_low_s && c->ci_high_s ? fmt_seconds(*c->ci_low_s) + " - " + fmt_seconds(*c->ci_high_s) : "",
                          std::to_string(c->repetitions), c->gflops ? fmt_sig(*c->gflops) : "", c->tokens_per_s ? fmt_sig(*c->tokens_per_s) : "",
                          c->pct_peak ? pct(*c->pct_peak) : "", c->peak_rss_bytes ? fmt_bytes(*c->peak_rss_bytes) : "", cite(*c)});
  out.push_back(std::move(table));
}

}  // namespace attnbench::report
