#include "sweep_worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>

#include "exit_codes.hpp"
#include "sweep_cases.hpp"
#include "sweep_supervisor.hpp"

namespace attnbench {
int run_sweep_worker(const SweepSettings& s, const MpiSession& mpi) {
  // The protocol channel is a private copy of stdout; stdout itself now goes to stderr.
  std::cout.flush();
  const int channel = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (channel < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::cerr << "attnbench: sweep worker: cannot set up its channel\n";
    return kExitBadInput;
  }
  const long crash_at = test_hook_index("ATTNBENCH_SWEEP_TEST_CRASH_AT");
  SweepCaseRunner runner(s, mpi);
  std::string line;
  while (std::getline(std::cin, line)) {
    const std::size_t index = std::stoull(line);
    if (index >= s.grid.cases.size()) {
      std::cerr << "attnbench: sweep worker: case " << index << " is not in the grid of " << s.grid.cases.size()
                << "\n";
      return kExitBadInput;
    }
    if (!write_protocol_line(channel, "begin " + std::to_string(index))) return kExitOk;  // the supervisor is gone
    if (long(index) == crash_at) {
      std::signal(SIGSEGV, SIG_DFL);  // past any sanitizer's handler: die as a crashing kernel does
      std::raise(SIGSEGV);
    }
    const CaseOutcome outcome = runner.run(index);
    const std::string record =
        runner.record(outcome, index).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!write_protocol_line(channel, "record " + std::to_string(index) + " " + record)) return kExitOk;
  }
  return kExitOk;
}

}  // namespace attnbench
