#pragma once
// The worker side of `attnbench sweep` (sweep_supervisor.hpp describes the protocol): started by the
// supervisor with the sweep's own arguments and the hidden --worker option, it reads groups of case
// indices from stdin, one group a line (space-separated; several only with --interleave), runs each
// group and answers "begin <first>" and "record <i> <json>" for each of its cases on its stdout.
// Anything else that writes to stdout (a library's message) is sent to stderr instead, so it cannot
// break the protocol. It exits 0 at the end of its stdin.
//
// Test hook: ATTNBENCH_SWEEP_TEST_CRASH_AT=<index> makes the worker die of SIGSEGV when it begins
// the group holding that case, as a crashing kernel would (only the worker reads it).
#include "mpi_session.hpp"
#include "sweep_settings.hpp"

namespace attnbench {

int run_sweep_worker(const SweepSettings& settings, const MpiSession& mpi);

}  // namespace attnbench
