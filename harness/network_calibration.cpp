#include "network_calibration.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "stats.hpp"

namespace attnbench {
namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}

/// Buffers for the largest size, touched once so first-touch page faults are not timed.
struct Buffers {
  std::vector<char> send, recv;
  explicit Buffers(std::size_t bytes) : send(bytes, 1), recv(bytes, 0) {}
};

/// The actual buffer size an operation uses for a requested size n on P ranks: all-reduce works on
/// whole floats, all-to-all on n / P bytes per destination.
std::int64_t actual_bytes(NetOp op, std::int64_t n, int ranks) {
  switch (op) {
    case NetOp::allreduce: return std::max<std::int64_t>(1, n / 4) * 4;
    case NetOp::alltoall: return std::max<std::int64_t>(1, n / ranks) * ranks;
    case NetOp::pingpong:
    case NetOp::sendrecv_ring: break;
  }
  return n;
}

int iterations_for(const NetworkOptions& o, std::int64_t bytes) {
  return int(std::clamp<std::int64_t>(o.bytes_per_repetition / std::max<std::int64_t>(1, bytes), 1, o.max_iterations));
}

/// `iterations` back-to-back operations of `bytes` on this rank.
void run_op(NetOp op, MPI_Comm comm, int rank, int ranks, std::int64_t bytes, int iterations, Buffers& b) {
  char* s = b.send.data();
  char* r = b.recv.data();
  const int n = int(bytes);
  for (int i = 0; i < iterations; ++i) switch (op) {
      case NetOp::pingpong:
        if (rank == 0) {
          check(MPI_Send(s, n, MPI_BYTE, 1, 0, comm), "MPI_Send");
          check(MPI_Recv(r, n, MPI_BYTE, 1, 0, comm, MPI_STATUS_IGNORE), "MPI_Recv");
        } else if (rank == 1) {
          check(MPI_Recv(r, n, MPI_BYTE, 0, 0, comm, MPI_STATUS_IGNORE), "MPI_Recv");
          check(MPI_Send(s, n, MPI_BYTE, 0, 0, comm), "MPI_Send");
        }
        break;
      case NetOp::allreduce:
        check(MPI_Allreduce(s, r, n / 4, MPI_FLOAT, MPI_SUM, comm), "MPI_Allreduce");
        break;
      case NetOp::alltoall:
        check(MPI_Alltoall(s, n / ranks, MPI_BYTE, r, n / ranks, MPI_BYTE, comm), "MPI_Alltoall");
        break;
      case NetOp::sendrecv_ring:
        check(MPI_Sendrecv(s, n, MPI_BYTE, (rank + 1) % ranks, 1, r, n, MPI_BYTE, (rank + ranks - 1) % ranks, 1, comm,
                           MPI_STATUS_IGNORE),
              "MPI_Sendrecv");
        break;
    }
}

