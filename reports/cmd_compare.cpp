// `attnbench compare`: placeholder until the comparison lands (issue 7).
#include "cli_parse.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"

namespace attnbench {

int cmd_compare(const std::vector<std::string>&) {
  throw UsageError("'compare' is planned but not in this version yet");
}

}  // namespace attnbench
