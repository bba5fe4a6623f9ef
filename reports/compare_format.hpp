#pragma once
// Printing a comparison: a console table, Markdown (for CI comments) and JSON (for tools).
#include <ostream>

#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "result_set.hpp"

namespace attnbench::reports {

/// Both sides of a comparison, for the header (files, commits, machines).
struct CompareInputs {
  const ResultSet& base;
  const ResultSet& fresh;
};

/// Fixed-width table, one row per case, then the per-kernel geometric means and the outcome line.
void print_console(std::ostream& out, const Comparison& c, const CompareInputs& in);

/// GitHub-flavoured Markdown: outcome first (what a reviewer needs), warnings, the per-case table and
/// the per-kernel summary. Every string that comes from a result file is escaped (report::md_escape,
/// report_text.hpp).
void print_markdown(std::ostream& out, const Comparison& c, const CompareInputs& in);

/// One JSON document (schema "attnbench.compare", version 1): options, inputs with provenance,
/// warnings, cases, per-group summary, counts and the exit status. Absent statistics are null.
nlohmann::json comparison_json(const Comparison& c, const CompareInputs& in);

}  // namespace attnbench::reports
