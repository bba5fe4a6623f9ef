// Single-problem performance sections: the fastest kernel per regime, time and GFLOP/s against
// sequence length (with the calibrated roofs), speed-up over the naive kernel, the heads and head-dim
// sweeps, and peak memory.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report_sections.hpp"
#include "report_text.hpp"

namespace attnbench::report {

namespace {

bool is_attention(const CaseRecord& c) { return c.family == "attention" || c.op == "mha"; }

std::vector<const CaseRecord*> attention_cases(const ReportContext& ctx) {
  std::vector<const CaseRecord*> out;
  for (const CaseRecord* c : ctx.ok())
    if (is_attention(*c)) out.push_back(c);
  return out;
}

std::string seq_range(double first, double last) {
  const auto n = [](double v) { return std::to_string(std::int64_t(v)); };
  return first == last ? n(first) : n(first) + "-" + n(last);
}

/// Least-squares slope of log(time) against log(x): the exponent p in time ~ x^p.
std::optional<double> growth_exponent(const std::vector<std::pair<double, double>>& pts) {
  if (pts.size() < 3) return std::nullopt;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : pts) {
    const double lx = std::log(x), ly = std::log(y);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  const double n = double(pts.size()), den = n * sxx - sx * sx;
  if (std::fabs(den) < 1e-12) return std::nullopt;
  return (n * sxy - sx * sy) / den;
}

/// Cases of one group as series per kernel along `axis`, keeping only kernels with 2+ distinct values.
std::vector<std::pair<std::string, std::vector<const CaseRecord*>>> varying_series(const std::vector<const CaseRecord*>& group,
                                                                                   Axis axis) {
  std::vector<std::pair<std::string, std::vector<const CaseRecord*>>> out;
  for (auto& [kernel, cases] : group_by(group, [](const CaseRecord& c) { return c.kernel; })) {
    std::set<double> xs;
    for (const CaseRecord* c : cases) xs.insert(ReportContext::axis_value(*c, axis));
    if (xs.size() < 2) continue;
    std::stable_sort(cases.begin(), cases.end(), [&](const CaseRecord* a, const CaseRecord* b) {
      return ReportContext::axis_value(*a, axis) < ReportContext::axis_value(*b, axis);
    });
    out.push_back({kernel, cases});
  }
  return out;
}

const char* axis_name(Axis axis) {
  switch (axis) {
    case Axis::seq: return "sequence length";
    case Axis::heads: return "heads";
    case Axis::head_dim: return "head dim";
    case Axis::none: break;
  }
  return "";
}

}  // namespace

std::optional<SpeedUp> speed_up(const CaseRecord& base, const CaseRecord& x) {
  if (!base.ok() || !x.ok()) return std::nullopt;
  SpeedUp s;
  s.ratio = *base.median_s / *x.median_s;
  const double bl = base.ci_low_s.value_or(*base.median_s), bh = base.ci_high_s.value_or(*base.median_s);
  const double xl = x.ci_low_s.value_or(*x.median_s), xh = x.ci_high_s.value_or(*x.median_s);
  s.low = xh > 0 ? bl / xh : s.ratio;
  s.high = xl > 0 ? bh / xl : s.ratio;
  return s;
}

std::string fmt_speed_up(const SpeedUp& s) {
  return fmt_ratio(s.ratio) + " (95% CI " + fmt_sig(s.low) + "-" + fmt_ratio(s.high) + ")";
}

void section_regimes(ReportContext& ctx, std::vector<Block>& out) {
  out.push_back(Heading{2, "Fastest kernel per regime", "regimes"});
  // A regime: one attention shape (all but the length), one core budget (threads x ranks), a run of
  // consecutive measured lengths with the same winner.
  const auto groups = group_by(attention_cases(ctx), [&](const CaseRecord& c) {
    return ctx.context(c, Axis::seq, false) + '\x1f' + std::to_string(c.threads * c.ranks);
  });
  Table table{{"regime", "cores", "seq", "fastest", "median", "next fastest", "margin (95% CI)", "records"},
              {false, true, true, false, true, false, true, false},
              {}};
  for (const auto& [key, cases] : groups) {
    std::map<std::int64_t, std::vector<const CaseRecord*>> by_seq;
    for (const CaseRecord* c : cases) by_seq[c->seq_kv].push_back(c);
    const CaseRecord& first = *cases.front();
    const std::string regime = ctx.context(first, Axis::seq, false);
    const int cores = first.threads * first.ranks;
    struct Point {
      std::int64_t seq;
      const CaseRecord *best, *next;
    };
    std::vector<Point> points;
    for (auto& [seq, at] : by_seq) {
      if (at.size() < 2) continue;  // one kernel alone at this length: no contest, no winner
      std::stable_sort(at.begin(), at.end(), [](const CaseRecord* a, const CaseRecord* b) { return *a->median_s < *b->median_s; });
      points.push_back({seq, at[0], at[1]});
    }
    if (points.empty()) continue;
    Text finding;
    finding.plain(regime + ", " + std::to_string(cores) + (cores == 1 ? " core: " : " cores: "));
    for (std::size_t i = 0; i < points.size();) {
      std::size_t j = i;
      while (j + 1 < points.size() && points[j + 1].best->kernel == points[i].best->kernel) ++j;
      // The narrowest margin in the run is the one worth quoting.
      std::optional<SpeedUp> margin;
      const CaseRecord* margin_over = nullptr;
      for (std::size_t k = i; k <= j; ++k)
        if (const auto s = speed_up(*points[k].next, *points[k].best); s && (!margin || s->ratio < margin->ratio))
          margin = s, margin_over = points[k].next;
      const CaseRecord &lo = *points[i].best, &hi = *points[j].best;
      table.rows.push_back({regime, std::to_string(cores), seq_range(double(points[i].seq), double(points[j].seq)), lo.kernel,
                            i == j ? fmt_seconds(*lo.median_s) : fmt_seconds(*lo.median_s) + " - " + fmt_seconds(*hi.median_s),
                            margin_over ? margin_over->kernel : "", margin ? fmt_speed_up(*margin) : "",
                            i == j ? cite(lo) : cite(lo) + ", " + cite(hi)});
      if (i > 0) finding.plain("; ");
      finding.code(lo.kernel).plain(" fastest at L " + seq_range(double(points[i].seq), double(points[j].seq)));
      const std::string narrowest = i == j ? "" : ", the narrowest margin in the range";
      if (margin && margin->low > 1)
        finding.plain(", " + fmt_speed_up(*margin) + " ahead of ").code(margin_over->kernel).plain(narrowest);
      else if (margin)
        finding.plain(", not significantly ahead of ").code(margin_over->kernel).plain(" (" + fmt_speed_up(*margin) + narrowest + ")");
      finding.plain(" (").code(i == j ? cite(lo) : cite(lo) + ".." + cite(hi)).plain(")");
      i = j + 1;
    }
    ctx.finding(finding);
  }
  if (table.rows.empty()) {
    out.pop_back();
    ctx.omit("Fastest kernel per regime", "no attention shape was measured with two or more kernels on the same core budget");
    return;
  }
  out.push_back(Paragraph{Text("For each attention shape and core budget (threads x ranks), the kernel with the lowest median "
                               "time at each measured sequence length; consecutive lengths with the same winner form one regime. "
                               "The margin is the narrowest one in the regime, against the kernel that came second there.")});
  out.push_back(std::move(table));
}

void section_sequence(ReportContext& ctx, std::vector<Block>& out) {
  out.push_back(Heading{2, "Time and GFLOP/s vs sequence length", "sequence"});
  const std::size_t heading_at = out.size();
  Table growth{{"shape", "kernel", "lengths", "time ~ L^p: p", "records"}, {false, false, true, true, false}, {}};
  for (const auto& [context, group] : group_by(attention_cases(ctx), [&](const CaseRecord& c) { return ctx.context(c, Axis::seq); })) {
    const auto series = varying_series(group, Axis::seq);
    if (series.empty()) continue;
    PlotSpec time = make_plot("Time vs sequence length: " + context, "sequence length (keys)", "median time (s)");
    PlotSpec rate = make_plot("GFLOP/s vs sequence length: " + context, "sequence length (keys)", "GFLOP/s");
    std::map<double, double> peak, attainable;
    for (const auto& [kernel, cases] : series) {
      PlotSeries t{kernel, {}, ctx.color(kernel)}, r{kernel, {}, ctx.color(kernel)};
      std::vector<std::pair<double, double>> pts;
      for (const CaseRecord* c : cases) {
        const double x = double(c->seq_kv);
        t.points.push_back({x, *c->median_s});
        pts.push_back({x, *c->median_s});
        if (c->gflops) r.points.push_back({x, *c->gflops});
        if (c->roofline) peak[x] = c->roofline->peak_gflops, attainable[x] = c->roofline->attainable_gflops;
      }
      time.series.push_back(t);
      rate.series.push_back(r);
      if (const auto p = growth_exponent(pts))
        growth.rows.push_back({context, kernel, seq_range(pts.front().first, pts.back().first), fmt_sig(*p),
                               cite(*cases.front()) + ".." + cite(*cases.back())});
    }
    if (!peak.empty()) {
      PlotSeries p{"calibrated FMA peak", {}, 6, true}, a{"roofline bound (min(peak, intensity x triad))", {}, 8, true};
      bool below = false;
      for (const auto& [x, v] : peak) p.points.push_back({x, v});
      for (const auto& [x, v] : attainable) a.points.push_back({x, v}), below |= v < peak[x] * 0.999;
      rate.series.push_back(p);
      if (below) rate.series.push_back(a);
    }
    ctx.figure(out, time, "time-vs-seq", time.title + ".");
    ctx.figure(out, rate, "gflops-vs-seq", rate.title + (peak.empty() ? " (no machine profile: no roofline)." : ", with the calibrated roofs (dashed)."));
  }
  if (out.size() == heading_at) {
    out.pop_back();
    ctx.omit("Time and GFLOP/s vs sequence length", "no attention kernel was measured at two or more sequence lengths with all else equal");
    return;
  }
  if (!growth.rows.empty()) {
    out.insert(out.begin() + std::ptrdiff_t(heading_at),
               Paragraph{Text("How time grows with the sequence length: the exponent p of a least-squares fit of log time "
                              "against log length (3 or more lengths). Full attention is O(L^2) in work, so p near 2 means "
                              "the kernel keeps its rate as L grows; p below 2 at short lengths shows fixed overheads.")});
    out.insert(out.begin() + std::ptrdiff_t(heading_at) + 1, growth);
  }
}

void section_speedup_naive(ReportContext& ctx, std::vector<Block>& out) {
  static const std::string kNaive = "mha.naive.serial";
  Table table{{"kernel", "problem", "threads", "ranks", "speed-up (95% CI)", "naive record", "record"},
              {false, false, true, true, true, false, false},
              {}};
  std::vector<const CaseRecord*> with_base;
  std::map<std::string, std::pair<SpeedUp, const CaseRecord*>> best;  // per kernel
  for (const CaseRecord* c : attention_cases(ctx)) {
    if (c->kernel == kNaive) continue;
    const CaseRecord* naive = ctx.find(*c, kNaive, c->problem_str, 1, 1);
    if (!naive) continue;
    const auto s = speed_up(*naive, *c);
    if (!s) continue;
    with_base.push_back(c);
    table.rows.push_back({c->kernel, c->problem_str, std::to_string(c->threads), std::to_string(c->ranks), fmt_speed_up(*s),
                          cite(*naive), cite(*c)});
    auto& b = best[c->kernel];
    if (!b.second || s->ratio > b.first.ratio) b = {*s, c};
  }
  if (table.rows.empty()) {
    ctx.omit("Speed-up over mha.naive.serial", "no case has an mha.naive.serial record on the same problem and machine");
    return;
  }
  out.push_back(Heading{2, "Speed-up over mha.naive.serial", "speedup"});
  out.push_back(Paragraph{Text("Median time of mha.naive.serial divided by the kernel's, on the same problem and machine. "
                               "The interval is conservative: the naive kernel's 95% interval of the median divided by the "
                               "other kernel's.")});
  for (const auto& [context, group] : group_by(with_base, [&](const CaseRecord& c) { return ctx.context(c, Axis::seq); })) {
    PlotSpec spec = make_plot("Speed-up over mha.naive.serial: " + context, "sequence length (keys)", "speed-up (x)");
    for (const auto& [kernel, cases] : varying_series(group, Axis::seq)) {
      PlotSeries s{kernel, {}, ctx.color(kernel)};
      for (const CaseRecord* c : cases)
        s.points.push_back({double(c->seq_kv), speed_up(*ctx.find(*c, kNaive, c->problem_str, 1, 1), *c)->ratio});
      spec.series.push_back(s);
    }
    ctx.figure(out, spec, "speedup-naive", spec.title + ".");
  }
  out.push_back(std::move(table));
  std::vector<std::pair<SpeedUp, const CaseRecord*>> ranked;
  ranked.reserve(best.size());
  for (const auto& [kernel, b] : best) ranked.push_back(b);
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first.ratio > b.first.ratio; });
  Text t("Largest speed-ups over mha.naive.serial: ");
  for (std::size_t i = 0; i < ranked.size() && i < 3; ++i) {
    const CaseRecord& c = *ranked[i].second;
    if (i) t.plain("; ");
    t.code(c.kernel).plain(" " + fmt_speed_up(ranked[i].first) + " on ").code(c.problem_str).plain(", " + std::to_string(c.threads) +
                                                                                                     " thr (").code(cite(c)).plain(")");
  }
  ctx.finding(t);
}

