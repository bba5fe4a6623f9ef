#pragma once
// What the report's sections share: the records chosen for analysis, how cases are grouped into
// series (a shape "context" with one axis left free), stable colours per kernel, and figure making.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "report_document.hpp"
#include "report_model.hpp"
#include "svg_plot.hpp"

namespace attnbench::report {

/// The problem field a plot or table varies; the context of a case is its shape without that field.
enum class Axis { none, seq, heads, head_dim };

class ReportContext {
 public:
  /// `cases` must outlive the context. Of repeated measurements of one (machine, build, kernel,
  /// problem, threads, ranks) the last in file order is analysed; the others are counted.
  explicit ReportContext(const std::vector<CaseRecord>& cases);

  const std::vector<CaseRecord>& all() const { return all_; }
  /// Successful, de-duplicated cases in file order.
  const std::vector<const CaseRecord*>& ok() const { return ok_; }
  int superseded() const { return superseded_; }
  bool several_origins() const { return origins_.size() > 1; }
  std::size_t origin_count() const { return origins_.size(); }

  /// "" with one machine and build; else " @host" (plus the short commit when builds differ), so
  /// series and rows from different origins are never mixed up.
  std::string origin(const CaseRecord& c) const;
  /// The case with these keys in the same origin as `like`, or nullptr.
  const CaseRecord* find(const CaseRecord& like, const std::string& kernel, const std::string& problem_str, int threads,
                         int ranks) const;

  /// A readable shape without `omit`, e.g. "attention b1 h8 d64 self, causal, 2 thr": cases with
  /// equal contexts differ only in that axis (and kernel). Includes the origin.
  std::string context(const CaseRecord& c, Axis omit, bool with_parallelism = true) const;
  static double axis_value(const CaseRecord& c, Axis axis);

  /// A colour index per kernel id, stable across the report's plots.
  int color(const std::string& kernel);

  /// Appends a Figure (and its SVG file name) to `out`; does nothing when `spec` has nothing to draw.
  /// Returns whether it drew.
  bool figure(std::vector<Block>& out, PlotSpec spec, const std::string& slug, const std::string& caption);

  /// Sections that had no data for their axis, with the reason, listed at the end of the report.
  void omit(const std::string& section, const std::string& why) { omitted_.push_back(section + ": " + why); }
  const std::vector<std::string>& omitted() const { return omitted_; }
  /// Findings contributed by sections, shown near the top.
  void finding(Text t) { findings_.push_back(std::move(t)); }
  const std::vector<Text>& findings() const { return findings_; }

 private:
  const std::vector<CaseRecord>& all_;
  std::vector<const CaseRecord*> ok_;
  int superseded_ = 0;
  std::map<std::string, int> origins_;  // machine_key + build_key -> index
  bool several_machines_ = false, several_builds_ = false;
  std::map<std::string, const CaseRecord*> index_;
  std::map<std::string, int> colors_;
  int figures_ = 0;
  std::vector<std::string> omitted_;
  std::vector<Text> findings_;
};

/// Cases grouped by `key`, each group's cases in first-seen order: the series of a plot, the rows of
/// a comparison.
std::vector<std::pair<std::string, std::vector<const CaseRecord*>>> group_by(
    const std::vector<const CaseRecord*>& cases, const std::function<std::string(const CaseRecord&)>& key);

/// The citation of a record in the text: "file:line".
inline std::string cite(const CaseRecord& c) { return c.where(); }

}  // namespace attnbench::report
