// mha.naive.serial: the textbook formula on one thread; the baseline of every comparison.
#include "attnbench/kernel.hpp"
#include "naive_attention.hpp"

namespace attnbench::kernels {
namespace {

class MhaNaiveSerial final : public Kernel {
 public:
  const KernelInfo& info() const override {
    static const KernelInfo info{
        "mha.naive.serial", Family::attention,
        "textbook attention: full score matrix per head, row softmax, P.V; one thread",
        Capabilities{{Mask::none, Mask::causal, Mask::padding},
                     {Score::scaled_dot, Score::additive, Score::multiplicative},
                     /*cross=*/true, /*grouped_query=*/true, /*projections=*/true, Parallelism::serial,
                     /*tolerance=*/1e-4}};
    return info;
  }
  std::int64_t workspace_bytes(const Problem& p, const RunContext&) const override {
    return naive_workspace_bytes(p, 1);
  }
  std::unique_ptr<PreparedKernel> prepare(const Problem& p, const TensorSet& t, const RunContext&) const override {
    return prepare_naive(p, t, 1);
  }
};

}  // namespace

const Kernel& mha_naive_serial() {
  static const MhaNaiveSerial kernel;
  return kernel;
}

}  // namespace attnbench::kernels
