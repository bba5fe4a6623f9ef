// `attnbench profile` for one case (profile_case.hpp).
#include "profile_case.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <ostream>
#include <stdexcept>

#include "attnbench/comm_log.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/phase_recorder.hpp"
#include "attnbench/workload.hpp"
#include "console_table.hpp"
#include "memory_info.hpp"
#include "record.hpp"
#include "stats.hpp"

namespace attnbench {
namespace {

void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) throw std::runtime_error(std::string(call) + " failed");
}

/// Every rank's `values` (the same count on each) on rank 0, rank after rank; `values` alone on one rank.
std::vector<double> gather_doubles(MPI_Comm comm, int ranks, const std::vector<double>& values) {
  if (ranks == 1) return values;
  std::vector<double> all(values.size() * std::size_t(ranks));
  check_mpi(MPI_Gather(values.data(), int(values.size()), MPI_DOUBLE, all.data(), int(values.size()), MPI_DOUBLE, 0,
                       comm),
            "MPI_Gather");
  return all;
}

/// Every rank's byte string on rank 0 (empty elsewhere).
std::vector<std::string> gather_bytes(MPI_Comm comm, int ranks, int rank, const std::string& mine) {
  if (ranks == 1) return {mine};
  if (mine.size() > std::size_t(std::numeric_limits<int>::max()))
    throw std::runtime_error("a rank's trace exceeds 2 GB; lower --trace-events");
  const int size = int(mine.size());
  std::vector<int> sizes(static_cast<std::size_t>(ranks)), offsets(static_cast<std::size_t>(ranks));
  check_mpi(MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, comm), "MPI_Gather");
  std::int64_t total = 0;
  for (int r = 0; r < ranks; ++r) offsets[std::size_t(r)] = int(total), total += sizes[std::size_t(r)];
  if (rank == 0 && total > std::numeric_limits<int>::max())
    throw std::runtime_error("the ranks' traces exceed 2 GB together; lower --trace-events");
  std::string all(rank == 0 ? std::size_t(total) : 0, '\0');
  check_mpi(MPI_Gatherv(mine.data(), size, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, 0, comm),
            "MPI_Gatherv");
  std::vector<std::string> out;
  if (rank == 0)
    for (int r = 0; r < ranks; ++r)
      out.push_back(all.substr(std::size_t(offsets[std::size_t(r)]), std::size_t(sizes[std::size_t(r)])));
  return out;
}

/// The cost model's flops of a phase, where it separates them (nullopt elsewhere).
std::optional<double> phase_flops(Phase p, Op op, const FlopCount& f) {
  const bool attention = op == Op::mha;
  switch (p) {
    case Phase::qk: return attention ? std::optional(f.score) : std::nullopt;
    case Phase::pv: return attention ? std::optional(f.weighting) : std::nullopt;
    case Phase::projections: return attention && f.projections > 0 ? std::optional(f.projections) : std::nullopt;
    case Phase::input_projection: return op != Op::conv1d && !attention ? std::optional(f.projections) : std::nullopt;
    case Phase::recurrent: return op != Op::conv1d && !attention ? std::optional(f.recurrent) : std::nullopt;
    case Phase::gemm: return op == Op::conv1d ? std::optional(f.convolution) : std::nullopt;
    default: return std::nullopt;
  }
}

std::string host_name() {
  char name[256] = "";
  return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string();
}

