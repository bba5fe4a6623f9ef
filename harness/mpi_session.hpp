#pragma once
// MPI set-up for the program. MPI is initialised only when a launcher (mpirun, srun --mpi=pmix)
// started us, so a plain `attnbench run` pays no MPI start-up cost (mpi kernels then run as one rank,
// their communication layer a no-op); either way rank 0 owns all output.
//
// Under a launcher the ranks must agree on everything that decides which collectives they enter:
// rank 0's command line is the one every rank parses (broadcast_from_root), and set-up that can fail
// on one rank only (a file, the memory check) runs through collectively(), which fails every rank
// together instead of leaving the others waiting.
#include <mpi.h>

#include <exception>
#include <memory>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "exit_codes.hpp"

namespace attnbench {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  bool active() const { return active_; }  ///< MPI_Init was called
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  /// This session's ranks (what RunContext::comm gets): MPI_COMM_WORLD when active, a part of it for
  /// a session from first_ranks(), MPI_COMM_SELF when not active.
  MPI_Comm comm() const { return comm_; }
  /// Ranks of this session sharing this host (MPI_COMM_TYPE_SHARED); 1 when not active.
  int ranks_on_host() const { return ranks_on_host_; }

  /// The first `ranks` ranks of this session as a session of their own (MPI_Comm_split; collective:
  /// every rank of this session calls it), e.g. to run an mpi kernel on 2 of 4 launched ranks; null on
  /// the ranks left out. Its abort() still ends the whole job.
  std::unique_ptr<MpiSession> first_ranks(int ranks) const;

  /// True when the environment shows an MPI launcher started this process.
  static bool launched_by_mpi();

  /// Rank 0's `words` on every rank (so mismatched options across ranks are impossible).
  std::vector<std::string> broadcast_from_root(std::vector<std::string> words) const;

  /// Whether `ok` holds on every rank (collective).
  bool all_ok(bool ok) const;

  /// Runs `fn` on every rank; if it throws on any rank, every rank throws: a failing rank its own
  /// exception, the others a UsageError naming the first failing rank. Only rank 0 prints errors, so
  /// when rank 0 did not fail, the first failing rank prints its message here. Returns fn's result.
  template <class F>
  auto collectively(F&& fn) const -> decltype(fn()) {
    std::exception_ptr error;
    if constexpr (std::is_void_v<decltype(fn())>) {
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
      settle(error);
    } else {
      decltype(fn()) result{};
      try {
        result = fn();
      } catch (...) {
        error = std::current_exception();
      }
      settle(error);
      return result;
    }
  }

  /// A non-MPI kernel under a launcher runs on rank 0 alone: rank 0 calls release_peers(status) when
  /// its case (or, interleaved, its repetition) is done; the other ranks wait in wait_for_root() and get
  /// rank 0's status. They busy-poll for a short while (ATTNBENCH_IDLE_SPIN_US microseconds, default
  /// 2000; 0: sleep at once), then sleep 1 ms between polls so that they leave the cores to rank 0
  /// through a long case. The spin is for interleaved rounds: on a loaded machine a rank that slept
  /// waits for the scheduler to run it again, and the MPI kernel timed next shows that wait
  /// (docs/PERFORMANCE.md).
  void release_peers(int status) const;
  int wait_for_root() const;

  /// Ends the whole job now (MPI_Abort) after printing "attnbench: rank R: <message>; aborting the
  /// job" to stderr: for a failure on one rank that the others, perhaps waiting in a collective,
  /// cannot learn of. Records already appended are on disk (each is fsynced as written).
  [[noreturn]] void abort(const std::string& message) const;

 private:
  MpiSession() = default;  ///< for first_ranks()

  /// Rethrows `error` on the ranks where it happened; throws UsageError elsewhere if any rank failed.
  void settle(const std::exception_ptr& error) const;

  MPI_Comm comm_ = MPI_COMM_SELF;
  bool owns_comm_ = false;  ///< a communicator of first_ranks(), freed with the session
  bool active_ = false;
  int rank_ = 0;
  int size_ = 1;
  int ranks_on_host_ = 1;
};

}  // namespace attnbench
