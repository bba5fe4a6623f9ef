// Case-by-case comparison of two result sets (compare.hpp).
#include "compare.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "cli_parse.hpp"
#include "mann_whitney.hpp"
#include "stats.hpp"

namespace attnbench::reports {
namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%%", fraction * 100);
  return buf;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

bool glob_matches(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// The summary group of a case: the kernel, or a Google Benchmark name's first component.
std::string group_of(const CaseKey& key) {
  if (!key.problem.empty()) return key.kernel;
  return key.kernel.substr(0, key.kernel.find('/'));
}

std::string side_reason(const char* side, const ResultCase& c) {
  return std::string(side) + " " + c.status + (c.reason.empty() ? "" : ": " + c.reason);
}

// Why a side has no samples to test.
std::string no_samples_reason(const char* side, const ResultCase& c) {
  if (c.aggregate_median_s)
    return std::string("only aggregates in ") + side +
           " (rerun Google Benchmark with --benchmark_repetitions=N and without --benchmark_report_aggregates_only)";
  return std::string("no timing samples in ") + side;
}

// The samples the test uses: every repetition, or one value per record with --by-record.
const std::vector<double>& samples_of(const ResultCase& c, const CompareOptions& o) {
  return o.by_record ? c.record_medians_s : c.samples_s;
}

std::optional<double> median_of(const ResultCase& c, const CompareOptions& o) {
  if (!samples_of(c, o).empty()) return summarize(samples_of(c, o)).median;
  return c.aggregate_median_s;
}

std::vector<double> logs(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](double x) { return std::log(x); });
  return out;
}

// Fills the statistics of a case measured on both sides and decides faster/slower/same.
void test_case(const std::vector<double>& b, const std::vector<double>& n, const CompareOptions& o,
               CaseComparison& c) {
  const bool enough = smallest_p_value(c.base_n, c.new_n) <= o.alpha;
  const auto positive = [](const std::vector<double>& s) {
    return std::all_of(s.begin(), s.end(), [](double v) { return v > 0; });
  };
  if (positive(b) && positive(n)) {
    // On log times a shift is a ratio: the Hodges-Lehmann estimate is the median of all new/base
    // sample ratios, and its interval is the set of ratios the U test does not reject.
    const ShiftInterval hl = shift_interval(logs(b), logs(n), o.alpha);
    c.ratio = std::exp(hl.estimate);
    if (enough) {
      c.ratio_low = std::exp(hl.low);
      c.ratio_high = std::exp(hl.high);
      c.ci_confidence = hl.confidence;
    }
  }
  if (!enough) {
    c.verdict = Verdict::not_comparable;
    c.note = "too few samples (" + std::to_string(c.base_n) + " base, " + std::to_string(c.new_n) +
             " new): the smallest possible p is " + number(smallest_p_value(c.base_n, c.new_n)) + " > alpha " +
             number(o.alpha) + "; measure at least " + std::to_string(samples_needed(o.alpha)) +
             (o.by_record ? " rounds" : " repetitions") + " per side";
    return;
  }
  const MannWhitneyResult u = mann_whitney_u(n, b);
  c.p_value = u.p_value;
  c.exact_p = u.exact;
  const double change = *c.ratio - 1;
  const bool significant = u.p_value <= o.alpha;
  if (significant && change > o.threshold) {
    c.verdict = Verdict::slower;
    c.note = percent(change) + " slower, beyond the " + percent(o.threshold) + " threshold";
  } else if (significant && change < -o.threshold) {
    c.verdict = Verdict::faster;
    c.note = percent(-change) + " faster";
  } else {
    c.verdict = Verdict::same;
    if (significant) {
      c.note = "significant but within the " + percent(o.threshold) + " threshold";
    } else if (std::abs(change) > o.threshold) {
      c.note = "not significant (p " + number(u.p_value) + " > " + number(o.alpha) + ")";
    }
  }
  if (!c.ratio_low) c.note += std::string(c.note.empty() ? "" : "; ") + "a sample is 0 s (below the timer's resolution): "
                                                                   "ratio of the medians, no interval";
}

CaseComparison compare_case(const CaseKey& key, const ResultCase* b, const ResultCase* n, const CompareOptions& o) {
  CaseComparison c;
  c.key = key;
  if (b) c.base_n = samples_of(*b, o).size(), c.base_median_s = median_of(*b, o);
  if (n) c.new_n = samples_of(*n, o).size(), c.new_median_s = median_of(*n, o);
  if (c.base_median_s && c.new_median_s && *c.base_median_s > 0) c.median_ratio = *c.new_median_s / *c.base_median_s;
  c.ratio = c.median_ratio;  // until both sides' samples give the Hodges-Lehmann estimate (test_case)
  if (!n) {
    c.verdict = Verdict::only_in_base;
    return c;
  }
  if (!b) {
    c.verdict = Verdict::only_in_new;
    return c;
  }
  if (n->status == "failed" || n->check_passed == false) {
    c.verdict = Verdict::correctness_failed;
    c.note = n->status == "failed" ? side_reason("new", *n) : "new: check failed";
    if (n->max_rel_error) c.note += " (max rel error " + number(*n->max_rel_error) + ")";
    if (b->status == "failed" || b->check_passed == false) c.note += "; base failed too";
    return c;
  }
  c.verdict = Verdict::not_comparable;
  if (b->status != "ok") {
    c.note = side_reason("base", *b);
  } else if (n->status != "ok") {
    c.note = side_reason("new", *n);
  } else if (samples_of(*b, o).empty()) {
    c.note = no_samples_reason("base", *b);
  } else if (samples_of(*n, o).empty()) {
    c.note = no_samples_reason("new", *n);
  } else if (!c.median_ratio) {
    c.note = "base median is 0 s (below the timer's resolution)";
  } else {
    test_case(samples_of(*b, o), samples_of(*n, o), o, c);
  }
  return c;
}