void section_sweeps(ReportContext& ctx, std::vector<Block>& out) {
  for (const Axis axis : {Axis::heads, Axis::head_dim}) {
    const std::string name = axis == Axis::heads ? "Heads sweep" : "Head-dim sweep";
    std::vector<Block> blocks;
    for (const auto& [context, group] : group_by(attention_cases(ctx), [&](const CaseRecord& c) { return ctx.context(c, axis); })) {
      PlotSpec spec = make_plot(std::string("GFLOP/s vs ") + axis_name(axis) + ": " + context, axis_name(axis), "GFLOP/s", true);
      for (const auto& [kernel, cases] : varying_series(group, axis)) {
        PlotSeries s{kernel, {}, ctx.color(kernel)};
        for (const CaseRecord* c : cases)
          if (c->gflops) s.points.push_back({ReportContext::axis_value(*c, axis), *c->gflops});
        spec.series.push_back(s);
      }
      ctx.figure(blocks, spec, axis == Axis::heads ? "heads" : "head-dim", spec.title + ".");
    }
    if (blocks.empty()) {
      ctx.omit(name, std::string("no attention kernel was measured at two or more ") + axis_name(axis) + " values with all else equal");
      continue;
    }
    out.push_back(Heading{2, name, axis == Axis::heads ? "heads" : "head-dim"});
    out.insert(out.end(), blocks.begin(), blocks.end());
  }
}

