// `attnbench sweep`: every selected kernel over a grid of problems, one record per case appended and
// synced as it finishes, resumable, with a per-case timeout.
//
// Without a launcher the sweep process supervises (sweep_supervisor.hpp): it plans, owns the results
// file and the display, and runs no kernel; a worker process (this command with --worker) runs the
// cases, so a case that overruns --timeout is killed and a crashing kernel costs one failed record.
// Under an MPI launcher (mpirun, srun; any number of ranks) there is no fork/exec: the ranks run the cases in-process, and
// a case that overruns --timeout gets its timeout record from rank 0, which then ends the job with a
// message to rerun with --resume (MPI cannot interrupt a kernel that the other ranks wait on).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "attnbench/cost_model.hpp"
#include "case_execution.hpp"
#include "cli_measure.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "mpi_session.hpp"
#include "results_file.hpp"
#include "sweep_cases.hpp"
#include "sweep_interrupt.hpp"
#include "sweep_progress.hpp"
#include "sweep_resume.hpp"
#include "sweep_settings.hpp"
#include "sweep_supervisor.hpp"
#include "sweep_worker.hpp"

namespace attnbench {
namespace {

namespace fs = std::filesystem;

po::options_description sweep_run_options() {
  po::options_description o("Sweep");
  o.add_options()
      ("help,h", "show this help")
      ("out", po::value<std::string>(), "append one JSON Lines record per case to this file (default: "
                                        "results/sweep-<UTC time>.jsonl; directories are created)")
      ("resume", po::bool_switch(), "skip the cases already recorded in --out by this build (same problem, kernel, "
                                    "threads, ranks, git commit and flags); with --interleave a group is skipped only "
                                    "when all its cases are, else it runs whole again (its cases stay side by side)")
      ("retry-failed", po::bool_switch(), "with --resume: run the cases recorded as failed again")
      ("dry-run", po::bool_switch(), "print the planned cases (and why any would be skipped), run nothing")
      ("no-check", po::bool_switch(), "do not compare each case's output with the float64 reference "
                                      "(checked by default; the reference needs time and memory)")
      ("timeout", po::value<std::string>()->default_value("600"), "seconds one case may take (set-up, check and "
                                                                  "measurement) before it is killed and recorded as failed; "
                                                                  "with --interleave a group's cases share the sum of theirs")
      ("seed", po::value<std::string>()->default_value("42"), "seed of the random inputs")
      ("machine", po::value<std::string>(), "machine profile from 'attnbench calibrate' for rate.pct_peak (default: "
                                            "$ATTNBENCH_MACHINE_PROFILE or results/machine-profile.json, if present)")
      ("quiet,q", po::bool_switch(), "print only failures and the summary")
      ("verbose,v", po::bool_switch(), "print every case with its statistics");
  return o;
}

/// The hidden option the supervisor gives its worker.
po::options_description sweep_hidden_options() {
  po::options_description o;
  o.add_options()("worker", po::bool_switch(), "run cases from stdin (internal: the sweep's worker process)");
  return o;
}

/// "results/sweep-20261121T120000Z.jsonl"
fs::path default_out() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::ostringstream name;
  name << "results/sweep-" << std::put_time(&utc, "%Y%m%dT%H%M%SZ") << ".jsonl";
  return name.str();
}

SweepSettings settings_from(const po::variables_map& vm, const std::vector<std::string>& args, const MpiSession& mpi) {
  SweepSettings s;
  s.args = args;
  s.grid = sweep_grid_from(vm);
  fit_to_launch(s.grid, mpi.size(), mpi.ranks_on_host());
  s.measure = measure_options_from(vm);
  s.check = !vm["no-check"].as<bool>();
  s.seed = std::uint64_t(parse_int("--seed", vm["seed"].as<std::string>(), 0, INT64_MAX));
  s.timeout_s = parse_double("--timeout", vm["timeout"].as<std::string>(), 0, 1e7);
  if (!(s.timeout_s > 0)) throw UsageError("--timeout must be above 0 seconds (got " + vm["timeout"].as<std::string>() + ")");
  s.out = vm.count("out") ? fs::path(vm["out"].as<std::string>()) : default_out();
  s.resume = vm["resume"].as<bool>();
  s.retry_failed = vm["retry-failed"].as<bool>();
  s.dry_run = vm["dry-run"].as<bool>();
  if (s.retry_failed && !s.resume) throw UsageError("--retry-failed needs --resume (it reruns the failed cases of --out)");
  if (s.resume && !vm.count("out")) throw UsageError("--resume needs --out FILE: the results file to complete");
  if (vm["quiet"].as<bool>() && vm["verbose"].as<bool>()) throw UsageError("--quiet and --verbose contradict each other; give one");
  s.verbosity = vm["quiet"].as<bool>() ? Verbosity::quiet : vm["verbose"].as<bool>() ? Verbosity::verbose : Verbosity::normal;
  s.machine = machine_for_run(vm.count("machine") ? &vm["machine"].as<std::string>() : nullptr);
  s.pin = pin_mode_from(vm);
  s.interleave_seed = interleave_seed_from(vm);
  return s;
}

/// `word` as one shell word (quoted only when it needs to be).
std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") ==
                           std::string::npos)
    return word;
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// The program as the user invoked it (argv[0]), for a command they can paste.
std::string invoked_program() {
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  std::string first;
  std::getline(cmdline, first, '\0');
  return first.empty() ? "attnbench" : first;
}

