// `attnbench run`: measure the chosen kernels on the chosen problems, side by side in one process,
// print a table and append one record per case to --out.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "case_execution.hpp"
#include "case_runner.hpp"
#include "thread_pinning.hpp"
#include "cli_kernels.hpp"
#include "cli_measure.hpp"
#include "cli_problem.hpp"
#include "commands.hpp"
#include "console_table.hpp"
#include "exit_codes.hpp"
#include "memory_info.hpp"
#include "mpi_session.hpp"
#include "provenance.hpp"
#include "results_file.hpp"
#include "sweep_interrupt.hpp"
#include "tensor_dir.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

// The kernel every speed-up is quoted against.
constexpr const char* kBaselineKernel = "mha.naive.serial";

struct Settings {
  std::vector<Problem> problems;
  std::vector<const Kernel*> kernels;
  std::set<const Kernel*> named;  ///< chosen by exact id: an unsupported case is an error, not a skip
  RunContext context;
  MeasureOptions measure;
  bool check = false;
  std::uint64_t seed = 42;
  std::optional<std::vector<std::int32_t>> kv_lengths;
  std::optional<fs::path> out, inputs, save_output;
  RunMachine machine;  ///< --machine: the roofline of rate.pct_peak
  PinMode pin = PinMode::none;                  ///< --pin, applied once before measuring
  std::optional<std::uint64_t> interleave_seed;  ///< --interleave: each problem's kernels in rounds
};

po::options_description run_options() {
  po::options_description o("Run");
  o.add_options()
      ("help,h", "show this help")
      ("kernel", po::value<std::vector<std::string>>()->composing(),
       "kernel id, glob (mha.*), family (attention) or all; repeatable or comma-separated")
      ("threads", po::value<std::string>(), "threads for openmp/tbb kernels (default: all logical CPUs)")
      ("check", po::bool_switch(), "compare each output with the float64 reference; exit 1 if a kernel "
                                   "exceeds its tolerance")
      ("out", po::value<std::string>(), "append one JSON Lines record per case to this file (created if missing)")
      ("inputs", po::value<std::string>(), "read q.npy k.npy v.npy [lengths.npy] and any weights from this "
                                           "directory (missing weights are generated from --seed)")
      ("save-output", po::value<std::string>(), "write the inputs used and out.npy to this directory")
      ("seed", po::value<std::string>()->default_value("42"), "seed of the random inputs")
      ("machine", po::value<std::string>(), "machine profile from 'attnbench calibrate' for rate.pct_peak (default: "
                                            "$ATTNBENCH_MACHINE_PROFILE or results/machine-profile.json, if present)")
      ("kv-lengths", po::value<std::string>(), "padding mask: valid keys per batch entry, comma-separated "
                                               "(default: random in [1, seq-kv] from --seed)");
  po::options_description all("attnbench run: measure kernels on problems side by side\n");
  all.add(problem_options()).add(o).add(measurement_options()).add(placement_options());
  return all;
}

std::vector<std::int32_t> parse_lengths(const std::string& text, const Problem& p) {
  std::vector<std::int32_t> lengths;
  for (const std::string& item : split_list("--kv-lengths", text))
    lengths.push_back(std::int32_t(parse_int("--kv-lengths", item, 0, p.seq_kv)));
  if (std::int64_t(lengths.size()) != p.batch)
    throw UsageError("--kv-lengths: got " + std::to_string(lengths.size()) + " lengths for batch " +
                     std::to_string(p.batch) + "; give one per batch entry");
  return lengths;
}

