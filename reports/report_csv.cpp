// summary.csv: one row per record, the machine-readable companion of the report.
#include <sstream>

#include "report_builder.hpp"
#include "report_text.hpp"

namespace attnbench::report {

std::string summary_csv(const std::vector<CaseRecord>& cases) {
  std::ostringstream out;
  out << "file,line,problem_str,kernel,family,op,batch,heads,kv_heads,seq_q,seq_kv,head_dim,value_dim,model_dim,mask,score,"
         "projections,threads,ranks,status,reason,median_s,ci95_low_s,ci95_high_s,repetitions,gflops,gbytes_per_s,tokens_per_s,"
         "pct_peak,roofline_bound,flops,bytes,sequential_steps,peak_rss_bytes,model_bytes,comm_bytes,comm_seconds,max_rel_error,"
         "check_passed,host,cpu,git_commit,build_type,time\n";
  const auto i = [](std::int64_t v) { return std::to_string(v); };
  for (const CaseRecord& c : cases) {
    out << csv_text(c.file) << ',' << c.line << ',' << csv_text(c.problem_str) << ',' << csv_text(c.kernel) << ',' << csv_text(c.family)
        << ',' << csv_text(c.op) << ',' << i(c.batch) << ',' << i(c.heads) << ',' << i(c.kv_heads) << ',' << i(c.seq_q) << ','
        << i(c.seq_kv) << ',' << i(c.head_dim) << ',' << i(c.value_dim) << ',' << i(c.model_dim()) << ',' << csv_text(c.mask) << ','
        << csv_text(c.score) << ',' << (c.projections ? "true" : "false") << ',' << c.threads << ',' << c.ranks << ','
        << csv_text(c.status) << ',' << csv_text(c.reason) << ',' << csv_number(c.median_s) << ',' << csv_number(c.ci_low_s) << ','
        << csv_number(c.ci_high_s) << ',' << c.repetitions << ',' << csv_number(c.gflops) << ',' << csv_number(c.gbytes_per_s) << ','
        << csv_number(c.tokens_per_s) << ',' << csv_number(c.pct_peak) << ','
        << (c.roofline ? (c.roofline->memory_bound ? "memory" : "compute") : "") << ',' << csv_number(c.flops) << ','
        << csv_number(c.bytes) << ',' << csv_number(c.sequential_steps) << ',' << csv_number(c.peak_rss_bytes) << ','
        << csv_number(c.model_bytes) << ',' << csv_number(c.comm_bytes) << ',' << csv_number(c.comm_seconds) << ','
        << csv_number(c.max_rel_error) << ',' << (c.check_passed ? (*c.check_passed ? "true" : "false") : "") << ','
        << csv_text(c.host) << ',' << csv_text(c.cpu) << ',' << csv_text(c.git_commit) << ',' << csv_text(c.build_type) << ','
        << csv_text(c.time) << '\n';
  }
  return out.str();
}

}  // namespace attnbench::report
