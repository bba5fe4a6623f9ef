#include "report_context.hpp"

#include <unordered_map>

namespace attnbench::report {

namespace {

std::string case_key(const std::string& origin, const std::string& kernel, const std::string& problem_str, int threads,
                     int ranks) {
  return origin + '\x1f' + kernel + '\x1f' + problem_str + '\x1f' + std::to_string(threads) + '\x1f' + std::to_string(ranks);
}

std::string short_commit(const std::string& commit) { return commit.substr(0, 12); }

}  // namespace

ReportContext::ReportContext(const std::vector<CaseRecord>& cases) : all_(cases) {
  std::map<std::string, int> machines, builds;
  for (const CaseRecord& c : cases) {
    origins_.emplace(c.machine_key() + '\x1f' + c.build_key(), int(origins_.size()));
    machines.emplace(c.machine_key(), 0);
    builds.emplace(c.build_key(), 0);
  }
  several_machines_ = machines.size() > 1;
  several_builds_ = builds.size() > 1;
  // The last record of a key wins (a re-run replaces an earlier measurement of the same case).
  std::unordered_map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i].ok()) {
      const CaseRecord& c = cases[i];
      const std::string key = case_key(origin(c), c.kernel, c.problem_str, c.threads, c.ranks);
      if (last.count(key)) ++superseded_;
      last[key] = i;
    }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseRecord& c = cases[i];
    if (!c.ok()) continue;
    const std::string key = case_key(origin(c), c.kernel, c.problem_str, c.threads, c.ranks);
    if (last.at(key) != i) continue;
    ok_.push_back(&c);
    index_[key] = &c;
  }
}

std::string ReportContext::origin(const CaseRecord& c) const {
  if (!several_machines_ && !several_builds_) return "";
  std::string label = " @" + (c.host.empty() ? std::string("unknown host") : c.host);
  if (several_builds_) label += " " + (c.git_commit.empty() ? std::string("unknown build") : short_commit(c.git_commit));
  return label;
}

const CaseRecord* ReportContext::find(const CaseRecord& like, const std::string& kernel, const std::string& problem_str,
                                      int threads, int ranks) const {
  const auto it = index_.find(case_key(origin(like), kernel, problem_str, threads, ranks));
  return it == index_.end() ? nullptr : it->second;
}

std::string ReportContext::context(const CaseRecord& c, Axis omit, bool with_parallelism) const {
  const auto n = [](std::int64_t v) { return std::to_string(v); };
  std::string s;
  if (c.family == "attention" || c.op == "mha") {
    s = "attention b" + n(c.batch);
    if (omit != Axis::heads) s += " h" + n(c.heads) + (c.kv_heads != c.heads ? "/kv" + n(c.kv_heads) : "");
    if (omit != Axis::head_dim) s += " d" + n(c.head_dim) + (c.value_dim != c.head_dim ? "/dv" + n(c.value_dim) : "");
    if (c.seq_q == c.seq_kv)
      s += omit == Axis::seq ? " self" : " L" + n(c.seq_q);
    else if (c.seq_q == 1)
      s += omit == Axis::seq ? " decode" : " decode Lk" + n(c.seq_kv);
    else
      s += " cross Lq" + n(c.seq_q) + (omit == Axis::seq ? "" : " Lk" + n(c.seq_kv));
    if (!c.mask.empty() && c.mask != "none") s += ", " + c.mask;
    if (!c.score.empty() && c.score != "scaled_dot") s += ", " + c.score;
    if (c.projections) s += ", with projections";
  } else {
    s = (c.op.empty() ? c.family : c.op) + " b" + n(c.batch) + " D" + n(c.model_dim());
    if (c.op == "conv1d") {
      s += " k" + n(c.kernel_size);
      if (c.dilation != 1) s += " dil" + n(c.dilation);
      if (c.layers != 1) s += " x" + n(c.layers) + " layers";
      if (!c.mask.empty() && c.mask == "causal") s += ", causal";
    }
    if (c.bidirectional) s += ", bidirectional";
    if (omit != Axis::seq) s += " L" + n(c.seq_q);
  }
  if (with_parallelism) s += ", " + n(c.threads) + (c.threads == 1 ? " thread" : " threads") + (c.ranks > 1 ? " x " + n(c.ranks) + " ranks" : "");
  return s + origin(c);
}

double ReportContext::axis_value(const CaseRecord& c, Axis axis) {
  switch (axis) {
    case Axis::seq: return double(c.seq_kv);
    case Axis::heads: return double(c.heads);
    case Axis::head_dim: return double(c.head_dim);
    case Axis::none: break;
  }
  return 0;
}

int ReportContext::color(const std::string& kernel) {
  return colors_.emplace(kernel, int(colors_.size())).first->second;
}

bool ReportContext::figure(std::vector<Block>& out, PlotSpec spec, const std::string& slug, const std::string& caption) {
  if (!drawable(spec)) return false;
  ++figures_;
  const std::string number = (figures_ < 10 ? "0" : "") + std::to_string(figures_);
  spec.id = "fig" + number;
  out.push_back(Figure{"fig-" + number + "-" + slug + ".svg", render_svg(spec), "Figure " + std::to_string(figures_) + ". " + caption});
  return true;
}

std::vector<std::pair<std::string, std::vector<const CaseRecord*>>> group_by(
    const std::vector<const CaseRecord*>& cases, const std::function<std::string(const CaseRecord&)>& key) {
  std::vector<std::pair<std::string, std::vector<const CaseRecord*>>> groups;
  std::unordered_map<std::string, std::size_t> where;
  for (const CaseRecord* c : cases) {
    const std::string k = key(*c);
    const auto [it, added] = where.emplace(k, groups.size());
    if (added) groups.push_back({k, {}});
    groups[it->second].second.push_back(c);
  }
  return groups;
}

}  // namespace attnbench::report
