#pragma once
// The report's sections. Each appends its heading, text, tables and figures to `out`, adds its key
// findings to the context (shown near the top) and, when the data lacks its axis, records that it was
// omitted instead of drawing an empty plot.
#include <optional>
#include <string>
#include <vector>

#include "report_context.hpp"

namespace attnbench::report {

/// base / faster as a speed-up, with a conservative 95% interval from the two medians' intervals:
/// [base.low / x.high, base.high / x.low] (both medians' intervals hold with 95% each).
struct SpeedUp {
  double ratio = 0, low = 0, high = 0;
};
std::optional<SpeedUp> speed_up(const CaseRecord& base, const CaseRecord& x);
/// "1.52x (95% CI 1.47-1.58x)".
std::string fmt_speed_up(const SpeedUp& s);

void section_provenance(ReportContext& ctx, const std::vector<SourceFile>& files, const std::vector<std::string>& warnings,
                        std::vector<Block>& out);
void section_regimes(ReportContext& ctx, std::vector<Block>& out);
void section_sequence(ReportContext& ctx, std::vector<Block>& out);
void section_speedup_naive(ReportContext& ctx, std::vector<Block>& out);
void section_threads(ReportContext& ctx, std::vector<Block>& out);
void section_ranks(ReportContext& ctx, std::vector<Block>& out);
void section_sweeps(ReportContext& ctx, std::vector<Block>& out);
void section_memory(ReportContext& ctx, std::vector<Block>& out);
void section_families(ReportContext& ctx, std::vector<Block>& out);
void section_roofline(ReportContext& ctx, std::vector<Block>& out);
void section_problems(ReportContext& ctx, std::vector<Block>& out);
void section_all_cases(ReportContext& ctx, std::vector<Block>& out);

}  // namespace attnbench::report
