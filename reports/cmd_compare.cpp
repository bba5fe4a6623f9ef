// `attnbench compare BASE NEW`: regression verdicts between two result sets, as a CI gate.
// Exit status: 1 when a case is significantly slower beyond the threshold or failed its correctness
// check in NEW, 0 otherwise, 2 for bad input.
#include <iostream>

#include "cli_parse.hpp"
#include "commands.hpp"
#include "compare.hpp"
#include "compare_format.hpp"
#include "exit_codes.hpp"
#include "result_set.hpp"

namespace attnbench {
namespace {

constexpr const char* kUsage = R"(usage: attnbench compare BASE NEW [options]
       attnbench compare --base FILE [--base FILE...] --new FILE [--new FILE...] [options]

Compares NEW against BASE case by case. Inputs are attnbench results files (JSON Lines from run/sweep
--out) or Google Benchmark JSON (--benchmark_out, with --benchmark_repetitions=N: each repetition is a
sample); the format is detected per file and both sides must have the same one. Cases pair by
(kernel, problem, threads, ranks), Google Benchmark runs by name. A case found several times on one side
(rounds of scripts/regression-check.sh, several files) has its samples pooled.

Per case: both medians; the ratio new/base (the Hodges-Lehmann estimate: the median of all new/base
sample ratios) with its confidence interval; the two-sided Mann-Whitney U p-value; and a verdict:
faster, slower, same, only-in-base, only-in-new, correctness-failed (NEW failed or its check failed),
not-comparable (skipped, failed in BASE, no samples or too few for the test; the note says which).
Slower/faster: p <= alpha AND the ratio beyond 1 +- threshold. Then the geometric mean of the ratios
per kernel.

Exit status: 0 no regression, 1 a case is slower or correctness-failed, 2 bad input.
)";

double parse_threshold(std::string text) {
  if (!text.empty() && text.back() == '%') text.pop_back();
  return parse_double("--threshold", text, 0, 1000) / 100;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& args) {
  using namespace reports;
  po::options_description o("Options");
  o.add_options()("help,h", "show this help")(
      "base", po::value<std::vector<std::string>>()->composing(), "a BASE file (repeatable; or the first positional)")(
      "new", po::value<std::vector<std::string>>()->composing(), "a NEW file (repeatable; or the second positional)")(
      "threshold", po::value<std::string>()->default_value("5%"),
      "smallest change of the ratio, in percent, that counts as slower or faster (e.g. 5 or 5%)")(
      "alpha", po::value<std::string>()->default_value("0.05"), "significance level of the U test, in (0, 0.5]")(
      "format", po::value<std::string>()->default_value("console"), "console, md (Markdown, for CI comments) or json")(
      "by-record", po::bool_switch(),
      "test one value per record (each record's median: one per round of scripts/regression-check.sh) "
      "instead of every repetition; repetitions of one run are not independent on a busy machine; needs "
      "4 records per side")(
      "filter", po::value<std::vector<std::string>>()->composing(),
      "only cases whose kernel (or benchmark name) or problem matches one of these comma-separated globs, "
      "e.g. 'mha.blocked.*' or '*_causal'; repeat to require several (kernel AND problem)");
  po::options_description all = o;
  all.add_options()("files", po::value<std::vector<std::string>>(), "BASE and NEW");
  const po::variables_map vm = parse_args("compare", args, all, "files");
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << o << "\n";
    return kExitOk;
  }
  std::vector<std::filesystem::path> base_files, new_files;
  const auto take = [&](const char* name, std::vector<std::filesystem::path>& into) {
    if (vm.count(name))
      for (const std::string& f : vm[name].as<std::vector<std::string>>()) into.emplace_back(f);
  };
  take("base", base_files);
  take("new", new_files);
  const std::vector<std::string> positional =
      vm.count("files") ? vm["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (positional.size() > 2)
    throw UsageError("compare takes two files, BASE and NEW; give more per side with --base FILE and --new FILE");
  if (!positional.empty()) base_files.insert(base_files.begin(), positional[0]);
  if (positional.size() == 2) new_files.insert(new_files.begin(), positional[1]);
  if (base_files.empty() || new_files.empty())
    throw UsageError("compare needs BASE and NEW result files: attnbench compare base.jsonl new.jsonl");

  CompareOptions options;
  options.threshold = parse_threshold(vm["threshold"].as<std::string>());
  options.alpha = parse_double("--alpha", vm["alpha"].as<std::string>(), 1e-9, 0.5);
  options.by_record = vm["by-record"].as<bool>();
  if (vm.count("filter")) options.filters = vm["filter"].as<std::vector<std::string>>();
  for (const std::string& f : options.filters) split_list("--filter", f);  // rejects empty globs up front
  const std::string format = vm["format"].as<std::string>();
  if (format != "console" && format != "md" && format != "json")
    throw UsageError("--format: '" + format + "' is not console, md or json");

  try {
    const ResultSet base = load_result_set(base_files);
    const ResultSet fresh = load_result_set(new_files);
    const Comparison comparison = compare(base, fresh, options);
    if (comparison.cases.empty())
      throw UsageError("no case to compare" +
                       std::string(options.filters.empty() ? "" : " after --filter") + " (check the files and filters)");
    const CompareInputs inputs{base, fresh};
    if (format == "console") {
      print_console(std::cout, comparison, inputs);
    } else {
      for (const std::string& w : comparison.warnings) std::cerr << "attnbench compare: warning: " << w << "\n";
      if (format == "md") {
        print_markdown(std::cout, comparison, inputs);
      } else {
        std::cout << comparison_json(comparison, inputs).dump(2) << "\n";
      }
    }
    std::cout.flush();
    return comparison.exit_status();
  } catch (const ResultSetError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace attnbench