std::vector<std::string> distinct(const ResultSet& set, std::string Provenance::*field) {
  std::vector<std::string> out;
  for (const Provenance& p : set.provenance)
    if (!(p.*field).empty() && std::find(out.begin(), out.end(), p.*field) == out.end()) out.push_back(p.*field);
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : "; ") + i;
  return s;
}

// Timings only compare on one machine and one build configuration; say so when they differ.
void provenance_warnings(const ResultSet& base, const ResultSet& fresh, std::vector<std::string>& warnings) {
  for (auto [field, what] : {std::pair{&Provenance::machine, "machines"}, std::pair{&Provenance::build, "builds"}}) {
    const auto b = distinct(base, field), n = distinct(fresh, field);
    if (b.size() > 1) warnings.push_back(std::string("BASE mixes results from different ") + what + ": " + joined(b));
    if (n.size() > 1) warnings.push_back(std::string("NEW mixes results from different ") + what + ": " + joined(n));
    if (!b.empty() && !n.empty() && std::set(b.begin(), b.end()) != std::set(n.begin(), n.end()))
      warnings.push_back(std::string("BASE and NEW come from different ") + what + " (base: " + joined(b) +
                         "; new: " + joined(n) + "): a difference may be the " +
                         (field == &Provenance::machine ? "machine's" : "build settings'") + ", not the code's");
  }
}

// A group's counts and the sum of its log ratios (for the geometric mean).
struct GroupTally {
  GroupSummary summary;
  double log_ratio_sum = 0;

  void add(const CaseComparison& c) {
    switch (c.verdict) {
      case Verdict::faster: ++summary.faster; break;
      case Verdict::slower: ++summary.slower; break;
      case Verdict::same: ++summary.same; break;
      case Verdict::correctness_failed: ++summary.failed; break;
      default: ++summary.other; break;
    }
    // A failed case's time measured something else (or nothing): it stays out of the mean.
    if (c.ratio && *c.ratio > 0 && c.verdict != Verdict::correctness_failed) {
      ++summary.compared;
      log_ratio_sum += std::log(*c.ratio);
    }
  }
  GroupSummary done() {
    if (summary.compared) summary.geomean_ratio = std::exp(log_ratio_sum / double(summary.compared));
    return summary;
  }
};

std::vector<GroupSummary> summarize_groups(const std::vector<CaseComparison>& cases) {
  std::vector<GroupTally> tallies;
  GroupTally all;
  all.summary.group = "all";
  for (const CaseComparison& c : cases) {
    const std::string name = group_of(c.key);
    auto it = std::find_if(tallies.begin(), tallies.end(), [&](const GroupTally& t) { return t.summary.group == name; });
    if (it == tallies.end()) {
      tallies.emplace_back();
      tallies.back().summary.group = name;
      it = tallies.end() - 1;
    }
    it->add(c);
    all.add(c);
  }
  std::vector<GroupSummary> groups;
  groups.reserve(tallies.size() + 1);
  for (GroupTally& t : tallies) groups.push_back(t.done());
  groups.push_back(all.done());
  return groups;
}

}  // namespace

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::faster: return "faster";
    case Verdict::slower: return "slower";
    case Verdict::same: return "same";
    case Verdict::only_in_base: return "only-in-base";
    case Verdict::only_in_new: return "only-in-new";
    case Verdict::correctness_failed: return "correctness-failed";
    case Verdict::not_comparable: return "not-comparable";
  }
  return "?";
}

int Comparison::exit_status() const {
  for (const CaseComparison& c : cases)
    if (c.verdict == Verdict::slower || c.verdict == Verdict::correctness_failed) return 1;
  return 0;
}

bool case_selected(const CaseKey& key, const std::vector<std::string>& filters) {
  for (const std::string& filter : filters) {
    bool any = false;
    for (const std::string& glob : split_list("--filter", filter))
      any |= glob_matches(glob, key.kernel) || (!key.problem.empty() && glob_matches(glob, key.problem));
    if (!any) return false;
  }
  return true;
}

std::size_t samples_needed(double alpha) {
  std::size_t n = 1;
  while (smallest_p_value(n, n) > alpha) ++n;
  return n;
}

Comparison compare(const ResultSet& base, const ResultSet& fresh, const CompareOptions& options) {
  if (base.format != fresh.format)
    throw ResultSetError("BASE (" + (base.files.empty() ? "" : base.files.front()) + ") is " + to_string(base.format) +
                         " but NEW (" + (fresh.files.empty() ? "" : fresh.files.front()) + ") is " +
                         to_string(fresh.format) + "; compare like with like");
  Comparison out;
  out.options = options;
  for (const std::string& w : base.warnings) out.warnings.push_back("base: " + w);
  for (const std::string& w : fresh.warnings) out.warnings.push_back("new: " + w);
  provenance_warnings(base, fresh, out.warnings);
  for (const ResultCase& b : base.cases)
    if (case_selected(b.key, options.filters)) out.cases.push_back(compare_case(b.key, &b, fresh.find(b.key), options));
  for (const ResultCase& n : fresh.cases)
    if (case_selected(n.key, options.filters) && !base.find(n.key))
      out.cases.push_back(compare_case(n.key, nullptr, &n, options));
  out.groups = summarize_groups(out.cases);
  return out;
}

}  // namespace attnbench::reports