/// Counts summed over ranks; unavailable (with rank 0's reason, or a note naming a rank) unless every
/// rank has them.
CounterReading reduce_counters(MPI_Comm comm, int ranks, int rank, CounterReading mine) {
  if (ranks == 1) return mine;
  int available = mine.available ? 1 : 0, all_available = 0;
  check_mpi(MPI_Allreduce(&available, &all_available, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce");
  if (!all_available) {
    if (rank == 0 && mine.available) mine = {false, "another rank could not open its counters", {}, 1};
    mine.available = false;
    return mine;
  }
  const std::size_t n = mine.counts.size();
  std::vector<double> values(n + 1), sums(n + 1);
  for (std::size_t i = 0; i < n; ++i) values[i] = mine.counts[i].second.value_or(std::nan(""));
  values[n] = mine.multiplexed;
  check_mpi(MPI_Reduce(values.data(), sums.data(), int(n), MPI_DOUBLE, MPI_SUM, 0, comm), "MPI_Reduce");
  check_mpi(MPI_Reduce(&values[n], &sums[n], 1, MPI_DOUBLE, MPI_MIN, 0, comm), "MPI_Reduce");
  if (rank == 0) {
    for (std::size_t i = 0; i < n; ++i)
      mine.counts[i].second = std::isnan(sums[i]) ? std::nullopt : std::optional(sums[i]);
    mine.multiplexed = sums[n];
  }
  return mine;
}

}  // namespace

ProfileResult profile_case(const Problem& p, const Kernel& kernel, const TensorSet& inputs,
                           const ProfileSettings& settings, CounterReader& counters) {
  if (settings.profiled_reps < 1) throw std::invalid_argument("profiled_reps must be >= 1");
  ProfileResult r;
  const Op op = kernel.info().op;
  r.outcome = run_case(p, kernel, inputs, settings.run);
  CaseOutcome& c = r.outcome;
  c.work = flops(op, p, kv_lengths_of(p, inputs));
  const MpiSession* mpi = settings.run.mpi;
  const bool mpi_kernel = kernel.info().caps.parallelism == Parallelism::mpi;
  const bool launched = mpi && mpi->size() > 1;
  const bool together = launched && mpi_kernel;  // every rank runs the kernel
  const bool root = !mpi || mpi->is_root();
  if (c.time && settings.peak) {
    const Rates achieved = rates_for(c);
    c.roofline = roofline(*settings.peak, c.threads, c.ranks, achieved.gflops, achieved.gbytes_per_s);
  }
  if (c.status != CaseStatus::ok) return r;  // every rank agrees on an mpi kernel's status (run_case)
  if (launched && !mpi_kernel && !root) {    // rank 0 profiles it alone, as run_case measured it
    mpi->wait_for_root();
    return r;
  }
  const MPI_Comm comm = together ? mpi->comm() : MPI_COMM_SELF;  // NOLINT(misc-misplaced-const): a fixed handle
  const int ranks = together ? mpi->size() : 1, rank = together ? mpi->rank() : 0;
  r.ranks = ranks;

  // The recording threads: the kernel's workers (the calling thread among them) and two spare slots,
  // for a TBB arena whose workers change between calls or a kernel's own calling thread.
  const int slots = c.threads + 2;
  r.per_thread_cap = settings.trace_events / ranks / slots;
  PhaseRecorder recorder(slots, r.per_thread_cap);
  RunContext context = settings.run.context;
  context.phases = &recorder;
  std::vector<double> local;  // this rank's own profiled call times
  std::vector<double> samples;
  std::int64_t origin = 0;
  CommLog* log = nullptr;
  try {
    std::unique_ptr<PreparedKernel> prepared = kernel.prepare(p, inputs, context);
    Tensor out = make_output(op, p);
    prepared->run(inputs, out);  // untimed: the threads register and warm up
    recorder.reset();
    log = prepared->comm_log();
    if (log) log->reset();
    if (together) check_mpi(MPI_Barrier(comm), "MPI_Barrier");
    origin = PhaseRecorder::now();  // every rank leaves the barrier together: the trace's common zero
    const std::string unavailable = counters.begin();
    for (int i = 0; i < settings.profiled_reps; ++i) {
      if (together) check_mpi(MPI_Barrier(comm), "MPI_Barrier");
      const auto start = std::chrono::steady_clock::now();
      prepared->run(inputs, out);
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      local.push_back(t);
      double slowest = t;
      if (together) check_mpi(MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm), "MPI_Allreduce");
      samples.push_back(slowest);
    }
    r.counters = counters.end();
    r.unrecorded_threads = recorder.unregistered();
    if (!unavailable.empty()) r.counters = {false, unavailable, {}, 1};
    if (log) c.comm = summarize_comm(comm, *log);  // the profiled calls' communication, collective
  } catch (const std::exception& e) {
    if (together) mpi->abort(kernel.id() + " on " + p.str() + " failed while profiling: " + e.what());
    if (launched) mpi->release_peers(1);
    throw;
  }
  r.counters = reduce_counters(comm, ranks, rank, std::move(r.counters));
  if (launched && !mpi_kernel) mpi->release_peers(0);

  // Per rank, per forward: [wall, seconds of each phase, calls of each phase].
  const double reps = double(settings.profiled_reps), threads = double(std::max(1, c.threads));
  const auto ns = recorder.total_ns();
  const auto calls = recorder.total_calls();
  std::vector<double> mine{std::accumulate(local.begin(), local.end(), 0.0) / reps};
  for (int i = 0; i < kPhaseCount; ++i) mine.push_back(double(ns[std::size_t(i)]) * 1e-9 / reps / threads);
  for (int i = 0; i < kPhaseCount; ++i) mine.push_back(double(calls[std::size_t(i)]) / reps);
  const std::vector<double> all = gather_doubles(comm, ranks, mine);

  std::int64_t kept = 0, dropped = 0;
  for (int i = 0; i < recorder.threads(); ++i) {
    kept += std::int64_t(recorder.thread(i).events.size());
    dropped += recorder.thread(i).dropped_fine + recorder.thread(i).dropped_coarse;
  }
  std::vector<double> counts{double(kept), double(dropped), double(r.unrecorded_threads)};
  const std::vector<double> all_counts = gather_doubles(comm, ranks, counts);
  std::vector<std::string> traces =
      gather_bytes(comm, ranks, rank, serialize(rank_trace(recorder, mpi ? mpi->rank() : 0, host_name(), origin)));
  if (!root) return r;

  for (const std::string& bytes : traces) r.traces.push_back(deserialize(bytes));
  r.unrecorded_threads = 0;
  for (std::size_t i = 0; i < all_counts.size(); i += 3) {
    r.trace_kept += std::int64_t(all_counts[i]), r.trace_dropped += std::int64_t(all_counts[i + 1]);
    r.unrecorded_threads += std::int64_t(all_counts[i + 2]);
  }
  r.profiled = summarize(samples);
  r.overhead = c.time->median > 0 ? std::optional(r.profiled->median / c.time->median - 1) : std::nullopt;
  const std::size_t stride = mine.size();
  r.forward_seconds = spread(all, stride, 0);
  const double wall = r.forward_seconds.mean;
  double covered = 0;
  for (int i = 0; i < kPhaseCount; ++i) {
    const auto at = std::size_t(i);
    const Spread s = spread(all, stride, 1 + at);
    const double n = spread(all, stride, 1 + kPhaseCount + at).mean;
    if (n == 0) continue;
    PhaseFigure f{to_string(Phase(i)), false, s, wall > 0 ? s.mean / wall : 0, n, std::nullopt};
    if (const auto flops = phase_flops(Phase(i), op, c.work); flops && *flops > 0 && s.mean > 0)
      f.gflops = *flops / s.mean * 1e-9;  // the ranks' flops together over the phase's (parallel) time
    covered += f.share;
    r.phases.push_back(f);
  }
  if (c.comm)
    for (const PhaseSummary& s : c.comm->phases) {
      PhaseFigure f{s.phase, true, s.seconds, wall > 0 ? s.seconds.mean / wall : 0, 0, std::nullopt};
      covered += f.share;
      r.phases.push_back(f);
    }
  std::stable_sort(r.phases.begin(), r.phases.end(),
                   [](const PhaseFigure& a, const PhaseFigure& b) { return a.seconds.mean > b.seconds.mean; });
  r.unattributed_share = 1 - covered;
  return r;
}

