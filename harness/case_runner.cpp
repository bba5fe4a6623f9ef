#include "case_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <sstream>

#include "attnbench/check.hpp"
#include "attnbench/comm_log.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/workload.hpp"
#include "memory_info.hpp"
#include "rank_timing.hpp"
#include "stats.hpp"
#include "tensor_dir.hpp"

namespace attnbench {

std::int64_t case_memory_bytes(const Problem& p, const Kernel& kernel, const RunContext& ctx, bool check) {
  const Op op = kernel.info().op;
  return io_bytes(op, p) + kernel.workspace_bytes(p, ctx) + (check ? reference_bytes(op, p) : 0);
}

namespace {

std::string describe_check_failure(Op op, const Problem& p, const CheckResult& r, double tolerance) {
  std::ostringstream s;
  s << "check failed: max_rel_error " << r.max_rel_error << " > tolerance " << tolerance;
  if (r.worst_index >= 0) {
    // Locate the worst element as (b, i, h, c) or (b, i, e) for the user.
    const Shape shape = output_spec(op, p).shape;
    std::int64_t rest = r.worst_index;
    std::vector<std::int64_t> index(shape.size());
    for (std::size_t k = shape.size(); k-- > 0;) index[k] = rest % shape[k], rest /= shape[k];
    s << " at out" << shape_str(index);
  }
  return s.str();
}

/// One (problem, kernel) case through its steps: prepare (set-up, first run, check, save), then
/// timing through a RepetitionLoop driven by the caller (to the end, or one repetition per round),
/// then finish. Any step that throws makes the case failed; an mpi kernel under a launcher that
/// throws aborts the job (the other ranks may be waiting for it in a collective).
class CaseRun {
 public:
  CaseRun(const Problem& p, const Kernel& kernel, const TensorSet& inputs, const CaseSettings& settings)
      : kernel_(kernel), inputs_(inputs), settings_(settings), mpi_(settings.mpi),
        mpi_kernel_(kernel.info().caps.parallelism == Parallelism::mpi),
        launched_(mpi_ && mpi_->size() > 1), root_(!mpi_ || mpi_->is_root()) {
    c_.problem = p;
    c_.kernel = &kernel;
    c_.threads = kernel.effective_threads(settings.context);
    c_.workspace_bytes = kernel.workspace_bytes(p, settings.context);
    c_.ranks = mpi_kernel_ && mpi_ ? mpi_->size() : 1;
  }

  /// Under a launcher a non-mpi kernel runs on rank 0 alone: the other ranks only follow (follow()).
  bool runs_here() const { return !(launched_ && !mpi_kernel_ && !root_); }
  /// Rank 0 running a non-mpi kernel alone under a launcher: it tells the others after each step.
  bool leads_peers() const { return launched_ && !mpi_kernel_ && root_; }
  bool ok() const { return c_.status == CaseStatus::ok; }

  /// Set-up, first run, check, save. Returns whether the case is to be timed.
  bool prepare() {
    guarded([&] {
      const auto start = std::chrono::steady_clock::now();
      prepared_ = kernel_.prepare(c_.problem, inputs_, settings_.context);
      c_.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

      // NaN-filled, so any element the kernel forgets to write fails the check.
      out_ = make_output(kernel_.info().op, c_.problem);
      for (float& x : out_.as<float>()) x = std::numeric_limits<float>::quiet_NaN();
      prepared_->run(inputs_, out_);
      prepared_->collect_output(out_);  // sharded outputs onto rank 0, untimed

      if (settings_.reference && root_) {
        c_.check = compare_to_reference(out_, *settings_.reference);
        const double tolerance = kernel_.info().caps.tolerance;
        if (!(c_.check->max_rel_error <= tolerance)) {
          c_.status = CaseStatus::failed;
          c_.reason = describe_check_failure(kernel_.info().op, c_.problem, *c_.check, tolerance);
        }
      }
      if (launched_ && mpi_kernel_ && !mpi_->all_ok(ok()) && ok())
        c_.status = CaseStatus::failed, c_.reason = "the check failed on rank 0";
      if (settings_.save_output && root_) save_tensors(*settings_.save_output, inputs_, &out_);
      if (!ok()) return;
      log_ = prepared_->comm_log();
      if (log_) log_->reset();
      if (launched_ && mpi_kernel_) sync_.emplace(mpi_->comm());
      loop_.emplace([this] { prepared_->run(inputs_, out_); }, settings_.measure, sync_ ? &*sync_ : nullptr);
    });
    return ok();
  }

  void warm_up() { guarded([&] { loop_->warm_up(); }); }
  void repeat() { guarded([&] { loop_->repeat(); }); }
  /// Whether the case still wants repetitions (false once failed or its stopping rule is done).
  bool timing() const { return ok() && loop_ && !loop_->done(); }

  /// For a kernel rank 0 runs alone: rank 0 sends `more` (whether it goes on), the others receive it.
  bool follow(bool more) const {
    if (leads_peers()) {
      mpi_->release_peers(more ? 0 : 1);
      return more;
    }
    return mpi_->wait_for_root() == 0;
  }

