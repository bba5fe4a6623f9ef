// `attnbench report RESULTS.jsonl... -o DIR`: report.md, report.html and summary.csv from one or
// several results files (several machines or runs side by side), plus the figures as SVG files.
//
// Design decisions:
// - Plots are SVG written by this program (svg_plot.cpp), inlined into report.html: the page is one
//   self-contained file that opens offline; no Python or matplotlib is needed at report time (login
//   nodes and CI images often lack them); the output is deterministic, so tests check it and two
//   reports diff cleanly; every string from a record is escaped by one function per format
//   (report_text.hpp). report.md links the same SVGs as files in DIR.
// - The report is built once as a format-neutral document (report_document.hpp) and rendered twice,
//   so the Markdown and the HTML cannot disagree.
// - Every number in the text cites its record as file:line.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "cli_parse.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "report_builder.hpp"
#include "report_writers.hpp"

namespace attnbench {

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UsageError("cannot write '" + tmp.string() + "': " + std::strerror(errno) + "; choose a writable -o directory");
    out << text;
    out.close();
    if (!out) {
      const std::string reason = std::strerror(errno);
      std::error_code ec;
      fs::remove(tmp, ec);  // a cut-off file is left neither under its own name nor as .tmp
      throw UsageError("cannot write '" + tmp.string() + "': " + reason + "; free disk space or choose another -o");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw UsageError("cannot write '" + path.string() + "': " + ec.message());
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  po::options_description options("attnbench report: Markdown, HTML and CSV report from results files\n"
                                  "usage: attnbench report RESULTS.jsonl... -o DIR [--machine PROFILE]\n");
  options.add_options()
      ("help,h", "show this help")
      ("results", po::value<std::vector<std::string>>()->composing(), "results files (JSON Lines from 'attnbench run/sweep --out')")
      ("out,o", po::value<std::string>(), "directory for report.md, report.html, summary.csv and the figures (created if missing)")
      ("machine", po::value<std::string>(), "machine profile from 'attnbench calibrate': rate every case against its roofline "
                                            "(default: the roofline the records carry, if any)");
  const po::variables_map vm = parse_args("report", args, options, "results");
  if (vm.count("help")) {
    std::cout << options << "\nWrites DIR/report.html (self-contained), DIR/report.md with DIR/fig-NN-*.svg (replacing an earlier\n"
                            "report's figures there), and DIR/summary.csv.\n"
                            "Exit status: 0 written, 2 bad input.\n";
    return kExitOk;
  }
  if (!vm.count("results")) throw UsageError("report: name at least one results file (e.g. attnbench report results/run.jsonl -o report/)");
  if (!vm.count("out")) throw UsageError("report: missing -o DIR, the directory to write the report into");
  const std::vector<std::string> files = vm["results"].as<std::vector<std::string>>();
  const fs::path dir = vm["out"].as<std::string>();

  report::LoadedResults results = report::load_results(files);
  if (vm.count("machine")) report::apply_machine_profile(vm["machine"].as<std::string>(), results.cases);
  const report::Document doc = report::build_report(results);

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw UsageError("cannot create report directory '" + dir.string() + "': " + (ec ? ec.message() : "a file is in the way") +
                     "; choose another -o");
  // Figures of an earlier report in the same directory would otherwise linger beside the new ones.
  const std::regex own_figure(R"(fig-[0-9]{2,}-[a-z-]+\.svg)");
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), own_figure)) fs::remove(entry.path(), ec);
  int figures = 0;
  for (const report::Block& b : doc.blocks)
    if (const auto* f = std::get_if<report::Figure>(&b)) {
      write_file(dir / f->file, f->svg);
      ++figures;
    }
  write_file(dir / "summary.csv", report::summary_csv(results.cases));
  write_file(dir / "report.md", report::render_markdown(doc));
  write_file(dir / "report.html", report::render_html(doc));
  for (const std::string& w : results.warnings) std::cerr << "attnbench report: warning: " << w << "\n";
  std::cout << "report: " << results.cases.size() << " records from " << files.size() << " file(s), " << figures << " figures -> "
            << (dir / "report.html").string() << ", report.md, summary.csv\n";
  return kExitOk;
}

}  // namespace attnbench