Settings settings_from(const po::variables_map& vm) {
  Settings s;
  s.problems = problems_from(vm);
  s.kernels = resolve_kernels(vm, s.named);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  s.context.threads = vm.count("threads") ? int(parse_int("--threads", vm["threads"].as<std::string>(), 1, 4096))
                                          : int(cores);
  s.check = vm["check"].as<bool>();
  s.seed = std::uint64_t(parse_int("--seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  s.measure = measure_options_from(vm);
  s.pin = pin_mode_from(vm);
  s.interleave_seed = interleave_seed_from(vm);
  if (vm.count("out")) s.out = vm["out"].as<std::string>();
  s.machine = machine_for_run(vm.count("machine") ? &vm["machine"].as<std::string>() : nullptr);
  if (vm.count("inputs")) s.inputs = vm["inputs"].as<std::string>();
  if (vm.count("save-output")) s.save_output = vm["save-output"].as<std::string>();
  if ((s.inputs || s.save_output) && s.problems.size() != 1)
    throw UsageError("--inputs and --save-output need exactly one problem (got " + std::to_string(s.problems.size()) + ")");
  if (s.inputs)
    for (const Kernel* k : s.kernels)
      if (k->info().op != s.kernels.front()->info().op)
        throw UsageError("--inputs holds the tensors of one operator, but " + s.kernels.front()->id() + " (" +
                         std::string(to_string(s.kernels.front()->info().op)) + ") and " + k->id() + " (" +
                         std::string(to_string(k->info().op)) + ") read different ones; run them separately");
  if (s.save_output && s.kernels.size() != 1)
    throw UsageError("--save-output needs exactly one kernel (it writes one out.npy); got " +
                     std::to_string(s.kernels.size()));
  if (vm.count("kv-lengths")) {
    if (s.inputs) throw UsageError("--kv-lengths and --inputs both given: put the lengths in lengths.npy instead");
    for (const Problem& p : s.problems)
      if (p.mask != Mask::padding)
        throw UsageError("--kv-lengths is only meaningful with a padding mask; add --mask padding");
    if (s.problems.size() != 1) throw UsageError("--kv-lengths needs exactly one problem");
    s.kv_lengths = parse_lengths(vm["kv-lengths"].as<std::string>(), s.problems.front());
  }
  return s;
}

// Refuse, before anything is allocated or measured, a case that cannot fit in memory or that an
// explicitly named kernel cannot run.
void preflight(const Settings& s, const MpiSession& mpi) {
  for (const Problem& p : s.problems)
    for (const Kernel* k : s.kernels) {
      const Support support = k->supports_run(p, s.context);
      if (!support.ok) {
        if (s.named.count(k))
          throw UsageError(k->id() + " cannot run " + p.str() + ": " + support.reason +
                           "; 'attnbench list' shows what each kernel supports");
        continue;
      }
      // An mpi kernel's ranks on one host allocate together (available_memory_bytes).
      const bool shared = mpi.size() > 1 && k->info().caps.parallelism == Parallelism::mpi;
      const std::int64_t available = available_memory_bytes(shared ? mpi.ranks_on_host() : 1);
      const std::int64_t need = case_memory_bytes(p, *k, s.context, s.check);
      if (available >= 0 && need > available)  // 0: a limit already reached; -1: none known
        throw UsageError(p.str() + " with " + k->id() + " needs " + format_bytes(need) + " (inputs, output, " +
                         "workspace" + (s.check ? ", reference" : "") + ") but only " + format_bytes(available) +
                         " is available" +
                         (shared ? " to each of the " + std::to_string(mpi.ranks_on_host()) + " ranks on this host" : "") +
                         "; reduce --batch, --seq or --heads" + (s.check ? ", or drop --check" : ""));
    }
  if (s.save_output) {
    std::error_code ec;
    fs::create_directories(*s.save_output, ec);
    if (ec || !fs::is_directory(*s.save_output))
      throw UsageError("--save-output: cannot create directory '" + s.save_output->string() + "': " +
                       (ec ? ec.message() : "a file is in the way") + "; choose another --save-output");
  }
}

TensorSet inputs_for(Op op, const Problem& p, const Settings& s) {
  if (s.inputs) {
    LoadedInputs loaded = load_inputs(op, p, *s.inputs, s.seed);
    if (!loaded.generated.empty()) {
      std::string names;
      for (const std::string& n : loaded.generated) names += (names.empty() ? "" : ", ") + n;
      std::cerr << "note: " << s.inputs->string() << " has no " << names << "; generated from --seed " << s.seed
                << " (use --save-output to keep them)\n";
    }
    return std::move(loaded.tensors);
  }
  TensorSet inputs = make_inputs(op, p, s.seed);
  if (s.kv_lengths && op == Op::mha) std::copy(s.kv_lengths->begin(), s.kv_lengths->end(), inputs.at("lengths").as<std::int32_t>().begin());
  return inputs;
}

ConsoleTable make_table(const std::vector<Problem>& problems) {
  int width = 16;
  for (const Problem& p : problems) width = std::max(width, int(p.str().size()));
  return ConsoleTable(std::cout, {{"problem", width, false},
                                  {"kernel", 18, false},
                                  {"thr", 3},
                                  {"ranks", 5},
                                  {"median", 9},
                                  {"+-95%", 6},
                                  {"GFLOP/s", 8},
                                  {"GB/s", 7},
                                  {"tokens/s", 8},
                                  {"vs naive", 8},
                                  {"check", 8},
                                  {"status", 7, false}});
}

std::vector<std::string> table_row(const CaseOutcome& c, std::optional<double> baseline_median) {
  std::vector<std::string> row{c.problem.str(), c.kernel->id(), std::to_string(c.threads), std::to_string(c.ranks)};
  if (c.time) {
    const Rates r = rates_for(c);
    // The interval only means "95%" from 6 repetitions on; below that the column says so.
    char spread[32] = "n<6";
    if (c.time->ci95_confidence >= 0.95) std::snprintf(spread, sizeof spread, "%.1f%%", 100.0 * relative_ci_halfwidth(*c.time));
    row.insert(row.end(), {format_seconds(c.time->median), spread, format_number(r.gflops),
                           format_number(r.gbytes_per_s), format_si(r.tokens_per_s),
                           baseline_median ? format_number(*baseline_median / c.time->median) + "x" : "-"});
  } else {
    row.insert(row.end(), {"-", "-", "-", "-", "-", "-"});
  }
  char err[32] = "-";
  if (c.check) std::snprintf(err, sizeof err, "%.1e", c.check->max_rel_error);
  row.push_back(err);
  row.push_back(to_string(c.status) + (c.reason.empty() ? "" : ": " + c.reason));
  return row;
}

/// Test hook: ATTNBENCH_RUN_TEST_CRASH=<rank>:<case> makes that rank die of SIGSEGV as that case (0-based,
/// in run order) begins, as a crashing kernel would; the other ranks go on into it (the MPI fault tests).
void crash_if_asked(std::size_t case_index, const MpiSession& mpi) {
  static const char* const text = std::getenv("ATTNBENCH_RUN_TEST_CRASH");
  int rank = -1;
  long index = -1;
  // NOLINTNEXTLINE(cert-err34-c): a test hook; a malformed value matches no case, which is the right outcome
  if (text && std::sscanf(text, "%d:%ld", &rank, &index) == 2 && rank == mpi.rank() && index == long(case_index)) {
    std::signal(SIGSEGV, SIG_DFL);  // past any sanitizer's handler: die as a crashing kernel does
    std::raise(SIGSEGV);
  }
}

}  // namespace

int cmd_run(const std::vector<std::string>& args, const MpiSession& mpi) {
  const po::options_description options = run_options();
  const po::variables_map vm = parse_args("run", args, options);
  if (vm.count("help")) {
    std::cout << "usage: attnbench run --kernel ID (--problem STR | --heads H --seq L --head-dim D [...]) [options]\n\n"
              << options << "\nExit status: 0 ok, 1 a check failed, 2 bad input.\n";
    return kExitOk;
  }
  // Under a launcher every rank parses rank 0's words (main.cpp) and sets up collectively: a failure
  // on any rank (a file, the memory check) stops every rank, none is left waiting for the others.
  const Settings s = mpi.collectively([&] {
    Settings settings = settings_from(vm);
    settings.context.comm = mpi.comm();
    if (!vm.count("threads"))  // the default shares this host's cores among its ranks
      settings.context.threads = std::max(1, settings.context.threads / mpi.ranks_on_host());
    preflight(settings, mpi);
    return settings;
  });
  std::unique_ptr<ResultsFile> results;
  std::optional<TensorSet> user_inputs;
  mpi.collectively([&] {
    // Opened before anything is measured, so an unwritable path fails now, not after an hour.
    if (s.out && mpi.is_root()) try {
        results = std::make_unique<ResultsFile>(*s.out);
      } catch (const ResultsFileError& e) {
        throw UsageError(std::string("--out: ") + e.what());
      }
    // User-supplied inputs are read (and their errors reported) before anything is printed or measured.
    if (s.inputs) user_inputs = inputs_for(s.kernels.front()->info().op, s.problems.front(), s);
  });

  // Pinned once, before anything is measured (collective: ranks on a host split their CPUs).
  const PinReport pinning = pin_threads(s.pin, s.context.threads, mpi);
  nlohmann::json prov = provenance(s.context.threads, mpi.size());
  prov["pinning"] = to_json(pinning);
  if (mpi.is_root() && s.pin != PinMode::none && !pinning.applied)
    std::cerr << "note: --pin " << to_string(s.pin) << " not applied: " << pinning.reason << "\n";
  ConsoleTable table = make_table(s.problems);
  if (mpi.is_root()) {
    std::cout << "attnbench " << prov.value("version", "") << " (" << prov.value("git_commit", "") << ") on "
              << prov.value("cpu", "unknown CPU") << ", " << prov.value("cores", 0) << " logical CPUs, "
              << s.context.threads << " threads" << (mpi.size() > 1 ? ", " + std::to_string(mpi.size()) + " ranks" : "")
              << (s.out ? "; results -> " + s.out->string() : "") << "\n\n";
    if (!s.machine.note.empty()) std::cerr << s.machine.note << "\n";
    table.print_header();
  }

  // Ctrl-C or SIGTERM: the case in flight finishes and is recorded, then the run stops (exit 128 +
  // signal); a second one stops it at once. Every rank stops before the same case.
  install_interrupt_handlers(SecondInterrupt::exits, /*announce=*/!mpi.active());
  std::size_t cases_done = 0;
  const std::size_t cases = s.problems.size() * s.kernels.size();
  bool stopped = false;
  auto interrupted = [&] { return stopped = !mpi.all_ok(interrupt_count() == 0); };
  bool any_failed = false;
  const bool user_given = bool(s.inputs);
  const CaseOptions case_options{s.context, s.measure, s.check, s.save_output, &mpi, &s.machine,
                                  user_given ? 0 : s.seed, user_given ? s.inputs->string() : "random"};
  for (const Problem& p : s.problems) {
    if (interrupted()) break;
    ProblemData data(p, [&](Op op) { return inputs_for(op, p, s); });
    if (user_inputs) data.adopt(s.kernels.front()->info().op, std::move(*user_inputs)), user_inputs.reset();
    std::optional<double> baseline_median;
    auto report = [&](const CaseOutcome& c) {
      ++cases_done;
      any_failed |= c.status == CaseStatus::failed;
      if (c.kernel->id() == kBaselineKernel && c.time) baseline_median = c.time->median;
      if (!mpi.is_root()) return;
      if (results) results->append(make_record(c, prov));
      table.print_row(table_row(c, baseline_median));
    };
    if (s.interleave_seed) {  // all of the problem's kernels at once: rows when every one is done
      crash_if_asked(cases_done, mpi);
      const std::vector<CaseOutcome> outcomes = execute_cases_interleaved(s.kernels, data, case_options, *s.interleave_seed);
      for (const CaseOutcome& c : outcomes)
        if (c.kernel->id() == kBaselineKernel && c.time) baseline_median = c.time->median;
      for (const CaseOutcome& c : outcomes) report(c);
    } else {
      for (const Kernel* k : s.kernels) {
        if (k != s.kernels.front() && interrupted()) break;
        crash_if_asked(cases_done, mpi);
        report(execute_case(*k, data, case_options));
      }
    }
  }
  restore_default_interrupt_handlers();
  if (stopped) {
    const int signal = interrupt_signal() ? interrupt_signal() : SIGTERM;  // another rank's, under a launcher
    if (mpi.is_root())
      std::cerr << "attnbench: interrupted: " << cases_done << " of " << cases << " cases done"
                << (s.out ? " (their records are in " + s.out->string() + ")" : "") << "; the rest not run\n";
    return exit_status_for_signal(signal);
  }
  return any_failed ? kExitCheckFailed : kExitOk;
}

}  // namespace attnbench