void section_memory(ReportContext& ctx, std::vector<Block>& out) {
  std::vector<const CaseRecord*> with_rss;
  for (const CaseRecord* c : attention_cases(ctx))  // the baselines' memory is in "Attention vs CNN vs RNN"
    if (c->peak_rss_bytes && *c->peak_rss_bytes > 0) with_rss.push_back(c);
  std::vector<Block> blocks;
  for (const auto& [context, group] : group_by(with_rss, [&](const CaseRecord& c) { return ctx.context(c, Axis::seq); })) {
    PlotSpec spec = make_plot("Peak memory vs sequence length: " + context, "sequence length", "peak resident set (MiB)");
    for (const auto& [kernel, cases] : varying_series(group, Axis::seq)) {
      PlotSeries s{kernel, {}, ctx.color(kernel)};
      for (const CaseRecord* c : cases) s.points.push_back({double(c->seq_kv), *c->peak_rss_bytes / (1024.0 * 1024.0)});
      spec.series.push_back(s);
    }
    ctx.figure(blocks, spec, "memory", spec.title + ".");
  }
  if (blocks.empty()) {
    ctx.omit("Peak memory vs sequence length", "no attention kernel has peak_rss_bytes at two or more sequence lengths with all else equal");
    return;
  }
  out.push_back(Heading{2, "Peak memory vs sequence length", "memory"});
  out.push_back(Paragraph{Text("memory.peak_rss_bytes: the process's peak resident set during the case (reset before each case "
                               "where the kernel allows it), so it includes the inputs, the output and the kernel's workspace; "
                               "memory.model_bytes in summary.csv is the modelled footprint.")});
  out.insert(out.end(), blocks.begin(), blocks.end());
}

}  // namespace attnbench::report
