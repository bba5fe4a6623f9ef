#pragma once
// `attnbench report` from loaded records to the report's parts: the document (rendered as report.md
// and report.html, with its figures) and summary.csv.
#include <string>
#include <vector>

#include "report_document.hpp"
#include "report_model.hpp"

namespace attnbench::report {

/// The whole report: provenance, findings, then one section per analysis that the data supports,
/// and the list of sections omitted for lack of data.
Document build_report(const LoadedResults& results);

/// One row per record (problem, kernel, threads, ranks, file:line): medians, interval, rates, memory,
/// communication, check and status, with full precision.
std::string summary_csv(const std::vector<CaseRecord>& cases);

}  // namespace attnbench::report