/// The exact command that completes this sweep: its arguments, with --out and --resume.
std::string resume_command(const SweepSettings& s) {
  std::string command = shell_word(invoked_program()) + " sweep";
  bool has_out = false, has_resume = false;
  for (const std::string& a : s.args) {
    command += " " + shell_word(a);
    has_out |= a == "--out" || a.rfind("--out=", 0) == 0;
    has_resume |= a == "--resume";
  }
  if (!has_out) command += " --out " + shell_word(s.out.string());
  if (!has_resume) command += " --resume";
  return command;
}

/// This program's own path, for exec: the worker is this very binary.
std::string self_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this program (/proc/self/exe): " + ec.message());
  return self.string();
}

struct Plan {
  std::vector<std::vector<std::size_t>> groups;  ///< grid indices to run, a group at a time (sweep_groups)
  std::vector<std::size_t> pending;              ///< the same indices, in run order
  std::set<std::size_t> reruns;  ///< pending cases this build already recorded in the file (a failed case
                                 ///< retried, a finished case of a half-done group): sweep.rerun
  std::size_t already_done = 0;
  std::vector<ProgressCase> cases;  ///< the pending ones as the display shows them
};

Plan make_plan(const SweepSettings& s, const MpiSession& mpi, const ResumeScan& scan) {
  Plan plan;
  const auto key = [&](std::size_t i) { return planned_key(s.grid.cases[i], mpi.size()); };
  for (const std::vector<std::size_t>& group : sweep_groups(s.grid, s.interleave_seed.has_value())) {
    // A group runs whole or not at all: its cases are measured side by side.
    if (s.resume && std::all_of(group.begin(), group.end(), [&](std::size_t i) { return scan.done.count(key(i)) > 0; })) {
      plan.already_done += group.size();
      continue;
    }
    plan.groups.push_back(group);
    for (const std::size_t i : group) {
      plan.pending.push_back(i);
      if (scan.recorded.count(key(i))) plan.reruns.insert(i);
      const SweepCase& c = s.grid.cases[i];
      const RunContext ctx{c.threads, mpi.comm()};
      plan.cases.push_back({i, c.problem.str(), c.kernel->id(), flops(c.kernel->info().op, c.problem).total(),
                            !skip_reason(c.problem, *c.kernel, ctx, s.check).empty()});
    }
  }
  return plan;
}

int print_dry_run(const SweepSettings& s, const MpiSession& mpi, const Plan& plan) {
  std::cout << s.grid.cases.size() << " cases" << (s.grid.preset.empty() ? "" : " (preset " + s.grid.preset + ")");
  if (s.resume) std::cout << ", " << plan.already_done << " already in " << s.out.string();
  std::cout << "; " << plan.pending.size() << " to run:\n";
  for (std::size_t k = 0; k < plan.pending.size(); ++k) {
    const SweepCase& c = s.grid.cases[plan.pending[k]];
    const std::string reason = skip_reason(c.problem, *c.kernel, RunContext{c.threads, mpi.comm()}, s.check);
    std::cout << std::setw(5) << plan.pending[k] << "  " << c.problem.str() << "  " << c.kernel->id() << "  threads "
              << c.threads << (c.ranks ? "  ranks " + std::to_string(c.ranks) : "")
              << (reason.empty() ? "" : "  skip: " + reason) << "\n";
  }
  return kExitOk;
}

/// The results file and the display of one sweep (rank 0's), and the record writer.
struct Session {
  Session(const SweepSettings& settings, const Plan& p, const MpiSession& mpi)
      : s(settings), plan(p), runner(settings, mpi) {
    for (const std::vector<std::size_t>& group : plan.groups) group_size[group.front()] = group.size();
  }
  const SweepSettings& s;
  const Plan& plan;
  SweepCaseRunner runner;
  std::optional<ResultsFile> file;
  std::optional<SweepProgress> progress;
  std::map<std::size_t, std::size_t> group_size;  ///< first case of a group -> its cases
  bool interrupt_noted = false;