  /// The outcome: statistics of what was timed, the communication summary (collective for an mpi
  /// kernel: every rank that timed it calls this), the peak memory.
  CaseOutcome finish(std::optional<InterleaveNote> interleave = std::nullopt) {
    if (ok() && loop_)
      guarded([&] {
        Measurement m = loop_->result();
        m.notes.interleave = interleave;
        if (interleave) m.notes.interleave->rounds = int(m.samples.size());
        c_.time = summarize(std::move(m.samples));
        c_.timing = m.notes;
        if (log_) c_.comm = summarize_comm(settings_.context.comm, *log_);
        if (sync_) c_.rank_time = sync_->rank_medians();
      });
    c_.peak_rss_bytes = peak_rss_bytes();
    return c_;
  }

  /// A follower's outcome for a kernel that rank 0 ran alone (`ok`: whether it succeeded there).
  CaseOutcome followed(bool ok) {
    c_.status = ok ? CaseStatus::ok : CaseStatus::failed;
    return c_;
  }

 private:
  template <class F>
  void guarded(F&& step) {
    try {
      step();
      return;
    } catch (const std::bad_alloc&) {
      c_.status = CaseStatus::failed;
      c_.reason = "out of memory during set-up or run";
    } catch (const std::exception& e) {
      c_.status = CaseStatus::failed;
      c_.reason = e.what();
    }
    if (launched_ && mpi_kernel_) mpi_->abort(kernel_.id() + " on " + c_.problem.str() + " failed: " + c_.reason);
  }

  const Kernel& kernel_;
  const TensorSet& inputs_;
  const CaseSettings& settings_;
  const MpiSession* mpi_;
  const bool mpi_kernel_, launched_, root_;
  CaseOutcome c_;
  std::unique_ptr<PreparedKernel> prepared_;
  Tensor out_;
  CommLog* log_ = nullptr;
  std::optional<RankTiming> sync_;
  std::optional<RepetitionLoop> loop_;
};

}  // namespace

std::vector<std::size_t> interleave_round_order(std::size_t cases, std::uint64_t seed, std::uint64_t round) {
  std::vector<std::size_t> order(cases);
  for (std::size_t i = 0; i < cases; ++i) order[i] = i;
  std::mt19937_64 rng(seed + round);
  for (std::size_t i = cases; i > 1; --i) std::swap(order[i - 1], order[std::size_t(rng() % i)]);
  return order;
}

CaseOutcome run_case(const Problem& p, const Kernel& kernel, const TensorSet& inputs, const CaseSettings& settings) {
  CaseRun run(p, kernel, inputs, settings);
  if (!run.runs_here()) return run.followed(run.follow(false));  // rank 0 runs it alone
  reset_peak_rss();
  if (run.prepare()) {
    run.warm_up();
    while (run.timing()) run.repeat();
  }
  CaseOutcome c = run.finish();
  if (run.leads_peers()) run.follow(c.status == CaseStatus::ok);
  return c;
}

std::vector<CaseOutcome> run_cases_interleaved(const Problem& p, const std::vector<InterleavedCase>& cases,
                                               std::uint64_t seed) {
  std::vector<std::unique_ptr<CaseRun>> runs;
  runs.reserve(cases.size());
  for (const InterleavedCase& c : cases) runs.push_back(std::make_unique<CaseRun>(p, *c.kernel, *c.inputs, c.settings));
  // active[i]: case i still wants repetitions. Every rank holds the same flags: an mpi kernel's rule
  // sees the same combined times everywhere, and rank 0 sends its flag for the kernels it runs alone.
  std::vector<bool> active(runs.size());
  auto step = [&](std::size_t i, auto&& work) {
    CaseRun& run = *runs[i];
    if (run.runs_here()) work(run);
    active[i] = run.runs_here() && !run.leads_peers() ? run.timing() : run.follow(run.timing());
  };
  reset_peak_rss();
  for (std::size_t i = 0; i < runs.size(); ++i) step(i, [](CaseRun& run) { run.prepare(); });
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (active[i]) step(i, [](CaseRun& run) { run.warm_up(); });
  for (std::uint64_t round = 0; std::find(active.begin(), active.end(), true) != active.end(); ++round)
    for (std::size_t i : interleave_round_order(runs.size(), seed, round))
      if (active[i]) step(i, [](CaseRun& run) { run.repeat(); });

  std::vector<CaseOutcome> outcomes;
  for (std::unique_ptr<CaseRun>& run : runs) {
    if (!run->runs_here()) {
      outcomes.push_back(run->followed(run->follow(false)));
      continue;
    }
    CaseOutcome c = run->finish(InterleaveNote{seed, int(runs.size()), 0});
    if (run->leads_peers()) run->follow(c.status == CaseStatus::ok);
    outcomes.push_back(std::move(c));
  }
  return outcomes;
}

}  // namespace attnbench
