// attnbench: benchmark and profile multi-head attention (and CNN/RNN baselines) on CPUs and clusters.
// Sub-commands in the style of git; exit status 0 ok, 1 a check failed, 2 bad input.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "attnbench/problem.hpp"
#include "build_info.hpp"
#include "cli_parse.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "mpi_session.hpp"
#include "npy.hpp"
#include "results_file.hpp"

namespace {

constexpr const char* kUsage = R"(usage: attnbench <command> [options]

commands:
  list      the registered kernels and what each supports          attnbench list [--json]
  run       measure kernels on problems, side by side               attnbench run --kernel all --problem b1_h8_sq512_d64 --check
  sweep     measure kernels over a grid of problems, resumably      attnbench sweep --preset quick --out results/quick.jsonl
  profile   time per phase, counters and a trace of one case         attnbench profile --kernel mha.blocked.omp --problem b1_h8_sq2048_d64
  calibrate measure this machine's peaks (and, under mpirun, network) attnbench calibrate --out results/machine-profile.json
  project   predict distributed attention at 1..1024 ranks           attnbench project --problem b1_h16_sq4096_d64 --network 100GbE
  report    Markdown/HTML/CSV report from results files              attnbench report results/*.jsonl -o report/
  compare   regression verdicts between two result sets (CI gate)    attnbench compare base.jsonl new.jsonl

'attnbench <command> --help' describes a command's options.
Exit status: 0 success, 1 a correctness check failed, 2 bad input.
)";

int dispatch(const std::vector<std::string>& words, const attnbench::MpiSession& mpi) {
  using namespace attnbench;
  if (words.empty())
    throw UsageError("no command given: name one of list, run, sweep, profile, calibrate, project, report, compare "
                     "(see 'attnbench --help')");
  const std::string& command = words.front();
  const std::vector<std::string> args(words.begin() + 1, words.end());
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (command == "--version" || command == "version") {
    const BuildInfo& b = build_info();
    std::cout << "attnbench " << b.version << " (" << b.git_commit << ", " << b.compiler << ", " << b.build_type << ")\n";
    return kExitOk;
  }
  if (command == "list") return cmd_list(args);
  if (command == "run") return cmd_run(args, mpi);
  if (command == "calibrate") return cmd_calibrate(args, mpi);
  if (command == "project") return cmd_project(args);
  if (command == "sweep") return cmd_sweep(args, mpi);
  if (command == "profile") return cmd_profile(args, mpi);
  if (command == "report") return cmd_report(args);
  if (command == "compare") return cmd_compare(args);
  const std::string suggestion =
      did_you_mean(command, {"list", "run", "sweep", "profile", "calibrate", "project", "report", "compare"});
  throw UsageError("unknown command '" + command + "'" + (suggestion.empty() ? "" : "; " + suggestion) +
                   " (see 'attnbench --help')");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attnbench;
  try {
    MpiSession mpi(argc, argv);
    // Rank 0's command line on every rank: mismatched options across ranks are impossible.
    const std::vector<std::string> words = mpi.broadcast_from_root(std::vector<std::string>(argv + 1, argv + argc));
    try {
      const int status = dispatch(words, mpi);
      // Output that never arrived (stdout on a full disk, /dev/full, a closed pipe) must not read as
      // success: a CI gate or script would take the empty report for a good one.
      if (std::cout.flush(), std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout)
        throw UsageError(std::string("cannot write to standard output: ") + std::strerror(errno) +
                         "; check where it is redirected (a full disk?) and run again");
      return status;
    } catch (const UsageError& e) {
      if (mpi.is_root()) std::cerr << "attnbench: error: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const NpyError& e) {
      if (mpi.is_root()) std::cerr << "attnbench: error: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const ResultsFileError& e) {
      if (mpi.is_root()) std::cerr << "attnbench: error: " << e.what() << "\n";  // it says what is intact
      return kExitBadInput;
    }
  } catch (const std::exception& e) {
    std::cerr << "attnbench: internal error: " << e.what() << "\n";
    return kExitBadInput;
  }
}
