#include "case_runner.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
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

}  // namespace

CaseOutcome run_case(const Problem& p, const Kernel& kernel, const TensorSet& inputs, const CaseSettings& settings) {
  CaseOutcome c;
  c.problem = p;
  c.kernel = &kernel;
  c.threads = kernel.effective_threads(settings.context);
  c.workspace_bytes = kernel.workspace_bytes(p, settings.context);
  const MpiSession* mpi = settings.mpi;
  const bool mpi_kernel = kernel.info().caps.parallelism == Parallelism::mpi;
  const bool launched = mpi && mpi->size() > 1;  // several ranks run this function together
  const bool root = !mpi || mpi->is_root();
  c.ranks = mpi_kernel && mpi ? mpi->size() : 1;
  if (launched && !mpi_kernel && !root) {  // rank 0 runs it alone
    c.status = mpi->wait_for_root() == 0 ? CaseStatus::ok : CaseStatus::failed;
    return c;
  }
  reset_peak_rss();
  bool threw = false;
  try {
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<PreparedKernel> prepared = kernel.prepare(p, inputs, settings.context);
    c.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // NaN-filled, so any element the kernel forgets to write fails the check.
    Tensor out = make_output(kernel.info().op, p);
    for (float& x : out.as<float>()) x = std::numeric_limits<float>::quiet_NaN();
    prepared->run(inputs, out);
    prepared->collect_output(out);  // sharded outputs onto rank 0, untimed

    if (settings.reference && root) {
      c.check = compare_to_reference(out, *settings.reference);
      const double tolerance = kernel.info().caps.tolerance;
      if (!(c.check->max_rel_error <= tolerance)) {
        c.status = CaseStatus::failed;
        c.reason = describe_check_failure(kernel.info().op, p, *c.check, tolerance);
      }
    }
    if (launched && mpi_kernel && !mpi->all_ok(c.status == CaseStatus::ok) && c.status == CaseStatus::ok)
      c.status = CaseStatus::failed, c.reason = "the check failed on rank 0";
    if (settings.save_output && root) save_tensors(*settings.save_output, inputs, &out);
    if (c.status == CaseStatus::ok) {
      CommLog* log = prepared->comm_log();
      if (log) log->reset();
      std::optional<RankTiming> sync;
      if (launched && mpi_kernel) sync.emplace(mpi->comm());
      c.time = summarize(measure([&] { prepared->run(inputs, out); }, settings.measure, sync ? &*sync : nullptr));
      if (log) c.comm = summarize_comm(settings.context.comm, *log);
      if (sync) c.rank_time = sync->rank_medians();
    }
  } catch (const std::bad_alloc&) {
    c.status = CaseStatus::failed;
    c.reason = "out of memory during set-up or run";
    threw = true;
  } catch (const std::exception& e) {
    c.status = CaseStatus::failed;
    c.reason = e.what();
    threw = true;
  }
  if (launched && mpi_kernel && threw)
    mpi->abort(kernel.id() + " on " + p.str() + " failed: " + c.reason);
  if (launched && !mpi_kernel) mpi->release_peers(c.status == CaseStatus::ok ? 0 : 1);
  c.peak_rss_bytes = peak_rss_bytes();
  return c;
}

}  // namespace attnbench