  void begin(std::size_t first) { progress->begin(first, group_size.count(first) ? group_size.at(first) : 1); }
  void record(std::size_t index, nlohmann::json r) {
    // A rerun's record replaces this build's earlier records of the case (docs/RESULTS.md).
    r["sweep"]["rerun"] = plan.reruns.count(index) > 0;
    file->append(r);
    progress->finished(index, r);
  }
  /// Between polls: the display, and a word on the first interrupt.
  void tick() {
    progress->tick();
    if (interrupt_count() == 1 && !interrupt_noted) {
      interrupt_noted = true;
      progress->note("interrupted: finishing the case in flight (interrupt again to stop at once)");
    }
  }
};

/// Prints the summary and returns the exit status.
int finish(Session& session, std::size_t finished, int signal) {
  SweepProgress& p = *session.progress;
  const Plan& plan = session.plan;
  p.clear();
  std::cout << "sweep " << (finished == plan.pending.size() ? "done" : signal ? "interrupted" : "stopped") << " after "
            << format_duration(p.elapsed_s()) << ": " << p.ok() << " ok, " << p.skipped() << " skipped, " << p.failed()
            << " failed";
  if (plan.already_done) std::cout << " (and " << plan.already_done << " done before)";
  std::cout << " of " << session.s.grid.cases.size() << " cases; results in " << session.s.out.string() << "\n";
  if (finished < plan.pending.size())
    std::cout << plan.pending.size() - finished << " cases not run; resume with:\n  " << resume_command(session.s)
              << "\n";
  std::cout.flush();
  if (signal) return exit_status_for_signal(signal);
  return p.failed() ? kExitCheckFailed : kExitOk;
}

int run_supervised(Session& session) {
  const SweepSettings& s = session.s;
  std::vector<std::string> argv{self_path(), "sweep"};
  argv.insert(argv.end(), s.args.begin(), s.args.end());
  argv.push_back("--worker");
  const WorkerEvents events{
      [&](std::size_t i) { session.begin(i); },
      [&](std::size_t i, const nlohmann::json& r) { session.record(i, r); },
      [&](std::size_t i, const std::string& reason) { session.record(i, session.runner.lost_record(i, reason)); },
      [&] { session.tick(); }};
  const SupervisedRun run = supervise_cases(session.plan.groups, SupervisorOptions{argv, s.timeout_s}, events);
  return finish(session, run.finished, run.interrupted ? interrupt_signal() : 0);
}

