// mha.naive.omp: the naive kernel with (batch, head) pairs spread over OpenMP threads, so users see
// what threading alone buys before any blocking or vectorisation.
#include "attnbench/kernel.hpp"
#include "naive_attention.hpp"

namespace attnbench::kernels {
namespace {

class MhaNaiveOmp final : public Kernel {
 public:
  const KernelInfo& info() const override {
    static const KernelInfo info{
        "mha.naive.omp", Family::attention,
        "the naive kernel threaded over (batch, head) pairs and projection rows with OpenMP",
        Capabilities{{Mask::none, Mask::causal, Mask::padding},
                     {Score::scaled_dot, Score::additive, Score::multiplicative},
                     /*cross=*/true, /*grouped_query=*/true, /*projections=*/true, Parallelism::openmp,
                     /*tolerance=*/1e-4}};
    return info;
  }
  std::int64_t workspace_bytes(const Problem& p, const RunContext& ctx) const override {
    return naive_workspace_bytes(p, effective_threads(ctx));
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext& ctx) const override {
    return prepare_naive(p, t, effective_threads(ctx));
  }
};

}  // namespace

const Kernel& mha_naive_omp() {
  static const MhaNaiveOmp kernel;
  return kernel;
}

}  // namespace attnbench::kernels
