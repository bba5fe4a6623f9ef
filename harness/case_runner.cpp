#include "case_runner.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "attnbench/check.hpp"
#include "attnbench/cost_model.hpp"
#include "attnbench/workload.hpp"
#include "memory_info.hpp"
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
  reset_peak_rss();
  try {
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<PreparedKernel> prepared = kernel.prepare(p, inputs, settings.context);
    c.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // NaN-filled, so any element the kernel forgets to write fails the check.
    Tensor out = make_output(kernel.info().op, p);
    for (float& x : out.as<float>()) x = std::numeric_limits<float>::quiet_NaN();
    prepared->run(inputs, out);

    if (settings.reference) {
      c.check = compare_to_reference(out, *settings.reference);
      const double tolerance = kernel.info().caps.tolerance;
      if (!(c.check->max_rel_error <= tolerance)) {
        c.status = CaseStatus::failed;
        c.reason = describe_check_failure(kernel.info().op, p, *c.check, tolerance);
      }
    }
    if (settings.save_output) save_tensors(*settings.save_output, inputs, &out);
    if (c.status == CaseStatus::ok)
      c.time = summarize(measure([&] { prepared->run(inputs, out); }, settings.measure));
  } catch (const std::bad_alloc&) {
    c.status = CaseStatus::failed;
    c.reason = "out of memory during set-up or run";
  } catch (const std::exception& e) {
    c.status = CaseStatus::failed;
    c.reason = e.what();
  }
  c.peak_rss_bytes = peak_rss_bytes();
  return c;
}

}  // namespace attnbench
