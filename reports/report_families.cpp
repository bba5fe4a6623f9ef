// Attention vs CNN vs RNN on matched shapes (same batch, sequence length and model width
// D = heads x head_dim, same threads and ranks): cost against sequence length, the crossover lengths
// where one family's fastest kernel overtakes another's, and what threads buy each family.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "report_sections.hpp"
#include "report_text.hpp"

namespace attnbench::report {

namespace {

bool comparable(const CaseRecord& c) {
  if (c.family == "attention" || c.op == "mha") return c.seq_q == c.seq_kv;  // self-attention: one sequence
  return c.family == "cnn" || c.family == "rnn";
}

/// The line a record is compared on: its family, with conv1d stacks apart from single layers. A single k=3
/// layer sees 3 tokens; the stack whose receptive field covers the sequence (`--layers cover`) is the CNN that,
/// like attention and an RNN, lets every position see the whole sequence, at `layers` times the cost. Pooling
/// both under "cnn" would compare attention with the cheap layer alone.
std::string family_of(const CaseRecord& c) {
  const std::string family = c.family.empty() ? c.op : c.family;
  return family == "cnn" && c.layers > 1 ? "cnn stack" : family;
}

/// Two lines of one family (a layer and its stack) are not a comparison the section is for.
bool same_family(const std::string& a, const std::string& b) { return a.substr(0, a.find(' ')) == b.substr(0, b.find(' ')); }

/// The fastest kernel of one family at each length of a matched group.
using BestByLength = std::map<std::int64_t, const CaseRecord*>;

}  // namespace

void section_families(ReportContext& ctx, std::vector<Block>& out) {
  std::vector<const CaseRecord*> cases;
  for (const CaseRecord* c : ctx.ok())
    if (comparable(*c)) cases.push_back(c);
  const auto match = [&](const CaseRecord& c) {
    return "b" + std::to_string(c.batch) + " D" + std::to_string(c.model_dim()) + ", " + std::to_string(c.threads) +
           (c.threads == 1 ? " thread" : " threads") + (c.ranks > 1 ? " x " + std::to_string(c.ranks) + " ranks" : "") + ctx.origin(c);
  };
  std::vector<Block> blocks;
  Table crossings{{"matched shape", "faster below", "faster above", "crossover length", "bracketing records"},
                  {false, false, false, true, false},
                  {}};
  Table leads{{"matched shape", "faster", "slower", "lengths", "ratio range", "records"}, {false, false, false, true, true, false}, {}};
  for (const auto& [shape, group] : group_by(cases, match)) {
    std::set<std::string> families;
    for (const CaseRecord* c : group) families.insert(c->family.empty() ? c->op : c->family);
    if (families.size() < 2) continue;
    // Series per kernel (and variant, when one kernel ran several variants of the shape).
    const auto series = group_by(group, [&](const CaseRecord& c) { return c.kernel + '\x1f' + ctx.context(c, Axis::seq, false); });
    std::map<std::string, int> per_kernel;
    for (const auto& [key, cs] : series) ++per_kernel[cs.front()->kernel];
    PlotSpec time = make_plot("Time vs sequence length, attention vs CNN vs RNN: " + shape, "sequence length", "median time (s)");
    PlotSpec flops = make_plot("FLOPs vs sequence length: " + shape, "sequence length", "FLOPs per forward pass");
    PlotSpec tokens = make_plot("Tokens/s vs sequence length: " + shape, "sequence length", "tokens per second");
    PlotSpec memory = make_plot("Peak memory vs sequence length: " + shape, "sequence length", "peak resident set (MiB)");
    std::map<std::string, BestByLength> best;
    for (auto [key, cs] : series) {
      std::stable_sort(cs.begin(), cs.end(), [](auto* a, auto* b) { return a->seq_q < b->seq_q; });
      const CaseRecord& f = *cs.front();
      const std::string label = per_kernel[f.kernel] > 1 ? f.kernel + " (" + ctx.context(f, Axis::seq, false) + ")" : f.kernel;
      PlotSeries t{label, {}, ctx.color(f.kernel)}, fl = t, tk = t, m = t;
      for (const CaseRecord* c : cs) {
        const double x = double(c->seq_q);
        t.points.push_back({x, *c->median_s});
        if (c->flops) fl.points.push_back({x, *c->flops});
        if (c->tokens_per_s) tk.points.push_back({x, *c->tokens_per_s});
        if (c->peak_rss_bytes) m.points.push_back({x, *c->peak_rss_bytes / (1024.0 * 1024.0)});
        const CaseRecord*& b = best[family_of(*c)][c->seq_q];
        if (!b || *c->median_s < *b->median_s) b = c;
      }
      // A variant measured at one length only is in the tables, not drawn as a lone dot.
      if (cs.size() > 1) time.series.push_back(t), flops.series.push_back(fl), tokens.series.push_back(tk), memory.series.push_back(m);
    }
    ctx.figure(blocks, time, "families-time", time.title + ".");
    ctx.figure(blocks, flops, "families-flops", flops.title + " (work.flops of each record).");
    ctx.figure(blocks, tokens, "families-tokens", tokens.title + ".");
    ctx.figure(blocks, memory, "families-memory", memory.title + ".");
    // Crossovers between each pair of families' fastest kernels, only where measured lengths bracket one.
    for (auto a = best.begin(); a != best.end(); ++a)
      for (auto b = std::next(a); b != best.end(); ++b) {
        if (same_family(a->first, b->first)) continue;
        std::vector<std::int64_t> common;
        for (const auto& [len, c] : a->second)
          if (b->second.count(len)) common.push_back(len);
        if (common.empty()) continue;
        const auto lr = [&](std::int64_t len) { return std::log(*a->second.at(len)->median_s / *b->second.at(len)->median_s); };
        bool crossed = false;
        // Walk the sign of log(a/b) from one length where one side leads to the next; a tie measured at a
        // length in between (log ratio exactly 0) is the crossover itself, at that length.
        std::size_t i = 0;
        while (i < common.size() && lr(common[i]) == 0) ++i;
        for (std::size_t j = i + 1; j < common.size(); ++j) {
          const double l1 = lr(common[j]);
          if (l1 == 0) continue;
          const double l0 = lr(common[i]);
          if (l0 * l1 < 0) {
            crossed = true;
            const double x0 = std::log(double(common[i])), x1 = std::log(double(common[j]));
            const double len = j == i + 1 ? std::exp(x0 + (x1 - x0) * l0 / (l0 - l1)) : double(common[i + 1]);
            const bool a_first = l0 < 0;
            const CaseRecord *a0 = a->second.at(common[i]), *b0 = b->second.at(common[i]), *a1 = a->second.at(common[j]),
                             *b1 = b->second.at(common[j]);
            const std::string below = a_first ? a->first : b->first, above = a_first ? b->first : a->first;
            crossings.rows.push_back({shape, below + " (" + (a_first ? a0 : b0)->kernel + ")", above + " (" + (a_first ? b1 : a1)->kernel + ")",
                                      "~" + fmt_sig(len) + " (between " + std::to_string(common[i]) + " and " + std::to_string(common[j]) + ")",
                                      cite(*a0) + ", " + cite(*b0) + ", " + cite(*a1) + ", " + cite(*b1)});
            Text t;
            t.plain(shape + ": " + above + " (").code((a_first ? b1 : a1)->kernel).plain(") overtakes " + below + " (")
                .code((a_first ? a0 : b0)->kernel).plain(") at a sequence length of about " + fmt_sig(len) + ", between the measured " +
                                                         std::to_string(common[i]) + " and " + std::to_string(common[j]) + " (")
                .code(cite(*a0) + ", " + cite(*b0) + ", " + cite(*a1) + ", " + cite(*b1)).plain(")");
            ctx.finding(t);
          }
          i = j;
        }
        if (crossed) continue;
        // No crossover in the measured range: say who leads and by how much, without extrapolating.
        const auto first_lead = std::find_if(common.begin(), common.end(), [&](std::int64_t len) { return lr(len) != 0; });
        const bool a_leads = first_lead != common.end() && lr(*first_lead) < 0;
        double lo = HUGE_VAL, hi = 0;
        for (std::int64_t len : common) {
          const double r = std::exp(a_leads ? -lr(len) : lr(len));
          lo = std::min(lo, r), hi = std::max(hi, r);
        }
        const auto& fast = a_leads ? *a : *b;
        const auto& slow = a_leads ? *b : *a;
        const std::string lengths = common.size() == 1 ? std::to_string(common.front())
                                                       : std::to_string(common.front()) + "-" + std::to_string(common.back());
        leads.rows.push_back({shape, fast.first, slow.first, lengths, fmt_ratio(lo) + " - " + fmt_ratio(hi),
                              cite(*fast.second.at(common.front())) + ".." + cite(*fast.second.at(common.back()))});
        Text t;
        t.plain(shape + ": " + fast.first + " is faster than " + slow.first + " at every measured length (" + lengths + "), by " + fmt_ratio(lo) +
                " to " + fmt_ratio(hi) + "; no crossover in the measured range (")
            .code(cite(*fast.second.at(common.front())) + ".." + cite(*slow.second.at(common.back()))).plain(")");
        ctx.finding(t);
      }
  }
  if (blocks.empty()) {
    ctx.omit("Attention vs CNN vs RNN", "no shape (batch, sequence length, model width, threads) was measured with kernels of two families "
                                        "at two or more lengths");
    return;
  }
  out.push_back(Heading{2, "Attention vs CNN vs RNN", "families"});
  out.push_back(Paragraph{Text("Matched shapes: the same batch, sequence length and model width D = heads x head_dim, on the same "
                               "threads and ranks; conv1d stacks (cnn stack) apart from single layers. Crossovers compare each family's "
                               "fastest kernel at each length; a crossover "
                               "length is interpolated on log-log scale between the two measured lengths that bracket it, and "
                               "is stated only when such a bracket exists.")});
  out.insert(out.end(), blocks.begin(), blocks.end());
  if (!crossings.rows.empty()) out.push_back(std::move(crossings));
  if (!leads.rows.empty()) out.push_back(std::move(leads));
  // What threads buy each family: each kernel against itself on one thread.
  Table threads{{"family", "kernel", "problem", "threads", "speed-up (95% CI)", "sequential steps", "records"},
                {false, false, false, true, true, true, false},
                {}};
  PlotSpec spec = make_plot("Thread speed-up vs sequence length, by family", "sequence length", "speed-up over 1 thread (x)", true);
  std::map<std::string, PlotSeries> by_kernel;
  for (const CaseRecord* c : cases) {
    if (c->threads < 2) continue;
    const CaseRecord* base = ctx.find(*c, c->kernel, c->problem_str, 1, c->ranks);
    const auto s = base ? speed_up(*base, *c) : std::nullopt;
    if (!s) continue;
    threads.rows.push_back({family_of(*c), c->kernel, c->problem_str, std::to_string(c->threads), fmt_speed_up(*s),
                            c->sequential_steps ? fmt_sig(*c->sequential_steps, 6) : "", cite(*base) + ", " + cite(*c)});
    const std::string key = c->kernel + (c->layers > 1 ? " stack " : " ") + std::to_string(c->threads) + " thr" + ctx.origin(*c);
    auto [it, added] = by_kernel.emplace(key, PlotSeries{key, {}, ctx.color(c->kernel)});
    it->second.points.push_back({double(c->seq_q), s->ratio});
  }
  if (!threads.rows.empty()) {
    out.push_back(Heading{3, "What threads buy each family", "families-threads"});
    out.push_back(Paragraph{Text("An RNN runs one step after another (sequential steps = L), so threads can only split each "
                                 "step's product; attention and convolution expose the whole sequence at once.")});
    for (auto& [key, s] : by_kernel) spec.series.push_back(s);
    ctx.figure(out, spec, "families-threads", spec.title + ".");
    out.push_back(std::move(threads));
  }
}

}  // namespace attnbench::report