nlohmann::json profile_json(const ProfileResult& r) {
  auto spread_json = [](const Spread& s) { return nlohmann::json{{"min", s.min}, {"mean", s.mean}, {"max", s.max}}; };
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseFigure& f : r.phases)
    phases.push_back({{"phase", f.name},
                      {"kind", f.communication ? "communication" : "compute"},
                      {"seconds", spread_json(f.seconds)},
                      {"share", f.share},
                      {"calls", f.calls},
                      {"gflops", f.gflops ? nlohmann::json(*f.gflops) : nlohmann::json(nullptr)}});
  const double forwards = r.profiled ? double(r.profiled->repetitions) : 1;  // the ranks' counts are summed
  return {{"profiled_time", r.profiled ? to_json(*r.profiled) : nlohmann::json(nullptr)},
          {"overhead", r.overhead ? nlohmann::json(*r.overhead) : nlohmann::json(nullptr)},
          {"forward_s", spread_json(r.forward_seconds)},
          {"ranks", r.ranks},
          {"phases", phases},
          {"unattributed_share", r.unattributed_share},
          {"counters", counters_json(r.counters, forwards)},
          {"trace", {{"events_kept", r.trace_kept}, {"events_dropped", r.trace_dropped},
                     {"cap_per_thread", r.per_thread_cap}}},
          {"unrecorded_threads", r.unrecorded_threads}};
}

