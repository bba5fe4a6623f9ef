// Parallel scaling: with threads (same kernel, same problem, fewer threads as the base) and with MPI
// ranks (the same kernel on one rank as the base, or the serial blocked kernel when only that ran).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report_sections.hpp"
#include "report_text.hpp"

namespace attnbench::report {

namespace {

std::string pct(double fraction) { return fmt_sig(fraction * 100, 3) + "%"; }

struct ScalingPoint {
  const CaseRecord* base;
  const CaseRecord* c;
  SpeedUp s;
  double workers;  ///< threads (or ranks) relative to the base's
};

/// Plots speed-up against `x_of` for each series' largest problem, with the ideal line.
void scaling_plot(ReportContext& ctx, std::vector<Block>& out, const std::vector<ScalingPoint>& points, const std::string& what,
                  const std::function<double(const CaseRecord&)>& x_of, const std::string& slug) {
  // For each kernel, the largest problem (by flops) that has scaling points.
  std::map<std::string, std::string> largest;
  std::map<std::string, double> largest_flops;
  for (const ScalingPoint& p : points) {
    const double f = p.c->flops.value_or(0);
    auto [it, added] = largest_flops.emplace(p.c->kernel + ctx.origin(*p.c), f);
    if (added || f > it->second) it->second = f, largest[p.c->kernel + ctx.origin(*p.c)] = p.c->problem_str;
  }
  PlotSpec spec = make_plot("Speed-up vs " + what + " (largest problem of each kernel)", what, "speed-up over the base (x)", true);
  spec.log_x = false;  // linear axes: the ideal line y = x is straight
  double max_x = 1;
  for (const auto& [key, problem] : largest) {
    PlotSeries s{key + " " + problem, {}, 0};
    for (const ScalingPoint& p : points)
      if (p.c->kernel + ctx.origin(*p.c) == key && p.c->problem_str == problem) {
        if (s.points.empty()) s.points.push_back({x_of(*p.base), 1.0});
        s.points.push_back({x_of(*p.c), p.s.ratio});
        s.color = ctx.color(p.c->kernel);
        max_x = std::max(max_x, x_of(*p.c));
      }
    spec.series.push_back(s);
  }
  double min_x = max_x;
  for (const ScalingPoint& p : points) min_x = std::min(min_x, x_of(*p.base));
  spec.series.push_back(PlotSeries{"ideal (linear)", {{min_x, 1.0}, {max_x, max_x / min_x}}, 8, true});
  ctx.figure(out, spec, slug, spec.title + "; dashed: ideal linear scaling.");
}

}  // namespace

void section_threads(ReportContext& ctx, std::vector<Block>& out) {
  std::vector<ScalingPoint> points;
  for (const auto& [key, cases] : group_by(ctx.ok(), [&](const CaseRecord& c) {
         return c.kernel + '\x1f' + c.problem_str + '\x1f' + std::to_string(c.ranks) + ctx.origin(c);
       })) {
    const CaseRecord* base = *std::min_element(cases.begin(), cases.end(), [](auto* a, auto* b) { return a->threads < b->threads; });
    for (const CaseRecord* c : cases)
      if (c->threads > base->threads)
        if (const auto s = speed_up(*base, *c)) points.push_back({base, c, *s, double(c->threads) / double(base->threads)});
  }
  if (points.empty()) {
    ctx.omit("Scaling with threads", "no kernel was measured on one problem at two or more thread counts");
    return;
  }
  out.push_back(Heading{2, "Scaling with threads", "threads"});
  out.push_back(Paragraph{Text("Each kernel against itself on the same problem with the fewest threads measured. "
                               "Parallel efficiency = speed-up / (threads / base threads).")});
  scaling_plot(ctx, out, points, "threads", [](const CaseRecord& c) { return double(c.threads); }, "threads-speedup");
  // Efficiency against sequence length at each thread count: where parallelism starts to pay.
  std::vector<const CaseRecord*> scaled;
  std::map<const CaseRecord*, double> efficiency;
  for (const ScalingPoint& p : points) scaled.push_back(p.c), efficiency[p.c] = p.s.ratio / p.workers;
  for (const auto& [context, group] : group_by(scaled, [&](const CaseRecord& c) { return ctx.context(c, Axis::seq); })) {
    PlotSpec spec = make_plot("Parallel efficiency vs sequence length: " + context, "sequence length", "parallel efficiency", true);
    for (const auto& [kernel, cases] : group_by(group, [](const CaseRecord& c) { return c.kernel; })) {
      PlotSeries s{kernel, {}, ctx.color(kernel)};
      for (const CaseRecord* c : cases) s.points.push_back({double(c->seq_kv), efficiency[c]});
      if (s.points.size() > 1) spec.series.push_back(s);
    }
    if (spec.series.empty()) continue;
    double lo = HUGE_VAL, hi = 0;
    for (const PlotSeries& s : spec.series)
      for (const auto& [x, y] : s.points) lo = std::min(lo, x), hi = std::max(hi, x);
    spec.series.push_back(PlotSeries{"ideal", {{lo, 1.0}, {hi, 1.0}}, 8, true});
    ctx.figure(out, spec, "threads-efficiency", spec.title + ".");
  }
  Table table{{"kernel", "problem", "ranks", "threads", "median", "speed-up (95% CI)", "efficiency", "base record", "record"},
              {false, false, true, true, true, true, true, false, false},
              {}};
  std::map<std::string, std::vector<const ScalingPoint*>> by_kernel;
  for (const ScalingPoint& p : points) {
    table.rows.push_back({p.c->kernel, p.c->problem_str, std::to_string(p.c->ranks),
                          std::to_string(p.base->threads) + " -> " + std::to_string(p.c->threads), fmt_seconds(*p.c->median_s),
                          fmt_speed_up(p.s), pct(p.s.ratio / p.workers), cite(*p.base), cite(*p.c)});
    by_kernel[p.c->kernel + ctx.origin(*p.c) + " " + std::to_string(p.c->threads)].push_back(&p);
  }
  out.push_back(std::move(table));
  for (const auto& [key, ps] : by_kernel) {
    const auto [lo, hi] = std::minmax_element(ps.begin(), ps.end(), [](auto* a, auto* b) { return a->s.ratio < b->s.ratio; });
    const ScalingPoint &a = **lo, &b = **hi;
    Text t;
    t.code(a.c->kernel + ctx.origin(*a.c)).plain(" with " + std::to_string(a.c->threads) + " threads vs " + std::to_string(a.base->threads) +
                                                 ": " + fmt_ratio(a.s.ratio) + " (efficiency " + pct(a.s.ratio / a.workers) + ") on ")
        .code(a.c->problem_str).plain(" (").code(cite(*a.c)).plain(")");
    if (ps.size() > 1)
      t.plain(" to " + fmt_ratio(b.s.ratio) + " (" + pct(b.s.ratio / b.workers) + ") on ").code(b.c->problem_str).plain(" (").code(cite(*b.c)).plain(")");
    t.plain(" over " + std::to_string(ps.size()) + " problem" + (ps.size() > 1 ? "s" : ""));
    ctx.finding(t);
  }
}

void section_ranks(ReportContext& ctx, std::vector<Block>& out) {
  static const std::string kSerialBase = "mha.blocked.serial";
  std::vector<ScalingPoint> points;
  for (const CaseRecord* c : ctx.ok()) {
    if (c->ranks < 2) continue;
    const CaseRecord* base = ctx.find(*c, c->kernel, c->problem_str, c->threads, 1);
    if (!base && c->threads == 1) base = ctx.find(*c, kSerialBase, c->problem_str, 1, 1);
    if (!base) continue;
    if (const auto s = speed_up(*base, *c)) points.push_back({base, c, *s, double(c->ranks)});
  }
  bool any_ranks = false;
  for (const CaseRecord* c : ctx.ok()) any_ranks |= c->ranks > 1;
  if (points.empty()) {
    ctx.omit("Scaling with ranks", any_ranks ? "multi-rank cases have no 1-rank record of the same kernel (or of mha.blocked.serial) "
                                               "on the same problem"
                                             : "no case ran on two or more MPI ranks");
    return;
  }
  out.push_back(Heading{2, "Scaling with ranks", "ranks"});
  out.push_back(Paragraph{Text("Each MPI case against the same kernel on one rank (or, when that was not measured, against "
                               "mha.blocked.serial on one rank, as 'mpirun -n P attnbench run --kernel mha.tp.mpi,mha.blocked.serial' "
                               "measures side by side). Communication share = comm.seconds (the slowest rank's time inside MPI "
                               "calls, which includes waiting) / median time.")});
  scaling_plot(ctx, out, points, "ranks", [](const CaseRecord& c) { return double(c.ranks); }, "ranks-speedup");
  Table table{{"kernel", "problem", "threads/rank", "ranks", "median", "base", "speed-up (95% CI)", "efficiency", "comm share",
               "largest phase", "comm bytes", "base record", "record"},
              {false, false, true, true, true, false, true, true, true, false, true, false, false},
              {}};
  std::map<std::string, const ScalingPoint*> largest;
  for (const ScalingPoint& p : points) {
    const CommPhase* top = nullptr;
    for (const CommPhase& ph : p.c->comm_phases)
      if (!top || ph.seconds_max > top->seconds_max) top = &ph;
    table.rows.push_back({p.c->kernel, p.c->problem_str, std::to_string(p.c->threads), std::to_string(p.c->ranks), fmt_seconds(*p.c->median_s),
                          p.base->kernel + " x1", fmt_speed_up(p.s), pct(p.s.ratio / p.workers), pct(p.c->comm_seconds / *p.c->median_s),
                          top ? top->phase + " " + fmt_seconds(top->seconds_max) : "", fmt_bytes(p.c->comm_bytes), cite(*p.base), cite(*p.c)});
    const std::string key = p.c->kernel + ctx.origin(*p.c) + " " + std::to_string(p.c->ranks);
    if (!largest.count(key) || p.c->flops.value_or(0) > largest[key]->c->flops.value_or(0)) largest[key] = &p;
  }
  int over = 0;
  for (const ScalingPoint& p : points) over += p.c->comm_seconds > *p.c->median_s;
  if (over > 0)
    out.push_back(Callout{Text(std::to_string(over) + " case(s) show a communication share above 100%: comm.seconds (the "
                               "largest rank's exposed communication per forward pass) is not taken from the median "
                               "repetition, so when repetitions vary widely (a loaded machine) it can exceed the median time. Treat those "
                               "cases' times as unreliable.")});
  out.push_back(std::move(table));
  for (const auto& [key, p] : largest) {
    Text t;
    t.code(p->c->kernel + ctx.origin(*p->c)).plain(" on " + std::to_string(p->c->ranks) + " ranks, ").code(p->c->problem_str)
        .plain(": " + fmt_speed_up(p->s) + " over ").code(p->base->kernel).plain(" on one rank, efficiency " + pct(p->s.ratio / p->workers) +
                                                                              ", communication " + pct(p->c->comm_seconds / *p->c->median_s) +
                                                                              " of the time (")
        .code(cite(*p->base)).plain(", ").code(cite(*p->c)).plain(")");
    ctx.finding(t);
  }
}

}  // namespace attnbench::report
