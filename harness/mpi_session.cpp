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

/// Waits for `request` while sleeping between tests: an idle rank must not spin on a core that the
/// working rank needs (MPI's blocking waits busy-poll).
void wait_politely(MPI_Request& request) {
  for (int done = 0;;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
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
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  MPI_Comm host;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &host), "MPI_Comm_split_type");
  check(MPI_Comm_size(host, &ranks_on_host_), "MPI_Comm_size");
  MPI_Comm_free(&host);
}

MpiSession::~MpiSession() {
  if (active_) MPI_Finalize();
}

std::vector<std::string> MpiSession::broadcast_from_root(std::vector<std::string> words) const {
  if (!active_) return words;
  std::string packed;  // each word followed by '\0' (arguments cannot contain one)
  if (is_root())
    for (const std::string& w : words) packed += w + '\0';
  long long length = static_cast<long long>(packed.size());
  check(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  packed.resize(static_cast<std::size_t>(length));
  check(MPI_Bcast(packed.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
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
  check(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  return all == 1;
}

void MpiSession::settle(const std::exception_ptr& error) const {
  if (!active_) {
    if (error) std::rethrow_exception(error);
    return;
  }
  int failed_rank = error ? rank_ : size_, first = size_;
  check(MPI_Allreduce(&failed_rank, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
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
  check(MPI_Ibcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  check(MPI_Wait(&request, MPI_STATUS_IGNORE), "MPI_Wait");
}

int MpiSession::wait_for_root() const {
  int status = 0;
  if (!active_ || size_ == 1) return status;
  MPI_Request request;
  check(MPI_Ibcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  wait_politely(request);
  return status;
}

}  // namespace attnbench