/// Seconds of one timed loop: ranks start together; the slowest rank's time is the loop's.
double timed_loop(MPI_Comm comm, const std::function<void()>& body) {
  check(MPI_Barrier(comm), "MPI_Barrier");
  const double start = MPI_Wtime();
  body();
  const double mine = MPI_Wtime() - start;
  double slowest = 0;
  check(MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
  return slowest;
}

NetOpCalibration measure_op(NetOp op, MPI_Comm comm, const NetworkOptions& o, Buffers& b) {
  int rank = 0, ranks = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  NetOpCalibration c;
  c.op = op;
  std::int64_t previous = -1;
  for (std::int64_t requested : doubling_sizes(o.min_bytes, o.max_bytes)) {
    const std::int64_t bytes = actual_bytes(op, requested, ranks);
    if (bytes == previous || bytes > o.max_bytes) continue;  // e.g. all-reduce of 1 and 2 bytes: one float
    previous = bytes;
    const int iterations = iterations_for(o, bytes);
    // A ping-pong iteration is a round trip: two one-way messages.
    const double per_op = op == NetOp::pingpong ? 2.0 * iterations : double(iterations);
    run_op(op, comm, rank, ranks, bytes, std::max(1, iterations / 4), b);  // warm-up: connections, caches
    std::vector<double> samples;
    samples.reserve(std::size_t(o.repetitions));  // >= 1: checked
    for (int rep = 0; rep < o.repetitions; ++rep)
      samples.push_back(timed_loop(comm, [&] { run_op(op, comm, rank, ranks, bytes, iterations, b); }) / per_op);
    const SampleStats st = summarize(samples);
    c.points.push_back({bytes, iterations, o.repetitions, st.median, st.min, st.max});
  }
  std::vector<SizeTime> fit_points;
  for (const NetPoint& p : c.points) fit_points.push_back({double(p.bytes), p.median_s});
  c.fit = fit_alpha_beta(fit_points);
  return c;
}

/// OSU osu_bw: rank 0 posts `window` sends, rank 1 the matching receives (into distinct slices of
/// its buffer), then acknowledges with a 1-byte message; bandwidth = window x size / time.
std::vector<BandwidthPoint> measure_bandwidth(MPI_Comm comm, const NetworkOptions& o, Buffers& b) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<BandwidthPoint> points;
  std::vector<MPI_Request> requests(std::size_t(o.window));
  for (std::int64_t bytes : doubling_sizes(o.min_bytes, o.max_bytes)) {
    const int window = int(std::clamp<std::int64_t>(o.max_bytes / bytes, 1, o.window));
    const int iterations = iterations_for(o, bytes * window);
    auto burst = [&] {
      for (int it = 0; it < iterations; ++it) {
        if (rank > 1) continue;
        for (int w = 0; w < window; ++w) {
          if (rank == 0)
            check(MPI_Isend(b.send.data(), int(bytes), MPI_BYTE, 1, 2, comm, &requests[std::size_t(w)]), "MPI_Isend");
          else
            check(MPI_Irecv(b.recv.data() + std::size_t(w) * std::size_t(bytes), int(bytes), MPI_BYTE, 0, 2, comm,
                            &requests[std::size_t(w)]),
                  "MPI_Irecv");
        }
        check(MPI_Waitall(window, requests.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
        char ack = 0;
        if (rank == 0) check(MPI_Recv(&ack, 1, MPI_BYTE, 1, 3, comm, MPI_STATUS_IGNORE), "MPI_Recv");
        else check(MPI_Send(&ack, 1, MPI_BYTE, 0, 3, comm), "MPI_Send");
      }
    };
    burst();  // warm-up
    std::vector<double> rates;
    for (int rep = 0; rep < o.repetitions; ++rep) {
      const double seconds = timed_loop(comm, burst);
      rates.push_back(double(bytes) * window * iterations / seconds * 1e-9);
    }
    points.push_back({bytes, window, summarize(rates).median});
  }
  return points;
}

}  // namespace

void validate(const NetworkOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("network calibration: " + what);
  };
  need(o.min_bytes >= 1, "min_bytes must be >= 1 (got " + std::to_string(o.min_bytes) + ")");
  need(o.max_bytes >= o.min_bytes, "max_bytes must be >= min_bytes");
  need(o.max_bytes <= (std::int64_t{1} << 30), "max_bytes must be <= 1 GiB (MPI counts are int)");
  need(o.repetitions >= 1, "repetitions must be >= 1 (got " + std::to_string(o.repetitions) + ")");
  need(o.bytes_per_repetition >= 1, "bytes_per_repetition must be >= 1");
  need(o.max_iterations >= 1, "max_iterations must be >= 1");
  need(o.window >= 1, "window must be >= 1");
  need(doubling_sizes(o.min_bytes, o.max_bytes).size() >= 2, "needs at least 2 message sizes to fit alpha and beta");
}

std::vector<std::int64_t> doubling_sizes(std::int64_t min_bytes, std::int64_t max_bytes) {
  std::vector<std::int64_t> sizes;
  for (std::int64_t n = min_bytes; n < max_bytes; n *= 2) sizes.push_back(n);
  if (max_bytes >= min_bytes) sizes.push_back(max_bytes);
  return sizes;
}

void sleeping_barrier(MPI_Comm comm) {
  MPI_Request request;
  check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier");
  for (int done = 0;;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::vector<std::string> gather_host_names(MPI_Comm comm) {
  int rank = 0, ranks = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  check(MPI_Get_processor_name(name, &length), "MPI_Get_processor_name");
  std::vector<char> all(rank == 0 ? std::size_t(ranks) * MPI_MAX_PROCESSOR_NAME : 0);
  check(MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, comm),
        "MPI_Gather");
  std::vector<std::string> hosts;
  if (rank == 0)
    for (int r = 0; r < ranks; ++r) hosts.emplace_back(all.data() + std::size_t(r) * MPI_MAX_PROCESSOR_NAME);
  return hosts;
}

NetworkCalibration calibrate_network(MPI_Comm world, const NetworkOptions& options,
                                     const std::function<void(const std::string&)>& progress) {
  validate(options);
  // A private communicator whose errors come back as codes (checked, then thrown), not aborts.
  MPI_Comm comm;
  check(MPI_Comm_dup(world, &comm), "MPI_Comm_dup");
  struct Free {
    MPI_Comm& c;
    ~Free() { MPI_Comm_free(&c); }
  } free_comm{comm};
  check(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  int rank = 0, ranks = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  if (ranks < 2)
    throw std::invalid_argument("network calibration needs 2 or more ranks (got " + std::to_string(ranks) + ")");

  NetworkCalibration net;
  net.ranks = ranks;
  net.hosts = gather_host_names(comm);
  net.pingpong_peer = 1;
  if (const char* btl = std::getenv("OMPI_MCA_btl")) net.transport = btl;
  Buffers buffers(std::size_t(options.max_bytes));
  for (NetOp op : options.operations) {
    net.operations.push_back(measure_op(op, comm, options, buffers));
    if (progress && rank == 0) {
      const AlphaBetaFit& f = net.operations.back().fit;
      char line[200];
      std::snprintf(line, sizeof line, "  %-13s alpha %8.2f us   bandwidth %8.3f GB/s   fit residual %.0f%% rms, %.0f%% max",
                    to_string(op), f.model.alpha_s * 1e6, f.model.gbytes_per_s(), 100 * f.rel_rms_residual,
                    100 * f.max_rel_residual);
      progress(line);
    }
  }
  net.bandwidth = measure_bandwidth(comm, options, buffers);
  return net;
}

}  // namespace attnbench