void print_profile(std::ostream& out, const ProfileResult& r) {
  const CaseOutcome& c = r.outcome;
  out << "profile: " << c.kernel->id() << " on " << c.problem.str() << ", " << c.threads << " thread"
      << (c.threads == 1 ? "" : "s") << (r.ranks > 1 ? " x " + std::to_string(r.ranks) + " ranks" : "") << "\n";
  if (c.status != CaseStatus::ok || !c.time || !r.profiled) {
    out << "  " << to_string(c.status) << (c.reason.empty() ? "" : ": " + c.reason) << "\n";
    return;
  }
  const Rates rate = rates_for(c);
  out << "  time      unprofiled median " << format_seconds(c.time->median) << " (n=" << c.time->repetitions
      << "), profiled median " << format_seconds(r.profiled->median) << " (n=" << r.profiled->repetitions
      << "): profiling overhead " << (r.overhead ? format_number(100 * *r.overhead) + "%" : "-") << "\n";
  out << "  rate      " << format_number(rate.gflops) << " GFLOP/s, " << format_number(rate.gbytes_per_s)
      << " GB/s; arithmetic intensity " << format_number(rate.gbytes_per_s > 0 ? rate.gflops / rate.gbytes_per_s : 0)
      << " flop/byte\n";
  if (c.roofline)
    out << "  roofline  " << (c.roofline->memory_bound ? "memory" : "compute") << "-bound (ridge "
        << format_number(c.roofline->ridge) << " flop/byte): " << format_number(c.roofline->pct_peak) << "% of "
        << format_number(c.roofline->attainable_gflops) << " GFLOP/s attainable (FMA peak "
        << format_number(c.roofline->peak_gflops) << ", triad " << format_number(c.roofline->triad_gbytes_per_s)
        << " GB/s)\n";
  else
    out << "  roofline  - (no machine profile for " << c.threads << " thread" << (c.threads == 1 ? "" : "s")
        << ": run 'attnbench calibrate', or pass --machine)\n";
  out << "  memory    peak RSS " << (c.peak_rss_bytes >= 0 ? format_bytes(c.peak_rss_bytes) : std::string("unknown"))
      << ", modelled " << format_bytes(io_bytes(c.kernel->info().op, c.problem) + c.workspace_bytes) << "\n\n";

  const bool ranks = r.ranks > 1;
  ConsoleTable table(out, ranks ? std::vector<ConsoleTable::Column>{{"phase", 20, false}, {"min", 9}, {"mean", 9},
                                                                     {"max", 9}, {"share", 6}, {"calls", 8}, {"GFLOP/s", 8}}
                                : std::vector<ConsoleTable::Column>{{"phase", 20, false}, {"per fwd", 9}, {"share", 6},
                                                                     {"calls", 8}, {"GFLOP/s", 8}});
  table.print_header();
  auto row = [&](const std::string& name, const std::optional<Spread>& s, double mean, double share,
                 const std::string& calls, const std::string& gflops) {
    std::vector<std::string> cells{name};
    if (ranks)
      cells.insert(cells.end(), {s ? format_seconds(s->min) : "-", format_seconds(mean), s ? format_seconds(s->max) : "-"});
    else
      cells.push_back(format_seconds(mean));
    cells.insert(cells.end(), {format_number(100 * share) + "%", calls, gflops});
    table.print_row(cells);
  };
  for (const PhaseFigure& f : r.phases)
    row(f.communication ? "comm: " + f.name : f.name, f.seconds, f.seconds.mean, f.share,
        f.communication ? "-" : format_si(f.calls), f.gflops ? format_number(*f.gflops) : "-");
  row("(unattributed)", std::nullopt, r.forward_seconds.mean * r.unattributed_share, r.unattributed_share, "-", "-");
  if (r.unrecorded_threads > 0)
    out << "  warning: " << r.unrecorded_threads << " thread(s) found every recording slot taken; their phases "
        << "are missing above (a bug: please report it)\n";
  out << "\n  " << counters_line(r.counters, double(r.profiled->repetitions)) << "\n";
}

}  // namespace attnbench
