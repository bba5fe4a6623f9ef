// `attnbench sweep`: placeholder until the sweep lands (issue 6).
#include "cli_parse.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "mpi_session.hpp"

namespace attnbench {

int cmd_sweep(const std::vector<std::string>&, const MpiSession&) {
  throw UsageError("'sweep' is planned but not in this version yet; use 'attnbench run'");
}

}  // namespace attnbench
