#pragma once
// Runs a sweep's cases in a worker process, so that no case can stop the sweep.
//
// A kernel call cannot be interrupted from inside the process that makes it, and a crashing kernel
// takes its process down. So the `sweep` process (the supervisor) never runs a kernel: it starts a
// worker (the same program, fork + exec, so OpenMP/TBB/BLAS thread pools start fresh, never copied
// mid-state by a bare fork) and hands it one group of cases at a time on the worker's stdin: their
// indices on one line, space-separated (one index without --interleave; with it, the cases that are
// measured side by side). The worker answers on its stdout (the protocol channel; its own prints go
// to stderr):
//   begin <index>             it started the group (<index>: its first case): the timeout counts from here
//   record <index> <json>     one case's record, one line, for every case of the group
// The supervisor, the single writer of the results file, handles each event as it comes. A worker
// that overruns the group's timeout (the sum of its cases' timeouts) is killed (SIGKILL) and one that
// dies (a crashing kernel) is reaped; every case of the group without a record is reported as lost
// with the reason, and a fresh worker goes on with the next group. A worker
// ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole process group) and dies with the supervisor
// (PR_SET_PDEATHSIG), so killing the sweep leaves nothing running.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnbench {

/// What the supervisor reports as the cases go (each called on the supervisor's only thread).
struct WorkerEvents {
  std::function<void(std::size_t index)> begin;                           ///< the worker started a case
  std::function<void(std::size_t index, const nlohmann::json& record)> record;  ///< it finished it
  std::function<void(std::size_t index, const std::string& reason)> lost;       ///< no record: timeout or crash
  std::function<void()> tick;                                             ///< about 4 times a second while waiting
};

struct SupervisorOptions {
  std::vector<std::string> worker_argv;  ///< the worker's program (a path) and arguments
  double timeout_s = 600;                ///< per case, from the worker's "begin" (a group: times its size)
  double startup_s = 60;                 ///< how long a fresh worker may take to begin its first case
};

struct SupervisedRun {
  std::size_t finished = 0;  ///< cases (of whole groups, in order) that got a record or were reported lost
  bool interrupted = false;  ///< SIGINT/SIGTERM stopped it before every case was done
};

/// Runs `groups` of cases (indices the worker understands) in order through workers, reporting each
/// case through `events`. After a first SIGINT/SIGTERM (sweep_interrupt.hpp) it lets the group in
/// flight finish and stops; after a second it kills the worker at once (the group's cases without a
/// record stay unfinished). Throws std::runtime_error when a fresh worker ends before beginning its
/// group (it cannot start: every further group would fail the same way).
SupervisedRun supervise_cases(const std::vector<std::vector<std::size_t>>& groups, const SupervisorOptions& options,
                              const WorkerEvents& events);

/// The reason of a case that overran the timeout: "timeout after 0.3 s (--timeout)"; of a group of
/// `cases` measured side by side: "timeout after 0.6 s (--timeout 0.3 s for each of the 2 cases ...)".
std::string timeout_reason(double timeout_s, std::size_t cases = 1);

/// A worker's end as a reason: "crashed: signal 11 (SIGSEGV)", "worker exited with status 3".
std::string describe_worker_end(int wait_status);

/// The worker's side of the channel: one line (a '\n' is added), written whole; false if the
/// supervisor is gone.
bool write_protocol_line(int fd, const std::string& line);

}  // namespace attnbench
