// `attnbench report`: placeholder until reports land (issue 7).
#include "cli_parse.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"

namespace attnbench {

int cmd_report(const std::vector<std::string>&) {
  throw UsageError("'report' is planned but not in this version yet");
}

}  // namespace attnbench
