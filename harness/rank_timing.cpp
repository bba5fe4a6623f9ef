// MPI-safe measurement across ranks (rank_timing.hpp).
#include "rank_timing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "stats.hpp"

namespace attnbench {
namespace {

void check(int code, const char* call) {
  if (code != MPI_SUCCESS) throw std::runtime_error(std::string(call) + " failed");
}

/// Ranks of `comm`, 1 when MPI is not initialised.
int ranks_of(MPI_Comm comm) {
  int initialized = 0, size = 1;
  MPI_Initialized(&initialized);
  if (initialized) check(MPI_Comm_size(comm, &size), "MPI_Comm_size");
  return size;
}

/// Every rank's `values` (the same count on each) on rank 0, rank after rank.
std::vector<double> gather(MPI_Comm comm, const std::vector<double>& values) {
  const int ranks = ranks_of(comm);
  if (ranks == 1) return values;
  std::vector<double> all(values.size() * std::size_t(ranks));
  check(MPI_Gather(values.data(), int(values.size()), MPI_DOUBLE, all.data(), int(values.size()), MPI_DOUBLE, 0, comm),
        "MPI_Gather");
  return all;
}

}  // namespace

Spread spread(const std::vector<double>& all, std::size_t stride, std::size_t at) {
  Spread s{all[at], 0, all[at]};
  const std::size_t n = all.size() / stride;
  for (std::size_t r = 0; r < n; ++r) {
    const double x = all[r * stride + at];
    s.min = std::min(s.min, x), s.max = std::max(s.max, x), s.mean += x / double(n);
  }
  return s;
}

void RankTiming::start() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

double RankTiming::combine(double local_seconds, bool timed) {
  if (timed) local_.push_back(local_seconds);
  double slowest = 0;
  check(MPI_Allreduce(&local_seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm_), "MPI_Allreduce");
  return slowest;
}

Spread RankTiming::rank_medians() const {
  const std::vector<double> all = gather(comm_, {summarize(local_).median});
  return spread(all, 1, 0);
}

CommSummary summarize_comm(MPI_Comm comm, const CommLog& log) {
  // Per rank: compute, then bytes, messages, seconds, isolated seconds of each phase (every rank runs
  // the same code, so the phases come in the same order), all per forward pass.
  const double passes = double(std::max<std::int64_t>(1, log.forwards));
  std::vector<double> mine{log.compute_seconds / passes};
  for (const PhaseLog& p : log.phases)
    mine.insert(mine.end(), {double(p.bytes) / passes, double(p.messages) / passes, p.seconds / passes,
                             p.isolated_seconds / passes});
  const std::vector<double> all = gather(comm, mine);
  const std::size_t stride = mine.size(), ranks = all.size() / stride;
  CommSummary c;
  c.compute_seconds = spread(all, stride, 0);
  double exposed_overlapped = 0, isolated = 0;
  std::vector<double> rank_seconds(ranks, 0.0);
  for (std::size_t i = 0; i < log.phases.size(); ++i) {
    const std::size_t at = 1 + 4 * i;
    PhaseSummary s;
    s.phase = log.phases[i].phase;
    const Spread bytes = spread(all, stride, at), messages = spread(all, stride, at + 1);
    s.bytes = std::llround(bytes.mean * double(ranks));
    s.bytes_per_rank_max = std::llround(bytes.max);
    s.messages_per_rank_max = std::llround(messages.max);
    s.seconds = spread(all, stride, at + 2);
    const Spread alone = spread(all, stride, at + 3);
    if (alone.mean > 0) {
      s.overlap = std::clamp(1.0 - s.seconds.mean / alone.mean, 0.0, 1.0);
      exposed_overlapped += s.seconds.mean, isolated += alone.mean;
    }
    for (std::size_t r = 0; r < ranks; ++r) rank_seconds[r] += all[r * stride + at + 2];
    c.bytes += s.bytes;
    c.phases.push_back(s);
  }
  c.seconds = rank_seconds.empty() ? 0 : *std::max_element(rank_seconds.begin(), rank_seconds.end());
  if (isolated > 0) c.overlap = std::clamp(1.0 - exposed_overlapped / isolated, 0.0, 1.0);
  return c;
}

}  // namespace attnbench
