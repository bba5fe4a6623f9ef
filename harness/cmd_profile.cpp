// `attnbench profile`: one kernel on one problem, measured, then measured again with its phases
// recorded (profile_case.hpp): phase table, rates against the roofline, hardware counters, and
// optionally a Perfetto trace (--trace) and a results record with a `profile` object (--out).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "attnbench/reference.hpp"
#include "attnbench/registry.hpp"
#include "attnbench/workload.hpp"
#include "cli_measure.hpp"
#include "cli_problem.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "memory_info.hpp"
#include "mpi_session.hpp"
#include "profile_case.hpp"
#include "provenance.hpp"
#include "results_file.hpp"
#include "roofline.hpp"
#include "sweep_interrupt.hpp"

namespace attnbench {
namespace {

po::options_description profile_options() {
  po::options_description o("Profile");
  o.add_options()
      ("help,h", "show this help")
      ("kernel", po::value<std::string>(), "the kernel id to profile (one; 'attnbench list' shows them)")
      ("threads", po::value<std::string>(), "threads for openmp/tbb kernels (default: all logical CPUs, shared "
                                            "among the ranks on a host)")
      ("check", po::bool_switch(), "compare the output with the float64 reference; exit 1 if it exceeds the "
                                   "kernel's tolerance")
      ("seed", po::value<std::string>()->default_value("42"), "seed of the random inputs")
      ("machine", po::value<std::string>(), "machine profile from 'attnbench calibrate' for the roofline (default: "
                                            "$ATTNBENCH_MACHINE_PROFILE or results/machine-profile.json, if present)")
      ("profile-reps", po::value<std::string>()->default_value("5"), "timed calls with the phases recorded")
      ("trace", po::value<std::string>(), "write a Chrome/Perfetto trace (JSON) of the profiled calls here; open "
                                          "it in ui.perfetto.dev")
      ("trace-events", po::value<std::string>()->default_value("200000"),
       "trace events kept, all threads and ranks together; beyond a thread's share, tile-level events "
       "(qk/softmax/pv) stop first, then the rest (the phase totals stay exact)")
      ("out", po::value<std::string>(), "append the record (results schema plus a `profile` object) to this "
                                        "JSON Lines file");
  po::options_description all("attnbench profile: where one kernel's time goes on one problem\n");
  all.add(problem_options()).add(o).add(measurement_options());
  return all;
}

struct Settings {
  Problem problem;
  const Kernel* kernel = nullptr;
  RunContext context;
  MeasureOptions measure;
  bool check = false;
  std::uint64_t seed = 42;
  int profiled_reps = 5;
  std::int64_t trace_events = 200000;
  std::optional<std::string> trace, out;
  RunMachine machine;
};

const Kernel* kernel_from(const po::variables_map& vm) {
  if (!vm.count("kernel"))
    throw UsageError("missing --kernel: name the kernel to profile (e.g. --kernel mha.blocked.serial)");
  const std::string id = vm["kernel"].as<std::string>();
  if (const Kernel* k = find_kernel(id)) return k;
  if (id.find_first_of("*?,") != std::string::npos || !select_kernels(id).empty())
    throw UsageError("--kernel '" + id + "': profile takes one kernel id, not a list, glob or family; "
                     "use 'attnbench run' to compare several");
  std::string close;
  for (const std::string& c : closest_kernel_ids(id)) close += (close.empty() ? "" : ", ") + c;
  throw UsageError("unknown kernel '" + id + "'; closest: " + close + " ('attnbench list' shows all)");
}

Settings settings_from(const po::variables_map& vm, const MpiSession& mpi) {
  Settings s;
  s.kernel = kernel_from(vm);
  const std::vector<Problem> problems = problems_from(vm);
  if (problems.size() != 1)
    throw UsageError("profile takes exactly one problem (got " + std::to_string(problems.size()) +
                     "); give one --problem or one value per shape option");
  s.problem = problems.front();
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  s.context.threads = vm.count("threads") ? int(parse_int("--threads", vm["threads"].as<std::string>(), 1, 4096))
                                          : std::max(1, cores / mpi.ranks_on_host());
  s.context.comm = mpi.comm();
  s.check = vm["check"].as<bool>();
  s.seed = std::uint64_t(parse_int("--seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  s.measure = measure_options_from(vm);
  s.profiled_reps = int(parse_int("--profile-reps", vm["profile-reps"].as<std::string>(), 1, 100000));
  s.trace_events = parse_int("--trace-events", vm["trace-events"].as<std::string>(), 0, 100000000);
  if (vm.count("trace")) s.trace = vm["trace"].as<std::string>();
  if (vm.count("out")) s.out = vm["out"].as<std::string>();
  s.machine = machine_for_run(vm.count("machine") ? &vm["machine"].as<std::string>() : nullptr);

  const Support support = s.kernel->supports_run(s.problem, s.context);
  if (!support.ok)
    throw UsageError(s.kernel->id() + " cannot run " + s.problem.str() + ": " + support.reason +
                     "; 'attnbench list' shows what each kernel supports");
  const std::int64_t available = available_memory_bytes();
  // The profiled pass prepares the kernel a second time, after the first is released: one at a time.
  const std::int64_t need = case_memory_bytes(s.problem, *s.kernel, s.context, s.check);
  if (available >= 0 && need > available)  // 0: a limit already reached; -1: none known
    throw UsageError(s.problem.str() + " with " + s.kernel->id() + " needs " + format_bytes(need) + " but only " +
                     format_bytes(available) + " is available; reduce --batch, --seq or --heads" +
                     (s.check ? ", or drop --check" : ""));
  return s;
}

}  // namespace

int cmd_profile(const std::vector<std::string>& args, const MpiSession& mpi) {
  const po::options_description options = profile_options();
  const po::variables_map vm = parse_args("profile", args, options);
  if (vm.count("help")) {
    std::cout << "usage: attnbench profile --kernel ID (--problem STR | --heads H --seq L --head-dim D [...]) "
                 "[--trace FILE.json] [--out FILE.jsonl] [options]\n\n"
              << options
              << "\nExample: attnbench profile --kernel mha.blocked.serial --problem b1_h16_sq2048_d64 --trace t.json\n"
                 "Exit status: 0 ok, 1 the check failed, 2 bad input.\n";
    return kExitOk;
  }
  const Settings s = mpi.collectively([&] { return settings_from(vm, mpi); });
  // Outputs are opened before anything is measured, so a bad path fails now.
  std::unique_ptr<ResultsFile> results;
  mpi.collectively([&] {
    if (!mpi.is_root()) return;
    if (s.out) try {
        results = std::make_unique<ResultsFile>(*s.out);
      } catch (const ResultsFileError& e) {
        throw UsageError(std::string("--out: ") + e.what());
      }
    if (s.trace) {
      // Tried without truncating (a new file is removed again): an interrupted or failed profile leaves
      // an earlier trace at that path as it was, and no empty file where there was none.
      std::error_code ec;
      const bool existed = std::filesystem::exists(*s.trace, ec);
      if (!std::ofstream(*s.trace, std::ios::app))
        throw UsageError("--trace: cannot write '" + *s.trace + "'; check the directory exists and is writable");
      if (!existed) std::filesystem::remove(*s.trace, ec);
    }
  });
  // Ctrl-C or SIGTERM: the profile in flight finishes and is written, then exit 128 + signal; a second
  // one stops at once (nothing of this profile is written then).
  install_interrupt_handlers(SecondInterrupt::exits, /*announce=*/!mpi.active());

  const Op op = s.kernel->info().op;
  const TensorSet inputs = make_inputs(op, s.problem, s.seed);
  std::optional<Tensor> reference;
  if (s.check && mpi.is_root()) reference = reference_forward(op, s.problem, inputs);
  ProfileSettings ps;
  ps.run = CaseSettings{s.context, s.measure, reference ? &*reference : nullptr, std::nullopt, &mpi};
  ps.profiled_reps = s.profiled_reps;
  ps.trace_events = s.trace_events;
  ps.peak = s.machine.peak;
  const nlohmann::json prov = provenance(s.context.threads, mpi.size());
  if (mpi.is_root() && !s.machine.note.empty()) std::cerr << s.machine.note << "\n";

  const std::unique_ptr<CounterReader> counters = make_perf_event_reader();
  ProfileResult r = profile_case(s.problem, *s.kernel, inputs, ps, *counters);
  restore_default_interrupt_handlers();  // the outputs below are written whole (results) or quickly (trace)
  r.outcome.seed = s.seed;
  r.outcome.inputs = "random";
  if (!mpi.is_root()) return r.outcome.status == CaseStatus::failed ? kExitCheckFailed : kExitOk;

  print_profile(std::cout, r);
  std::string trace_error;  // reported after the record is written: a full disk must not lose the measurement
  if (s.trace && r.profiled) {
    std::ofstream trace(*s.trace, std::ios::trunc);
    write_trace_json(trace, r.traces,
                     {{"kernel", s.kernel->id()}, {"problem", s.problem.str()}, {"threads", r.outcome.threads},
                      {"ranks", r.ranks}, {"profiled_calls", r.profiled->repetitions},
                      {"events_dropped", r.trace_dropped}, {"version", prov.value("version", "")}});
    trace.close();
    if (!trace) {
      trace_error = "--trace: cannot write '" + *s.trace + "': " + std::strerror(errno) +
                    "; free disk space or choose another --trace (the profile is printed above" +
                    (results ? " and recorded in --out)" : ")");
      std::error_code ec;
      if (std::filesystem::is_regular_file(*s.trace, ec)) std::filesystem::remove(*s.trace, ec);  // cut off: unreadable
    } else {
      std::cout << "  trace     " << *s.trace << ": " << r.trace_kept << " events";
      if (r.trace_dropped > 0)
        std::cout << " (" << r.trace_dropped << " over the cap of " << r.per_thread_cap
                  << " per thread not shown: tile-level qk/softmax/pv first; the phase totals above are exact; "
                     "raise --trace-events to keep more)";
      std::cout << "; open it in ui.perfetto.dev\n";
    }
  }
  if (results) {
    nlohmann::json record = make_record(r.outcome, prov);
    if (r.profiled) record["profile"] = profile_json(r);
    results->append(record);
  }
  if (!trace_error.empty()) throw UsageError(trace_error);
  if (interrupt_count() > 0) return exit_status_for_signal(interrupt_signal());
  return r.outcome.status == CaseStatus::failed ? kExitCheckFailed : kExitOk;
}

}  // namespace attnbench
