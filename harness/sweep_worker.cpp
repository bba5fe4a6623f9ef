#include "sweep_worker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

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
    std::vector<std::size_t> group;  // one case, or the cases measured side by side
    std::istringstream words(line);
    for (std::size_t index; words >> index;) {
      if (index >= s.grid.cases.size()) {
        std::cerr << "attnbench: sweep worker: case " << index << " is not in the grid of " << s.grid.cases.size()
                  << "\n";
        return kExitBadInput;
      }
      group.push_back(index);
    }
    if (group.empty() || !words.eof()) {
      std::cerr << "attnbench: sweep worker: expected case indices, got '" << line << "'\n";
      return kExitBadInput;
    }
    if (!write_protocol_line(channel, "begin " + std::to_string(group.front()))) return kExitOk;  // the supervisor is gone
    if (crash_at >= 0 && std::find(group.begin(), group.end(), std::size_t(crash_at)) != group.end()) {
      std::signal(SIGSEGV, SIG_DFL);  // past any sanitizer's handler: die as a crashing kernel does
      std::raise(SIGSEGV);
    }
    const std::vector<CaseOutcome> outcomes = runner.run_group(group);
    for (std::size_t k = 0; k < group.size(); ++k) {
      const std::string record =
          runner.record(outcomes[k], group[k]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (!write_protocol_line(channel, "record " + std::to_string(group[k]) + " " + record)) return kExitOk;
    }
  }
  return kExitOk;
}

}  // namespace attnbench