/// Under an MPI launcher: every rank runs every group here, rank 0 writes. A watchdog thread on rank 0
/// writes the timeout records of a group that overruns and ends the job (MPI_Abort): the ranks may be
/// inside the kernel's collectives, which nothing can interrupt.
int run_in_process(Session& session, const MpiSession& mpi) {
  const SweepSettings& s = session.s;
  const bool root = mpi.is_root();
  std::mutex mutex;
  std::condition_variable changed;
  const std::vector<std::size_t>* in_flight = nullptr;  // the group running now
  std::chrono::steady_clock::time_point deadline;
  bool over = false;
  std::thread watchdog;
  if (root)
    watchdog = std::thread([&] {
      std::unique_lock lock(mutex);
      while (!over) {
        if (!in_flight) {
          changed.wait(lock);
          continue;
        }
        const std::vector<std::size_t>* group = in_flight;
        if (changed.wait_until(lock, deadline, [&] { return over || in_flight != group; })) continue;
        for (std::size_t index : *group)
          session.record(index, session.runner.lost_record(index, timeout_reason(s.timeout_s, group->size())));
        session.progress->clear();
        const SweepCase& c = s.grid.cases[group->front()];
        mpi.abort("case " + std::to_string(group->front()) + " (" + c.problem.str() + ", " + c.kernel->id() +
                  (group->size() > 1 ? " and " + std::to_string(group->size() - 1) + " more side by side" : "") +
                  ") overran --timeout; its timeout record is written. Under MPI a running kernel cannot be "
                  "interrupted, so the job ends here; to go on, rerun:\n  " + resume_command(s));
      }
    });
  std::size_t finished = 0;
  int signal = 0;
  for (const std::vector<std::size_t>& group : session.plan.groups) {
    // Every rank stops at the same group, whichever of them was signalled.
    if (!mpi.all_ok(interrupt_count() == 0)) {
      signal = interrupt_signal() ? interrupt_signal() : SIGTERM;
      break;
    }
    if (root) {
      session.begin(group.front());
      std::lock_guard lock(mutex);
      in_flight = &group;
      deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                        std::chrono::duration<double>(s.timeout_s * double(group.size())));
      changed.notify_all();
    }
    const std::vector<CaseOutcome> outcomes = session.runner.run_group(group);
    if (root) {
      std::lock_guard lock(mutex);  // the watchdog cannot write a timeout record for it now
      in_flight = nullptr;
      changed.notify_all();
      for (std::size_t k = 0; k < group.size(); ++k) session.record(group[k], session.runner.record(outcomes[k], group[k]));
    }
    finished += group.size();
  }
  if (root) {
    {
      std::lock_guard lock(mutex);
      over = true;
      changed.notify_all();
    }
    watchdog.join();
  }
  if (!root) return kExitOk;
  return finish(session, finished, signal);
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args, const MpiSession& mpi) {
  po::options_description visible;
  visible.add(sweep_axis_options()).add(sweep_run_options()).add(measurement_options()).add(placement_options());
  po::options_description all;
  all.add(visible).add(sweep_hidden_options());
  const po::variables_map vm = parse_sweep_args(args, all);
  if (vm.count("help")) {
    std::cout << "usage: attnbench sweep [--preset NAME] [--config FILE] [axes] [options]\n"
              << "Measure kernels over a grid of problems; one record per case, synced as it finishes.\n\n"
              << visible
              << "\nPresets:";
    for (const std::string& name : preset_names()) std::cout << " " << name;
    std::cout << "\nExit status: 0 every case ok or skipped, 1 a case failed, 2 bad input, 130/143 interrupted "
                 "(the printed command resumes).\n";
    return kExitOk;
  }
  const SweepSettings s = mpi.collectively([&] { return settings_from(vm, args, mpi); });
  if (vm["worker"].as<bool>()) return run_sweep_worker(s, mpi);

  // Plan on rank 0 (it reads the file) and hand the other ranks the indices to run.
  ResumeScan scan;
  Plan plan = mpi.collectively([&] {
    if (mpi.is_root() && s.resume) scan = scan_for_resume(s.out, s.retry_failed);
    return make_plan(s, mpi, scan);
  });
  std::vector<std::string> groups;  // "3 5 7": a group's indices
  for (const std::vector<std::size_t>& group : plan.groups) {
    std::string words;
    for (std::size_t i : group) words += (words.empty() ? "" : " ") + std::to_string(i);
    groups.push_back(words);
  }
  groups = mpi.broadcast_from_root(groups);
  plan.groups.clear();
  plan.pending.clear();
  for (const std::string& words : groups) {
    std::istringstream in(words);
    plan.groups.emplace_back();
    for (std::size_t i; in >> i;) plan.groups.back().push_back(i), plan.pending.push_back(i);
  }
  if (mpi.is_root()) {
    for (const std::string& w : scan.warnings) std::cerr << "note: " << w << "\n";
    for (const std::string& e : s.grid.excluded) std::cerr << "note: " << e << "\n";  // never a silent drop
  }
  if (s.dry_run) return mpi.is_root() ? print_dry_run(s, mpi, plan) : kExitOk;

  Session session(s, plan, mpi);
  mpi.collectively([&] {
    if (!mpi.is_root()) return;
    // Opened before anything is measured, so an unwritable path fails now, not after an hour.
    std::error_code ec;
    if (s.out.has_parent_path()) fs::create_directories(s.out.parent_path(), ec);
    try {
      session.file.emplace(s.out);
    } catch (const ResultsFileError& e) {
      throw UsageError(std::string("--out: ") + e.what());
    }
  });
  install_interrupt_handlers();
  if (mpi.is_root()) {
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    session.progress.emplace(std::cout, std::cerr, terminal, s.verbosity, plan.cases);
    if (!s.machine.note.empty()) std::cerr << s.machine.note << "\n";
    if (s.grid.default_threads && mpi.ranks_on_host() > 1 && s.verbosity != Verbosity::quiet)
      std::cout << "threads: " << s.grid.cases.front().threads << " per rank (no --threads: this host's logical CPUs "
                << "shared by its " << mpi.ranks_on_host() << " ranks)\n";
    if (s.verbosity != Verbosity::quiet) {
      std::cout << "sweep: " << plan.pending.size() << " cases to run";
      if (s.resume)
        std::cout << " (" << plan.already_done << " of " << s.grid.cases.size() << " already in the file"
                  << (scan.failed_to_retry ? ", " + std::to_string(scan.failed_to_retry) + " failed to retry" : "")
                  << (scan.other_build ? ", " + std::to_string(scan.other_build) + " records of another build not counted"
                                       : "")
                  << ")";
      if (s.interleave_seed && plan.groups.size() < plan.pending.size())
        std::cout << " in " << plan.groups.size() << " groups measured side by side (--interleave-seed "
                  << *s.interleave_seed << ")";
      std::cout << (mpi.size() > 1 ? " on " + std::to_string(mpi.size()) + " ranks" : "") << "; results -> "
                << s.out.string() << "\n";
    }
  }
  // Under a launcher, even with one rank, a forked worker would start MPI again as a process the launcher
  // does not know: the ranks run the cases themselves.
  return mpi.active() ? run_in_process(session, mpi) : run_supervised(session);
}

}  // namespace attnbench
