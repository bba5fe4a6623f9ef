// The mpi kernels' communication layer (comm.hpp).
#include "comm.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace attnbench::kernels::mpi {
namespace {

int world_rank() {
  int initialized = 0, finalized = 0, rank = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

/// MPI counts are int: a block beyond INT_MAX floats ends the job with a message saying so.
int as_count(std::int64_t n, const char* call) {
  if (n < 0 || n > INT_MAX) {
    const std::string why = std::string(call) + ": a message of " + std::to_string(n) +
                            " floats exceeds MPI's int count; use more ranks or a smaller batch";
    abort_job(why.c_str());
  }
  return int(n);
}

std::vector<int> counts_of(const std::vector<std::int64_t>& n, const char* call) {
  std::vector<int> c(n.size());
  for (std::size_t i = 0; i < n.size(); ++i) c[i] = as_count(n[i], call);
  return c;
}

std::vector<int> displacements(const std::vector<int>& counts, const char* call) {
  std::vector<int> d(counts.size());
  std::int64_t at = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) d[i] = as_count(at, call), at += counts[i];
  return d;
}

}  // namespace

void abort_job(const char* message) {
  std::fprintf(stderr, "attnbench: rank %d: %s; aborting the job\n", world_rank(), message);
  std::fflush(stderr);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 3);
  std::abort();
}

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = "unknown error";
  int length = 0;
  MPI_Error_string(code, text, &length);
  const std::string message = std::string(call) + " failed: " + text;
  abort_job(message.c_str());
}

int comm_size(MPI_Comm comm) {
  int initialized = 0, finalized = 0, size = 1;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  return size;
}

Comm::Comm(MPI_Comm parent, PhaseRecorder* phases) : phases_(phases) {
  if (comm_size(parent) == 1) return;
  check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Comm::~Comm() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void Comm::add(const char* phase, std::int64_t bytes, std::int64_t messages, Clock::time_point start) {
  if (!phase) return;
  PhaseLog& p = log_.phase(phase);
  p.bytes += bytes;
  p.messages += messages;
  const Clock::time_point end = Clock::now();
  p.seconds += std::chrono::duration<double>(end - start).count();
  if (phases_) phases_->event(Phase::communication, phase, PhaseRecorder::ns(start), PhaseRecorder::ns(end));
}

void Comm::note(const char* phase) {
  if (phase) log_.phase(phase);
}

void Comm::all_reduce_sum(float* data, std::int64_t count, const char* phase) {
  if (size_ == 1) return note(phase);
  const auto start = Clock::now();
  check(MPI_Allreduce(MPI_IN_PLACE, data, as_count(count, "MPI_Allreduce"), MPI_FLOAT, MPI_SUM, comm_),
        "MPI_Allreduce");
  add(phase, count * std::int64_t(sizeof(float)), 1, start);
}

void Comm::gather_to_root(const float* send, const std::vector<std::int64_t>& counts, float* recv, const char* phase) {
  if (size_ == 1) {
    if (recv != send) std::memcpy(recv, send, std::size_t(counts[0]) * sizeof(float));
    return note(phase);
  }
  const auto start = Clock::now();
  const std::vector<int> c = counts_of(counts, "MPI_Gatherv");
  const std::vector<int> d = displacements(c, "MPI_Gatherv");
  check(MPI_Gatherv(send, c[std::size_t(rank_)], MPI_FLOAT, recv, c.data(), d.data(), MPI_FLOAT, 0, comm_),
        "MPI_Gatherv");
  const std::int64_t sent = rank_ == 0 ? 0 : counts[std::size_t(rank_)];
  add(phase, sent * std::int64_t(sizeof(float)), sent > 0 ? 1 : 0, start);
}

void Comm::all_to_all(const float* send, const std::vector<std::int64_t>& send_counts, float* recv,
                      const std::vector<std::int64_t>& recv_counts, const char* phase) {
  if (size_ == 1) {
    if (recv != send) std::memcpy(recv, send, std::size_t(send_counts[0]) * sizeof(float));
    return note(phase);
  }
  const auto start = Clock::now();
  const std::vector<int> sc = counts_of(send_counts, "MPI_Alltoallv"), rc = counts_of(recv_counts, "MPI_Alltoallv");
  const std::vector<int> sd = displacements(sc, "MPI_Alltoallv"), rd = displacements(rc, "MPI_Alltoallv");
  check(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_FLOAT, recv, rc.data(), rd.data(), MPI_FLOAT, comm_),
        "MPI_Alltoallv");
  std::int64_t bytes = 0, messages = 0;
  for (int r = 0; r < size_; ++r)
    if (r != rank_ && send_counts[std::size_t(r)] > 0) bytes += send_counts[std::size_t(r)] * 4, ++messages;
  add(phase, bytes, messages, start);
}

void Comm::ring_shift_start(const float* send, std::int64_t send_count, float* recv, std::int64_t recv_count,
                            const char* phase) {
  shift_phase_ = phase;
  if (size_ == 1) return note(phase);
  const auto start = Clock::now();
  const int right = (rank_ + 1) % size_, left = (rank_ + size_ - 1) % size_, tag = 0;
  check(MPI_Irecv(recv, as_count(recv_count, "MPI_Irecv"), MPI_FLOAT, left, tag, comm_, &shift_[0]), "MPI_Irecv");
  check(MPI_Isend(send, as_count(send_count, "MPI_Isend"), MPI_FLOAT, right, tag, comm_, &shift_[1]), "MPI_Isend");
  add(phase, send_count * std::int64_t(sizeof(float)), send_count > 0 ? 1 : 0, start);
}

void Comm::ring_shift_progress() {
  if (size_ == 1 || (shift_[0] == MPI_REQUEST_NULL && shift_[1] == MPI_REQUEST_NULL)) return;
  const auto start = Clock::now();
  int done = 0;
  check(MPI_Testall(2, shift_, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
  add(shift_phase_, 0, 0, start);
}

void Comm::ring_shift_finish() {
  if (size_ == 1) return;
  const auto start = Clock::now();
  check(MPI_Waitall(2, shift_, MPI_STATUSES_IGNORE), "MPI_Waitall");
  add(shift_phase_, 0, 0, start);
}

}  // namespace attnbench::kernels::mpi
