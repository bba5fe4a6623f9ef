#include "report_builder.hpp"

#include "report_context.hpp"
#include "report_sections.hpp"

namespace attnbench::report {

Document build_report(const LoadedResults& results) {
  ReportContext ctx(results.cases);
  Document doc;
  doc.title = "attnbench report";
  std::vector<Block> provenance, sections;
  section_provenance(ctx, results.files, results.warnings, provenance);
  section_regimes(ctx, sections);
  section_sequence(ctx, sections);
  section_speedup_naive(ctx, sections);
  section_threads(ctx, sections);
  section_ranks(ctx, sections);
  section_families(ctx, sections);
  section_sweeps(ctx, sections);
  section_memory(ctx, sections);
  section_roofline(ctx, sections);
  section_problems(ctx, sections);
  section_all_cases(ctx, sections);

  int ok = 0;
  for (const CaseRecord& c : results.cases) ok += c.ok();
  doc.blocks.push_back(Paragraph{Text(std::to_string(results.cases.size()) + " records from " + std::to_string(results.files.size()) + " file(s), " +
                                      std::to_string(ok) + " measured. Every figure below cites its record as file:line; "
                                      "summary.csv has one row per record.")});
  doc.blocks.insert(doc.blocks.end(), provenance.begin(), provenance.end());
  doc.blocks.push_back(Heading{2, "Findings", "findings"});
  if (ctx.findings().empty())
    doc.blocks.push_back(Paragraph{Text("No comparison could be made: the records hold no two kernels, thread counts, rank counts or "
                                        "families on matching problems.")});
  else
    doc.blocks.push_back(BulletList{ctx.findings()});
  doc.blocks.insert(doc.blocks.end(), sections.begin(), sections.end());
  if (!ctx.omitted().empty()) {
    doc.blocks.push_back(Heading{2, "Sections omitted for lack of data", "omitted"});
    BulletList list;
    for (const std::string& o : ctx.omitted()) list.items.push_back(Text(o));
    doc.blocks.push_back(std::move(list));
  }
  return doc;
}

}  // namespace attnbench::report
