#include "mpi_session.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

namespace attnbench {
namespace {

/// The harness's own MPI calls fail loudly: an error here means the job is broken.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = "unknown error";
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + text);
}

/// How long wait_politely polls before it sleeps: ATTNBENCH_IDLE_SPIN_US, default 2 ms.
std::chrono::microseconds idle_spin() {
  static const std::chrono::microseconds spin = [] {
    const char* text = std::getenv("ATTNBENCH_IDLE_SPIN_US");
    char* end = nullptr;
    const long us = text && *text ? std::strtol(text, &end, 10) : 2000;
    return std::chrono::microseconds(text && *text && (*end != '\0' || us < 0) ? 2000 : us);
  }();
  return spin;
}

/// A spin-wait hint to the CPU (the core's sibling thread and its power state benefit).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Waits for `request`: busy-polls for idle_spin(), then sleeps 1 ms between tests, so that an idle
/// rank does not hold a core that the working rank needs through a long case (MPI's blocking waits
/// busy-poll), yet answers at once between the short steps of interleaved rounds. The spin does not
/// yield the CPU: on a loaded machine a rank that sleeps or yields waits for the scheduler to run it
/// again, up to a whole scheduling period (64 ms measured at load 24 on dev-vm, docs/PERFORMANCE.md),
/// and the MPI kernel timed next waits for it.
void wait_politely(MPI_Request& request) {
  const auto spin_until = std::chrono::steady_clock::now() + idle_spin();
  for (int done = 0;;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    if (std::chrono::steady_clock::now() < spin_until)
      for (int i = 0; i < 32; ++i) cpu_relax();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// This rank's number, the session's size and the ranks of it on this host, for `comm`.
void describe(MPI_Comm comm, int& rank, int& size, int& on_host) {
  check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  MPI_Comm host;
  check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host), "MPI_Comm_split_type");
  check(MPI_Comm_size(host, &on_host), "MPI_Comm_size");
  MPI_Comm_free(&host);
}

}  // namespace

bool MpiSession::launched_by_mpi() {
  // Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx launchers (srun --mpi=pmix, prterun) PMIX_RANK;
  // MPICH-style launchers PMI_RANK.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

MpiSession::MpiSession(int& argc, char**& argv) {
  if (!launched_by_mpi()) return;
  int provided = 0;
  // FUNNELED: only the main thread makes MPI calls; OpenMP/TBB workers never do.
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Init_thread failed");
  active_ = true;
  comm_ = MPI_COMM_WORLD;
  describe(comm_, rank_, size_, ranks_on_host_);
}

MpiSession::~MpiSession() {
  if (owns_comm_) MPI_Comm_free(&comm_);
  else if (active_) MPI_Finalize();
}

std::unique_ptr<MpiSession> MpiSession::first_ranks(int ranks) const {
  if (ranks < 1 || ranks > size_)
    throw std::invalid_argument("first_ranks(" + std::to_string(ranks) + ") of a session of " + std::to_string(size_));
  if (!active_) return std::unique_ptr<MpiSession>(new MpiSession);  // a session of one, as this one
  MPI_Comm part = MPI_COMM_NULL;
  check(MPI_Comm_split(comm_, rank_ < ranks ? 0 : MPI_UNDEFINED, rank_, &part), "MPI_Comm_split");
  if (part == MPI_COMM_NULL) return nullptr;
  std::unique_ptr<MpiSession> session(new MpiSession);
  session->comm_ = part;
  session->owns_comm_ = true;
  session->active_ = true;
  describe(part, session->rank_, session->size_, session->ranks_on_host_);
  return session;
}

std::vector<std::string> MpiSession::broadcast_from_root(std::vector<std::string> words) const {
  if (!active_) return words;
  std::string packed;  // each word followed by '\0' (arguments cannot contain one)
  if (is_root())
    for (const std::string& w : words) packed += w + '\0';
  long long length = static_cast<long long>(packed.size());
  check(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm_), "MPI_Bcast");
  packed.resize(static_cast<std::size_t>(length));
  check(MPI_Bcast(packed.data(), static_cast<int>(length), MPI_CHAR, 0, comm_), "MPI_Bcast");
  words.clear();
  for (std::size_t at = 0; at < packed.size();) {
    const std::size_t end = packed.find('\0', at);
    words.push_back(packed.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

bool MpiSession::all_ok(bool ok) const {
  if (!active_) return ok;
  int mine = ok ? 1 : 0, all = 0;
  check(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
  return all == 1;
}

void MpiSession::settle(const std::exception_ptr& error) const {
  if (!active_) {
    if (error) std::rethrow_exception(error);
    return;
  }
  int failed_rank = error ? rank_ : size_, first = size_;
  check(MPI_Allreduce(&failed_rank, &first, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
  if (first == size_) return;
  if (error) {
    if (!is_root() && first != 0) try {  // rank 0 prints its own; when it failed too, its message says it
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::cerr << "attnbench: error on rank " << rank_ << ": " << e.what() << "\n";
      }
    std::rethrow_exception(error);
  }
  throw UsageError("rank " + std::to_string(first) + " could not set up the run (its message is above)");
}

void MpiSession::abort(const std::string& message) const {
  std::cerr << "attnbench: rank " << rank_ << ": " << message << "; aborting the job (records already written are intact)\n";
  std::cerr.flush();
  if (active_) MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

void MpiSession::release_peers(int status) const {
  if (!active_ || size_ == 1) return;
  MPI_Request request;
  check(MPI_Ibcast(&status, 1, MPI_INT, 0, comm_, &request), "MPI_Ibcast");
  check(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
}

int MpiSession::wait_for_root() const {
  int status = 0;
  if (!active_ || size_ == 1) return status;
  MPI_Request request;
  check(MPI_Ibcast(&status, 1, MPI_INT, 0, comm_, &request), "MPI_Ibcast");
  wait_politely(request);
  return status;
}

}  // namespace attnbench
