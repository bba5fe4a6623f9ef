#pragma once
// The communication layer of the mpi kernels (Megatron-style: verbs named for the data movement, so a
// kernel reads comm -> compute -> comm). Every verb is a no-op on one rank, so one code path serves
// P = 1 and P > 1, and a process that never initialised MPI runs the kernels as one rank.
//
// Every MPI call is checked: the communicator returns errors to us (MPI_ERRORS_RETURN) and a failed
// call prints "attnbench: rank R: MPI_X failed: <MPI's error string>" and ends the whole job with
// MPI_Abort, so a broken collective never leaves the other ranks waiting.
//
// Each verb adds its bytes sent, messages and seconds to the phase it is given in log() (CommLog);
// a null phase records nothing (data movement outside the algorithm, e.g. collecting the output).
// When profiling, the same interval also goes to the PhaseRecorder as a trace event labelled with
// the phase (timed once: the trace and CommLog's seconds are the same measurement).
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "attnbench/comm_log.hpp"
#include "attnbench/phase_recorder.hpp"

namespace attnbench::kernels::mpi {

/// Aborts the job with a message naming `call` and MPI's description of `code` unless it is MPI_SUCCESS.
void check(int code, const char* call);

/// Aborts the job with `message` (for a rank-local failure the other ranks cannot know about).
[[noreturn]] void abort_job(const char* message);

/// Ranks of `comm`: 1 when MPI is not initialised (kernels then never call MPI).
int comm_size(MPI_Comm comm);

class Comm {
 public:
  /// A private duplicate of `parent` (collective over it), so the kernel's messages never match the
  /// harness's; one rank and no MPI calls when MPI is not initialised or `parent` has one rank.
  /// `phases`: where each recorded call also goes as a trace event (null: nowhere).
  explicit Comm(MPI_Comm parent, PhaseRecorder* phases = nullptr);
  ~Comm();
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  CommLog& log() { return log_; }

  /// data[0, count) <- sum over ranks, on every rank.
  void all_reduce_sum(float* data, std::int64_t count, const char* phase);

  /// Rank 0 receives every rank's `send` (counts[r] floats from rank r) back to back into `recv`;
  /// rank 0's own block is copied. `recv` is only read on rank 0.
  void gather_to_root(const float* send, const std::vector<std::int64_t>& counts, float* recv, const char* phase);

  /// Personalised all-to-all: send_counts[r] floats to rank r from `send` (blocks back to back),
  /// recv_counts[r] floats from rank r into `recv`.
  void all_to_all(const float* send, const std::vector<std::int64_t>& send_counts, float* recv,
                  const std::vector<std::int64_t>& recv_counts, const char* phase);

  /// A non-blocking shift around the ring: `send` goes to rank + 1 while `recv` fills from rank - 1.
  /// start() posts both; progress() lets MPI move data while the caller computes (call it from the
  /// thread that initialised MPI); finish() waits. Exposed time (inside these calls) goes to the phase.
  void ring_shift_start(const float* send, std::int64_t send_count, float* recv, std::int64_t recv_count,
                        const char* phase);
  void ring_shift_progress();
  void ring_shift_finish();

 private:
  using Clock = std::chrono::steady_clock;
  void add(const char* phase, std::int64_t bytes, std::int64_t messages, Clock::time_point start);
  void note(const char* phase);  ///< the phase exists (one rank: a no-op that still names it)

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  CommLog log_;
  PhaseRecorder* phases_ = nullptr;
  MPI_Request shift_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  const char* shift_phase_ = nullptr;
};

}  // namespace attnbench::kernels::mpi
